"""A container's /etc/hostname, /etc/hosts and /etc/resolv.conf: this module writes them, at start
(:func:`write_etc_files`, for every container) and whenever a networked container's peers change.

They live in the container's directory and are bind-mounted into it before its command starts, so they
are rewritten in place (truncate and write the same inode): renaming a new file over one would leave the
container looking at the old one. On user networks each container's hosts file lists every other
container on its networks by name and alias; these files are refreshed whenever a container joins or
leaves. Containers on user networks also ask their embedded DNS server (dns.py) through resolv.conf.
"""

from __future__ import annotations

import os

from ..fsutil import atomic_write_bytes
from ..model.config import ContainerConfig

TYPE_CHECKING = False
if TYPE_CHECKING:  # net.netstore (json, re) stays off the start path of containers without a network
    from collections.abc import Iterable

    from ..model.network import Endpoint


def _unique(names: Iterable[str]) -> list[str]:
    out: list[str] = []
    for n in names:
        if n and n not in out:
            out.append(n)
    return out


#: The first lines of every container's /etc/hosts, as Docker writes them.
LOCALHOST = (
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "ff00::0\tip6-mcastprefix",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
)


def write_etc_files(
    cdir: str, cfg: ContainerConfig, hostname: str, hosts_extra: list[str] | None = None
) -> dict[str, str]:
    """hostname, hosts and resolv.conf for the container, kept in its directory and bind-mounted."""
    files = {}
    hn = os.path.join(cdir, "hostname")
    atomic_write_bytes(hn, (hostname + "\n").encode(), durable=False)
    files["/etc/hostname"] = hn
    hosts = list(LOCALHOST)
    # host-gateway: 127.0.0.1 in the host's network; on a bridge, its gateway once attached (render_hosts)
    hosts += extra_host_lines(cfg, "127.0.0.1" if cfg.network_mode == "host" else "")
    hosts += list(hosts_extra or [])
    if cfg.network_mode == "host":
        try:
            with open("/etc/hosts") as f:
                hosts = f.read().splitlines() + extra_host_lines(cfg, "127.0.0.1")
        except OSError:
            pass
    elif not hosts_extra:
        hosts.append(f"127.0.1.1\t{hostname}")
    hp = os.path.join(cdir, "hosts")
    atomic_write_bytes(hp, ("\n".join(hosts) + "\n").encode(), durable=False)
    files["/etc/hosts"] = hp
    rp = os.path.join(cdir, "resolv.conf")
    if cfg.dns:
        resolv = "".join(f"nameserver {d}\n" for d in cfg.dns)
    elif cfg.network_mode == "host":
        try:
            with open("/etc/resolv.conf") as f:
                resolv = f.read()
        except OSError:
            resolv = ""
    else:
        resolv = ""  # no way out of the machine: no nameserver (Docker's --network none)
    resolv = with_search_and_options(cfg, resolv)
    atomic_write_bytes(rp, resolv.encode(), durable=False)
    files["/etc/resolv.conf"] = rp
    return files


def extra_host_lines(cfg: ContainerConfig, gateway: str) -> list[str]:
    """--add-host lines; ``NAME:host-gateway`` names ``gateway``, the address by which the container reaches
    the host (its network's gateway on a bridge, 127.0.0.1 in the host's network), and is left out when there
    is none (--network none: Docker writes its bridge's gateway there, which the container cannot reach)."""
    lines = []
    for h in cfg.extra_hosts:
        name, _, ip = h.partition(":")
        if ip == "host-gateway":
            if not gateway:
                continue
            ip = gateway
        lines.append(f"{ip}\t{name}")
    return lines


