"""Fault injection: every named step of run, commit, build, pull, load, save, rm and network setup is failed
in turn (the process killed with SIGKILL, the write failing with ENOSPC, with EIO), and then the root must be
whole: nothing half-made visible, ``system check`` finds no damage, nothing committed before is lost, and
nothing leaked (temporaries, mounts, cgroups, processes, veths).

The points of each command are found by running it once with ``DOCKYARD_FAULT_TRACE`` (engine/faults.py);
the number of (command, point, mode) injections is printed at the end of the session.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from tests.conftest import DOCKYARD, _cleanup_root

MODES = ("kill", "enospc", "eio")
COVERED: list[tuple[str, str, str]] = []
SUMMARY: list[str] = []


@dataclass
class Scenario:
    setup: Callable[[Callable[..., subprocess.CompletedProcess[bytes]], str], None]
    command: Callable[[str], list[str]]
    keep: tuple[str, ...] = ("busybox:latest",)  # images that must survive
    keep_containers: tuple[str, ...] = ()
    after_copy: Callable[[str], None] | None = None  # what cannot be copied (a network's bridge name)


def _dy(root: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60, **kw):  # type: ignore[no-untyped-def]
    return subprocess.run(
        [DOCKYARD, *args],
        env={**os.environ, "DOCKYARD_ROOT": root, "DOCKYARD_NET_LINGER": "0", **(env or {})},
        capture_output=True,
        timeout=timeout,
        stdin=kw.pop("stdin", subprocess.DEVNULL),
        **kw,
    )


def _ok(root: str, *args: str, **kw):  # type: ignore[no-untyped-def]
    p = _dy(root, *args, **kw)
    assert p.returncode == 0, f"dockyard {' '.join(args)}: {p.stderr.decode()}"
    return p


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, busybox_tar):  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("faults")
    ctx = d / "context"
    ctx.mkdir()
    (ctx / "data.txt").write_text("data\n")
    (ctx / "Dockerfile").write_text(
        "FROM busybox:latest\nCOPY data.txt /data.txt\nRUN echo built > /built.txt\nENV A=1\n"
    )
    seed = str(d / "seed")
    _ok(seed, "import", "--change", 'CMD ["sh"]', busybox_tar, "busybox:latest")
    _ok(seed, "save", "-o", str(d / "busybox.tar"), "busybox:latest")
    _cleanup_root(seed)
    shutil.rmtree(seed, ignore_errors=True)
    return d


def _base(root: str, workdir) -> None:  # type: ignore[no-untyped-def]
    _ok(root, "load", "-i", str(workdir / "busybox.tar"))


def scenarios(workdir, registry_host: str | None) -> dict[str, Scenario]:  # type: ignore[no-untyped-def]
    def with_container(root: str, *extra: str) -> None:
        _base(root, workdir)
        _ok(root, "create", "--name", "keeper", "--network", "none", "busybox:latest", "true")
        _ok(
            root,
            "run",
            "--name",
            "target",
            "--network",
            "none",
            *extra,
            "busybox:latest",
            "sh",
            "-c",
            "echo hi > /f",
        )

    out = {
        "run": Scenario(
            lambda dy, root: _base(root, workdir),
            lambda root: [
                "run",
                "--name",
                "runner",
                "--network",
                "none",
                "busybox:latest",
                "sh",
                "-c",
                "echo x > /y",
            ],
        ),
        "run -d (network)": Scenario(
            lambda dy, root: _base(root, workdir),
            lambda root: [
                "run",
                "-d",
                "--name",
                "server",
                "--network",
                "inner",
                "busybox:latest",
                "sleep",
                "30",
            ],
            after_copy=lambda root: _ok(root, "network", "create", "--internal", "inner") and None,
        ),
        "commit": Scenario(
            lambda dy, root: with_container(root),
            lambda root: ["commit", "target", "committed:v1"],
            keep_containers=("keeper", "target"),
        ),
        "build": Scenario(
            lambda dy, root: _base(root, workdir),
            lambda root: ["build", "-q", "-t", "built:v1", str(workdir / "context")],
        ),
        "load": Scenario(
            lambda dy, root: None,
            lambda root: ["load", "-i", str(workdir / "busybox.tar")],
            keep=(),
        ),
        "save": Scenario(
            lambda dy, root: _base(root, workdir),
            lambda root: ["save", "-o", os.path.join(os.path.dirname(root), "out.tar"), "busybox:latest"],
        ),
        "rm": Scenario(
            lambda dy, root: with_container(root),
            lambda root: ["rm", "-f", "target"],
            keep_containers=("keeper",),
        ),
    }
    if registry_host:
        out["pull"] = Scenario(
            lambda dy, root: None,
            lambda root: ["pull", f"{registry_host}/faults/busybox:latest"],
            keep=(),
        )
    return out


def _points(root: str, sc: Scenario, workdir) -> list[str]:  # type: ignore[no-untyped-def]
    trace = os.path.join(os.path.dirname(root), "trace")
    sc.setup(_dy, root)
    if sc.after_copy:
        sc.after_copy(root)
    if os.path.exists(trace):
        os.unlink(trace)
    p = _dy(root, *sc.command(root), env={"DOCKYARD_FAULT_TRACE": trace})
    assert p.returncode == 0, p.stderr.decode()
    _settle()
    if not os.path.exists(trace):
        return []
    with open(trace) as f:
        return list(dict.fromkeys(line.strip() for line in f if line.strip()))


def _settle() -> None:
    """Let a detached supervisor reach its next step (a killed one is reconciled by the next read)."""
    time.sleep(0.2)


def _verify(root: str, sc: Scenario, what: str) -> None:
    # Nothing half-made visible: whatever is listed can be inspected.
    ps = _ok(root, "ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Status}}").stdout.decode()
    ids = [line.split(" ", 1)[0] for line in ps.splitlines()]
    assert "Dead" not in ps, f"{what}: {ps}"
    # ... and nothing committed before is lost.
    if ids or sc.keep_containers:
        _ok(root, "inspect", "--type", "container", *ids, *sc.keep_containers)
    images = _ok(root, "images", "-aq", "--no-trunc").stdout.decode().split()
    if images or sc.keep:
        _ok(root, "image", "inspect", *images, *sc.keep)
    if images:  # each layer's tar comes back byte for byte from its one copy (save checks every digest)
        _ok(root, "save", "-o", os.path.join(os.path.dirname(root), "saved.tar"), *images)
    # No damage: system check cleans what the killed process left and finds nothing else.
    check = _dy(root, "system", "check")
    assert check.returncode == 0 and check.stdout.decode().strip().endswith("ok"), (
        f"{what}: {check.stdout.decode()}{check.stderr.decode()}"
    )
    # Nothing leaked.
    left = [n for n in os.listdir(os.path.join(root, "tmp")) if not n.startswith("partial-")]
    assert left == [], f"{what}: temporaries left: {left}"  # (a partial download is kept to resume it)
    with open("/proc/self/mountinfo") as f:
        assert not [line for line in f if f" {root}" in line], f"{what}: a mount is left below the root"
    running = _ok(root, "ps", "-q", "--no-trunc").stdout.decode().split()
    from engine.runtime.cgroups import list_leftovers, parent_for_root

    assert set(list_leftovers(parent_for_root(root))) <= set(running), f"{what}: a cgroup is left"


def _release(root: str) -> None:
    """A template root's cgroup parent goes (none of its containers runs; the files stay)."""
    from engine.runtime.cgroups import parent_for_root, remove_parent

    with contextlib.suppress(Exception):
        remove_parent(parent_for_root(root))


