"""Removing trees from the engine's tmp: everything under the directory goes, nothing a symlink points at."""

from __future__ import annotations

import os

from engine.store.tmp import remove_tree


def test_removes_a_tree_with_read_only_parts_but_not_symlink_targets(tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    tree = tmp_path / "tree"
    deep = tree / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (deep / "f").write_text("x")
    (tree / "a" / "link-dir").symlink_to(outside)
    (tree / "link-file").symlink_to(outside / "keep.txt")
    (tree / "dangling").symlink_to(tmp_path / "nowhere")
    locked = tree / "locked"
    locked.mkdir()
    (locked / "inside").write_text("y")
    os.chmod(locked / "inside", 0o000)
    os.chmod(locked, 0o000)
    os.mkfifo(tree / "fifo")

    remove_tree(str(tree))

    assert not tree.exists()
    assert (outside / "keep.txt").read_text() == "keep"


def test_removes_a_file_a_symlink_and_nothing(tmp_path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    link = tmp_path / "l"
    link.symlink_to(tmp_path)
    remove_tree(str(f))
    remove_tree(str(link))
    remove_tree(str(tmp_path / "absent"))
    assert not f.exists() and not os.path.lexists(link) and tmp_path.is_dir()


def test_remove_tree_removes_a_tree_deeper_than_the_recursion_limit_and_the_open_files(tmp_path) -> None:
    import resource
    import sys

    top = tmp_path / "deep"
    top.mkdir()
    depth = max(sys.getrecursionlimit(), resource.getrlimit(resource.RLIMIT_NOFILE)[0]) + 100
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(depth):  # a/a/a/... with a file, a symlink and a sibling directory at each level
            os.mkdir("a", dir_fd=fd)
            os.mkdir("b", dir_fd=fd)
            os.symlink("/etc", "l", dir_fd=fd)
            os.close(os.open("f", os.O_CREAT | os.O_WRONLY, dir_fd=fd))
            child = os.open("a", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = child
    finally:
        os.close(fd)
    remove_tree(str(top))
    assert not top.exists() and os.path.isdir("/etc")
