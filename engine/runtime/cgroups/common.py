"""What both cgroup versions share: reading and writing cgroup files, and waiting for the kernel.

The read and write helpers turn kernel errors into ``RuntimeFailure``s that name the file; a cgroup that is
already gone reads as missing (None, no pids) rather than as an error.
"""

from __future__ import annotations

import errno
import os
import time

from engine.errors import RuntimeFailure

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_GONE = (errno.ENOENT, errno.ENODEV, errno.ESRCH)


def read_text(path: str) -> str | None:
    """The file's content, or None if it (or its cgroup) does not exist."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError as e:
        if e.errno in _GONE:
            return None
        raise RuntimeFailure(f"cannot read {path}: {e.strerror}") from e


def read_int(path: str) -> int | None:
    """An integer file; None if missing or "max" (unlimited)."""
    text = read_text(path)
    if text is None:
        return None
    text = text.strip()
    if not text or text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def write_value(path: str, value: str | int) -> None:
    """Write one value to a cgroup file; RuntimeFailure naming the file and value when the kernel refuses."""
    data = str(value).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise RuntimeFailure(f"cannot open cgroup file {path}: {e.strerror}") from e
    try:
        os.write(fd, data)
    except OSError as e:
        raise RuntimeFailure(f"cannot write {str(value)!r} to {path}: {e.strerror}") from e
    finally:
        os.close(fd)


def parse_keyed(text: str | None) -> dict[str, int]:
    """Parse "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control)."""
    out: dict[str, int] = {}
    if not text:
        return out
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                out[parts[0]] = int(parts[1])
            except ValueError:
                continue
    return out


def read_pids(path: str) -> list[int]:
    """The pids listed in a cgroup.procs file (empty if the cgroup is gone)."""
    text = read_text(path)
    if not text:
        return []
    return [int(p) for p in text.split()]


def wait_for(done: Callable[[], bool], timeout: float) -> bool:
    """Wait for ``done()`` with short, growing sleeps; False if ``timeout`` passed first."""
    deadline = time.monotonic() + timeout
    delay = 0.0005
    while not done():
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.02)
    return True


def poll_until(done: Callable[[], bool], timeout: float, what: str) -> None:
    """Like ``wait_for``, but a RuntimeFailure naming ``what`` after ``timeout``."""
    if not wait_for(done, timeout):
        raise RuntimeFailure(f"timed out after {timeout:g}s waiting for {what}")


def remove_dir(path: str) -> bool:
    """rmdir a cgroup directory, retrying briefly while the kernel still reports it busy.

    Returns False if it was already gone.
    """
    for attempt in range(50):
        try:
            os.rmdir(path)
            return True
        except FileNotFoundError:
            return False
        except OSError as e:
            if e.errno != errno.EBUSY or attempt == 49:
                raise RuntimeFailure(f"cannot remove cgroup {path}: {e.strerror}") from e
            time.sleep(0.002)
    return False


def make_dir(path: str) -> bool:
    """Create one cgroup directory; False if it already existed."""
    try:
        os.mkdir(path, 0o755)
        return True
    except FileExistsError:
        return False
    except OSError as e:
        raise RuntimeFailure(f"cannot create cgroup {path}: {e.strerror}") from e
