"""Helpers for the build tests: write a context, build it, look at what a step did."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

from engine import BuildOptions
from engine.build.events import RESULT, BuildEvent


def write(ctx: Path, files: dict[str, str | bytes]) -> Path:
    """Create the files (dedented text or bytes) below ``ctx``."""
    for name, content in files.items():
        path = ctx / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"))
    return ctx


class Built:
    """The events of one build, its result and what ran."""

    def __init__(self, events: list[BuildEvent]) -> None:
        self.events = events
        result = [e for e in events if e.kind == RESULT]
        self.image_id = result[-1].image_id if result else ""
        self.executed = list(result[-1].executed) if result else []
        self.cached = list(result[-1].cached) if result else []

    def output(self) -> list[str]:
        return [e.text for e in self.events if e.kind == "output"]

    def ran(self, keyword: str) -> list[str]:
        return [label for label in self.executed if label.split("] ", 1)[1].startswith(keyword)]


def do_build(engine: Any, ctx: Path | str, **kw: Any) -> Built:
    return Built(list(engine.images.build_stream(BuildOptions(str(ctx), **kw))))


def layer_files(engine: Any, image: str, index: int) -> dict[str, os.stat_result]:
    """Path -> lstat of every entry in the image's layer ``index`` (its unpacked directory)."""
    layer = engine.images.get(image).layers[index]
    out = {}
    for dirpath, dirnames, filenames in os.walk(layer.path):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            out["/" + os.path.relpath(full, layer.path)] = os.lstat(full)
    return out
