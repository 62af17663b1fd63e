"""``docker top``: the processes of a container, as ``ps -ef`` shows them or as the host's ps shows them.

Without ps options the table has ``ps -ef``'s columns (UID PID PPID C STIME TTY TIME CMD), read through
psutil. With options, the host's ps runs as Docker's daemon runs it: the options split on spaces, then
``-q`` and the container's PIDs (and once more without ``-q`` if ps refuses it, as it does with ``f``); the
header gives the titles, the rows of the container's PIDs are kept (with the ``-`` rows of their threads),
and the last column takes the rest of the line.

psutil is imported here only: nothing on the path of a start loads this module.
"""

from __future__ import annotations

import os
import pwd
import re
import subprocess
import time
from collections.abc import Iterable, Sequence

import psutil

from ..errors import InvalidArgument, RuntimeFailure
from ..model.reports import TopResult

PS_EF_TITLES = ("UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD")

_CLK_TCK = os.sysconf("SC_CLK_TCK")
# Go's \s and the separators of Docker's field split: ASCII blanks only (no \v, no Unicode spaces).
_FIELD = re.compile(r"[^\t\n\f\r ]+")
# Renaming a column to PID (``-o user=PID``) would fool the parser: Docker refuses all but ``pid=PID...``.
_RENAMED_PID = re.compile(r"[\t\n\f\r ]+([^\t\n\f\r ]*)=[\t\n\f\r ]*(PID[^\t\n\f\r ]*)")


def fields(line: str) -> list[str]:
    """The words of a line of ps's output, split as Docker splits them."""
    return _FIELD.findall(line)


# --- ps -ef, through psutil -------------------------------------------------------------------------------


def format_cpu_time(seconds: int) -> str:
    """ps's TIME: ``HH:MM:SS``, with a ``D-`` prefix past a day."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}-{text}" if days else text


def format_start(started: float, now: float) -> str:
    """ps's STIME: ``HH:MM`` on the day of ``now``, ``MonDD`` in its year, else the year."""
    start, current = time.localtime(started), time.localtime(now)
    if start.tm_year != current.tm_year:
        return str(start.tm_year)
    if start.tm_yday != current.tm_yday:
        return time.strftime("%b%d", start)
    return time.strftime("%H:%M", start)


def user_name(uid: int) -> str:
    """ps's UID column: the name, cut to 7 characters and ``+`` past 8; the number if it has no name."""
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)
    return name if len(name) <= 8 else name[:7] + "+"


def _ticks(seconds: float) -> int:
    """Clock ticks back from psutil's seconds (it divides /proc's ticks by the tick rate)."""
    return round(seconds * _CLK_TCK)


def _start_ticks(pid: int, fallback: float) -> float:
    """When ``pid`` started, in clock ticks since boot (/proc/PID/stat's 22nd field, as ps reads it)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return float(f.read().rpartition(b")")[2].split()[19])
    except (OSError, IndexError, ValueError):
        return _ticks(fallback)


def _ps_ef_row(p: psutil.Process, boot: float, uptime: float, now: float) -> tuple[str, ...]:
    with p.oneshot():
        uid = p.uids().effective
        ppid = p.ppid()
        cpu = p.cpu_times()
        started = p.create_time()
        terminal = p.terminal()
        name = p.name()
        zombie = p.status() == psutil.STATUS_ZOMBIE
        args = [] if zombie else p.cmdline()  # a zombie has none (psutil raises)
    cpu_ticks = _ticks(cpu.user) + _ticks(cpu.system)
    # C as ps computes it: CPU time over the time since the process started (from the boot clock), in percent;
    # the start in clock ticks as the kernel gives it (psutil's start time goes through a boot time of its own)
    lived = uptime * _CLK_TCK - _start_ticks(p.pid, started - boot)
    c = min(99, int(cpu_ticks * 100 / lived)) if lived > 0 else 0
    cmd = " ".join(args) if args else f"[{name}]"
    if zombie:
        cmd += " <defunct>"
    # ps shows a newline as a space and other control characters as ?
    cmd = "".join(ch if ch.isprintable() else "?" for ch in cmd.replace("\n", " "))
    return (
        user_name(uid),
        str(p.pid),
        str(ppid),
        str(c),
        format_start(started, now),
        terminal.removeprefix("/dev/") if terminal else "?",
        format_cpu_time(cpu_ticks // _CLK_TCK),
        " ".join(fields(cmd)),  # as Docker's parse of ps's line leaves it
    )


def ps_ef(pids: Iterable[int]) -> TopResult:
    """``docker top``'s default table for these processes, by PID; those that exit meanwhile are left out."""
    with open("/proc/uptime", "rb") as f:  # read as ps reads it, to the hundredth of a second (not in psutil)
        uptime = float(f.read().split()[0])
    boot, now = psutil.boot_time(), time.time()
    rows = []
    for pid in sorted(set(pids)):
        try:
            rows.append(_ps_ef_row(psutil.Process(pid), boot, uptime, now))
        except psutil.NoSuchProcess:
            continue
    return TopResult(PS_EF_TITLES, rows)


# --- the host's ps with the caller's options --------------------------------------------------------------


def validate_ps_args(ps_args: str) -> None:
    for key, value in _RENAMED_PID.findall(ps_args):
        if key != "pid":
            raise InvalidArgument(f'specifying "{key}={value}" is not allowed')


def _run_ps(args: list[str]) -> tuple[bytes | None, str]:
    """ps's output, or None and why it failed (the first line ps wrote to stderr)."""
    # As on a daemon, ps has no terminal: COLUMNS (of the caller's terminal) must not cut its lines.
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    try:
        p = subprocess.run(["ps", *args], capture_output=True, stdin=subprocess.DEVNULL, env=env)
    except OSError as e:
        return None, f'exec: "ps": {e.strerror}'
    if p.returncode == 0:
        return p.stdout, ""
    first = p.stderr.decode("utf-8", "replace").split("\n", 1)[0]
    return None, first or f"exit status {p.returncode}"


def parse_ps_output(output: str, pids: Sequence[int]) -> TopResult:
    """The rows of ``pids`` in ps's output; a thread row (PID ``-``, from ``m``) follows its process."""
    lines = output.split("\n")
    titles = tuple(fields(lines[0]))
    if "PID" not in titles:
        raise RuntimeFailure("Couldn't find PID field in ps output")
    at, last = titles.index("PID"), len(titles) - 1
    wanted = set(pids)
    rows: list[tuple[str, ...]] = []
    keep = False
    for line in lines[1:]:
        cells = fields(line)
        if len(cells) <= at:
            continue
        pid = cells[at]
        if pid != "-":
            if not re.fullmatch(r"[+-]?[0-9]+", pid):  # what Go's strconv.Atoi takes
                raise RuntimeFailure(
                    f"Unexpected pid '{pid}': strconv.Atoi: parsing \"{pid}\": invalid syntax"
                )
            keep = int(pid) in wanted
        if keep:
            rows.append((*cells[:last], " ".join(cells[last:])))
    return TopResult(titles, rows)


def ps(pids: Sequence[int], ps_args: str) -> TopResult:
    """The host's ps run with ``ps_args`` (split on spaces), its rows narrowed to ``pids``."""
    args = ps_args.split(" ")
    output, _ = _run_ps([*args, "-q" + ",".join(map(str, pids))])
    if output is None:
        output, why = _run_ps(args)
        if output is None:
            raise RuntimeFailure(f"ps: {why}")
    return parse_ps_output(output.decode("utf-8", "replace"), pids)
