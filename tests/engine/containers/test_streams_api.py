"""The container API's streams and handles, as the CLI and the app use them, on real containers: stats
records, the log index (lines read on demand, following a growing log), attach sessions and exec handles."""

from __future__ import annotations

import os
import select
import threading
import time

import pytest

from engine import (
    STATS_COLUMNS,
    AttachSession,
    Conflict,
    CreateOptions,
    ExecProcess,
    ExecPty,
    LogIndex,
    LogLine,
    StatsRecord,
)

pytestmark = pytest.mark.slow


def _run(eng, name: str, command: list[str], **kw) -> str:
    return eng.containers.run("busybox", CreateOptions(name=name, command=command, **kw)).id


def _until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_stats_streams_typed_records_of_the_containers_asked_for(engine_, busybox) -> None:
    busy = _run(engine_, "busy", ["sh", "-c", "while true; do :; done"])
    _run(engine_, "idle", ["sleep", "1000"])
    stream = engine_.containers.stats(["busy"], interval=0.3, first=0.3)
    ticks = [next(stream) for _ in range(2)]
    stream.close()
    for records in ticks:
        assert [type(r) for r in records] == [StatsRecord] and records[0].id == busy
    r = ticks[-1][0]
    assert r.name == "busy" and r.pids == 1 and r.cpu_percent > 10
    assert 0 < r.memory_usage <= r.memory_limit and 0 < r.memory_percent < 100
    row = r.display()
    assert len(row) == len(STATS_COLUMNS) and row[0] == busy[:12] and row[1] == "busy"
    assert row[2].endswith("%") and " / " in row[3] and row[7] == "1"

    every = next(engine_.containers.stats(interval=0.1, first=0.1))
    assert sorted(r.name for r in every) == ["busy", "idle"]


def test_a_stats_reader_samples_once_per_call_and_sees_containers_come_and_go(engine_, busybox) -> None:
    reader = engine_.containers.stats_reader()
    assert reader.sample() == [] and not reader.running()
    _run(engine_, "one", ["sleep", "1000"])
    reader.refresh()  # a container started: list them again
    assert [r.name for r in reader.sample()] == ["one"] and reader.running()
    engine_.containers.stop("one", timeout=0)
    _until(lambda: reader.sample() == [])  # a stopped one drops out, and the next sample lists again
    assert reader.sample() == [] and not reader.running()


def test_log_index_reads_a_containers_lines_as_typed_records(engine_, busybox) -> None:
    _run(
        engine_,
        "lg",
        ["sh", "-c", "echo one; echo two >&2; i=0; while [ $i -lt 500 ]; do echo l$i; i=$((i+1)); done"],
    )
    assert engine_.containers.wait("lg") == 0
    index = engine_.containers.log_index("lg")
    assert isinstance(index, LogIndex)
    try:
        assert index.update() == 502 and index.lines == 502 and not index.pending
        lines = [index.line(n) for n in range(index.lines)]
        assert all(isinstance(x, LogLine) for x in lines)
        # stdout in order; stderr comes through a pipe of its own, so its line may come anywhere
        assert [x.text for x in lines if x.stream == "stdout"] == ["one"] + [f"l{i}" for i in range(500)]
        assert [x.text for x in lines if x.stream == "stderr"] == ["two"]
        assert lines[0].time.endswith("Z") and lines[0].time[4] == "-" and not lines[0].cut
        texts = [x.text for x in lines]
        assert index.search("L250", 0) == texts.index("l250")
        assert index.search("two", index.lines, backwards=True) == texts.index("two")
    finally:
        index.close()


def test_log_index_follows_what_a_running_container_writes(engine_, busybox) -> None:
    _run(engine_, "fl", ["sh", "-c", "echo ready; read x; echo after $x; sleep 1000"], stdin_open=True)
    index = engine_.containers.log_index("fl")
    _until(lambda: index.update() or index.lines >= 1)
    assert index.line(0).text == "ready"
    woke = threading.Event()
    follower = index.follow(woke.set)
    session = engine_.containers.attach("fl")
    try:
        session.send_stdin(b"go\n")
        assert woke.wait(5)
        _until(lambda: index.update() or index.lines >= 2)
        assert index.line(1).text == "after go"
    finally:
        follower.stop()
        session.close()
        index.close()


def test_attach_gives_a_session_and_refuses_a_stopped_container(engine_, busybox) -> None:
    cid = _run(engine_, "att", ["sh", "-c", "while read l; do echo echo:$l; done"], stdin_open=True)
    with engine_.containers.attach("att") as session:
        assert isinstance(session, AttachSession)
        session.send_stdin(b"a\n")
        kind, data = next(session.output())
        assert (kind, data) == ("stdout", b"echo:a\n")
        session.close_stdin()
        assert list(session.output()) == []
        assert session.exit_code == 0
    assert engine_.containers.wait(cid) == 0
    with pytest.raises(Conflict, match="start it first"):
        engine_.containers.attach("att")


def test_exec_run_and_exec_pty_return_handles(engine_, busybox) -> None:
    _run(engine_, "ex", ["sleep", "1000"])
    r, w = os.pipe()
    proc = engine_.containers.exec_run(
        "ex", ["sh", "-c", "echo $X in $(pwd); exit 3"], env=["X=1"], workdir="/etc", stdout=w
    )
    os.close(w)
    assert isinstance(proc, ExecProcess)
    with os.fdopen(r, "rb") as out:
        assert out.read() == b"1 in /etc\n"
    assert proc.wait() == 3 and proc.poll() == 3

    pty = engine_.containers.exec_pty("ex", ["sh", "-c", "stty size; exit 5"], rows=33, cols=101)
    assert isinstance(pty, ExecPty) and pty.master >= 0
    seen = b""
    while b"33 101" not in seen:
        ready, _, _ = select.select([pty.master], [], [], 10)
        assert ready, seen
        try:
            chunk = os.read(pty.master, 1024)
        except OSError:  # the terminal hung up
            break
        if not chunk:
            break
        seen += chunk
    assert b"33 101" in seen
    assert pty.wait() == 5
    pty.close()
    assert pty.master == -1
