"""Docker's JSON back into the engine's records: the one place where the Engine API's documents (as the
service makes them from these same records, app/service) are read back. Docker's "never" time
(``0001-01-01T00:00:00Z``) is the records' ""."""

from __future__ import annotations

from ..humanize import rfc3339
from ..model.container import Container
from ..model.image import HistoryEntry, Image, LayerInfo
from ..model.network import Network
from ..model.reports import DiskUsage, TopResult
from ..model.volume import Volume
from ..stats import StatsRecord, cpu_percent
from ..store.eventlog import Event

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _time(value: Any) -> str:
    if isinstance(value, int | float):
        return rfc3339(float(value)) if value else ""
    text = str(value or "")
    return "" if text.startswith("0001-01-01") else text


def _ports(settings: dict[str, Any] | None) -> list[dict[str, Any]]:
    """``NetworkSettings.Ports`` (``{"80/tcp": [{"HostIp", "HostPort"}]}``) as the record's port list."""
    out: list[dict[str, Any]] = []
    for key, bindings in ((settings or {}).get("Ports") or {}).items():
        port, _, proto = key.partition("/")
        for b in bindings or [{}]:
            entry: dict[str, Any] = {"container_port": int(port or 0), "protocol": proto or "tcp"}
            if b.get("HostPort"):
                entry["host_ip"] = b.get("HostIp") or ""
                entry["host_port"] = int(b["HostPort"])
            out.append(entry)
    return out


def container(doc: dict[str, Any]) -> Container:
    """A container from ``GET /containers/{id}/json``."""
    state = doc.get("State") or {}
    config = doc.get("Config") or {}
    settings = doc.get("NetworkSettings") or {}
    command = ([doc["Path"]] if doc.get("Path") else []) + list(doc.get("Args") or [])
    return Container(
        id=doc["Id"],
        name=str(doc.get("Name", "")).lstrip("/"),
        image=config.get("Image") or "",
        image_id=doc.get("Image") or "",
        command=command,
        created=_time(doc.get("Created")),
        status=state.get("Status") or "created",
        exit_code=int(state.get("ExitCode") or 0),
        started_at=_time(state.get("StartedAt")),
        finished_at=_time(state.get("FinishedAt")),
        pid=int(state.get("Pid") or 0),
        oom_killed=bool(state.get("OOMKilled")),
        error=state.get("Error") or "",
        restart_count=int(doc.get("RestartCount") or 0),
        health=((state.get("Health") or {}).get("Status") or ""),
        labels=dict(config.get("Labels") or {}),
        ports=_ports(settings),
        tty=bool(config.get("Tty")),
        networks={name: dict(v or {}) for name, v in (settings.get("Networks") or {}).items()},
    )


#: The record's fields ``GET /containers/json`` does not carry (its exit code and health only inside Status).
_LACKING = ("command", "created", "started_at", "finished_at", "exit_code", "pid", "oom_killed", "error", "restart_count",
            "health", "tty")  # fmt: skip


class _Lazy:
    """One of the fields the list lacks: read from the container's inspect the first time it is asked for."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        values = obj.__dict__
        if self.name in values["_lacking"]:
            obj._load()
        return values[self.name]

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.name] = value
        obj.__dict__["_lacking"] = obj.__dict__["_lacking"] - {self.name}


class ListedContainer(Container):
    """A container as ``GET /containers/json`` lists it: what the list carries (the ID, names, image, state,
    ports, labels, networks; the exit code and health as the Status says them), the rest (the command, the
    creation time to the nanosecond, start and end times, PID...) read from its inspect when first asked for. ``status_text`` is the
    service's Status until the times are read."""

    def _load(self) -> None:
        from ..errors import DockyardError

        values = self.__dict__
        try:
            full = values["_inspect"](self.id)
        except DockyardError:  # removed since it was listed: the list's word, and the record's defaults
            full = Container(id=self.id, name="", image="", image_id="", created=values["_created"], status="",
                             command=str(values["_command"]).split())  # fmt: skip
        for name in values["_lacking"]:
            values[name] = getattr(full, name)
        values["_lacking"] = frozenset()

    def status_text(self, now: float | None = None) -> str:
        """Docker's STATUS column; until the times are read, the service's Status with its span of time
        (``Up 3 minutes``, ``Exited (0) 2 seconds ago``) moved on by the time since the list."""
        values = self.__dict__
        if "started_at" not in values["_lacking"]:
            return super().status_text(now)
        text = str(values["_status"])
        head, span, tail = _span_of(text)
        seconds = _seconds(span)
        if seconds is None:
            return text
        import time as _time

        from ..humanize import human_duration

        return head + human_duration(max(0.0, (now or _time.time()) - values["_listed"] + seconds)) + tail


