"""Volume endpoints: ``/volumes`` (list), ``/volumes/create``, ``/volumes/{name}`` (inspect, remove),
``/volumes/prune``. A volume's JSON is the engine's (``Volumes.describe``, as ``volume inspect`` prints)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from engine import InvalidArgument

from ..api import Api, ApiError, bool_param, filters_param, json_body


def routes(api: Api) -> list[web.RouteDef]:
    volumes = api.engine.volumes

    async def list_(request: web.Request) -> web.Response:
        filters = filters_param(request)

        def run() -> list[dict[str, Any]]:
            return [volumes.describe(v) for v in volumes.list(filters=filters or None)]

        return api.json({"Volumes": await api.call(run), "Warnings": []})

    async def create(request: web.Request) -> web.Response:
        body = await json_body(request, {})
        if not isinstance(body, dict):
            raise InvalidArgument("invalid volume create body: a JSON object is expected")
        if body.get("ClusterVolumeSpec"):
            raise ApiError(400, "cluster volumes are not supported: dockyard has no swarm")
        name = body.get("Name") or None
        labels = _strings(body.get("Labels"), "Labels")
        options = _strings(body.get("DriverOpts"), "DriverOpts")
        driver = body.get("Driver") or "local"

        def run() -> dict[str, Any]:
            return volumes.describe(volumes.create(name, labels, driver=driver, options=options))

        return api.json(await api.call(run), status=201)

    async def inspect(request: web.Request) -> web.Response:
        return api.json(await api.call(volumes.inspect, request.match_info["name"]))

    async def update(request: web.Request) -> web.Response:
        raise ApiError(400, "only cluster volumes can be updated: dockyard has no swarm")

    async def remove(request: web.Request) -> web.Response:
        force = bool_param(request, "force")
        await api.call(volumes.remove, request.match_info["name"], force)
        return api.no_content()

    async def prune(request: web.Request) -> web.Response:
        filters = filters_param(request)

        def run() -> dict[str, Any]:
            sizes = {v.name: v.size for v in volumes.list()}
            removed = volumes.prune(filters=filters or None)
            return {"VolumesDeleted": removed, "SpaceReclaimed": sum(sizes.get(n, 0) for n in removed)}

        return api.json(await api.call(run))

    return [
        web.get("/volumes", list_),
        web.post("/volumes/create", create),
        web.post("/volumes/prune", prune),
        web.get("/volumes/{name}", inspect),
        web.put("/volumes/{name}", update),
        web.delete("/volumes/{name}", remove),
    ]


def _strings(value: Any, what: str) -> dict[str, str]:
    """A JSON object of strings (labels, driver options); InvalidArgument for anything else."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidArgument(f"invalid {what}: a JSON object of strings is expected")
    return {str(k): v for k, v in value.items()}
