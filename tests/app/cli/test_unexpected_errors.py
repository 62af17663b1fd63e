"""A bug (an exception the engine does not raise on purpose) prints one line naming the file that holds the
whole trace, under the root's logs/, and exits 125; never a raw traceback."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import DOCKYARD


def test_an_unexpected_exception_is_one_line_and_a_trace_file(root, busybox) -> None:
    p = subprocess.run(
        [DOCKYARD, "create", "--name", "web", "--network", "none", busybox],
        env={**os.environ, "DOCKYARD_ROOT": root, "DOCKYARD_FAULT": "write config.json=crash"},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert p.returncode == 125
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    assert lines[0].startswith("Error: unexpected RuntimeError: injected failure at write config.json")
    path = lines[0].rpartition("the full trace is in ")[2]
    assert path.startswith(os.path.join(root, "logs", "crash-")) and os.path.exists(path)
    trace = open(path).read()
    assert trace.startswith("command: dockyard create --name web") and "Traceback" in trace
    # nothing half-made is left: the name is free, the root is whole
    env = {**os.environ, "DOCKYARD_ROOT": root}
    check = subprocess.run([DOCKYARD, "system", "check"], env=env, capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.strip().endswith("ok"), check.stdout
    again = subprocess.run(
        [DOCKYARD, "create", "--name", "web", "--network", "none", busybox], env=env, capture_output=True
    )
    assert again.returncode == 0
