"""docker top's default table, read from /proc, checked against ps -ef."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from engine.runtime.top import TOP_TITLES, format_cpu_time, format_start, top, tty_name


def test_titles_are_ps_ef_columns() -> None:
    titles, rows = top([])
    assert titles == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"] == list(TOP_TITLES)
    assert rows == []


def test_tty_names() -> None:
    assert tty_name(0) == "?"
    assert tty_name((136 << 8) | 0) == "pts/0"
    assert tty_name((136 << 8) | 5) == "pts/5"
    assert tty_name((4 << 8) | 1) == "tty1"
    assert tty_name((4 << 8) | 64) == "ttyS0"
    assert tty_name((5 << 8) | 1) == "console"


def test_cpu_time_and_start_formats() -> None:
    assert format_cpu_time(0) == "00:00:00"
    assert format_cpu_time(3661) == "01:01:01"
    assert format_cpu_time(90000) == "1-01:00:00"
    now = time.time()
    assert format_start(now - 60, now) == time.strftime("%H:%M", time.localtime(now - 60))
    assert format_start(now - 400 * 86400, now) == str(time.localtime(now - 400 * 86400).tm_year)


def test_a_child_process_row() -> None:
    p = subprocess.Popen(["sleep", "30"])
    try:
        titles, rows = top([p.pid, os.getpid()])
        assert [int(r[1]) for r in rows] == sorted([p.pid, os.getpid()])
        row = next(r for r in rows if r[1] == str(p.pid))
        assert row[2] == str(os.getpid())
        assert row[7] == "sleep 30"
        assert row[6] == "00:00:00"
        if os.geteuid() == 0:
            assert row[0] == "root"
    finally:
        p.kill()
        p.wait()


def test_exited_processes_are_left_out() -> None:
    p = subprocess.Popen(["true"])
    p.wait()
    assert top([p.pid])[1] == []


def test_kernel_thread_shows_its_name_in_brackets() -> None:
    rows = top([2])[1]
    if rows:  # pid 2 is kthreadd on the host's pid namespace
        assert rows[0][7].startswith("[") and rows[0][7].endswith("]")


@pytest.mark.skipif(shutil.which("ps") is None, reason="needs procps ps")
def test_matches_ps_ef() -> None:
    p = subprocess.Popen(["sleep", "30"])
    try:
        ps = subprocess.run(["ps", "-f", "-p", str(p.pid)], capture_output=True, text=True, check=True)
        fields = ps.stdout.splitlines()[1].split(None, 7)
        row = top([p.pid])[1][0]
        assert row[:3] == fields[:3]  # UID PID PPID
        assert row[5:] == fields[5:]  # TTY TIME CMD
        assert row[4] == fields[4]  # STIME
    finally:
        p.kill()
        p.wait()
