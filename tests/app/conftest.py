"""Fixtures of the app's tests, CLI and TUI alike: an engine root reached over SSH (tests/app/sshd.py)."""

from tests.app.sshd import far, far_root, sshd  # noqa: F401
