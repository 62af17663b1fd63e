"""The build context: the directory COPY and ADD take files from, as .dockerignore lets the build see it.

:class:`BuildContext` walks the context once (lazily, skipping what .dockerignore excludes), matches
COPY/ADD source patterns against it (Go's ``filepath.Match`` per path component, as Docker does: ``*``,
``?``, ``[a-z]``, ``\\`` escapes; no ``**``), and gives file checksums for cache keys. A checksum covers a
file's content only (sha256); the mode and owner a file gets in the layer are added by the caller, and the
modification time is never part of a key. Checksums are remembered by (inode, size, mtime, ctime), so a
long-lived context (watch mode) hashes only what changed.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import posixpath
import re
import stat
from typing import NamedTuple

from engine.build import dockerignore
from engine.errors import BuildError

__all__ = ["BuildContext", "ChecksumCache", "Source", "has_glob", "match_component"]

_GLOB_CHARS = re.compile(r"[*?\[\\]")


def has_glob(pattern: str) -> bool:
    return bool(_GLOB_CHARS.search(pattern))


def _component_to_fnmatch(pattern: str) -> str:
    """Go's filepath.Match syntax for one component in fnmatch's: ``\\x`` escapes, ``[^...]`` negation."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(
                "[" + pattern[i + 1] + "]" if pattern[i + 1] not in "]!^" else re.escape(pattern[i + 1])
            )
            i += 2
            continue
        if ch == "[" and i + 1 < len(pattern) and pattern[i + 1] == "^":
            out.append("[!")
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def match_component(pattern: str, name: str) -> bool:
    return fnmatch.fnmatchcase(name, _component_to_fnmatch(pattern))


class ChecksumCache:
    """sha256 of file contents, remembered while the file's inode, size, mtime and ctime stay the same."""

    def __init__(self) -> None:
        self._sums: dict[str, tuple[tuple[int, int, int, int], str]] = {}

    def file(self, path: str, st: os.stat_result | None = None) -> str:
        st = st or os.stat(path)
        sig = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        known = self._sums.get(path)
        if known is not None and known[0] == sig:
            return known[1]
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        digest = h.hexdigest()
        self._sums[path] = (sig, digest)
        return digest


class Source(NamedTuple):
    """A path of the context selected by a COPY/ADD source: relative path ("." for the root) and lstat."""

    rel: str
    path: str
    st: os.stat_result


class BuildContext:
    """The context directory of a build and what .dockerignore lets it see."""

    def __init__(self, root: str, dockerfile: str | None = None, sums: ChecksumCache | None = None) -> None:
        self.root = os.path.realpath(root)
        if not os.path.isdir(self.root):
            raise BuildError(f"unable to prepare context: path {root!r} not found")
        self.matcher = dockerignore.load(self.root, dockerfile)
        self.sums = sums or ChecksumCache()
        self._paths: list[str] | None = None
        self._set: set[str] | None = None

    # -- the visible tree -------------------------------------------------------------------------------
    def paths(self) -> list[str]:
        """Every visible path of the context, relative, parents first, sorted."""
        if self._paths is None:
            self._paths = list(dockerignore.walk(self.root, self.matcher))
            self._set = set(self._paths)
        return self._paths

    def visible(self, rel: str) -> bool:
        """Whether the build may see ``rel``: it exists, no directory on the way is a symlink, and
        .dockerignore does not exclude it (what :meth:`paths` would list, without walking everything)."""
        if rel in ("", "."):
            return True
        if self._set is not None:
            return rel in self._set
        path = self.abspath(rel)
        parent = os.path.dirname(path)
        if not os.path.lexists(path) or os.path.realpath(parent) != parent:
            return False
        return not self.matcher.ignored(rel)

    def lstat(self, rel: str) -> os.stat_result:
        return os.lstat(self.abspath(rel))

    def abspath(self, rel: str) -> str:
        return self.root if rel in ("", ".") else os.path.join(self.root, rel)

    def below(self, rel: str) -> list[str]:
        """The visible paths under directory ``rel`` (relative to the context), parents first."""
        paths = self.paths()
        if rel in ("", "."):
            return list(paths)
        prefix = rel + "/"
        return [p for p in paths if p.startswith(prefix)]

    # -- COPY sources -----------------------------------------------------------------------------------
    def select(self, source: str, keyword: str = "COPY") -> list[Source]:
        """The context paths a COPY/ADD source names: one path, or every match of a pattern (sorted).

        Raises BuildError with Docker's wording when nothing matches."""
        rel = posixpath.normpath("/" + source).lstrip("/") or "."
        if not has_glob(rel):
            return [self._one(rel, source, keyword)]
        parts = rel.split("/")
        found = []
        for path in self.paths():
            names = path.split("/")
            if len(names) == len(parts) and all(
                match_component(p, n) for p, n in zip(parts, names, strict=True)
            ):
                found.append(Source(path, self.abspath(path), self.lstat(path)))
        if not found:
            raise BuildError(f"{keyword} failed: no source files were specified (nothing matches {source})")
        return found

    def _one(self, rel: str, written: str, keyword: str) -> Source:
        missing = BuildError(
            f"{keyword} failed: file not found in build context or excluded by .dockerignore: "
            f"stat {written.lstrip('/') or '.'}: file does not exist"
        )
        if rel != "." and not self.visible(rel):
            resolved = self._follow(rel)
            if resolved is None:
                raise missing
            rel = resolved
        path = self.abspath(rel)
        try:
            st = os.lstat(path)
        except OSError:
            raise missing from None
        if stat.S_ISLNK(st.st_mode):
            target = self._follow(rel)
            if target is None:
                raise missing
            return Source(target, self.abspath(target), self.lstat(target))
        return Source(rel, path, st)

    def resolve(self, rel: str, written: str, keyword: str) -> str:
        """The visible context path ``rel`` names (a symlink followed inside the context), or BuildError
        in Docker's words when there is none."""
        return self._one(rel, written, keyword).rel

    def isdir(self, rel: str) -> bool:
        return os.path.isdir(self.abspath(rel)) and not os.path.islink(self.abspath(rel))

    def _follow(self, rel: str) -> str | None:
        """``rel`` with symlinks resolved inside the context; None when it leaves it or is not visible."""
        real = os.path.realpath(self.abspath(rel))
        if real != self.root and not real.startswith(self.root + os.sep):
            return None
        out = os.path.relpath(real, self.root)
        if out == ".":
            return out
        if not self.visible(out) or not os.path.lexists(real):
            return None
        return out

    def checksum(self, rel: str, st: os.stat_result | None = None) -> str:
        return self.sums.file(self.abspath(rel), st)
