"""The machine the engine runs on, for the top bar: CPU use, memory in use and the load average, read with
psutil (in a worker thread; never on the CLI's or a container's start path)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.humanize import format_bytes_binary


@dataclass(frozen=True)
class HostSummary:
    cpu_percent: float  # all CPUs, since the previous reading
    memory_used: int
    memory_total: int
    load: tuple[float, float, float]  # 1, 5 and 15 minutes

    def text(self) -> str:
        one, five, fifteen = self.load
        used, total = format_bytes_binary(self.memory_used, 3), format_bytes_binary(self.memory_total, 3)
        return (
            f"host  CPU {self.cpu_percent:.0f}%  MEM {used}/{total}  load {one:.2f} {five:.2f} {fifteen:.2f}"
        )


def read_host() -> HostSummary:
    """The host's figures now; the CPU % covers the time since the previous call (0 on the first)."""
    import psutil

    mem = psutil.virtual_memory()
    return HostSummary(
        cpu_percent=psutil.cpu_percent(interval=None),
        memory_used=int(mem.total - mem.available),
        memory_total=int(mem.total),
        load=psutil.getloadavg(),
    )


def example_host() -> HostSummary:
    """Fixed figures, for screenshots and tests that must not change from run to run."""
    return HostSummary(12.0, 3_400_000_000, 16_500_000_000, (0.42, 0.36, 0.30))
