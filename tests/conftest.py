"""Shared fixtures: a fresh engine root per test, a busybox image, and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

# Containers started by the tests never get a route off the machine: the default network is none, and tests that
# need networking use internal networks of their own.
os.environ.setdefault("DOCKYARD_DEFAULT_NETWORK", "none")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCKYARD = os.path.join(os.path.dirname(sys.executable), "dockyard")


@dataclass
class Result:
    code: int
    out: str
    err: str


class CLI:
    """Runs the real ``dockyard`` command against one engine root."""

    def __init__(self, root: str) -> None:
        self.root = root

    def __call__(
        self, *args: str, input: bytes | None = None, timeout: float = 60, check: bool = True
    ) -> Result:
        env = {**os.environ, "DOCKYARD_ROOT": self.root}
        p = subprocess.run(
            [DOCKYARD, *args],
            input=input,
            capture_output=True,
            timeout=timeout,
            env=env,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        r = Result(p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"))
        if check and r.code != 0:
            raise AssertionError(f"dockyard {' '.join(args)} exited {r.code}\nstdout:{r.out}\nstderr:{r.err}")
        return r

    def fails(self, *args: str, code: int | None = None, input: bytes | None = None) -> Result:
        r = self(*args, check=False, input=input)
        assert r.code != 0, f"dockyard {' '.join(args)} should have failed\n{r.out}{r.err}"
        if code is not None:
            assert r.code == code, f"exit {r.code}, wanted {code}: {r.err}"
        return r


@pytest.fixture
def root(tmp_path) -> Iterator[str]:
    r = str(tmp_path / "root")
    os.makedirs(r)
    yield r
    _cleanup_root(r)


def _cleanup_root(r: str) -> None:
    """Stop whatever a test left running under this root and remove all it made on the host: containers,
    the root's cgroups, its networks' bridges and firewall rules (``Engine.discard``), then its files."""
    if not os.path.isdir(r):
        return
    try:
        from engine import Engine

        Engine(r).discard()
    except Exception:
        try:
            from engine.runtime.cgroups import parent_for_root, remove_parent

            remove_parent(parent_for_root(r))
        except Exception:
            pass


@pytest.fixture
def cli(root) -> CLI:
    return CLI(root)


@pytest.fixture
def engine_(root):
    from engine import Engine

    return Engine(root)


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory) -> str:
    """A rootfs tarball of the host's static busybox (built once per session)."""
    from engine.store.bootstrap import busybox_tar as make
    from engine.store.bootstrap import find_static_busybox

    path = tmp_path_factory.mktemp("bb") / "busybox-rootfs.tar"
    path.write_bytes(make(find_static_busybox()))
    return str(path)


@pytest.fixture
def busybox(engine_, busybox_tar) -> str:
    """busybox:latest in the test's engine root."""
    with open(busybox_tar, "rb") as f:
        engine_.images.import_(
            f,
            "busybox:latest",
            changes={
                "Cmd": ["sh"],
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            },
        )
    return "busybox:latest"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """In CI a missing tool is an install step that was forgotten: fail instead of skipping."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2])
        if "not installed" in reason or "apt-get install" in reason:
            report.outcome = "failed"
            report.longrepr = f"CI must install what the tests need: {reason}"


def _cgroup_parents() -> set[str]:
    """The cgroup parents of non-default engine roots (``dockyard-<hash>``) in every hierarchy."""
    import glob

    found: set[str] = set()
    for pattern in (
        "/sys/fs/cgroup/*/dockyard-*",
        "/sys/fs/cgroup/*/*/dockyard-*",
        "/sys/fs/cgroup/*/*/*/dockyard-*",
    ):
        found.update(p for p in glob.glob(pattern) if os.path.isdir(p))
    return found


_PARENTS_BEFORE: set[str] = set()
_NETWORK_BEFORE: set[str] = set()


def _host_network() -> set[str]:
    """dockyard's interfaces (bridges, veths: ``dy...``) and nftables tables on the host."""
    import subprocess

    links = {n for n in os.listdir("/sys/class/net") if n.startswith("dy")}
    try:
        out = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    return links | {line.strip() for line in out.splitlines() if "dockyard" in line}


def pytest_sessionstart(session):  # type: ignore[no-untyped-def]
    _PARENTS_BEFORE.update(_cgroup_parents())
    _NETWORK_BEFORE.update(_host_network())


_LEFT: list[str] = []


def pytest_sessionfinish(session, exitstatus):  # type: ignore[no-untyped-def]
    """Every test root is gone: remove the (empty) cgroup parents the session's engines made. One that cannot
    be removed (something is still inside) fails the session: the tests must leave no cgroup behind."""
    import re

    for path in sorted(_cgroup_parents() - _PARENTS_BEFORE, key=len, reverse=True):
        if not re.fullmatch(r"dockyard-[0-9a-f]{8}", os.path.basename(path)):
            continue  # an engine root's parent only: a test's own cgroup (or another session's) is its to remove
        try:
            os.rmdir(path)  # fails, and so keeps it, if anything is still inside
        except OSError:
            pass
    _LEFT[:] = sorted(_cgroup_parents() - _PARENTS_BEFORE)
    _LEFT.extend(sorted(_host_network() - _NETWORK_BEFORE))
    if _LEFT and session.testscollected > 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):  # type: ignore[no-untyped-def]
    """The fault-injection harness's count of what it covered, when it ran."""
    import sys

    harness = sys.modules.get("tests.engine.test_fault_injection")
    for line in getattr(harness, "SUMMARY", []):
        terminalreporter.write_line(line)
    if _LEFT:
        terminalreporter.write_line(
            f"FAILED: the tests left {len(_LEFT)} cgroups, interfaces or firewall tables behind: "
            + ", ".join(_LEFT[:10])
        )
    else:
        terminalreporter.write_line("cgroups, interfaces and firewall tables left behind by the tests: none")
