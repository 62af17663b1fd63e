"""The table of commands: each module registers its own subcommands."""

from __future__ import annotations

import argparse
import importlib

MODULES = ["app.cli.cmd_images", "app.cli.cmd_system"]
OPTIONAL = ["app.cli.cmd_containers", "app.cli.cmd_volumes", "app.cli.cmd_build", "app.cli.cmd_network"]


def register_all(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    for name in MODULES:
        importlib.import_module(name).register(sub)
    for name in OPTIONAL:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        mod.register(sub)


def engine():  # type: ignore[no-untyped-def]
    from engine import Engine

    return Engine()
