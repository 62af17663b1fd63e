"""The json-file log's rotation (``--log-opt max-size=.. max-file=.. compress=..``) and ``--log-driver none``:
the writer keeps at most max-file files of at most max-size, and every reader (``logs``, ``--tail``,
``-f`` across rotations, the app's line index) sees the lines of all the files, in order, once each."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import threading
import time

import pytest

from engine import CreateOptions, InvalidArgument
from engine.runtime.logfile import LogWriter, Rotation, log_config, parse_size, rotation
from engine.runtime.logindex import LogIndex
from engine.runtime.logread import entries
from tests.conftest import DOCKYARD

# A container printing N numbered lines of ~100 bytes, in bursts with pauses (so that ``logs -f`` keeps up
# with it, as a reader must to lose nothing when files are deleted), after a pause of its own.
_WRITER = (
    "sleep {pause}; i=0; while [ $i -lt {n} ]; do "
    'echo "line $i $(printf %080d 0)"; i=$((i+1)); '
    "if [ $((i % 200)) -eq 0 ]; then usleep 20000; fi; done"
)


def _numbers(texts: list[str]) -> list[int]:
    return [int(t.split()[1]) for t in texts if t.startswith("line ")]


def _files(path: str) -> list[str]:
    return sorted(glob.glob(path + "*"))


# -- the writer and the readers, on files ---------------------------------------------------------------
def _write(writer: LogWriter, first: int, count: int) -> None:
    for i in range(first, first + count):
        writer.write("stdout", f"line {i} {'x' * 80}\n".encode())


def test_the_writer_keeps_max_file_files_of_max_size_and_readers_see_them_in_order(tmp_path) -> None:
    path = str(tmp_path / "c-json.log")
    writer = LogWriter(path, Rotation(max_size=10_000, max_file=3))
    _write(writer, 0, 1000)  # ~150 kB: many rotations
    writer.close()
    names = _files(path)
    assert names == [path, path + ".1", path + ".2"]
    for name in names:
        assert 0 < os.path.getsize(name) <= 10_000
        with open(name) as f:
            assert all(json.loads(x)["stream"] == "stdout" for x in f)
    texts = [e.data.decode() for e in entries(path)]
    got = _numbers(texts)
    assert got == list(range(got[0], 1000)) and len(got) > 100  # the last lines, without a gap
    assert _numbers([e.data.decode() for e in entries(path, tail=100)]) == list(range(900, 1000))
    assert list(entries(path, tail=0)) == []
    index = LogIndex(path)
    try:
        assert index.update() == len(got)
        assert [index.line(n).text for n in range(index.lines)] == [t.rstrip("\n") for t in texts]
        assert index.search("line 999 ", 0) == index.lines - 1
        assert index.search(f"line {got[0]} ", index.lines, backwards=True) == 0
    finally:
        index.close()


def test_max_file_1_begins_the_file_anew(tmp_path) -> None:
    path = str(tmp_path / "c-json.log")
    writer = LogWriter(path, Rotation(max_size=2_000, max_file=1))
    _write(writer, 0, 100)
    writer.close()
    assert _files(path) == [path] and os.path.getsize(path) <= 2_000
    assert _numbers([e.data.decode() for e in entries(path)])[-1] == 99


def test_compressed_rotated_files_are_read_like_the_others(tmp_path) -> None:
    path = str(tmp_path / "c-json.log")
    writer = LogWriter(path, Rotation(max_size=10_000, max_file=4, compress=True))
    _write(writer, 0, 500)
    writer.close()  # waits for the last file's compression
    assert _files(path) == [path, path + ".1.gz", path + ".2.gz", path + ".3.gz"]
    got = _numbers([e.data.decode() for e in entries(path)])
    assert got == list(range(got[0], 500)) and len(got) > 150
    assert _numbers([e.data.decode() for e in entries(path, tail=120)]) == list(range(380, 500))
    index = LogIndex(path)
    try:
        index.update()
        assert _numbers([index.line(n).text for n in range(index.lines)]) == got
    finally:
        index.close()


@pytest.mark.parametrize("compress", [False, True])
def test_readers_follow_the_log_across_rotations_without_losing_or_repeating_a_line(
    tmp_path, compress: bool
) -> None:
    path = str(tmp_path / "c-json.log")
    writer = LogWriter(path, Rotation(max_size=8_000, max_file=3, compress=compress))
    _write(writer, 0, 10)
    done = threading.Event()
    seen: list[int] = []
    follower = threading.Thread(
        target=lambda: seen.extend(
            _numbers([e.data.decode() for e in entries(path, None, lambda: not done.is_set())])
        )
    )
    follower.start()
    index = LogIndex(path)
    index.update()
    indexed = _numbers([index.line(n).text for n in range(index.lines)])
    for block in range(40):
        _write(writer, 10 + block * 25, 25)  # ~3.7 kB: a rotation every other block
        time.sleep(0.01)
        before = index.generation
        index.update()
        lines = _numbers([index.line(n).text for n in range(index.lines)])
        if index.generation == before:
            assert lines[: len(indexed)] == indexed  # what it had is still where it was
        assert lines == list(range(lines[0], 10 + (block + 1) * 25))  # in order, no gap, to the last line
        indexed = lines
    writer.close()
    done.set()
    follower.join(10)
    index.close()
    assert seen == list(range(1010))


def test_options_are_read_as_docker_reads_them(tmp_path) -> None:
    assert [parse_size(s) for s in ("100", "100k", "10m", "10MB", "10MiB", "1.5g", "2 k", "7b")] == [
        100,
        100_000,
        10_000_000,
        10_000_000,
        10_000_000,
        1_500_000_000,
        2_000,
        7,
    ]
    assert rotation({"max-size": "1m", "max-file": "3", "compress": "true"}) == Rotation(10**6, 3, True)
    assert rotation({}) == Rotation(0, 1, False)
    assert rotation({"max-file": "3"}).max_size == 0  # accepted, as by Docker: without max-size, no rotation
    refused = {
        "max-size=abc": "invalid size: 'abc'",
        "max-size=10x": "invalid size: '10x'",
        "max-size=-1": "invalid size: '-1'",
        "max-size=0": "max-size must be a positive number",
        "max-size=1m max-file=x": 'strconv.Atoi: parsing "x": invalid syntax',
        "max-size=1m max-file=0": "max-file cannot be less than 1",
        "max-size=1m compress=yes": 'strconv.ParseBool: parsing "yes": invalid syntax',
        "max-size=1m compress=true": "compress cannot be true when max-file is less than 2",
        "max-size=1m foo=1": "unknown log opt 'foo' for json-file log driver",
    }
    for opts, message in refused.items():
        with pytest.raises(InvalidArgument, match=message.replace("(", r"\(")):
            log_config(str(tmp_path), "json-file", dict(o.split("=") for o in opts.split()))
    with pytest.raises(InvalidArgument, match="logger: no log driver named 'syslog' is registered"):
        log_config(str(tmp_path), "syslog", {})
    with pytest.raises(InvalidArgument, match="invalid logging opts for driver none"):
        log_config(str(tmp_path), "none", {"max-size": "1m"})
    assert log_config(str(tmp_path), "", {}) == ("json-file", {})


def test_the_root_may_set_a_default_as_dockers_daemon_json_does(tmp_path) -> None:
    with open(tmp_path / "daemon.json", "w") as f:
        json.dump({"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}}, f)
    assert log_config(str(tmp_path), "", {}) == ("json-file", {"max-size": "10m", "max-file": "3"})
    assert log_config(str(tmp_path), "", {"max-file": "5"}) == (
        "json-file",
        {"max-size": "10m", "max-file": "5"},
    )
    assert log_config(str(tmp_path), "none", {}) == ("none", {})
    with open(tmp_path / "daemon.json", "w") as f:
        f.write('{"log-opts": ')
    with pytest.raises(InvalidArgument, match="daemon.json"):
        log_config(str(tmp_path), "", {})


# -- real containers ------------------------------------------------------------------------------------------
slow = pytest.mark.slow


def _log_path(cli, name: str) -> str:
    return json.loads(cli("inspect", name).out)[0]["LogPath"]


@slow
def test_a_container_writing_a_megabyte_keeps_three_files_of_100k(cli, busybox) -> None:
    n = 10_000
    cli(
        "run", "--name", "chatty", "--log-opt", "max-size=100k", "--log-opt", "max-file=3",
        busybox, "sh", "-c", _WRITER.format(pause=0, n=n),
    )  # fmt: skip
    path = _log_path(cli, "chatty")
    names = _files(path)
    assert names == [path, path + ".1", path + ".2"]
    longest = max(len(x) for name in names for x in open(name, "rb"))
    for name in names:
        assert os.path.getsize(name) <= 100_000 + longest
    out = cli("logs", "chatty").out.splitlines()
    got = _numbers(out)
    assert got == list(range(got[0], n)) and 1000 < len(got) < 3000  # the last ~300 kB, in order, no gap
    tail = _numbers(cli("logs", "--tail", "1000", "chatty").out.splitlines())
    assert tail == list(range(n - 1000, n))  # ~165 kB: from a rotated file on
    config = json.loads(cli("inspect", "chatty").out)[0]["HostConfig"]["LogConfig"]
    assert config == {"Type": "json-file", "Config": {"max-size": "100k", "max-file": "3"}}


@slow
def test_logs_follow_sees_every_line_once_across_rotations(cli, busybox, root) -> None:
    n = 6_000
    cli(
        "run", "-d", "--name", "flw", "--log-opt", "max-size=50k", "--log-opt", "max-file=3",
        busybox, "sh", "-c", _WRITER.format(pause=1, n=n),
    )  # fmt: skip
    env = {**os.environ, "DOCKYARD_ROOT": root}
    p = subprocess.Popen([DOCKYARD, "logs", "-f", "flw"], env=env, stdout=subprocess.PIPE, text=True)
    out = p.communicate(timeout=60)[0]  # ends when the container does
    assert p.returncode == 0
    assert _numbers(out.splitlines()) == list(range(n))
    assert len(_files(_log_path(cli, "flw"))) == 3  # it did rotate under the follower, more than once


@slow
def test_compressed_rotation_in_a_container_and_the_apps_index(cli, busybox, engine_) -> None:
    n = 3_000
    cli(
        "run", "--name", "gz", "--log-opt", "max-size=50k", "--log-opt", "max-file=4",
        "--log-opt", "compress=true", busybox, "sh", "-c", _WRITER.format(pause=0, n=n),
    )  # fmt: skip
    path = _log_path(cli, "gz")
    assert _files(path) == [path, path + ".1.gz", path + ".2.gz", path + ".3.gz"]
    got = _numbers(cli("logs", "gz").out.splitlines())
    assert got == list(range(got[0], n)) and len(got) > 1000
    index = engine_.containers.log_index("gz")
    try:
        index.update()
        assert _numbers([index.line(k).text for k in range(index.lines)]) == got
    finally:
        index.close()


@slow
def test_bad_log_options_are_refused_and_nothing_is_made(cli, busybox, root) -> None:
    cases = {
        ("--log-opt", "max-size=lots"): "invalid size: 'lots'",
        ("--log-opt", "max-size=1m", "--log-opt", "max-file=0"): "max-file cannot be less than 1",
        ("--log-opt", "max-size=1m", "--log-opt", "compress=true"): "compress cannot be true",
        ("--log-opt", "color=blue"): "unknown log opt 'color' for json-file log driver",
        ("--log-driver", "syslog"): "logger: no log driver named 'syslog' is registered",
        ("--log-driver", "none", "--log-opt", "max-size=1m"): "invalid logging opts for driver none",
    }
    for flags, message in cases.items():
        for command in ("create", "run"):
            r = cli.fails(command, "--name", "bad", *flags, busybox, "true", code=125)
            assert message in r.err, (flags, r.err)
    assert cli("ps", "-a", "-q").out == ""
    assert [n for n in os.listdir(os.path.join(root, "containers")) if len(n) == 64] == []


@slow
def test_log_driver_none_keeps_no_log(cli, busybox, engine_) -> None:
    cli("run", "--name", "quiet", "--log-driver", "none", busybox, "sh", "-c", "echo hello")
    info = json.loads(cli("inspect", "quiet").out)[0]
    assert info["HostConfig"]["LogConfig"] == {"Type": "none", "Config": {}} and info["LogPath"] == ""
    cdir = os.path.join(engine_.layout.containers, info["Id"])
    assert not [x for x in os.listdir(cdir) if "json.log" in x]
    r = cli.fails("logs", "quiet", code=1)
    assert "configured logging driver does not support reading" in r.err
    with pytest.raises(Exception, match="configured logging driver does not support reading"):
        engine_.containers.log_index("quiet")
    # attached, the output still comes through
    assert cli("run", "--rm", "--log-driver", "none", busybox, "echo", "hi").out == "hi\n"


@slow
def test_the_api_takes_log_options(engine_, busybox) -> None:
    c = engine_.containers.run(
        busybox,
        CreateOptions(command=["true"], log_opts={"max-size": "1k", "max-file": "2"}),
    )
    assert engine_.containers.wait(c.id) == 0
    assert engine_.containers.config(c.id).log_opts == {"max-size": "1k", "max-file": "2"}
    assert engine_.containers.inspect(c.id)["HostConfig"]["LogConfig"]["Type"] == "json-file"
