""".dockerignore reading and matching."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.build.dockerignore import Matcher, clean_path, load, read_patterns, walk
from engine.errors import BuildError


def test_read_patterns_comments_blanks_and_cleaning() -> None:
    text = (
        "\ufeff# comment\n"
        "\n"
        "   \n"
        " # not a comment: leading blank\n"
        "./src/../build/\n"
        "/abs\r\n"
        "! keep.txt \n"
        "!/abs/keep\n"
        "a//b/./c\n"
        "/\n"
        "  *.log  \n"
    )
    assert read_patterns(text) == [
        (4, "# not a comment: leading blank"),
        (5, "build"),
        (6, "abs"),
        (7, "!keep.txt"),
        (8, "!abs/keep"),
        (9, "a/b/c"),
        (10, "/"),
        (11, "*.log"),
    ]


def test_clean_path_is_go_filepath_clean() -> None:
    assert clean_path("") == "."
    assert clean_path("a/b/../c/") == "a/c"
    assert clean_path("//a//b") == "/a/b"
    assert clean_path("../x") == "../x"
    assert clean_path("/..") == "/"


MATCHES = [
    # (patterns, path, ignored)
    (["foo"], "foo", True),
    (["foo"], "foo/bar", True),
    (["foo"], "foobar", False),
    (["foo"], "x/foo", False),
    (["*.md"], "README.md", True),
    (["*.md"], "docs/README.md", False),
    (["*/*.md"], "docs/README.md", True),
    (["**/*.md"], "docs/a/README.md", True),
    (["**/*.md"], "README.md", True),
    (["**/node_modules"], "a/b/node_modules/x/y.js", True),
    (["**/node_modules"], "node_modules", True),
    (["docs/**"], "docs/a/b", True),
    (["docs/**"], "docs", False),
    (["a/**/b"], "a/b", True),
    (["a/**/b"], "a/x/y/b", True),
    (["a/**/b"], "a/x/y/c", False),
    (["**"], "anything/at/all", True),
    (["fo?"], "foo", True),
    (["fo?"], "fo/", False),
    (["fo?"], "fooo", False),
    (["a*b"], "a/b", False),
    (["a*b"], "axxb", True),
    (["[a-c]x"], "bx", True),
    (["[a-c]x"], "dx", False),
    (["[^a-c]x"], "dx", True),
    (["[!a-c]x"], "ax", False),
    (["[\\]]x"], "]x", True),
    (["\\*"], "*", True),
    (["\\*"], "a", False),
    (["a.b"], "axb", False),
    (["a+(b)|{c}$"], "a+(b)|{c}$", True),
    (["/abs/path"], "abs/path", True),
    (["./rel"], "rel", True),
    (["dir/"], "dir/file", True),
    (["*", "!keep"], "keep", False),
    (["*", "!keep"], "other", True),
    (["*.txt", "!important.txt", "important.txt"], "important.txt", True),
    (["build", "!build/keep.txt"], "build/keep.txt", False),
    (["build", "!build/keep.txt"], "build/other.txt", True),
    (["build/*", "!build/keep"], "build/keep/deep/file", False),
    (["!keep", "keep"], "keep", True),
    (["*.go", "!main.go"], "cmd/x.go", False),
    ([], "anything", False),
]


@pytest.mark.parametrize(("patterns", "path", "ignored"), MATCHES)
def test_matching(patterns: list[str], path: str, ignored: bool) -> None:
    matcher = Matcher.from_text("\n".join(patterns))
    assert matcher.ignored(path) is ignored


def test_paths_are_normalised() -> None:
    matcher = Matcher.from_text("secret\nlogs/*.log\n")
    for path in ("secret", "./secret", "/secret", "secret/", "secret//x", "a/../secret"):
        assert matcher.ignored(path), path
    assert matcher.ignored("logs/./a.log")
    assert not matcher.ignored(".")
    assert not matcher.ignored("")


def test_errors_name_file_and_line() -> None:
    with pytest.raises(BuildError, match=r'^\.dockerignore:2: illegal exclusion pattern: "!"'):
        Matcher.from_text("ok\n!\n")
    with pytest.raises(BuildError, match=r"^\.dockerignore:1: syntax error in pattern"):
        Matcher.from_text("[abc\n")
    with pytest.raises(BuildError, match="syntax error in pattern"):
        Matcher.from_text("abc\\")
    with pytest.raises(BuildError, match="syntax error in pattern"):
        Matcher.from_text("[z-a]")


def test_may_contain_exceptions() -> None:
    matcher = Matcher.from_text("build\ndocs\nvendor\n!build/keep.txt\n!vendor/*/LICENSE\n!**/README.md\n")
    assert matcher.has_exceptions
    assert matcher.may_contain_exceptions("build")
    assert matcher.may_contain_exceptions("vendor")
    assert matcher.may_contain_exceptions("vendor/lib")
    assert matcher.may_contain_exceptions("docs"), "**/README.md may be below docs"
    plain = Matcher.from_text("build\ndocs\n!build/keep.txt\n!src\n")
    assert plain.may_contain_exceptions("build")
    assert not plain.may_contain_exceptions("docs")
    assert not plain.may_contain_exceptions("build/sub")
    assert plain.may_contain_exceptions("src/generated"), "an exception on a parent re-includes it"
    assert not Matcher.from_text("build\n").may_contain_exceptions("build")


def _make_tree(root: Path, files: list[str]) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)


def test_load_and_walk(tmp_path: Path) -> None:
    _make_tree(
        tmp_path,
        [
            "Dockerfile",
            "app.py",
            "README.md",
            "notes.md",
            "build/out.bin",
            "build/keep.txt",
            "src/main.py",
            "src/x.pyc",
        ],
    )
    (tmp_path / ".dockerignore").write_text(
        "# build output\nbuild\n!build/keep.txt\n*.md\n!README.md\n**/*.pyc\n"
    )
    (tmp_path / "link").symlink_to("src")
    matcher = load(tmp_path)
    assert matcher.source == ".dockerignore"
    assert list(walk(tmp_path, matcher)) == [
        ".dockerignore",
        "Dockerfile",
        "README.md",
        "app.py",
        "build/keep.txt",
        "link",
        "src",
        "src/main.py",
    ]
    assert len(list(walk(tmp_path))) == 12


def test_dockerfile_specific_ignore_file_wins(tmp_path: Path) -> None:
    _make_tree(tmp_path, ["a.txt", "b.txt", "docker/app.Dockerfile"])
    (tmp_path / ".dockerignore").write_text("a.txt\n")
    (tmp_path / "docker" / "app.Dockerfile.dockerignore").write_text("b.txt\n")
    specific = load(tmp_path, tmp_path / "docker" / "app.Dockerfile")
    assert specific.source == "app.Dockerfile.dockerignore"
    assert specific.ignored("b.txt") and not specific.ignored("a.txt")
    general = load(tmp_path, tmp_path / "Dockerfile")
    assert general.ignored("a.txt") and not general.ignored("b.txt")


def test_missing_ignore_file_excludes_nothing(tmp_path: Path) -> None:
    matcher = load(tmp_path)
    assert not matcher and not matcher.ignored("anything")


def test_unreadable_ignore_file(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").mkdir()
    with pytest.raises(BuildError, match="failed to read"):
        load(tmp_path)


def test_walk_skips_excluded_directories_entirely(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _make_tree(tmp_path, ["node_modules/a/b/c.js", "src/index.js"])
    matcher = Matcher.from_text("node_modules\n")
    visited: list[str] = []
    real_scandir = os.scandir

    def recording_scandir(path: Path) -> Iterator[os.DirEntry[str]]:
        visited.append(str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", recording_scandir)
    assert list(walk(tmp_path, matcher)) == ["src", "src/index.js"]
    assert visited and not any("node_modules" in v for v in visited)
