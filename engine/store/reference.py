"""Image references as Docker users type them: ``busybox``, ``busybox:1.36``, ``localhost:5000/a/b:v1``,
``name@sha256:...``.

dockyard keeps short names short (``busybox:latest``, not ``docker.io/library/busybox:latest``), like the
``docker images`` display.
"""

from __future__ import annotations

from engine.lean.record import record

from ..errors import InvalidArgument

_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_ALNUM = _LOWER | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_WORD = _ALNUM | {"_"}
_HEX = frozenset("0123456789abcdef")

# The grammar is Docker's (distribution/reference), checked by hand: ``re`` costs ~6 ms to import, on every
# ``create`` and ``run``.


def _is_component(s: str) -> bool:
    """``[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*``: lowercase runs joined by ``.``, ``_``, ``__`` or dashes."""
    i, n = 0, len(s)
    while True:
        run = i
        while i < n and s[i] in _LOWER:
            i += 1
        if i == run:
            return False
        if i == n:
            return True
        sep = i
        while i < n and s[i] not in _LOWER:
            i += 1
        if s[sep:i] not in (".", "_", "__") and s[sep:i].strip("-"):
            return False


def _is_domain(s: str) -> bool:
    """Host labels (letters, digits, inner dashes) joined by dots, then an optional ``:port``."""
    host, colon, port = s.partition(":")
    if colon and not (port and port.isascii() and port.isdigit()):
        return False
    for label in host.split("."):
        if (
            not label
            or label[0] == "-"
            or label[-1] == "-"
            or not all(c in _ALNUM or c == "-" for c in label)
        ):
            return False
    return True


def _is_name(name: str) -> bool:
    parts = name.split("/")
    if len(parts) > 1 and _is_domain(parts[0]) and all(_is_component(p) for p in parts[1:]):
        return True
    return all(_is_component(p) for p in parts)


def _is_tag(tag: str) -> bool:
    """``[\\w][\\w.-]{0,127}`` with ASCII word characters."""
    return 0 < len(tag) <= 128 and tag[0] in _WORD and all(c in _WORD or c in ".-" for c in tag)


def _is_hex(s: str, lo: int, hi: int) -> bool:
    return lo <= len(s) <= hi and all(c in _HEX for c in s)


DEFAULT_TAG = "latest"


@record(frozen=True)
class Reference:
    name: str  # repository, e.g. "busybox" or "localhost:5000/team/app"
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        s = self.name
        if self.tag:
            s += ":" + self.tag
        if self.digest:
            s += "@" + self.digest
        return s

    @property
    def tagged(self) -> str:
        """``name:tag`` with the default tag filled in."""
        return f"{self.name}:{self.tag or DEFAULT_TAG}"

    @property
    def domain(self) -> str | None:
        first, sep, _rest = self.name.partition("/")
        if sep and ("." in first or ":" in first or first == "localhost"):
            return first
        return None


def parse(ref: str, default_tag: bool = True) -> Reference:
    """Parse ``ref``; raise InvalidArgument with Docker's wording when it is malformed."""
    if not ref or ref != ref.strip():
        raise InvalidArgument("invalid reference format")
    name, digest = ref, None
    if "@" in ref:
        name, _, digest = ref.partition("@")
        if not (digest.startswith("sha256:") and _is_hex(digest[7:], 64, 64)):
            raise InvalidArgument("invalid reference format")
    tag = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _is_tag(tag):
            raise InvalidArgument("invalid reference format")
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    if not _is_name(name):
        lower = name.lower()
        if lower != name and _is_name(lower):
            raise InvalidArgument(f"invalid reference format: repository name ({name}) must be lowercase")
        raise InvalidArgument("invalid reference format")
    if len(name) > 255:
        raise InvalidArgument(
            "invalid reference format: repository name must not be more than 255 characters"
        )
    if tag is None and digest is None and default_tag:
        tag = DEFAULT_TAG
    return Reference(name, tag, digest)


def looks_like_id(s: str) -> bool:
    """An image or container ID or a prefix of one (``sha256:`` optional)."""
    if s.startswith("sha256:"):
        s = s[7:]
    return _is_hex(s, 1, 64)
