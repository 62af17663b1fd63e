"""``--network container:X``: the container joins X's network namespace at start, with X's hostname and
X's /etc/hosts, /etc/resolv.conf and /etc/hostname (as Docker has it); no network of its own, so none of
the flags that would shape one."""

from __future__ import annotations

import os

from ..errors import Conflict, InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..model.config import ContainerConfig
    from ..paths import Layout
    from ..store.containers import ContainerStore
    from .spec import ContainerSpec

PREFIX = "container:"


def check(store: ContainerStore, opts: Any) -> tuple[str, str, str]:
    """Validate ``container:X`` and the flags it conflicts with (Docker's words); the mode as recorded
    (``container:`` and X's full ID), and X's hostname and domain name, which the container takes."""
    ref = opts.network[len(PREFIX) :]
    if not ref:
        raise InvalidArgument("Invalid network mode: invalid container format container:<name|id>")
    for given, words in (  # Docker's checks, in its order
        (opts.hostname, "conflicting options: hostname and the network mode"),
        (
            opts.links,
            "conflicting options: container type network can't be used with links. "
            "This would result in undefined behavior",
        ),
        (opts.dns or opts.dns_search or opts.dns_options, "conflicting options: dns and the network mode"),
        (opts.extra_hosts, "conflicting options: custom host-to-IP mapping and the network mode"),
        (opts.mac_address, "conflicting options: mac-address and the network mode"),
        (
            opts.ports or opts.publish_all,
            "conflicting options: port publishing and the container type network mode",
        ),
        (opts.expose, "conflicting options: port exposing and the container type network mode"),
        (opts.aliases, "network-scoped alias is supported only for containers in user defined networks"),
        (
            opts.ip or opts.ip6,
            "user specified IP address is supported only when connecting to networks with user configured "
            "subnets",
        ),
    ):
        if given:
            raise InvalidArgument(words)
    target = store.resolve(ref)  # No such container: X
    donor = store.config(target)
    return PREFIX + target, donor.hostname or target[:12], donor.domainname


def join(layout: Layout, cfg: ContainerConfig, spec: ContainerSpec) -> None:
    """At start: the donor's network namespace and /etc files; it must be running."""
    from ..store.containers import ContainerStore

    store = ContainerStore(layout)
    target = store.resolve(cfg.network_mode[len(PREFIX) :])
    if target == cfg.id:
        raise InvalidArgument("cannot join own network")
    state = store.state(target)
    pid = state.pid if state.status in ("running", "paused") else 0
    if not pid or not os.path.exists(f"/proc/{pid}/ns/net"):
        raise Conflict(f"cannot join network of a non running container: {target}")
    spec.net_ns_path = f"/proc/{pid}/ns/net"
    spec.namespaces = [n for n in spec.namespaces if n != "net"]
    donor = store.path(target)
    for name in ("hostname", "hosts", "resolv.conf"):
        path = os.path.join(donor, name)
        if os.path.exists(path):
            spec.etc_files[f"/etc/{name}"] = path
