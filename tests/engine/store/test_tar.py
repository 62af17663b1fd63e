"""Layer tarballs: refusal of unsafe archives, whiteout conversion, and write -> extract round trips."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import stat
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InvalidArgument, NotFound, UnsafeArchive
from engine.store import whiteouts as wh
from engine.store.tar.compression import detect_compression
from engine.store.tar.extract import extract_layer
from engine.store.tar.writer import write_layer_tar, write_tree_tar
from tests.modules import ROOT

root_only = [pytest.mark.slow, pytest.mark.root]
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


# ---------------------------------------------------------------------------------------------------------
# helpers


def entry(
    name: str,
    kind: bytes = tarfile.REGTYPE,
    data: bytes = b"",
    *,
    link: str = "",
    mode: int = 0o644,
    uid: int = 0,
    gid: int = 0,
    mtime: int = 1_600_000_000,
    pax: dict[str, str] | None = None,
    dev: tuple[int, int] = (0, 0),
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.uid, info.gid = uid, gid
    info.mtime = mtime
    info.linkname = link
    info.devmajor, info.devminor = dev
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    if pax:
        info.pax_headers = dict(pax)
    return info, data


def make_tar(entries: Iterable[tuple[tarfile.TarInfo, bytes]], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for info, data in entries:
            tf.addfile(info, io.BytesIO(data) if info.size else None)
    return buf.getvalue()


class ReadOnly:
    """A forward-only stream: no seek, no tell, no fileno."""

    def __init__(self, data: bytes, chunk: int = 7000) -> None:
        self._f = io.BytesIO(data)
        self._chunk = chunk

    def read(self, size: int = -1, /) -> bytes:
        if size < 0 or size > self._chunk:
            size = self._chunk
        return self._f.read(size)


def extract(data: bytes, dest: Path, **kw: bool):  # type: ignore[no-untyped-def]
    return extract_layer(ReadOnly(data), str(dest), **kw)


def tree(root: Path) -> dict[str, tuple[object, ...]]:
    """Everything that must survive a round trip, by relative path."""
    out: dict[str, tuple[object, ...]] = {}
    inodes: dict[tuple[int, int], str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            rel = os.path.relpath(path, root)
            content: object = None
            if stat.S_ISREG(st.st_mode):
                content = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                content = os.readlink(path)
            xattrs = {}
            if not stat.S_ISLNK(st.st_mode):
                xattrs = {
                    k: os.getxattr(path, k, follow_symlinks=False)
                    for k in sorted(os.listxattr(path, follow_symlinks=False))
                }
            link_group = None
            if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
                link_group = inodes.setdefault((st.st_dev, st.st_ino), rel)
            mtime = None if stat.S_ISLNK(st.st_mode) else st.st_mtime_ns
            size = None if stat.S_ISDIR(st.st_mode) else st.st_size
            out[rel] = (
                st.st_mode,
                st.st_uid,
                st.st_gid,
                mtime,
                size,
                st.st_rdev,
                content,
                xattrs,
                link_group,
            )
    return out


def listing(root: Path) -> set[str]:
    return {os.path.relpath(os.path.join(d, n), root) for d, ds, fs in os.walk(root) for n in ds + fs}


@pytest.fixture
def arena(tmp_path: Path) -> dict[str, Path]:
    """dest/ to extract into, with victim/ and dest-evil/ next to it that must never change."""
    dest = tmp_path / "dest"
    victim = tmp_path / "victim"
    evil = tmp_path / "dest-evil"
    for d in (dest, victim, evil):
        d.mkdir()
    (victim / "hello").write_text("hello")
    return {"dest": dest, "victim": victim, "evil": evil, "tmp": tmp_path}


def assert_untouched(arena: dict[str, Path]) -> None:
    assert listing(arena["victim"]) == {"hello"}
    assert (arena["victim"] / "hello").read_text() == "hello"
    assert os.lstat(arena["victim"] / "hello").st_nlink == 1
    assert listing(arena["evil"]) == set()
    assert sorted(os.listdir(arena["tmp"])) == ["dest", "dest-evil", "victim"]


# ---------------------------------------------------------------------------------------------------------
# refusals (moby's archive traversal cases)


@pytest.mark.parametrize(
    "entries, bad",
    [
        ([entry("../victim/x", data=b"pwned")], "../victim/x"),
        ([entry("/../victim/x", data=b"pwned")], "/../victim/x"),
        ([entry("..", tarfile.DIRTYPE)], ".."),
        ([entry("a/../../victim/x", data=b"pwned")], "a/../../victim/x"),
        ([entry("../dest-evil/secret", data=b"pwned")], "../dest-evil/secret"),
        (
            [entry("loophole", tarfile.SYMTYPE, link="../victim"), entry("loophole/file", data=b"x")],
            "loophole",
        ),
        (
            [entry("up", tarfile.SYMTYPE, link="../../../.."), entry("up/victim/x", data=b"pwned")],
            "up/victim/x",
        ),
        (
            [
                entry("symlink", tarfile.SYMTYPE, link="../victim"),
                entry("hardlink", tarfile.LNKTYPE, link="symlink/hello"),
            ],
            "'hardlink'",
        ),
        (
            [
                entry("dir", tarfile.DIRTYPE, mode=0o755),
                entry("dir/loophole", tarfile.SYMTYPE, link="../../victim"),
                entry("dir/loophole/newdir/newfile", data=b"x"),
            ],
            "dir/loophole",
        ),
        ([entry("dotdot", tarfile.LNKTYPE, link="../victim/hello")], "dotdot"),
        ([entry("slash-dotdot", tarfile.LNKTYPE, link="/../victim/hello")], "slash-dotdot"),
        (
            [
                entry("loophole-victim", tarfile.LNKTYPE, link="../victim"),
                entry("loophole-victim/file", data=b"x"),
            ],
            "loophole-victim",
        ),
        (
            [
                entry("loophole-victim", tarfile.LNKTYPE, link="../victim"),
                entry("hardlink", tarfile.LNKTYPE, link="loophole-victim/hello"),
            ],
            "loophole-victim",
        ),
        ([entry(".wh.")], ".wh."),
        ([entry(".wh..")], ".wh.."),
        ([entry(".wh...")], ".wh..."),
        ([entry("dir/.wh...", mode=0)], "dir/.wh..."),
        ([entry(".wh.x/y", data=b"x")], ".wh.x/y"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
@pytest.mark.parametrize("overlay", [True, False], ids=["overlay", "apply"])
def test_unsafe_archives_are_refused_and_nothing_leaves_dest(
    arena: dict[str, Path], entries: list[tuple[tarfile.TarInfo, bytes]], bad: str, overlay: bool
) -> None:
    with pytest.raises(UnsafeArchive) as err:
        extract(make_tar(entries), arena["dest"], overlay_whiteouts=overlay)
    assert bad in str(err.value)
    assert_untouched(arena)


@pytest.mark.parametrize(
    "entries",
    [
        [entry("slash-dotdot", tarfile.SYMTYPE, link="/../victim/hello")],
        [entry("a/link", tarfile.SYMTYPE, link="../../../../victim/hello")],
        [
            entry("symlink", tarfile.SYMTYPE, link="../victim/hello"),
            entry("symlink", tarfile.SYMTYPE, link="symlink"),
        ],
        [
            entry("symlink", tarfile.SYMTYPE, link="../victim/hello"),
            entry("hardlink", tarfile.LNKTYPE, link="symlink"),
        ],
        [entry("symlink", tarfile.SYMTYPE, link="../victim"), entry("symlink", data=b"x")],
    ],
    ids=["slash-dotdot", "deep", "relinked", "hardlinked", "replaced"],
)
@pytest.mark.parametrize("overlay", [True, False], ids=["overlay", "apply"])
def test_symlinks_climbing_above_the_root_are_data(
    arena: dict[str, Path], entries: list[tuple[tarfile.TarInfo, bytes]], overlay: bool
) -> None:
    # Like Docker: a target is kept as written (in a container /.. is /); only following one is dangerous,
    # and extraction never follows a symlink.
    extract(make_tar(entries), arena["dest"], overlay_whiteouts=overlay and os.geteuid() == 0)
    assert_untouched(arena)
    last = {info.name: info for info, _ in entries}
    for name, info in last.items():
        path = arena["dest"] / name
        if info.type == tarfile.SYMTYPE:
            assert os.readlink(path) == info.linkname
        elif info.type == tarfile.LNKTYPE:
            assert os.lstat(path).st_ino == os.lstat(arena["dest"] / info.linkname).st_ino
            assert os.path.islink(path)
        else:
            assert not os.path.islink(path) and path.read_bytes() == b"x"


def test_existing_symlink_in_dest_is_never_written_through(arena: dict[str, Path]) -> None:
    # A container could plant this in its own filesystem before `docker cp` into it.
    os.symlink(str(arena["victim"]), arena["dest"] / "loophole")
    with pytest.raises(UnsafeArchive) as err:
        extract(make_tar([entry("loophole/file", data=b"pwned")]), arena["dest"])
    assert "'loophole/file'" in str(err.value) and "symbolic link" in str(err.value)
    with pytest.raises(UnsafeArchive):
        extract(make_tar([entry("loophole/sub/file", data=b"pwned")]), arena["dest"])
    with pytest.raises(UnsafeArchive):
        extract(make_tar([entry("loophole/hello", tarfile.SYMTYPE, link="x")]), arena["dest"])
    with pytest.raises(UnsafeArchive):
        extract(make_tar([entry("x", tarfile.LNKTYPE, link="loophole/hello")]), arena["dest"])
    with pytest.raises(UnsafeArchive):
        extract(make_tar([entry("loophole/.wh.hello")]), arena["dest"])
    assert_untouched(arena)


def test_in_tree_symlink_to_a_directory_is_not_written_through(arena: dict[str, Path]) -> None:
    data = make_tar(
        [
            entry("real", tarfile.DIRTYPE, mode=0o755),
            entry("lnk", tarfile.SYMTYPE, link="real"),
            entry("lnk/file", data=b"x"),
        ]
    )
    with pytest.raises(UnsafeArchive) as err:
        extract(data, arena["dest"])
    assert "'lnk/file'" in str(err.value)
    assert os.listdir(arena["dest"] / "real") == []


def test_replacing_a_planted_symlink_removes_the_link_not_its_target(arena: dict[str, Path]) -> None:
    os.symlink(str(arena["victim"]), arena["dest"] / "symlink")
    os.symlink(str(arena["victim"] / "hello"), arena["dest"] / "hello-link")
    extract(
        make_tar([entry("symlink", data=b"plain"), entry("hello-link", tarfile.DIRTYPE, mode=0o755)]),
        arena["dest"],
    )
    assert (arena["dest"] / "symlink").read_bytes() == b"plain"
    assert (arena["dest"] / "hello-link").is_dir() and not (arena["dest"] / "hello-link").is_symlink()
    assert_untouched(arena)


def test_hardlink_to_a_planted_symlink_links_the_symlink_itself(arena: dict[str, Path]) -> None:
    os.symlink(str(arena["victim"] / "hello"), arena["dest"] / "sym")
    extract(make_tar([entry("hard", tarfile.LNKTYPE, link="sym")]), arena["dest"])
    assert os.path.islink(arena["dest"] / "hard")
    assert_untouched(arena)


def test_absolute_names_and_hardlink_targets_stay_inside(arena: dict[str, Path]) -> None:
    data = make_tar(
        [
            entry("/etc/", tarfile.DIRTYPE, mode=0o755),
            entry("/etc/passwd", data=b"root:x:0:0::/root:/bin/sh\n"),
            entry("/x", tarfile.LNKTYPE, link="/etc/passwd"),
            entry("./a/./b/../c", data=b"c"),
            entry("abs", tarfile.SYMTYPE, link="/etc/passwd"),
        ]
    )
    result = extract(data, arena["dest"])
    dest = arena["dest"]
    assert (dest / "etc/passwd").read_bytes().startswith(b"root:x")
    assert os.stat(dest / "x").st_ino == os.stat(dest / "etc/passwd").st_ino
    assert os.stat(dest / "x").st_ino != os.stat("/etc/passwd").st_ino
    assert (dest / "a/c").read_bytes() == b"c"
    assert os.readlink(dest / "abs") == "/etc/passwd"
    assert result.entries == 5
    assert_untouched(arena)


def test_refusal_stops_at_the_bad_entry(arena: dict[str, Path]) -> None:
    data = make_tar([entry("first", data=b"1"), entry("../victim/x", data=b"2"), entry("third", data=b"3")])
    with pytest.raises(UnsafeArchive):
        extract(data, arena["dest"])
    assert listing(arena["dest"]) == {"first"}  # documented: earlier entries stay, nothing after


def test_hardlink_to_missing_target_and_to_directory(arena: dict[str, Path]) -> None:
    with pytest.raises(UnsafeArchive, match="does not exist"):
        extract(make_tar([entry("h", tarfile.LNKTYPE, link="nope")]), arena["dest"])
    with pytest.raises(UnsafeArchive, match="directory"):
        extract(make_tar([entry("d", tarfile.DIRTYPE), entry("h", tarfile.LNKTYPE, link="d")]), arena["dest"])


def test_garbage_truncated_and_empty_input(tmp_path: Path) -> None:
    with pytest.raises(UnsafeArchive, match="tar"):
        extract(b"NOT A TAR" + os.urandom(2048), tmp_path)
    good = make_tar([entry("big", data=b"x" * 5000)])
    with pytest.raises(UnsafeArchive, match="truncated"):
        extract(good[:1500], tmp_path)
    assert extract(b"", tmp_path).entries == 0


def test_missing_destination_is_an_error_before_reading(tmp_path: Path) -> None:
    stream = io.BytesIO(make_tar([entry("f", data=b"x")]))
    with pytest.raises(NotFound):
        extract_layer(stream, str(tmp_path / "nope"))
    assert stream.tell() == 0
    (tmp_path / "file").write_text("")
    with pytest.raises(InvalidArgument):
        extract_layer(stream, str(tmp_path / "file"))


@pytest.mark.slow
@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another user")
def test_device_nodes_are_refused_when_not_root() -> None:
    with tempfile.TemporaryDirectory(prefix="dockyard-test-") as tmp:
        os.chmod(tmp, 0o755)
        _device_refused_as_nobody(Path(tmp))


def _device_refused_as_nobody(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    os.chmod(dest, 0o777)
    archive = tmp_path / "dev.tar"
    archive.write_bytes(make_tar([entry("null", tarfile.CHRTYPE, mode=0o666, dev=(1, 3))]))
    os.chmod(archive, 0o644)
    code = (
        "import sys\n"
        "from engine.errors import UnsafeArchive\n"
        "from engine.store.tar.extract import extract_layer\n"
        "try:\n"
        f"    extract_layer(open({str(archive)!r}, 'rb'), {str(dest)!r})\n"
        "except UnsafeArchive as e:\n"
        "    print(e)\n"
        "    sys.exit(3)\n"
    )
    repo = ROOT
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=repo,
        capture_output=True,
        text=True,
        user=65534,
        group=65534,
        timeout=30,
    )
    assert proc.returncode == 3, proc.stderr
    assert "'null'" in proc.stdout and "root" in proc.stdout
    assert os.listdir(dest) == []


# ---------------------------------------------------------------------------------------------------------
# streams, compression, names


@pytest.mark.parametrize("compress", ["none", "gzip", "bzip2", "xz"])
def test_compressed_streams_are_detected_and_diff_id_is_of_the_tar(tmp_path: Path, compress: str) -> None:
    raw = make_tar([entry("d", tarfile.DIRTYPE, mode=0o755), entry("d/f", data=os.urandom(300_000))])
    data = {
        "none": lambda b: b,
        "gzip": lambda b: gzip.compress(b, 1),
        "bzip2": bz2.compress,
        "xz": lzma.compress,
    }[compress](raw)
    assert detect_compression(data[:10]) == compress
    result = extract(data, tmp_path, compute_diff_id=True)
    assert result.compression == compress
    assert result.diff_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert result.tar_bytes == len(raw)
    assert result.entries == 2 and result.bytes == 300_000
    assert (tmp_path / "d/f").stat().st_size == 300_000


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress])
def test_corrupt_or_truncated_compressed_streams(tmp_path: Path, compress) -> None:  # type: ignore[no-untyped-def]
    data = compress(make_tar([entry("f", data=os.urandom(200_000))]))
    with pytest.raises(UnsafeArchive, match="corrupt"):
        extract(data[: len(data) // 2], tmp_path / "a" if (tmp_path / "a").mkdir() is None else tmp_path)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    (tmp_path / "b").mkdir()
    with pytest.raises(UnsafeArchive):
        extract(bytes(flipped), tmp_path / "b")


def test_a_plain_tar_whose_first_name_looks_like_a_magic_number(tmp_path: Path) -> None:
    data = make_tar([entry("BZh9-not-bzip2", data=b"x"), entry("\x1f\x8b-not-gzip", data=b"y")])
    result = extract(data, tmp_path)
    assert result.compression == "none" and result.entries == 2


def test_long_and_odd_names_pax_and_gnu(tmp_path: Path) -> None:
    long_dir = "d" * 120
    long_name = f"{long_dir}/{'f' * 150}"
    odd = "caf\udce9-\u00e9t\u00e9 spaced"  # a non-UTF-8 byte and non-ASCII text
    for fmt, dest in ((tarfile.PAX_FORMAT, tmp_path / "pax"), (tarfile.GNU_FORMAT, tmp_path / "gnu")):
        dest.mkdir()
        data = make_tar(
            [
                entry(long_dir, tarfile.DIRTYPE, mode=0o755),
                entry(long_name, data=b"long"),
                entry(odd, data=b"odd"),
                entry("lnk", tarfile.SYMTYPE, link=long_name),
                entry("hl", tarfile.LNKTYPE, link=long_name),
            ],
            fmt,
        )
        extract(data, dest)
        assert (dest / long_name).read_bytes() == b"long"
        assert os.path.exists(os.path.join(os.fsencode(dest), b"caf\xe9-\xc3\xa9t\xc3\xa9 spaced"))
        assert os.readlink(dest / "lnk") == long_name
        assert os.stat(dest / "hl").st_ino == os.stat(dest / long_name).st_ino


def test_entries_replace_existing_content_like_docker_cp(tmp_path: Path) -> None:
    (tmp_path / "was-file").write_text("old")
    (tmp_path / "was-dir").mkdir()
    (tmp_path / "was-dir/inner").write_text("old")
    (tmp_path / "keep-dir").mkdir()
    (tmp_path / "keep-dir/old").write_text("old")
    extract(
        make_tar(
            [
                entry("was-file", tarfile.DIRTYPE, mode=0o750),
                entry("was-dir", data=b"now a file"),
                entry("keep-dir", tarfile.DIRTYPE, mode=0o711),
                entry("keep-dir/new", data=b"new"),
            ]
        ),
        tmp_path,
    )
    assert (tmp_path / "was-file").is_dir() and stat.S_IMODE(os.stat(tmp_path / "was-file").st_mode) == 0o750
    assert (tmp_path / "was-dir").read_bytes() == b"now a file"
    assert sorted(os.listdir(tmp_path / "keep-dir")) == ["new", "old"]
    assert stat.S_IMODE(os.stat(tmp_path / "keep-dir").st_mode) == 0o711


def test_directory_mtime_is_set_after_its_children(tmp_path: Path) -> None:
    extract(
        make_tar(
            [
                entry("d", tarfile.DIRTYPE, mode=0o555, mtime=1_000_000_000),
                entry("d/f", data=b"x", mtime=1_100_000_000),
                entry("d/sub", tarfile.DIRTYPE, mode=0o700, mtime=1_200_000_000),
                entry("d/sub/g", data=b"y"),
            ]
        ),
        tmp_path,
    )
    assert os.stat(tmp_path / "d").st_mtime == 1_000_000_000
    assert stat.S_IMODE(os.stat(tmp_path / "d").st_mode) == 0o555
    assert os.stat(tmp_path / "d/sub").st_mtime == 1_200_000_000
    assert os.stat(tmp_path / "d/f").st_mtime == 1_100_000_000


def test_a_directory_replaced_by_a_symlink_later_in_the_archive(tmp_path: Path) -> None:
    data = make_tar(
        [
            entry("real", tarfile.DIRTYPE, mode=0o700),
            entry("a", tarfile.DIRTYPE, mode=0o755),
            entry("a/b", tarfile.DIRTYPE, mode=0o755),
            entry("a", tarfile.SYMTYPE, link="real"),
        ]
    )
    extract(data, tmp_path)
    assert os.readlink(tmp_path / "a") == "real" and os.listdir(tmp_path / "real") == []


def test_pax_subsecond_mtime_and_big_ids(tmp_path: Path) -> None:
    data = make_tar([entry("f", data=b"x", pax={"mtime": "1600000000.25"}, uid=3_000_000, gid=2_500_000)])
    assert b"uid=3000000" in data  # beyond the 7 octal digits of a ustar header: a PAX record
    extract(data, tmp_path)
    st = os.stat(tmp_path / "f")
    assert st.st_mtime_ns == 1_600_000_000_250_000_000
    if os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (3_000_000, 2_500_000)


# ---------------------------------------------------------------------------------------------------------
# whiteouts


@pytest.mark.slow
@pytest.mark.root
@needs_root
def test_oci_whiteouts_become_overlay_whiteouts(tmp_path: Path) -> None:
    data = make_tar(
        [
            entry(".wh.gone"),
            entry("op", tarfile.DIRTYPE, mode=0o755),
            entry("op/keep", data=b"k"),
            entry("op/.wh..wh..opq"),  # after a sibling of the same layer: the sibling stays
            entry("sub/.wh.deep", mode=0o600),
            entry(".wh..wh.plnk", tarfile.DIRTYPE),  # AUFS bookkeeping: ignored
            entry(
                "evil",
                tarfile.DIRTYPE,
                mode=0o755,
                pax={
                    "SCHILY.xattr.trusted.overlay.opaque": "y",
                    "SCHILY.xattr.trusted.overlay.redirect": "/etc",
                    "SCHILY.xattr.user.note": "kept",
                },
            ),
        ]
    )
    result = extract(data, tmp_path, overlay_whiteouts=True)
    st = os.lstat(tmp_path / "gone")
    assert wh.is_overlay_whiteout(st) and stat.S_IMODE(st.st_mode) == 0 and (st.st_uid, st.st_gid) == (0, 0)
    assert wh.is_overlay_whiteout(os.lstat(tmp_path / "sub/deep"))
    assert wh.is_opaque_dir(str(tmp_path / "op"))
    assert (tmp_path / "op/keep").read_bytes() == b"k"
    assert not (tmp_path / ".wh..wh.plnk").exists()
    assert not wh.is_opaque_dir(str(tmp_path / "evil"))
    assert "trusted.overlay.redirect" not in os.listxattr(tmp_path / "evil")
    assert os.getxattr(tmp_path / "evil", "user.note") == b"kept"
    assert result.whiteouts == 3


def test_whiteouts_applied_to_a_full_tree(tmp_path: Path) -> None:
    for rel in ("a/x", "a/y", "a/deep/z", "b", "c/d/e", "keep"):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("lower")
    data = make_tar(
        [
            entry(".wh.b"),
            entry(".wh.c"),
            entry(".wh.never-existed"),
            entry("a", tarfile.DIRTYPE, mode=0o755),
            entry("a/-early", data=b"same layer, before the marker"),
            entry("a/.wh..wh..opq"),
            entry("a/y", data=b"upper"),
            entry("a/new", data=b"new"),
        ]
    )
    result = extract(data, tmp_path, overlay_whiteouts=False)
    assert listing(tmp_path) == {"a", "a/-early", "a/y", "a/new", "keep"}
    assert (tmp_path / "a/y").read_text() == "upper"
    assert result.whiteouts == 4


# ---------------------------------------------------------------------------------------------------------
# writing, round trips


def populate(root: Path, *, root_features: bool) -> None:
    """A tree with every kind of entry a layer carries."""
    os.makedirs(root / "bin")
    os.makedirs(root / "empty")
    os.makedirs(root / "tmp")
    os.makedirs(root / "deep/er/still")
    (root / "bin/tool").write_bytes(b"\x7fELF" + os.urandom(3000))
    (root / "bin/suid").write_bytes(b"#!/bin/sh\n")
    os.chmod(root / "bin/suid", 0o4755)
    os.chmod(root / "tmp", 0o1777)
    (root / "big").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    (root / "empty-file").write_bytes(b"")
    os.link(root / "bin/tool", root / "bin/tool-hardlink")
    os.link(root / "bin/tool", root / "deep/er/still/tool-again")
    os.symlink("tool", root / "bin/rel-link")
    os.symlink("/bin/tool", root / "abs-link")
    os.symlink("missing/target", root / "dangling")
    os.mkfifo(root / "fifo", 0o640)
    (root / "odd name\u00e9").write_text("x")
    (root / os.fsdecode(b"raw-\xff-byte")).write_text("not utf-8")
    os.setxattr(root / "bin/tool", "user.origin", b"\x00\xffbinary")
    os.setxattr(root / "deep", "user.dir", b"on a dir")
    if root_features:
        os.chown(root / "bin/suid", 1234, 5678)
        os.chmod(root / "bin/suid", 0o6755)  # chown cleared the setuid bit
        os.chown(root / "deep/er", 4321, 8765)
        os.lchown(root / "abs-link", 99, 98)
        os.mknod(root / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
        os.mknod(root / "loop9", stat.S_IFBLK | 0o660, os.makedev(7, 9))
        os.setxattr(root / "bin/suid", "trusted.dockyard-test", b"t")
        os.setxattr(root / "deep", "trusted.overlay.origin", b"never archived")
    t = 1_500_000_000
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in dirnames + filenames:
            os.utime(os.path.join(dirpath, name), (t, t), follow_symlinks=False)
            t += 1
    os.utime(root, (t, t))


def tar_of(src: Path, **kw: bool) -> bytes:
    out = io.BytesIO()
    write_layer_tar(str(src), out, **kw)
    return out.getvalue()


def _round_trip(tmp_path: Path, root_features: bool) -> None:
    src = tmp_path / "src"
    src.mkdir()
    populate(src, root_features=root_features)
    data = tar_of(src)
    assert data == tar_of(src), "the same tree must give the same bytes"
    dst = tmp_path / "dst"
    dst.mkdir()
    extract(data, dst)
    expected = tree(src)
    if root_features:
        mode, uid, gid, mtime, size, rdev, content, xattrs, group = expected["deep"]
        expected["deep"] = (mode, uid, gid, mtime, size, rdev, content, {"user.dir": b"on a dir"}, group)
    assert tree(dst) == expected
    assert tar_of(dst) == data, "extracting and re-archiving must give the same bytes"
    names = [m.name for m in tarfile.open(fileobj=io.BytesIO(data))]
    assert names.index("deep") < names.index("deep/er") < names.index("deep/er/still")  # parents first


def test_round_trip_as_any_user(tmp_path: Path) -> None:
    _round_trip(tmp_path, root_features=False)


@pytest.mark.slow
@pytest.mark.root
@needs_root
def test_round_trip_owners_devices_and_trusted_xattrs(tmp_path: Path) -> None:
    _round_trip(tmp_path, root_features=True)


def test_written_tar_is_plain_and_deterministic(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    populate(src, root_features=False)
    members = list(tarfile.open(fileobj=io.BytesIO(tar_of(src))))
    by_name = {m.name: m for m in members}
    assert "" not in by_name and "." not in by_name and "./" not in by_name
    assert all(m.uname == "" and m.gname == "" for m in members)
    tool = by_name["bin/tool"]
    assert by_name["bin/tool-hardlink"].islnk() and by_name["bin/tool-hardlink"].linkname == "bin/tool"
    assert by_name["deep/er/still/tool-again"].linkname == "bin/tool"
    assert (
        tool.pax_headers["SCHILY.xattr.user.origin"].encode("utf-8", "surrogateescape") == b"\x00\xffbinary"
    )
    assert by_name["fifo"].isfifo() and by_name["bin/suid"].mode == 0o4755
    assert by_name["tmp"].mode == 0o1777
    assert by_name["abs-link"].issym() and by_name["abs-link"].linkname == "/bin/tool"
    names = [m.name for m in members]
    assert len(names) == len(set(names))
    assert names[:4] == ["abs-link", "big", "bin", "bin/rel-link"]
    # GNU tar reads it the same way
    listed = subprocess.run(
        ["tar", "--quoting-style=literal", "-tf", "-"], input=tar_of(src), capture_output=True, check=True
    ).stdout
    assert [n.rstrip("/") for n in os.fsdecode(listed).splitlines()] == names
    # mtimes are whole seconds (truncated), like Docker's
    os.utime(src / "big", ns=(1, 1_500_000_000_999_999_999))
    assert tarfile.open(fileobj=io.BytesIO(tar_of(src))).getmember("big").mtime == 1_500_000_000


@pytest.mark.slow
@pytest.mark.root
@needs_root
def test_overlay_upper_converts_to_oci_and_back(tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    upper.mkdir()
    (upper / "etc").mkdir()
    (upper / "etc/hostname").write_text("box\n")
    wh.make_overlay_whiteout(str(upper / "etc/gone"))
    (upper / "var").mkdir()
    wh.set_opaque(str(upper / "var"))
    (upper / "var/fresh").write_text("fresh")
    os.setxattr(upper / "etc", "trusted.overlay.origin", b"\x00fh")
    os.setxattr(upper / "etc", "trusted.overlay.impure", b"y")
    data = tar_of(upper)
    members = list(tarfile.open(fileobj=io.BytesIO(data)))
    names = [m.name for m in members]
    assert names == ["etc", "etc/.wh.gone", "etc/hostname", "var", "var/.wh..wh..opq", "var/fresh"]
    by_name = {m.name: m for m in members}
    assert by_name["etc/.wh.gone"].isreg() and by_name["etc/.wh.gone"].size == 0
    assert by_name["var/.wh..wh..opq"].isreg()
    assert not any(k.startswith("SCHILY.xattr.trusted.overlay") for m in members for k in m.pax_headers)
    # without conversion the whiteout is a plain device and no marker is written
    plain = [m.name for m in tarfile.open(fileobj=io.BytesIO(tar_of(upper, overlay_upper=False)))]
    assert "etc/gone" in plain and "var/.wh..wh..opq" not in plain
    out = io.BytesIO()
    write_tree_tar(str(upper), out)
    assert out.getvalue() == tar_of(upper, overlay_upper=False)
    # back to an overlay layer directory: the same whiteouts, the same opaque directory
    layer = tmp_path / "layer"
    layer.mkdir()
    extract(data, layer, overlay_whiteouts=True)
    assert wh.is_overlay_whiteout(os.lstat(layer / "etc/gone"))
    assert wh.is_opaque_dir(str(layer / "var"))
    assert (layer / "var/fresh").read_text() == "fresh"
    assert tar_of(layer) == data


@pytest.mark.slow
@pytest.mark.root
@needs_root
def test_shared_whiteout_inodes_are_not_hardlinks(tmp_path: Path) -> None:
    # overlayfs may hard-link whiteouts to one shared inode; they must stay whiteouts in the tar.
    upper = tmp_path / "upper"
    upper.mkdir()
    wh.make_overlay_whiteout(str(upper / "a"))
    os.link(upper / "a", upper / "b")
    members = list(tarfile.open(fileobj=io.BytesIO(tar_of(upper))))
    assert [(m.name, m.type) for m in members] == [(".wh.a", tarfile.REGTYPE), (".wh.b", tarfile.REGTYPE)]


def test_plain_archives_keep_whiteout_names(tmp_path: Path) -> None:
    (tmp_path / "victim").write_text("stays")
    data = make_tar([entry(".wh.victim", data=b"a"), entry("d/.wh..wh..opq"), entry(".wh..", data=b"b")])
    result = extract(data, tmp_path, interpret_whiteouts=False)
    assert (tmp_path / "victim").read_text() == "stays"
    assert (tmp_path / ".wh.victim").read_bytes() == b"a" and (tmp_path / ".wh..").read_bytes() == b"b"
    assert (tmp_path / "d/.wh..wh..opq").is_file()
    assert result.whiteouts == 0 and result.entries == 3


@pytest.mark.slow
@pytest.mark.root
@needs_root
def test_tree_tar_stays_on_one_filesystem(tmp_path: Path) -> None:
    src = tmp_path / "rootfs"
    (src / "proc").mkdir(parents=True)
    (src / "etc").mkdir()
    (src / "etc/hostname").write_text("box")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "dockyard-test", str(src / "proc")], check=True)
    try:
        (src / "proc/inside-mount").write_text("other filesystem")
        out = io.BytesIO()
        write_tree_tar(str(src), out)
        names = [m.name for m in tarfile.open(fileobj=io.BytesIO(out.getvalue()))]
        assert names == ["etc", "etc/hostname", "proc"]
        everything = io.BytesIO()
        write_tree_tar(str(src), everything, one_file_system=False)
        assert "proc/inside-mount" in tarfile.open(fileobj=io.BytesIO(everything.getvalue())).getnames()
    finally:
        subprocess.run(["umount", str(src / "proc")], check=True)


@pytest.mark.slow
@pytest.mark.root
@needs_root
def test_works_in_a_mount_namespace_without_proc(tmp_path: Path) -> None:
    """Container views may have no /proc: extraction and archiving must not depend on /proc/self/fd."""
    archive = tmp_path / "layer.tar"
    archive.write_bytes(
        make_tar(
            [
                entry(
                    "fifo", tarfile.FIFOTYPE, mode=0o620, uid=7, gid=8, pax={"SCHILY.xattr.trusted.a": "1"}
                ),
                entry("null", tarfile.CHRTYPE, mode=0o666, dev=(1, 3), uid=5),
                entry("link", tarfile.SYMTYPE, link="null", pax={"SCHILY.xattr.trusted.t": "1"}),
                entry("op", tarfile.DIRTYPE, mode=0o755),
                entry("op/.wh..wh..opq"),
                entry(".wh.gone"),
            ]
        )
    )
    dest = tmp_path / "dest"
    dest.mkdir()
    code = (
        "import io, sys\n"
        "from engine.store.tar.extract import extract_layer\n"
        "from engine.store.tar.writer import write_layer_tar\n"
        "assert not __import__('os').path.exists('/proc/self')\n"
        f"extract_layer(open({str(archive)!r}, 'rb'), {str(dest)!r})\n"
        "out = io.BytesIO()\n"
        f"write_layer_tar({str(dest)!r}, out)\n"
        "sys.stdout.buffer.write(out.getvalue())\n"
    )
    repo = ROOT
    proc = subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            'mount -t tmpfs -o size=1m noproc /proc && exec "$0" -c "$1"',
            sys.executable,
            code,
        ],
        cwd=repo,
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    fifo = os.lstat(dest / "fifo")
    assert (
        stat.S_ISFIFO(fifo.st_mode)
        and stat.S_IMODE(fifo.st_mode) == 0o620
        and (fifo.st_uid, fifo.st_gid) == (7, 8)
    )
    assert os.getxattr(dest / "fifo", "trusted.a") == b"1"  # user.* cannot go on a FIFO; trusted.* can
    null = os.lstat(dest / "null")
    assert (
        stat.S_ISCHR(null.st_mode)
        and null.st_rdev == os.makedev(1, 3)
        and stat.S_IMODE(null.st_mode) == 0o666
    )
    assert null.st_uid == 5
    assert os.readlink(dest / "link") == "null"
    assert wh.is_opaque_dir(str(dest / "op")) and wh.is_overlay_whiteout(os.lstat(dest / "gone"))
    names = [m.name for m in tarfile.open(fileobj=io.BytesIO(proc.stdout))]
    assert names == ["fifo", ".wh.gone", "link", "null", "op", "op/.wh..wh..opq"]  # sorted by on-disk name


# ---------------------------------------------------------------------------------------------------------
# random archives: whatever they hold, nothing is written outside the destination

_PARTS = ["a", "b", "..", ".", "", ".wh.a", ".wh..wh..opq", ".wh..", "victim", "dest-evil"]


@st.composite
def _archives(draw: st.DrawFn) -> list[tuple[tarfile.TarInfo, bytes]]:
    names = st.lists(st.sampled_from(_PARTS), min_size=1, max_size=4).map("/".join)
    targets = st.one_of(names, names.map(lambda n: "/" + n), st.just("../victim/hello"))
    kinds = st.sampled_from(
        [tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE]
    )
    entries = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(kinds)
        link = draw(targets) if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
        entries.append(entry(draw(names), kind, b"data" if kind == tarfile.REGTYPE else b"", link=link))
    return entries


@settings(max_examples=150, deadline=None, database=None)
@given(archive=_archives(), overlay=st.booleans())
def test_random_archives_never_escape(archive: list[tuple[tarfile.TarInfo, bytes]], overlay: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="dockyard-test-") as tmp:
        base = Path(tmp)
        arena = {"dest": base / "dest", "victim": base / "victim", "evil": base / "dest-evil", "tmp": base}
        for d in ("dest", "victim", "evil"):
            arena[d].mkdir()
        (arena["victim"] / "hello").write_text("hello")
        os.symlink(str(arena["victim"]), arena["dest"] / "planted")
        try:
            extract(make_tar(archive), arena["dest"], overlay_whiteouts=overlay and os.geteuid() == 0)
        except UnsafeArchive:
            pass
        assert_untouched(arena)


@pytest.mark.slow
@pytest.mark.root
@needs_root
def test_unpacked_whiteouts_work_in_a_real_overlay_and_match_flattening(tmp_path: Path) -> None:
    base = make_tar(
        [
            entry("etc", tarfile.DIRTYPE, mode=0o755),
            entry("etc/a", data=b"a"),
            entry("etc/b", data=b"b"),
            entry("var", tarfile.DIRTYPE, mode=0o755),
            entry("var/x", tarfile.DIRTYPE, mode=0o755),
            entry("var/x/y", data=b"y"),
        ]
    )
    top = make_tar(
        [
            entry("etc", tarfile.DIRTYPE, mode=0o755),
            entry("etc/.wh.b"),
            entry("var", tarfile.DIRTYPE, mode=0o755),
            entry("var/.wh..wh..opq"),
            entry("var/new", data=b"n"),
        ]
    )
    l1, l2, merged, flat = (tmp_path / n for n in ("l1", "l2", "merged", "flat"))
    for d in (l1, l2, merged, flat):
        d.mkdir()
    extract(base, l1)
    extract(top, l2)
    extract(base, flat, overlay_whiteouts=False)
    extract(top, flat, overlay_whiteouts=False)
    subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={l2}:{l1}", str(merged)], check=True
    )
    try:
        seen = listing(merged)
        assert (merged / "var/new").read_bytes() == b"n"
    finally:
        subprocess.run(["umount", str(merged)], check=True)
    assert seen == {"etc", "etc/a", "var", "var/new"}
    assert listing(flat) == seen
