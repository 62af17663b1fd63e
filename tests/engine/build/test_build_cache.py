"""The build cache: what a rebuild re-runs after which change, --no-cache, pruning, and cache entries whose
layer blob the image store collected."""

from __future__ import annotations

import json
import os
import time

import pytest

from engine.build.cache import BuildCache

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
    assert len(blobs) == 4 and not any(engine_.images.store.blobs.exists(b) for b in blobs)
    again = do_build(engine_, ctx, tags=["c:1"])
    assert again.executed == [] and again.image_id == first.image_id
    # builder prune: entries whose layers an image uses stay, unless --all
    report = engine_.images.prune_builds()
    assert report.deleted == 0
    engine_.images.remove("c:1")
    report = engine_.images.prune_builds()
    assert report.deleted == 5 and report.reclaimed > 0
    assert cache.entries() == {}
    assert len(do_build(engine_, ctx).executed) == 5
    report = engine_.images.prune_builds(all=True)
    assert report.deleted == 5
    assert BuildCache(engine_.layout).entries() == {}


def warnings(built):
    return [e.text for e in built.events if e.kind == "warning"]


def test_damaged_cache_file_is_emptied_with_a_warning(engine_, busybox, ctx):
    with open(engine_.layout.build_cache, "wb") as f:
        f.write(b"{not a database}" * 512)
    built = do_build(engine_, ctx)
    assert len(built.executed) == 5
    assert any("build cache could not be read" in w for w in warnings(built))
    again = do_build(engine_, ctx)
    assert again.executed == [] and warnings(again) == []


def test_damaged_record_is_dropped_with_a_warning_and_the_step_runs_again(engine_, busybox, ctx):
    import sqlite3

    first = do_build(engine_, ctx)
    db = sqlite3.connect(engine_.layout.build_cache)
    with db:
        (key,) = db.execute("SELECT key FROM steps ORDER BY created LIMIT 1 OFFSET 2").fetchone()
        db.execute("UPDATE steps SET record = '{half a rec' WHERE key = ?", (key,))
    db.close()
    again = do_build(engine_, ctx)
    assert any("damaged build cache record" in w for w in warnings(again))
    assert len(again.cached) == 2 and len(again.executed) == 3  # from the damaged step on
    assert again.image_id != first.image_id  # new history timestamps from the step that ran again
    assert do_build(engine_, ctx).executed == []


def test_cache_in_the_old_single_file_format_is_dropped_unread(engine_, busybox, ctx):
    old = os.path.join(engine_.root, "buildcache.json")
    with open(old, "w") as f:
        f.write("{" + ",".join(f'"k{i}": {{"config": {{}}}}' for i in range(20000)) + "}")
    assert len(do_build(engine_, ctx).executed) == 5
    assert not os.path.exists(old)


ENV_LINES = "FROM busybox\n" + "".join(f"ENV VARIABLE_{i}=value-{i}\n" for i in range(400))


def test_a_record_costs_the_size_of_its_own_step(engine_, busybox, tmp_path):
    """400 ENV lines: each record holds its one variable, never the environment so far."""
    ctx = write(tmp_path / "ctx", {"Dockerfile": ENV_LINES})
    first = do_build(engine_, ctx, build_args={"SOURCE_DATE_EPOCH": "0"})
    entries = BuildCache(engine_.layout).entries()
    assert len(entries) == 400
    assert max(len(json.dumps(e)) for e in entries.values()) < 600
    env = engine_.images.get(first.image_id).config["Env"]
    assert env[-400:] == [f"VARIABLE_{i}=value-{i}" for i in range(400)]
    again = do_build(engine_, ctx, build_args={"SOURCE_DATE_EPOCH": "0"})
    assert again.executed == [] and again.image_id == first.image_id


def test_cached_steps_make_the_same_config_as_running_them(engine_, busybox, tmp_path):
    """Every metadata instruction, replaced and merged values, and two stages built on one (each sees only
    its own ENV): the cached rebuild, put together from per-step records, is the image a cold build makes."""
    ctx = write(
        tmp_path / "ctx",
        {
            "Dockerfile": """
                FROM busybox AS base
                ENV A=1 B=2
                LABEL one=1 two=2
                ONBUILD RUN echo hi
                ENTRYPOINT ["/bin/sh"]
                FROM base AS left
                ENV A=left C=3
                LABEL two=left
                RUN echo "$A $B $C" > /left
                FROM base AS right
                ENV D=4 A=right
                EXPOSE 80 443/udp
                VOLUME /data
                USER 1000:1000
                WORKDIR /srv
                STOPSIGNAL SIGINT
                HEALTHCHECK --interval=5s CMD true
                SHELL ["/bin/sh", "-ec"]
                CMD echo "$A $D"
                COPY --from=left /left /left
                RUN test "$A $B $D" = "right 2 4"
            """
        },
    )
    epoch = {"SOURCE_DATE_EPOCH": "1700000000"}
    cold = do_build(engine_, ctx, build_args=epoch)
    cached = do_build(engine_, ctx, build_args=epoch)
    assert cached.executed == [] and cached.image_id == cold.image_id
    config = engine_.images.get(cold.image_id).config
    env = dict(item.partition("=")[::2] for item in config["Env"])
    assert (env["A"], env["B"], env["D"]) == ("right", "2", "4") and "C" not in env
    assert config["Labels"] == {"one": "1", "two": "2"}
    assert "OnBuild" not in config or not config["OnBuild"]
    fresh = do_build(engine_, ctx, build_args=epoch, no_cache=True)
    assert fresh.image_id == cold.image_id


def test_layer_blobs_can_be_made_again_from_the_unpacked_layers(engine_, busybox, tmp_path):
    """The builder's own layer tars are byte for byte what write_layer_tar makes of the unpacked layer
    (the cache relies on that to restore a collected blob)."""
    import hashlib
    import io

    from engine.store.tar.writer import write_layer_tar

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
