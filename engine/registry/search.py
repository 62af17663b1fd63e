"""``search``: find repositories in a registry.

Docker Hub answers ``/v1/search?q=TERM`` with names, descriptions and stars. A registry of the Distribution
API offers no search of its own; when it lists its repositories (``/v2/_catalog``, which Distribution's
registry serves), the names holding the term are the answer. A registry that offers neither says so
(``SearchUnsupported``). As with ``docker search``, a term may name the registry first:
``127.0.0.1:5000/app`` searches 127.0.0.1:5000 for "app".
"""

from __future__ import annotations

from engine.lean.record import record

from .errors import RegistryError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .auth import Credentials

HUB_INDEX = "index.docker.io"
CATALOG_PAGES = 100  # pages of /v2/_catalog read at most (100 names each)


@record(frozen=True)
class SearchResult:
    """One repository found: its name as ``pull`` takes it, and what the registry says of it."""

    name: str
    description: str = ""
    stars: int = 0
    official: bool = False
    automated: bool = False


class SearchUnsupported(RegistryError):
    """The registry has no way to search it (no search API, no catalog open to us)."""


def split_term(term: str) -> tuple[str, str]:
    """(registry host, what to look for): ``127.0.0.1:5000/app`` -> ("127.0.0.1:5000", "app"); a term
    without a registry host searches Docker Hub."""
    from .names import _HUB_ALIASES, DOCKER_HUB_API

    first, sep, rest = term.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        if first in _HUB_ALIASES:
            return DOCKER_HUB_API, rest
        return first, rest
    return DOCKER_HUB_API, term


def search(
    term: str, limit: int = 25, root: str | None = None, credentials: Credentials | None = None
) -> list[SearchResult]:
    """Repositories matching ``term`` (at most ``limit``), best first as the registry ranks them."""
    from .names import DOCKER_HUB_API

    registry, query = split_term(term.strip())
    if registry == DOCKER_HUB_API:
        return _hub(query, limit)
    return _catalog(registry, query, limit, root, credentials)


def _hub(query: str, limit: int) -> list[SearchResult]:
    import json
    import urllib.parse

    from ..errors import InvalidArgument
    from .client import _NETWORK_ERRORS, Transport, _agent, _failure, network_error

    if not query:
        raise InvalidArgument("a search term is needed to search Docker Hub")
    url = f"https://{HUB_INDEX}/v1/search?" + urllib.parse.urlencode({"q": query, "n": str(limit)})
    transport = Transport(30.0)
    try:
        try:
            r = transport.request("GET", url, {"User-Agent": _agent()})
        except _NETWORK_ERRORS as e:
            raise network_error("GET", url, e) from None
        status, body = r.status, r.body()
    finally:
        transport.close()
    if status != 200:
        raise _failure(status, body, url)
    try:
        doc = json.loads(body)
    except ValueError:
        raise RegistryError("Docker Hub's search answer is not JSON") from None
    found = doc.get("results") if isinstance(doc, dict) else None
    out = []
    for item in found if isinstance(found, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        out.append(
            SearchResult(
                item["name"],
                str(item.get("description") or ""),
                int(item.get("star_count") or 0),
                bool(item.get("is_official")),
                bool(item.get("is_automated")),
            )
        )
    return out[:limit]


def _catalog(
    registry: str, query: str, limit: int, root: str | None, credentials: Credentials | None
) -> list[SearchResult]:
    import json

    from .auth import load_credentials
    from .client import RegistryClient

    client = RegistryClient(registry, "", (), credentials or load_credentials(registry), root)
    client.auth.scopes = ["registry:catalog:*"]  # the token a catalog asks for (Distribution's auth)
    names: list[str] = []
    path = "/v2/_catalog?n=100"
    try:
        for _page in range(CATALOG_PAGES):
            try:
                r = client.request("GET", path)
            except RegistryError as e:
                if e.status in (401, 403, 404, 405, 501) or e.code in (
                    "UNSUPPORTED",
                    "UNAUTHORIZED",
                    "DENIED",
                ):
                    raise SearchUnsupported(
                        f"{registry} offers no search (its catalog is not open: {e})", e.status, e.code
                    ) from None
                raise
            with r:
                link, body = r.header("Link"), r.body()
            try:
                doc = json.loads(body)
            except ValueError:
                raise SearchUnsupported(f"{registry} offers no search (its catalog is not JSON)") from None
            page = doc.get("repositories") if isinstance(doc, dict) else None
            if not isinstance(page, list):
                raise SearchUnsupported(f"{registry} offers no search (it lists no repositories)")
            names += [n for n in page if isinstance(n, str)]
            if not link.startswith("<"):
                break
            path = link[1 : link.index(">")]
    finally:
        client.close()
    needle = query.casefold()
    hits = sorted({n for n in names if needle in n.casefold()}, key=lambda n: (not n.startswith(query), n))
    return [SearchResult(f"{registry}/{n}") for n in hits[:limit]]
