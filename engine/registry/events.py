"""Progress of a pull or push, one event per change of a layer's state (as ``docker pull`` shows them)."""

from __future__ import annotations

from collections.abc import Callable

from engine.lean.record import record


@record(frozen=True)
class TransferEvent:
    """``id`` is the short blob digest (12 hex digits) of a layer, or "" for a line about the whole image.

    Statuses, pull: ``Pulling fs layer``, ``Waiting``, ``Downloading``, ``Retrying``, ``Extracting``,
    ``Pull complete``, ``Already exists``. Push: ``Preparing``, ``Waiting``, ``Pushing``, ``Pushed``,
    ``Layer already exists``, ``Mounted from <repository>``. ``current``/``total`` count bytes."""

    id: str
    status: str
    current: int = 0
    total: int = 0


ProgressFn = Callable[[TransferEvent], None]


class Reporter:
    """Calls a ProgressFn from any thread, one call at a time; byte counts are sent at most ten times a second
    per layer (and always when they reach the total)."""

    def __init__(self, fn: ProgressFn | None) -> None:
        import threading

        self._fn = fn
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}

    def __call__(self, id: str, status: str, current: int = 0, total: int = 0) -> None:
        if self._fn is None:
            return
        with self._lock:
            self._fn(TransferEvent(id, status, current, total))

    def bytes(self, id: str, status: str, current: int, total: int) -> None:
        if self._fn is None:
            return
        import time

        now = time.monotonic()
        if current < total and now - self._last.get(id, 0.0) < 0.1:
            return
        self._last[id] = now
        self(id, status, current, total)
