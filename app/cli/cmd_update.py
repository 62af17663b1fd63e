"""``update``: change the resource limits and restart policy of one or more containers, running or not."""

from __future__ import annotations

import sys

from . import flags, output
from .commands import engine


def register(sub: flags.Commands, cs: flags.Commands | None = None) -> None:
    """``update``, and ``container update`` when ``cs`` (the container group's commands) is given."""
    for parent, name in ((sub, "update"), *(((cs, "update"),) if cs is not None else ())):
        p = parent.add_parser(name, help="Update configuration of one or more containers")
        a = p.add_argument
        a("--blkio-weight", type=int, help="Block IO (relative weight), between 10 and 1000, or 0 to disable")
        a("--cpu-period", type=int, help="Limit CPU CFS (Completely Fair Scheduler) period")
        a("--cpu-quota", type=int, help="Limit CPU CFS (Completely Fair Scheduler) quota")
        a("-c", "--cpu-shares", type=int, help="CPU shares (relative weight)")
        a("--cpus", type=float, metavar="decimal", help="Number of CPUs")
        a("--cpu-rt-period", type=int, help="Limit the CPU real-time period in microseconds")
        a("--cpu-rt-runtime", type=int, help="Limit the CPU real-time runtime in microseconds")
        a("--cpuset-cpus", default="", help="CPUs in which to allow execution (0-3, 0,1)")
        a("--cpuset-mems", default="", help="MEMs in which to allow execution (0-3, 0,1)")
        a("-m", "--memory", metavar="bytes", help="Memory limit")
        a("--memory-reservation", metavar="bytes", help="Memory soft limit")
        a(
            "--memory-swap",
            metavar="bytes",
            help="Swap limit equal to memory plus swap: -1 to enable unlimited swap",
        )
        a("--pids-limit", type=int, help="Tune container pids limit (set -1 for unlimited)")
        a("--restart", default="", help="Restart policy to apply when a container exits")
        a("containers", nargs="+", metavar="CONTAINER")
        p.set_defaults(handler=cmd_update)


def _bytes(text: str | None) -> int | None:
    if not text:
        return None
    from engine.units import parse_bytes

    return parse_bytes(text)


def cmd_update(a: flags.Namespace) -> int:
    from engine import InvalidArgument

    kw = {
        "memory": _bytes(a.memory),
        "memory_swap": -1 if a.memory_swap == "-1" else _bytes(a.memory_swap),
        "memory_reservation": _bytes(a.memory_reservation),
        "cpus": a.cpus,
        "cpu_shares": a.cpu_shares,
        "cpu_period": a.cpu_period,
        "cpu_quota": a.cpu_quota,
        "cpu_rt_period": a.cpu_rt_period,
        "cpu_rt_runtime": a.cpu_rt_runtime,
        "cpuset_cpus": a.cpuset_cpus,
        "cpuset_mems": a.cpuset_mems,
        "pids_limit": a.pids_limit,
        "blkio_weight": a.blkio_weight,
        "restart": a.restart,
    }
    if all(v in (None, "") for v in kw.values()):
        raise InvalidArgument("you must provide one or more flags when using this command")
    eng = engine()
    warnings: list[str] = []

    def do(ref: str) -> None:
        warnings.extend(w for w in eng.containers.update(ref, **kw) if w not in warnings)
        print(ref, flush=True)

    status = output.for_each(a.containers, do)
    for w in warnings:
        sys.stderr.write(f"WARNING: {w}\n")
    return status
