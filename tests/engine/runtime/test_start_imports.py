"""What a container's supervisor imports to start one: none of the standard library's heavier modules.

The supervisor is forked from the CLI and loads the launcher before it can start anything
(supervisor/process.py: ``preload``), so every module loaded there is on the path of ``start`` and ``run``,
and slower after a fork, where each page the import touches is copied.
"""

from __future__ import annotations

from tests.modules import loaded_after

# What supervisor.process.preload imports, and the runtime modules a launch goes through.
_START_PATH = (
    "from engine.runtime import cgroups, launch, nethooks, prepare\n"
    "from engine.runtime import namespaces, rootfs, seccomp, capabilities, console, logfile\n"
    "from engine.kernel import syscalls\n"
    "from engine.runtime import attachproto\n"
    "from engine.runtime.supervisor import spawning, host, process, mainloop, cgroup, launching, relay, exiting, poller\n"
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
    assert {"engine.runtime.launch", "engine.runtime.supervisor.mainloop", "ctypes"} <= loaded
    assert sorted(loaded & _ABSENT) == []


# The start path's modules, which must use engine/lean's stand-ins (tools, jsonio, record) wherever they would
# use contextlib, functools, json or dataclasses, even in a function that runs only now and then.
_START_MODULES = (
    "engine/runtime/launch.py",
    "engine/runtime/supervisor/spawning.py",
    "engine/runtime/supervisor/host.py",
    "engine/runtime/supervisor/process.py",
    "engine/runtime/supervisor/mainloop.py",
    "engine/runtime/supervisor/cgroup.py",
    "engine/runtime/supervisor/launching.py",
    "engine/runtime/supervisor/relay.py",
    "engine/runtime/supervisor/exiting.py",
    "engine/runtime/supervisor/poller.py",
    "engine/runtime/prepare.py",
    "engine/runtime/specbuild.py",
    "engine/runtime/rootfs.py",
    "engine/runtime/namespaces.py",
    "engine/runtime/seccomp.py",
    "engine/runtime/capabilities.py",
    "engine/runtime/console.py",
    "engine/runtime/logfile.py",
    "engine/runtime/attachproto.py",
    "engine/runtime/nethooks.py",
    "engine/runtime/start.py",
    "engine/runtime/stop.py",
    "engine/runtime/remove.py",
    "engine/runtime/create.py",
    "engine/runtime/reconcile.py",
    "engine/kernel/syscalls.py",
    "engine/store/containers.py",
    "engine/model/config.py",
    "engine/net/etcfiles.py",
)
_REPLACED = {"contextlib", "functools", "json", "dataclasses"}


def _runtime_imports(path: str) -> set[str]:
    """Top-level modules ``path`` imports anywhere but in ``if TYPE_CHECKING:`` blocks."""
    import ast

    tree = ast.parse(open(path).read())
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def test_the_start_path_modules_use_the_stand_ins() -> None:
    import os

    from tests.modules import ROOT as root

    offenders = {m: sorted(_runtime_imports(os.path.join(root, m)) & _REPLACED) for m in _START_MODULES}
    assert {m: names for m, names in offenders.items() if names} == {}
    loaded = loaded_after(_START_PATH)
    assert {"engine.lean.tools", "engine.lean.jsonio", "engine.lean.record"} <= loaded
