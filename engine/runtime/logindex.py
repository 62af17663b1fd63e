"""A line index over a container's json-file log, so any line of a huge log is read in constant time.

The log is never loaded: the index keeps, per 64 KiB block of the file, the block's offset and how many
newlines come before it (counted with ``bytes.count``, i.e. at C speed: ~100 MB in well under a second).
A line's offsets are found by a binary search over the blocks plus a scan of one block, whose newline
positions are cached. Only the lines on screen are read and parsed; a line longer than ``CUT`` bytes is cut
before parsing (its ``stream`` and ``time`` fields are read from its tail). ``update()`` scans bytes
appended since the last call, so following a growing log costs only the new bytes.

A big log is shown before it is counted: the first ``update()`` of a file with more than ``WINDOW_MIN``
bytes to count indexes only its last ``WINDOW`` bytes (line 0 is then the first line of that window); the
bytes before are counted by later calls (a few tens of MiB each), and once they are, their lines come in
above the window (``generation`` bumps; ``anchor`` and ``row_of`` keep a reader on the line it showed).
What is counted is kept beside the log (``<log>.idx``: per file, its device and inode, the bytes counted,
the blocks, and a CRC of the last bytes counted; the whole under a CRC, replaced by a rename), so that the
next reader counts only what was written since. An index file that is missing, damaged or stale (the
file it describes was truncated or rewritten) is ignored: the log is counted again, never misread.
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
from typing import Any

from ..lean.tools import suppress
from .logread import WATCH_MASK, Segment, ident_of, newer, open_set

BLOCK = 1 << 16
READ = 1 << 20  # bytes read at a time while counting
WINDOW = 8 << 20  # a big file's tail, indexed first
WINDOW_MIN = 32 << 20  # bytes left to count from which a file's tail is shown before the rest is counted
SAVE_EVERY = 64 << 20  # counted bytes after which the index file is written again
INDEX_SUFFIX = ".idx"
_MAGIC = b"DYLOGIDX1\n"
_CHECK = 4096  # the last bytes counted, whose CRC tells a stale index
CUT = 8192  # longest raw line parsed in full; longer lines are cut (and shown cut)
_TAIL = 200
GREP_WINDOW = 1 << 20  # bytes a filter reads at a time
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


def _count(
    fd: int, pos: int, stop: int, starts: array[int], lines: array[int], count: int
) -> tuple[int, int]:
    """Count the newlines of bytes [``pos``, ``stop``) block by block, appending each block's offset and the
    newlines before it: (where counting stopped, newlines counted in all)."""
    while pos < stop:
        data = os.pread(fd, min(READ, stop - pos), pos)
        if not data:
            break
        for i in range(0, len(data), BLOCK):
            starts.append(pos + i)
            lines.append(count)
            count += data.count(b"\n", i, i + BLOCK)
        pos += len(data)
    return pos, count


def _crc_before(fd: int, pos: int) -> int:
    import zlib

    n = min(_CHECK, pos)
    return zlib.crc32(os.pread(fd, n, pos - n)) if n else 0


@dataclass
class _Saved:
    """What the index file keeps of one file: its blocks counted from its start."""

    scanned: int
    lines: int
    starts: array[int]
    counts: array[int]
    check: int  # CRC of the last ``_CHECK`` bytes before ``scanned``


class _FileIndex:
    """Line offsets of one file of the log: blocks of [``base``, ``scanned``), line 0 beginning at ``base``
    (0, or the start of a big file's tail window while the bytes before it are counted into ``head``)."""

    def __init__(self, seg: Segment, saved: _Saved | None = None) -> None:
        self.seg = seg
        self.done = False  # a rotated file read to its end (it grows no more)
        self.shown = False  # its lines were counted once (a window is begun only before that)
        self._reset()
        if saved is not None:
            self._restore(saved)

    def _reset(self) -> None:
        self.block_starts = array("Q")
        self.block_lines = array("Q")  # newlines before each block (counted from ``base``)
        self.base = 0
        self.scanned = 0  # bytes scanned
        self.lines = 0  # complete lines
        self.head: tuple[array[int], array[int]] | None = None  # blocks of [0, head_scanned) while base > 0
        self.head_scanned = 0
        self.head_lines = 0
        self._cache: OrderedDict[int, list[int]] = OrderedDict()

    def _restore(self, saved: _Saved) -> None:
        """Take the blocks the index file kept, if they still describe this file."""
        try:
            fd = self.seg.fd
            if os.fstat(fd).st_size < saved.scanned or _crc_before(fd, saved.scanned) != saved.check:
                return  # truncated or rewritten since: counted anew
        except OSError:
            return
        self.block_starts, self.block_lines = saved.starts, saved.counts
        self.scanned, self.lines = saved.scanned, saved.lines

    def saved(self) -> _Saved | None:
        """The blocks counted from the file's start, to keep in the index file."""
        if self.base and self.head is not None:
            starts, counts, scanned, lines = *self.head, self.head_scanned, self.head_lines
            keep = bisect.bisect_left(starts, scanned)  # (blocks a count going on added: not recorded yet)
            starts, counts = starts[:keep], counts[:keep]
        elif self.base:
            return None
        else:
            starts, counts, scanned, lines = self.block_starts, self.block_lines, self.scanned, self.lines
        if not scanned:
            return None
        return _Saved(
            scanned, lines, array("Q", starts), array("Q", counts), _crc_before(self.seg.fd, scanned)
        )

    def update(self, budget: int | None) -> tuple[int, bool]:
        """Scan what was appended (at most ``budget`` bytes): the bytes scanned, and whether the file was
        truncated (it is then scanned from its start). A big file's first update with a budget scans only
        its tail."""
        fd = self.seg.fd
        size = os.fstat(fd).st_size
        truncated = size < self.scanned
        if truncated:
            self._reset()
        if budget is not None and not self.shown and size - self.scanned > WINDOW_MIN:
            self._begin_window(fd, size)
        self.shown = True
        pos = start = self.scanned
        stop = size if budget is None else min(size, pos + budget)
        self.scanned, self.lines = _count(fd, pos, stop, self.block_starts, self.block_lines, self.lines)
        return self.scanned - start, truncated

    def _begin_window(self, fd: int, size: int) -> None:
        at = size - WINDOW
        data = os.pread(fd, WINDOW, at)
        nl = data.find(b"\n")
        if nl < 0 or at + nl + 1 <= self.scanned:
            return  # no line begins in the window: counted from where it is
        self.head = (self.block_starts, self.block_lines)
        self.head_scanned, self.head_lines = self.scanned, self.lines
        self.block_starts, self.block_lines = array("Q"), array("Q")
        self.base = self.scanned = at + nl + 1
        self.lines = 0

    def fill(self, budget: int | None, lock: Any) -> tuple[int, int]:
        """Count the bytes before the tail window (at most ``budget`` of them), without holding ``lock`` (the
        readers'), which is taken to record the count: (the bytes counted, the lines that came in above the
        window once all were; 0 until then)."""
        with lock:
            head, base, start, lines = self.head, self.base, self.head_scanned, self.head_lines
            if not base or head is None:
                return 0, 0
            fd = self.seg.fd
        starts, counts = head
        stop = base if budget is None else min(base, start + budget)
        pos, count = _count(fd, start, stop, starts, counts, lines)  # appends to ``head``: not read meanwhile
        used = pos - start
        with lock:
            if self.head is not head:
                return used, 0  # truncated or closed meanwhile: the count is dropped
            self.head_scanned, self.head_lines = pos, count
            if pos < self.base:
                return used, 0
            return used, self._join(count)

    def _join(self, count: int) -> int:
        """The bytes before the window are counted (``count`` lines): one index from the file's start."""
        assert self.head is not None
        starts, counts = self.head
        starts.extend(self.block_starts)
        counts.extend(n + count for n in self.block_lines)
        self.block_starts, self.block_lines, self.head = starts, counts, None
        self.lines += count
        self.base = 0
        self._cache.clear()
        return count

    def behind(self) -> bool:
        return self.seg.gz or os.fstat(self.seg.fd).st_size != self.scanned

    def _block_newlines(self, k: int) -> list[int]:
        cached = self._cache.get(k)
        if cached is not None:
            self._cache.move_to_end(k)
            return cached
        start = self.block_starts[k]
        end = self.block_starts[k + 1] if k + 1 < len(self.block_starts) else self.scanned
        data = os.pread(self.seg.fd, end - start, start)
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
        return self.base if n <= 0 else self._newline(n) + 1

    def span(self, n: int) -> tuple[int, int]:
        return self._start(n), self._newline(n + 1)

    def line_at(self, offset: int) -> int:
        """The line that holds byte ``offset``."""
        if not self.block_starts:
            return 0
        k = max(0, bisect.bisect_right(self.block_starts, offset) - 1)
        nls = self._block_newlines(k)
        return int(self.block_lines[k]) + bisect.bisect_left(nls, offset)

    def raw(self, n: int) -> tuple[bytes, bytes]:
        start, end = self.span(n)
        fd = self.seg.fd
        if end - start <= CUT:
            return os.pread(fd, end - start, start), b""
        return os.pread(fd, CUT, start), os.pread(fd, _TAIL, end - _TAIL)

    def search(self, pattern: re.Pattern[bytes], folded: str, from_line: int, backwards: bool) -> int | None:
        """The next line after ``from_line`` (or the previous one before it) that holds the query."""
        fd = self.seg.fd
        n = from_line
        while True:
            if backwards:
                if n <= 0:
                    return None
                hit = self._rfind(fd, pattern, self._start(min(n, self.lines)))
            else:
                if n + 1 >= self.lines:
                    return None
                hit = self._find(fd, pattern, self._start(n + 1), self._start(self.lines))
            if hit is None:
                return None
            n = self.line_at(hit)
            if n >= self.lines:
                return None
            if folded in parse(*self.raw(n)).text.casefold():
                return n

    def grep(self, needle: bytes, folded: str, start: int, stop: int, budget: int) -> tuple[list[int], int]:
        """The lines in [``start``, ``stop``) whose text holds the query (``needle``: its JSON form, in lower
        case), reading about ``budget`` bytes at most: (the lines, the line to go on from)."""
        fd = self.seg.fd
        pos, end, line = self._start(start), self._start(stop), start
        hits: list[int] = []
        read = 0
        while pos < end and read < budget:
            data = os.pread(fd, min(GREP_WINDOW, end - pos), pos)
            if not data:
                break
            if pos + len(data) < end:  # whole lines only
                cut = data.rfind(b"\n") + 1
                if cut == 0:  # one line longer than the window: read all of it
                    data = os.pread(fd, self._start(line + 1) - pos, pos)
                else:
                    data = data[:cut]
            low = data.lower()
            at, counted, n, last = low.find(needle), 0, line, -1
            while at >= 0:
                n += data.count(b"\n", counted, at)
                counted = at
                if n != last:
                    last = n
                    head = data.rfind(b"\n", 0, at) + 1
                    tail = data.find(b"\n", at)
                    if folded in parse(data[head:tail]).text.casefold():
                        hits.append(n)
                    at = low.find(needle, tail)  # the line is decided: on to the next one
                    continue
                at = low.find(needle, at + 1)
            line += data.count(b"\n")
            pos += len(data)
            read += len(data)
        return hits, line

    def times(self, start: int, stop: int) -> list[str]:
        """The ``time`` field of lines [``start``, ``stop``), read in one go."""
        first, last = self._start(start), self._start(stop)
        data = os.pread(self.seg.fd, last - first, first)
        out = []
        for raw in data.split(b"\n")[: stop - start]:
            at = raw.rfind(b'"time":"')
            out.append(raw[at + 8 : raw.find(b'"', at + 8)].decode() if at >= 0 else "")
        return out

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
        while hi > self.base:
            lo = max(self.base, hi - window)
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


class LogIndex:
    """Line offsets of one container's log, across its rotated files (oldest first; see logread.py): line
    ``n`` counts from the first line of the oldest file still on disk. When a rotation deletes files, their
    lines leave the index and ``generation`` bumps, as it does when the file is truncated. Thread-safe: a
    worker scans while the UI reads."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._files: list[_FileIndex] = []
        self.lines = 0  # complete lines scanned, in all files
        self.generation = 1  # bumps when lines went away (truncated, deleted by a rotation) or came in above
        self._saved: dict[tuple[int, int], _Saved] | None = None  # the index file's, read at the first update
        self._unsaved = 0  # bytes counted since the index file was written
        self._fill_lock = threading.Lock()  # one counter of what is before the windows at a time

    def follow(self, callback: Callable[[], None], rate: float = 10.0) -> LogFollower:
        """Call ``callback`` (in a thread of its own) whenever the log changes (written to, or rotated), at
        most ``rate`` times a second; ``stop()`` the follower when done. The callback typically calls
        :meth:`update`."""
        return LogFollower(self.path, callback, rate)

    def close(self) -> None:
        with self._lock:
            if self._unsaved:
                self.save()
            for f in self._files:
                f.seg.close()
                f.head = None  # a count going on without the lock is dropped
            self._files = []
            self.lines = 0

    def save(self) -> None:
        """Write what is counted to the index file beside the log (best effort: a log in a directory this
        process cannot write to is counted again next time)."""
        with self._lock:
            kept: dict[tuple[int, int], _Saved] = {}
            try:
                for f in self._files:
                    saved = f.saved()
                    if saved is not None:
                        kept[f.seg.ident] = saved
            except OSError:
                return
            self._unsaved = 0
            if kept:
                _write_index(self.path + INDEX_SUFFIX, kept)

    def _take_rotation(self) -> bool:
        """Add the files a rotation made since the last look, and drop those it deleted; True if it did."""
        if not self._files:
            self._files = [self._new_file(s) for s in open_set(self.path)]
            return False
        current = self._files[-1].seg
        ident = ident_of(self.path)
        if ident is None or ident == current.ident:
            return False
        segments = open_set(self.path)
        start = newer(segments, current.ident)
        kept = {s.ident for s in segments[:start]}
        for s in segments[:start]:
            s.close()
        self._files.extend(self._new_file(s) for s in segments[start:])
        gone = 0
        while gone < len(self._files) and self._files[gone].seg.ident not in kept and start > 0:
            gone += 1
        if start == 0:  # the file this index was reading was deleted, and all before it
            gone = len(self._files) - len(segments)
        for f in self._files[:gone]:
            f.seg.close()
        del self._files[:gone]
        return gone > 0

    def _new_file(self, seg: Segment) -> _FileIndex:
        if self._saved is None:
            self._saved = _read_index(self.path + INDEX_SUFFIX)
        return _FileIndex(seg, self._saved.pop(seg.ident, None))

    def update(self, budget: int | None = None) -> int:
        """Scan what was appended since the last call (at most ``budget`` bytes; the newest file first, a big
        one's tail window only), following rotations, then count what is left before the windows with what
        remains of the budget; return the number of new lines (all of them when ``generation`` changed)."""
        with self._lock:
            before = self.lines
            changed = self._take_rotation()
            had = [f.lines for f in self._files]
            windows = sum(1 for f in self._files if f.base)
            left = budget
            for f in reversed(self._files):
                if f.done or (left is not None and left <= 0):
                    continue
                used, truncated = f.update(left)
                changed = changed or truncated
                self._unsaved += used
                if left is not None:
                    left -= used
            if sum(1 for f in self._files if f.base) > windows:
                left = 0  # a window was begun: its lines are shown at once, what is before it counted next
            files = list(self._files)
        # What is before the windows is counted without the readers' lock (their lines are not shown yet):
        # a view reads its lines meanwhile; the count joins the window under the lock.
        if left is None or left > 0:
            with self._fill_lock:
                for f in files:
                    if left is not None and left <= 0:
                        break
                    used, came = f.fill(left, self._lock)
                    self._unsaved += used
                    changed = changed or came > 0
                    if left is not None:
                        left -= used
        with self._lock:
            if self._files != files:
                changed = True  # rotated meanwhile (another update): lines may have moved
            for k, f in enumerate(self._files):
                if f is not self._files[-1] and not f.base and not f.behind():
                    f.done = True  # a rotated file: complete
                # lines that came before lines already shown (an older file counted late) move those down
                if k < len(had) and f.lines > had[k] and any(had[k + 1 :]):
                    changed = True
            self.lines = sum(f.lines for f in self._files)
            if self._unsaved >= SAVE_EVERY:
                self.save()
            if changed:
                self.generation += 1
                return self.lines
            return self.lines - before

    @property
    def counting(self) -> int:
        """Bytes of the log not counted yet before the lines shown (a big log's tail is shown first)."""
        return sum(f.base - f.head_scanned for f in list(self._files) if f.base)  # (no lock: a UI asks)

    def anchor(self, n: int) -> tuple[tuple[int, int], int]:
        """Where line ``n`` is (its file and offset), to find it again by ``row_of`` after lines came in
        above it."""
        with self._lock:
            f, k = self._locate(n)
            return f.seg.ident, f._start(k)

    def row_of(self, anchor: tuple[tuple[int, int], int]) -> int | None:
        """The line ``anchor`` names now (None when its file is gone)."""
        ident, offset = anchor
        with self._lock:
            base = 0
            for f in self._files:
                if f.seg.ident == ident:
                    return base + (f.line_at(offset) if offset >= f.base and f.lines else 0)
                base += f.lines
            return None

    @property
    def pending(self) -> bool:
        """Bytes appended (or files rotated in) that ``update`` has not scanned yet."""
        with self._lock:
            ident = ident_of(self.path)
            if not self._files:
                return ident is not None
            if ident is not None and ident != self._files[-1].seg.ident:
                return True
            return any(not f.done and f.behind() for f in self._files)

    # -- reading ------------------------------------------------------------------------------------
    def _locate(self, n: int) -> tuple[_FileIndex, int]:
        if not 0 <= n < self.lines:
            raise IndexError(n)
        for f in self._files:
            if n < f.lines:
                return f, n
            n -= f.lines
        raise IndexError(n)

    def span(self, n: int) -> tuple[int, int]:
        """Byte range of line ``n`` (0-based) in its file, without its newline."""
        with self._lock:
            f, k = self._locate(n)
            return f.span(k)

    def raw(self, n: int) -> tuple[bytes, bytes]:
        """Line ``n``'s bytes cut to CUT, and its last bytes when it was cut (else b"")."""
        with self._lock:
            f, k = self._locate(n)
            return f.raw(k)

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
            bases, base = [], 0
            for f in self._files:
                bases.append(base)
                base += f.lines
            order = range(len(self._files) - 1, -1, -1) if backwards else range(len(self._files))
            for k in order:
                f, base = self._files[k], bases[k]
                if backwards:
                    if base >= from_line:
                        continue
                    hit = f.search(pattern, folded, min(from_line - base, f.lines), True)
                else:
                    if base + f.lines <= from_line + 1:
                        continue
                    hit = f.search(pattern, folded, max(from_line - base, -1), False)
                if hit is not None:
                    return base + hit
            return None

    def grep(self, query: str, start: int, budget: int = 4 << 20) -> tuple[list[int], int]:
        """The lines from ``start`` on whose text holds ``query`` (any case, as ``search``), reading about
        ``budget`` bytes of the log: (the lines, the line to go on from). A filter calls it again from that
        line until it reaches ``lines``; only the line numbers are kept, never the text."""
        needle = json.dumps(query, ensure_ascii=False)[1:-1].encode().lower()
        folded = query.casefold()
        hits: list[int] = []
        with self._lock:
            base = 0
            for f in self._files:
                if start < base + f.lines and budget > 0:
                    before = max(0, start - base)
                    found, reached = f.grep(needle, folded, before, f.lines, budget)
                    hits += [base + n for n in found]
                    budget -= f._start(reached) - f._start(before)
                    start = base + reached
                base += f.lines
            return hits, min(start, self.lines)

    def times(self, start: int, stop: int) -> list[str]:
        """The ``time`` fields (RFC 3339, as written: they sort as text) of lines [``start``, ``stop``)."""
        out: list[str] = []
        with self._lock:
            base = 0
            for f in self._files:
                lo, hi = max(start, base), min(stop, base + f.lines)
                if lo < hi:
                    out += f.times(lo - base, hi - base)
                base += f.lines
        return out


def _read_index(path: str) -> dict[tuple[int, int], _Saved]:
    """The index file's entries by (device, inode); {} when it is missing or damaged."""
    import struct
    import zlib

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return {}
    if len(data) < len(_MAGIC) + 8 or not data.startswith(_MAGIC):
        return {}
    body, crc = data[:-4], int.from_bytes(data[-4:], "little")
    if zlib.crc32(body) != crc:
        return {}
    out: dict[tuple[int, int], _Saved] = {}
    try:
        (count,) = struct.unpack_from("<I", body, len(_MAGIC))
        at = len(_MAGIC) + 4
        for _ in range(count):
            dev, ino, scanned, lines, blocks, check = struct.unpack_from("<QQQQQI", body, at)
            at += 44
            starts, counts = array("Q"), array("Q")
            starts.frombytes(body[at : at + 8 * blocks])
            counts.frombytes(body[at + 8 * blocks : at + 16 * blocks])
            at += 16 * blocks
            if len(starts) != blocks or len(counts) != blocks or (blocks and starts[-1] >= scanned):
                return {}
            out[(dev, ino)] = _Saved(scanned, lines, starts, counts, check)
        if at != len(body):
            return {}
    except struct.error:
        return {}
    return out


def _write_index(path: str, kept: dict[tuple[int, int], _Saved]) -> None:
    """Replace the index file in one rename (a reader finds the old one or the new one, whole)."""
    import struct
    import zlib

    parts = [_MAGIC, struct.pack("<I", len(kept))]
    for (dev, ino), s in kept.items():
        parts.append(struct.pack("<QQQQQI", dev, ino, s.scanned, s.lines, len(s.starts), s.check))
        parts += [s.starts.tobytes(), s.counts.tobytes()]
    body = b"".join(parts)
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(body + zlib.crc32(body).to_bytes(4, "little"))
        os.rename(tmp, path)
    except OSError:
        with suppress(OSError):
            os.unlink(tmp)


class LogFollower:
    """Wakes on the log's changes (inotify, engine.kernel.inotify, on the log's directory: the file written
    to, or a new one a rotation made) and calls back; a flood of writes is folded into one call per
    ``1/rate`` seconds."""

    def __init__(self, path: str, callback: Callable[[], None], rate: float = 10.0) -> None:
        from engine.kernel.inotify import Watcher

        self.callback = callback
        self.interval = 1.0 / rate
        self._stop = threading.Event()
        self._watcher = Watcher(os.path.dirname(path) or ".", WATCH_MASK)  # the directory: rotations too
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
