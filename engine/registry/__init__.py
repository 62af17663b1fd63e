"""The registry client: pull, push, login and logout over the OCI Distribution API.

    from engine import Engine
    from engine import registry
    eng = Engine()
    result = registry.pull(eng.images.store, "127.0.0.1:5000/app:v1", progress=print)
    registry.push(eng.images.store, "127.0.0.1:5000/app:v1")
    registry.login("127.0.0.1:5000", "user", "secret")

``Images.pull``/``Images.push`` delegate here. Registries are spoken to over HTTPS; loopback registries and
those listed as insecure (see ``engine.registry.insecure``) may use plain HTTP.
"""

from __future__ import annotations

from .auth import Credentials, auth_file, load_credentials, remove_credentials, store_credentials
from .errors import DigestMismatch, ManifestUnknown, RegistryError, Unauthorized, Unreachable
from .events import ProgressFn, TransferEvent
from .names import RemoteName, normalize_server, parse_remote
from .pull import PullResult, pull
from .push import PushResult, push

__all__ = [
    "Credentials",
    "DigestMismatch",
    "ManifestUnknown",
    "ProgressFn",
    "PullResult",
    "PushResult",
    "RegistryError",
    "RemoteName",
    "TransferEvent",
    "Unauthorized",
    "Unreachable",
    "auth_file",
    "load_credentials",
    "login",
    "logout",
    "parse_remote",
    "pull",
    "push",
]


def login(server: str | None, username: str, password: str, root: str | None = None) -> str:
    """Check the credentials against the registry (``/v2/`` with Basic auth or a token), then store them.

    Returns the registry host they were stored for. Raises Unauthorized when the registry refuses them."""
    from .client import RegistryClient

    registry = normalize_server(server)
    if not username:
        from ..errors import InvalidArgument

        raise InvalidArgument("Username is required")
    creds = Credentials(username, password)
    client = RegistryClient(registry, "", (), creds, root)
    client.auth.scopes.clear()  # login asks for no repository access
    try:
        r = client.request("GET", "/v2/")
        r.body()
    except Unauthorized as e:
        where = f"{client.base()}/v2/"
        raise Unauthorized(
            f"login attempt to {where} failed with status: 401 Unauthorized ({e})", 401
        ) from None
    finally:
        client.close()
    store_credentials(registry, creds)
    return registry


def logout(server: str | None = None) -> tuple[str, bool]:
    """Forget stored credentials; returns (registry, whether there were any)."""
    registry = normalize_server(server)
    return registry, remove_credentials(registry)
