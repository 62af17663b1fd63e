"""What this machine's cgroups can apply of a container's limits, checked at ``create`` and ``update``.

Docker's daemon checks each resource flag against what the kernel offers (its ``sysinfo``) before it writes
anything: a setting the machine cannot apply at all is dropped with a warning in Docker's words (the
blkio weight without a weight file, swappiness and the OOM killer switch on cgroup v2, a cpuset without the
cpuset controller), and CPUs or memory nodes the machine does not have are refused. ``check`` does the same
from the hierarchies ``detect`` finds, looking where the root's containers go (the calling process's
cgroups). Only used when such a flag is given: nothing of it is on the path of a plain ``run``.
"""

from __future__ import annotations

import os

from engine.errors import InvalidArgument
from engine.lean.record import replace
from engine.runtime.cgroups.common import read_text
from engine.runtime.cgroups.detect import CgroupSystem, detect
from engine.runtime.cgroups.resources import Limits, parse_cpu_list

BLKIO_DISCARDED = (
    "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded."
)
SWAPPINESS_DISCARDED = (
    "Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. "
    "Memory swappiness discarded."
)
OOM_DISCARDED = "Your kernel does not support OomKillDisable. OomKillDisable discarded."
CPUSET_DISCARDED = "Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded."
#: Docker's warnings for the per-device block I/O settings the machine cannot apply (the setting is dropped).
DEVICE_DISCARDED = {
    "blkio_weight_device": "Your kernel does not support Block I/O weight_device or the cgroup is not mounted. "
    "Weight-device discarded.",
    "device_read_bps": "Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. "
    "Block I/O BPS read limit discarded.",
    "device_write_bps": "Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. "
    "Block I/O BPS write limit discarded.",
    "device_read_iops": "Your kernel does not support IOPS Block read limit or the cgroup is not mounted. "
    "Block I/O IOPS read limit discarded.",
    "device_write_iops": "Your kernel does not support IOPS Block write limit or the cgroup is not mounted. "
    "Block I/O IOPS write limit discarded.",
}
_V1_DEVICE_FILES = {
    "blkio_weight_device": ("blkio.weight_device", "blkio.bfq.weight_device"),
    "device_read_bps": ("blkio.throttle.read_bps_device",),
    "device_write_bps": ("blkio.throttle.write_bps_device",),
    "device_read_iops": ("blkio.throttle.read_iops_device",),
    "device_write_iops": ("blkio.throttle.write_iops_device",),
}
RT_UNSUPPORTED = "Your kernel does not support CPU real-time scheduler"
OOM_NO_MEMORY = (
    "OOM killer is disabled for the container, but no memory limit is set, this can result in the system "
    "running out of resources."
)


def _v1_file(system: CgroupSystem, controller: str, *names: str) -> str | None:
    """The first of ``names`` present in the caller's cgroup of the v1 hierarchy of ``controller``."""
    h = system.hierarchy(controller)
    if h is None or h.version != 1:
        return None
    for name in names:
        path = os.path.join(h.own_dir, name)
        if os.path.exists(path):
            return path
    return None


def _v2_controllers(system: CgroupSystem) -> set[str]:
    u = system.unified
    if u is None or system.mode != "v2":
        return set()
    return set((read_text(os.path.join(u.own_dir, "cgroup.controllers")) or "").split())


def _available(system: CgroupSystem, v1_name: str, v2_name: str) -> str:
    """The CPUs or memory nodes the caller's cpuset allows (cpuset.effective_cpus on v1,
    cpuset.cpus.effective on v2), "" when unknown."""
    if system.mode == "v2":
        u = system.unified
        text = read_text(os.path.join(u.own_dir, v2_name)) if u is not None else None
    else:
        path = _v1_file(system, "cpuset", v1_name)
        text = read_text(path) if path else None
    return (text or "").strip()


def _online_cpus() -> str:
    cpus = sorted(os.sched_getaffinity(0))
    return ",".join(str(c) for c in cpus)


