"""A container on disk: ``containers/<id>/config.json`` (what was asked) and ``state.json`` (what is).

The config is written once at create (only ``name`` changes later, by rename); the state is rewritten
atomically by whoever changes it, under the container's lock.
"""

from __future__ import annotations

from engine.lean.record import asdict, field, fields, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _known(cls: type, d: dict[str, Any]) -> dict[str, Any]:
    """The keys of ``d`` that are fields of ``cls`` (records written by other versions read each other)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in d.items() if k in names}


@record
class MountConfig:
    type: str  # "bind" | "volume" | "tmpfs"
    destination: str
    source: str = ""  # host path (bind) or volume name
    read_only: bool = False
    options: list[str] = field(default_factory=list)
    # --mount's own settings (Docker's HostConfig.Mounts); "" / False / {} for -v, --tmpfs and old records
    via: str = ""  # "mount" when made by --mount, "volumes-from" when taken from another container
    propagation: str = ""  # bind-propagation: rprivate (Docker's default) | private | rshared | ...
    nonrecursive: bool = False  # bind-nonrecursive
    nocopy: bool = False  # volume-nocopy
    volume_opts: dict[str, str] = field(default_factory=dict)  # volume-opt


@record
class RestartPolicy:
    name: str = "no"  # no | on-failure | always | unless-stopped
    max_retries: int = 0


@record
class ContainerConfig:
    id: str
    name: str
    created: str
    image: str  # as the user named it
    image_id: str
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    env: list[str] = field(default_factory=list)
    working_dir: str = ""
    user: str = ""
    hostname: str = ""
    domainname: str = ""
    tty: bool = False
    console_size: list[int] = field(default_factory=lambda: [0, 0])  # rows, columns its terminal starts with
    open_stdin: bool = False
    stdin_once: bool = False
    auto_remove: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    stop_signal: str = ""
    stop_timeout: int | None = None
    restart_policy: RestartPolicy = field(default_factory=RestartPolicy)
    network_mode: str = "none"
    mounts: list[MountConfig] = field(default_factory=list)
    read_only: bool = False
    memory: int | None = None
    memory_swap: int | None = None
    cpus: float | None = None
    cpu_shares: int | None = None
    pids_limit: int | None = None
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    privileged: bool = False
    ports: list[dict[str, Any]] = field(default_factory=list)
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra_hosts: list[str] = field(default_factory=list)
    dns: list[str] = field(default_factory=list)
    # resources beyond the first five, and the script flags (docs/RUN_FLAGS.md); defaults: what old records meant
    cpu_period: int | None = None  # µs; --cpu-period
    cpu_quota: int | None = None  # µs, -1 for none; --cpu-quota
    cpuset_cpus: str = ""
    cpuset_mems: str = ""
    memory_reservation: int | None = None  # bytes (soft limit)
    memory_swappiness: int | None = None  # 0..100, None: the kernel's
    oom_kill_disable: bool | None = None
    blkio_weight: int | None = None  # 10..1000
    dns_search: list[str] = field(default_factory=list)
    dns_options: list[str] = field(default_factory=list)
    expose: list[str] = field(
        default_factory=list
    )  # "80/tcp", from --expose (the image's are in image_config)
    attach: list[str] | None = (
        None  # streams a foreground run attached (Docker's Config.Attach*); None: unknown
    )
    platform: str = ""  # --platform as given
    cidfile: str = ""  # --cidfile (Docker's HostConfig.ContainerIDFile)
    cgroupns: str = ""  # "" (private) | private | host
    cgroup_parent: str = ""  # --cgroup-parent: a path below the root's cgroup parent
    healthcheck: dict[str, Any] | None = None
    log_driver: str = "json-file"  # json-file | none (Docker's HostConfig.LogConfig.Type)
    log_opts: dict[str, str] = field(default_factory=dict)  # its options: max-size, max-file, compress
    image_config: dict[str, Any] = field(default_factory=dict)  # the image's config at create time
    # init, namespaces, devices and security (docs/RUN_FLAGS.md); defaults: what old records meant
    init: bool = False  # --init: tini as PID 1 (/sbin/docker-init)
    shm_size: int = 0  # bytes of /dev/shm; 0: Docker's 64 MiB
    ulimits: list[dict[str, Any]] = field(default_factory=list)  # Docker's [{"Name", "Soft", "Hard"}]
    devices: list[dict[str, str]] = field(
        default_factory=list
    )  # PathOnHost, PathInContainer, CgroupPermissions
    security_opt: list[str] = field(
        default_factory=list
    )  # as given: no-new-privileges, seccomp=..., label=...
    seccomp_profile: dict[str, Any] | None = None  # a --security-opt seccomp=FILE, read at create
    sysctls: dict[str, str] = field(default_factory=dict)
    pid_mode: str = ""  # "" (private) | host | container:ID
    ipc_mode: str = ""  # "" (private) | private | shareable | host | none | container:ID
    uts_mode: str = ""  # "" | host
    group_add: list[str] = field(default_factory=list)
    volumes_from: list[str] = field(default_factory=list)  # CTR[:ro|rw] as given
    # more run flags (docs/RUN_FLAGS.md); defaults: what old records meant
    annotations: dict[str, str] = field(default_factory=dict)  # --annotation (HostConfig.Annotations)
    blkio_weight_device: list[dict[str, Any]] = field(default_factory=list)  # [{"Path", "Weight"}]
    blkio_device_read_bps: list[dict[str, Any]] = field(default_factory=list)  # [{"Path", "Rate"}]
    blkio_device_write_bps: list[dict[str, Any]] = field(default_factory=list)
    blkio_device_read_iops: list[dict[str, Any]] = field(default_factory=list)
    blkio_device_write_iops: list[dict[str, Any]] = field(default_factory=list)
    cpu_rt_period: int | None = None  # µs (cgroup v1 cpu.rt_period_us)
    cpu_rt_runtime: int | None = None  # µs (cpu.rt_runtime_us)
    oom_score_adj: int = 0  # written to the process's /proc/PID/oom_score_adj
    userns_mode: str = ""  # "" | host: dockyard remaps no user IDs
    isolation: str = ""  # "" | default (Docker's HostConfig.Isolation as given)
    volume_driver: str = ""  # HostConfig.VolumeDriver as given; volumes are only ever local ones
    links: list[dict[str, str]] = field(default_factory=list)  # legacy --link: [{"id", "alias"}]

    @property
    def argv(self) -> list[str]:
        return list(self.entrypoint or []) + list(self.cmd or [])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ContainerConfig:
        known = {f.name for f in fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        d["restart_policy"] = RestartPolicy(**_known(RestartPolicy, d.get("restart_policy") or {}))
        d["mounts"] = [MountConfig(**_known(MountConfig, m)) for m in d.get("mounts") or []]
        return cls(**d)


@record
class ContainerState:
    status: str = "created"  # created | running | paused | restarting | exited | dead | removing
    pid: int = 0
    pid_start: int = 0  # start time of pid (clock ticks since boot), guards against PID reuse
    shim_pid: int = 0
    shim_start: int = 0
    boot_id: str = ""
    exit_code: int = 0
    oom_killed: bool = False
    error: str = ""
    started_at: str = ""
    finished_at: str = ""
    restart_count: int = 0
    stop_requested: bool = False  # a user stop: the restart policy must not bring it back
    health: str = ""  # "" | starting | healthy | unhealthy
    health_failing_streak: int = 0
    health_log: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ContainerState:
        known = _STATE_FIELDS
        if not known:
            known.update(f.name for f in fields(cls))
        return cls(**{k: v for k, v in (d or {}).items() if k in known})


_STATE_FIELDS: set[str] = set()  # ContainerState's field names, once (ps -a reads a state per container)
