"""The processes of a container as ``docker top`` shows them by default (``ps -ef`` columns).

Read straight from /proc (no ps, no psutil): UID PID PPID C STIME TTY TIME CMD.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

TOP_TITLES: tuple[str, ...] = ("UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD")

_CLK_TCK = os.sysconf("SC_CLK_TCK")


def _host_users() -> dict[int, str]:
    """uid -> name from the host's /etc/passwd (read as data: no NSS modules are loaded)."""
    users: dict[int, str] = {}
    try:
        with open("/etc/passwd", encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.split(":")
                if len(parts) >= 3 and parts[2].isdigit():
                    users.setdefault(int(parts[2]), parts[0])
    except OSError:
        pass
    return users


def _boot_time() -> float:
    with open("/proc/stat", "rb") as f:
        for line in f:
            if line.startswith(b"btime "):
                return float(line.split()[1])
    return 0.0


def _uptime() -> float:
    with open("/proc/uptime", "rb") as f:
        return float(f.read().split()[0])


def tty_name(tty_nr: int) -> str:
    """The terminal name ps prints for a /proc/<pid>/stat tty_nr (``pts/0``, ``tty1``, ``?``)."""
    if tty_nr == 0:
        return "?"
    major = (tty_nr >> 8) & 0xFFF
    minor = (tty_nr & 0xFF) | ((tty_nr >> 12) & 0xFFF00)
    if 136 <= major <= 143:
        return f"pts/{(major - 136) * 256 + minor}"
    if major == 4:
        return f"tty{minor}" if minor < 64 else f"ttyS{minor - 64}"
    if major == 5 and minor == 0:
        return "tty"
    if major == 5 and minor == 1:
        return "console"
    return "?"


def format_cpu_time(seconds: int) -> str:
    """ps's TIME: ``HH:MM:SS``, with a ``D-`` prefix past a day."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}-{text}" if days else text


def format_start(started: float, now: float) -> str:
    """ps's STIME: ``HH:MM`` today, ``MonDD`` this year, else the year."""
    start = time.localtime(started)
    current = time.localtime(now)
    if now - started < 24 * 3600 and start.tm_yday == current.tm_yday:
        return time.strftime("%H:%M", start)
    if start.tm_year == current.tm_year:
        return time.strftime("%b%d", start)
    return str(start.tm_year)


def _process_row(pid: int, users: dict[int, str], boot: float, uptime: float, now: float) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("utf-8", "replace")
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
        with open(f"/proc/{pid}/status", "rb") as f:
            status = f.read().decode("utf-8", "replace")
    except OSError:
        return None  # exited meanwhile
    comm = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    ppid, tty_nr = int(fields[1]), int(fields[4])
    utime, stime, start_ticks = int(fields[11]), int(fields[12]), int(fields[19])
    uid = 0
    for line in status.splitlines():
        if line.startswith("Uid:"):
            uid = int(line.split()[1])
            break
    name = users.get(uid)
    user = name if name is not None and len(name) <= 8 else str(uid)
    cpu_seconds = (utime + stime) / _CLK_TCK
    elapsed = uptime - start_ticks / _CLK_TCK
    c = min(99, int(cpu_seconds * 100 / elapsed)) if elapsed > 0 else 0
    args = [a.decode("utf-8", "replace") for a in cmdline.split(b"\0") if a]
    cmd = " ".join(args) if args else f"[{comm}]"
    return [
        user,
        str(pid),
        str(ppid),
        str(c),
        format_start(boot + start_ticks / _CLK_TCK, now),
        tty_name(tty_nr),
        format_cpu_time(int(cpu_seconds)),
        cmd,
    ]


def top(pids: Iterable[int]) -> tuple[list[str], list[list[str]]]:
    """``docker top``'s default table for these processes: (titles, rows sorted by PID).

    Processes that exit while being read are left out.
    """
    users = _host_users()
    boot, uptime, now = _boot_time(), _uptime(), time.time()
    rows = []
    for pid in sorted(set(pids)):
        row = _process_row(pid, users, boot, uptime, now)
        if row is not None:
            rows.append(row)
    return list(TOP_TITLES), rows
