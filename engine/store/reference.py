"""Image references as Docker users type them: ``busybox``, ``busybox:1.36``, ``localhost:5000/a/b:v1``,
``name@sha256:...``.

dockyard keeps short names short (``busybox:latest``, not ``docker.io/library/busybox:latest``), like the
``docker images`` display.
"""

from __future__ import annotations

import re

from engine.record import record

from ..errors import InvalidArgument

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_DOMAIN = (
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)"
)
_NAME_RE = re.compile(rf"^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
_HEX_RE = re.compile(r"^[0-9a-f]{1,64}$")

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
        if not _DIGEST_RE.match(digest):
            raise InvalidArgument("invalid reference format")
    tag = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG_RE.match(tag):
            raise InvalidArgument("invalid reference format")
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    if not _NAME_RE.match(name):
        lower = name.lower()
        if lower != name and _NAME_RE.match(lower):
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
    return bool(_HEX_RE.match(s))
