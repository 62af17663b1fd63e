"""Docker's legacy container links (``--link NAME[:ALIAS]``, HostConfig.Links) on the default bridge network;
on a user network a link is only a name the container's DNS server gives (``endpoint_links``, engine/net/dns.py).

A link is kept in the linking container's config as the linked container's ID and the alias. When the
linking container starts, the linked one must be running; the process gets Docker's link variables
(``ALIAS_NAME``, ``ALIAS_ENV_*`` from the linked container's environment, ``ALIAS_PORT*`` for its exposed
ports) and its hosts file a line for the alias (written by engine/net with the container's other names). A
link is named ``/PARENT/ALIAS``; ``rm --link`` removes it and leaves both containers. Only this module is
loaded for them, and only for a container that has links.
"""

from __future__ import annotations

from ..errors import Conflict, ContainerNotFound, InvalidArgument, NotFound
from ..model.config import ContainerConfig
from ..paths import Layout
from ..store.containers import ContainerStore


def parse_links(store: ContainerStore, links: list[str], network: str) -> list[dict[str, str]]:
    """``NAME[:ALIAS]`` each -> {"id", "alias"}; the linked containers must exist, and the linking one be on
    the default bridge (Docker's links exist on it only)."""
    if not links:
        return []
    if network == "host":
        raise InvalidArgument(
            "conflicting options: host type networking can't be used with links. This would result in "
            "undefined behavior"
        )
    if network not in ("bridge", "default"):
        raise InvalidArgument(
            f"links are only supported on the default bridge network (not {network}): on a user-defined "
            "network containers find each other by name and --network-alias"
        )
    out: list[dict[str, str]] = []
    for spec in links:
        name, _, alias = spec.partition(":")
        name = name.strip().lstrip("/")
        alias = (alias.strip() or name).strip("/")
        if not name or not alias or "/" in alias:
            raise InvalidArgument(f"invalid link format: {spec!r}: it is NAME[:ALIAS]")
        try:
            child = store.resolve(name)
        except ContainerNotFound:
            raise NotFound(f"could not get container for {name}") from None
        if store.config(child).network_mode == "host":
            raise InvalidArgument(
                "conflicting options: host type networking can't be used with links. This would result "
                "in undefined behavior"
            )
        out = [entry for entry in out if entry["alias"] != alias] + [{"id": child, "alias": alias}]
    return out


def endpoint_links(links: list[str]) -> list[str]:
    """``NAME[:ALIAS]`` each as ``NAME:ALIAS``: the links of a container on a user network, which its DNS
    server resolves (engine/net/dns.py) when it is asked, so the linked container may come later."""
    out: list[str] = []
    for spec in links:
        name, _, alias = str(spec).partition(":")
        name = name.strip().lstrip("/")
        alias = (alias.strip() or name).strip("/")
        if not name or not alias or "/" in alias or "/" in name:
            raise InvalidArgument(f"invalid link format: {spec!r}: it is NAME[:ALIAS]")
        out = [link for link in out if link.partition(":")[2] != alias] + [f"{name}:{alias}"]
    return out


def host_config_links(store: ContainerStore, cfg: ContainerConfig) -> list[str] | None:
    """HostConfig.Links as Docker shows them: ``/CHILD:/PARENT/ALIAS``."""
    if not cfg.links:
        return None
    out = []
    for link in cfg.links:
        try:
            child = store.config(link["id"]).name
        except Exception:  # noqa: BLE001 - a linked container removed since
            continue
        out.append(f"/{child}:/{cfg.name}/{link['alias']}")
    return out or None


def _alias_var(alias: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in alias.upper())


def _ports(child: ContainerConfig) -> list[tuple[int, str]]:
    keys = set((child.image_config.get("ExposedPorts") or {}).keys()) | set(child.expose)
    keys |= {f"{p['container_port']}/{p.get('protocol', 'tcp')}" for p in child.ports}
    out = []
    for key in keys:
        port, _, proto = str(key).partition("/")
        if port.isdigit():
            out.append((int(port), proto or "tcp"))
    return sorted(out, key=lambda p: (p[1] != "tcp", p[0], p[1]))


def link_env(layout: Layout, cfg: ContainerConfig) -> list[str]:
    """The variables Docker gives a process for its links, checked at its start: every linked container
    runs and has an address on the default bridge."""
    from ..net.netstore import DEFAULT_NETWORK, NetStore

    store = ContainerStore(layout)
    nets = NetStore(layout)
    env: list[str] = []
    for link in cfg.links:
        try:
            child = store.config(link["id"])
        except Exception:  # noqa: BLE001
            raise NotFound(f"could not get container for {link['alias']}: it was removed") from None
        name = f"/{cfg.name}/{link['alias']}"
        if store.state(child.id).status not in ("running", "restarting"):
            raise Conflict(f"Cannot link to a non running container: /{child.name} AS {name}")
        ip = next((ep.ip for ep in nets.container_endpoints(child.id) if ep.network == DEFAULT_NETWORK), "")
        if not ip:
            raise Conflict(
                f"Cannot link to /{child.name}: it has no address on the default bridge network ({name})"
            )
        alias = _alias_var(link["alias"])
        ports = _ports(child)
        if ports:
            env.append(f"{alias}_PORT={ports[0][1]}://{ip}:{ports[0][0]}")
        for port, proto in ports:
            key = f"{alias}_PORT_{port}_{proto.upper()}"
            env += [
                f"{key}={proto}://{ip}:{port}",
                f"{key}_ADDR={ip}",
                f"{key}_PORT={port}",
                f"{key}_PROTO={proto}",
            ]
        env.append(f"{alias}_NAME={name}")
        child_env = list(child.image_config.get("Env") or []) + list(child.env)
        for var in child_env:
            key, eq, value = var.partition("=")
            if eq and key not in ("HOME", "PATH"):
                env.append(f"{alias}_ENV_{key}={value}")
    return env


def with_links(env: list[str], linked: list[str]) -> list[str]:
    """The link variables first, the container's own winning over any of the same name (as Docker's)."""
    own = {e.partition("=")[0] for e in env}
    return [e for e in linked if e.partition("=")[0] not in own] + env


def find_link(store: ContainerStore, ref: str) -> tuple[str, str, str]:
    """``PARENT/ALIAS`` -> (parent ID, alias, linked container ID); Docker's words when there is none."""
    path = ref.strip().strip("/")
    parent_name, _, alias = path.rpartition("/")
    if not parent_name:
        raise Conflict("Conflict, cannot remove the default link name of the container")
    try:
        parent = store.resolve(parent_name)
    except ContainerNotFound:
        raise ContainerNotFound(f"No such container: {path}") from None
    for link in store.config(parent).links:
        if link["alias"] == alias:
            return parent, alias, link["id"]
    raise ContainerNotFound(f"No such container: {path}")


def remove_link(store: ContainerStore, ref: str) -> None:
    """``rm --link PARENT/ALIAS``: the parent forgets the link (its running process keeps its variables)."""
    parent, alias, _ = find_link(store, ref)
    with store.lock(parent):
        cfg = store.config(parent)
        cfg.links = [link for link in cfg.links if link["alias"] != alias]
        store.save_config(cfg)
