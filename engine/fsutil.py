"""Crash-safe file primitives: atomic writes (temp file, fsync, rename) and advisory file locks."""

from __future__ import annotations

import fcntl
import os

from . import faults
from .errors import CorruptRecord
from .lean import jsonio
from .lean.tools import contextmanager, suppress

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any


def atomic_write_bytes(path: str, data: bytes, mode: int = 0o644, durable: bool = True) -> None:
    """Write ``data`` to ``path`` so that readers see either the old or the new file, never a torn one.

    ``durable=False`` skips the fsync, for files rebuilt from the rest whenever they are needed (a
    container's hosts, hostname and resolv.conf are rewritten at each start)."""
    directory = os.path.dirname(path) or "."
    tmp = os.path.join(directory, f".tmp-{os.getpid()}-{os.urandom(6).hex()}~")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, mode)
        if faults.ACTIVE:
            faults.point("write " + _what(path))
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _what(path: str) -> str:
    """A file's kind for naming fault points: its name, or its directory's with ``ID`` for an ID."""
    base = os.path.basename(path)
    stem = base.partition(".")[0]
    if len(stem) == 64:
        return os.path.basename(os.path.dirname(path)) + "/ID" + base[64:]
    parent = os.path.basename(os.path.dirname(path))
    if len(parent) == 64:
        return "ID/" + base
    return base


def atomic_write_json(path: str, obj: Any, mode: int = 0o644) -> None:
    atomic_write_bytes(path, jsonio.dumps(obj, sort_keys=True).encode() + b"\n", mode)


MAX_RECORD_BYTES = 64 << 20  # no state file of a root comes near; a larger one is damage, not data


def read_json(path: str, default: Any = None) -> Any:
    """Read a JSON file of the root's state; ``default`` when it does not exist, CorruptRecord (naming the
    file) when it is not JSON, is nested too deeply or is larger than any record can be."""
    return read_json_keyed(path, default)[0]


def read_json_keyed(path: str, default: Any = None) -> tuple[Any, int | None]:
    """``read_json``, and what identifies the content read: a hash of its bytes (the same within one process
    for the same bytes, whoever wrote them and however; None when the file does not exist)."""
    # os.open and os.read, not open(): the io layer's objects cost ~15 us a file, which is most of a read of
    # a small record (ps -a reads two per container).
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return default, None
    try:
        chunks: list[bytes] = []
        total = 0
        while total <= MAX_RECORD_BYTES:
            want = min(1 << 16, MAX_RECORD_BYTES + 1 - total)
            chunk = os.read(fd, want)
            chunks.append(chunk)
            total += len(chunk)
            if len(chunk) < want:  # a regular file's short read is its end
                break
    except IsADirectoryError:
        raise CorruptRecord(path, "a directory where a file should be") from None
    finally:
        os.close(fd)
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if len(data) > MAX_RECORD_BYTES:
        raise CorruptRecord(path, f"larger than {MAX_RECORD_BYTES >> 20} MiB")
    if not data.strip():
        raise CorruptRecord(path, "empty")
    try:
        return jsonio.loads(data), hash(data)
    except ValueError as e:
        raise CorruptRecord(path, f"not JSON: {e}") from None


@contextmanager
def locked(path: str, shared: bool = False) -> Iterator[None]:
    """Hold an flock on ``path`` (created if missing) for the duration of the block."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def dir_size(path: str) -> int:
    """Bytes used by regular files below ``path`` (hard links counted once, symlinks not followed)."""
    total = 0
    seen: set[tuple[int, int]] = set()
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except FileNotFoundError:
                continue
            if st.st_nlink > 1:
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    continue
                seen.add(key)
            total += st.st_size
    return total
