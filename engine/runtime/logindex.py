"""A line index over a container's json-file log, so any line of a huge log is read in constant time.

The log is never loaded: the index keeps, per 64 KiB block of the file, the block's offset and how many
newlines come before it (counted with ``bytes.count``, i.e. at C speed: ~100 MB in well under a second).
A line's offsets are found by a binary search over the blocks plus a scan of one block, whose newline
positions are cached. Only the lines on screen are read and parsed; a line longer than ``CUT`` bytes is cut
before parsing (its ``stream`` and ``time`` fields are read from its tail). ``update()`` scans bytes
appended since the last call, so following a growing log costs only the new bytes.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

BLOCK = 1 << 16
CUT = 8192  # longest raw line parsed in full; longer lines are cut (and shown cut)
_TAIL = 200
_TAIL_RE = re.compile(rb'"stream":\s*"(stdout|stderr)",\s*"time":\s*"([^"]*)"')
_HEAD_RE = re.compile(rb'^\{\s*"log":\s*"')


@dataclass(frozen=True)
class LogLine:
    stream: str  # stdout | stderr
    time: str  # RFC 3339, as the log file has it
    text: str  # without the trailing newline
    cut: bool = False  # the line was longer than CUT and is shown cut


def parse(raw: bytes, tail: bytes = b"") -> LogLine:
    """One json-file line (``{"log":..,"stream":..,"time":..}``); ``tail`` is the end of a cut line."""
    if not tail:
        try:
            d = json.loads(raw)
            text = d.get("log", "")
            if text.endswith("\n"):
                text = text[:-1]
            return LogLine(d.get("stream", "stdout"), d.get("time", ""), text)
        except (ValueError, AttributeError):
            return LogLine("stdout", "", raw.decode("utf-8", "replace").rstrip("\n"))
    stream, when = "stdout", ""
    m = _TAIL_RE.search(tail)
    if m:
        stream, when = m.group(1).decode(), m.group(2).decode()
    head = _HEAD_RE.match(raw)
    body = raw[head.end() :] if head else raw
    return LogLine(stream, when, _decode_partial(body), cut=True)


def _decode_partial(body: bytes) -> str:
    """Decode the start of a JSON string whose end was cut off (drop a half escape at the cut)."""
    s = body.decode("utf-8", "ignore")
    for trim in range(0, 7):
        candidate = s[: len(s) - trim] if trim else s
        if candidate.endswith("\\") and not candidate.endswith("\\\\"):
            continue
        try:
            return str(json.loads('"' + candidate + '"'))
        except ValueError:
            continue
    return s


class LogIndex:
    """Line offsets of one log file. Thread-safe: a worker scans while the UI reads."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._fd: int | None = None
        self._ino = 0
        self._reset()

    def _reset(self) -> None:
        self.block_starts = array("Q")
        self.block_lines = array("Q")  # newlines before each block
        self.scanned = 0  # bytes scanned
        self.lines = 0  # complete lines
        self.generation = getattr(self, "generation", 0) + 1  # bumps when the file was truncated or replaced
        self._cache: OrderedDict[int, list[int]] = OrderedDict()

    def follow(self, callback: Callable[[], None], rate: float = 10.0) -> LogFollower:
        """Call ``callback`` (in a thread of its own) whenever the log file changes, at most ``rate`` times a
        second; ``stop()`` the follower when done. The callback typically calls :meth:`update`."""
        return LogFollower(self.path, callback, rate)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def _open(self) -> int | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        if self._fd is not None and st.st_ino != self._ino:
            os.close(self._fd)
            self._fd = None
            self._reset()
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return None
            self._ino = os.fstat(self._fd).st_ino
        return self._fd

    def update(self, budget: int | None = None) -> int:
        """Scan what was appended since the last call (at most ``budget`` bytes); return the new line count."""
        with self._lock:
            fd = self._open()
            if fd is None:
                return 0
            size = os.fstat(fd).st_size
            if size < self.scanned:  # truncated: start over
                self._reset()
            before = self.lines
            pos = self.scanned
            stop = size if budget is None else min(size, pos + budget)
            while pos < stop:
                data = os.pread(fd, min(BLOCK, stop - pos), pos)
                if not data:
                    break
                self.block_starts.append(pos)
                self.block_lines.append(self.lines)
                self.lines += data.count(b"\n")
                pos += len(data)
            self.scanned = pos
            return self.lines - before

    @property
    def pending(self) -> bool:
        """Bytes appended that ``update`` has not scanned yet."""
        try:
            return os.stat(self.path).st_size != self.scanned
        except OSError:
            return False

    # -- offsets ----------------------------------------------------------------------------------
    def _block_newlines(self, k: int) -> list[int]:
        cached = self._cache.get(k)
        if cached is not None:
            self._cache.move_to_end(k)
            return cached
        start = self.block_starts[k]
        end = self.block_starts[k + 1] if k + 1 < len(self.block_starts) else self.scanned
        assert self._fd is not None
        data = os.pread(self._fd, end - start, start)
        out = []
        i = data.find(b"\n")
        while i >= 0:
            out.append(start + i)
            i = data.find(b"\n", i + 1)
        self._cache[k] = out
        if len(self._cache) > 32:
            self._cache.popitem(last=False)
        return out

    def _newline(self, m: int) -> int:
        """Offset of the m-th newline (1-based)."""
        k = bisect.bisect_left(self.block_lines, m) - 1
        return self._block_newlines(k)[m - 1 - self.block_lines[k]]

    def _start(self, n: int) -> int:
        return 0 if n <= 0 else self._newline(n) + 1

    def span(self, n: int) -> tuple[int, int]:
        """Byte range of line ``n`` (0-based), without its newline."""
        with self._lock:
            if not 0 <= n < self.lines:
                raise IndexError(n)
            return self._start(n), self._newline(n + 1)

    def line_at(self, offset: int) -> int:
        """The line that holds byte ``offset``."""
        with self._lock:
            if not self.block_starts:
                return 0
            k = bisect.bisect_right(self.block_starts, offset) - 1
            nls = self._block_newlines(k)
            return int(self.block_lines[k]) + bisect.bisect_left(nls, offset)

    # -- reading ------------------------------------------------------------------------------------
    def raw(self, n: int) -> tuple[bytes, bytes]:
        """Line ``n``'s bytes cut to CUT, and its last bytes when it was cut (else b"")."""
        with self._lock:
            start, end = self.span(n)
            assert self._fd is not None
            if end - start <= CUT:
                return os.pread(self._fd, end - start, start), b""
            return os.pread(self._fd, CUT, start), os.pread(self._fd, _TAIL, end - _TAIL)

    def line(self, n: int) -> LogLine:
        return parse(*self.raw(n))

    def search(self, query: str, from_line: int, backwards: bool = False) -> int | None:
        """The next (or previous) line after (before) ``from_line`` whose text holds ``query`` (any case)."""
        if not query:
            return None
        needle = json.dumps(query, ensure_ascii=False)[1:-1].encode()
        pattern = re.compile(re.escape(needle), re.IGNORECASE)
        folded = query.casefold()
        with self._lock:
            fd = self._open()
            if fd is None or self.lines == 0:
                return None
            size = self.scanned
            n = from_line
            while True:
                if backwards:
                    if n <= 0:
                        return None
                    hit = self._rfind(fd, pattern, self._start(min(n, self.lines)))
                else:
                    if n + 1 >= self.lines:
                        return None
                    hit = self._find(fd, pattern, self._start(n + 1), size)
                if hit is None:
                    return None
                n = self.line_at(hit)
                if folded in self.line(n).text.casefold():
                    return n

    def _find(self, fd: int, pattern: re.Pattern[bytes], start: int, end: int) -> int | None:
        window = 1 << 20
        pos = start
        while pos < end:
            chunk = os.pread(fd, min(window + CUT, end - pos), pos)
            m = pattern.search(chunk)
            if m and m.start() < window:
                return pos + m.start()
            pos += window
        return None

    def _rfind(self, fd: int, pattern: re.Pattern[bytes], end: int) -> int | None:
        window = 1 << 20
        hi = end
        while hi > 0:
            lo = max(0, hi - window)
            chunk = os.pread(fd, min(hi - lo + CUT, self.scanned - lo), lo)
            last = None
            for m in pattern.finditer(chunk):
                if lo + m.start() >= hi:
                    break
                last = m
            if last is not None:
                return lo + last.start()
            hi = lo
        return None


class LogFollower:
    """Wakes on the log file's changes (inotify, engine.kernel.inotify) and calls back; a flood of writes is
    folded into one call per ``1/rate`` seconds."""

    def __init__(self, path: str, callback: Callable[[], None], rate: float = 10.0) -> None:
        from engine.kernel.inotify import Watcher

        self.callback = callback
        self.interval = 1.0 / rate
        self._stop = threading.Event()
        self._watcher = Watcher(path)
        self._thread = threading.Thread(target=self._run, name="dockyard-follow", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if not self._watcher.wait(0.5):
                    continue
                if self._stop.is_set():
                    return
                try:
                    self.callback()
                except Exception:  # noqa: BLE001 - a failing callback must not end the following
                    pass
                self._stop.wait(self.interval)
        finally:
            self._watcher.close()

    def stop(self) -> None:
        self._stop.set()
