"""The json-file log, in Docker's line format, written by the supervisor and read by ``logs``.

Each line: ``{"log":"hi\\n","stream":"stdout","time":"2024-01-01T12:00:00.123456789Z"}``. Output is split at
newlines and into 16 KiB pieces; only a piece that ends a line ends in ``\\n``.
"""

from __future__ import annotations

import os
import time
from _json import encode_basestring as _json_string

from engine.lean.record import record

from ..humanize import parse_time, rfc3339
from ..lean import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

CHUNK = 16 * 1024


@record
class LogEntry:
    stream: str
    data: bytes
    time: str

    @property
    def timestamp(self) -> float:
        return parse_time(self.time)


class LogWriter:
    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)
        self.partial: dict[str, bytes] = {"stdout": b"", "stderr": b""}

    def _emit(self, stream: str, piece: bytes) -> bytes:
        """One line, as ``json.dumps({"log": ..., "stream": ..., "time": ...}, ensure_ascii=False,
        separators=(",", ":"))`` writes it, with json's own string encoder (for start-up speed, no json)."""
        log = _json_string(piece.decode("utf-8", "replace"))
        when = _json_string(rfc3339(time.time()))
        return f'{{"log":{log},"stream":{_json_string(stream)},"time":{when}}}\n'.encode()

    def write(self, stream: str, data: bytes) -> None:
        buf = self.partial[stream] + data
        out = []
        while True:
            nl = buf.find(b"\n")
            if nl < 0 or nl >= CHUNK:
                if len(buf) >= CHUNK:
                    out.append(self._emit(stream, buf[:CHUNK]))
                    buf = buf[CHUNK:]
                    continue
                break
            out.append(self._emit(stream, buf[: nl + 1]))
            buf = buf[nl + 1 :]
        self.partial[stream] = buf
        if out:
            os.write(self.fd, b"".join(out))

    def flush(self) -> None:
        out = [self._emit(s, b) for s, b in self.partial.items() if b]
        self.partial = {"stdout": b"", "stderr": b""}
        if out:
            os.write(self.fd, b"".join(out))

    def close(self) -> None:
        self.flush()
        os.close(self.fd)


def parse_line(line: bytes) -> LogEntry | None:
    try:
        d = jsonio.loads(line)
    except ValueError:
        return None
    return LogEntry(
        d.get("stream", "stdout"), d.get("log", "").encode("utf-8", "surrogateescape"), d.get("time", "")
    )


def read_entries(path: str, offset: int = 0) -> tuple[list[LogEntry], int]:
    """Complete entries from ``offset``; returns them and the offset after the last complete line."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset
    entries = [e for e in (parse_line(x) for x in data[: end + 1].splitlines()) if e]
    return entries, offset + end + 1


def tail_offset(path: str, n: int) -> int:
    """Offset where the last ``n`` lines of the file begin (read backwards in blocks)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return 0
    try:
        size = os.fstat(fd).st_size
        pos, count = size, 0
        while pos > 0:
            step = min(65536, pos)
            pos -= step
            block = os.pread(fd, step, pos)
            i = len(block)
            while True:
                i = block.rfind(b"\n", 0, i)
                if i < 0:
                    break
                if pos + i == size - 1:
                    continue
                count += 1
                if count == n:
                    return pos + i + 1
        return 0
    finally:
        os.close(fd)


def follow(path: str, offset: int, alive: Callable[[], bool]) -> Iterator[LogEntry]:
    """Entries from ``offset`` on, waiting for new ones (inotify) while ``alive()`` is true."""
    from ..kernel.inotify import Watcher

    with Watcher(path) as w:
        while True:
            entries, offset = read_entries(path, offset)
            yield from entries
            if not alive():
                entries, offset = read_entries(path, offset)
                yield from entries
                return
            w.wait(0.25)
