"""``update``: change a container's resource limits and restart policy, running or not.

As Docker's daemon does it: the new values are checked on their own (Docker's words), merged into what the
container has (a value not given is kept; Docker's conflicts: --memory above the memory+swap limit already
set without a new --memory-swap, --cpus against a --cpu-period/--cpu-quota already set and the reverse, a
restart policy for an --rm container), the merged limits are checked again, then, under the container's
lock, written into the live cgroup when the container has one (running, paused or between restarts) and
into its record, so that ``inspect`` and the next start agree. If the kernel refuses a value (a memory limit
below what the container uses), the old values are written back and the record is left as it was; the error
is Docker's: ``Cannot update container <id>: ...``.
"""

from __future__ import annotations

from engine.lean.record import record

from ..errors import DockyardError, InvalidArgument, RuntimeFailure
from ..lean.tools import suppress
from ..paths import Layout
from ..store.containers import ContainerStore
from .reconcile import reconcile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..model.config import ContainerConfig
    from .cgroups import Limits


@record
class UpdateOptions:
    """What ``update`` was given; None (or "") for what it leaves as it is."""

    memory: int | None = None
    memory_swap: int | None = None  # -1: unlimited swap
    memory_reservation: int | None = None
    cpus: float | None = None
    cpu_shares: int | None = None
    cpu_period: int | None = None
    cpu_quota: int | None = None
    cpuset_cpus: str = ""
    cpuset_mems: str = ""
    pids_limit: int | None = None  # 0 or -1: no limit
    blkio_weight: int | None = None
    restart: str = ""
    cpu_rt_period: int | None = None
    cpu_rt_runtime: int | None = None

    @property
    def empty(self) -> bool:
        return self == UpdateOptions()


class CannotUpdate(DockyardError):
    """Docker's ``Cannot update container <id>: <why>``."""

    def __init__(self, cid: str, why: str, exit_code: int = 125) -> None:
        super().__init__(f"Cannot update container {cid}: {why}")
        self.exit_code = exit_code


def _limits_of(opts: UpdateOptions) -> Limits:
    from .cgroups import Limits

    return Limits(
        memory=opts.memory,
        memory_swap=opts.memory_swap,
        memory_reservation=opts.memory_reservation,
        cpus=opts.cpus,
        cpu_shares=opts.cpu_shares,
        cpu_period=opts.cpu_period,
        cpu_quota=opts.cpu_quota,
        cpuset_cpus=opts.cpuset_cpus,
        cpuset_mems=opts.cpuset_mems,
        pids=opts.pids_limit,
        blkio_weight=opts.blkio_weight,
        cpu_rt_period=opts.cpu_rt_period,
        cpu_rt_runtime=opts.cpu_rt_runtime,
    )


def check(opts: UpdateOptions) -> list[str]:
    """The checks Docker makes of an update's own values (before the container is looked at); the
    warnings for what this machine cannot apply. InvalidArgument in Docker's words."""
    from .cgroups.support import check as machine_check
    from .create import parse_restart

    if opts.empty:
        raise InvalidArgument("you must provide one or more flags when using this command")
    if opts.restart:
        parse_restart(opts.restart)
    limits = _limits_of(opts)
    if limits.memory_swap and not limits.memory:
        # --memory-swap alone is allowed on update (checked against the container's memory below)
        from engine.lean.record import replace

        replace(limits, memory_swap=None).validate()
    else:
        limits.validate()
    _, warnings = machine_check(limits)
    return warnings


