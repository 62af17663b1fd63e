"""The supervisor process of an engine root: one detached process supervises every running container of the
root, each in a thread of its own (mainloop.py's ``Supervisor``), and ends a few seconds after the last.

Why one process for many: a Python process costs 4-5 MB of private memory however little it does (the
interpreter's pages that each process writes to), so a process per container cost 5.3 MB per running
container; a thread costs what its container's buffers and records take (see docs/ARCHITECTURE.md).

How callers find it (spawning.py is the caller's side): it listens on an abstract unix socket named after
the root (and after this checkout of the engine and the fault-injection plan of the caller that made it, so
a test's plan reaches only its own supervisor); only the root user's (the host's own uid's) connections are
served. A caller that finds nobody listening binds the name itself, then hands the bound socket to a new
supervisor process: forked (a caller without threads) or a fresh interpreter
(``python -m engine.runtime.supervisor.host ROOT FD``). Two processes may briefly serve one root (one ending
while another starts); each container is still supervised by exactly one thread.

One connection per start::

    caller -> {"cid": ID}\\n   (+ the attached client's descriptor, SCM_RIGHTS)
    host   -> ack\\n           (from here the start is the supervisor's: the caller never retries it)
    host   -> {"ok": true, "pid": PID}\\n  or  {"ok": false, "kind": ..., "error": ...}\\n

or ``{"quit": true}`` (``Engine.discard``), answered ``bye PID``: stop listening, end when no container is
left.

Isolation: what goes wrong with one container (a failure of its supervision, a flood of output, a client
that does not read, a probe that hangs) stays in its thread: each thread records its own container's exit
and log, and a thread that fails stops and records its own container only (``Supervisor.fail``). Exit
statuses are reaped by PID (never ``waitpid(-1)``), so no thread takes another's.
"""

from __future__ import annotations

import _socket
import _thread
import os
import sys
import time

from ...lean import jsonio
from ...lean.tools import suppress
from ..trace import trace

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal
else:
    import _signal as signal  # the C module: ``signal`` would load ``enum``

IDLE = 5.0  # seconds without a container before the process ends
ROOT_CHECK = 10.0  # seconds between looks at whether the root still exists (discarded: the process ends)
_MAX_MESSAGE = 4096


def address(root: str) -> bytes:
    """The abstract socket name of ``root``'s supervisor process."""
    try:
        from _sha256 import sha256  # the C module: hashlib loads OpenSSL's (8 ms)
    except ImportError:  # Python 3.12 on
        from hashlib import sha256

    env = os.environ
    key = "\0".join(
        (
            os.path.realpath(root),
            os.path.dirname(os.path.abspath(__file__)),
            env.get("DOCKYARD_FAULT", ""),
            env.get("DOCKYARD_FAULT_TRACE", ""),
            env.get("DOCKYARD_TRACE", ""),
        )
    )
    return b"\0dockyard-supervisor-" + sha256(key.encode()).hexdigest()[:32].encode()


class _Pending:
    """A caller's connection before it names its container."""

    __slots__ = ("sock", "data", "fds")

    def __init__(self, sock: _socket.socket) -> None:
        self.sock = sock
        self.data = b""
        self.fds: list[int] = []