for _name in _LACKING:
    setattr(ListedContainer, _name, _Lazy(_name))


def complete(c: Container) -> None:
    """A listed container's record with every field read (one inspect, if any was still lacking)."""
    if isinstance(c, ListedContainer) and c.__dict__["_lacking"]:
        c._load()


def _span_of(status: str) -> tuple[str, str, str]:
    """Docker's Status around its span of time: ``("Up ", "3 minutes", " (healthy)")``,
    ``("Exited (0) ", "2 seconds", " ago")``; ``(status, "", "")`` when it has none."""
    if status.startswith("Up "):
        span, paren, rest = status[3:].partition(" (")
        return "Up ", span, paren + rest
    if status.endswith(" ago") and ") " in status:
        head, _, span = status[:-4].partition(") ")
        return head + ") ", span, " ago"
    return status, "", ""


def _seconds(span: str) -> float | None:
    """The least number of seconds ``humanize.human_duration`` says as ``span``; None if it is not one."""
    if span == "Less than a second":
        return 0.0
    if span == "About a minute":
        return 60.0
    if span == "About an hour":
        return 1800.0
    count, _, unit = span.partition(" ")
    units = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800, "month": 2592000,
             "year": 31536000}  # fmt: skip
    if not count.isdigit() or unit.rstrip("s") not in units:
        return None
    n = int(count) - 0.5 if unit.startswith("hour") else int(count)
    return n * units[unit.rstrip("s")]


def _from_status(state: str, status: str) -> dict[str, Any]:
    """What Docker's Status text says exactly: the exit code of an exited or restarting container
    (``Exited (137) 2 seconds ago``), the health of a running one (``Up 3 minutes (healthy)``)."""
    out: dict[str, Any] = {}
    if state in ("exited", "restarting") and "(" in status:
        code = status.partition("(")[2].partition(")")[0]
        if code.lstrip("-").isdigit():
            out["exit_code"] = int(code)
    elif state == "running" and status.startswith("Up "):
        out["health"] = ""
        if status.endswith(")"):
            said = status.rpartition("(")[2][:-1]
            if said.startswith("health: "):
                out["health"] = said[len("health: ") :]
            elif said in ("healthy", "unhealthy", "starting"):
                out["health"] = said
    return out


def container_summary(doc: dict[str, Any], inspect: Any, listed: float) -> Container:
    """A container from ``GET /containers/json`` (read at ``listed``, seconds since the epoch); ``inspect(id)``
    gives the full record (``container``) for the fields the list lacks, called the first time one of them is
    read."""
    state = doc.get("State") or "created"
    ports: list[dict[str, Any]] = []
    for p in doc.get("Ports") or []:
        entry: dict[str, Any] = {
            "container_port": int(p.get("PrivatePort") or 0),
            "protocol": p.get("Type") or "tcp",
        }
        if p.get("PublicPort"):
            entry["host_ip"] = p.get("IP") or ""
            entry["host_port"] = int(p["PublicPort"])
        ports.append(entry)
    names = doc.get("Names") or [""]
    known = _from_status(state, str(doc.get("Status") or ""))
    c = ListedContainer(
        id=doc["Id"],
        name=str(names[0]).lstrip("/"),
        image=doc.get("Image") or "",
        image_id=doc.get("ImageID") or "",
        command=[],
        created="",
        status=state,
        labels=dict(doc.get("Labels") or {}),
        ports=ports,
        networks={
            n: dict(v or {}) for n, v in ((doc.get("NetworkSettings") or {}).get("Networks") or {}).items()
        },
        **known,
    )
    c.__dict__.update(_lacking=frozenset(_LACKING) - known.keys(), _inspect=inspect, _status=doc.get("Status") or "",
                     _command=doc.get("Command") or "", _created=_time(doc.get("Created")),
                     _listed=listed)  # fmt: skip
    return c


def image(doc: dict[str, Any]) -> Image:
    """An image from ``GET /images/{name}/json`` (its layers are known by DiffID only: no size, no path)."""
    layers = [
        LayerInfo(chain_id="", diff_id=d, size=0, path="")
        for d in (doc.get("RootFS") or {}).get("Layers") or []
    ]
    return Image(
        id=doc["Id"],
        tags=list(doc.get("RepoTags") or []),
        created=_time(doc.get("Created")),
        size=int(doc.get("Size") or 0),
        layers=layers,
        config=dict(doc.get("Config") or {}),
        history=[],
        architecture=doc.get("Architecture") or "",
        os=doc.get("Os") or "linux",
        repo_digests=list(doc.get("RepoDigests") or []),
        parent=doc.get("Parent") or "",
    )


