"""A few minutes of resource history per container, built from the sampler's records (rates from deltas)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from engine import StatsRecord

HISTORY = 300  # samples: five minutes at one a second
SMALL_CPU = 1.0  # percentage points: a smaller move of a container's CPU % may wait to be drawn
SMALL_MEMORY = 1 << 20  # bytes: a smaller move of a container's memory may wait to be drawn


def small_move(drawn: tuple[float, int] | None, r: StatsRecord) -> bool:
    """Whether ``r``'s CPU % and memory moved too little since the figures ``drawn`` (CPU %, bytes) to be
    worth a redraw on their own (an idle container's 0.00% / 0.07%, a few KiB of memory)."""
    if drawn is None:
        return False
    cpu, memory = drawn
    return abs(r.cpu_percent - cpu) < SMALL_CPU and abs(r.memory_usage - memory) < SMALL_MEMORY


@dataclass
class Series:
    cpu: deque[float]
    mem: deque[float]
    net_rx: deque[float]  # bytes per second
    net_tx: deque[float]
    blk_read: deque[float]
    blk_write: deque[float]
    times: deque[float] = field(
        default_factory=lambda: deque(maxlen=HISTORY)
    )  # when cpu and mem were sampled

    @classmethod
    def empty(cls) -> Series:
        return cls(*(deque(maxlen=HISTORY) for _ in range(6)))


class StatsHistory:
    def __init__(self) -> None:
        self.series: dict[str, Series] = {}
        self.latest: dict[str, StatsRecord] = {}
        self._last: dict[str, tuple[float, StatsRecord]] = {}

    def add(self, records: list[StatsRecord], at: float) -> None:
        seen = set()
        for r in records:
            seen.add(r.id)
            s = self.series.setdefault(r.id, Series.empty())
            s.times.append(at)
            s.cpu.append(r.cpu_percent)
            s.mem.append(float(r.memory_usage))
            prev = self._last.get(r.id)
            if prev is not None and at > prev[0]:
                dt = at - prev[0]
                p = prev[1]
                s.net_rx.append(max(0.0, (r.net_rx - p.net_rx) / dt))
                s.net_tx.append(max(0.0, (r.net_tx - p.net_tx) / dt))
                s.blk_read.append(max(0.0, (r.block_read - p.block_read) / dt))
                s.blk_write.append(max(0.0, (r.block_write - p.block_write) / dt))
            self._last[r.id] = (at, r)
        self.latest = {r.id: r for r in records}
        for gone in set(self._last) - seen:
            del self._last[gone]

    def get(self, cid: str) -> Series | None:
        return self.series.get(cid)
