"""Container networking: bridge and user networks, addresses, veth pairs, published ports, firewall rules.

The runtime calls three functions (through engine/runtime/nethooks.py, only for containers that use a
network): ``plan_networking`` at create, ``attach`` in the supervisor between the container's fork and its
exec, ``detach`` when it ends, is removed or is found dead. ``endpoints`` gives inspect the live state.
The kernel is driven through rtnl.py (netlink) and the ``nft`` command; nothing here is imported for
``--network none`` or ``host``.

Modules: model (records on disk, the lock), defaults (the default network), builtin (the ``bridge``
record), ipam (subnets, addresses), ports (-p/-P), plan (create-time checks), bridge (host side,
ip_forward), rtnl (netlink), attachment (attach/detach/connect/disconnect), etcfiles (hosts, resolv.conf),
firewall (nft), janitor (deferred removal of idle bridges and rules), dns (the embedded DNS server of
containers on user networks, run by their supervisor).
"""

from __future__ import annotations

from ..model.config import ContainerConfig
from ..paths import Layout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["attach", "detach", "endpoints", "plan_networking", "preload", "sweep_root"]


def plan_networking(
    layout: Layout, opts: Any, image_cfg: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Validate the network options of a new container; (published ports, networks) for its config."""
    from .plan import plan_networking as plan

    return plan(layout, opts, image_cfg)


def attach(layout: Layout, cfg: ContainerConfig, pid: int) -> None:
    """Connect the container whose PID 1 is ``pid`` to its networks (called before its command runs)."""
    from .attachment import attach as _attach

    _attach(layout, cfg, pid)


def preload() -> None:
    """Import what ``attach`` needs (~7 ms): a start does it while it waits for the kernel anyway."""
    from . import attachment, rtnl  # noqa: F401


def detach(layout: Layout, cfg: ContainerConfig) -> None:
    """Disconnect the container from all its networks; idempotent."""
    from .attachment import detach as _detach

    _detach(layout, cfg)


def endpoints(layout: Layout, cid: str) -> dict[str, dict[str, Any]]:
    """The container's live attachments (Docker's NetworkSettings.Networks entries), {} when not running."""
    from .attachment import endpoints as _endpoints

    return _endpoints(layout, cid)


def sweep_root(layout: Layout) -> None:
    """Delete the root's idle bridges, leftover veths and firewall rules now, instead of after the linger."""
    import os

    if not os.path.isdir(layout.networks):
        return
    from .janitor import sweep
    from .netstore import NetStore

    store = NetStore(layout)
    with store.lock():
        sweep(layout, store)