def render_hosts(cfg: ContainerConfig, own: list[Endpoint], peers: list[tuple[Endpoint, str]]) -> str:
    """``own``: this container's endpoints; ``peers``: (endpoint, current name) of the others to list."""
    lines = list(LOCALHOST)
    gateway = next((ep.gateway for ep in own if ep.default_route), own[0].gateway if own else "")
    lines += extra_host_lines(cfg, gateway)
    from .netstore import DEFAULT_NETWORK

    hostname = cfg.hostname or cfg.id[:12]
    for ep in own:
        names = [hostname, cfg.name]
        if ep.network != DEFAULT_NETWORK:
            names += ep.aliases
        lines += _address_lines(ep, _unique(names))
    for ep, name in peers:
        lines += _address_lines(ep, _unique([name, *ep.aliases, ep.container_id[:12]]))
    return "\n".join(lines) + "\n"


def _address_lines(ep: Endpoint, names: list[str]) -> list[str]:
    """An endpoint's hosts lines: its IPv4 address, and on a network made with --ipv6 its IPv6 address too
    (as Docker writes them)."""
    joined = " ".join(names)
    return [f"{ep.ip}\t{joined}", *([f"{ep.ipv6}\t{joined}"] if ep.ipv6 else [])]


def host_nameservers_file() -> str:
    """The host's resolver configuration, as Docker reads it (systemd-resolved's upstream list if present)."""
    for path in ("/run/systemd/resolve/resolv.conf", "/etc/resolv.conf"):
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            continue
        if path.startswith("/run/") and "nameserver" not in text:
            continue
        return text
    return ""


def with_search_and_options(cfg: ContainerConfig, resolv: str) -> str:
    """``resolv`` with the container's --dns-search and --dns-option in place of its own ``search`` (and
    ``domain``) and ``options`` lines, as Docker writes them: after the nameservers, search first."""
    search = getattr(cfg, "dns_search", None) or []
    options = getattr(cfg, "dns_options", None) or []
    if not search and not options:
        return resolv
    drop = (("search", "domain") if search else ()) + (("options",) if options else ())
    lines = [ln for ln in resolv.splitlines() if not (ln.split() and ln.split()[0] in drop)]
    if search and search != ["."]:  # "." asks for no search domain at all
        lines.append("search " + " ".join(search))
    if options:
        lines.append("options " + " ".join(options))
    return "\n".join(lines) + ("\n" if lines else "")


def render_resolv(cfg: ContainerConfig, outbound: bool, embedded: bool = False) -> str:
    """--dns servers; else the host's servers (without loopback ones) when the network leads outside;
    else nothing (an internal network has no way to reach a resolver). ``embedded``: the container's own
    DNS server answers (user networks, dns.py): 127.0.0.11 alone, with Docker's ndots:0, the host's search
    domains when the network leads outside. --dns-search and --dns-option replace the host's search and
    options lines."""
    if embedded:
        lines = ["nameserver 127.0.0.11"]
        if outbound:
            lines += [
                ln.strip()
                for ln in host_nameservers_file().splitlines()
                if ln.split() and ln.split()[0] in ("search", "domain")
            ]
        lines.append("options ndots:0")
        return with_search_and_options(cfg, "\n".join(lines) + "\n")
    return with_search_and_options(cfg, _render_resolv(cfg, outbound))


def _render_resolv(cfg: ContainerConfig, outbound: bool) -> str:
    if cfg.dns:
        return "".join(f"nameserver {d}\n" for d in cfg.dns)
    if not outbound:
        return ""
    out = []
    for line in host_nameservers_file().splitlines():
        words = line.split()
        if words and words[0] == "nameserver" and len(words) > 1:
            if words[1].startswith("127.") or words[1] == "::1":
                continue
        if words and words[0] in ("nameserver", "search", "options", "domain"):
            out.append(line.strip())
    return "\n".join(out) + ("\n" if out else "")


def write_in_place(path: str, text: str) -> bool:
    """Replace the content of ``path`` keeping its inode (it may be bind-mounted); False if it is gone."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW)
    except (FileNotFoundError, NotADirectoryError):
        return False
    try:
        data = text.encode()
        while data:
            n = os.write(fd, data)
            data = data[n:]
    finally:
        os.close(fd)
    return True
