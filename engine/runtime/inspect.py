"""``inspect``: the container as Docker's JSON shows it (the fields users script against)."""

from __future__ import annotations

from ..store.containers import ContainerStore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..model.config import ContainerConfig, MountConfig
    from ..model.container import Container
    from ..paths import Layout


def _links(store: ContainerStore, cfg: ContainerConfig) -> list[str] | None:
    from .links import host_config_links

    return host_config_links(store, cfg)


def inspect(layout: Layout, store: ContainerStore, cid: str) -> dict[str, Any]:
    cfg = store.config(cid)
    st = store.state(cid)
    running = st.status in ("running", "paused", "restarting")
    binds = [
        f"{m.source}:{m.destination}{':ro' if m.read_only else ''}"
        for m in cfg.mounts
        if m.type == "bind" and not m.via  # -v only: --mount's are HostConfig.Mounts
    ]
    ports: dict[str, Any] = {}
    for p in cfg.ports:
        key = f"{p['container_port']}/{p.get('protocol', 'tcp')}"
        ports.setdefault(key, []).append(
            {"HostIp": p.get("host_ip", ""), "HostPort": str(p.get("host_port", ""))}
        )
    return {
        "Id": cid,
        "Created": cfg.created,
        "Path": cfg.argv[0] if cfg.argv else "",
        "Args": cfg.argv[1:],
        "State": {
            "Status": st.status,
            "Running": st.status in ("running", "paused", "restarting"),  # Docker: a paused one runs
            "Paused": st.status == "paused",
            "Restarting": st.status == "restarting",
            "OOMKilled": st.oom_killed,
            "Dead": st.status == "dead",
            "Pid": st.pid if running else 0,
            "ExitCode": st.exit_code,
            "Error": st.error,
            "StartedAt": st.started_at or "0001-01-01T00:00:00Z",
            "FinishedAt": st.finished_at or "0001-01-01T00:00:00Z",
            **(
                {
                    "Health": {
                        "Status": st.health,
                        "FailingStreak": st.health_failing_streak,
                        "Log": st.health_log,
                    }
                }
                if st.health
                else {}
            ),
        },
        "Image": cfg.image_id,
        "ResolvConfPath": store.path(cid, "resolv.conf"),
        "HostnamePath": store.path(cid, "hostname"),
        "HostsPath": store.path(cid, "hosts"),
        "LogPath": store.log_path(cid) if cfg.log_driver != "none" else "",
        "Name": "/" + cfg.name,
        "RestartCount": st.restart_count,
        "Driver": "overlay",
        "Platform": "linux",
        "HostConfig": {
            "Binds": binds or None,
            "Links": _links(store, cfg) if cfg.links else None,
            "NetworkMode": cfg.network_mode,
            "PortBindings": ports,
            "LogConfig": {"Type": cfg.log_driver, "Config": dict(cfg.log_opts)},
            "RestartPolicy": {
                "Name": cfg.restart_policy.name,
                "MaximumRetryCount": cfg.restart_policy.max_retries,
            },
            "AutoRemove": cfg.auto_remove,
            "CapAdd": cfg.cap_add or None,
            "CapDrop": cfg.cap_drop or None,
            "Privileged": cfg.privileged,
            "ConsoleSize": list(cfg.console_size),
            "ReadonlyRootfs": cfg.read_only,
            "Memory": cfg.memory or 0,
            "MemorySwap": cfg.memory_swap or 0,
            "NanoCpus": int((cfg.cpus or 0) * 1e9),
            "CpuShares": cfg.cpu_shares or 0,
            "PidsLimit": cfg.pids_limit,
            "Tmpfs": {m.destination: ",".join(m.options) for m in cfg.mounts if m.type == "tmpfs"} or None,
            "ExtraHosts": cfg.extra_hosts or None,
            "Dns": cfg.dns,
            **_more_host_config(cfg),
            **_run_flags_host_config(cfg),
        },
        "GraphDriver": {
            "Name": "overlay",
            "Data": {
                "UpperDir": store.path(cid, "upper"),
                "WorkDir": store.path(cid, "work"),
                "MergedDir": store.path(cid, "rootfs"),
            },
        },
        "Mounts": [_mount_point(layout, m) for m in cfg.mounts],
        "Config": {
            "Hostname": cfg.hostname or cid[:12],
            "Domainname": cfg.domainname,
            "User": cfg.user,
            "Tty": cfg.tty,
            "OpenStdin": cfg.open_stdin,
            "StdinOnce": cfg.stdin_once,
            "Env": cfg.env,
            "Cmd": cfg.cmd,
            "Image": cfg.image,
            "WorkingDir": cfg.working_dir,
            "Entrypoint": cfg.entrypoint,
            "Labels": cfg.labels,
            "StopSignal": cfg.stop_signal or None,
            "StopTimeout": cfg.stop_timeout,
            "Healthcheck": cfg.healthcheck,
            **_more_config(cfg),
        },
        "NetworkSettings": _network_settings(layout, cid, cfg.networks, ports, running),
    }


