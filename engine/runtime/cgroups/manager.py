"""The one interface a container's cgroup is driven through, whatever the machine's cgroup version (runc's
``cgroups.Manager`` is the model): ``V1Manager`` over one directory per controller hierarchy (also a hybrid
machine's, whose controller-less cgroup2 tree is left alone), ``V2Manager`` over one directory of the unified
tree. ``ContainerCgroup`` (cgroups/__init__.py) makes the directories and holds a manager for the rest."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    from engine.runtime.cgroups.common import CgroupStats, Limits

    class Manager(Protocol):
        #: The file a single-threaded process writes "0" into, in each directory, to join the cgroup.
        join_file: str

        def required_controllers(self, limits: Limits) -> dict[str, str]:
            """Controller -> the limit that needs it (for error messages)."""
            ...

        def missing_controllers(self, limits: Limits) -> list[tuple[str, str]]:
            """(controller, limit) pairs ``limits`` needs that this cgroup does not have."""
            ...

        def apply(self, limits: Limits) -> None:
            """Write the limits (those left out stay as they are)."""
            ...

        def freeze(self, timeout: float) -> None: ...

        def thaw(self, timeout: float) -> None: ...

        def is_frozen(self) -> bool: ...

        def kill(self) -> bool:
            """Kill every process at once where the kernel can (cgroup.kill); False where it cannot."""
            ...

        def hold(self) -> None:
            """Stop the processes from forking while they are signalled one by one (v1's freezer; else nothing)."""
            ...

        def release(self) -> None:
            """Undo ``hold`` (frozen processes die only once thawed)."""
            ...

        def stats(self) -> CgroupStats: ...

        def oom_kill_count(self) -> int: ...


def manager_for(mode: str, dirs: dict[str, str]) -> Manager:
    """The manager for a container's directories: v2's over the unified directory, v1's otherwise."""
    if mode == "v2":
        from engine.runtime.cgroups.v2 import V2Manager

        return V2Manager(dirs["unified"])
    from engine.runtime.cgroups.v1 import V1Manager

    return V1Manager(dirs)
