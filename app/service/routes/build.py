"""``POST /build``: a build from the tar context in the body (the classic builder's API), its progress
streamed as JSON lines while the steps run (``{"stream": ...}``, ``{"aux": {"ID": ...}}``, an error as
``{"errorDetail": ..., "error": ...}``); ``POST /build/prune``: the build cache."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

from aiohttp import web

from engine import BuildOptions, InvalidArgument

from ..api import Api, ApiError, bool_param, filters_param, int_param
from .images import BodyReader, progress_reply


def routes(api: Api) -> list[web.RouteDef]:
    images = api.engine.images

    async def build(request: web.Request) -> web.StreamResponse:
        options = _options(request, BodyReader(request, asyncio.get_running_loop()))
        quiet = bool_param(request, "q")

        def produce(stopped: Callable[[], bool]) -> Iterator[dict[str, Any]]:
            for event in images.build_stream(options):
                yield from _lines(event, quiet, images.tagged_name)

        return await progress_reply(request, api, api.iterate(produce))

    async def prune(request: web.Request) -> web.Response:
        from engine.units import parse_duration

        filters = filters_param(request)
        older: float | None = None
        kinds: set[str] | None = None
        for key, values in filters.items():
            for value in values:
                if key == "until":
                    older = parse_duration(value)
                elif key == "type" and value in ("regular", "exec.cachemount"):
                    kinds = (kinds or set()) | {value}
                else:
                    raise InvalidArgument(f"invalid filter '{key}={value}'")
        keep = int_param(request, "keep-storage", 0) or int_param(request, "reserved-space", 0) or None
        everything = bool_param(request, "all")
        report = await api.call(
            lambda: images.prune_builds(all=everything, older_than=older, kinds=kinds, keep_storage=keep)
        )
        return api.json({"CachesDeleted": None, "SpaceReclaimed": report.reclaimed})

    return [web.post("/build", build), web.post("/build/prune", prune)]


def _json_param(request: web.Request, name: str, default: Any) -> Any:
    raw = request.query.get(name, "")
    if not raw:
        return default
    try:
        return json.loads(raw)
    except ValueError:
        raise InvalidArgument(f"invalid {name}: {raw!r} is not JSON") from None


def _refuse(flag: bool, why: str) -> None:
    if flag:
        raise ApiError(400, why)


def _options(request: web.Request, body: BodyReader) -> BuildOptions:
    """The query of ``POST /build`` as BuildOptions; what the build cannot do is refused (400) before the
    body is read."""
    q = request.query
    _refuse(
        q.get("version", "1") == "2",
        "BuildKit's session API is not served: use the classic builder (DOCKER_BUILDKIT=0), whose "
        "requests dockyard builds with its own builder",
    )
    _refuse(
        bool(q.get("remote")),
        "a remote context (a URL or Git repository) is not supported: send the context as a tar in the body",
    )
    _refuse(bool_param(request, "squash"), "--squash is not supported: dockyard keeps every layer of a build")
    _refuse(bool(_json_param(request, "outputs", None)), "outputs need BuildKit: the image is stored here")
    dockerfile = q.get("dockerfile") or None
    if dockerfile and (dockerfile.startswith("/") or ".." in dockerfile.split("/")):
        raise InvalidArgument(f"the Dockerfile {dockerfile} must be a path inside the build context")
    # default (none: dockyard build steps have no network), none, host, or a network's name or ID, which the
    # RUN steps join (the engine refuses one that does not exist)
    network = q.get("networkmode", "") or "default"
    build_args = _json_param(request, "buildargs", {}) or {}
    labels = _json_param(request, "labels", {}) or {}
    if not isinstance(build_args, dict) or not isinstance(labels, dict):
        raise InvalidArgument("buildargs and labels must be JSON objects")
    cache_from = _json_param(request, "cachefrom", []) or []
    return BuildOptions(
        "-",
        dockerfile=dockerfile,
        tags=[t for t in q.getall("t", []) if t],
        # a build argument without a value takes the ARG's default: never the service's environment
        build_args={str(k): str(v) for k, v in build_args.items() if v is not None},
        target=q.get("target") or None,
        no_cache=bool_param(request, "nocache"),
        labels={str(k): str(v) for k, v in labels.items()},
        network="none" if network == "default" else network,
        pull=bool_param(request, "pull"),
        cache_from=[str(c) for c in cache_from] if isinstance(cache_from, list) else [],
        cache_from_only=bool(cache_from),  # the classic builder's meaning: only these images are cache
        platform=q.get("platform") or None,
        run_options=_run_options(request),
        context_stream=body,  # type: ignore[arg-type]  # read as a file
    )


def _run_options(request: web.Request) -> dict[str, Any]:
    """Limits of the RUN steps' containers (BuildOptions.run_options); Docker's 0 or "" is no limit."""
    out: dict[str, Any] = {}
    for param, name in (
        ("memory", "memory"),
        ("memswap", "memory_swap"),
        ("cpushares", "cpu_shares"),
        ("cpuperiod", "cpu_period"),
        ("cpuquota", "cpu_quota"),
        ("shmsize", "shm_size"),
    ):
        value = int_param(request, param, 0)
        if value:
            out[name] = value
    for param, name in (
        ("cpusetcpus", "cpuset_cpus"),
        ("cpusetmems", "cpuset_mems"),
        ("cgroupparent", "cgroup_parent"),
    ):
        if request.query.get(param):
            out[name] = request.query[param]
    hosts = [h for value in request.query.getall("extrahosts", []) for h in value.split(",") if h]
    if hosts:
        out["extra_hosts"] = hosts
    ulimits = _json_param(request, "ulimits", []) or []
    if ulimits:
        try:
            out["ulimits"] = [f"{u['Name']}={u['Soft']}:{u['Hard']}" for u in ulimits]
        except (KeyError, TypeError):
            raise InvalidArgument("ulimits must be a JSON list of {Name, Soft, Hard}") from None
    return out


def _lines(event: Any, quiet: bool, tagged: Callable[[str], str]) -> Iterator[dict[str, Any]]:
    """A build event as the classic builder's JSON lines (``tagged``: a tag as Docker prints it, ``app`` as
    ``app:latest``)."""
    kind = event.kind
    if kind == "result":
        yield {"aux": {"ID": event.image_id}}
        if quiet:
            yield {"stream": f"{event.image_id}\n"}
            return
        yield {"stream": f"Successfully built {event.image_id.partition(':')[2][:12]}\n"}
        for tag in event.tags:
            yield {"stream": f"Successfully tagged {tagged(tag)}\n"}
        return
    if quiet:
        return
    if kind == "step":
        stage = f" ({event.stage})" if event.stage else ""
        yield {"stream": f"Step {event.step}/{event.total}{stage} : {event.instruction}\n"}
    elif kind == "cached":
        yield {"stream": " ---> Using cache\n"}
    elif kind == "output" and event.stream == "stderr":
        yield {"stream": f"\x1b[91m{event.text}\n\x1b[0m"}  # the classic builder's red for a step's stderr
    elif kind == "output":
        yield {"stream": f"{event.text}\n"}
    elif kind == "done":
        yield {"stream": f" ---> Done in {event.elapsed:.1f}s\n"}
    elif kind == "warning":
        yield {"stream": f"[WARNING]: {event.text}\n"}
    elif kind in ("info", "watch") and event.text:
        yield {"stream": f"{event.text}\n"}