def summary(layout: Layout, cfg: ContainerConfig, c: Container) -> dict[str, Any]:
    """A container as Docker's ``GET /containers/json`` lists it (``docker ps``'s data), from its record and
    config: the same mappings as ``inspect`` for its mounts and networks, without the rest of inspect."""
    from ..humanize import parse_time

    running = c.status in ("running", "paused", "restarting")
    settings = _network_settings(layout, c.id, cfg.networks, {}, running)
    return {
        "Id": c.id,
        "Names": ["/" + c.name],
        "Image": c.image,
        "ImageID": c.image_id,
        "Command": " ".join(c.command),
        "Created": int(parse_time(c.created)) if c.created else 0,
        "Ports": [
            {
                **({"IP": p.get("host_ip") or "0.0.0.0"} if p.get("host_port") else {}),
                "PrivatePort": int(p.get("container_port") or 0),
                **({"PublicPort": int(p["host_port"])} if p.get("host_port") else {}),
                "Type": p.get("protocol", "tcp"),
            }
            for p in c.ports
        ],
        "Labels": dict(c.labels),
        "State": c.status,
        "Status": c.status_text(),
        "HostConfig": {"NetworkMode": cfg.network_mode},
        "NetworkSettings": {"Networks": settings["Networks"]},
        "Mounts": [_mount_point(layout, m) for m in cfg.mounts],
    }


def _more_host_config(cfg: ContainerConfig) -> dict[str, Any]:
    """HostConfig's resource and script fields, as Docker shows them (0, "" or null when not set)."""
    return {
        "CpuPeriod": cfg.cpu_period or 0,
        "CpuQuota": cfg.cpu_quota or 0,
        "CpusetCpus": cfg.cpuset_cpus,
        "CpusetMems": cfg.cpuset_mems,
        "MemoryReservation": cfg.memory_reservation or 0,
        "MemorySwappiness": cfg.memory_swappiness,
        "OomKillDisable": bool(cfg.oom_kill_disable),
        "BlkioWeight": cfg.blkio_weight or 0,
        "KernelMemory": 0,
        "DnsSearch": list(cfg.dns_search),
        "DnsOptions": list(cfg.dns_options),
        "ContainerIDFile": cfg.cidfile,
        "CgroupnsMode": cfg.cgroupns or "private",
        "CgroupParent": cfg.cgroup_parent,
        "Isolation": cfg.isolation,
        "VolumeDriver": cfg.volume_driver,
        "Runtime": "runc",
        "Annotations": dict(cfg.annotations) or None,
        "BlkioWeightDevice": list(cfg.blkio_weight_device),
        "BlkioDeviceReadBps": list(cfg.blkio_device_read_bps),
        "BlkioDeviceWriteBps": list(cfg.blkio_device_write_bps),
        "BlkioDeviceReadIOps": list(cfg.blkio_device_read_iops),
        "BlkioDeviceWriteIOps": list(cfg.blkio_device_write_iops),
        "CpuRealtimePeriod": cfg.cpu_rt_period or 0,
        "CpuRealtimeRuntime": cfg.cpu_rt_runtime or 0,
        "OomScoreAdj": cfg.oom_score_adj,
        "UsernsMode": cfg.userns_mode,
    }


def _more_config(cfg: ContainerConfig) -> dict[str, Any]:
    """Config's ExposedPorts (the image's, --expose and the published ports) and Attach* fields."""
    exposed: dict[str, Any] = {}
    for key in cfg.image_config.get("ExposedPorts") or {}:
        exposed[key if "/" in key else f"{key}/tcp"] = {}
    for key in cfg.expose:
        exposed[key] = {}
    for p in cfg.ports:
        exposed[f"{p['container_port']}/{p.get('protocol', 'tcp')}"] = {}
    attach = cfg.attach if cfg.attach is not None else []
    return {
        "ExposedPorts": exposed or None,
        "AttachStdin": "stdin" in attach,
        "AttachStdout": "stdout" in attach,
        "AttachStderr": "stderr" in attach,
    }


