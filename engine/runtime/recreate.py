"""The options a container was made with, read back from its config: what ``Containers.recreate`` needs to
make the same container from another version of its image (a rollback or an upgrade)."""

from __future__ import annotations

from ..model.config import ContainerConfig
from .create import CreateOptions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def options_from(cfg: ContainerConfig, old_image_cfg: dict[str, Any]) -> CreateOptions:
    """The options a container was made with; the command follows the new image unless the user set one."""
    user_cmd = cfg.cmd if cfg.cmd != (old_image_cfg.get("Cmd") or None) else None
    user_ep = cfg.entrypoint if cfg.entrypoint != (old_image_cfg.get("Entrypoint") or None) else None
    old_labels = old_image_cfg.get("Labels") or {}
    volumes, tmpfs, mounts = [], [], []
    for m in cfg.mounts:
        if m.via == "volumes-from":
            continue  # --volumes-from, given again below
        if m.via == "mount":  # --mount, as it was given
            fields = [f"type={m.type}", f"target={m.destination}"] + (
                [f"source={m.source}"] if m.type != "tmpfs" else []
            )
            fields += (
                ["readonly"] * m.read_only
                + [f"bind-propagation={m.propagation}"] * bool(m.type == "bind" and m.propagation)
                + ["bind-nonrecursive"] * m.nonrecursive
                + ["volume-nocopy"] * m.nocopy
            )
            fields += [f"tmpfs-{o}" for o in m.options if o.startswith(("size=", "mode="))]
            mounts.append(",".join(fields))
            continue
        if m.type == "tmpfs":
            tmpfs.append(f"{m.destination}:{','.join(m.options)}" if m.options else m.destination)
        else:
            volumes.append(f"{m.source}:{m.destination}{':ro' if m.read_only else ''}")
    ports = []
    for p in cfg.ports:
        if p.get("host_port"):
            host = f"{p['host_ip']}:" if p.get("host_ip") else ""
            ports.append(f"{host}{p['host_port']}:{p['container_port']}/{p.get('protocol', 'tcp')}")
    aliases: list[str] = []
    ip = ""
    if cfg.network_mode in cfg.networks:
        aliases = list(cfg.networks[cfg.network_mode].get("aliases") or [])
        ip = str(cfg.networks[cfg.network_mode].get("ip") or "")
    return CreateOptions(
        command=user_cmd,
        entrypoint=[]
        if user_ep is None and cfg.entrypoint is None and old_image_cfg.get("Entrypoint")
        else user_ep,
        name=cfg.name,
        env=list(cfg.env),
        working_dir=cfg.working_dir,
        user=cfg.user,
        hostname="" if cfg.network_mode.startswith("container:") else cfg.hostname,  # the other's
        tty=cfg.tty,
        stdin_open=cfg.open_stdin,
        labels={k: v for k, v in cfg.labels.items() if old_labels.get(k) != v},
        stop_signal=cfg.stop_signal if cfg.stop_signal != old_image_cfg.get("StopSignal", "") else "",
        stop_timeout=cfg.stop_timeout,
        restart=cfg.restart_policy.name
        + (f":{cfg.restart_policy.max_retries}" if cfg.restart_policy.max_retries else ""),
        network=cfg.network_mode,
        volumes=volumes,
        tmpfs=tmpfs,
        read_only=cfg.read_only,
        memory=cfg.memory,
        memory_swap=cfg.memory_swap,
        cpus=cfg.cpus,
        cpu_shares=cfg.cpu_shares,
        pids_limit=cfg.pids_limit,
        cap_add=list(cfg.cap_add),
        cap_drop=list(cfg.cap_drop),
        privileged=cfg.privileged,
        ports=ports,
        ip=ip,
        aliases=aliases,
        extra_hosts=list(cfg.extra_hosts),
        dns=list(cfg.dns),
        log_driver=cfg.log_driver,
        log_opts=dict(cfg.log_opts),
        mounts=mounts,
        init=cfg.init,
        shm_size=cfg.shm_size,
        ulimits=[f"{u['Name']}={u['Soft']}:{u['Hard']}" for u in cfg.ulimits],
        devices=[f"{d['PathOnHost']}:{d['PathInContainer']}:{d['CgroupPermissions']}" for d in cfg.devices],
        security_opt=list(cfg.security_opt),
        sysctls=[f"{k}={v}" for k, v in cfg.sysctls.items()],
        pid=cfg.pid_mode,
        ipc=cfg.ipc_mode,
        uts=cfg.uts_mode,
        group_add=list(cfg.group_add),
        volumes_from=list(cfg.volumes_from),
    )
