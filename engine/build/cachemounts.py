"""The directories of ``RUN --mount=type=cache``: kept under ``ROOT/buildmounts/`` from one build to the next.

A cache mount is named by its ``id`` (default: its target path). Each id has one or more instances,
``buildmounts/<sha256(id)>-<n>/`` holding ``data/`` (what the RUN sees), ``meta.json`` (the id, when it was
made and last used) and ``lock``. A step holds the instance's lock while its container runs: ``shared`` (the
default) takes it shared, so parallel builds use the same directory at once; ``locked`` takes it exclusive
and waits for the others; ``private`` takes the first instance nobody holds, making a new one when every
instance is busy. ``prune`` removes the instances nobody holds (``builder prune``), as BuildKit drops its
``exec.cachemount`` records. What a cache mount holds is never part of a layer nor of a step's cache key.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time

from engine.errors import BuildError
from engine.lean import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["CACHE_DIR", "CacheMount", "acquire", "prune"]

CACHE_DIR = "buildmounts"
SHARING = ("shared", "private", "locked")


def _base(root: str) -> str:
    return os.path.join(root, CACHE_DIR)


def _stem(cache_id: str) -> str:
    return hashlib.sha256(cache_id.encode()).hexdigest()


class CacheMount:
    """One instance of a cache mount, locked for the caller until :meth:`release`."""

    def __init__(self, path: str, lock_fd: int) -> None:
        self.path = path
        self.data = os.path.join(path, "data")
        self._fd: int | None = lock_fd

    def release(self) -> None:
        if self._fd is not None:
            self._touch()
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None

    def _touch(self) -> None:
        meta = _read_meta(self.path)
        meta["used"] = time.time()
        _write_meta(self.path, meta)


def _read_meta(path: str) -> dict[str, object]:
    try:
        with open(os.path.join(path, "meta.json"), "rb") as f:
            meta = jsonio.loads(f.read())
    except (OSError, ValueError, TypeError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _write_meta(path: str, meta: dict[str, object]) -> None:
    tmp = os.path.join(path, f"meta.json.{os.getpid()}")
    with open(tmp, "w") as f:
        f.write(jsonio.dumps(meta))
    os.replace(tmp, os.path.join(path, "meta.json"))


def _open_lock(path: str) -> int:
    return os.open(os.path.join(path, "lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


def _create(
    path: str, cache_id: str, mode: int, uid: int, gid: int, seed: Callable[[str], None] | None
) -> None:
    """Make instance ``path`` (atomically: built aside, then renamed into place)."""
    parent = os.path.dirname(path)
    os.makedirs(parent, 0o700, exist_ok=True)
    tmp = f"{path}.new-{os.getpid()}-{os.urandom(4).hex()}"
    os.mkdir(tmp, 0o700)
    try:
        data = os.path.join(tmp, "data")
        if seed is not None:
            seed(data)  # a copy of the ``from`` stage's or image's directory
        else:
            os.mkdir(data)
            os.chown(data, uid, gid)
            os.chmod(data, mode)
        _write_meta(tmp, {"id": cache_id, "created": time.time(), "used": time.time()})
        try:
            os.rename(tmp, path)
        except OSError:
            if not os.path.isdir(path):  # lost a race with another build: theirs is as good
                raise
    finally:
        if os.path.exists(tmp):
            from engine.store.tmp import remove_tree

            remove_tree(tmp)


def acquire(
    root: str,
    cache_id: str,
    sharing: str = "shared",
    mode: int = 0o755,
    uid: int = 0,
    gid: int = 0,
    seed: Callable[[str], None] | None = None,
) -> CacheMount:
    """The instance of cache ``cache_id`` this step uses, made on first use (an empty directory with
    ``mode``/``uid``/``gid``, or what ``seed(path)`` puts there) and locked as ``sharing`` says."""
    if sharing not in SHARING:
        raise BuildError(f"unsupported sharing value {sharing!r}")
    stem = os.path.join(_base(root), _stem(cache_id))
    n = 0
    while True:
        path = f"{stem}-{n}"
        if not os.path.isdir(path):
            _create(path, cache_id, mode, uid, gid, seed)
        fd = _open_lock(path)
        try:
            if sharing == "shared":
                fcntl.flock(fd, fcntl.LOCK_SH)
            elif sharing == "locked":
                fcntl.flock(fd, fcntl.LOCK_EX)
            else:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    n += 1
                    continue
        except BaseException:
            os.close(fd)
            raise
        if not os.path.isdir(os.path.join(path, "data")):  # pruned while we waited for the lock
            os.close(fd)
            continue
        return CacheMount(path, fd)


class MountPruneReport:
    """What pruning cache mounts removed: how many, how many bytes."""

    def __init__(self) -> None:
        self.deleted = 0
        self.reclaimed = 0


def _size(path: str) -> int:
    total = 0
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
    return total


def prune(root: str, tmpdir: str, older_than: float | None = None) -> MountPruneReport:
    """Remove every cache mount no build is using (unused for ``older_than`` seconds, when given)."""
    from engine.store.tmp import make_dir, remove_tree

    report = MountPruneReport()
    base = _base(root)
    try:
        names = sorted(os.listdir(base))
    except FileNotFoundError:
        return report
    now = time.time()
    for name in names:
        path = os.path.join(base, name)
        if ".new-" in name:
            pid = name.rsplit(".new-", 1)[1].split("-", 1)[0]
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                remove_tree(path)  # left by a build that was killed while it made the directory
            continue
        if not os.path.isdir(path):
            continue
        if older_than is not None:
            used = _read_meta(path).get("used")
            if isinstance(used, (int, float)) and now - used < older_than:
                continue
        try:
            fd = _open_lock(path)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a build is using it
            size = _size(path)
            aside = os.path.join(make_dir(tmpdir, "cachemount", 0o700), "gone")
            os.rename(path, aside)  # gone at once for the builds; its files are removed next
            remove_tree(os.path.dirname(aside))
            report.deleted += 1
            report.reclaimed += size
        finally:
            os.close(fd)
    return report


def listing(root: str) -> list[dict[str, object]]:
    """Every cache mount instance as ``system df -v`` shows it: id, description (its ``id=``), size, created,
    last used, and whether a build holds it now."""
    base = _base(root)
    try:
        names = sorted(os.listdir(base))
    except FileNotFoundError:
        return []
    out: list[dict[str, object]] = []
    for name in names:
        path = os.path.join(base, name)
        if ".new-" in name or not os.path.isdir(path):
            continue
        meta = _read_meta(path)
        in_use = False
        try:
            fd = _open_lock(path)
        except OSError:
            fd = -1
        if fd >= 0:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                in_use = True  # a build is using it
            finally:
                os.close(fd)
        created, used = meta.get("created"), meta.get("used")
        out.append(
            {
                "id": name[:12],
                "description": f"cache mount {meta.get('id') or '?'}",
                "size": _size(os.path.join(path, "data")),
                "created": float(created) if isinstance(created, (int, float)) else 0.0,
                "last_used": float(used) if isinstance(used, (int, float)) else 0.0,
                "in_use": in_use,
            }
        )
    return out