def _host_network() -> set[str]:
    """dockyard's interfaces (bridges, veths) and firewall tables on the host."""
    links = {n for n in os.listdir("/sys/class/net") if n.startswith("dy")}
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout.split("\n")
    return links | {t.strip() for t in tables if "dockyard" in t}


def _modes(i: int) -> tuple[str, ...]:
    """Every point is killed; its write fails with ENOSPC or EIO in turn (all three with
    DOCKYARD_FAULT_MODES=all, as ``make faults`` runs it)."""
    if os.environ.get("DOCKYARD_FAULT_MODES") == "all":
        return MODES
    return ("kill", MODES[1 + i % 2])


def _fresh(template: str, root: str) -> None:
    """A copy of a scenario's prepared root (its cgroup parent is recorded anew by the copy's first use)."""
    shutil.copytree(template, root, symlinks=True)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(root, "cgroup-parent"))


def _inject(name: str, sc: Scenario, template: str, point: str, mode: str, base: str) -> str | None:
    """One injection: None when the root is whole after it, else what is wrong."""
    what = f"{name} / {point} / {mode}"
    root = os.path.join(base, "root")
    try:
        _fresh(template, root)
        if sc.after_copy:
            sc.after_copy(root)
        p = _dy(root, *sc.command(root), env={"DOCKYARD_FAULT": f"{point}={mode}"})
        err = p.stderr.decode()
        assert "Traceback" not in err, f"{what}: {err}"
        if mode != "kill" and p.returncode != 0:
            last = err.strip().splitlines()[-1] if err.strip() else ""
            assert last.startswith("Error: "), f"{what}: the error is not one clear line: {err!r}"
            assert "unexpected" not in last, f"{what}: a failing disk is not a bug: {last}"
        _settle()
        _verify(root, sc, what)
        return None
    except AssertionError as e:
        return f"{what}: {e}"[:600]
    finally:
        _cleanup_root(root)
        shutil.rmtree(base, ignore_errors=True)


