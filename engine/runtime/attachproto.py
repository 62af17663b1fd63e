"""The supervisor's attach socket: framing, and connecting by a short path.

Frames are ``type (1 byte) | length (4 bytes, big-endian) | payload``. Clients send STDIN, STDIN_EOF and
RESIZE; the supervisor sends STDOUT, STDERR and, when the container ends, EXIT with the status as text.
The socket lives in the container's directory; its path can be longer than a unix socket address allows, so
both ends go through ``/proc/self/fd/<dirfd>/attach.sock``.
"""

from __future__ import annotations

import os
import struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
else:
    import _socket as socket  # for start-up speed: the C module; socket.py loads enum and selectors

STDIN, STDOUT, STDERR, RESIZE, STDIN_EOF, EXIT = 0, 1, 2, 3, 4, 5
SOCKET_NAME = "attach.sock"
_HDR = struct.Struct(">BI")


def frame(kind: int, payload: bytes = b"") -> bytes:
    return _HDR.pack(kind, len(payload)) + payload


def resize_payload(rows: int, cols: int) -> bytes:
    return struct.pack(">HH", rows, cols)


def parse_resize(payload: bytes) -> tuple[int, int]:
    rows, cols = struct.unpack(">HH", payload[:4])
    return rows, cols


class Decoder:
    """Incremental frame decoder."""

    def __init__(self) -> None:
        self.buf = b""

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self.buf += data
        out = []
        while len(self.buf) >= _HDR.size:
            kind, n = _HDR.unpack_from(self.buf)
            if len(self.buf) < _HDR.size + n:
                break
            out.append((kind, self.buf[_HDR.size : _HDR.size + n]))
            self.buf = self.buf[_HDR.size + n :]
        return out


def _via_dir(directory: str, fn: object) -> None:
    dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fn(f"/proc/self/fd/{dfd}/{SOCKET_NAME}")  # type: ignore[operator]
    finally:
        os.close(dfd)


def listen(directory: str) -> socket.socket:
    path = os.path.join(directory, SOCKET_NAME)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    _via_dir(directory, s.bind)
    os.chmod(path, 0o600)
    s.listen(16)
    return s


def accept(listener: socket.socket) -> socket.socket:
    """The next connection on ``listener`` (a blocking, close-on-exec socket)."""
    # What socket.socket.accept does on the C socket: take the new descriptor, wrap it.
    fd, _address = listener._accept()  # type: ignore[attr-defined]
    return socket.socket(fileno=fd)


def connect(directory: str) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        _via_dir(directory, s.connect)
    except OSError:
        s.close()
        raise
    return s
