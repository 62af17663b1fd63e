"""Where the runtime hands over to networking (engine/net), imported only when a network is used.

- ``plan`` at create: validate --network/-p/--ip/--network-alias and record ports and networks;
- ``setup`` in the supervisor, between the container's fork and its exec (its PID gives the namespace);
- ``teardown`` after the container ends, on remove and on recovery (idempotent).

``--network none`` and ``host`` never import engine/net at all.
"""

from __future__ import annotations

from ..errors import NotFound
from ..model.config import ContainerConfig
from ..paths import Layout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def uses_network(mode: str) -> bool:
    """Does the container have a network of its own (not none, the host's or another container's)?"""
    return mode not in ("none", "host", "") and not mode.startswith("container:")


def plan(
    layout: Layout, opts: Any, image_cfg: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    try:
        from ..net import plan_networking
    except ImportError:
        raise NotFound(f"network {opts.network} not found") from None
    return plan_networking(layout, opts, image_cfg)


def preload() -> None:
    """Import the networking code ``setup`` runs, ahead of time."""
    from ..net import preload

    preload()


def setup(layout: Layout, cfg: ContainerConfig, pid: int) -> None:
    if not uses_network(cfg.network_mode):
        return
    from ..net import attach

    attach(layout, cfg, pid)


def teardown(layout: Layout, cfg: ContainerConfig) -> None:
    if not uses_network(cfg.network_mode) and not cfg.networks:
        return
    try:
        from ..net import detach
    except ImportError:
        return
    detach(layout, cfg)


def attached(layout: Layout, cfg: ContainerConfig) -> bool:
    """Does the container hold network endpoints (an address, a veth, ports)?"""
    if not uses_network(cfg.network_mode) and not cfg.networks:
        return False
    from ..net.netstore import NetStore

    return bool(NetStore(layout).container_endpoints(cfg.id))