def test_every_write_step_of_every_command_fails_cleanly(workdir) -> None:  # type: ignore[no-untyped-def]
    registry_host = None
    reg = None
    if shutil.which("docker-registry"):
        from tests.engine.registry.helpers import Registry

        reg = Registry(str(workdir / "registry"))
        registry_host = reg.host
        seed = str(workdir / "pusher")
        _base(seed, workdir)
        _ok(seed, "tag", "busybox:latest", f"{registry_host}/faults/busybox:latest")
        _ok(seed, "push", f"{registry_host}/faults/busybox:latest")
        _cleanup_root(seed)
    host_before = _host_network()
    failures: list[str] = []
    jobs: list[tuple[str, Scenario, str, str, str]] = []
    templates: list[str] = []
    try:
        only = os.environ.get("DOCKYARD_FAULT_ONLY", "")  # a comma-separated list of scenarios, to debug
        for name, sc in scenarios(workdir, registry_host).items():
            if only and name not in only.split(","):
                continue
            slug = name.replace(" ", "_").replace("(", "").replace(")", "")
            probe = str(workdir / f"probe-{slug}" / "root")
            os.makedirs(probe)
            try:
                points = _points(probe, sc, workdir)
            finally:
                _cleanup_root(probe)
                shutil.rmtree(os.path.dirname(probe), ignore_errors=True)
            assert points, f"{name}: no fault point reached"
            template = str(workdir / f"template-{slug}")
            os.makedirs(template)
            sc.setup(_dy, template)
            _release(template)  # nothing of it runs: its copies start from files alone
            templates.append(template)
            for i, point in enumerate(points):
                jobs += [(name, sc, template, point, mode) for mode in _modes(i)]
        with ThreadPoolExecutor(max_workers=3) as pool:
            results = pool.map(lambda j: _inject(*j[1], str(workdir / f"inject-{j[0]}")), enumerate(jobs))
            for job, problem in zip(jobs, results, strict=True):
                if problem is None:
                    COVERED.append((job[0], job[3], job[4]))
                else:
                    failures.append(problem)
    finally:
        if reg is not None:
            reg.stop()
        for t in templates:
            _cleanup_root(t)
            shutil.rmtree(t, ignore_errors=True)
    leaked = _host_network() - host_before
    assert not leaked, f"interfaces or firewall tables left: {leaked}"
    _report(COVERED)
    assert not failures, f"{len(failures)} of {len(jobs)} injections failed:\n" + "\n".join(failures[:40])


def _report(covered: list[tuple[str, str, str]]) -> None:
    """The summary line ``make test`` prints at the end (tests/conftest.py's terminal summary)."""
    points = {(c, p) for c, p, _m in covered}
    commands = sorted({c for c, _p, _m in covered})
    modes = sorted({m for _c, _p, m in covered})
    SUMMARY.append(
        f"fault injection: {len(covered)} injections at {len(points)} points of {len(commands)} commands "
        f"({', '.join(commands)}); modes {', '.join(modes)}"
    )
