"""The client side of the supervisor's attach socket: send input and resizes, receive output and the exit."""

from __future__ import annotations

import os

from ..lean.tools import suppress
from . import attachproto as ap

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
    from collections.abc import Iterator
else:
    import _socket as socket  # the C module: socket.py loads enum and selectors (``run`` pays for it)


class AttachSession:
    """One attachment to a running container's stdio (``attach``, ``run`` in the foreground, ``start -a``)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.decoder = ap.Decoder()
        self.exit_code: int | None = None

    @classmethod
    def connect(cls, container_dir: str) -> AttachSession:
        return cls(ap.connect(container_dir))

    @classmethod
    def pair(cls) -> tuple[AttachSession, int]:
        """A session plus the fd to hand to a supervisor before it starts the container (no output lost)."""
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)  # both close-on-exec
        fd = theirs.detach()
        os.set_inheritable(fd, True)
        return cls(mine), fd

    def fileno(self) -> int:
        return self.sock.fileno()

    def send_stdin(self, data: bytes) -> None:
        self.sock.sendall(ap.frame(ap.STDIN, data))

    def close_stdin(self) -> None:
        with suppress(OSError):
            self.sock.sendall(ap.frame(ap.STDIN_EOF))

    def resize(self, rows: int, cols: int) -> None:
        with suppress(OSError):
            self.sock.sendall(ap.frame(ap.RESIZE, ap.resize_payload(rows, cols)))

    def read(self) -> list[tuple[int, bytes]]:
        """What is available now (blocks for at least one read): (STDOUT|STDERR, data) pairs.
        An empty list means the stream ended; ``exit_code`` is set if the container ended."""
        try:
            data = self.sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            return []
        out = []
        for kind, payload in self.decoder.feed(data):
            if kind == ap.EXIT:
                with suppress(ValueError):
                    self.exit_code = int(payload.decode())
            else:
                out.append((kind, payload))
        return out if out else [(-1, b"")]

    def output(self) -> Iterator[tuple[str, bytes]]:
        """Iterate ("stdout"|"stderr", data) until the container ends or the connection closes."""
        while True:
            chunk = self.read()
            if not chunk:
                return
            for kind, data in chunk:
                if kind == ap.STDOUT:
                    yield "stdout", data
                elif kind == ap.STDERR:
                    yield "stderr", data

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> AttachSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
