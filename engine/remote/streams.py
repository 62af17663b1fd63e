"""Docker's stream kinds, read from a ``client.Stream`` or an upgraded socket:

- ``frames``: the multiplexed stream of logs, exec and attach without a terminal: 8-byte headers (stream
  1 stdout, 2 stderr; 3 bytes of padding; a big-endian length) each before its payload;
- ``json_lines``: one JSON document after another (stats, events, pull progress), each on a line of its own;
- ``Bridge``: an upgraded connection (exec with a terminal) turned into a file descriptor the app reads and
  writes as it would a pty's master: two threads copy bytes each way between it and a socketpair.
"""

from __future__ import annotations

import json
import socket
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

STREAMS = {0: "stdin", 1: "stdout", 2: "stderr"}


def frames(readexactly: Callable[[int], bytes]) -> Iterator[tuple[str, bytes]]:
    """``("stdout"|"stderr", payload)`` for each frame of a multiplexed stream, until its end."""
    while True:
        header = readexactly(8)
        if len(header) < 8:
            return
        size = int.from_bytes(header[4:8], "big")
        payload = readexactly(size) if size else b""
        yield STREAMS.get(header[0], "stdout"), payload
        if len(payload) < size:
            return


def raw(read: Callable[[int], bytes]) -> Iterator[tuple[str, bytes]]:
    """The raw stream of a container with a terminal: everything is stdout."""
    while True:
        data = read(65536)
        if not data:
            return
        yield "stdout", data


def json_lines(readline: Callable[[], bytes]) -> Iterator[Any]:
    """Each JSON document of a stream of them, one per line (blank lines skipped), until its end."""
    while True:
        line = readline()
        if not line:
            return
        if line.strip():
            yield json.loads(line)


def lines_of(chunks: Iterator[tuple[str, bytes]]) -> Iterator[tuple[str, bytes]]:
    """Whole lines (with their newline) out of chunks, per stream; what is left at the end comes last."""
    pending: dict[str, bytes] = {}
    for stream, data in chunks:
        buf = pending.get(stream, b"") + data
        *complete, rest = buf.split(b"\n")
        for line in complete:
            yield stream, line + b"\n"
        pending[stream] = rest
    for stream, rest in pending.items():
        if rest:
            yield stream, rest


class Bridge:
    """A connection's bytes on a local descriptor (``fd``): what the service sends can be read from it, what
    is written to it goes to the service. The connection ends for the reader (``read`` gives b"") when the
    service closes it; closing ``fd``'s socket (``close``) closes the connection."""

    def __init__(self, conn: socket.socket, on_end: Callable[[], None] | None = None) -> None:
        self.conn = conn
        self.local, self.remote = socket.socketpair()
        self.fd = self.local.fileno()
        self.on_end = on_end
        self._closed = threading.Event()
        threading.Thread(target=self._down, name="dockyard-remote-out", daemon=True).start()
        threading.Thread(target=self._up, name="dockyard-remote-in", daemon=True).start()

    def _down(self) -> None:
        try:
            while True:
                data = self.conn.recv(65536)
                if not data:
                    break
                self.remote.sendall(data)
        except OSError:
            pass
        if self.on_end is not None:
            self.on_end()
        try:
            self.remote.shutdown(socket.SHUT_WR)  # the reader sees the end
        except OSError:
            pass

    def _up(self) -> None:
        try:
            while True:
                data = self.remote.recv(65536)
                if not data:
                    break
                self.conn.sendall(data)
        except OSError:
            pass
        try:
            self.conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        for s in (self.local, self.conn, self.remote):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.local.close()
        self.conn.close()
        self.remote.close()
