"""Starting a container under its root's supervisor process (host.py), made first if none runs.

    pending = PendingSupervisor(root, client_fd)   # connects (or makes the process: it loads the launcher)
    ... write the container ...                      # meanwhile
    pid = pending.go(cid)                            # it starts the container; its PID 1 once exec'd
    # or pending.cancel() if the container could not be made

When no supervisor process listens for the root, the caller binds its name and hands the socket to a new
one: forked twice from the caller (no new interpreter: milliseconds; its own session; not the caller's
child, so nothing is left for the caller to reap), or, from a caller with threads (which must not fork),
``python -m engine.runtime.supervisor.host ROOT FD`` (slower, once: later starts find it running).
"""

from __future__ import annotations

import _socket
import os
import select
import sys
import time

from ...errors import CommandNotFound, CommandNotInvokable, RuntimeFailure
from ...lean import jsonio
from ...lean.tools import suppress

_ERROR_KINDS = {"CommandNotFound": CommandNotFound, "CommandNotInvokable": CommandNotInvokable}
_ATTEMPTS = 3  # a process that was ending as the caller connected is replaced this many times


class PendingSupervisor:
    """A connection to the root's supervisor process, waiting for the container to start."""

    def __init__(self, root: str, client_fd: int | None = None) -> None:
        from ..trace import trace

        trace("spawn")
        self.root = root
        self.client_fd = client_fd
        self.forked = False  # whether this caller made the supervisor process by forking
        self.sock: _socket.socket | None = None
        self._connect()

    def _connect(self) -> None:
        from .host import address

        name = address(self.root)
        for _ in range(_ATTEMPTS):
            sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
            try:
                sock.connect(name)
                self.sock = sock
                return
            except OSError:
                sock.close()
            listener = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
            try:
                listener.bind(name)
            except OSError:  # another caller made one meanwhile: connect to it once it listens
                listener.close()
                time.sleep(0.001)
                continue
            try:
                listener.listen(256)
                self._start_host(listener.fileno())
            finally:
                listener.close()
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
        try:
            sock.connect(name)
        except OSError as e:
            sock.close()
            raise RuntimeFailure(f"cannot reach the containers' supervisor: {e.strerror}") from None
        self.sock = sock

    def _start_host(self, listen_fd: int) -> None:
        threading = sys.modules.get("threading")  # not imported: no thread was started with it
        if threading is None or threading.active_count() == 1:
            self._fork_host(listen_fd)
        else:
            self._start_interpreter(listen_fd)

    def _fork_host(self, listen_fd: int) -> None:
        try:
            child = os.fork()
        except OSError as e:
            raise RuntimeFailure(f"cannot start the containers' supervisor: {e.strerror}") from None
        if child == 0:
            try:
                import gc

                # What the caller made is never freed there: out of the collector's sight, its pages are
                # not written to (and copied) by collections during the supervisor's imports.
                gc.freeze()
                os.setsid()
                if os.fork() != 0:
                    os._exit(0)
                from .host import become_host

                become_host(self.root, listen_fd)
            finally:
                os._exit(1)
        self.forked = True
        with suppress(ChildProcessError):
            os.waitpid(child, 0)  # the intermediate process, gone at once

    def _start_interpreter(self, listen_fd: int) -> None:
        import subprocess

        subprocess.Popen(
            [sys.executable, "-m", "engine.runtime.supervisor.host", self.root, str(listen_fd)],
            pass_fds=[listen_fd],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/",
            env={**os.environ, "PYTHONPATH": _project_path()},
        )

    def go(self, cid: str, timeout: float = 60.0) -> int:
        """Start container ``cid``; return its PID once its command runs, or raise what the launch hit
        (CommandNotFound, CommandNotInvokable, RuntimeFailure, ...)."""
        try:
            for attempt in range(_ATTEMPTS):
                if self.sock is None:
                    self._connect()
                sock = self.sock
                assert sock is not None
                try:
                    _send(sock, cid, self.client_fd)
                    reply = _read_line(sock, timeout)
                except OSError:
                    reply = b""
                if reply == b"ack":
                    return _read_report(sock, timeout)
                # the process was ending as this caller connected: nothing was started, a new one will
                sock.close()
                self.sock = None
                if attempt == _ATTEMPTS - 1:
                    raise RuntimeFailure("the containers' supervisor did not answer")
            raise AssertionError("unreachable")
        finally:
            self.cancel()

    def cancel(self) -> None:
        """Nothing to start (the container could not be made), or done: the connection is closed."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def _send(sock: _socket.socket, cid: str, client_fd: int | None) -> None:
    data = jsonio.dumps({"cid": cid}).encode() + b"\n"
    if client_fd is None:
        sock.sendall(data)
        return
    packed = client_fd.to_bytes(4, sys.byteorder, signed=True)
    sock.sendmsg([data], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, packed)])


def _read_line(sock: _socket.socket, timeout: float) -> bytes:
    """One line from the supervisor process (without its newline); b"" if the connection ended first."""
    data = b""
    deadline = time.monotonic() + timeout
    fd = sock.fileno()
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        chunk = os.read(fd, 1)  # a byte at a time: what follows the line is the next read's
        if not chunk:
            break
        data += chunk
    return data[:-1] if data.endswith(b"\n") else b""


def _read_report(sock: _socket.socket, timeout: float) -> int:
    line = _read_line(sock, timeout)
    if not line:
        raise RuntimeFailure("the container's supervisor exited before the container started")
    msg = jsonio.loads(line)
    if msg.get("ok"):
        return int(msg["pid"])
    cls = _ERROR_KINDS.get(msg.get("kind", ""), RuntimeFailure)
    raise cls(msg.get("error", "failed to start the container"))


def quit_supervisor(root: str, timeout: float = 10.0) -> None:
    """Tell the root's supervisor process, if one runs, to stop listening and end once no container is
    left; wait up to ``timeout`` seconds for it to end, then kill it (``Engine.discard``, which has removed
    every container first)."""
    from ...kernel.procinfo import wait_exit
    from .host import address

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    try:
        sock.connect(address(root))
        sock.sendall(b'{"quit": true}\n')
        reply = _read_line(sock, timeout).split()
    except OSError:
        return
    finally:
        sock.close()
    if len(reply) == 2 and reply[1].isdigit() and not wait_exit(int(reply[1]), 0, timeout):
        # its containers are gone (discard removes them first), yet a thread of it did not end: stuck, it
        # would outlive the root
        with suppress(ProcessLookupError):
            os.kill(int(reply[1]), 9)


def _project_path() -> str:
    """The directory that holds the ``engine`` package."""
    here = os.path.dirname(os.path.abspath(__file__))  # engine/runtime/supervisor
    return os.path.dirname(os.path.dirname(os.path.dirname(here)))
