"""Where an image reference lives on the wire: registry host, repository path, tag or digest.

Users type short names (``busybox``); the Distribution API wants the registry and the full repository path
(``registry-1.docker.io`` and ``library/busybox``). Locally dockyard keeps the short name (``busybox:latest``),
as ``docker images`` shows it.
"""

from __future__ import annotations

from engine.lean.record import record

from ..store import reference

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"  # the key Docker's config.json uses for Docker Hub
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", DOCKER_HUB_AUTH_KEY}


@record(frozen=True)
class RemoteName:
    """An image reference resolved for the registry API."""

    local: str  # the repository name as dockyard stores it: "busybox", "127.0.0.1:5000/team/app"
    registry: str  # host[:port] the API is spoken to: "registry-1.docker.io", "127.0.0.1:5000"
    repository: str  # path on the registry: "library/busybox", "team/app"
    tag: str | None
    digest: str | None

    @property
    def reference(self) -> str:
        """What goes after ``/manifests/``: the digest when pinned, else the tag."""
        return self.digest or self.tag or reference.DEFAULT_TAG

    @property
    def local_tagged(self) -> str:
        return f"{self.local}:{self.tag or reference.DEFAULT_TAG}"

    @property
    def full(self) -> str:
        """The fully qualified name Docker prints after a pull: ``docker.io/library/busybox:latest``."""
        host = DOCKER_HUB if self.registry == DOCKER_HUB_API else self.registry
        s = f"{host}/{self.repository}"
        if self.tag or not self.digest:
            s += ":" + (self.tag or reference.DEFAULT_TAG)
        if self.digest:
            s += "@" + self.digest
        return s

    @property
    def is_docker_hub(self) -> bool:
        return self.registry == DOCKER_HUB_API


def parse_remote(ref: str) -> RemoteName:
    """Resolve a reference as typed (``busybox``, ``localhost:5000/x:y``, ``name@sha256:...``)."""
    r = reference.parse(ref)
    domain = r.domain
    if domain is None or domain in _HUB_ALIASES:
        path = r.name if domain is None else r.name.partition("/")[2]
        repository = path if "/" in path else "library/" + path
        return RemoteName(r.name, DOCKER_HUB_API, repository, r.tag, r.digest)
    return RemoteName(r.name, domain, r.name.partition("/")[2], r.tag, r.digest)


def normalize_server(server: str | None) -> str:
    """The registry host a ``login``/``logout`` argument names (``https://host:5000/`` -> ``host:5000``)."""
    if not server or server.rstrip("/") in {s.rstrip("/") for s in _HUB_ALIASES} or server in _HUB_ALIASES:
        return DOCKER_HUB_API
    s = server
    for prefix in ("https://", "http://"):
        if s.startswith(prefix):
            s = s[len(prefix) :]
    s = s.split("/", 1)[0]
    return DOCKER_HUB_API if s in _HUB_ALIASES else s


def auth_key(registry: str) -> str:
    """The key credentials for ``registry`` are filed under (Docker's convention)."""
    return DOCKER_HUB_AUTH_KEY if registry == DOCKER_HUB_API else registry
