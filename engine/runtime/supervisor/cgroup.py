"""The container's cgroup, made in a thread while the main thread prepares the spec and PID 1 its root.

A directory per hierarchy, and on cgroup v2 the first migration-lock wait (an RCU grace period: 5-20 ms
here), would otherwise come one after the other in the container's start. The paths are known before the
directories exist, so PID 1 is told them at once and joins once they do.
"""

from __future__ import annotations

import _thread
import sys

from ...errors import DockyardError, RuntimeFailure
from ...lean.tools import suppress

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from threading import Thread
    from typing import Any

    from ...model.config import ContainerConfig
    from ...paths import Layout
    from ..cgroups import CgroupParent, ContainerCgroup


class _Background:
    """``fn(*args)`` in a thread of its own; ``join()`` waits until it has returned. (On ``_thread``: the
    threading module loads functools and collections, milliseconds of every start.)"""

    def __init__(self, fn: Callable[..., object], *args: object) -> None:
        self._running = _thread.allocate_lock()
        self._running.acquire()
        _thread.start_new_thread(self._run, (fn, args))

    def _run(self, fn: Callable[..., object], args: tuple[object, ...]) -> None:
        try:
            fn(*args)
        finally:
            self._running.release()

    def join(self) -> None:
        with self._running:
            pass


class CgroupSetup:
    """One container's cgroup for each start: ``begin`` it, ``wait`` for it before PID 1 may exec, then
    ``end`` it when PID 1 has exited (or ``discard`` it when the launch failed)."""

    def __init__(self, layout: Layout, cid: str, cfg: ContainerConfig) -> None:
        self.layout = layout
        self.cid = cid
        self.cfg = cfg
        self.cgroup: Any = None
        self.files: list[str] = []  # what PID 1 writes itself into
        self._setup: _Background | None = None
        self._error: BaseException | None = None

    @property
    def begun(self) -> bool:
        """True from ``begin`` until ``wait``."""
        return self._setup is not None

    def _make(self, located: ContainerCgroup, parent: CgroupParent, after: Thread | None) -> None:
        """Warm the kernel's cgroup migration lock (once ``after``, an earlier warming, is done: within
        ~10 ms of one this costs nothing), then create the container's cgroup (at ``located``, removing a
        leftover there first) with its limits."""
        from ..cgroups import ContainerCgroup, Limits, warm_up_migration

        try:
            if after is not None:
                after.join()
            warm_up_migration()
            limits = Limits.of(self.cfg)
            with suppress(DockyardError):
                located.destroy()
            for attempt in range(3):  # the root's parent may be removed under us by a last ``rm``: retry
                try:
                    self.cgroup = ContainerCgroup.create(self.cid, limits, parent)
                    break
                except (FileNotFoundError, RuntimeFailure):
                    if attempt == 2:
                        raise
        except BaseException as e:  # noqa: B036 - handed to the main thread, which raises it
            self._error = e

    def begin(self, after: Thread | None = None) -> None:
        """Start making the cgroup in a thread; ``files`` are known at once."""
        from ..cgroups import ContainerCgroup, parent_for_root  # here: the thread would wait for the GIL

        parent = parent_for_root(self.layout.root)
        located = ContainerCgroup.open(self.cid, parent, must_exist=False)
        self.files = located.join_files()
        sys.setswitchinterval(0.0005)
        self._error = None
        self._setup = _Background(self._make, located, parent, after)

    def wait(self) -> None:
        """Wait for the thread; raise what it hit."""
        if self._setup is not None:
            self._setup.join()
            self._setup = None
            sys.setswitchinterval(0.005)
        if self._error is not None:
            raise self._error

    def discard(self) -> None:
        """Remove the cgroup of a start that failed."""
        if self.cgroup is not None:
            self.cgroup.destroy()
            self.cgroup = None

    def end(self) -> bool:
        """Remove the cgroup once PID 1 has exited (what fails is ignored); True if the OOM killer struck."""
        oom = False
        if self.cgroup is not None:
            with suppress(Exception):
                oom = self.cgroup.oom_killed()
            with suppress(Exception):
                self.cgroup.destroy()
            self.cgroup = None
        return oom
