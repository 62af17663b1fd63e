"""End to end, in tmux: what other processes do shows in the app, truthfully and at once.

A container started by a CLI running in another cgroup shows its memory in the app (the app reads the
cgroups the root records, not ones relative to its own cgroup), and an image tagged by another process
appears within a second (every store change is an event)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid

import pytest

from tests.app.tui.test_e2e_tmux import DOCKYARD, _screen, _tmux, _wait_screen
from tests.engine.runtime.cgroups.test_parent import _join, needs_sub_cgroup, other_cgroup  # noqa: F401

pytestmark = pytest.mark.slow

HOG = "echo ready; sleep 120"


@needs_sub_cgroup
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")
def test_memory_of_a_container_started_elsewhere_and_a_tag_made_elsewhere(
    root,
    busybox,
    tmp_path,
    other_cgroup,  # noqa: F811
):
    session = f"dockyard-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DOCKYARD_ROOT": root}
    command = (  # (COLUMNS and LINES, when the test's environment has them, would fix the app's size)
        f"env -u COLUMNS -u LINES DOCKYARD_CONFIG={tmp_path / 'config.toml'} TERM=xterm-256color "
        f"{DOCKYARD} --root {root}"
    )
    _tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "36", command)
    _tmux("resize-window", "-t", session, "-x", "160", "-y", "36")
    cid = ""
    try:
        _wait_screen(session, "busybox:latest")
        run = subprocess.run(
            [DOCKYARD, "run", "-d", "--name", "hog", "--network", "none", busybox, "sh", "-c", HOG],
            env=env,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
            preexec_fn=lambda: _join(other_cgroup),  # started from another cgroup than the app's
        )
        assert run.returncode == 0, run.stderr
        cid = run.stdout.decode().strip()
        deadline = time.monotonic() + 30
        while True:
            line = next((ln for ln in _screen(session).splitlines() if " hog " in f" {ln} "), "")
            if re.search(
                r"\b[1-9][0-9.]*(KiB|MiB|GiB)\b", line
            ):  # not 0B: the cgroup it reads is the right one
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"no memory figure for hog:\n{_screen(session)}")
            time.sleep(0.2)
        subprocess.run([DOCKYARD, "tag", busybox, "elsewhere:7"], env=env, check=True, capture_output=True)
        t0 = time.monotonic()
        _wait_screen(session, "elsewhere:7", timeout=5)  # (a row per tag, as docker images)
        assert time.monotonic() - t0 < 1.0
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        if cid:
            subprocess.run([DOCKYARD, "rm", "-f", cid], env=env, capture_output=True)
