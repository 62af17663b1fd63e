"""The store under concurrency and crashes: atomic, locked, and cleaned on the next start."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import tarfile
import time

import pytest

from tests.conftest import DOCKYARD

pytestmark = pytest.mark.slow


def _tar(path, n_files: int = 50, size: int = 2000, salt: str = "") -> str:
    with tarfile.open(path, "w") as tf:
        for i in range(n_files):
            data = (f"{salt}{i}".encode() * size)[:size]
            ti = tarfile.TarInfo(f"d/f{i}")
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return str(path)


def test_concurrent_import_tag_remove(root, tmp_path):
    env = {**os.environ, "DOCKYARD_ROOT": root}
    tars = [_tar(tmp_path / f"t{i}.tar", salt=str(i % 3)) for i in range(6)]
    procs = [
        subprocess.Popen(
            [DOCKYARD, "import", t, f"img{i}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for i, t in enumerate(tars)
    ]
    for p in procs:
        assert p.wait(60) == 0, p.stderr.read()  # type: ignore[union-attr]
    procs = []
    for i in range(3):  # img{i} and img{i+3} share their layer (same content)
        procs.append(subprocess.Popen([DOCKYARD, "tag", f"img{i}", f"alias{i}"], env=env))
        procs.append(subprocess.Popen([DOCKYARD, "rmi", f"img{i + 3}"], env=env))
    for p in procs:
        assert p.wait(60) == 0
    from engine import Engine

    eng = Engine(root)
    tags = eng.images.store.catalog.tags()
    for i in range(3):
        assert f"alias{i}:latest" in tags and f"img{i}:latest" in tags
        assert f"img{i + 3}:latest" not in tags
    assert len(eng.images.list()) == 3
    # every tagged image is whole: its layers and blobs exist
    for image_id in set(tags.values()):
        im = eng.images.get(image_id)
        for li in im.layers:
            assert os.path.isdir(li.path)
            assert os.path.exists(os.path.join(li.path, "d", "f0"))


def test_killed_import_is_cleaned_on_next_start(root, tmp_path):
    big = _tar(tmp_path / "big.tar", n_files=400, size=200_000)
    env = {**os.environ, "DOCKYARD_ROOT": root}
    p = subprocess.Popen([DOCKYARD, "import", big, "big"], env=env)
    tmpdir = os.path.join(root, "tmp")
    deadline = time.time() + 20
    while time.time() < deadline and not (os.path.isdir(tmpdir) and os.listdir(tmpdir)):
        time.sleep(0.005)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    from engine import Engine

    eng = Engine(root)
    eng.recover()
    assert os.listdir(tmpdir) == []
    assert eng.images.list(all=True) == []
    assert eng.images.store.layers.all() == []
    assert list(eng.images.store.blobs.all()) == []
    # the store still works
    out = subprocess.run(
        [DOCKYARD, "import", _tar(tmp_path / "small.tar"), "small"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
