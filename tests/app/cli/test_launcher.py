"""The ``dockyard`` command make writes: Python without ``site``, finding this project and its packages."""

from __future__ import annotations

import os
import subprocess
import sysconfig

from app import launcher


def test_the_command_runs_without_site_and_finds_everything(tmp_path) -> None:
    path = str(tmp_path / "dockyard")
    launcher.install(path)
    assert os.access(path, os.X_OK)
    with open(path) as f:
        text = f.read()
    assert text.splitlines()[0].endswith(" -S")
    assert repr(sysconfig.get_paths()["purelib"]) in text  # rich and Textual stay reachable
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("dockyard version ")
    probe = subprocess.run(
        [path, "ps", "-a"],
        capture_output=True,
        text=True,
        env={**os.environ, "DOCKYARD_ROOT": str(tmp_path / "root")},
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.startswith("CONTAINER ID")
