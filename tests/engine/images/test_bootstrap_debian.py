"""``image bootstrap debian``: debootstrap from the machine's configured Debian mirror, then bash runs in it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_bootstrap_debian_and_run_bash(cli):
    r = cli("image", "bootstrap", "debian:bookworm", "-q", timeout=900)
    assert r.out.strip().startswith("sha256:")
    rows = cli("images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}").out.split()
    assert "debian:bookworm" in rows
    out = cli(
        "run", "--rm", "debian:bookworm", "bash", "-c", "echo $BASH_VERSION; cat /etc/debian_version"
    ).out
    version, debian = out.split()
    assert version.startswith("5.") and debian.startswith("12")
    # the default command is bash, and apt's metadata survives as data
    d = cli("image", "inspect", "-f", "{{json .Config}}", "debian:bookworm").out
    assert '"Cmd":["bash"]' in d  # Go's json, compact as Docker prints it
    assert "bookworm" in cli("history", "debian:bookworm").out
