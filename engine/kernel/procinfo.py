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


def pids_in_cgroup(leaf: str) -> list[int]:
    """Every process whose cgroup (in any hierarchy) is a directory named ``leaf``: read from /proc, for when
    no record says where that cgroup is (a container whose state file was lost)."""
    want = leaf.encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cgroup", "rb") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        if any(line.rpartition(b":")[2].rstrip(b"/").rpartition(b"/")[2] == want for line in lines):
            found.append(int(entry))
    return found


def status_field(pid: int, name: str) -> str:
    """One field of /proc/PID/status (``PPid``, ``NSpid``...); "" when the process or field is not there."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                key, _, value = line.partition(b":")
                if key.decode() == name:
                    return value.decode().strip()
    except OSError:
        pass
    return ""


def namespace_init(pids: list[int]) -> int:
    """The one of ``pids`` that is PID 1 of its own PID namespace (0 when none is)."""
    for pid in pids:
        nspids = status_field(pid, "NSpid").split()
        if len(nspids) > 1 and nspids[-1] == "1":
            return pid
    return 0


def started_at(pid: int) -> float:
    """When ``pid`` started, in seconds since the epoch (0.0 when it does not exist)."""
    ticks = start_time(pid)
    if not ticks:
        return 0.0
    try:
        with open("/proc/stat", "rb") as f:
            btime = next(int(line.split()[1]) for line in f if line.startswith(b"btime "))
    except (OSError, StopIteration, ValueError):
        return 0.0
    return btime + ticks / os.sysconf("SC_CLK_TCK")
