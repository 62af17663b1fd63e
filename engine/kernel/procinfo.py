"""Facts about processes from /proc, without psutil: start times (to survive PID reuse) and the boot ID."""

from __future__ import annotations

import os
import select

_BOOT_ID: str | None = None


def boot_id() -> str:
    global _BOOT_ID
    if _BOOT_ID is None:
        try:
            with open("/proc/sys/kernel/random/boot_id") as f:
                _BOOT_ID = f.read().strip()
        except OSError:
            _BOOT_ID = ""
    return _BOOT_ID


def start_time(pid: int) -> int:
    """Clock ticks since boot when ``pid`` started; 0 when it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0
    rest = data[data.rfind(b")") + 2 :].split()
    try:
        return int(rest[19])
    except (IndexError, ValueError):
        return 0


def is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return True
    return data[data.rfind(b")") + 2 : data.rfind(b")") + 3] in (b"Z", b"X")


def alive(pid: int, started: int, boot: str = "") -> bool:
    """Is the process that had ``pid`` and ``started`` still running (on this boot)?"""
    if not pid or (boot and boot != boot_id()):
        return False
    st = start_time(pid)
    return st != 0 and (not started or st == started) and not is_zombie(pid)


def wait_exit(pid: int, started: int, timeout: float | None) -> bool:
    """Block until the process is gone (or a zombie); True if it ended within ``timeout`` seconds."""
    if not alive(pid, started):
        return True
    try:
        fd = os.pidfd_open(pid)
    except (ProcessLookupError, OSError):
        return True
    try:
        if not alive(pid, started):
            return True
        r, _, _ = select.select([fd], [], [], timeout)
        return bool(r) or not alive(pid, started)
    finally:
        os.close(fd)
