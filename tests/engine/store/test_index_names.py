"""The name index (``containers/names/NAME -> ../ID``) and the ID index (``containers/ids/XX/ID``) agree with
the containers' own records after a create, rename, rm or ``run --rm`` killed or failed at any of its steps
(every fault point engine/faults.py reaches in it: SIGKILL, ENOSPC, EIO, an unexpected exception), and after
a first look-up that makes them again for a root without them; ``system check`` then finds nothing and leaves
the indexes exactly equal to the records.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine.paths import Layout
from engine.store.containers import ContainerStore
from tests.conftest import DOCKYARD, _cleanup_root

MODES = ("kill", "enospc", "eio", "crash")
INDEX_STEPS = ("name ", "names ", "id ", "ids ", "container ", "tmp names", "tmp ids")


def _dy(root: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [DOCKYARD, *args],
        env={**os.environ, "DOCKYARD_ROOT": root, **(env or {})},
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def _ok(root: str, *args: str) -> str:
    p = _dy(root, *args)
    assert p.returncode == 0, f"dockyard {' '.join(args)}: {p.stderr.decode()}"
    return p.stdout.decode()


def _without_index(root: str) -> None:
    """The root as a version before the indexes left it: names in containers/names.json."""
    import json

    store = ContainerStore(Layout(root))
    names = store.names()
    shutil.rmtree(store.names_dir)
    shutil.rmtree(store.ids_dir)
    with open(store.old_names_path, "w") as f:
        json.dump(names, f)


SCENARIOS: dict[str, tuple[list[str], Callable[[str], None] | None]] = {
    "create": (["create", "--name", "fresh", "--network", "none", "busybox", "true"], None),
    "create, a generated name": (["create", "--network", "none", "busybox", "true"], None),
    "rename": (["rename", "target", "renamed"], None),
    "rm": (["rm", "target"], None),
    "run --rm": (["run", "--rm", "--name", "once", "--network", "none", "busybox", "true"], None),
    "rename, no index yet": (["rename", "target", "renamed"], _without_index),
    "inspect ID, no index yet": (["inspect", "--format", "{{.Name}}", "TARGET-ID"], _without_index),
}


def _command(root: str, args: list[str]) -> list[str]:
    if "TARGET-ID" in args:
        cid = ContainerStore(Layout(root)).names_from_records()["target"]
        return [cid[:12] if a == "TARGET-ID" else a for a in args]
    return args


def _entries(store: ContainerStore) -> tuple[dict[str, str], set[str]]:
    """The two indexes as they are on disk: name -> the ID its link names; the IDs entered."""
    names = {n: os.readlink(os.path.join(store.names_dir, n))[3:] for n in os.listdir(store.names_dir)}
    ids = {cid for b in os.listdir(store.ids_dir) for cid in os.listdir(os.path.join(store.ids_dir, b))}
    return names, ids


def _agrees(root: str, what: str) -> None:
    """Every name resolves to its holder and nothing else counts; every ID prefix finds its container."""
    store = ContainerStore(Layout(root))
    held = store.names_from_records()
    assert store.names() == held, f"{what}: the index says {store.names()}, the records {held}"
    for name, cid in held.items():
        assert store.resolve(name) == cid, f"{what}: {name}"
        assert store.resolve(cid[:12]) == cid, f"{what}: {cid[:12]}"
    if held:
        shown = _ok(root, "inspect", "--format", "{{.Name}} {{.Id}}", *held).split()
        assert dict(zip([n[1:] for n in shown[::2]], shown[1::2], strict=True)) == held, what


def _settle(root: str) -> None:
    """Wait for the processes whose work is in tmp/ to be gone (a killed supervisor is a zombie until the
    machine's init reaps it; the sweep leaves what a live process holds)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pids = {int(n.split("-", 1)[0]) for n in os.listdir(os.path.join(root, "tmp")) if n[:1].isdigit()}
        if not any(os.path.exists(f"/proc/{pid}") for pid in pids):
            return
        time.sleep(0.1)


def _verify(root: str, what: str) -> None:
    _settle(root)
    ps = _ok(root, "ps", "-a", "--no-trunc", "--format", "{{.Names}} {{.Status}}")
    assert "Dead" not in ps, f"{what}: {ps}"
    _agrees(root, what)
    check = _dy(root, "system", "check")
    assert check.returncode == 0 and check.stdout.decode().strip().endswith("ok"), (
        f"{what}: {check.stdout.decode()}{check.stderr.decode()}"
    )
    _agrees(root, what + ", after system check")
    store = ContainerStore(Layout(root))
    names, ids = _entries(store)
    assert names == store.names_from_records(), f"{what}: after system check the index holds {names}"
    assert ids == set(store.ids()), f"{what}: after system check the ID index holds {ids}"
    assert os.listdir(os.path.join(root, "tmp")) == [], f"{what}: temporaries left"


def _inject(template: str, base: str, args: list[str], point: str, mode: str, what: str) -> str | None:
    root = os.path.join(base, "root")
    try:
        shutil.copytree(template, root, symlinks=True)
        os.unlink(os.path.join(root, "cgroup-parent"))  # recorded anew: the copy's containers are its own
        p = _dy(root, *_command(root, args), env={"DOCKYARD_FAULT": f"{point}={mode}"})
        err = p.stderr.decode()
        assert "Traceback" not in err, f"{what}: {err}"
        if mode != "kill" and err.strip():
            assert err.strip().splitlines()[-1].startswith("Error: "), f"{what}: {err!r}"
        _verify(root, what)
        return None
    except AssertionError as e:
        return f"{what}: {e}"[:800]
    finally:
        _cleanup_root(root)
        shutil.rmtree(base, ignore_errors=True)


def _points(template: str, base: str, args: list[str]) -> list[str]:
    root = os.path.join(base, "root")
    trace = os.path.join(base, "trace")
    try:
        shutil.copytree(template, root, symlinks=True)
        os.unlink(os.path.join(root, "cgroup-parent"))
        p = _dy(root, *_command(root, args), env={"DOCKYARD_FAULT_TRACE": trace})
        assert p.returncode == 0, p.stderr.decode()
        _verify(root, "without a fault")
        with open(trace) as f:
            return list(dict.fromkeys(line.strip() for line in f if line.strip()))
    finally:
        _cleanup_root(root)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_indexes_agree_with_the_records_after_a_failure_at_any_step(
    tmp_path, busybox_tar, scenario
) -> None:
    args, prepare = SCENARIOS[scenario]
    template = str(tmp_path / "template")
    os.makedirs(template)
    try:
        _ok(template, "import", "--change", 'CMD ["sh"]', busybox_tar, "busybox:latest")
        _ok(template, "create", "--name", "keeper", "--network", "none", "busybox", "true")
        _ok(template, "create", "--name", "target", "--network", "none", "busybox", "true")
        if prepare:
            prepare(template)
        points = _points(template, str(tmp_path / "probe"), args)
        index_points = [p for p in points if p.startswith(INDEX_STEPS)]
        assert index_points, f"{scenario}: no step of the indexes among {points}"
        # The steps of the indexes fail in every way; every other step is killed.
        jobs = [(p, m) for p in points for m in (MODES if p in index_points else ("kill",))]
        with ThreadPoolExecutor(max_workers=3) as pool:
            problems = list(
                pool.map(
                    lambda j: _inject(
                        template,
                        str(tmp_path / f"inject-{j[0]}"),
                        args,
                        j[1][0],
                        j[1][1],
                        f"{scenario} / {j[1][0]} / {j[1][1]}",
                    ),
                    enumerate(jobs),
                )
            )
    finally:
        _cleanup_root(template)
    failures = [p for p in problems if p]
    assert not failures, f"{len(failures)} of {len(jobs)} injections failed:\n" + "\n".join(failures[:20])
