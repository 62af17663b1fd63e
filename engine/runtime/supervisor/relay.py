"""PID 1's stdio, on the supervisor's side: its output goes to the json-file log and to every attached
client (the attach socket, attachproto's frames); the clients' input and window sizes go to it.

Without a terminal PID 1 writes into two pipes (and reads a third with ``-i``); with one (``-t``) the
supervisor holds the pty's master, which carries both directions.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time

from ...lean.tools import suppress
from .. import attachproto as ap
from .. import console
from ..logfile import LogWriter, rotation

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket

    from ...model.config import ContainerConfig
    from .poller import Poller
else:
    import _socket as socket  # the C module: socket.py loads enum, functools and selectors


class Client:
    """An attached client: its socket, and the frames it sends as they are decoded."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.decoder = ap.Decoder()

    def send(self, data: bytes) -> bool:
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False


class Relay:
    """Registers what it reads in ``sel``: PID 1's outputs as ``"out"``, the attach socket as ``"listen"``,
    each client as itself; the loop hands each back (``on_output``, ``accept``, ``on_client``)."""

    def __init__(self, sel: Poller, cfg: ContainerConfig) -> None:
        self.sel = sel
        self.tty = cfg.tty
        self.open_stdin = cfg.open_stdin
        self.log_driver = cfg.log_driver
        self.log_opts = cfg.log_opts
        self.clients: list[Client] = []
        self.outputs: dict[int, str] = {}  # fd -> stream name
        self.stdin_w: int | None = None
        self.master: int | None = None
        self.log: LogWriter | None = None
        self.socket_path = ""

    def open(self, log_path: str, cdir: str, client_fd: int | None) -> None:
        """Open the log (none with ``--log-driver none``) and the attach socket in ``cdir``; ``client_fd`` is a
        client attached already (run without -d)."""
        if self.log_driver != "none":
            self.log = LogWriter(log_path, rotation(self.log_opts))
        self.listener = ap.listen(cdir)
        self.socket_path = os.path.join(cdir, ap.SOCKET_NAME)
        self.sel.register(self.listener, "listen")
        if client_fd is not None:
            self._add_client(socket.socket(fileno=client_fd))

    # -- PID 1's side ------------------------------------------------------------------------
    def pipes(self) -> tuple[int, int, int]:
        """PID 1's stdin, stdout and stderr; with a terminal, (-1, -1, -1): it makes its own (see launch)."""
        if self.tty:
            return -1, -1, -1
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        for fd in (out_r, err_r):
            os.set_blocking(fd, False)
        self.outputs = {out_r: "stdout", err_r: "stderr"}
        if self.open_stdin:
            in_r, in_w = os.pipe2(os.O_CLOEXEC)
            self.stdin_w = in_w
            return in_r, out_w, err_w
        devnull = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        return devnull, out_w, err_w

    def take_terminal(self, master: int) -> None:
        """The pty's master, which PID 1 sent once it had made its terminal."""
        os.set_blocking(master, False)
        self.master = master
        self.outputs = {master: "stdout"}

    def watch_outputs(self) -> None:
        for fd in self.outputs:
            self.sel.register(fd, "out")

    def on_output(self, fd: int) -> bool:
        """Copy what ``fd`` has to the log and the clients; False at its end (it is closed)."""
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return True
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            data = b""
        if not data:
            with suppress(KeyError, ValueError):
                self.sel.unregister(fd)
            os.close(fd)
            del self.outputs[fd]
            if self.master == fd:
                self.master = None
            return False
        stream = self.outputs[fd]
        if self.log is not None:
            self.log.write(stream, data)
        self._broadcast(ap.STDOUT if stream == "stdout" else ap.STDERR, data)
        return True

    def drain(self) -> None:
        """PID 1 is gone (the pid namespace with it): read what is left of its output, for up to a second,
        then close its stdio."""
        deadline = time.monotonic() + 1.0
        while self.outputs and time.monotonic() < deadline:
            for fd, what in self.sel.select(0.1):
                if what == "out":
                    self.on_output(fd)
        for fd in list(self.outputs):
            with suppress(KeyError, ValueError):
                self.sel.unregister(fd)
            os.close(fd)
        self.outputs = {}
        self.master = None
        if self.stdin_w is not None:
            os.close(self.stdin_w)
            self.stdin_w = None

    def flush_log(self) -> None:
        if self.log is not None:
            self.log.flush()

    # -- the clients' side ---------------------------------------------------------------------
    def accept(self) -> None:
        with suppress(OSError):
            self._add_client(ap.accept(self.listener))

    def _add_client(self, sock: socket.socket) -> None:
        sock.setblocking(True)
        c = Client(sock)
        self.clients.append(c)
        self.sel.register(sock, c)

    def _drop_client(self, c: Client) -> None:
        with suppress(KeyError, ValueError):
            self.sel.unregister(c.sock)
        with suppress(ValueError):
            self.clients.remove(c)
        c.sock.close()

    def _broadcast(self, kind: int, data: bytes) -> None:
        msg = ap.frame(kind, data)
        for c in list(self.clients):
            if not c.send(msg):
                self._drop_client(c)

    def on_client(self, c: Client) -> None:
        """Take what client ``c`` sent: input for PID 1, the end of it, a window size."""
        try:
            data = c.sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._drop_client(c)
            return
        for kind, payload in c.decoder.feed(data):
            if kind == ap.STDIN:
                target = self.master if self.tty else self.stdin_w
                if target is not None:
                    with suppress(OSError):
                        os.write(target, payload)
            elif kind == ap.STDIN_EOF:
                if self.stdin_w is not None:  # the client's input ended: so does the container's
                    os.close(self.stdin_w)
                    self.stdin_w = None
            elif kind == ap.RESIZE and self.master is not None:
                rows, cols = ap.parse_resize(payload)
                import struct

                with suppress(OSError):
                    fcntl.ioctl(self.master, console.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    # -- the end -------------------------------------------------------------------------------
    def close_log(self) -> None:
        """No more output: the log is closed, and the socket's name removed (no client comes any more)."""
        if self.log is not None:
            self.log.close()
            self.log = None
        with suppress(OSError):
            os.unlink(self.socket_path)

    def tell_exit(self, code: int) -> None:
        """Tell every client the exit code, then let them go and close the socket."""
        self._broadcast(ap.EXIT, str(code).encode())
        for c in list(self.clients):
            self._drop_client(c)
        self.listener.close()
