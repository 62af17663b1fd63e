"""The command table: running a command imports only the module that registers it, so the table must
name every command each module registers, and nothing else."""

from __future__ import annotations

import importlib
import subprocess
import sys

from app.cli.commands import COMMANDS
from tests.modules import loaded_after


class _Recorder:
    def __init__(self) -> None:
        self.names: list[str] = []

    def add_parser(self, name: str, **kw: object) -> _Anything:
        self.names += [name, *kw.get("aliases", ())]  # type: ignore[misc]
        return _Anything()


class _Anything:
    def __getattr__(self, _name: str) -> _Anything:
        return self

    def __call__(self, *_a: object, **_k: object) -> _Anything:
        return self


def test_the_table_names_what_each_module_registers() -> None:
    for module, names in COMMANDS.items():
        rec = _Recorder()
        importlib.import_module(module).register(rec)
        assert sorted(rec.names) == sorted(names), module


def test_no_command_is_claimed_twice() -> None:
    every = [n for names in COMMANDS.values() for n in names]
    assert len(every) == len(set(every))


def test_container_commands_load_no_heavy_modules() -> None:
    """Parsing a container command and loading the engine modules it runs costs no standard-library module
    that imports others by the dozen (argparse, re, enum, functools, collections, json, contextlib, signal,
    socket, threading ...), no dataclasses or typing, no other command's module (ps's is its own), nor the TUI: each costs
    milliseconds on every call. (The supervisor's own path is checked in tests/engine/runtime.)"""
    code = (
        "from app.cli.main import build_parser; "
        "[build_parser(a[0]).parse_args(a) for a in (['ps'], ['create', 'i'], ['start', 'c'], "
        "['stop', '-t', '0', 'c'], ['rm', 'c'], ['run', '--rm', '--network', 'none', 'i', 'true'])]; "
        "import engine.containers, engine.runtime.create, engine.runtime.start, engine.runtime.stop, "
        "engine.runtime.remove, engine.runtime.supervisor.spawning, engine.runtime.attach, engine.images, "
        "engine.engine"
    )
    loaded = loaded_after(code)
    heavy = {
        "argparse",
        "re",
        "enum",
        "functools",
        "collections",
        "contextlib",
        "json",
        "signal",
        "socket",
        "selectors",
        "threading",
        "gettext",
        "warnings",
        "textwrap",
        "importlib",
        "dataclasses",
        "typing",
        "inspect",
        "shutil",
        "tempfile",
        "hashlib",
        "textual",
        "rich",
        "pyroute2",
        "psutil",
    }
    assert not loaded & heavy, sorted(loaded & heavy)
    assert "app.cli.cmd_containers" in loaded and "app.cli.cmd_ps" in loaded  # (ps is parsed too)
    assert not {m for m in COMMANDS if m not in ("app.cli.cmd_containers", "app.cli.cmd_ps")} & loaded


def test_an_unknown_command_is_refused_in_dockers_words() -> None:
    p = subprocess.run(
        [sys.executable, "-c", "import sys; from app.cli.main import main; sys.exit(main(['nosuch', 'x']))"],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 1
    assert p.stderr == "dockyard: 'nosuch' is not a dockyard command.\nSee 'dockyard --help'\n"


def _usage_error(*argv: str) -> tuple[int, str]:
    code = f"import sys; from app.cli.main import main; sys.exit(main({list(argv)!r}))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return p.returncode, p.stderr


def test_usage_errors_in_dockers_words_and_status() -> None:
    assert _usage_error("run", "--foo", "busybox") == (
        125,
        "unknown flag: --foo\nSee 'dockyard run --help'.\n",
    )
    assert _usage_error("run") == (
        125,
        "\"dockyard run\" requires at least 1 argument.\nSee 'dockyard run --help'.\n",
    )
    assert _usage_error("rename", "a")[1].startswith('"dockyard rename" requires exactly 2 arguments.')
    assert _usage_error("ps", "extra")[1].startswith('"dockyard ps" accepts no arguments.')
    assert _usage_error("logs", "--tail")[1].startswith("flag needs an argument: --tail")
