"""Published ports: ``-p [HOSTIP:][HOSTPORT:]CPORT[/PROTO]`` and ``-P``, parsed with Docker's rules and wording.

A published port is a dict ``{"host_ip", "host_port", "container_port", "protocol"}`` stored in the
container's config. Host ports are fixed at create: ``-p 80`` and ``-P`` pick a free port then (one the
kernel would hand out and no other container of this root has reserved), ``-p 8000-8010:80`` the first
free one in the range. At start, ``check_free`` refuses a port another running container holds (Docker's
"port is already allocated") or a program on the host listens on.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Iterable

from ..errors import Conflict, InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PROTOCOLS = ("tcp", "udp")


def _port_range(text: str) -> tuple[int, int]:
    start_s, sep, end_s = text.partition("-")
    if not start_s.isdigit() or (sep and not end_s.isdigit()):
        raise ValueError(text)
    start = int(start_s)
    end = int(end_s) if sep else start
    if not (0 < start <= 65535 and 0 < end <= 65535) or end < start:
        raise ValueError(text)
    return start, end


def parse_spec(raw: str) -> list[dict[str, Any]]:
    """One ``-p`` value as a list of port dicts (host_port 0: to be picked; ``host_range``: pick in it)."""
    parts = raw.split(":")
    if len(parts) == 1:
        ip, host, cport = "", "", parts[0]
    elif len(parts) == 2:
        ip, host, cport = "", parts[0], parts[1]
    else:
        ip, host, cport = ":".join(parts[:-2]), parts[-2], parts[-1]
    cport, _, proto = cport.partition("/")
    if not cport:
        raise InvalidArgument(f"no port specified: {raw}<empty>")
    proto = (proto or "tcp").lower()
    if proto == "sctp":
        raise InvalidArgument(f"invalid proto: {proto} (dockyard publishes tcp and udp ports)")
    if proto not in PROTOCOLS:
        raise InvalidArgument(f"invalid proto: {proto}")
    if ip.startswith("[") and ip.endswith("]"):
        ip = ip[1:-1]
    if ip:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            raise InvalidArgument(f"invalid IP address: {ip}") from None
        if addr.version != 4:
            raise InvalidArgument(
                f"invalid IP address: {ip} (dockyard publishes ports on IPv4 addresses only)"
            )
        ip = "" if str(addr) == "0.0.0.0" else str(addr)
    try:
        start, end = _port_range(cport)
    except ValueError:
        raise InvalidArgument(f"invalid containerPort: {cport}") from None
    hstart = hend = 0
    if host:
        try:
            hstart, hend = _port_range(host)
        except ValueError:
            raise InvalidArgument(f"invalid hostPort: {host}") from None
        if (end - start) != (hend - hstart) and end != start:
            raise InvalidArgument(
                f"invalid ranges specified for container and host Ports: {cport} and {host}"
            )
    out = []
    count = end - start + 1
    for i in range(count):
        p: dict[str, Any] = {"host_ip": ip, "host_port": 0, "container_port": start + i, "protocol": proto}
        if host:
            if count == 1 and hstart != hend:
                p["host_range"] = [hstart, hend]
            else:
                p["host_port"] = hstart + i
        out.append(p)
    return out


def exposed_ports(image_cfg: dict[str, Any]) -> list[tuple[int, str]]:
    """The image's EXPOSE entries as (port, protocol)."""
    out: list[tuple[int, str]] = []
    for key in image_cfg.get("ExposedPorts") or {}:
        port_s, _, proto = str(key).partition("/")
        proto = (proto or "tcp").lower()
        try:
            start, end = _port_range(port_s)
        except ValueError:
            continue
        if proto in PROTOCOLS:
            out.extend((p, proto) for p in range(start, end + 1))
    return out


def overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two published ports would take the same host port."""
    if a.get("protocol", "tcp") != b.get("protocol", "tcp") or int(a["host_port"]) != int(b["host_port"]):
        return False
    ia, ib = a.get("host_ip") or "", b.get("host_ip") or ""
    return not ia or not ib or ia == ib


def _bindable(host_ip: str, port: int, proto: str) -> OSError | None:
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as s:
        if proto == "tcp":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host_ip or "0.0.0.0", port))
        except OSError as e:
            return e
    return None


def _kernel_port(host_ip: str, proto: str) -> int:
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind((host_ip or "0.0.0.0", 0))
        except OSError as e:
            raise InvalidArgument(f"cannot publish on {host_ip}: {e.strerror}") from None
        return int(s.getsockname()[1])


def assign_host_ports(
    ports: list[dict[str, Any]], reserved: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Fill in the host ports still to be picked, avoiding ``reserved`` (other containers') and each other."""
    taken = [dict(r) for r in reserved if r.get("host_port")]
    out: list[dict[str, Any]] = []
    for p in ports:
        p = dict(p)
        rng = p.pop("host_range", None)
        if p["host_port"] and any(overlaps(p, o) for o in out):
            raise Conflict(
                f"Bind for {p['host_ip'] or '0.0.0.0'}:{p['host_port']} failed: port is already allocated"
            )
        if not p["host_port"]:
            candidates: Iterable[int]
            if rng:
                candidates = range(rng[0], rng[1] + 1)
            else:
                candidates = (_kernel_port(p["host_ip"], p["protocol"]) for _ in range(50))
            for port in candidates:
                trial = {**p, "host_port": port}
                if any(overlaps(trial, t) for t in taken):
                    continue
                if rng and _bindable(p["host_ip"], port, p["protocol"]) is not None:
                    continue
                p["host_port"] = port
                break
            else:
                what = f"{rng[0]}-{rng[1]}" if rng else "the ephemeral range"
                raise Conflict(
                    f"Bind for {p['host_ip'] or '0.0.0.0'}:{what} failed: port is already allocated"
                )
        taken.append(p)
        out.append(p)
    return out


def check_free(ports: list[dict[str, Any]], held: Iterable[dict[str, Any]]) -> None:
    """Refuse ports another running container holds or a host program listens on."""
    held = list(held)
    for p in ports:
        addr = f"{p.get('host_ip') or '0.0.0.0'}:{p['host_port']}"
        if any(overlaps(p, h) for h in held):
            raise Conflict(f"Bind for {addr} failed: port is already allocated")
        err = _bindable(p.get("host_ip") or "", int(p["host_port"]), p.get("protocol", "tcp"))
        if err is not None:
            if err.errno == errno.EADDRINUSE:
                raise Conflict(f"listen {p.get('protocol', 'tcp')}4 {addr}: bind: address already in use")
            raise Conflict(f"listen {p.get('protocol', 'tcp')}4 {addr}: bind: {err.strerror}")
