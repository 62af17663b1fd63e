"""Networks and endpoints on disk, under ``<root>/networks`` (the records are engine/model/network.py).

- ``networks/<name>/network.json``: a network (what ``network create`` asked for, plus its bridge's name);
- ``networks/<name>/endpoints/<container id>.json``: a running container's attachment to it (address, MAC,
  gateway, host-side veth, published ports). An endpoint file exists exactly while the container is
  attached: it is the address allocation (IPAM) and the port reservation, so freeing them is deleting it;
- ``networks/.host.json``: this root's host-side bookkeeping for the current boot (veths and bridges
  waiting to be swept, see janitor.py); ``networks/.firewall.nft``: the firewall rules last installed.

Endpoints and host state describe the kernel's state, which a reboot wipes: they are written atomically
(temp file and rename) but not fsync'd (an fsync costs ~10 ms here, on every container start and stop);
after a crash of the machine they are stale anyway, and recovery detaches every container.

Every change happens under one lock per root (``locks/net.lock``): allocations, bridges, firewall rules and
the containers' hosts files are all computed from these files while it is held, so concurrent callers never
hand out one address twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import zlib
from collections.abc import Iterator

from ..errors import CorruptRecord, NotFound
from ..fsutil import atomic_write_json, locked, read_json
from ..model.network import Endpoint, Network
from ..paths import DEFAULT_ROOT, Layout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_NETWORK = "bridge"
PREDEFINED = ("bridge", "host", "none")
# Docker takes any network name; a name here is a directory's, so it may not hold "/" or control characters,
# and one starting with "." would be hidden among the store's own files.
NAME_RE = re.compile(r"\A[^./\x00-\x1f][^/\x00-\x1f]*\Z")


def root_tag(layout: Layout) -> str:
    """Empty for the default root; else a short hash of the root that keeps host-wide names apart."""
    if os.path.abspath(layout.root) == DEFAULT_ROOT:
        return ""
    return f"{zlib.crc32(os.path.abspath(layout.root).encode()):08x}"


def veth_name(cid: str, network_id: str) -> str:
    """The host side of a container's veth (15 characters at most, as the kernel wants)."""
    return "dyv" + cid[:6] + network_id[:6]


def _endpoint(data: dict[str, Any] | None) -> Endpoint | None:
    """An endpoint from its runtime file; None when there is none or it is damaged (as if absent: what it
    held is found again by ``system check`` as a leftover)."""
    from ..model.shape import problems_of

    if not data or problems_of(Endpoint, data):
        return None
    return Endpoint.from_dict(data)


def _network_values(name: str, d: dict[str, Any]) -> str | None:
    """What is wrong with a well-typed network record's values (None when nothing is)."""
    if d["name"] != name:
        return f"it names network {str(d['name'])[:20]!r}, not {name!r}"
    for key in ("subnet", "gateway"):
        if d.get(key) and not _ipv4(d[key], cidr=key == "subnet"):
            return (
                f"{key!r}: {str(d[key])[:40]!r} is not an IPv4 {'subnet' if key == 'subnet' else 'address'}"
            )
    return None


def _ipv4(text: str, cidr: bool) -> bool:
    """Is ``text`` an IPv4 address (with ``/prefix`` when ``cidr``)? Without ipaddress, which costs ~1 ms to
    load on every create on a network."""
    address, slash, prefix = text.partition("/")
    if cidr != bool(slash) or (cidr and not (prefix.isascii() and prefix.isdigit() and int(prefix) <= 32)):
        return False
    parts = address.split(".")
    return len(parts) == 4 and all(
        p.isascii() and p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts
    )


