"""The engine over Docker's Engine API: ``RemoteEngine(host)`` offers what ``Engine`` offers the app (lists,
inspect, start, stop, logs, stats, events, exec...), built from the JSON a service (``dockyard system
service``, or any Docker Engine API) sends, as the engine's own records (``mapping``). ``client`` speaks
HTTP/1.1 over a unix socket (or TCP with TLS); ``streams`` reads Docker's streams (multiplexed frames, JSON
lines, the upgraded connection of exec and attach)."""

from __future__ import annotations

from .client import NotAvailable, TLSOptions, check_host
from .engine import RemoteEngine

__all__ = ["NotAvailable", "RemoteEngine", "TLSOptions", "check_host"]
