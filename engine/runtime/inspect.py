"""``inspect``: the container as Docker's JSON shows it (the fields users script against)."""

from __future__ import annotations

from ..store.containers import ContainerStore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..paths import Layout


def inspect(layout: Layout, store: ContainerStore, cid: str) -> dict[str, Any]:
    cfg = store.config(cid)
    st = store.state(cid)
    running = st.status in ("running", "paused", "restarting")
    binds = [
        f"{m.source}:{m.destination}{':ro' if m.read_only else ''}" for m in cfg.mounts if m.type == "bind"
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
            "Running": st.status in ("running", "restarting"),
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
        },
        "GraphDriver": {
            "Name": "overlay",
            "Data": {
                "UpperDir": store.path(cid, "upper"),
                "WorkDir": store.path(cid, "work"),
                "MergedDir": store.path(cid, "rootfs"),
            },
        },
        "Mounts": [
            {
                "Type": m.type,
                "Name": m.source if m.type == "volume" else "",
                "Source": m.source,
                "Destination": m.destination,
                "RW": not m.read_only,
            }
            for m in cfg.mounts
        ],
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
        },
        "NetworkSettings": _network_settings(layout, cid, cfg.networks, ports, running),
    }


def _network_settings(
    layout: Layout, cid: str, configured: dict[str, Any], ports: dict[str, Any], running: bool
) -> dict[str, Any]:
    """Docker's NetworkSettings: the configured networks, with live addresses while the container runs."""
    networks = {name: dict(v) for name, v in configured.items()}
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