def write_runtime(path: str, data: bytes) -> None:
    """Atomically replace ``path`` (readers see the old or the new content), without fsync."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def read_runtime(path: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read() or b"null")
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _boot_id() -> str:
    from ..kernel.procinfo import boot_id

    return boot_id()


class NetStore:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.dir = layout.networks

    # -- locking -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        os.makedirs(self.layout.locks, exist_ok=True)
        with locked(self.layout.lock("net")):
            yield

    # -- networks ------------------------------------------------------------------------------
    def path(self, name: str, *parts: str) -> str:
        return os.path.join(self.dir, name, *parts)

    def names(self) -> list[str]:
        try:
            entries = os.listdir(self.dir)
        except FileNotFoundError:
            return []
        return sorted(
            n for n in entries if not n.startswith(".") and os.path.exists(self.path(n, "network.json"))
        )

    def load(self, name: str) -> Network | None:
        """The network's record; None when there is none, CorruptRecord when it is damaged."""
        path = self.path(name, "network.json")
        d = read_json(path)
        if d is None:
            return None
        from ..model.shape import problems_of

        problem = problems_of(Network, d) or _network_values(name, d)
        if problem:
            raise CorruptRecord(path, problem)
        return Network.from_dict(d)

    def all(self) -> list[Network]:
        """Every readable network (``damaged`` lists the others)."""
        out = []
        for name in self.names():
            try:
                net = self.load(name)
            except CorruptRecord:
                continue
            if net is not None:
                out.append(net)
        return out

    def damaged(self) -> list[CorruptRecord]:
        out = []
        for name in self.names():
            try:
                self.load(name)
            except CorruptRecord as e:
                out.append(e)
        return out

    def find(self, ref: str) -> Network | None:
        """A stored network by name, full ID or unique ID prefix (Docker's lookup order)."""
        if NAME_RE.match(ref):
            net = self.load(ref)
            if net is not None:
                return net
        nets = self.all()
        for n in nets:
            if n.id == ref:
                return n
        if ref and all(c in "0123456789abcdef" for c in ref):
            matches = [n for n in nets if n.id.startswith(ref)]
            if len(matches) == 1:
                return matches[0]
        return None

    def get(self, ref: str) -> Network:
        net = self.find(ref)
        if net is None:
            raise NotFound(f"network {ref} not found")
        return net

    def save(self, net: Network) -> None:
        os.makedirs(self.path(net.name, "endpoints"), exist_ok=True)
        atomic_write_json(self.path(net.name, "network.json"), net.to_dict())

    def delete(self, name: str) -> None:
        import shutil

        shutil.rmtree(self.path(name), ignore_errors=True)

    # -- endpoints ------------------------------------------------------------------------------
    def endpoint_path(self, network: str, cid: str) -> str:
        return self.path(network, "endpoints", cid + ".json")

    def endpoints(self, network: str) -> list[Endpoint]:
        d = self.path(network, "endpoints")
        try:
            files = sorted(os.listdir(d))
        except FileNotFoundError:
            return []
        out = []
        for f in files:
            if f.endswith(".json") and not f.startswith("."):
                ep = _endpoint(read_runtime(os.path.join(d, f)))
                if ep is not None:
                    out.append(ep)
        return out

    def endpoint(self, network: str, cid: str) -> Endpoint | None:
        return _endpoint(read_runtime(self.endpoint_path(network, cid)))

    def container_endpoints(self, cid: str) -> list[Endpoint]:
        """Every endpoint of ``cid``, on whatever network (primary first)."""
        out = []
        for name in self.names():
            ep = self.endpoint(name, cid)
            if ep is not None:
                out.append(ep)
        out.sort(key=lambda e: int(e.ifname[3:] or 0) if e.ifname.startswith("eth") else 99)
        return out

    def has_endpoints_of(self, cid: str) -> bool:
        return any(os.path.exists(self.endpoint_path(n, cid)) for n in self.names())

    def save_endpoint(self, ep: Endpoint) -> None:
        os.makedirs(self.path(ep.network, "endpoints"), exist_ok=True)
        write_runtime(self.endpoint_path(ep.network, ep.container_id), json.dumps(ep.to_dict()).encode())

    def delete_endpoint(self, network: str, cid: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.endpoint_path(network, cid))

    def all_endpoints(self) -> list[Endpoint]:
        return [ep for name in self.names() for ep in self.endpoints(name)]

    # -- what dockyard changed on the host ---------------------------------------------------------
    def host_state(self) -> dict[str, Any]:
        """What dockyard changed on the host during this boot ({} after a reboot)."""
        state = read_runtime(os.path.join(self.dir, ".host.json")) or {}
        if state.get("boot_id") != _boot_id():
            return {}
        # A damaged value reads as absent (nothing to clean, no rules known): the next write mends the file.
        if not isinstance(state.get("cleanup_after", 0), (int, float)) or isinstance(
            state.get("cleanup_after"), bool
        ):
            state.pop("cleanup_after")
        stale = state.get("stale_veths", [])
        if not isinstance(stale, list) or not all(isinstance(v, str) for v in stale):
            state.pop("stale_veths")
        return state

    def save_host_state(self, state: dict[str, Any]) -> None:
        os.makedirs(self.dir, exist_ok=True)
        state = {**state, "boot_id": _boot_id()}
        write_runtime(
            os.path.join(self.dir, ".host.json"), json.dumps(state, indent=1, sort_keys=True).encode()
        )

    def installed_rules(self) -> str:
        """The firewall script last installed during this boot ("" if none)."""
        if not self.host_state().get("firewall"):
            return ""
        try:
            with open(os.path.join(self.dir, ".firewall.nft")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def save_installed_rules(self, script: str) -> None:
        os.makedirs(self.dir, exist_ok=True)
        write_runtime(os.path.join(self.dir, ".firewall.nft"), script.encode())
        state = self.host_state()
        state["firewall"] = True
        self.save_host_state(state)
