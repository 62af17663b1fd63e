"""The .dockerignore file: which paths of a build context the build may not see.

Rules (Docker's):

- One pattern per line. A line starting with ``#`` is a comment; blank lines are skipped; white space around
  a pattern is dropped. Patterns are cleaned like Go's ``filepath.Clean`` and a leading ``/`` is dropped,
  so ``/foo``, ``./foo`` and ``foo/`` all mean ``foo`` at the top of the context.
- ``*`` matches any run of characters except ``/``, ``?`` one character except ``/``, ``[a-z]`` a class
  (``[^...]`` or ``[!...]`` negates it), ``\\`` escapes the next character, and ``**`` matches any number
  of directories (``**/*.go``, ``docs/**``, ``a/**/b``).
- A line starting with ``!`` is an exception: it re-includes what earlier patterns excluded. The last
  pattern that matches a path decides.
- A pattern that matches a directory excludes everything under it, unless a later exception re-includes
  something below; :meth:`Matcher.may_contain_exceptions` tells a walker when it must still descend.

The Dockerfile and the .dockerignore file themselves are always read by the builder, whatever the patterns
say (Docker sends them to the builder separately); the patterns only decide what COPY and ADD can see of the
context. ``<Dockerfile name>.dockerignore`` next to the Dockerfile takes precedence over the context's
``.dockerignore``, as in BuildKit.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable, Iterator

from engine.build.words import GO_SPACE_CHARS
from engine.errors import BuildError
from engine.lean.record import record

__all__ = ["IGNORE_FILE", "Matcher", "Pattern", "clean_path", "load", "read_patterns", "walk"]

IGNORE_FILE = ".dockerignore"

_EXACT, _PREFIX, _SUFFIX, _REGEX = "exact", "prefix", "suffix", "regex"


class _BadPattern(Exception):
    pass


def clean_path(path: str) -> str:
    """Go's ``filepath.Clean`` for ``/``-separated paths ("" becomes ".")."""
    if not path:
        return "."
    out = posixpath.normpath(path)
    if out.startswith("//"):
        out = "/" + out.lstrip("/")
    return out


def _bracket(pattern: str, i: int) -> tuple[str, int]:
    """Translate the character class starting after the ``[`` at ``pattern[i-1]``; returns (regex, next i)."""
    n = len(pattern)
    negate = i < n and pattern[i] in "^!"
    if negate:
        i += 1
    ranges: list[str] = []

    def char() -> str:
        nonlocal i
        if i >= n or pattern[i] in "-]":
            raise _BadPattern
        if pattern[i] == "\\":
            i += 1
            if i >= n:
                raise _BadPattern
        ch = pattern[i]
        i += 1
        return ch

    while True:
        if i >= n:
            raise _BadPattern
        if pattern[i] == "]" and ranges:
            i += 1
            break
        lo = char()
        hi = lo
        if i < n and pattern[i] == "-":
            i += 1
            hi = char()
            if hi < lo:
                raise _BadPattern
        ranges.append(re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}")
    return "[" + ("^" if negate else "") + "".join(ranges) + "]", i


def _compile(pattern: str) -> tuple[str, re.Pattern[str] | None]:
    """Translate a cleaned pattern into (match kind, regex); mirrors Docker's pattern matcher."""
    parts = ["^"]
    kind = _EXACT
    i, n, token = 0, len(pattern), 0
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == "/":
                    i += 1
                if i >= n:
                    if kind == _EXACT:
                        kind = _PREFIX
                    else:
                        parts.append(".*")
                        kind = _REGEX
                else:
                    parts.append("(.*/)?")
                    kind = _REGEX
                if token == 0:
                    kind = _SUFFIX
            else:
                parts.append("[^/]*")
                kind = _REGEX
        elif ch == "?":
            parts.append("[^/]")
            kind = _REGEX
        elif ch == "\\":
            if i >= n:
                raise _BadPattern
            parts.append(re.escape(pattern[i]))
            i += 1
            kind = _REGEX
        elif ch == "[":
            cls, i = _bracket(pattern, i)
            parts.append(cls)
            kind = _REGEX
        else:
            parts.append(re.escape(ch))
        token += 1
    if kind != _REGEX:
        return kind, None
    return kind, re.compile("".join(parts) + r"\Z", re.DOTALL)


@record(frozen=True)
class Pattern:
    """One cleaned pattern; ``exclusion`` is True for a ``!`` exception."""

    text: str
    exclusion: bool
    line: int
    kind: str
    regex: re.Pattern[str] | None

    def match(self, path: str) -> bool:
        if self.kind == _EXACT:
            return path == self.text
        if self.kind == _PREFIX:
            return path.startswith(self.text[:-2])
        if self.kind == _SUFFIX:
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        assert self.regex is not None
        return self.regex.match(path) is not None


