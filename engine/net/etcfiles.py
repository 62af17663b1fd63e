"""A container's /etc/hostname, /etc/hosts and /etc/resolv.conf: this module writes them, at start
(:func:`write_etc_files`, for every container) and whenever a networked container's peers change.

They live in the container's directory and are bind-mounted into it before its command starts, so they
are rewritten in place (truncate and write the same inode): renaming a new file over one would leave the
container looking at the old one. On user networks each container's hosts file lists every other
container on its networks by name and alias; these files are refreshed whenever a container joins or
leaves (Docker answers such names from an embedded DNS server; a hosts file needs no server process).
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
    for h in cfg.extra_hosts:
        name, _, ip = h.partition(":")
        hosts.append(f"{ip}\t{name}")
    hosts += list(hosts_extra or [])
    if cfg.network_mode == "host":
        try:
            with open("/etc/hosts") as f:
                hosts = f.read().splitlines()
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
    atomic_write_bytes(rp, resolv.encode(), durable=False)
    files["/etc/resolv.conf"] = rp
    return files


def render_hosts(cfg: ContainerConfig, own: list[Endpoint], peers: list[tuple[Endpoint, str]]) -> str:
    """``own``: this container's endpoints; ``peers``: (endpoint, current name) of the others to list."""
    lines = list(LOCALHOST)
    for h in cfg.extra_hosts:
        name, _, ip = h.partition(":")
        lines.append(f"{ip}\t{name}")
    from .netstore import DEFAULT_NETWORK

    hostname = cfg.hostname or cfg.id[:12]
    for ep in own:
        names = [hostname, cfg.name]
        if ep.network != DEFAULT_NETWORK:
            names += ep.aliases
        lines.append(f"{ep.ip}\t{' '.join(_unique(names))}")
    for ep, name in peers:
        lines.append(f"{ep.ip}\t{' '.join(_unique([name, *ep.aliases, ep.container_id[:12]]))}")
    return "\n".join(lines) + "\n"


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


def render_resolv(cfg: ContainerConfig, outbound: bool) -> str:
    """--dns servers; else the host's servers (without loopback ones) when the network leads outside;
    else nothing (an internal network has no way to reach a resolver)."""
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
