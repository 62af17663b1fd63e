"""Reading a container's json-file log across its rotated files, oldest first: ``<id>-json.log.N`` (or
``.N.gz``) ... ``.1``, then ``<id>-json.log``, the one being written (see logfile.py for the rotation).

The files are opened together under a shared flock of their directory (the supervisor rotates under an
exclusive one), so a reader holds a whole, ordered set; once open, a file reads the same whatever is renamed
or deleted. A follower holds the file being written; when the name points at another file, the one it holds
is complete (the supervisor writes no more to a file it has renamed), and what comes after it is found by
its identity (device, inode; a gzipped file carries the one it was made from) among the files on disk:
nothing is lost or read twice, unless the reader fell so far behind that the rotation deleted what it had not
read yet. ``entries`` serves ``logs`` (``--tail``, ``-f``); the app's line index (logindex.py) uses ``open_set``
and ``newer``.
"""

from __future__ import annotations

import fcntl
import os

from ..errors import CorruptRecord, DockyardError
from .logfile import GZ_FIELD, NOT_READABLE, LogEntry, parse_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from ..store.containers import ContainerStore

# A directory watch: writes to the log, and the new file a rotation makes (engine.kernel.inotify's names).
IN_MODIFY, IN_CLOSE_WRITE, IN_MOVED_TO, IN_CREATE = 0x2, 0x8, 0x80, 0x100
IN_DELETE_SELF, IN_MOVE_SELF = 0x400, 0x800
WATCH_MASK = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF
_READ = 1 << 20


def check_readable(store: ContainerStore, cid: str) -> None:
    """Docker's refusal to read the log of a container whose log driver keeps none (``--log-driver none``)."""
    try:
        driver = store.config(cid).log_driver
    except CorruptRecord:
        return  # the log can be read even so
    if driver == "none":
        raise DockyardError(NOT_READABLE)


class Segment:
    """One file of the log, open. ``ident`` is the (device, inode) of the file as the supervisor wrote it;
    a gzipped one is unpacked, the first time it is read, into a file without a name (``O_TMPFILE``)."""

    def __init__(self, fd: int, ident: tuple[int, int], gz: bool = False) -> None:
        self._fd = fd
        self.ident = ident
        self.gz = gz

    @property
    def fd(self) -> int:
        """A descriptor of the plain text, for ``os.pread``."""
        if self.gz:
            self._fd, self.gz = _gunzip(self._fd), False
        return self._fd

    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _gunzip(fd: int) -> int:
    import zlib

    out = -1
    try:
        out = os.open(os.path.dirname(os.readlink(f"/proc/self/fd/{fd}")), os.O_TMPFILE | os.O_RDWR, 0o600)
    except OSError:
        import tempfile

        out = os.dup(tempfile.TemporaryFile().fileno())
    try:
        z = zlib.decompressobj(31)
        pos = 0
        while chunk := os.pread(fd, _READ, pos):
            pos += len(chunk)
            os.write(out, z.decompress(chunk))
            if z.eof:
                break
        os.write(out, z.flush())
    except zlib.error:
        pass  # a damaged file: what could be unpacked
    finally:
        os.close(fd)
    return out


def _open(name: str) -> Segment | None:
    try:
        fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    st = os.fstat(fd)
    ident = (st.st_dev, st.st_ino)
    if name.endswith(".gz"):
        head = os.pread(fd, 32, 0)
        # the header: 10 bytes, XLEN (2), then our subfield: "DY", its length (16), device and inode
        if len(head) >= 32 and head[3] & 4 and head[12:14] == GZ_FIELD:
            ident = (int.from_bytes(head[16:24], "little"), int.from_bytes(head[24:32], "little"))
        return Segment(fd, ident, gz=True)
    return Segment(fd, ident)