def read_patterns(text: str) -> list[tuple[int, str]]:
    """The patterns of a .dockerignore text as (line number, pattern), comments and blanks dropped."""
    out = []
    for lineno, raw in enumerate(text.split("\n"), 1):
        if lineno == 1:
            raw = raw.removeprefix("\ufeff")
        raw = raw.removesuffix("\r")
        if raw.startswith("#"):
            continue
        pattern = raw.strip(GO_SPACE_CHARS)
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip(GO_SPACE_CHARS)
        if pattern:
            pattern = clean_path(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        out.append((lineno, "!" + pattern if invert else pattern))
    return out


def _component_matches(pattern: str, name: str) -> bool:
    kind, regex = _compile(pattern)
    if regex is None:
        return pattern == name
    return regex.match(name) is not None


class Matcher:
    """Decides which context paths are excluded. Build it with :func:`load` or from pattern strings."""

    def __init__(self, patterns: Iterable[str | tuple[int, str]] = (), source: str = IGNORE_FILE) -> None:
        self.source = source
        self.patterns: list[Pattern] = []
        for index, item in enumerate(patterns, 1):
            line, text = item if isinstance(item, tuple) else (index, item)
            self._add(line, text)

    @classmethod
    def from_text(cls, text: str, source: str = IGNORE_FILE) -> Matcher:
        """Parse the contents of a .dockerignore file."""
        return cls(read_patterns(text), source)

    def _add(self, line: int, text: str) -> None:
        text = text.strip(GO_SPACE_CHARS)
        if not text:
            return
        text = clean_path(text)
        exclusion = text.startswith("!")
        if exclusion:
            if len(text) == 1:
                raise BuildError(f'{self.source}:{line}: illegal exclusion pattern: "!"')
            text = text[1:]
        try:
            kind, regex = _compile(text)
        except (_BadPattern, re.error):
            raise BuildError(f"{self.source}:{line}: syntax error in pattern: {text}") from None
        self.patterns.append(Pattern(text=text, exclusion=exclusion, line=line, kind=kind, regex=regex))

    @property
    def has_exceptions(self) -> bool:
        return any(p.exclusion for p in self.patterns)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def ignored(self, path: str) -> bool:
        """Whether ``path`` (relative to the context, ``/``-separated) is excluded from the build."""
        path = clean_path(path).lstrip("/")
        if path in ("", "."):
            return False
        parent = posixpath.dirname(path)
        parents = parent.split("/") if parent else []
        matched = False
        for pattern in self.patterns:
            # An exclusion can only change an excluded path, an inclusion only an included one.
            if pattern.exclusion != matched:
                continue
            match = pattern.match(path)
            if not match:
                for i in range(len(parents)):
                    if pattern.match("/".join(parents[: i + 1])):
                        match = True
                        break
            if match:
                matched = not pattern.exclusion
        return matched

    def may_contain_exceptions(self, directory: str) -> bool:
        """Whether some ``!`` exception could re-include a path under the excluded ``directory``
        (a walker must then descend into it and ask :meth:`ignored` for each entry)."""
        comps = [c for c in clean_path(directory).lstrip("/").split("/") if c not in ("", ".")]
        for pattern in self.patterns:
            if not pattern.exclusion:
                continue
            for k, part in enumerate(pattern.text.split("/")):
                if k >= len(comps) or "**" in part:
                    return True  # the exception can name something below the directory
                try:
                    if not _component_matches(part, comps[k]):
                        break
                except _BadPattern:
                    return True
            else:
                return True  # the exception matches the directory or one of its parents
        return False


def load(context_dir: str | os.PathLike[str], dockerfile: str | os.PathLike[str] | None = None) -> Matcher:
    """Read the ignore file for a build: ``<dockerfile>.dockerignore`` when it exists, else the context's
    ``.dockerignore``; no file means nothing is excluded. Raises BuildError on an invalid pattern."""
    candidates = []
    if dockerfile is not None:
        candidates.append(os.fspath(dockerfile) + IGNORE_FILE)
    candidates.append(os.path.join(context_dir, IGNORE_FILE))
    root = os.path.realpath(context_dir)
    for candidate in candidates:
        name = os.path.basename(candidate)
        if os.path.islink(candidate):
            real = os.path.realpath(candidate)
            if real != root and not real.startswith(root.rstrip(os.sep) + os.sep):
                # its lines would show in a pattern's syntax error: a file the context does not hold
                raise BuildError(
                    f"failed to read {name}: it is a symbolic link to {real}, outside the build "
                    f"context {context_dir}: refusing to read it"
                )
        try:
            with open(candidate, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise BuildError(f"failed to read {candidate}: {exc.strerror or exc}") from None
        return Matcher.from_text(data.decode("utf-8", errors="replace"), name)
    return Matcher()


def walk(context_dir: str | os.PathLike[str], matcher: Matcher | None = None) -> Iterator[str]:
    """The context's paths that are not excluded, relative and ``/``-separated, parents before children,
    in sorted order. Directories are not followed through symlinks. An excluded directory is skipped
    whole unless an exception may re-include something below it; then only the re-included entries are
    yielded (without the directory itself)."""
    matcher = matcher or Matcher()
    root = os.fspath(context_dir)

    def visit(rel: str) -> Iterator[str]:
        try:
            entries = sorted(os.scandir(os.path.join(root, rel) if rel else root), key=lambda e: e.name)
        except (NotADirectoryError, FileNotFoundError):
            return
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            if matcher.ignored(child):
                if is_dir and matcher.may_contain_exceptions(child):
                    yield from visit(child)
                continue
            yield child
            if is_dir:
                yield from visit(child)

    yield from visit("")
