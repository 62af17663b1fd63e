"""System endpoints: ``/_ping``, ``/version``, ``/info``, ``/events``, ``/system/df``, ``/auth``, and Swarm's
(``/swarm``, ``/nodes``, ``/services``, ``/tasks``, ``/secrets``, ``/configs``), answered as by a daemon in no swarm."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..api import (
    Api,
    ApiError,
    JsonLines,
    api_version,
    filters_param,
    json_body,
    stream_response,
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dockyard")
    except PackageNotFoundError:
        return "0.1.0"


def df_doc(api: Api) -> dict[str, Any]:
    """Docker's ``GET /system/df`` from the engine's disk usage."""
    from engine.humanize import parse_time, rfc3339

    eng = api.engine
    du = eng.df()
    images = {im.id: im for im in eng.images.list(all=True)}
    image_docs = []
    for d in du.details.get("images", []):
        im = images.get(d["id"])
        tag = f"{d['repository']}:{d['tag']}" if d["repository"] != "<none>" else None
        image_docs.append(
            {
                "Id": d["id"],
                "ParentId": getattr(im, "parent", "") or "",
                "RepoTags": list(im.tags) if im is not None else ([tag] if tag else []),
                "RepoDigests": list(getattr(im, "repo_digests", []) or []),
                "Created": int(parse_time(im.created)) if im is not None else 0,
                "Size": d["size"],
                "SharedSize": d["shared"],
                "VirtualSize": d["size"],
                "Labels": dict((im.config.get("Labels") or {}) if im is not None else {}),
                "Containers": d["containers"],
            }
        )
    sizes = {d["id"]: d["size"] for d in du.details.get("containers", [])}
    containers = []
    for doc in eng.containers.summaries(all=True):
        doc["SizeRw"] = sizes.get(doc["Id"], 0)
        im = images.get(doc["ImageID"])
        doc["SizeRootFs"] = doc["SizeRw"] + (im.size if im is not None else 0)
        containers.append(doc)
    links = {d["name"]: d for d in du.details.get("volumes", [])}
    volumes = []
    for v in eng.volumes.list():
        doc = eng.volumes.describe(v)
        d = links.get(v.name, {})
        doc["UsageData"] = {"Size": d.get("size", -1), "RefCount": d.get("links", 0)}
        volumes.append(doc)
    cache = [
        {
            "ID": r.get("id", ""),
            "Parent": "",
            "Type": "regular",
            "Description": r.get("description", ""),
            "InUse": bool(r.get("in_use")),
            "Shared": bool(r.get("shared")),
            "Size": r.get("size", 0),
            "CreatedAt": rfc3339(float(r.get("created") or 0)),
            "LastUsedAt": rfc3339(float(r.get("last_used") or r.get("created") or 0)),
            "UsageCount": 0,
        }
        for r in du.details.get("build_cache", [])
    ]
    return {
        "LayersSize": du.images_size,
        "Images": image_docs,
        "Containers": containers,
        "Volumes": volumes,
        "BuildCache": cache,
    }


_NOT_MANAGER = (
    'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to '
    "swarm and try again."
)


def routes(api: Api) -> list[web.RouteDef]:
    async def ping(request: web.Request) -> web.Response:
        headers = {
            "Api-Version": api_version(request),
            "Docker-Experimental": "false",
            "Cache-Control": "no-cache, no-store, must-revalidate",
            "Pragma": "no-cache",
            "Builder-Version": "1",
        }
        body = b"" if request.method == "HEAD" else b"OK"
        return web.Response(body=body, content_type="text/plain", charset="utf-8", headers=headers)

    async def version(request: web.Request) -> web.Response:
        from engine import version_document

        return api.json(version_document(_version()))

    async def info(request: web.Request) -> web.Response:
        return api.json(await api.call(api.engine.info, _version()))

    async def events(request: web.Request) -> web.StreamResponse:
        import time

        from engine import InvalidArgument, parse_timestamp

        now = time.time()
        since = parse_timestamp(request.query["since"], now) if request.query.get("since") else None
        until = parse_timestamp(request.query["until"], now) if request.query.get("until") else None
        if since is not None and until is not None and until < since:
            raise InvalidArgument(f"`since` time ({since:.9f}) cannot be after `until` time ({until:.9f})")
        filters = filters_param(request) or None
        if filters:
            await api.call(lambda: next(iter(api.engine.events(filters=filters, timeout=0)), None))
        stream = api.iterate(
            lambda stopped: api.engine.events(filters=filters, since=since, until=until, stop=stopped)
        )
        resp = await stream_response(request)
        out = JsonLines(resp)
        async for e in stream:
            await out.write(e.message())
        await resp.write_eof()
        return resp

    async def df(request: web.Request) -> web.Response:
        return api.json(await api.call(df_doc, api))

    async def auth(request: web.Request) -> web.Response:
        from engine import DockyardError, InvalidArgument

        body = await json_body(request, {})
        if not isinstance(body, dict) or not body.get("username"):
            raise InvalidArgument("invalid login: username and password are required")
        server = body.get("serveraddress") or None
        try:
            await api.call(eng_login, body["username"], body.get("password") or "", server)
        except DockyardError as e:
            if type(e).__name__ == "Unauthorized":
                raise ApiError(401, str(e)) from None
            raise
        return api.json({"Status": "Login Succeeded", "IdentityToken": ""})

    eng_login = api.engine.login

    async def no_swarm(request: web.Request) -> web.Response:
        """Swarm's endpoints answer as a Docker daemon that is in no swarm (503), and swarm cannot be
        started: dockyard has no swarm mode."""
        if request.path.rstrip("/").endswith(("/swarm/init", "/swarm/join")):
            raise ApiError(503, "swarm mode is not supported: dockyard runs containers on this machine only")
        if request.method == "POST" or request.path.endswith("/unlockkey"):
            raise ApiError(503, "This node is not part of a swarm")
        raise ApiError(503, _NOT_MANAGER)

    swarm = [web.get("/swarm", no_swarm), web.get("/swarm/unlockkey", no_swarm)]
    for action in ("init", "join", "leave", "update", "unlock"):
        swarm.append(web.post(f"/swarm/{action}", no_swarm))
    for kind in ("nodes", "services", "tasks", "secrets", "configs"):
        swarm += [web.get(f"/{kind}", no_swarm), web.route("*", f"/{kind}/{{rest:.*}}", no_swarm)]

    return [
        *swarm,
        web.get("/_ping", ping),
        web.get("/system/df", df),
        web.post("/auth", auth),
        web.get("/events", events),
        web.get("/version", version),
        web.get("/info", info),
    ]