def open_set(path: str) -> list[Segment]:
    """Every file of the log ``path``, open, oldest first; the one being written (if there is one) last."""
    try:
        d = os.open(os.path.dirname(path) or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return []
    rotated: list[Segment] = []
    try:
        fcntl.flock(d, fcntl.LOCK_SH)
        current = _open(path)
        i, misses = 1, 0
        while misses < 2:  # a gap is left only by a rotation cut short; look one past it
            seg = _open(f"{path}.{i}") or _open(f"{path}.{i}.gz")
            if seg is None:
                misses += 1
            else:
                misses = 0
                rotated.append(seg)
            i += 1
    finally:
        os.close(d)
    rotated.reverse()
    return rotated + ([current] if current else [])


def ident_of(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def newer(segments: list[Segment], ident: tuple[int, int] | None) -> int:
    """Where the files after the one ``ident`` names begin in ``segments`` (from ``open_set``): 0 when it is
    not among them (it was deleted, so all of them came after it). The newest match counts: a reused inode
    number can only be older than a file that still holds it."""
    for k in range(len(segments) - 1, -1, -1):
        if segments[k].ident == ident:
            return k + 1
    return 0


def _tail_start(segments: list[Segment], n: int) -> tuple[int, int]:
    """(file, offset) where the last ``n`` complete lines begin."""
    for k in range(len(segments) - 1, -1, -1):
        fd = segments[k].fd
        pos = os.fstat(fd).st_size
        end = -1  # the newline ending the last complete line, once found
        while pos > 0:
            step = min(65536, pos)
            pos -= step
            block = os.pread(fd, step, pos)
            i = len(block)
            while (i := block.rfind(b"\n", 0, i)) >= 0:
                if end < 0:
                    end = pos + i
                    continue
                n -= 1
                if n == 0:
                    return k, pos + i + 1
        if end >= 0:
            n -= 1  # the file's first line
            if n == 0:
                return k, 0
    return 0, 0


def _line_from(fd: int, pos: int, size: int) -> tuple[int, bytes] | None:
    """The first complete line that begins at or after byte ``pos``: its offset and its ``time`` field (None
    when no complete line begins there)."""
    start = 0
    if pos > 0:
        at = pos - 1
        while True:  # the newline that ends the line ``pos - 1`` is in
            block = os.pread(fd, 65536, at)
            if not block:
                return None
            i = block.find(b"\n")
            if i >= 0:
                start = at + i + 1
                break
            at += len(block)
    want = 4096
    while True:
        line = os.pread(fd, want, start)
        end = line.find(b"\n")
        if end >= 0:
            line = line[:end]
            at = line.rfind(b'"time":"')
            return start, line[at + 8 : line.find(b'"', at + 8)] if at >= 0 else b""
        if start + len(line) >= size:
            return None
        want *= 4  # a longer line: its time is at its end


def _since_start(segments: list[Segment], since: float) -> tuple[int, int]:
    """(file, offset) of the first line written at ``since`` or later, found by bisection (the supervisor
    writes the lines in the order of their times): a few reads, however big the log. The end of the last
    file when there is none."""
    from ..humanize import parse_time

    def before(fd: int, pos: int, size: int) -> int | None:
        """Where the first line from ``pos`` on begins if it is older than ``since``, else None."""
        got = _line_from(fd, pos, size)
        if got is None:
            return None
        try:
            return got[0] if parse_time(got[1].decode()) < since else None
        except ValueError:
            return got[0]  # no time to go by: read on from it

    for k in range(len(segments) - 1, -1, -1):
        fd = segments[k].fd
        size = os.fstat(fd).st_size
        if k > 0 and before(fd, 0, size) is None:
            continue  # this file begins at or after ``since``: so might the one before it
        lo, hi = 0, size  # the answer is the first line from some pos in [lo, hi]
        while lo < hi:
            mid = (lo + hi) // 2
            older = before(fd, mid, size)
            if older is None:
                hi = mid
            else:
                lo = max(mid + 1, older + 1)
        got = _line_from(fd, lo, size)
        if got is not None:
            return k, got[0]
        if k + 1 < len(segments):
            return k + 1, 0
        return k, size
    return 0, 0


def _read(seg: Segment, offset: int, want: int = _READ) -> tuple[list[LogEntry], int]:
    """The complete entries of ``seg`` from ``offset`` (reading ``want`` bytes, more for a longer line), and
    the offset after the last one."""
    out: list[LogEntry] = []
    fd = seg.fd
    while True:
        data = os.pread(fd, want, offset)
        end = data.rfind(b"\n")
        if end < 0:
            if len(data) < want:
                return out, offset
            want *= 2  # a line longer than what was read
            continue
        out.extend(e for e in map(parse_line, data[: end + 1].splitlines()) if e)
        offset += end + 1
        if len(data) < want:
            return out, offset
        if len(out) >= 4096:
            return out, offset


def _drain(seg: Segment, offset: int) -> Iterator[LogEntry]:
    want = 1 << 16  # a small first read: the first lines are out at once (and --until may end it there)
    while True:
        got, offset = _read(seg, offset, want)
        if not got:
            return
        yield from got
        want = _READ


def entries(
    path: str,
    tail: int | None = None,
    alive: Callable[[], bool] | None = None,
    since: float | None = None,
) -> Iterator[LogEntry]:
    """The entries of the log ``path`` across its rotated files, oldest first: the last ``tail`` ones (all
    when None or negative, none when 0). With ``alive``, then those written after, as they come, until
    ``alive()`` is false (and what was written until then is read). With ``since``, reading begins at the
    first entry written at that time or later (those before are skipped, not read)."""
    segments = open_set(path)
    try:
        if tail == 0:
            k, offset = len(segments) - 1, segments[-1].size() if segments else 0
        elif tail is not None and tail > 0:
            k, offset = _tail_start(segments, tail)
        else:
            k, offset = 0, 0
        if since and segments:
            k, offset = max((k, offset), _since_start(segments, since))
        for seg in segments[k:-1]:
            yield from _drain(seg, offset)
            offset = 0
        if alive is None:
            if segments:
                yield from _drain(segments[-1], offset)
            return
        yield from _follow(path, segments[-1] if segments else None, offset, alive)
    finally:
        for seg in segments:
            seg.close()


def _follow(path: str, cur: Segment | None, offset: int, alive: Callable[[], bool]) -> Iterator[LogEntry]:
    """From ``offset`` of ``cur`` (the file being written when the reading began) on, file after file."""
    from ..kernel.inotify import Watcher

    after: list[Segment] = []
    try:
        with Watcher(os.path.dirname(path) or ".", WATCH_MASK) as w:
            last_round = False
            while True:
                while True:  # to the end of what is there now
                    if cur is not None:
                        got, offset = _read(cur, offset)
                        if got:
                            yield from got
                            continue
                        if os.fstat(cur.fd).st_size < offset:  # truncated in place
                            offset = 0
                            continue
                        if ident_of(path) in (cur.ident, None):
                            break
                        got, offset = _read(cur, offset)  # renamed: it is whole now, and may have grown
                        if got:
                            yield from got
                            continue
                    # the file was rotated (or there was none yet): the files that came after it
                    segments = open_set(path)
                    start = newer(segments, cur.ident) if cur else 0
                    for seg in segments[:start]:
                        seg.close()
                    after = segments[start:]
                    if not after:
                        break
                    if cur is not None:
                        cur.close()
                    while len(after) > 1:
                        yield from _drain(after[0], 0)
                        after.pop(0).close()
                    cur, offset, after = after[0], 0, []
                if last_round:
                    return
                if not alive():
                    last_round = True  # read what was written until now, once more
                    continue
                w.wait(0.25)
    finally:
        for seg in [*after, *([cur] if cur else [])]:
            seg.close()