class Host:
    """The process's loop (its main thread): accepts callers, starts a thread per container, ends when idle."""

    def __init__(self, root: str, listener: _socket.socket) -> None:
        self.root = root
        self.listener: _socket.socket | None = listener
        self.pending: dict[int, _Pending] = {}
        self.live = 0  # containers being supervised
        self.lock = _thread.allocate_lock()
        self.idle_since = time.monotonic()
        self.quitting = False
        from .poller import Poller

        self.sel = Poller()
        listener.setblocking(False)
        self.sel.register(listener.fileno(), None)
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.sel.register(self.wake_r, "wake")

    def serve(self) -> None:
        while True:
            with self.lock:
                live = self.live
            if live == 0 and not self.pending:
                if self.quitting or time.monotonic() - self.idle_since >= IDLE:
                    if not self._stop_listening():
                        return
                    continue
                timeout = max(0.0, IDLE - (time.monotonic() - self.idle_since))
            else:
                timeout = ROOT_CHECK
            if not os.path.isdir(self.root):  # discarded under it: nothing is left to supervise or record
                return
            for _fd, what in self.sel.select(timeout):
                if what is None:
                    self._accept()
                elif what == "wake":
                    with suppress(BlockingIOError):
                        os.read(self.wake_r, 512)
                else:
                    self._read(what)

    def _stop_listening(self) -> bool:
        """Close the listening socket, taking the callers that connected meanwhile; True if one did (it is
        served before the process ends)."""
        if self.listener is None:
            return False
        self._accept()
        self.sel.unregister(self.listener.fileno())
        self.listener.close()
        self.listener = None
        return bool(self.pending)

    def _accept(self) -> None:
        if self.listener is None:
            return
        while True:
            try:
                sock, _ = self.listener._accept()  # type: ignore[attr-defined]
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            conn = _socket.socket(fileno=sock)
            if not _same_user(conn):
                conn.close()
                continue
            conn.setblocking(False)
            self.pending[conn.fileno()] = p = _Pending(conn)
            self.sel.register(conn.fileno(), p)

    def _read(self, p: _Pending) -> None:
        fd = p.sock.fileno()
        try:
            data, ancillary, _flags, _addr = p.sock.recvmsg(_MAX_MESSAGE, _socket.CMSG_SPACE(4 * 4))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, ancillary = b"", []
        from ...kernel.syscalls import fds_of

        for received in fds_of(ancillary):
            os.set_inheritable(received, False)
            p.fds.append(received)
        p.data += data
        if data and not p.data.endswith(b"\n") and len(p.data) < _MAX_MESSAGE:
            return
        self.sel.unregister(fd)
        del self.pending[fd]
        if not p.data.endswith(b"\n"):  # the caller gave up (``cancel``) or sent nonsense
            self._close(p)
            return
        try:
            msg = jsonio.loads(p.data)
        except ValueError:
            self._close(p)
            return
        if msg.get("quit"):
            self.quitting = True
            with suppress(OSError):
                p.sock.setblocking(True)
                p.sock.sendall(b"bye %d\n" % os.getpid())
            self._close(p)
            for other in list(self.pending.values()):  # callers that keep it ready (``standby``)
                self.sel.unregister(other.sock.fileno())
                self._close(other)
            self.pending.clear()
            if self.listener is not None:
                self.sel.unregister(self.listener.fileno())
                self.listener.close()
                self.listener = None
            return
        cid = str(msg.get("cid") or "")
        p.sock.setblocking(True)
        try:
            p.sock.sendall(b"ack\n")
        except OSError:
            self._close(p)
            return
        client = p.fds[0] if p.fds else None
        for extra in p.fds[1:]:
            os.close(extra)
        with self.lock:
            self.live += 1
        _thread.start_new_thread(self._supervise, (cid, p.sock.detach(), client))

    @staticmethod
    def _close(p: _Pending) -> None:
        for fd in p.fds:
            with suppress(OSError):
                os.close(fd)
        p.sock.close()

    def _supervise(self, cid: str, status_fd: int, client_fd: int | None) -> None:
        try:
            from .process import supervise

            supervise(self.root, cid, status_fd, client_fd)
        finally:
            with self.lock:
                self.live -= 1
                if self.live == 0:
                    self.idle_since = time.monotonic()
            with suppress(OSError):
                os.write(self.wake_w, b"x")


def _same_user(conn: _socket.socket) -> bool:
    """Is the caller at the other end of ``conn`` this process's user (the abstract name is open to all)?"""
    import struct

    try:
        creds = conn.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return False
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.geteuid()


def _detach() -> None:
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    if devnull > 2:
        os.close(devnull)
    os.chdir("/")
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE, signal.SIGTTOU, signal.SIGTTIN):
        signal.signal(sig, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _close_all_but(keep: int) -> None:
    os.closerange(3, keep)
    os.closerange(keep + 1, 65536)


def become_host(root: str, listen_fd: int) -> None:
    """Run in the detached process with the bound, listening socket on ``listen_fd``; never returns."""
    code = 0
    try:
        _detach()
        _close_all_but(listen_fd)
        with suppress(OSError), open("/proc/self/comm", "w") as f:
            f.write("dockyard-shim")  # what ps and top show (forked, it would show its caller's name)
        trace("forked")
        from .process import preload

        preload()
        trace("preloaded")
        import gc

        # What the caller made is never freed here: out of the collector's sight (and its pages are not
        # written to, and copied, by collections); the collector is on for this long life (a CLI caller
        # turns it off).
        gc.freeze()
        gc.enable()
        Host(root, _socket.socket(fileno=listen_fd)).serve()
    except BaseException:
        code = 1
        with suppress(Exception):
            from ...crashes import record_crash

            record_crash(sys.exc_info()[1], root)  # type: ignore[arg-type]
    finally:
        os._exit(code)


if __name__ == "__main__":
    os.setsid() if os.getsid(0) != os.getpid() else None
    become_host(sys.argv[1], int(sys.argv[2]))
