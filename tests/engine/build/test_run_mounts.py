"""``RUN --mount``: cache, bind, tmpfs and secret mounts in real builds, and what they leave (nothing) in
the image and its history; the cache key follows what a bind shows, never what a cache mount holds."""

from __future__ import annotations

import os

import pytest

from engine import BuildError, BuildOptions

from .buildutil import do_build, layer_files, write

pytestmark = pytest.mark.slow


def run_out(engine_, image: str, *cmd: str) -> str:
    """The output of a command in a throwaway container of ``image``."""
    from engine.build.events import OUTPUT

    ctx_dir = os.path.join(engine_.layout.root, "..", "probe-ctx")
    os.makedirs(ctx_dir, exist_ok=True)
    with open(os.path.join(ctx_dir, "Dockerfile"), "w") as f:
        f.write(f"FROM {image}\nRUN {' '.join(cmd)}\n")
    events = list(engine_.images.build_stream(BuildOptions(ctx_dir, no_cache=True)))
    return "\n".join(e.text for e in events if e.kind == OUTPUT)


def in_any_layer(engine_, image: str, needle: bytes) -> bool:
    """Whether any file of any layer of ``image`` holds ``needle``."""
    seen: set[tuple[int, int]] = set()
    for layer in engine_.images.get(image).layers:
        for dirpath, _dirs, files in os.walk(layer.path):
            for name in files:
                st = os.lstat(os.path.join(dirpath, name))
                if not os.path.isfile(os.path.join(dirpath, name)) or (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
                with open(os.path.join(dirpath, name), "rb") as f:
                    if needle in f.read():
                        return True
    return False


def cache_dirs(root: str) -> list[str]:
    base = os.path.join(root, "buildmounts")
    return sorted(os.listdir(base)) if os.path.isdir(base) else []


# -- cache ------------------------------------------------------------------------------------------------


def test_cache_mount_persists_and_stays_out_of_the_layer(engine_, busybox, tmp_path):
    ctx = write(
        tmp_path / "c",
        {
            "Dockerfile": """
                FROM busybox
                RUN --mount=type=cache,target=/root/.cache echo run >> /root/.cache/log && wc -l < /root/.cache/log
            """
        },
    )
    first = do_build(engine_, ctx, tags=["c:1"])
    assert first.output() == ["1"]
    assert layer_files(engine_, "c:1", -1) == {}  # neither the cache's files nor its mount point
    again = do_build(engine_, ctx, tags=["c:2"], no_cache=True)
    assert again.output() == ["2"]  # the directory was kept from the first build
    assert run_out(engine_, "c:2", "ls", "-a", "/root") == ".\n.."
    [instance] = cache_dirs(engine_.layout.root)
    with open(os.path.join(engine_.layout.root, "buildmounts", instance, "data", "log")) as f:
        assert f.read() == "run\nrun\n"
    # What the cache holds is not in the step's key: the step is cached although the cache changed.
    assert do_build(engine_, ctx, tags=["c:3"]).ran("RUN") == []
    report = engine_.images.prune_builds()
    assert report.deleted >= 1 and cache_dirs(engine_.layout.root) == []
    assert do_build(engine_, ctx, tags=["c:4"], no_cache=True).output() == ["1"]  # a fresh cache


def test_cache_ids_sharing_owner_and_seed(engine_, busybox, tmp_path):
    ctx = write(
        tmp_path / "ids",
        {
            "Dockerfile": """
                FROM busybox AS seed
                RUN mkdir /s && echo seeded > /s/file
                FROM busybox
                RUN --mount=type=cache,id=shared-one,target=/a,sharing=locked echo a > /a/from-a
                RUN --mount=type=cache,id=shared-one,target=/b,sharing=private cat /b/from-a
                RUN --mount=type=cache,target=/own,uid=1000,gid=1001,mode=0710 stat -c '%u:%g %a' /own
                RUN --mount=type=cache,target=/seeded,from=seed,source=/s cat /seeded/file
                RUN --mount=type=cache,target=/ro,ro touch /ro/x || echo read-only
            """
        },
    )
    built = do_build(engine_, ctx, tags=["ids:1"])
    out = built.output()
    assert out[:3] == ["a", "1000:1001 710", "seeded"]
    assert "read-only" in out
    with pytest.raises(BuildError, match="unsupported sharing value 'often'"):
        write(ctx, {"Dockerfile": "FROM busybox\nRUN --mount=type=cache,target=/x,sharing=often true\n"})
        do_build(engine_, ctx)


# -- bind -------------------------------------------------------------------------------------------------


def test_bind_from_context_is_read_only_and_keyed_by_content(engine_, busybox, tmp_path):
    ctx = write(
        tmp_path / "b",
        {
            "Dockerfile": """
                FROM busybox
                RUN --mount=type=bind,source=src,target=/src cat /src/a.txt && (touch /src/new 2>/dev/null || echo ro)
            """,
            "src/a.txt": "one\n",
            "src/secret.key": "hidden\n",
            "other.txt": "unrelated\n",
            ".dockerignore": "src/*.key\n",
        },
    )
    built = do_build(engine_, ctx, tags=["b:1"])
    assert built.output() == ["one", "ro"]
    assert layer_files(engine_, "b:1", -1) == {}
    (ctx / "other.txt").write_text("changed, but not bound\n")
    assert do_build(engine_, ctx).ran("RUN") == []
    (ctx / "src" / "secret.key").write_text("ignored, so not bound\n")
    assert do_build(engine_, ctx).ran("RUN") == []
    (ctx / "src" / "a.txt").write_text("two\n")
    again = do_build(engine_, ctx)
    assert len(again.ran("RUN")) == 1 and again.output() == ["two", "ro"]
    write(ctx, {"Dockerfile": "FROM busybox\nRUN --mount=type=bind,source=src,target=/src ls /src\n"})
    assert do_build(engine_, ctx).output() == ["a.txt"]  # .dockerignore hides the key


def test_bind_rw_changes_are_thrown_away(engine_, busybox, tmp_path):
    ctx = write(
        tmp_path / "rw",
        {
            "Dockerfile": """
                FROM busybox
                RUN --mount=type=bind,target=/w,rw echo scribble > /w/data.txt && echo new > /w/new && cat /w/data.txt
            """,
            "data.txt": "original\n",
        },
    )
    built = do_build(engine_, ctx, tags=["rw:1"])
    assert built.output() == ["scribble"]
    assert (ctx / "data.txt").read_text() == "original\n" and not (ctx / "new").exists()
    assert layer_files(engine_, "rw:1", -1) == {}


def test_bind_from_stage_and_image(engine_, busybox, tmp_path):
    ctx = write(
        tmp_path / "st",
        {
            "Dockerfile": """
                FROM busybox AS tools
                RUN mkdir /out && echo made > /out/made.txt && chmod 600 /out/made.txt
                FROM busybox
                RUN --mount=type=bind,from=tools,source=/out,target=/t stat -c '%a %n' /t/made.txt && cat /t/made.txt
                RUN --mount=from=busybox,target=/img ls /img/bin/busybox
            """
        },
    )
    built = do_build(engine_, ctx, tags=["st:1"])
    assert built.output() == ["600 /t/made.txt", "made", "/img/bin/busybox"]
    assert run_out(engine_, "st:1", "ls", "/t", "/img", "2>&1", "||", "true").count("No such file") == 2


# -- tmpfs, several mounts ----------------------------------------------------------------------------------


def test_tmpfs_and_several_mounts_on_one_run(engine_, busybox, tmp_path):
    ctx = write(
        tmp_path / "t",
        {
            "Dockerfile": """
                FROM busybox
                RUN --mount=type=tmpfs,target=/scratch,size=2m --mount=type=bind,target=/ctx --mount=type=cache,target=/var/cache/x \\
                    grep ' /scratch ' /proc/mounts | cut -d' ' -f3 && df -k /scratch | tail -1 | awk '{print $2}' \\
                    && cat /ctx/f && echo kept > /scratch/gone
            """,
            "f": "context file\n",
        },
    )
    built = do_build(engine_, ctx, tags=["t:1"])
    assert built.output() == ["tmpfs", "2048", "context file"]
    assert layer_files(engine_, "t:1", -1) == {}  # the mount points made for the step are gone


# -- secrets ----------------------------------------------------------------------------------------------


def test_secret_is_readable_and_never_in_the_image(engine_, busybox, tmp_path):
    ctx = write(
        tmp_path / "s",
        {
            "Dockerfile": """
                FROM busybox
                RUN --mount=type=secret,id=api stat -c '%a %u:%g %n' /run/secrets/api && cat /run/secrets/api && echo
                RUN --mount=type=secret,id=api,target=/etc/key,mode=0444,uid=7 stat -c '%a %u' /etc/key
                RUN --mount=type=secret,id=api,env=API_TOKEN,required echo "len=${#API_TOKEN}"
                RUN --mount=type=secret,id=absent test ! -e /run/secrets/absent && echo skipped
                RUN ls -a /run
            """
        },
    )
    secret = b"hunter2-not-in-any-layer"
    in_memory = os.access("/dev/shm", os.W_OK)  # where secrets go (else the root's tmp/)
    left = f"/dev/shm/{_dead_pid()}-dockyard-secret-0123"  # what a build killed mid-step leaves
    if in_memory:
        os.makedirs(left)
    built = do_build(engine_, ctx, tags=["s:1"], secrets={"api": secret})
    if in_memory:
        assert not os.path.exists(left)
        assert not [n for n in os.listdir("/dev/shm") if n.startswith(f"{os.getpid()}-dockyard-secret")]
    out = built.output()
    assert out[0] == "400 0:0 /run/secrets/api"
    assert out[1:6] == [secret.decode(), "444 7", f"len={len(secret)}", "skipped", "."]
    assert not in_any_layer(engine_, "s:1", secret)
    history = engine_.images.history("s:1")
    assert not any(secret.decode() in (h.created_by or "") for h in history)
    # The key holds the secret's id only: a new value does not rerun the steps (as BuildKit).
    assert do_build(engine_, ctx, secrets={"api": b"another"}).ran("RUN") == []
    write(ctx, {"Dockerfile": "FROM busybox\nRUN --mount=type=secret,id=gone,required=true true\n"})
    with pytest.raises(BuildError, match="secret gone: not found"):
        do_build(engine_, ctx)


def _dead_pid() -> int:
    pid = 4_000_000
    while os.path.exists(f"/proc/{pid}"):
        pid += 1
    return pid


# -- refused and bad mounts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mount", "message"),
    [
        ("type=ssh", "RUN --mount=type=ssh is not supported"),
        ("type=volume,target=/x", "unsupported mount type 'volume'"),
        ("type=cache,target=/x,colour=red", "unexpected key 'colour' in 'colour=red'"),
        ("type=bind,target=/x,mode=0700", "mode not allowed for 'bind' type mounts"),
        ("type=tmpfs", "mount type tmpfs requires a target"),
        ("type=bind,source=missing,target=/x", "file not found in build context"),
        ("type=bind,from=nowhere,target=/x", "no such image"),
        ("type=bind,target=/x,sharing=locked", "invalid cache sharing set for bind mount"),
    ],
)
def test_bad_mounts_are_refused(engine_, busybox, tmp_path, mount, message):
    ctx = write(tmp_path / "bad", {"Dockerfile": f"FROM busybox\nRUN --mount={mount} true\n"})
    with pytest.raises(BuildError, match=message):
        do_build(engine_, ctx)
    assert engine_.containers.list(all=True) == []