def merge(cid: str, cfg: ContainerConfig, opts: UpdateOptions, warnings: list[str]) -> ContainerConfig:
    """The container's config with the update applied, as Docker's UpdateContainer merges it."""
    from engine.lean.record import replace

    from .create import parse_restart

    if opts.cpus and cfg.cpu_period:
        raise CannotUpdate(
            cid, "Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set"
        )
    if opts.cpus and cfg.cpu_quota and cfg.cpu_quota > 0:
        raise CannotUpdate(
            cid, "Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set"
        )
    if opts.cpu_period and cfg.cpus:
        raise CannotUpdate(
            cid, "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set"
        )
    if opts.cpu_quota and opts.cpu_quota > 0 and cfg.cpus:
        raise CannotUpdate(
            cid, "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set"
        )
    new: dict[str, object] = {}
    if opts.memory:
        if opts.memory > (cfg.memory_swap or 0) and not opts.memory_swap:
            raise CannotUpdate(
                cid,
                "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at "
                "the same time",
            )
        new["memory"] = opts.memory
    for name in (
        "memory_swap",
        "memory_reservation",
        "cpus",
        "cpu_shares",
        "cpu_period",
        "cpu_quota",
        "cpu_rt_period",
        "cpu_rt_runtime",
    ):
        value = getattr(opts, name)
        if value:
            new[name] = value
    discarded_blkio = any("Block I/O weight" in w for w in warnings)
    discarded_cpuset = any("Cpuset discarded" in w for w in warnings)
    if opts.blkio_weight and not discarded_blkio:
        new["blkio_weight"] = opts.blkio_weight
    if opts.cpuset_cpus and not discarded_cpuset:
        new["cpuset_cpus"] = opts.cpuset_cpus
    if opts.cpuset_mems and not discarded_cpuset:
        new["cpuset_mems"] = opts.cpuset_mems
    if opts.pids_limit is not None:
        new["pids_limit"] = opts.pids_limit if opts.pids_limit > 0 else None
    if opts.restart:
        policy = parse_restart(opts.restart)
        if cfg.auto_remove and policy.name != "no":
            raise CannotUpdate(
                cid, "Restart policy cannot be updated because AutoRemove is enabled for the container"
            )
        new["restart_policy"] = policy
    merged = replace(cfg, **new)
    from .cgroups import Limits

    try:
        Limits.of(merged).validate()
    except InvalidArgument as e:
        raise CannotUpdate(cid, str(e)) from None
    return merged


def update(layout: Layout, cid: str, opts: UpdateOptions) -> list[str]:
    """Apply ``opts`` to container ``cid``: its live cgroup if it has one, then its record. Returns Docker's
    warnings (settings this machine cannot apply, dropped)."""
    warnings = check(opts)
    store = ContainerStore(layout)
    reconcile(layout, cid)
    with store.lock(cid):
        st = store.state(cid)
        if st.status in ("removing", "dead"):
            raise CannotUpdate(cid, 'container is marked for removal and cannot be "update"')
        cfg = store.config(cid)
        merged = merge(cid, cfg, opts, warnings)
        if st.status in ("running", "paused", "restarting"):
            _apply_live(layout, cid, cfg, merged, opts)
        store.save_config(merged)
    from ..store.eventlog import emit

    emit(layout, "container", "update", cid, config=merged)
    return warnings


def _apply_live(
    layout: Layout, cid: str, old: ContainerConfig, new: ContainerConfig, opts: UpdateOptions
) -> None:
    """Write what changed into the container's cgroup (if it has one now); on a refusal, write the old
    values back and raise CannotUpdate."""
    from .cgroups import ContainerCgroup, Limits, parent_for_root

    try:
        cg = ContainerCgroup.open(cid, parent_for_root(layout.root))
    except DockyardError:
        return  # between two runs (restarting): the next start takes the record
    changed = _changed(Limits.of(new), opts)
    try:
        cg.update(changed)
    except (RuntimeFailure, InvalidArgument) as e:
        with suppress(DockyardError):
            cg.update(_changed(Limits.of(old), opts, restoring=True))
        raise CannotUpdate(cid, str(e)) from None


def _changed(limits: Limits, opts: UpdateOptions, restoring: bool = False) -> Limits:
    """The limits to write: those the update touches (the others are left as the cgroup has them). Memory
    and swap go together (v1 keeps memory <= memory+swap)."""
    from engine.lean.record import replace

    keep_memory = bool(opts.memory or opts.memory_swap)
    return replace(
        limits,
        memory=limits.memory if keep_memory else None,
        memory_swap=limits.memory_swap if keep_memory else None,
        memory_reservation=limits.memory_reservation if opts.memory_reservation else None,
        cpus=limits.cpus if opts.cpus else None,
        cpu_period=limits.cpu_period if (opts.cpu_period or opts.cpu_quota) else None,
        cpu_quota=(limits.cpu_quota or (-1 if restoring else None)) if opts.cpu_quota else None,
        cpu_shares=limits.cpu_shares if opts.cpu_shares else None,
        cpuset_cpus=limits.cpuset_cpus if opts.cpuset_cpus else "",
        cpuset_mems=limits.cpuset_mems if opts.cpuset_mems else "",
        pids=(limits.pids if limits.pids is not None else -1) if opts.pids_limit is not None else None,
        blkio_weight=limits.blkio_weight if opts.blkio_weight else None,
        oom_kill_disable=None,
        swappiness=None,
        blkio_weight_device=(),
        device_read_bps=(),
        device_write_bps=(),
        device_read_iops=(),
        device_write_iops=(),
        cpu_rt_period=limits.cpu_rt_period if opts.cpu_rt_period or opts.cpu_rt_runtime else None,
        cpu_rt_runtime=limits.cpu_rt_runtime if opts.cpu_rt_period or opts.cpu_rt_runtime else None,
    )
