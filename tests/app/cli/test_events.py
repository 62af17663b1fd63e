"""``events`` / ``system events``: Docker's line, --filter, --since/--until and --format, with the events of
other processes, past (from the log) and followed."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import time

from tests.conftest import DOCKYARD

LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) (\w+) (\S+) ([0-9a-f]{64}|\S+)( \((.*)\))?$"
)


def test_past_events_with_filters_and_formats(cli, busybox):
    since = f"{time.time() - 1:.3f}"
    cid = cli("run", "-d", "--name", "foo", "-l", "app=web", busybox, "sleep", "60").out.strip()
    cli("stop", "-t", "0", "foo")
    cli("rm", "foo")
    until = f"{time.time() + 0.5:.3f}"

    out = cli("events", "--since", since, "--until", until).out.splitlines()
    mine = [LINE.match(line) for line in out if cid in line]
    assert all(mine), out
    actions = [m.group(3) for m in mine if m]
    for a, b in zip(
        ["create", "start", "die", "stop", "destroy"], ["start", "die", "stop", "destroy", None], strict=True
    ):
        assert a in actions and (b is None or actions.index(a) < actions.index(b)), actions
    start = next(line for line in out if " container start " in line)
    assert start.endswith(f"container start {cid} (app=web, image={busybox}, name=foo)")
    die = next(line for line in out if " container die " in line)
    assert "exitCode=137" in die and "name=foo" in die

    def events(*args: str) -> list[str]:
        return cli("events", "--since", since, "--until", until, *args).out.splitlines()

    assert [line.split()[2] for line in events("--filter", "event=start")] == ["start"]
    assert [
        line.split()[2] for line in events("-f", "container=foo", "-f", "event=die", "-f", "event=destroy")
    ] == [
        "die",
        "destroy",
    ]
    assert len(events("--filter", f"container={cid[:12]}")) == len(mine)
    assert len(events("--filter", "label=app=web")) == len(mine)
    assert events("--filter", "label=app=db") == []
    assert events("--filter", "image=busybox", "--filter", "event=create")[0].split()[3] == cid
    assert events("--filter", "type=volume") == []
    assert events("--filter", "type=network", "--filter", "type=volume") == []
    assert events("--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}", "-f", "event=stop") == [
        "container stop foo"
    ]
    docs = [json.loads(line) for line in events("--format", "json", "--filter", "event=die")]
    assert docs[0]["Type"] == "container" and docs[0]["Actor"]["ID"] == cid
    assert docs[0]["Actor"]["Attributes"] == {
        "app": "web",
        "exitCode": "137",
        "image": busybox,
        "name": "foo",
    }
    assert docs[0]["timeNano"] // 10**9 == docs[0]["time"] and docs[0]["status"] == "die"
    # the same through ``system events``, and with a duration: Docker's relative times, whole seconds (so
    # ``--until 0s`` ends at the start of this second: the destroy must be in an earlier one)
    time.sleep(1.0)
    assert (
        cli("system", "events", "--since", "1m", "--until", "0s", "-f", "event=destroy").out.count("destroy")
        == 1
    )
    assert cli("events", "--until", "0s", "-f", "event=destroy").out.count("destroy") == 1  # past only: ends

    assert cli.fails("events", "--filter", "foo=bar", code=1).err == "Error: invalid filter 'foo'\n"
    assert "failed to parse value as time or duration" in cli.fails("events", "--since", "yesterday").err
    assert "cannot be after" in cli.fails("events", "--since", "0s", "--until", "1h").err


def _follower(cli, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [DOCKYARD, "events", *args],
        env={**os.environ, "DOCKYARD_ROOT": cli.root},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )


def _read_line(p: subprocess.Popen[bytes], timeout: float = 10) -> str:
    assert p.stdout is not None
    ready, _, _ = select.select([p.stdout], [], [], timeout)
    assert ready, "no event line came"
    return p.stdout.readline().decode()


def test_follow_sees_another_process_and_stops_quietly(cli, busybox):
    since = f"{time.time():.3f}"
    p = _follower(cli, "--since", since, "--filter", "event=create", "--format", "{{.Actor.Attributes.name}}")
    try:
        cli("create", "--name", "followed", busybox, "true")  # another process
        assert _read_line(p) == "followed\n"
        cli("create", "--name", "second", busybox, "true")
        assert _read_line(p) == "second\n"
        assert p.poll() is None  # following, until it is interrupted
        p.send_signal(signal.SIGINT)
        assert p.wait(10) == 0
        assert p.stderr is not None and p.stderr.read() == b""
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_until_in_the_future_stops_then(cli, busybox):
    p = _follower(cli, "--until", f"{time.time() + 2:.3f}", "--filter", "type=container")
    try:
        time.sleep(0.3)
        cid = cli("create", "--name", "late", busybox, "true").out.strip()
        line = _read_line(p)
        assert line.split()[1:4] == ["container", "create", cid]
        assert p.wait(10) == 0  # the stream ends at --until
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
