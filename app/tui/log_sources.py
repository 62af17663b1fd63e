"""What the Logs view shows: numbered rows read on demand from one container's log, or from several
containers' logs merged by time.

A source is read from two threads: the view's (``line``, ``rows``) and the one that follows the files
(``update``, ``search``, ``grep``); each keeps its own lock. Neither holds any text: one log's rows are its
``LogIndex`` lines; merged rows are two arrays (which log, which line) built from the lines' times.
"""

from __future__ import annotations

import heapq
import threading
from array import array
from collections.abc import Callable

from engine import LogFollower, LogIndex, LogLine

#: How many of each log's last lines a merged view starts from (its lines after that are all merged in).
MERGE_WINDOW = 50_000
GREP_ROWS = 20_000  # rows a merged view's filter reads at a time


class SingleLog:
    """One container's log."""

    merged = False

    def __init__(self, index: LogIndex, name: str) -> None:
        self.index = index
        self.names = [name]
        self.title = name
        self.cut = 0  # older lines left out (merged views only)

    @property
    def rows(self) -> int:
        return self.index.lines

    @property
    def generation(self) -> int:
        return self.index.generation

    @property
    def pending(self) -> bool:
        return self.index.pending

    @property
    def counting(self) -> int:
        return self.index.counting

    def anchor(self, row: int) -> object:
        return self.index.anchor(row)

    def row_of(self, anchor: object) -> int | None:
        return self.index.row_of(anchor)  # type: ignore[arg-type]

    def line(self, row: int) -> LogLine:
        return self.index.line(row)

    def origin(self, _row: int) -> int:
        return 0

    def update(self, budget: int | None = None) -> None:
        self.index.update(budget)

    def follow(self, callback: Callable[[], None]) -> list[LogFollower]:
        return [self.index.follow(callback)]

    def search(self, query: str, start: int, backwards: bool) -> int | None:
        return self.index.search(query, start, backwards)

    def grep(self, query: str, start: int) -> tuple[list[int], int]:
        return self.index.grep(query, start)

    def close(self) -> None:
        self.index.close()


class MergedLog:
    """Several containers' logs as one, line by line in the order of their times (each row knows its
    container). It starts from the last ``MERGE_WINDOW`` lines of each log; what they write later is merged
    in as it comes (the lines of one update are ordered among themselves, after the rows already shown)."""

    merged = True

    def __init__(self, parts: list[tuple[str, LogIndex]], title: str) -> None:
        self.indexes = [index for _name, index in parts]
        self.names = [name for name, _index in parts]
        self.groups = list(range(len(parts)))  # each log's prefix colour (logs of one group share one)
        self.title = title
        self.generation = 1
        self.cut = 0
        self._lock = threading.RLock()
        self._which = array("H")  # row -> the log it comes from
        self._lineno = array("Q")  # row -> its line in that log
        self._next: list[int | None] = [None] * len(parts)  # each log's first line not merged yet
        self._generations = [0] * len(parts)

    @property
    def rows(self) -> int:
        return len(self._which)

    @property
    def pending(self) -> bool:
        return any(index.pending for index in self.indexes)

    @property
    def counting(self) -> int:
        return sum(index.counting for index in self.indexes)

    def anchor(self, row: int) -> object:
        return None  # merged again from each log's last lines when lines come in above

    def row_of(self, anchor: object) -> int | None:
        return None

    def line(self, row: int) -> LogLine:
        with self._lock:
            k, n = self._which[row], self._lineno[row]
        return self.indexes[k].line(n)

    def origin(self, row: int) -> int:
        return self._which[row]

    def update(self, budget: int | None = None) -> None:
        with self._lock:
            fresh: list[list[tuple[str, int, int]]] = []
            for k, index in enumerate(self.indexes):
                index.update(budget)
                if self._generations[k] != index.generation:
                    if self._generations[k]:  # lines went away (rotation): merge again from the window
                        self._restart()
                        return self.update(budget)
                    self._generations[k] = index.generation
                start = self._next[k]
                if start is None:
                    start = max(0, index.lines - MERGE_WINDOW)
                    self.cut += start
                if index.lines > start:
                    times = index.times(start, index.lines)
                    fresh.append([(t, k, start + i) for i, t in enumerate(times)])
                self._next[k] = max(start, index.lines)
            for _t, k, n in heapq.merge(*fresh):
                self._which.append(k)
                self._lineno.append(n)

    def _restart(self) -> None:
        self._which, self._lineno = array("H"), array("Q")
        self._next = [None] * len(self.indexes)
        self._generations = [0] * len(self.indexes)
        self.cut = 0
        self.generation += 1

    def follow(self, callback: Callable[[], None]) -> list[LogFollower]:
        return [index.follow(callback) for index in self.indexes]

    def _text(self, row: int) -> str:
        return self.line(row).text.casefold()

    def search(self, query: str, start: int, backwards: bool) -> int | None:
        folded = query.casefold()
        rows = range(min(start, self.rows) - 1, -1, -1) if backwards else range(start + 1, self.rows)
        return next((r for r in rows if folded in self._text(r)), None)

    def grep(self, query: str, start: int) -> tuple[list[int], int]:
        folded = query.casefold()
        stop = min(self.rows, start + GREP_ROWS)
        return [r for r in range(start, stop) if folded in self._text(r)], stop

    def close(self) -> None:
        for index in self.indexes:
            index.close()


LogSource = SingleLog | MergedLog
