"""Docker's container listing (``Containers.summaries``, what ``GET /containers/json`` serves) from a
long-running process: records it read before are not read again while their files are unchanged, and every
change, by this process or another, shows at the next listing."""

from __future__ import annotations

import os
import re

import pytest

pytestmark = pytest.mark.slow


def _by_name(engine_) -> dict[str, dict]:
    return {d["Names"][0].lstrip("/"): d for d in engine_.containers.summaries(all=True)}


def test_listing_shows_each_change_made_by_this_process_or_another(cli, engine_, busybox):
    cli("create", "--name", "first", "--label", "k=v", "busybox", "sleep", "30")
    listed = _by_name(engine_)
    assert listed["first"]["State"] == "created" and listed["first"]["Labels"] == {"k": "v"}

    cli("rename", "first", "second")  # another process changes the files
    cli("start", "second")
    listed = _by_name(engine_)
    assert list(listed) == ["second"] and listed["second"]["State"] == "running"
    assert listed["second"]["Status"].startswith("Up")

    engine_.containers.stop("second", timeout=0)  # this process changes them
    listed = _by_name(engine_)
    assert listed["second"]["State"] == "exited" and listed["second"]["Status"].startswith("Exited (137)")

    listed = _by_name(engine_)
    listed["second"]["Labels"]["k"] = "changed by the caller"  # a caller's document is its own
    assert _by_name(engine_)["second"]["Labels"] == {"k": "v"}

    cli("rm", "second")
    assert _by_name(engine_) == {}


def test_a_state_rewritten_in_place_with_the_same_size_is_read_again(cli, engine_, busybox):
    cid = cli("run", "-d", "--name", "job", "busybox", "true").out.strip()
    cli("wait", "job")
    assert _by_name(engine_)["job"]["Status"].startswith("Exited (0)")
    path = os.path.join(engine_.layout.containers, cid, "state.json")
    with open(path) as f:
        text = f.read()
    changed = re.sub(r'("exit_code":\s*)0\b', r"\g<1>7", text, count=1)
    assert changed != text and len(changed) == len(text)
    before = os.stat(path)
    with open(path, "r+") as f:  # the same inode and size: only the times tell
        f.write(changed)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1))
    assert _by_name(engine_)["job"]["Status"].startswith("Exited (7)")
