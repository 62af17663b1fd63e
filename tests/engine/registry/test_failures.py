"""Pulls that go wrong: a corrupt blob is refused and leaves nothing behind; a cut download resumes with a
Range request, within the pull or in the next one."""

from __future__ import annotations

import os

import pytest

from engine import Engine
from engine.registry import DigestMismatch, Unreachable, pull, push
from engine.registry.download import partial_path

pytestmark = pytest.mark.slow


@pytest.fixture
def other(tmp_path):
    path = str(tmp_path / "other-root")
    os.makedirs(path)
    return Engine(path)


def _store_is_clean(eng: Engine) -> None:
    assert eng.images.list(all=True) == []
    assert eng.images.store.catalog.tags() == {}
    assert eng.images.store.layers.all() == []  # no layer directory was moved into place
    assert os.listdir(eng.layout.tmp) == []  # no partial download, no half-unpacked layer
    assert list(eng.images.store.blobs.all()) == []


@pytest.mark.parametrize("where", ["middle", "end"])
def test_corrupt_blob_is_refused(engine_, busybox, registry, other, where):
    ref = f"{registry.host}/bad/bb:v1"
    engine_.images.tag(busybox, ref)
    push(engine_.images.store, ref)
    layer = engine_.images.get(busybox).layers[0].diff_id  # uncompressed layer: blob digest == DiffID
    path = registry.blob_path(layer)
    size = os.path.getsize(path)
    # "middle": inside a file's content (the tar still parses); "end": inside the end-of-archive blocks
    offset = size // 2 if where == "middle" else size - 100
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(DigestMismatch, match="digest mismatch"):
        pull(other.images.store, ref)
    _store_is_clean(other)


def test_corrupt_gzip_blob_is_refused_as_digest_mismatch(busybox, registry, other, skopeo, skopeo_push):
    ref = f"{registry.host}/bad/gz:v1"
    skopeo_push(busybox, ref, "--dest-compress")
    import json

    raw = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{ref}"))
    path = registry.blob_path(raw["layers"][0]["digest"])
    with open(path, "r+b") as f:  # garble the deflate stream: the decompressor fails before the end
        f.seek(os.path.getsize(path) // 3)
        f.write(b"\x00" * 64)
    with pytest.raises(DigestMismatch, match="digest mismatch"):
        pull(other.images.store, ref)
    _store_is_clean(other)


def test_cut_download_resumes_within_the_pull(engine_, busybox, registry, front, other):
    cutter = front(cut_after=700_000, cut_times=1)
    ref = f"{cutter.host}/resume/bb:v1"
    engine_.images.tag(busybox, ref)
    push(engine_.images.store, ref)
    events: list = []
    result = pull(other.images.store, ref, progress=events.append)
    assert result.image_id == engine_.images.resolve(busybox)
    assert cutter.ranges() == ["bytes=700000-"]
    assert any(e.status.startswith("Retrying") for e in events)
    assert not any(n.startswith("partial-") for n in os.listdir(other.layout.tmp))


def test_interrupted_pull_resumes_next_time(engine_, busybox, registry, front, other):
    cutter = front(cut_after=1_000_000, cut_times=100)
    ref = f"{cutter.host}/resume/bb:v2"
    engine_.images.tag(busybox, ref)
    push(engine_.images.store, ref)
    layer = engine_.images.get(busybox).layers[0].diff_id
    with pytest.raises(Unreachable, match="pull again to resume"):
        pull(other.images.store, ref, retries=0)
    partial = partial_path(other.layout.tmp, layer)
    assert os.path.getsize(partial) == 1_000_000  # what arrived is kept...
    assert not other.images.exists(ref)
    assert other.images.store.layers.all() == []
    other.recover()  # ...and survives the sweep of dead processes' temporaries
    assert os.path.exists(partial)

    cutter.cut_times = 0
    before = len(cutter.requests)
    events: list = []
    result = pull(other.images.store, ref, progress=events.append)
    assert result.image_id == engine_.images.resolve(busybox)
    later = [hd.get("Range") for m, p, hd in cutter.requests[before:] if m == "GET" and p.endswith(layer)]
    assert later == ["bytes=1000000-"]
    assert any(e.status == "Resuming" and e.current == 1_000_000 for e in events)
    assert not os.path.exists(partial)
    assert other.images.store.blobs.read(layer) == engine_.images.store.blobs.read(layer)


def test_resume_when_the_server_ignores_range(engine_, busybox, registry, front, other):
    cutter = front(cut_after=900_000, cut_times=1, ignore_range=True)
    ref = f"{cutter.host}/norange/bb:v1"
    engine_.images.tag(busybox, ref)
    push(engine_.images.store, ref)
    layer = engine_.images.get(busybox).layers[0].diff_id
    result = pull(
        other.images.store, ref
    )  # the retry gets the whole blob again: the first 900000 bytes are skipped
    assert result.image_id == engine_.images.resolve(busybox)
    assert cutter.ranges() == ["bytes=900000-"]
    assert other.images.store.blobs.read(layer) == engine_.images.store.blobs.read(layer)


def test_killed_pull_leaves_partial_that_resumes(engine_, busybox, registry, front, tmp_path):
    """A pull killed in the middle (SIGKILL of the CLI) leaves only its partial blob; the next pull resumes."""
    import signal
    import subprocess
    import sys
    import time

    cutter = front(cut_after=1_500_000, cut_times=1)
    ref = f"{cutter.host}/killed/bb:v1"
    engine_.images.tag(busybox, ref)
    push(engine_.images.store, ref)
    root = str(tmp_path / "killed-root")
    os.makedirs(root)
    layer = engine_.images.get(busybox).layers[0].diff_id
    code = (
        "import sys, os, signal\n"
        "from engine import Engine\n"
        "from engine.registry import pull\n"
        "def stop(ev):\n"
        "    if ev.status.startswith('Retrying'):  # the download was cut: die before it resumes\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        f"pull(Engine({root!r}).images.store, {ref!r}, progress=stop)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=60)
    assert p.returncode == -signal.SIGKILL, p.stderr
    eng = Engine(root)
    partial = partial_path(eng.layout.tmp, layer)
    kept = os.path.getsize(partial)
    assert kept == 1_500_000
    time.sleep(0.05)
    eng.recover()
    assert os.path.getsize(partial) == kept
    before = len(cutter.requests)
    pull(eng.images.store, ref)
    later = [hd.get("Range") for m, p, hd in cutter.requests[before:] if m == "GET" and p.endswith(layer)]
    assert later == [f"bytes={kept}-"]
    assert eng.images.get(ref).id == engine_.images.resolve(busybox)
