"""``dockyard system dial-stdio``: what ``ssh`` runs on the engine's host for a client's ``ssh://`` context
(as ``docker system dial-stdio``): this process's stdin and stdout are joined to the Engine API service of
the root (``$DOCKYARD_ROOT``), byte for byte, for one connection.

The service is shared by the client's connections (an exec made on one is started on another, and resized on
a third), so it is not served in this process: the first dial starts ``dockyard system service`` on a
private socket for the root (``/run/dockyard-dial-UID/<hash of the root>.sock``), with an idle time
(``IDLE``): it ends by itself that many seconds after its last request ended, so nothing stays once the
client is gone. This process ends as soon as the connection does: when the service closes it, or when the
client's side of stdout goes away (ssh ended); stdin ending alone is the client closing its sending side (an
exec's input ended), passed on as such."""

from __future__ import annotations

import os
import socket
import threading

#: Seconds the shared service stays after its last request ended.
IDLE = 10.0
#: How long the first dial waits for the service it started (seconds).
START_WAIT = 30.0


def dial_socket(root: str) -> str:
    """The private socket of the service shared by dials to ``root``."""
    import hashlib

    uid = os.geteuid()
    base = "/run" if uid == 0 else (os.environ.get("XDG_RUNTIME_DIR") or "/tmp")
    directory = os.path.join(base, f"dockyard-dial-{uid}")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    st = os.lstat(directory)
    if st.st_uid != uid or st.st_mode & 0o077:
        raise PermissionError(f"{directory} must be a directory of user {uid} with mode 0700")
    return os.path.join(directory, hashlib.sha256(root.encode()).hexdigest()[:24] + ".sock")


def _connect(path: str) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
    except OSError:
        s.close()
        raise
    return s


def _start_service(path: str) -> None:
    import shutil
    import subprocess
    import sys

    me = sys.argv[0] if os.path.isabs(sys.argv[0]) else shutil.which("dockyard") or sys.argv[0]
    subprocess.Popen(
        [me, "system", "service", "--socket", path, "--time", str(IDLE)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def service_connection(root: str) -> socket.socket:
    """A connection to the root's shared service, started first when none answers."""
    import time

    path = dial_socket(root)
    try:
        return _connect(path)
    except OSError:
        pass
    _start_service(path)
    deadline = time.monotonic() + START_WAIT
    while True:
        try:
            return _connect(path)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _copy_in(sock: socket.socket) -> None:
    try:
        while True:
            data = os.read(0, 65536)
            if not data:
                break
            sock.sendall(data)
    except OSError:
        pass
    try:
        sock.shutdown(socket.SHUT_WR)  # the client's input ended; its answer may still come
    except OSError:
        pass


def _copy_out(sock: socket.socket, over: threading.Event) -> None:
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            view = memoryview(data)
            while view:
                view = view[os.write(1, view) :]
    except OSError:
        pass
    over.set()


def _watch_out(over: threading.Event) -> None:
    """stdout's reader gone (ssh ended): the connection is over, though nothing was written."""
    import select

    p = select.poll()
    p.register(1, select.POLLERR | select.POLLHUP)
    while not over.is_set():
        if p.poll(500):
            over.set()


def dial_stdio(root: str) -> None:
    """Join stdin and stdout to the root's service until the connection ends, then end the process."""
    sock = service_connection(root)
    over = threading.Event()
    threading.Thread(target=_copy_in, args=(sock,), daemon=True).start()
    threading.Thread(target=_copy_out, args=(sock, over), daemon=True).start()
    threading.Thread(target=_watch_out, args=(over,), daemon=True).start()
    over.wait()
    os._exit(0)  # the service sees the connection end; the threads blocked on stdin go with the process
