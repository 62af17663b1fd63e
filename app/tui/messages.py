"""Messages the app's background work posts to the UI thread (workers never touch widgets themselves)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message

from engine import Container, Image, Network, StatsRecord, Volume

from .hostinfo import HostSummary


@dataclass
class Snapshot:
    """What the lists show: every container and image, read in one worker pass."""

    containers: list[Container] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    image_users: dict[str, int] = field(default_factory=dict)  # image id -> containers using it
    networks: list[str] = field(default_factory=list)  # every network's name (the Run dialog offers them)
    default_network: str = "bridge"  # the one a container joins when none is named
    volumes: list[Volume] = field(default_factory=list)
    volume_users: dict[str, list[str]] = field(default_factory=dict)  # volume -> names of containers using it
    network_records: list[Network] = field(default_factory=list)  # the Networks pane's rows
    network_users: dict[str, list[str]] = field(default_factory=dict)  # network -> names of its containers


class DataLoaded(Message):
    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot


class EngineChanged(Message):
    """Another process (or this one) changed something under the engine root."""

    def __init__(self, kinds: set[str], event: Any = None) -> None:
        super().__init__()
        self.kinds = kinds
        self.event = event  # the engine's Event record (the Events tab shows it)


class StatsSampled(Message):
    def __init__(self, records: list[StatsRecord], at: float) -> None:
        super().__init__()
        self.records = records
        self.at = at


class HostSampled(Message):
    def __init__(self, summary: HostSummary) -> None:
        super().__init__()
        self.summary = summary


class ContainerSelected(Message):
    def __init__(self, container: Container | None, focused: bool = True) -> None:
        super().__init__()
        self.container = container
        self.focused = focused  # the user is in this list (so the details follow it)


class ImageSelected(Message):
    def __init__(self, image: Image | None, focused: bool = True) -> None:
        super().__init__()
        self.image = image
        self.focused = focused
