"""Which registries may be spoken to over plain HTTP.

HTTPS is the default. As Docker does, registries on the loopback network (``localhost``, ``127.0.0.0/8``,
``::1``) are allowed plain HTTP; others only when listed in ``$DOCKYARD_INSECURE_REGISTRIES`` (comma separated
``host[:port]`` or CIDR entries) or in ``ROOT/registries.json`` as ``{"insecure": ["host:5000", "10.0.0.0/8"]}``.
An insecure registry is still tried over HTTPS first (without certificate checks), then over HTTP.
"""

from __future__ import annotations

import ipaddress
import os

from ..fsutil import read_json

ENV = "DOCKYARD_INSECURE_REGISTRIES"
CONFIG_NAME = "registries.json"


def split_host(registry: str) -> tuple[str, int | None]:
    """``host:port`` -> (host, port); IPv6 literals in brackets are unwrapped."""
    if registry.startswith("["):
        host, _, rest = registry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = registry.partition(":")
    return host, (int(port) if port.isdigit() else None)


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def configured(root: str | None) -> list[str]:
    """The insecure registries the environment and the engine root's ``registries.json`` list."""
    entries = [e.strip() for e in os.environ.get(ENV, "").split(",") if e.strip()]
    if root:
        doc = read_json(os.path.join(root, CONFIG_NAME), {}) or {}
        entries += [str(e).strip() for e in (doc.get("insecure") or []) if str(e).strip()]
    return entries


def _matches(entry: str, registry: str, host: str) -> bool:
    if entry == registry or entry == host:
        return True
    if "/" in entry:
        try:
            return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    return False


def is_insecure(registry: str, root: str | None = None) -> bool:
    """Whether ``registry`` (``host[:port]``) may be reached over plain HTTP."""
    host, _port = split_host(registry)
    if _is_loopback(host):
        return True
    return any(_matches(e, registry, host) for e in configured(root))