def history(docs: list[dict[str, Any]]) -> list[HistoryEntry]:
    """``GET /images/{name}/history``: newest first, as Docker sends it."""
    return [
        HistoryEntry(
            id=d.get("Id") or "<missing>",
            created=_time(d.get("Created")),
            created_by=d.get("CreatedBy") or "",
            size=int(d.get("Size") or 0),
            comment=d.get("Comment") or "",
            empty_layer=not d.get("Size"),  # the API does not say: a step that added no bytes
        )
        for d in docs
    ]


def network(doc: dict[str, Any]) -> Network:
    ipam = ((doc.get("IPAM") or {}).get("Config") or [{}]) or [{}]
    first = ipam[0] if ipam else {}
    return Network(
        name=doc.get("Name") or "",
        id=doc.get("Id") or "",
        created=_time(doc.get("Created")),
        driver=doc.get("Driver") or "bridge",
        subnet=first.get("Subnet") or "",
        gateway=first.get("Gateway") or "",
        internal=bool(doc.get("Internal")),
        labels=dict(doc.get("Labels") or {}),
        options=dict(doc.get("Options") or {}),
        bridge=(doc.get("Options") or {}).get("com.docker.network.bridge.name", ""),
    )


def volume(doc: dict[str, Any]) -> Volume:
    usage = doc.get("UsageData") or {}
    return Volume(
        name=doc.get("Name") or "",
        mountpoint=doc.get("Mountpoint") or "",
        created=_time(doc.get("CreatedAt")),
        labels=dict(doc.get("Labels") or {}),
        in_use=int(usage.get("RefCount") or 0) > 0,
        size=max(0, int(usage.get("Size") or 0)),
        options=dict(doc.get("Options") or {}),
    )


def event(doc: dict[str, Any]) -> Event:
    """An event from ``GET /events``."""
    actor = doc.get("Actor") or {}
    nano = int(doc.get("timeNano") or 0) or int(doc.get("time") or 0) * 1_000_000_000
    return Event(
        type=doc.get("Type") or "",
        action=doc.get("Action") or doc.get("status") or "",
        id=actor.get("ID") or doc.get("id") or "",
        time=nano / 1e9,
        attributes=dict(actor.get("Attributes") or {}),
        time_nano=nano,
    )


def top(doc: dict[str, Any]) -> TopResult:
    """``GET /containers/{id}/top``. Podman runs ``ps`` in the container when its own process table is not
    used, and a busybox ``ps`` comes back unsplit (one title ``"PID   USER     COMMAND"``, one field a row):
    split it into columns as ``docker top`` does, the last one keeping its spaces."""
    titles = tuple(doc.get("Titles") or ())
    processes = [tuple(p) for p in doc.get("Processes") or []]
    if len(titles) == 1 and len(titles[0].split()) > 1:
        titles = tuple(titles[0].split())
        processes = [tuple(" ".join(p).split(None, len(titles) - 1)) for p in processes]
    return TopResult(titles=titles, processes=processes)


