"""System endpoints: ``/_ping``, ``/version``, ``/info``, ``/events``, ``/system/df``, ``/auth``."""

from __future__ import annotations

import os
import platform
from typing import Any

from aiohttp import web

from ..api import (
    API_VERSION,
    MIN_API_VERSION,
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


def _arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "i686": "386", "armv7l": "arm"}.get(machine, machine)


def version_doc() -> dict[str, Any]:
    v = _version()
    common = {
        "Version": v,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": "",
        "GoVersion": f"python{platform.python_version()}",
        "Os": "linux",
        "Arch": _arch(),
        "KernelVersion": platform.release(),
        "BuildTime": "",
    }
    return {
        "Platform": {"Name": "dockyard"},
        "Experimental": False,
        "Components": [{"Name": "Engine", "Version": v, "Details": dict(common)}],
        **common,
    }


def _os_name() -> str:
    try:
        with open("/etc/os-release") as f:
            for line in f:
                key, _, value = line.strip().partition("=")
                if key == "PRETTY_NAME":
                    return value.strip('"')
    except OSError:
        pass
    return "Linux"


def _mem_total() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def info_doc(api: Api) -> dict[str, Any]:
    """Docker's ``GET /info`` for this root and machine."""
    eng = api.engine
    states = [c.status for c in eng.containers.list(all=True)]
    running = sum(1 for s in states if s in ("running", "restarting"))
    paused = states.count("paused")
    v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    return {
        "ID": "",
        "Containers": len(states),
        "ContainersRunning": running,
        "ContainersPaused": paused,
        "ContainersStopped": len(states) - running - paused,
        "Images": len(eng.images.list(all=True)),
        "Driver": "overlay2",
        "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"]],
        "Plugins": {
            "Volume": ["local"],
            "Network": ["bridge", "host", "null"],
            "Authorization": None,
            "Log": ["json-file", "none"],
        },
        "MemoryLimit": True,
        "SwapLimit": True,
        "KernelMemory": False,
        "CpuCfsPeriod": True,
        "CpuCfsQuota": True,
        "CPUShares": True,
        "CPUSet": True,
        "PidsLimit": True,
        "OomKillDisable": not v2,
        "IPv4Forwarding": True,
        "BridgeNfIptables": True,
        "BridgeNfIp6tables": True,
        "Debug": False,
        "NFd": len(os.listdir("/proc/self/fd")),
        "NGoroutines": 0,
        "SystemTime": _now(),
        "LoggingDriver": "json-file",
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": "2" if v2 else "1",
        "NEventsListener": 0,
        "KernelVersion": platform.release(),
        "OperatingSystem": _os_name(),
        "OSVersion": "",
        "OSType": "linux",
        "Architecture": platform.machine(),
        "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": None,
        "NCPU": os.cpu_count() or 0,
        "MemTotal": _mem_total(),
        "GenericResources": None,
        "DockerRootDir": eng.root,
        "HttpProxy": "",
        "HttpsProxy": "",
        "NoProxy": "",
        "Name": platform.node(),
        "Labels": [],
        "ExperimentalBuild": False,
        "ServerVersion": _version(),
        "Runtimes": {"runc": {"path": "dockyard"}},
        "DefaultRuntime": "runc",
        "Swarm": {
            "NodeID": "",
            "NodeAddr": "",
            "LocalNodeState": "inactive",
            "ControlAvailable": False,
            "Error": "",
            "RemoteManagers": None,
        },  # fmt: skip
        "LiveRestoreEnabled": True,
        "Isolation": "",
        "InitBinary": "tini",
        "ContainerdCommit": {"ID": "", "Expected": ""},
        "RuncCommit": {"ID": "", "Expected": ""},
        "InitCommit": {"ID": "", "Expected": ""},
        "SecurityOptions": ["name=seccomp,profile=builtin"] + (["name=cgroupns"] if v2 else []),
        "Warnings": None,
    }


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


def _now() -> str:
    import time

    from engine.humanize import rfc3339

    return rfc3339(time.time())


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
        return api.json(version_doc())

    async def info(request: web.Request) -> web.Response:
        return api.json(await api.call(info_doc, api))

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

    return [
        web.get("/_ping", ping),
        web.get("/system/df", df),
        web.post("/auth", auth),
        web.get("/events", events),
        web.get("/version", version),
        web.get("/info", info),
    ]