def test_mount_values_expand_variables_and_relative_targets(engine_, busybox, tmp_path):
    ctx = write(
        tmp_path / "v",
        {
            "Dockerfile": """
                FROM busybox
                ARG DIR=sub
                WORKDIR /work
                RUN --mount=type=bind,source=$DIR,target=mnt cat /work/mnt/f
            """,
            "sub/f": "expanded\n",
        },
    )
    assert do_build(engine_, ctx).output() == ["expanded"]


def test_cache_mount_sharing_modes_and_prune_of_busy_ones(tmp_path):
    from engine.build.cachemounts import acquire, prune

    root, tmp = str(tmp_path / "root"), str(tmp_path / "root" / "tmp")
    os.makedirs(tmp)
    shared = acquire(root, "deps", "shared")
    also_shared = acquire(root, "deps", "shared")
    assert shared.data == also_shared.data  # both builds use one directory at once
    private = acquire(root, "deps", "private")
    assert private.data != shared.data  # the first one is held: a new one is made
    assert prune(root, tmp).deleted == 0  # every directory is in use
    shared.release()
    also_shared.release()
    assert prune(root, tmp, older_than=3600).deleted == 0  # used a moment ago
    assert prune(root, tmp).deleted == 1  # the free one; the private one is still held
    private.release()
    assert prune(root, tmp).deleted == 1 and os.listdir(os.path.join(root, "buildmounts")) == []
    first = acquire(root, "excl", "locked")
    import threading

    got: list = []
    waiter = threading.Thread(target=lambda: got.append(acquire(root, "excl", "locked")))
    waiter.start()
    waiter.join(0.3)
    assert got == []  # locked: the second user waits for the first
    first.release()
    waiter.join(5)
    assert [m.data for m in got] == [first.data]
    got[0].release()
