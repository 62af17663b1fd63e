"""Network endpoints: ``/networks`` (list), ``/networks/{id}`` (inspect, remove), ``/networks/create``,
``/networks/{id}/connect`` and ``/disconnect``, ``/networks/prune``. A network's JSON is the engine's
(``Networks.inspect``, as ``network inspect`` prints)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from engine import InvalidArgument, NotFound

from ..api import Api, ApiError, filters_param, json_body


def routes(api: Api) -> list[web.RouteDef]:
    networks = api.engine.networks

    async def list_(request: web.Request) -> web.Response:
        filters = filters_param(request)

        def run() -> list[dict[str, Any]]:
            out = []
            for net in networks.list(filters=filters or None):
                try:
                    doc = networks.inspect(net.id)
                except NotFound:  # removed meanwhile
                    continue
                doc["Containers"] = {}  # as Docker's list: the containers are in inspect only
                out.append(doc)
            return out

        return api.json(await api.call(run))

    async def inspect(request: web.Request) -> web.Response:
        ref = request.match_info["id"]
        if request.query.get("scope", "local") not in ("", "local"):
            raise NotFound(f"network {ref} not found")
        return api.json(await api.call(networks.inspect, ref))

    async def create(request: web.Request) -> web.Response:
        body = await json_body(request, {})
        if not isinstance(body, dict) or not isinstance(body.get("Name"), str):
            raise InvalidArgument("invalid network create body: a JSON object with a Name is expected")
        kwargs = _create_options(body)

        def run() -> dict[str, Any]:
            net = networks.create(body["Name"], **kwargs)
            return {"Id": net.id, "Warning": ""}

        return api.json(await api.call(run), status=201)

    async def remove(request: web.Request) -> web.Response:
        await api.call(networks.remove, request.match_info["id"])
        return api.no_content()

    async def connect(request: web.Request) -> web.Response:
        body = await json_body(request, {})
        if not isinstance(body, dict) or not isinstance(body.get("Container"), str):
            raise InvalidArgument("invalid network connect body: a JSON object with a Container is expected")
        kwargs = _endpoint_options(body.get("EndpointConfig") or {})
        await api.call(networks.connect, request.match_info["id"], body["Container"], **kwargs)
        return web.Response(status=200)

    async def disconnect(request: web.Request) -> web.Response:
        body = await json_body(request, {})
        if not isinstance(body, dict) or not isinstance(body.get("Container"), str):
            raise InvalidArgument(
                "invalid network disconnect body: a JSON object with a Container is expected"
            )
        force = bool(body.get("Force"))
        await api.call(networks.disconnect, request.match_info["id"], body["Container"], force=force)
        return web.Response(status=200)

    async def prune(request: web.Request) -> web.Response:
        filters = filters_param(request)
        removed = await api.call(lambda: networks.prune(filters=filters or None))
        return api.json({"NetworksDeleted": removed})

    return [
        web.get("/networks", list_),
        web.post("/networks/create", create),
        web.post("/networks/prune", prune),
        web.get("/networks/{id}", inspect),
        web.delete("/networks/{id}", remove),
        web.post("/networks/{id}/connect", connect),
        web.post("/networks/{id}/disconnect", disconnect),
    ]


def _refuse(flag: bool, why: str) -> None:
    if flag:
        raise ApiError(400, why)


def _create_options(body: dict[str, Any]) -> dict[str, Any]:
    """``POST /networks/create``'s body as ``Networks.create``'s keywords; what dockyard cannot make is
    refused with the reason."""
    _refuse(body.get("EnableIPv4") is False, "IPv4 cannot be disabled: every network here has IPv4 addresses")
    _refuse(bool(body.get("Ingress")), "ingress networks belong to swarm mode, which dockyard does not have")
    _refuse(
        bool(body.get("ConfigOnly") or (body.get("ConfigFrom") or {}).get("Network")),
        "configuration-only networks are not supported: give the subnet to the network itself",
    )
    _refuse(body.get("Scope", "") not in ("", "local"), "only local networks exist: dockyard has no swarm")
    ipam = body.get("IPAM") or {}
    if not isinstance(ipam, dict):
        raise InvalidArgument("invalid IPAM: a JSON object is expected")
    _refuse(
        ipam.get("Driver", "") not in ("", "default"),
        f'IPAM driver "{ipam.get("Driver")}" is not supported: only the default one',
    )
    _refuse(bool(ipam.get("Options")), "IPAM options are not supported by the default IPAM driver here")
    configs = ipam.get("Config") or []
    if not isinstance(configs, list) or not all(isinstance(c, dict) for c in configs):
        raise InvalidArgument("invalid IPAM.Config: a list of objects is expected")
    v4 = [c for c in configs if ":" not in str(c.get("Subnet") or c.get("Gateway") or "")]
    v6 = [c for c in configs if ":" in str(c.get("Subnet") or c.get("Gateway") or "")]
    _refuse(
        len(v4) > 1 or len(v6) > 1,
        "one IPv4 and one IPv6 IPAM configuration at most: a network here has one subnet of each",
    )
    config = v4[0] if v4 else {}
    config6 = v6[0] if v6 else {}
    _refuse(bool(config6.get("AuxiliaryAddresses")), "auxiliary addresses are taken for the IPv4 subnet only")
    return {
        "ipv6": bool(body.get("EnableIPv6")),
        "subnet6": config6.get("Subnet") or "",
        "gateway6": config6.get("Gateway") or "",
        "ip_range6": config6.get("IPRange") or "",
        "driver": body.get("Driver") or "bridge",
        "subnet": config.get("Subnet") or "",
        "gateway": config.get("Gateway") or "",
        "ip_range": config.get("IPRange") or "",
        "aux_addresses": dict(config.get("AuxiliaryAddresses") or {}),
        "internal": bool(body.get("Internal")),
        "labels": dict(body.get("Labels") or {}),
        "options": {str(k): str(v) for k, v in (body.get("Options") or {}).items()},
    }


def refuse_endpoint(config: dict[str, Any]) -> None:
    """An ``EndpointConfig`` (of a network connect or of a container's create) that is not shaped as one is
    refused, before anything changes."""
    ipam = config.get("IPAMConfig") or {}
    if not isinstance(ipam, dict):
        raise InvalidArgument("invalid IPAMConfig: a JSON object is expected")


def _endpoint_options(config: dict[str, Any]) -> dict[str, Any]:
    """``EndpointConfig`` of ``POST /networks/{id}/connect`` as ``Networks.connect``'s keywords."""
    if not isinstance(config, dict):
        raise InvalidArgument("invalid EndpointConfig: a JSON object is expected")
    refuse_endpoint(config)
    ipam = config.get("IPAMConfig") or {}
    _refuse(bool(config.get("MacAddress")), "a chosen MAC address is not supported: dockyard derives one")
    return {
        "ip": ipam.get("IPv4Address") or "",
        "aliases": [str(a) for a in config.get("Aliases") or []],
        "driver_opts": {str(k): str(v) for k, v in (config.get("DriverOpts") or {}).items()},
        "gw_priority": int(config.get("GwPriority") or 0),
        "links": [str(a) for a in config.get("Links") or []],
        "ip6": ipam.get("IPv6Address") or "",
        "link_local_ips": [str(a) for a in ipam.get("LinkLocalIPs") or []],
    }
