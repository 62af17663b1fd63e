"""Temporary files and directories inside the engine root, named after the process that owns them.

A process killed mid-write leaves ``tmp/<pid>-...`` behind; ``sweep`` removes entries whose owner is gone, so
nothing half-made survives the next start.
"""

from __future__ import annotations

import os
import stat

from .. import faults
from ..lean.tools import suppress

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def _name(tmpdir: str, kind: str) -> str:
    return os.path.join(tmpdir, f"{os.getpid()}-{kind}-{os.urandom(6).hex()}")


def make_dir(tmpdir: str, kind: str = "dir", mode: int = 0o777) -> str:
    path = _name(tmpdir, kind)
    os.makedirs(path, mode)
    if faults.ACTIVE:
        faults.point("tmp " + kind)
    return path


def remove_tree(path: str) -> None:
    """Remove a file or a directory tree that may hold read-only directories and files of any owner.

    Each directory is opened relative to its parent without following symlinks (a symlink is removed,
    never its target), as shutil.rmtree does; this one needs no import (shutil costs ~2 ms to load).
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
        return
    parent = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        _remove_dir_at(parent, os.path.basename(os.path.abspath(path)))
    finally:
        os.close(parent)


def _open_dir_at(parent: int, name: str) -> int:
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        return os.open(name, flags, dir_fd=parent)
    except PermissionError:  # a directory without read or search permission (without CAP_DAC_OVERRIDE)
        os.chmod(name, 0o700, dir_fd=parent)
        return os.open(name, flags, dir_fd=parent)


def _remove_dir_at(parent: int, name: str) -> None:
    """Remove the directory ``name`` of ``parent`` and all below it, however deep: one directory is open at a
    time (the walk goes down by name and back up through ``..``), and what is kept is the names still to
    visit on the way down, so neither the recursion limit nor the limit of open files is reached."""
    # One level per directory on the way down: its name and the subdirectories of it still to remove.
    stack: list[tuple[str, list[str]]] = []
    fd = _open_dir_at(parent, name)
    try:
        stack.append((name, _clear_files(fd)))
        while stack:
            _here, pending = stack[-1]
            if pending:  # down into the next subdirectory
                sub = pending.pop()
                child = _open_dir_at(fd, sub)
                os.close(fd)
                fd = child
                stack.append((sub, _clear_files(fd)))
                continue
            done, _ = stack.pop()  # empty now: up, and remove it
            if not stack:
                break
            up = os.open("..", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = up
            _retry_writable(fd, os.rmdir, done)
    finally:
        os.close(fd)
    _retry_writable(parent, os.rmdir, name)


def _clear_files(fd: int) -> list[str]:
    """Unlink every entry of the directory ``fd`` but its subdirectories; return their names."""
    subdirs = []
    with os.scandir(fd) as it:
        entries = [(e.name, e.is_dir(follow_symlinks=False)) for e in it]
    for entry, is_dir in entries:
        if is_dir:
            subdirs.append(entry)
        else:
            _retry_writable(fd, os.unlink, entry)
    return subdirs


def _retry_writable(dir_fd: int, remove: Callable[..., None], name: str) -> None:
    """Remove an entry; if its directory is read-only (and we are not root), make it writable first."""
    try:
        remove(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    except PermissionError:
        os.fchmod(dir_fd, 0o700)
        remove(name, dir_fd=dir_fd)


class TempFile:
    def __init__(self, tmpdir: str) -> None:
        self.path = _name(tmpdir, "blob")
        self.file = open(self.path, "wb")  # noqa: SIM115
        self.done = False

    def commit(self, dest: str) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.chmod(self.path, 0o644)
        os.replace(self.path, dest)
        self.done = True

    def discard(self) -> None:
        if not self.file.closed:
            self.file.close()
        if not self.done:
            with suppress(FileNotFoundError):
                os.unlink(self.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dead_write(name: str) -> bool:
    """Whether ``name`` is the temporary of an atomic write (fsutil's ``.tmp-PID-HEX~``) whose process is gone."""
    if not (name.startswith(".tmp-") and name.endswith("~")):
        return False
    pid = name[5:].split("-", 1)[0]
    return pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid))


def sweep(tmpdir: str) -> list[str]:
    """Remove temporaries whose owning process has died. Returns what was removed."""
    removed: list[str] = []
    try:
        names = os.listdir(tmpdir)
    except FileNotFoundError:
        return removed
    for n in names:
        pid_s = n.split("-", 1)[0].lstrip(".")
        if not pid_s.isdigit():
            continue
        pid = int(pid_s)
        if pid != os.getpid() and _alive(pid):
            continue
        if pid == os.getpid():
            continue
        path = os.path.join(tmpdir, n)
        remove_tree(path)
        removed.append(path)
    return removed