def stats(doc: dict[str, Any], before: dict[str, Any] | None, cid: str, name: str) -> StatsRecord:
    """A ``docker stats`` row from a stats document and the one read before it (CPU % over the interval,
    as ``docker stats`` computes it; the memory in use less the page cache's inactive files)."""
    cpu = doc.get("cpu_stats") or {}
    mem = doc.get("memory_stats") or {}
    percent = 0.0
    if before is not None:
        prev = before.get("cpu_stats") or {}
        percent = cpu_percent(
            int((prev.get("cpu_usage") or {}).get("total_usage") or 0),
            int((cpu.get("cpu_usage") or {}).get("total_usage") or 0),
            int(prev.get("system_cpu_usage") or 0),
            int(cpu.get("system_cpu_usage") or 0),
            int(cpu.get("online_cpus") or 1),
        )
    usage = int(mem.get("usage") or 0)
    inactive = int((mem.get("stats") or {}).get("inactive_file") or 0)
    usage = max(0, usage - inactive) if inactive < usage else usage
    limit = int(mem.get("limit") or 0)
    rx = tx = 0
    for n in (doc.get("networks") or {}).values():
        rx += int(n.get("rx_bytes") or 0)
        tx += int(n.get("tx_bytes") or 0)
    read = write = 0
    for e in (doc.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []:
        op = str(e.get("op", "")).lower()
        if op == "read":
            read += int(e.get("value") or 0)
        elif op == "write":
            write += int(e.get("value") or 0)
    return StatsRecord(
        id=cid,
        name=name,
        cpu_percent=percent,
        memory_usage=usage,
        memory_limit=limit,
        memory_percent=usage / limit * 100.0 if limit else 0.0,
        net_rx=rx,
        net_tx=tx,
        block_read=read,
        block_write=write,
        pids=int((doc.get("pids_stats") or {}).get("current") or 0),
    )


def disk_usage(doc: dict[str, Any]) -> DiskUsage:
    """``GET /system/df``'s totals (the per-object details stay with the service)."""
    images = doc.get("Images") or []
    containers = doc.get("Containers") or []
    volumes = doc.get("Volumes") or []
    cache = doc.get("BuildCache") or []
    images_size = int(doc.get("LayersSize") or 0) or sum(int(i.get("Size") or 0) for i in images)
    active_images = [i for i in images if int(i.get("Containers") or 0) > 0]
    running = [c for c in containers if c.get("State") in ("running", "paused", "restarting")]
    vol_used = [v for v in volumes if int((v.get("UsageData") or {}).get("RefCount") or 0) > 0]

    def vsize(v: dict[str, Any]) -> int:
        return max(0, int((v.get("UsageData") or {}).get("Size") or 0))

    return DiskUsage(
        images=len(images),
        images_active=len(active_images),
        images_size=images_size,
        images_reclaimable=max(0, images_size - sum(int(i.get("Size") or 0) for i in active_images)),
        containers=len(containers),
        containers_active=len(running),
        containers_size=sum(int(c.get("SizeRw") or 0) for c in containers),
        containers_reclaimable=sum(int(c.get("SizeRw") or 0) for c in containers if c not in running),
        volumes=len(volumes),
        volumes_active=len(vol_used),
        volumes_size=sum(vsize(v) for v in volumes),
        volumes_reclaimable=sum(vsize(v) for v in volumes if v not in vol_used),
        build_cache=len(cache),
        build_cache_active=sum(1 for c in cache if c.get("InUse")),
        build_cache_size=sum(int(c.get("Size") or 0) for c in cache if not c.get("Shared")),
        build_cache_reclaimable=sum(int(c.get("Size") or 0) for c in cache if not c.get("InUse")),
    )


#: The create options sent over the API (those of the app's Run dialog, and the common ones around them).
#: CreateOptions' fields sent as HostConfig's keys of the same value (None or "" for unset).
_HOST_FIELDS = {"cpu_shares": "CpuShares", "cpu_period": "CpuPeriod", "cpu_quota": "CpuQuota",
                "cpuset_cpus": "CpusetCpus", "cpuset_mems": "CpusetMems", "memory_reservation": "MemoryReservation",
                "oom_kill_disable": "OomKillDisable", "oom_score_adj": "OomScoreAdj", "blkio_weight": "BlkioWeight",
                "shm_size": "ShmSize", "pid": "PidMode", "ipc": "IpcMode", "uts": "UTSMode",
                "cgroupns": "CgroupnsMode", "cgroup_parent": "CgroupParent", "userns": "UsernsMode",
                "runtime": "Runtime", "isolation": "Isolation", "cpu_rt_period": "CpuRealtimePeriod",
                "cpu_rt_runtime": "CpuRealtimeRuntime"}  # fmt: skip
#: The list fields sent as HostConfig's lists.
_HOST_LISTS = {"security_opt": "SecurityOpt", "group_add": "GroupAdd", "links": "Links",
               "volumes_from": "VolumesFrom"}  # fmt: skip

SENT = {"command", "entrypoint", "name", "env", "working_dir", "user", "hostname", "tty", "stdin_open", "labels",
        "restart", "network", "volumes", "memory", "cpus", "ports", "auto_remove", "console_size", "attach",
        "stop_signal", "stop_timeout", "read_only", "privileged", "init", "cap_add", "cap_drop", "tmpfs",
        "pids_limit", "healthcheck", "extra_hosts"} | set(_HOST_FIELDS) | set(_HOST_LISTS) | {
        "domainname", "memory_swap", "memory_swappiness", "dns", "dns_search", "dns_options", "publish_all", "ip",
        "aliases", "expose", "log_driver", "log_opts", "sysctls", "annotations", "mac_address", "ulimits"}  # fmt: skip


def create_body(image: str, opts: Any) -> dict[str, Any]:
    """``POST /containers/create``'s body from CreateOptions; InvalidArgument names an option that is set
    and not sent (the service would not see it)."""
    from ..errors import InvalidArgument
    from ..lean.record import fields

    default = type(opts)()
    unsent = [
        f.name
        for f in fields(opts)
        if f.name not in SENT and getattr(opts, f.name) != getattr(default, f.name)
    ]
    if unsent:
        raise InvalidArgument(f"{', '.join(unsent)}: not sent with --host yet")
    exposed: dict[str, Any] = {}
    bindings: dict[str, Any] = {}
    for spec in opts.ports:
        body, _, proto = spec.partition("/")
        parts = body.split(":")
        key = f"{parts[-1]}/{proto or 'tcp'}"
        exposed[key] = {}
        if len(parts) > 1:
            bindings.setdefault(key, []).append(
                {"HostIp": parts[0] if len(parts) == 3 else "", "HostPort": parts[-2]}
            )
    policy, _, retries = opts.restart.partition(":")
    host_config: dict[str, Any] = {
        "NetworkMode": opts.network,
        "Binds": list(opts.volumes) or None,
        "PortBindings": bindings or None,
        "RestartPolicy": {"Name": policy if policy != "no" else "", "MaximumRetryCount": int(retries or 0)},
        "Memory": opts.memory or 0,
        "NanoCpus": int((opts.cpus or 0) * 1e9),
        "AutoRemove": opts.auto_remove,
        "ReadonlyRootfs": opts.read_only,
        "Privileged": opts.privileged,
        "Init": opts.init or None,
        "CapAdd": list(opts.cap_add) or None,
        "CapDrop": list(opts.cap_drop) or None,
        "Tmpfs": dict(t.partition(":")[::2] for t in opts.tmpfs) or None,
        "PidsLimit": opts.pids_limit,
        "ExtraHosts": list(opts.extra_hosts) or None,
    }
    if any(opts.console_size):
        host_config["ConsoleSize"] = list(opts.console_size)
    for name, key in _HOST_FIELDS.items():
        value = getattr(opts, name)
        if value not in (None, "", False, 0):
            host_config[key] = value
    for name, key in _HOST_LISTS.items():
        if getattr(opts, name):
            host_config[key] = list(getattr(opts, name))
    if opts.memory_swap:
        host_config["MemorySwap"] = opts.memory_swap
    if opts.memory_swappiness is not None:
        host_config["MemorySwappiness"] = opts.memory_swappiness
    for name, key in (("dns", "Dns"), ("dns_search", "DnsSearch"), ("dns_options", "DnsOptions")):
        if getattr(opts, name):
            host_config[key] = list(getattr(opts, name))
    if opts.publish_all:
        host_config["PublishAllPorts"] = True
    if opts.log_driver or opts.log_opts:
        host_config["LogConfig"] = {"Type": opts.log_driver, "Config": dict(opts.log_opts)}
    if opts.sysctls:
        host_config["Sysctls"] = dict(s.partition("=")[::2] for s in opts.sysctls)
    if opts.annotations:
        host_config["Annotations"] = dict(opts.annotations)
    if opts.ulimits:  # NAME=SOFT[:HARD]
        limits = []
        for u in opts.ulimits:
            name, _, values = u.partition("=")
            soft, _, hard = values.partition(":")
            limits.append({"Name": name, "Soft": int(soft), "Hard": int(hard or soft)})
        host_config["Ulimits"] = limits
    for spec in opts.expose:
        port, _, proto = spec.partition("/")
        first, _, last = port.partition("-")
        for n in range(int(first), int(last or first) + 1):
            exposed.setdefault(f"{n}/{proto or 'tcp'}", {})
    networking = None
    if opts.ip or opts.aliases:
        endpoint: dict[str, Any] = {"Aliases": list(opts.aliases) or None}
        if opts.ip:
            endpoint["IPAMConfig"] = {"IPv4Address": opts.ip}
        networking = {"EndpointsConfig": {opts.network: endpoint}}
    attach = None if opts.attach is None else {s.lower() for s in opts.attach}
    return {
        "Image": image,
        "Cmd": opts.command,
        "Entrypoint": opts.entrypoint,
        "Env": list(opts.env),
        "WorkingDir": opts.working_dir,
        "User": opts.user,
        "Hostname": opts.hostname,
        "Domainname": opts.domainname,
        "MacAddress": opts.mac_address or None,
        "Tty": opts.tty,
        "OpenStdin": opts.stdin_open,
        "AttachStdin": opts.stdin_open if attach is None else "stdin" in attach,
        "AttachStdout": attach is None or "stdout" in attach,
        "AttachStderr": attach is None or "stderr" in attach,
        "Labels": dict(opts.labels),
        "ExposedPorts": exposed or None,
        "StopSignal": opts.stop_signal or None,
        "StopTimeout": opts.stop_timeout,
        "Healthcheck": opts.healthcheck,
        "HostConfig": host_config,
        "NetworkingConfig": networking,
    }
