"""What the runtime needs to start one isolated process tree: a plain, serialisable description.

The container record (engine/runtime/records) is turned into a ContainerSpec by the lifecycle code; the
launcher (engine/runtime/launch) turns a ContainerSpec into a running PID 1 inside new namespaces.
"""

from __future__ import annotations

from engine.lean.record import asdict, field, record

from .capnames import DEFAULT_CAPABILITIES  # noqa: E402

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_MASKED_PATHS: tuple[str, ...] = (
    "/proc/acpi",
    "/proc/asound",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/sys/devices/virtual/powercap",
    "/sys/firmware",
)

DEFAULT_READONLY_PATHS: tuple[str, ...] = (
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
)


@record
class Mount:
    """A mount inside the container: ``type`` is "bind", "tmpfs" (or any fs type); ``source`` a host path."""

    destination: str
    type: str = "bind"
    source: str = ""
    options: list[str] = field(default_factory=list)  # e.g. ["ro"], ["size=64m", "mode=1777"]


@record
class ProcessSpec:
    """The process to exec inside the container (also used for ``exec`` into a running one)."""

    args: list[str]
    env: list[str] = field(default_factory=list)  # "KEY=value"
    cwd: str = "/"
    uid: int = 0
    gid: int = 0
    additional_gids: list[int] = field(default_factory=list)
    tty: bool = False
    capabilities: list[str] = field(default_factory=lambda: list(DEFAULT_CAPABILITIES))
    no_new_privileges: bool = True
    seccomp: bool = True  # apply dockyard's default seccomp filter
    rlimits: dict[str, tuple[int, int]] = field(default_factory=dict)  # never raised above the caller's
    # "USER[:GROUP]" resolved from the container's own /etc/passwd and /etc/group when the process starts
    # (overrides uid, gid and additional_gids; sets HOME if env lacks it). None: use the numeric fields.
    user: str | None = None
    # a Docker seccomp profile (--security-opt seccomp=FILE) used instead of the default filter
    seccomp_profile: dict[str, Any] | None = None
    oom_score_adj: int | None = None  # written to /proc/self/oom_score_adj before exec (--oom-score-adj)


@record
class ContainerSpec:
    """Everything needed to start the container's PID 1."""

    id: str
    process: ProcessSpec
    lower_dirs: list[str]  # image layer directories, top-most first (overlayfs lowerdir order)
    upper_dir: str  # the container's writable layer
    work_dir: str  # overlayfs workdir (same filesystem as upper_dir)
    rootfs: str  # mount point for the merged view (an empty directory on the host)
    hostname: str = ""
    domainname: str = ""
    readonly_rootfs: bool = False
    mounts: list[Mount] = field(default_factory=list)  # extra mounts: binds, volumes, tmpfs
    # Namespaces to create: any of "mount", "pid", "uts", "ipc", "net", "cgroup". Without "net" the
    # container shares the host's network namespace (--network host) unless net_ns_path is set.
    namespaces: list[str] = field(default_factory=lambda: ["mount", "pid", "uts", "ipc", "net", "cgroup"])
    net_ns_path: str | None = None  # join this existing network namespace instead of creating one
    masked_paths: list[str] = field(default_factory=lambda: list(DEFAULT_MASKED_PATHS))
    readonly_paths: list[str] = field(default_factory=lambda: list(DEFAULT_READONLY_PATHS))
    privileged: bool = False
    # cgroup.procs or (v1) tasks files the process writes "0" into to join its cgroups before it runs
    cgroup_join: list[str] = field(default_factory=list)
    etc_files: dict[str, str] = field(default_factory=dict)  # e.g. {"/etc/hostname": host path} bind-mounted
    # --pid container:X, --ipc container:X: join these namespaces (/proc/PID/ns/...) instead of new ones
    pid_ns_path: str | None = None
    ipc_ns_path: str | None = None
    uts_ns_path: str | None = None  # --uts container:X (Podman's): X's hostname and domain name, live
    shm_from: str | None = None  # --ipc container:X: X's mount namespace, whose /dev/shm is bound here
    shm_size: int = 0  # bytes of /dev/shm; 0: 64 MiB; -1: none of its own (--ipc none, host, container:X)
    sysctls: dict[str, str] = field(default_factory=dict)  # written through /proc/sys before it is read-only
    # --device: (path below /dev, mode with S_IFCHR/S_IFBLK, rdev, uid, gid) made beside the default nodes
    devices: list[list[int | str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ContainerSpec:
        d = dict(d)
        d["process"] = ProcessSpec(**d["process"])
        d["mounts"] = [Mount(**m) for m in d.get("mounts", [])]
        d["process"].rlimits = {k: tuple(v) for k, v in d["process"].rlimits.items()}
        return cls(**d)
