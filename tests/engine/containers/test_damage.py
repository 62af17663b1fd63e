"""One damaged container record never takes down the rest: a garbled config shows as Dead and can be removed,
a garbled name index is rebuilt from the containers' own records, a running container whose state file was
lost is found again through its processes and can be stopped."""

from __future__ import annotations

import os
import time

import pytest

from engine.kernel.procinfo import alive


def _garble(path: str, at: int | None = None) -> None:
    data = bytearray(open(path, "rb").read())
    i = len(data) // 2 if at is None else at
    data[i] = ord("\x07")  # a control character inside a string, or junk between tokens: not JSON
    open(path, "wb").write(bytes(data))


def _cpath(root: str, cid: str, name: str) -> str:
    return os.path.join(root, "containers", cid, name)


def test_a_garbled_config_is_one_dead_container_and_the_rest_keep_working(cli, busybox, root) -> None:
    bad = cli("create", "--name", "bad", "--network", "none", busybox, "true").out.strip()
    good = cli("create", "--name", "good", "--network", "none", busybox, "true").out.strip()
    _garble(_cpath(root, bad, "config.json"))

    ps = cli("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.Status}}")
    assert "Traceback" not in ps.err
    lines = dict(line.split(" ", 1) for line in ps.out.splitlines())
    assert lines[bad].startswith("bad Dead")
    assert lines[good].startswith("good ")
    assert cli("inspect", "good").code == 0
    r = cli.fails("inspect", "bad", code=1)
    assert "config.json is damaged" in r.err and "Traceback" not in r.err
    cli("start", "good")
    cli("rm", "-f", "bad")
    assert not os.path.exists(os.path.join(root, "containers", bad))
    assert cli("ps", "-aq", "--no-trunc").out.split() == [good]
    cli("create", "--name", "bad", "--network", "none", busybox, "true")  # the name is free again


def _replace_entry(path: str, how: str) -> None:
    os.unlink(path)
    if how == "file":
        with open(path, "w") as f:
            f.write('{"good": "')
    elif how == "dir":
        os.mkdir(path)
    else:
        os.symlink(how, path)


@pytest.mark.parametrize(
    "how",
    ["file", "dir", "../../etc", "../" + "zz" * 32, "/proc/self"],
    ids=["file", "dir", "up", "not-an-id", "abs"],
)
def test_a_damaged_name_index_is_rebuilt_from_the_records(cli, busybox, root, how) -> None:
    cid = cli("create", "--name", "good", "--network", "none", busybox, "true").out.strip()
    _replace_entry(os.path.join(root, "containers", "names", "good"), how)
    assert cli("inspect", "-f", "{{.Id}}", "good").out.strip() == cid
    assert cli("ps", "-a", "--format", "{{.Names}}").out.split() == ["good"]
    r = cli.fails("create", "--name", "good", "--network", "none", busybox, "true", code=125)
    assert "already in use" in r.err
    found = cli.fails("system", "check", code=1)
    assert "name index" in found.out and "containers/names" in found.out
    assert "rebuilt" in cli("system", "check", "--repair").out
    assert cli("system", "check").out.strip().endswith("\nok")  # after a line on what the quarantine holds
    cli("run", "--rm", "--name", "other", "--network", "none", busybox, "true")
    assert cli("ps", "-a", "--format", "{{.Names}}").out.split() == ["good"]


def test_a_running_container_whose_state_was_lost_is_found_and_stopped(cli, busybox, root) -> None:
    cid = cli("run", "-d", "--name", "sleeper", "--network", "none", busybox, "sleep", "300").out.strip()
    state = _cpath(root, cid, "state.json")
    before = __import__("json").load(open(state))
    with open(state, "r+") as f:
        f.truncate(17)

    assert cli("inspect", "-f", "{{.State.Status}} {{.State.Pid}}", "sleeper").out.split() == [
        "running",
        str(before["pid"]),
    ]
    assert os.listdir(os.path.join(root, "quarantine"))  # the damaged file is kept, not deleted
    assert cli("stop", "-t", "1", "sleeper").out.strip() == "sleeper"
    deadline = time.monotonic() + 10
    while alive(before["shim_pid"], before["shim_start"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(before["pid"], before["pid_start"])
    assert not alive(before["shim_pid"], before["shim_start"])
    assert cli("inspect", "-f", "{{.State.Status}}", "sleeper").out.strip() == "exited"


def test_a_stopped_container_whose_state_was_lost_shows_exited(cli, busybox, root) -> None:
    cid = cli("run", "--name", "done", "--network", "none", busybox, "echo", "hi").out
    cid = cli("inspect", "-f", "{{.Id}}", "done").out.strip()
    os.unlink(_cpath(root, cid, "state.json"))
    ps = cli("ps", "-a", "--format", "{{.Names}} {{.Status}}").out
    assert ps.startswith("done Exited (255)")
    cli("start", "-a", "done")
    assert cli("logs", "done").out.split() == ["hi", "hi"]


@pytest.mark.parametrize("how", ["missing", "a-file", "older-root"])
def test_a_missing_name_index_is_made_again_from_the_records(cli, busybox, root, how) -> None:
    """The index gone, a file in its place, or a root from before it (its names in names.json): the first
    look-up makes it again from the containers' configs, whatever names.json held."""
    import json
    import shutil

    cid = cli("create", "--name", "good", "--network", "none", busybox, "true").out.strip()
    index = os.path.join(root, "containers", "names")
    shutil.rmtree(index)
    if how == "a-file":
        with open(index, "w") as f:
            f.write("garbage")
    if how == "older-root":
        with open(os.path.join(root, "containers", "names.json"), "w") as f:
            json.dump({"good": cid, "stale": "cd" * 32}, f)
    assert cli("inspect", "-f", "{{.Id}}", "good").out.strip() == cid
    assert os.readlink(os.path.join(index, "good")) == "../" + cid
    assert os.listdir(index) == ["good"]
    assert not os.path.exists(os.path.join(root, "containers", "names.json"))
    r = cli.fails("create", "--name", "good", "--network", "none", busybox, "true", code=125)
    assert "already in use" in r.err
    cli("create", "--name", "stale", "--network", "none", busybox, "true")
    assert cli("system", "check").out.strip().endswith("ok")
