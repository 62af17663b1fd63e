"""A named volume as the volume API shows it (its data is ``volumes/<name>/_data``)."""

from __future__ import annotations

from engine.lean.record import field, record


@record
class Volume:
    name: str
    mountpoint: str
    created: str
    labels: dict[str, str] = field(default_factory=dict)
    in_use: bool = False
    size: int = 0
    options: dict[str, str] = field(default_factory=dict)  # the local driver's: type, device, o