def check(limits: Limits, system: CgroupSystem | None = None) -> tuple[Limits, list[str]]:
    """The limits this machine can apply and the warnings Docker gives for what it drops; InvalidArgument
    (Docker's words) for CPUs or memory nodes it does not have."""
    warnings: list[str] = []
    if not (
        limits.blkio_weight
        or limits.swappiness is not None
        or limits.oom_kill_disable
        or limits.cpuset_cpus
        or limits.cpuset_mems
        or limits.blkio_devices
        or limits.cpu_rt_period
        or limits.cpu_rt_runtime
    ):
        return limits, warnings
    system = system or detect()
    v2 = _v2_controllers(system)
    changes: dict[str, object] = {}
    if (limits.cpu_rt_period or limits.cpu_rt_runtime) and _v1_file(
        system, "cpu", "cpu.rt_runtime_us"
    ) is None:
        raise InvalidArgument(RT_UNSUPPORTED)  # cgroup v2 has no real-time group budget at all
    for name, files in _V1_DEVICE_FILES.items():
        if not getattr(limits, name):
            continue
        if system.mode == "v2":
            # weights need BFQ's io.bfq.weight or io.weight; the throttles io.max: all come with "io"
            supported = "io" in v2
        else:
            # BFQ's weight file shows only below the root: its statistics show BFQ is there
            extra = ("blkio.bfq.io_service_bytes",) if name == "blkio_weight_device" else ()
            supported = _v1_file(system, "blkio", *files, *extra) is not None
        if not supported:
            warnings.append(DEVICE_DISCARDED[name])
            changes[name] = ()
    if limits.blkio_weight:
        if system.mode == "v2":
            supported = "io" in v2
        else:
            # BFQ gives weights to the cgroups below the root only: its statistics show it is there
            supported = (
                _v1_file(system, "blkio", "blkio.weight", "blkio.bfq.weight", "blkio.bfq.io_service_bytes")
                is not None
            )
        if not supported:
            warnings.append(BLKIO_DISCARDED)
            changes["blkio_weight"] = None
    if limits.swappiness is not None and _v1_file(system, "memory", "memory.swappiness") is None:
        warnings.append(SWAPPINESS_DISCARDED)
        changes["swappiness"] = None
    if limits.oom_kill_disable is not None and _v1_file(system, "memory", "memory.oom_control") is None:
        if limits.oom_kill_disable:
            warnings.append(OOM_DISCARDED)
        changes["oom_kill_disable"] = None
    elif limits.oom_kill_disable and not limits.memory:
        warnings.append(OOM_NO_MEMORY)
    if limits.cpuset_cpus or limits.cpuset_mems:
        has_cpuset = "cpuset" in v2 if system.mode == "v2" else system.hierarchy("cpuset") is not None
        if not has_cpuset:
            warnings.append(CPUSET_DISCARDED)
            changes["cpuset_cpus"] = changes["cpuset_mems"] = ""
        else:
            _check_available(limits, system)
    return (replace(limits, **changes) if changes else limits), warnings


def _check_available(limits: Limits, system: CgroupSystem) -> None:
    if limits.cpuset_cpus:
        have = _available(system, "cpuset.effective_cpus", "cpuset.cpus.effective") or _online_cpus()
        if not parse_cpu_list(limits.cpuset_cpus, "cpus") <= parse_cpu_list(have, "cpus"):
            raise InvalidArgument(
                f"Requested CPUs are not available - requested {limits.cpuset_cpus}, available: {have}"
            )
    if limits.cpuset_mems:
        have = _available(system, "cpuset.effective_mems", "cpuset.mems.effective") or "0"
        if not parse_cpu_list(limits.cpuset_mems, "mems") <= parse_cpu_list(have, "mems"):
            raise InvalidArgument(
                "Requested memory nodes are not available - "
                f"requested {limits.cpuset_mems}, available: {have}"
            )
