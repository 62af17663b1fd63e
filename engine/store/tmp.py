"""Temporary files and directories inside the engine root, named after the process that owns them.

A process killed mid-write leaves ``tmp/<pid>-...`` behind; ``sweep`` removes entries whose owner is gone, so
nothing half-made survives the next start.
"""

from __future__ import annotations

import contextlib
import os


def _name(tmpdir: str, kind: str) -> str:
    return os.path.join(tmpdir, f"{os.getpid()}-{kind}-{os.urandom(6).hex()}")


def make_dir(tmpdir: str, kind: str = "dir") -> str:
    path = _name(tmpdir, kind)
    os.makedirs(path)
    return path


def remove_tree(path: str) -> None:
    """Remove a directory tree that may contain read-only dirs and files of any owner."""
    if not os.path.lexists(path):
        return

    def onerror(func, p, _exc):  # type: ignore[no-untyped-def]
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(p), 0o700)
            if os.path.isdir(p) and not os.path.islink(p):
                os.chmod(p, 0o700)
            func(p)

    if os.path.isdir(path) and not os.path.islink(path):
        import shutil  # not at the top: most commands remove nothing

        shutil.rmtree(path, onerror=onerror)
    else:
        os.unlink(path)


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
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
