"""dive-style numbers and trees over small hand-made layers whose expected values are worked out by hand."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import NotFound
from engine.store import whiteouts as wh
from engine.store.analysis import (
    PathUsage,
    ScanCache,
    Status,
    analyze_image,
    layer_tree,
    scan_layer,
)


def needs_root(test: Callable[..., None]) -> Callable[..., None]:
    """Whiteouts are device nodes and opaque markers trusted xattrs: these tests run as root."""
    for mark in (
        pytest.mark.slow,
        pytest.mark.root,
        pytest.mark.skipif(os.geteuid() != 0, reason="overlay whiteouts and opaque xattrs need root"),
    ):
        test = mark(test)
    return test


A, M, R, U = Status.ADDED, Status.MODIFIED, Status.REMOVED, Status.UNMODIFIED


def make_layer(root: Path, spec: dict[str, object]) -> str:
    """Build a layer directory: an int is a file of that many bytes, "dir" a directory, "wh" a whiteout,
    "opq" an opaque directory, ("link", target) a symlink, ("hard", other) a hard link."""
    root.mkdir(parents=True)
    for rel, what in spec.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(what, int):
            path.write_bytes(b"x" * what)
        elif what == "dir":
            path.mkdir(exist_ok=True)
        elif what == "opq":
            path.mkdir(exist_ok=True)
            wh.set_opaque(str(path))
        elif what == "wh":
            wh.make_overlay_whiteout(str(path))
        elif isinstance(what, tuple) and what[0] == "link":
            os.symlink(what[1], path)
        elif isinstance(what, tuple) and what[0] == "hard":
            os.link(root / what[1], path)
        else:
            raise AssertionError(what)
    return str(root)


def statuses(tree, **kw) -> dict[str, tuple[Status, int]]:  # type: ignore[no-untyped-def]
    return {e.path: (e.status, e.size) for e in tree.walk() if e.path != "/"}


def test_replaced_file_the_example_from_dive(tmp_path: Path) -> None:
    l1 = make_layer(tmp_path / "l1", {"f": 1000})
    l2 = make_layer(tmp_path / "l2", {"f": 10})
    a = analyze_image([l1, l2])
    assert a.efficiency == pytest.approx(10 / 1010)
    assert a.wasted_bytes == 1010
    assert a.inefficiencies == [PathUsage("/f", 2, 1010, 10)]
    assert a.total_size == 1010
    assert [(s.size, s.entries, s.added, s.modified, s.removed) for s in a.layers] == [
        (1000, 1, 1, 0, 0),
        (10, 1, 0, 1, 0),
    ]
    assert statuses(a.tree(1)) == {"/f": (M, 10)}
    assert statuses(a.tree(0)) == {"/f": (A, 1000)}
    f = a.tree().get("/f")
    assert f is not None and f.kind == "file" and f.layer == 1 and not f.is_dir and f.name == "f"


def test_nothing_duplicated_is_fully_efficient(tmp_path: Path) -> None:
    l1 = make_layer(tmp_path / "l1", {"usr/bin/a": 100, "usr/lib/b": 50})
    l2 = make_layer(tmp_path / "l2", {"usr/bin/c": 25, "etc/d": 5})
    a = analyze_image([l1, l2])
    assert a.efficiency == 1.0  # /usr and /usr/bin appear twice but weigh nothing
    assert a.wasted_bytes == 0 and a.inefficiencies == []
    tree = a.tree(1)
    assert statuses(tree) == {
        "/etc": (A, 5),
        "/etc/d": (A, 5),
        "/usr": (M, 175),
        "/usr/bin": (M, 125),
        "/usr/bin/a": (U, 100),
        "/usr/bin/c": (A, 25),
        "/usr/lib": (U, 50),
        "/usr/lib/b": (U, 50),
    }
    assert tree.root.size == 180 and tree.root.status == M
    assert [e.name for e in tree.children("/usr/bin")] == ["a", "c"]
    assert [e.path for e in tree.walk("/usr")] == [
        "/usr",
        "/usr/bin",
        "/usr/bin/a",
        "/usr/bin/c",
        "/usr/lib",
        "/usr/lib/b",
    ]
    changed = a.tree(1, only_changes=True)
    assert [e.path for e in changed.walk()] == ["/", "/etc", "/etc/d", "/usr", "/usr/bin", "/usr/bin/c"]
    assert changed.counts() == {A: 3, M: 2, R: 0, U: 0}


def test_empty_images_and_layers(tmp_path: Path) -> None:
    empty = analyze_image([])
    assert empty.efficiency == 1.0 and empty.wasted_bytes == 0 and len(empty.tree()) == 0
    only_dirs = analyze_image(
        [make_layer(tmp_path / "l1", {"a/b": "dir"}), make_layer(tmp_path / "l2", {"a/b": "dir"})]
    )
    assert only_dirs.efficiency == 1.0 and only_dirs.wasted_bytes == 0
    with pytest.raises(NotFound):
        only_dirs.tree(5)
    with pytest.raises(NotFound):
        scan_layer(str(tmp_path / "missing"))


def test_hard_links_count_once_per_layer(tmp_path: Path) -> None:
    l1 = make_layer(tmp_path / "l1", {"f": 100, "g": ("hard", "f"), "s": ("link", "f")})
    a = analyze_image([l1])
    assert a.layers[0].size == 100 and a.total_size == 100
    tree = a.tree()
    assert [(e.path, e.size, e.kind) for e in tree.walk()][1:] == [
        ("/f", 100, "file"),
        ("/g", 0, "file"),
        ("/s", 0, "symlink"),
    ]
    link = tree.get("/s")
    assert link is not None and link.link_target == "f" and stat.S_ISLNK(link.mode)


def test_directory_replaced_by_a_file(tmp_path: Path) -> None:
    l1 = make_layer(tmp_path / "l1", {"d/x": 10})
    l2 = make_layer(tmp_path / "l2", {"d": 3})
    a = analyze_image([l1, l2])
    # /d: a 0-byte directory then a 3-byte file; /d/x: 10 bytes stored, then removed (10 again)
    assert a.wasted_bytes == 3 + 20
    assert a.efficiency == pytest.approx((0 + 10) / (3 + 20))
    assert statuses(a.tree(1)) == {"/d": (M, 3)}


@needs_root
def test_whiteouts_count_what_they_remove(tmp_path: Path) -> None:
    l1 = make_layer(tmp_path / "l1", {"a": 100, "d/x": 200, "d/y": 300, "keep": 50})
    l2 = make_layer(tmp_path / "l2", {"a": "wh", "d": "wh", "new": 7, "ghost": "wh"})
    a = analyze_image([l1, l2])
    # a: 100 + 100 removed; d/x: 200 + 200; d/y: 300 + 300; d: 0 + 0; keep 50; new 7; ghost: 0
    assert a.wasted_bytes == 200 + 400 + 600
    assert a.efficiency == pytest.approx((100 + 200 + 300 + 50 + 7) / (200 + 400 + 600 + 50 + 7))
    assert [(p.path, p.copies, p.cumulative_size, p.smallest_size) for p in a.inefficiencies] == [
        ("/d/y", 2, 600, 300),
        ("/d/x", 2, 400, 200),
        ("/a", 2, 200, 100),
    ]
    assert [(s.added, s.modified, s.removed) for s in a.layers] == [(5, 0, 0), (1, 0, 2)]
    tree = a.tree(1)
    assert statuses(tree) == {
        "/a": (R, 100),
        "/d": (R, 500),
        "/d/x": (R, 200),
        "/d/y": (R, 300),
        "/keep": (U, 50),
        "/new": (A, 7),
    }
    assert tree.root.size == 57
    assert statuses(a.tree(0)) == {
        "/a": (A, 100),
        "/d": (A, 500),
        "/d/x": (A, 200),
        "/d/y": (A, 300),
        "/keep": (A, 50),
    }


@needs_root
def test_opaque_directory_hides_lower_content(tmp_path: Path) -> None:
    l1 = make_layer(tmp_path / "l1", {"o/x": 10, "o/y": 20, "o/sub/z": 30})
    l2 = make_layer(tmp_path / "l2", {"o": "opq", "o/y": 5})
    a = analyze_image([l1, l2])
    # o/x 10 + 10 hidden; o/y 20 + 5; o/sub/z 30 + 30 hidden; directories weigh 0
    assert a.wasted_bytes == 20 + 25 + 60
    assert a.efficiency == pytest.approx((10 + 5 + 30) / (20 + 25 + 60))
    assert [(s.added, s.modified, s.removed) for s in a.layers] == [(5, 0, 0), (0, 1, 0)]
    assert statuses(a.tree(1)) == {
        "/o": (M, 5),
        "/o/sub": (R, 30),
        "/o/sub/z": (R, 30),
        "/o/x": (R, 10),
        "/o/y": (M, 5),
    }


@needs_root
def test_aggregated_tree_compares_with_the_base_layer(tmp_path: Path) -> None:
    l1 = make_layer(tmp_path / "l1", {"base": 1, "stay": 4})
    l2 = make_layer(tmp_path / "l2", {"a": 2, "tmp": 9})
    l3 = make_layer(tmp_path / "l3", {"a": 3, "base": "wh", "tmp": "wh"})
    a = analyze_image([l1, l2, l3])
    assert statuses(a.tree(2)) == {"/a": (M, 3), "/base": (R, 1), "/stay": (U, 4), "/tmp": (R, 9)}
    # since the base layer: a and tmp never existed there, so a is added and tmp simply is not there
    assert statuses(a.tree(2, aggregated=True)) == {"/a": (A, 3), "/base": (R, 1), "/stay": (U, 4)}
    assert statuses(a.image_tree()) == statuses(a.tree(2, aggregated=True))
    assert statuses(a.tree(2, since=0)) == {"/a": (A, 3), "/stay": (A, 4)}
    # base: 1 + 1 removed; a: 2 + 3; tmp: 9 + 9 removed; stay 4
    assert a.wasted_bytes == 2 + 5 + 18
    assert a.efficiency == pytest.approx((1 + 2 + 9 + 4) / (2 + 5 + 18 + 4))


@needs_root
def test_deleted_then_recreated_directory_keeps_its_removed_files(tmp_path: Path) -> None:
    l1 = make_layer(tmp_path / "l1", {"d/old": 8})
    l2 = make_layer(tmp_path / "l2", {"d": "wh"})
    l3 = make_layer(tmp_path / "l3", {"d/new": 2})
    a = analyze_image([l1, l2, l3])
    assert statuses(a.tree(2, aggregated=True)) == {"/d": (M, 2), "/d/new": (A, 2), "/d/old": (R, 8)}
    assert statuses(a.tree(2)) == {"/d": (A, 2), "/d/new": (A, 2)}


@needs_root
def test_layer_tree_of_a_container_upper_dir(tmp_path: Path) -> None:
    l1 = make_layer(tmp_path / "l1", {"etc/passwd": 30, "etc/hosts": 10, "var/log/old": 5, "bin/sh": 100})
    upper = make_layer(
        tmp_path / "upper", {"etc/passwd": 35, "etc/hosts": "wh", "var/log": "opq", "var/log/new": 1}
    )
    cache = ScanCache()
    tree = layer_tree(upper, [l1], cache=cache)
    assert statuses(tree) == {
        "/bin": (U, 100),
        "/bin/sh": (U, 100),
        "/etc": (M, 35),
        "/etc/hosts": (R, 10),
        "/etc/passwd": (M, 35),
        "/var": (M, 1),
        "/var/log": (M, 1),
        "/var/log/new": (A, 1),
        "/var/log/old": (R, 5),
    }
    only = layer_tree(upper, [l1], only_changes=True, cache=cache)
    assert "/bin" not in only and "/etc/hosts" in only
    # the upper directory is rescanned every time, the image's layers come from the cache
    os.unlink(os.path.join(upper, "var/log/new"))
    assert "/var/log/new" not in layer_tree(upper, [l1], cache=cache)
    assert cache.get(l1) is cache.get(l1)
    fresh = layer_tree(str(tmp_path / "not-yet"), [l1], cache=cache)
    assert fresh.counts()[U] == len(fresh) == 8


@needs_root
def test_layer_tree_takes_lower_dirs_as_mounted_top_most_first(tmp_path: Path) -> None:
    base = make_layer(tmp_path / "base", {"f": 3, "g": 4})
    top = make_layer(tmp_path / "top", {"f": "wh"})
    upper = make_layer(tmp_path / "upper", {"g": 5})
    assert statuses(layer_tree(upper, [top, base])) == {"/g": (M, 5)}
