"""The build cache: what a rebuild re-runs after which change, --no-cache, pruning, and cache entries whose
layer blob the image store collected."""

from __future__ import annotations

import json
import os
import time

import pytest

from engine.build.cache import CACHE_FILE, BuildCache

from .buildutil import do_build, write

pytestmark = pytest.mark.slow

DOCKERFILE = """
    FROM busybox
    RUN echo base > /base
    COPY first.txt /first.txt
    RUN cat /first.txt > /derived
    COPY second.txt /second.txt
    CMD ["cat", "/derived"]
"""


@pytest.fixture
def ctx(tmp_path):
    return write(
        tmp_path / "ctx",
        {
            "Dockerfile": DOCKERFILE,
            "first.txt": "one\n",
            "second.txt": "two\n",
            "notes.md": "# notes\n",
            ".dockerignore": "*.md\n",
        },
    )


def labels(built, keyword=""):
    return [
        label.split("] ", 1)[1] for label in built.executed if label.split("] ", 1)[1].startswith(keyword)
    ]


def test_rebuild_without_change_is_fully_cached(engine_, busybox, ctx):
    first = do_build(engine_, ctx, tags=["c:1"])
    assert len(first.executed) == 5 and first.cached == []
    again = do_build(engine_, ctx, tags=["c:1"])
    assert again.executed == [] and len(again.cached) == 5
    assert again.image_id == first.image_id  # same config, same history timestamps: same image
    assert [e.message for e in again.events if e.kind == "cached"] == [f"#{n} CACHED" for n in range(2, 7)]
    assert again.output() == []


def test_changed_file_reruns_from_its_copy_on(engine_, busybox, ctx, cli):
    do_build(engine_, ctx, tags=["c:1"])
    (ctx / "second.txt").write_text("TWO\n")
    built = do_build(engine_, ctx, tags=["c:2"])
    assert labels(built) == ["COPY second.txt /second.txt", 'CMD ["cat", "/derived"]']
    (ctx / "first.txt").write_text("ONE\n")
    built = do_build(engine_, ctx, tags=["c:3"])
    assert labels(built) == [
        "COPY first.txt /first.txt",
        "RUN cat /first.txt > /derived",
        "COPY second.txt /second.txt",
        'CMD ["cat", "/derived"]',
    ]
    assert built.output() == []  # cat writes to a file
    assert cli("run", "--rm", "c:3").out == "ONE\n"


def test_metadata_only_changes_keep_the_cache(engine_, busybox, ctx):
    do_build(engine_, ctx)
    # a new mtime with the same content, and any change to an ignored file, re-run nothing
    future = time.time() + 100
    os.utime(ctx / "first.txt", (future, future))
    (ctx / "notes.md").write_text("# notes\n# a comment only\n")
    (ctx / "more.md").write_text("new but ignored\n")
    assert do_build(engine_, ctx).executed == []
    # a mode change is part of what lands in the layer, so it counts
    os.chmod(ctx / "second.txt", 0o600)
    assert labels(do_build(engine_, ctx)) == ["COPY second.txt /second.txt", 'CMD ["cat", "/derived"]']


def test_no_cache_and_build_args(engine_, busybox, tmp_path):
    ctx = write(
        tmp_path / "ctx", {"Dockerfile": "FROM busybox\nARG WHO=me\nRUN echo hello $WHO\nRUN echo after\n"}
    )
    assert do_build(engine_, ctx).output() == ["hello me", "after"]
    assert do_build(engine_, ctx).output() == []
    assert do_build(engine_, ctx, no_cache=True).output() == ["hello me", "after"]
    changed = do_build(engine_, ctx, build_args={"WHO": "you"})
    assert changed.output() == ["hello you", "after"]
    # proxy variables reach RUN without an ARG but are not part of the cache key or the history
    proxied = do_build(engine_, ctx, build_args={"WHO": "you", "http_proxy": "http://127.0.0.1:9"})
    assert proxied.executed == []
    history = engine_.images.get(proxied.image_id).history
    assert "RUN |1 WHO=you /bin/sh -c echo hello $WHO" in [h["created_by"] for h in history]
    assert not any("proxy" in h["created_by"] for h in history)


def test_prune_and_collected_blobs(engine_, busybox, ctx):
    first = do_build(engine_, ctx, tags=["c:1"])
    cache = BuildCache(engine_.layout)
    entries = cache.entries()
    assert len(entries) == 5
    assert all("chain_id" in e for e in entries.values())
    # The image goes, the store collects its blobs; the cache keeps the layers (pinned) and makes the
    # blobs again from them, identical, so the rebuild is fully cached and gives the same image.
    engine_.images.remove("c:1")
    engine_.images.prune()
    blobs = [e["layer"]["blob"] for e in entries.values() if e.get("layer")]
    assert len(blobs) == 4 and not any(engine_.images.blobs.exists(b) for b in blobs)
    again = do_build(engine_, ctx, tags=["c:1"])
    assert again.executed == [] and again.image_id == first.image_id
    # builder prune: entries whose layers an image uses stay, unless --all
    report = cache.prune(engine_.images)
    assert report.deleted == 0
    engine_.images.remove("c:1")
    report = cache.prune(engine_.images)
    assert report.deleted == 5 and report.reclaimed > 0
    assert cache.entries() == {}
    assert len(do_build(engine_, ctx).executed) == 5
    report = cache.prune(engine_.images, all=True)
    assert report.deleted == 5
    with open(os.path.join(engine_.root, CACHE_FILE)) as f:
        assert json.load(f) == {}


def test_damaged_cache_file_is_an_empty_cache(engine_, busybox, ctx):
    with open(os.path.join(engine_.root, CACHE_FILE), "w") as f:
        f.write("{not json")
    built = do_build(engine_, ctx)
    assert len(built.executed) == 5
    assert do_build(engine_, ctx).executed == []


def test_layer_blobs_can_be_made_again_from_the_unpacked_layers(engine_, busybox, tmp_path):
    """The builder's own layer tars are byte for byte what write_layer_tar makes of the unpacked layer
    (the cache relies on that to restore a collected blob)."""
    import hashlib
    import io

    from engine.store.layertar import write_layer_tar

    ctx = write(
        tmp_path / "ctx",
        {
            "tree/a/b/c.txt": "deep\n",
            "tree/" + "long-name-" * 12 + ".txt": "long\n",
            "tree/ünïcode.txt": "u\n",
            "Dockerfile": "FROM busybox\nWORKDIR /w/x\nCOPY tree /opt/tree/\nRUN rm /bin/true && echo > /w/new\n",
        },
    )
    os.symlink("a/b/c.txt", ctx / "tree" / "link")
    image = engine_.images.get(do_build(engine_, ctx).image_id)
    for layer in image.layers[1:]:
        out = io.BytesIO()
        write_layer_tar(layer.path, out, overlay_upper=True)
        assert "sha256:" + hashlib.sha256(out.getvalue()).hexdigest() == layer.diff_id, layer.created_by
