"""docker top: the default table read through psutil, checked against ps -ef; the host's ps run with the
caller's options, narrowed to the container's processes; Docker's errors and table layout."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time

import pytest

from engine.errors import InvalidArgument, RuntimeFailure
from engine.model.reports import TopResult
from engine.runtime.top import (
    PS_EF_TITLES,
    format_cpu_time,
    format_start,
    parse_ps_output,
    ps_ef,
    user_name,
    validate_ps_args,
)

needs_ps = pytest.mark.skipif(shutil.which("ps") is None, reason="ps not installed (apt-get install procps)")


def host_ps(args: list[str], pids: list[int]) -> TopResult:
    """The host's ps for these processes, parsed as Docker's daemon parses it."""
    q = ",".join(map(str, sorted(pids)))
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}  # a pipe: whole lines, unless COLUMNS
    out = subprocess.run(["ps", *args, "-q", q], capture_output=True, text=True, check=True, env=env).stdout
    return parse_ps_output(out, pids)


def tabwriter(result: TopResult) -> str:
    """What Go's tabwriter.NewWriter(out, 20, 1, 3, ' ', 0) prints for docker top's lines."""
    rows = [result.titles, *result.processes]
    widths = [max(20, *(len(r[i]) + 3 for r in rows)) for i in range(len(result.titles) - 1)]
    return "".join(
        "".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + r[-1] + "\n" for r in rows
    )


# --- the default table --------------------------------------------------------------------------------------


def test_no_processes_no_rows() -> None:
    assert ps_ef([]) == TopResult(("UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"), [])
    assert PS_EF_TITLES == ps_ef([]).titles


def test_cpu_time_and_start_formats() -> None:
    assert format_cpu_time(0) == "00:00:00"
    assert format_cpu_time(3661) == "01:01:01"
    assert format_cpu_time(90000) == "1-01:00:00"
    now = time.mktime((2024, 6, 15, 12, 0, 0, 0, 0, -1))
    assert format_start(now - 60, now) == "11:59"
    assert format_start(now - 13 * 3600, now) == "Jun14"  # yesterday: the date
    assert format_start(now - 400 * 86400, now) == "2023"


def test_user_names_as_ps_prints_them() -> None:
    assert user_name(0) == "root"
    long = next((u for u in pwd.getpwall() if len(u.pw_name) > 8), None)
    if long is not None:
        assert user_name(long.pw_uid) == long.pw_name[:7] + "+"
    unknown = max(u.pw_uid for u in pwd.getpwall()) + 12345
    assert user_name(unknown) == str(unknown)


@needs_ps
def test_rows_match_ps_ef() -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    odd = subprocess.Popen(["sh", "-c", "sleep 30", "tab\there", "new\nline", "two  spaces", ""])
    zombie = subprocess.Popen(["true"])
    try:
        for _ in range(100):
            if (
                subprocess.run(["ps", "-o", "stat=", "-q", str(zombie.pid)], capture_output=True).stdout[:1]
                == b"Z"
            ):
                break
            time.sleep(0.02)
        pids = [sleeper.pid, odd.pid, zombie.pid, 2]  # pid 2: the kernel's kthreadd, when it is visible
        ours, theirs = ps_ef(pids), host_ps(["-ef"], pids)
        assert ours.titles == theirs.titles
        without_c = [r[:3] + r[4:] for r in ours.processes]  # C moves with time: test_c_column
        assert without_c == [r[:3] + r[4:] for r in theirs.processes]
        cmds = [r[7] for r in ours.processes]
        assert "sleep 30" in cmds
        assert "sh -c sleep 30 tab?here new line two spaces" in cmds
        assert "[true] <defunct>" in cmds
    finally:
        for p in (sleeper, odd):
            p.kill()
        for p in (sleeper, odd, zombie):
            p.wait()


@needs_ps
def test_c_column() -> None:
    """ps's C: CPU time over time alive. After a burst of work it only falls: ps's reading is between two of
    ours taken before and after it."""
    p = subprocess.Popen(["sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; exec sleep 30"])
    try:
        while ps_ef([p.pid]).processes[0][7] != "sleep 30":
            time.sleep(0.02)
        before = int(ps_ef([p.pid]).processes[0][3])
        theirs = int(host_ps(["-ef"], [p.pid]).processes[0][3])
        after = int(ps_ef([p.pid]).processes[0][3])
        assert before >= theirs >= after > 0
    finally:
        p.kill()
        p.wait()


def test_exited_processes_are_left_out() -> None:
    p = subprocess.Popen(["true"])
    p.wait()
    assert ps_ef([p.pid]).processes == []


# --- ps's output, parsed as Docker parses it ----------------------------------------------------------------

PS_M = """\
  PID   TID STAT COMMAND
    7     - -    sleep   1000
    -     7 S    -
    9     - -    sh -c x
    -     9 S    -
   12     - -    top
    -    12 S    -
