"""What a container's supervisor imports to start one: none of the standard library's heavier modules.

The supervisor is forked from the CLI and loads the launcher before it can start anything (supervise.py:
``_preload``), so every module loaded there is on the path of ``start`` and ``run``, and slower after a fork,
where each page the import touches is copied.
"""

from __future__ import annotations

from tests.modules import loaded_after

# What supervise._preload imports, and the runtime modules a launch goes through.
_START_PATH = (
    "from engine.runtime import cgroups, launch, nethooks, prepare, shim\n"
    "from engine.runtime import namespaces, rootfs, seccomp, capabilities, console, logfile\n"
    "from engine.kernel import syscalls\n"
    "from engine.runtime import attachproto, spawn, supervise\n"
    "from engine.runtime.cgroups import v1, v2, common\n"
)

# Not listed: ``types``, which ctypes loads (the system calls need ctypes).
_ABSENT = {
    "collections",
    "contextlib",
    "dataclasses",
    "enum",
    "functools",
    "inspect",
    "json",
    "re",
    "resource",
    "selectors",
    "signal",
    "socket",
    "termios",
    "threading",
    "typing",
    "psutil",
}


def test_the_start_path_loads_none_of_the_heavier_standard_modules() -> None:
    loaded = loaded_after(_START_PATH)
    assert {"engine.runtime.launch", "engine.runtime.shim", "ctypes"} <= loaded
    assert sorted(loaded & _ABSENT) == []
