"""Container endpoints: list, create, inspect, the life cycle (start, stop, kill, restart, pause, unpause,
rename, wait, delete, update), logs, top, stats, changes, export, archive (GET, HEAD, PUT), prune and
resize. Attach and exec are in exec.py."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from aiohttp import web

from engine import Conflict, ContainerNotFound, CreateOptions, InvalidArgument

from ..api import (
    Api,
    JsonLines,
    MuxWriter,
    bool_param,
    dumps,
    filters_param,
    int_param,
    json_body,
    stream_response,
)

#: Docker's numbers for the kinds of ``changes``.
_CHANGE_KIND = {"C": 0, "A": 1, "D": 2}
#: HostConfig fields this engine has no way to honour, with the reason given when one is set.
_REFUSED_HOST = {
    "DeviceCgroupRules": "device cgroup rules are not supported: use Devices",
    "StorageOpt": "storage options are not supported by the overlay driver here",
}


def _strings(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument(f"invalid {what}: a list of strings expected")
    return list(value)


def _map(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidArgument(f"invalid {what}: an object expected")
    return value


def _num(value: Any, what: str) -> int | None:
    """A number field: None when absent or zero (Docker's "not set")."""
    if value is None or value == 0:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgument(f"invalid {what}: a number expected")
    return int(value)


def _ports(bindings: dict[str, Any]) -> list[str]:
    """HostConfig.PortBindings as ``-p`` specs: ``[IP:]HOSTPORT:PORT/PROTO`` or ``PORT/PROTO``."""
    out = []
    for port, hosts in bindings.items():
        for h in hosts or [{}]:
            h = h or {}
            ip, hp = h.get("HostIp") or "", h.get("HostPort") or ""
            if ip and ":" in ip:
                ip = f"[{ip}]"
            if ip:
                out.append(f"{ip}:{hp}:{port}")
            elif hp:
                out.append(f"{hp}:{port}")
            else:
                out.append(port)
    return out


def _mount(m: dict[str, Any]) -> str:
    """A HostConfig.Mounts entry as a ``--mount`` spec."""
    parts = [f"type={m.get('Type') or 'volume'}"]
    if m.get("Source"):
        parts.append(f"source={m['Source']}")
    if not m.get("Target"):
        raise InvalidArgument("invalid mount config: Target must not be empty")
    parts.append(f"target={m['Target']}")
    if m.get("ReadOnly"):
        parts.append("readonly")
    bind = m.get("BindOptions") or {}
    if bind.get("Propagation"):
        parts.append(f"bind-propagation={bind['Propagation']}")
    vol = m.get("VolumeOptions") or {}
    if vol.get("NoCopy"):
        parts.append("volume-nocopy")
    for k, v in (vol.get("Labels") or {}).items():
        parts.append(f"volume-label={k}={v}")
    tmpfs = m.get("TmpfsOptions") or {}
    if tmpfs.get("SizeBytes"):
        parts.append(f"tmpfs-size={tmpfs['SizeBytes']}")
    if tmpfs.get("Mode"):
        parts.append(f"tmpfs-mode={int(tmpfs['Mode']):o}")
    return ",".join(parts)


def _volumes(body: dict[str, Any], host: dict[str, Any]) -> list[str]:
    """Binds, then Config.Volumes' anonymous volumes at the paths no bind, mount or tmpfs takes: Docker lets
    those take an anonymous volume's place, and docker-compose sends a named volume both ways."""
    binds = _strings(host.get("Binds"), "Binds")
    paths = [b.split(":")[1] if ":" in b else b for b in binds] + list(_map(host.get("Tmpfs"), "Tmpfs"))
    paths += [str(m.get("Target")) for m in host.get("Mounts") or [] if isinstance(m, dict)]
    taken = {p.rstrip("/") for p in paths}
    return binds + [v for v in _map(body.get("Volumes"), "Volumes") if v.rstrip("/") not in taken]


def _rate_devices(entries: Any, key: str) -> list[str]:
    return [f"{d['Path']}:{d[key]}" for d in entries or [] if isinstance(d, dict) and "Path" in d]


def create_options(
    body: dict[str, Any], name: str | None, platform: str, default_network: str
) -> CreateOptions:
    """Docker's create body (Config with HostConfig and NetworkingConfig) as the engine's options."""
    if not isinstance(body, dict):
        raise InvalidArgument("invalid create body: a JSON object expected")
    host = _map(body.get("HostConfig"), "HostConfig")
    for key, why in _REFUSED_HOST.items():
        if host.get(key):
            raise InvalidArgument(f"{key} is not supported: {why}")
    if host.get("DeviceRequests"):
        raise InvalidArgument("DeviceRequests (--gpus) are not supported: this engine has no GPU support")
    entrypoint: list[str] | None = None
    if body.get("Entrypoint") is not None:
        entrypoint = _strings(body["Entrypoint"], "Entrypoint")
        if entrypoint == [""]:
            entrypoint = []
    cmd = _strings(body.get("Cmd"), "Cmd") if body.get("Cmd") is not None else None
    network = host.get("NetworkMode") or "default"
    if network == "default":
        network = default_network
    endpoints = _map(
        _map(body.get("NetworkingConfig"), "NetworkingConfig").get("EndpointsConfig"), "EndpointsConfig"
    )
    endpoint = _map(
        endpoints.get(network) or (next(iter(endpoints.values())) if len(endpoints) == 1 else None),
        "endpoint",
    )
    ipam = _map(endpoint.get("IPAMConfig"), "IPAMConfig")
    from .networks import refuse_endpoint  # what network connect refuses is refused here too

    refuse_endpoint(endpoint)
    restart = _map(host.get("RestartPolicy"), "RestartPolicy")
    policy = restart.get("Name") or "no"
    if policy == "on-failure" and restart.get("MaximumRetryCount"):
        policy = f"on-failure:{restart['MaximumRetryCount']}"
    log = _map(host.get("LogConfig"), "LogConfig")
    console = host.get("ConsoleSize") or [0, 0]
    swappiness = host.get("MemorySwappiness")
    nano = host.get("NanoCpus") or 0
    swap = host.get("MemorySwap")
    expose = list(_map(body.get("ExposedPorts"), "ExposedPorts"))
    volumes = _volumes(body, host)
    health = body.get("Healthcheck")
    return CreateOptions(
        command=cmd,
        entrypoint=entrypoint,
        name=name or None,
        env=_strings(body.get("Env"), "Env"),
        working_dir=body.get("WorkingDir") or "",
        user=body.get("User") or "",
        hostname=body.get("Hostname") or "",
        domainname=body.get("Domainname") or "",
        tty=bool(body.get("Tty")),
        console_size=(int(console[0] or 0), int(console[1] or 0)) if len(console) == 2 else (0, 0),
        stdin_open=bool(body.get("OpenStdin")),
        auto_remove=bool(host.get("AutoRemove")),
        labels={str(k): str(v) for k, v in _map(body.get("Labels"), "Labels").items()},
        stop_signal=body.get("StopSignal") or "",
        stop_timeout=body.get("StopTimeout"),
        restart=policy,
        network=network,
        volumes=volumes,
        tmpfs=[f"{k}:{v}" if v else k for k, v in _map(host.get("Tmpfs"), "Tmpfs").items()],
        read_only=bool(host.get("ReadonlyRootfs")),
        memory=_num(host.get("Memory"), "Memory"),
        memory_swap=None if not swap else int(swap),
        cpus=nano / 1e9 if nano else None,
        cpu_shares=_num(host.get("CpuShares"), "CpuShares"),
        pids_limit=None if not host.get("PidsLimit") else int(host["PidsLimit"]),
        cap_add=_strings(host.get("CapAdd"), "CapAdd"),
        cap_drop=_strings(host.get("CapDrop"), "CapDrop"),
        privileged=bool(host.get("Privileged")),
        ports=_ports(_map(host.get("PortBindings"), "PortBindings")),
        publish_all=bool(host.get("PublishAllPorts")),
        ip=ipam.get("IPv4Address") or "",
        ip6=ipam.get("IPv6Address") or "",
        aliases=_strings(endpoint.get("Aliases"), "Aliases"),
        link_local_ips=_strings(ipam.get("LinkLocalIPs"), "LinkLocalIPs"),
        extra_hosts=_strings(host.get("ExtraHosts"), "ExtraHosts"),
        dns=_strings(host.get("Dns"), "Dns"),
        dns_search=_strings(host.get("DnsSearch"), "DnsSearch"),
        dns_options=_strings(host.get("DnsOptions"), "DnsOptions"),
        cpu_period=_num(host.get("CpuPeriod"), "CpuPeriod"),
        cpu_quota=_num(host.get("CpuQuota"), "CpuQuota"),
        cpuset_cpus=host.get("CpusetCpus") or "",
        cpuset_mems=host.get("CpusetMems") or "",
        memory_reservation=_num(host.get("MemoryReservation"), "MemoryReservation"),
        memory_swappiness=None if swappiness is None or swappiness == -1 else int(swappiness),
        oom_kill_disable=bool(host.get("OomKillDisable")),
        blkio_weight=_num(host.get("BlkioWeight"), "BlkioWeight"),
        kernel_memory=_num(host.get("KernelMemory"), "KernelMemory"),
        expose=expose,
        platform=platform,
        mac_address=body.get("MacAddress") or endpoint.get("MacAddress") or "",
        isolation=host.get("Isolation") or "",
        volume_driver=host.get("VolumeDriver") or "",
        links=_strings(host.get("Links"), "Links") + _strings(endpoint.get("Links"), "Links"),
        runtime=host.get("Runtime") or "",
        cgroupns=host.get("CgroupnsMode") or "",
        cgroup_parent=host.get("CgroupParent") or "",
        annotations={str(k): str(v) for k, v in _map(host.get("Annotations"), "Annotations").items()},
        weight_devices=_rate_devices(host.get("BlkioWeightDevice"), "Weight"),
        device_read_bps=_rate_devices(host.get("BlkioDeviceReadBps"), "Rate"),
        device_write_bps=_rate_devices(host.get("BlkioDeviceWriteBps"), "Rate"),
        device_read_iops=_rate_devices(host.get("BlkioDeviceReadIOps"), "Rate"),
        device_write_iops=_rate_devices(host.get("BlkioDeviceWriteIOps"), "Rate"),
        cpu_rt_period=_num(host.get("CpuRealtimePeriod"), "CpuRealtimePeriod"),
        cpu_rt_runtime=_num(host.get("CpuRealtimeRuntime"), "CpuRealtimeRuntime"),
        oom_score_adj=_num(host.get("OomScoreAdj"), "OomScoreAdj"),
        userns=host.get("UsernsMode") or "",
        healthcheck=dict(health) if isinstance(health, dict) and health else None,
        log_driver=log.get("Type") or "",
        log_opts={str(k): str(v) for k, v in _map(log.get("Config"), "LogConfig.Config").items()},
        mounts=[_mount(m) for m in host.get("Mounts") or []],
        init=bool(host.get("Init")),
        shm_size=int(host.get("ShmSize") or 0),
        ulimits=[
            f"{u['Name']}={u.get('Soft', 0)}:{u.get('Hard', u.get('Soft', 0))}"
            for u in host.get("Ulimits") or []
            if isinstance(u, dict) and u.get("Name")
        ],
        devices=[
            ":".join(
                p
                for p in (
                    d.get("PathOnHost", ""),
                    d.get("PathInContainer", ""),
                    d.get("CgroupPermissions", ""),
                )
                if p
            )
            for d in host.get("Devices") or []
            if isinstance(d, dict)
        ],
        security_opt=_strings(host.get("SecurityOpt"), "SecurityOpt"),
        sysctls=[f"{k}={v}" for k, v in _map(host.get("Sysctls"), "Sysctls").items()],
        pid=host.get("PidMode") or "",
        ipc=host.get("IpcMode") or "",
        uts=host.get("UTSMode") or "",
        group_add=_strings(host.get("GroupAdd"), "GroupAdd"),
        volumes_from=_strings(host.get("VolumesFrom"), "VolumesFrom"),
    )


def routes(api: Api) -> list[web.RouteDef]:
    eng = api.engine
    ctrs = eng.containers

    def cid(request: web.Request) -> str:
        return request.match_info["id"]

    async def resolve(request: web.Request) -> str:
        return await api.call(ctrs.resolve, cid(request))

    async def list_(request: web.Request) -> web.Response:
        filters = filters_param(request) or None
        limit = int_param(request, "limit", -1) or -1
        size = bool_param(request, "size")
        show_all = bool_param(request, "all") or limit > 0

        def work() -> list[dict[str, Any]]:
            found = ctrs.summaries(all=show_all, filters=filters, size=size)
            return found[:limit] if limit > 0 else found

        return api.json(await api.call(work))

    async def create(request: web.Request) -> web.Response:
        body = await json_body(request, {})
        name = request.query.get("name", "")
        image = body.get("Image") if isinstance(body, dict) else None
        if not image:
            raise InvalidArgument("config cannot be empty in order to create a container")
        default = await api.call(eng.default_network)
        opts = create_options(body, name, request.query.get("platform", ""), default)
        c = await api.call(ctrs.create, image, opts)
        return api.json({"Id": c.id, "Warnings": list(opts.warnings)}, status=201)

    async def inspect(request: web.Request) -> web.Response:
        from .exec import exec_ids

        doc = await api.call(ctrs.inspect, cid(request), bool_param(request, "size"))
        doc["ExecIDs"] = exec_ids(api, doc["Id"])
        return api.json(doc)

    async def start(request: web.Request) -> web.Response:
        if request.query.get("detachKeys"):
            raise InvalidArgument("detachKeys on start are not supported: give them to attach")
        from .exec import start_attached  # a client attached before the start gets the first byte

        started = await start_attached(api, cid(request))
        return web.Response(status=204 if started else 304)

    def _signal(request: web.Request) -> str | None:
        return request.query.get("signal") or None

    async def stop(request: web.Request) -> web.Response:
        t = int_param(request, "t")
        stopped = await api.call(ctrs.stop, cid(request), t, _signal(request))
        return web.Response(status=204 if stopped else 304)

    async def restart(request: web.Request) -> web.Response:
        await api.call(ctrs.restart, cid(request), int_param(request, "t"), _signal(request))
        return api.no_content()

    async def kill(request: web.Request) -> web.Response:
        await api.call(ctrs.kill, cid(request), _signal(request))
        return api.no_content()

    async def pause(request: web.Request) -> web.Response:
        await api.call(ctrs.pause, cid(request))
        return api.no_content()

    async def unpause(request: web.Request) -> web.Response:
        await api.call(ctrs.unpause, cid(request))
        return api.no_content()

    async def rename(request: web.Request) -> web.Response:
        new = request.query.get("name", "")
        if not new:
            raise InvalidArgument("Neither old nor new names may be empty")
        await api.call(ctrs.rename, cid(request), new)
        return api.no_content()

    async def update(request: web.Request) -> web.Response:
        body = await json_body(request, {})
        if not isinstance(body, dict):
            raise InvalidArgument("invalid update body: a JSON object expected")
        restart = _map(body.get("RestartPolicy"), "RestartPolicy")
        policy = restart.get("Name") or ""
        if policy == "on-failure" and restart.get("MaximumRetryCount"):
            policy = f"on-failure:{restart['MaximumRetryCount']}"
        nano = body.get("NanoCpus") or 0
        warnings = await api.call(
            ctrs.update,
            cid(request),
            memory=_num(body.get("Memory"), "Memory"),
            memory_swap=_num(body.get("MemorySwap"), "MemorySwap"),
            memory_reservation=_num(body.get("MemoryReservation"), "MemoryReservation"),
            cpus=nano / 1e9 if nano else None,
            cpu_shares=_num(body.get("CpuShares"), "CpuShares"),
            cpu_period=_num(body.get("CpuPeriod"), "CpuPeriod"),
            cpu_quota=_num(body.get("CpuQuota"), "CpuQuota"),
            cpuset_cpus=body.get("CpusetCpus") or "",
            cpuset_mems=body.get("CpusetMems") or "",
            pids_limit=_num(body.get("PidsLimit"), "PidsLimit"),
            blkio_weight=_num(body.get("BlkioWeight"), "BlkioWeight"),
            restart=policy,
            cpu_rt_period=_num(body.get("CpuRealtimePeriod"), "CpuRealtimePeriod"),
            cpu_rt_runtime=_num(body.get("CpuRealtimeRuntime"), "CpuRealtimeRuntime"),
        )
        return api.json({"Warnings": list(warnings)})

    async def wait(request: web.Request) -> web.StreamResponse:
        condition = request.query.get("condition") or "not-running"
        if condition not in ("not-running", "next-exit", "removed"):
            raise InvalidArgument(f"invalid condition: {condition!r}")
        # what happens from now on is seen even when it is over before the next look (run --rm: the exit
        # and the removal come at once)
        offset = await api.call(api.engine.event_offset)
        first = await api.call(ctrs.get, cid(request))  # 404 before the reply begins
        resp = await stream_response(request)  # the status goes now, as Docker's: the client knows it waits

        def until_exit(c: Any) -> int:
            while not api.closing.is_set():
                try:
                    return ctrs.wait(c.id, timeout=1.0)
                except TimeoutError:
                    continue
            raise ConnectionAbortedError("the server is shutting down")

        def until_removed() -> int:
            code = first.exit_code
            events = api.engine.events(
                since_offset=offset, filters={"container": [first.id]}, stop=api.closing.is_set
            )
            for e in events:
                if e.action == "die":
                    code = int(e.attributes.get("exitCode") or 0)
                elif e.action == "destroy":
                    return code
            raise ConnectionAbortedError("the server is shutting down")

        def work() -> int:
            if condition == "removed":
                return until_removed()
            try:
                return until_not_running()
            except ContainerNotFound:  # removed as it ended (AutoRemove): its exit code is in the log
                return until_removed()

        def until_not_running() -> int:
            import time

            c = first
            if condition == "next-exit":
                while c.status not in ("running", "paused", "restarting"):
                    if c.finished_at != first.finished_at:  # it ran and ended meanwhile
                        return c.exit_code
                    if api.closing.is_set():
                        raise ConnectionAbortedError("the server is shutting down")
                    time.sleep(0.05)
                    c = ctrs.get(c.id)
            return until_exit(c)

        try:
            code = await api.call(work)
            doc: dict[str, Any] = {"StatusCode": code, "Error": None}
        except ContainerNotFound:
            doc = {"StatusCode": 0, "Error": None} if condition == "removed" else {
                "StatusCode": -1, "Error": {"Message": "the container was removed"}}  # fmt: skip
        except Exception as e:
            doc = {"StatusCode": -1, "Error": {"Message": str(e)}}
        await resp.write(dumps(doc) + b"\n")
        await resp.write_eof()
        return resp

    async def delete(request: web.Request) -> web.Response:
        if bool_param(request, "link"):  # a container's own name is no link: Docker's conflict
            await api.call(ctrs.remove_link, cid(request))
            return api.no_content()
        return await remove(request, cid(request))

    async def delete_linked(request: web.Request) -> web.Response:
        """DELETE /containers/PARENT/ALIAS: a legacy link's name; with ``link`` the link goes, else the
        container it names (as Docker's, whose names include the links)."""
        name = f"{request.match_info['parent']}/{request.match_info['alias']}"
        if bool_param(request, "link"):
            await api.call(ctrs.remove_link, name)
            return api.no_content()
        return await remove(request, await api.call(ctrs.linked, name))

    async def remove(request: web.Request, ref: str) -> web.Response:
        try:
            await api.call(ctrs.remove, ref, bool_param(request, "force"), bool_param(request, "v"))
        except Conflict:
            c = await api.call(ctrs.get, ref)
            if c.status not in ("running", "paused", "restarting"):
                raise
            # the words of Docker's daemon up to API 1.43 (the newest served), which its clients look for
            todo = "Stop the container before attempting removal or force remove"
            if c.status == "paused":
                todo = "Unpause and then stop the container before attempting removal or force remove"
            raise Conflict(f"You cannot remove a {c.status} container {c.id}. {todo}") from None
        return api.no_content()

    async def logs(request: web.Request) -> web.StreamResponse:
        import time

        from engine import parse_timestamp

        stdout, stderr = bool_param(request, "stdout"), bool_param(request, "stderr")
        if not (stdout or stderr):
            raise InvalidArgument("Bad parameters: you must choose at least one stream")
        follow = bool_param(request, "follow")
        timestamps = bool_param(request, "timestamps")
        tail_text = request.query.get("tail", "all")
        tail: int | None = None
        if tail_text not in ("", "all"):
            try:
                tail = int(tail_text)
            except ValueError:
                tail = None
            if tail is not None and tail < 0:
                tail = None
        now = time.time()
        since_text, until_text = request.query.get("since", ""), request.query.get("until", "")
        since = parse_timestamp(since_text, now) if since_text not in ("", "0") else None
        until = parse_timestamp(until_text, now) if until_text not in ("", "0") else None
        c = await api.call(ctrs.get, cid(request))
        resp = await stream_response(
            request,
            "application/vnd.docker.raw-stream" if c.tty else "application/vnd.docker.multiplexed-stream",
        )
        out = MuxWriter(resp, c.tty)
        entries = api.iterate(
            lambda stopped: ctrs.logs(c.id, follow, tail, since, until, stdout, stderr, stop=stopped)
        )
        async for e in entries:
            data = e.data
            if timestamps:
                data = e.time.encode() + b" " + data
            await out.write(e.stream, data)
        await resp.write_eof()
        return resp

    async def top(request: web.Request) -> web.Response:
        result = await api.call(ctrs.top, cid(request), request.query.get("ps_args") or None)
        return api.json({"Titles": list(result.titles), "Processes": [list(p) for p in result.processes]})

    async def changes(request: web.Request) -> web.Response:
        found = await api.call(ctrs.diff, cid(request))
        return api.json([{"Path": path, "Kind": _CHANGE_KIND.get(kind, 0)} for kind, path in found] or None)

    async def stats(request: web.Request) -> web.StreamResponse:
        stream = bool_param(request, "stream", True)
        one_shot = bool_param(request, "one-shot")
        if one_shot and stream:
            raise InvalidArgument("cannot have stream=true and one-shot=true")
        c = await api.call(ctrs.get, cid(request))
        reader = await api.call(ctrs.stats_reader, [c.id])

        def document() -> dict[str, Any]:
            docs = reader.documents()
            return docs[0] if docs else reader.idle_document(c.id, c.name)

        if not stream:
            if not one_shot and c.status == "running":
                await api.call(reader.documents)  # the first pass: what the CPU figures compare with
                await asyncio.sleep(1.0)
            return api.json(await api.call(document))

        def produce(stopped: Any) -> Any:
            import time

            yield document()
            while not stopped():
                deadline = time.monotonic() + 1.0
                while not stopped() and time.monotonic() < deadline:
                    time.sleep(0.1)
                if not stopped():
                    reader.refresh()
                    yield document()

        resp = await stream_response(request)
        out = JsonLines(resp)
        async for doc in api.iterate(produce):
            await out.write(doc)
        await resp.write_eof()
        return resp

    async def export(request: web.Request) -> web.StreamResponse:
        ref = await resolve(request)
        resp = await stream_response(request, "application/x-tar")
        async for chunk in api.written(lambda out: ctrs.export(ref, out)):
            await resp.write(chunk)
        await resp.write_eof()
        return resp

    def _path(request: web.Request) -> str:
        path = request.query.get("path", "")
        if not path:
            raise InvalidArgument("bad parameter: path cannot be empty")
        return path

    def _stat_header(doc: dict[str, Any]) -> str:
        return base64.b64encode(dumps(doc)).decode()

    async def archive_head(request: web.Request) -> web.Response:
        doc = await api.call(ctrs.stat_path, cid(request), _path(request))
        return web.Response(status=200, headers={"X-Docker-Container-Path-Stat": _stat_header(doc)})

    async def archive_get(request: web.Request) -> web.StreamResponse:
        ref, path = await resolve(request), _path(request)
        doc = await api.call(ctrs.stat_path, ref, path)
        resp = web.StreamResponse(status=200, headers={"X-Docker-Container-Path-Stat": _stat_header(doc)})
        resp.content_type = "application/x-tar"
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        async for chunk in api.written(lambda out: ctrs.get_archive(ref, path, out)):
            await resp.write(chunk)
        await resp.write_eof()
        return resp

    async def archive_put(request: web.Request) -> web.Response:
        ref, path = await resolve(request), _path(request)
        archive = bool_param(request, "copyUIDGID")
        reader = api.body_reader(request)
        await api.call(ctrs.put_archive, ref, path, reader, archive=archive)
        return web.Response(status=200)

    async def prune(request: web.Request) -> web.Response:
        report = await api.call(ctrs.prune, filters=filters_param(request) or None)
        return api.json(
            {"ContainersDeleted": list(report.deleted) or None, "SpaceReclaimed": report.reclaimed}
        )

    async def resize(request: web.Request) -> web.Response:
        h, w = int_param(request, "h", 0) or 0, int_param(request, "w", 0) or 0
        c = await api.call(ctrs.get, cid(request))
        if c.status not in ("running", "paused", "restarting"):
            raise Conflict(f"Container {c.id} is not running")
        if c.tty and h > 0 and w > 0:

            def work() -> None:
                with ctrs.attach(c.id) as session:
                    session.resize(h, w)

            await api.call(work)
        return web.Response(status=200)

    return [
        web.get("/containers/json", list_),
        web.post("/containers/create", create),
        web.post("/containers/prune", prune),
        web.get("/containers/{id}/json", inspect),
        web.post("/containers/{id}/start", start),
        web.post("/containers/{id}/stop", stop),
        web.post("/containers/{id}/restart", restart),
        web.post("/containers/{id}/kill", kill),
        web.post("/containers/{id}/pause", pause),
        web.post("/containers/{id}/unpause", unpause),
        web.post("/containers/{id}/rename", rename),
        web.post("/containers/{id}/update", update),
        web.post("/containers/{id}/wait", wait),
        web.delete("/containers/{id}", delete),
        web.delete("/containers/{parent}/{alias}", delete_linked),
        web.get("/containers/{id}/logs", logs),
        web.get("/containers/{id}/top", top),
        web.get("/containers/{id}/changes", changes),
        web.get("/containers/{id}/stats", stats),
        web.get("/containers/{id}/export", export),
        web.head("/containers/{id}/archive", archive_head),
        web.get("/containers/{id}/archive", archive_get, allow_head=False),
        web.put("/containers/{id}/archive", archive_put),
        web.post("/containers/{id}/resize", resize),
    ]