"""


def test_parse_keeps_the_container_rows_and_their_threads() -> None:
    r = parse_ps_output(PS_M, [7, 12])
    assert r.titles == ("PID", "TID", "STAT", "COMMAND")
    assert r.processes == [
        ("7", "-", "-", "sleep 1000"),  # the last column takes the rest of the line
        ("-", "7", "S", "-"),
        ("12", "-", "-", "top"),
        ("-", "12", "S", "-"),
    ]


def test_parse_errors_in_dockers_words() -> None:
    with pytest.raises(RuntimeFailure, match="^Couldn't find PID field in ps output$"):
        parse_ps_output("COMMAND\nsleep\n", [1])
    with pytest.raises(RuntimeFailure, match="^Couldn't find PID field in ps output$"):
        parse_ps_output("", [1])
    with pytest.raises(
        RuntimeFailure, match=r"^Unexpected pid 'x': strconv.Atoi: parsing \"x\": invalid syntax$"
    ):
        parse_ps_output("PID CMD\nx sleep\n", [1])


def test_a_column_may_not_be_renamed_pid() -> None:
    validate_ps_args("-ef")
    validate_ps_args("-o pid=PID,args")
    with pytest.raises(InvalidArgument, match='^specifying "user=PID" is not allowed$'):
        validate_ps_args("-o user=PID -o pid")


# --- dockyard top on a container --------------------------------------------------------------------------


def _sleeping(cli) -> int:  # type: ignore[no-untyped-def]
    cli("run", "-d", "--name", "c1", "busybox", "sleep", "1000")
    return int(cli("inspect", "-f", "{{.State.Pid}}", "c1").out)


@needs_ps
def test_top_with_ps_options_prints_what_docker_prints(cli, busybox) -> None:  # type: ignore[no-untyped-def]
    pid = _sleeping(cli)
    out = cli("top", "c1", "-o", "pid,rss,args").out
    host = host_ps(["-o", "pid,rss,args"], [pid])
    assert host.titles == ("PID", "RSS", "COMMAND")
    assert host.processes == [(str(pid), host.processes[0][1], "sleep 1000")]
    assert out == tabwriter(host)
    assert out.splitlines()[0] == "PID                 RSS                 COMMAND"


@needs_ps
def test_top_aux_eo_and_forest(cli, busybox) -> None:  # type: ignore[no-untyped-def]
    pid = _sleeping(cli)
    titles, row = [line.split(None, 10) for line in cli("top", "c1", "aux").out.splitlines()]
    assert titles == "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND".split()
    assert row[0] == "root" and row[1] == str(pid) and row[10] == "sleep 1000"
    # -e lists every process of the host: only the container's are kept
    assert cli("top", "c1", "-eo", "pid,comm").out == tabwriter(
        TopResult(("PID", "COMMAND"), [(str(pid), "sleep")])
    )
    # ps refuses -q with a forest: run again without it, and filter
    assert cli("top", "c1", "axf", "-o", "pid,args").out.splitlines()[1:] == [f"{pid:<20}\\_ sleep 1000"]


@needs_ps
def test_top_default_table(cli, busybox, engine_) -> None:  # type: ignore[no-untyped-def]
    pid = _sleeping(cli)
    lines = cli("top", "c1").out.splitlines()
    assert lines[0] == "".join(t.ljust(20) for t in PS_EF_TITLES[:-1]) + "CMD"
    cells = lines[1].split(None, 7)
    assert cells[0] == "root" and cells[1] == str(pid) and cells[5:] == ["?", "00:00:00", "sleep 1000"]
    ours, theirs = engine_.containers.top("c1"), host_ps(["-ef"], [pid])
    assert [r[:3] + r[4:] for r in ours.processes] == [r[:3] + r[4:] for r in theirs.processes]  # but C
    assert engine_.containers.top("c1", "-o pid,args") == TopResult(
        ("PID", "COMMAND"), [(str(pid), "sleep 1000")]
    )


@needs_ps
def test_top_errors_in_dockers_words(cli, busybox) -> None:  # type: ignore[no-untyped-def]
    _sleeping(cli)
    assert cli.fails("top", "c1", "-o", "comm", code=1).err == "Error: Couldn't find PID field in ps output\n"
    assert (
        cli.fails("top", "c1", "-o", "user=PID", code=1).err
        == 'Error: specifying "user=PID" is not allowed\n'
    )
    assert cli.fails("top", "c1", "--nosuch", code=1).err.startswith("Error: ps: error: ")
    cli("run", "--name", "done", "busybox", "true")
    cid = cli("inspect", "-f", "{{.Id}}", "done").out.strip()
    assert cli.fails("top", "done", code=1).err == f"Error: container {cid} is not running\n"
    assert cli.fails("top", "done", "aux", code=1).err == f"Error: container {cid} is not running\n"
