"""``docker diff`` from an overlayfs upper directory, checked against a real overlay mount."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.store import whiteouts as wh
from engine.store.changes import Change, LowerView, diff_upper

pytestmark = [
    pytest.mark.slow,
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="overlay mounts and whiteouts need root"),
]


def write(path: Path, text: str = "x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def layers(tmp_path: Path) -> tuple[Path, Path]:
    """Two image layers: l1 at the bottom, l2 deleting and adding on top of it."""
    l1, l2 = tmp_path / "l1", tmp_path / "l2"
    for rel in (
        "etc/passwd",
        "etc/hostname",
        "etc/motd",
        "usr/bin/a",
        "usr/bin/b",
        "var/lib/x",
        "var/lib/y/z",
        "opt/keep/file",
    ):
        write(l1 / rel, "l1")
    (l1 / "tmp").mkdir()
    write(l2 / "etc/from-l2", "l2")
    (l2 / "usr/bin").mkdir(parents=True)
    wh.make_overlay_whiteout(str(l2 / "usr/bin/b"))
    (l2 / "opt/keep").mkdir(parents=True)
    wh.set_opaque(str(l2 / "opt/keep"))
    write(l2 / "opt/keep/only-l2", "l2")
    return l1, l2


@pytest.fixture
def overlay(tmp_path: Path, layers: tuple[Path, Path]) -> Iterator[tuple[Path, Path]]:
    """A mounted overlay of the two layers; yields (merged, upper) and always unmounts."""
    l1, l2 = layers
    upper, work, merged = tmp_path / "upper", tmp_path / "work", tmp_path / "merged"
    for d in (upper, work, merged):
        d.mkdir()
    opts = f"lowerdir={l2}:{l1},upperdir={upper},workdir={work},index=off,redirect_dir=off,metacopy=off"
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", opts, str(merged)], check=True)
    try:
        yield merged, upper
    finally:
        subprocess.run(["umount", str(merged)], check=True)
        shutil.rmtree(work, ignore_errors=True)


def test_lower_view_honours_layer_whiteouts_and_opaque_dirs(layers: tuple[Path, Path]) -> None:
    l1, l2 = layers
    view = LowerView([str(l2), str(l1)])
    assert view.lookup("usr/bin/a") is not None
    assert view.lookup("usr/bin/b") is None  # whiteout in l2
    assert view.lookup("opt/keep/file") is None  # hidden by the opaque directory in l2
    assert view.lookup("opt/keep/only-l2") is not None
    assert view.lookup("etc/from-l2") is not None
    assert view.lookup("nope/deeper") is None
    assert view.children("usr/bin") == ["a"]
    assert view.children("opt/keep") == ["only-l2"]
    assert view.children("etc/passwd") == []


def test_diff_upper_after_real_overlay_changes(overlay: tuple[Path, Path], layers: tuple[Path, Path]) -> None:
    merged, upper = overlay
    with open(merged / "etc/passwd", "a") as f:  # modify a lower file
        f.write("more\n")
    write(merged / "etc/newfile")  # add next to lower files
    os.unlink(merged / "etc/hostname")  # delete a lower file
    os.chmod(merged / "etc/from-l2", 0o600)  # metadata only
    shutil.rmtree(merged / "var/lib")  # replace a lower directory: it becomes opaque
    os.mkdir(merged / "var/lib")
    write(merged / "var/lib/x", "again")
    write(merged / "usr/bin/b", "recreated")  # deleted by the image's own layer: an addition
    write(merged / "newdir/sub/f")  # a new tree
    os.rmdir(merged / "tmp")  # delete a lower directory
    write(merged / "scratch")  # added then deleted: no trace
    os.unlink(merged / "scratch")
    assert wh.is_opaque_dir(str(upper / "var/lib"))

    l1, l2 = layers
    got = diff_upper(str(upper), [str(l2), str(l1)])  # as mounted: top-most first
    assert [str(c) for c in got] == [
        "C /etc",
        "C /etc/from-l2",
        "D /etc/hostname",
        "A /etc/newfile",
        "C /etc/passwd",
        "A /newdir",
        "A /newdir/sub",
        "A /newdir/sub/f",
        "D /tmp",
        "C /usr",
        "C /usr/bin",
        "A /usr/bin/b",
        "C /var",
        "C /var/lib",
        "C /var/lib/x",
        "D /var/lib/y",
    ]
    assert got[0] == Change("C", "/etc") and got[0].docker_kind == 0
    assert Change("A", "/x").docker_kind == 1 and Change("D", "/x").docker_kind == 2


def test_empty_upper_has_no_changes(tmp_path: Path, layers: tuple[Path, Path]) -> None:
    (tmp_path / "empty").mkdir()
    assert diff_upper(str(tmp_path / "empty"), [str(layers[1]), str(layers[0])]) == []
    assert diff_upper(str(tmp_path / "never-started"), [str(layers[1]), str(layers[0])]) == []