def _mount_point(layout: Layout, m: MountConfig) -> dict[str, Any]:
    """One of Docker's MountPoints: Type, Name, Source, Destination, Driver, Mode, RW, Propagation."""
    import os

    out: dict[str, Any] = {"Type": m.type}
    if m.type == "volume":
        out["Name"] = m.source
        out["Source"] = os.path.join(layout.volumes, m.source, "_data")
        out["Driver"] = "local"
    else:
        out["Name"] = ""
        out["Source"] = m.source if m.type == "bind" else ""
    out["Destination"] = m.destination
    out["Mode"] = "" if m.via == "mount" or m.type != "volume" else ("ro" if m.read_only else "z")
    out["RW"] = not m.read_only
    out["Propagation"] = (m.propagation or "rprivate") if m.type == "bind" else ""
    return out


def _run_flags_host_config(cfg: ContainerConfig) -> dict[str, Any]:
    """HostConfig's mount, init, namespace, device and security fields under Docker's names."""
    mounts = []
    for m in cfg.mounts:
        if m.via != "mount":
            continue
        spec: dict[str, Any] = {"Type": m.type, "Source": m.source, "Target": m.destination}
        if m.read_only:
            spec["ReadOnly"] = True
        if m.type == "bind" and (m.propagation not in ("", "rprivate") or m.nonrecursive):
            spec["BindOptions"] = {
                k: v
                for k, v in (("Propagation", m.propagation), ("NonRecursive", m.nonrecursive))
                if v and v != "rprivate"
            }
        if m.type == "volume" and m.nocopy:
            spec["VolumeOptions"] = {"NoCopy": True}
        if m.type == "tmpfs":
            options: dict[str, Any] = {}
            for o in m.options:
                k, _, v = o.partition("=")
                if k == "size":
                    options["SizeBytes"] = int(v)
                elif k == "mode":
                    options["Mode"] = int(v, 8)
            if options:
                spec["TmpfsOptions"] = options
        mounts.append(spec)
    return {
        "Mounts": mounts or None,
        "Init": cfg.init or None,
        "ShmSize": cfg.shm_size or 64 * 1024 * 1024,
        "Ulimits": [dict(u) for u in cfg.ulimits] or None,
        "Devices": [dict(d) for d in cfg.devices] or None,
        "SecurityOpt": list(cfg.security_opt) or None,
        "Sysctls": dict(cfg.sysctls) or None,
        "PidMode": cfg.pid_mode,
        "IpcMode": cfg.ipc_mode or "private",
        "UTSMode": cfg.uts_mode,
        "GroupAdd": list(cfg.group_add) or None,
        "VolumesFrom": list(cfg.volumes_from) or None,
    }


def _endpoint_settings(v: dict[str, Any]) -> dict[str, Any]:
    """One configured network of a container under Docker's names (EndpointSettings): what was asked
    (``--ip`` as IPAMConfig, aliases, ``--driver-opt``, ``--gw-priority``); the addresses are empty until it
    runs."""
    ip = v.get("ip") or ""
    ipam: dict[str, Any] = {"IPv4Address": ip} if ip else {}
    if v.get("ip6"):
        ipam["IPv6Address"] = v["ip6"]
    if v.get("link_local_ips"):
        ipam["LinkLocalIPs"] = list(v["link_local_ips"])
    return {
        "IPAMConfig": ipam or None,
        "Links": list(v.get("links") or []) or None,
        "Aliases": list(v.get("aliases") or []) or None,
        "MacAddress": v.get("mac") or "",
        "DriverOpts": v.get("driver_opts") or None,
        "GwPriority": v.get("gw_priority", 0),
        "NetworkID": v.get("network_id", ""),
        "EndpointID": "",
        "Gateway": "",
        "IPAddress": "",
        "IPPrefixLen": 0,
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "DNSNames": None,
    }


def _network_settings(
    layout: Layout, cid: str, configured: dict[str, Any], ports: dict[str, Any], running: bool
) -> dict[str, Any]:
    """Docker's NetworkSettings: the configured networks, with live addresses while the container runs."""
    networks = {name: _endpoint_settings(v) for name, v in configured.items()}
    if running and networks:
        from ..net import endpoints

        for name, ep in endpoints(layout, cid).items():
            networks.setdefault(name, {}).update(ep)
    primary = next(iter(networks.values()), {})
    return {
        "Networks": networks,
        "Ports": ports,
        "IPAddress": primary.get("IPAddress", ""),
        "IPPrefixLen": primary.get("IPPrefixLen", 0),
        "Gateway": primary.get("Gateway", ""),
        "MacAddress": primary.get("MacAddress", ""),
    }
