"""Container cgroups on cgroup v1, v2 and hybrid machines: create, limit, join, freeze, kill, read, remove.

One interface, two implementations, as runc's libcontainer/cgroups has them:

- ``manager.py``: ``Manager``, the interface every caller drives a container's cgroup through (the engine
  calls it ``ContainerCgroup``), with the steps both versions share; ``CgroupStats``, what it reads;
- ``v1.py``: ``V1Manager``, one directory per controller hierarchy (v1 and hybrid machines);
- ``v2.py``: ``V2Manager``, one directory of the unified tree (v2 machines);
- ``detect.py``: which hierarchies the machine has and where the calling process sits in them; the mode it
  finds chooses the implementation (``IMPLEMENTATIONS``, below);
- ``parent.py``: where a root's containers go (the parent cgroup recorded with the root), what is below it;
- ``resources.py``: ``Limits``, Docker's resource flags validated and turned into controller values;
- ``common.py``: reading and writing cgroup files, waiting for the kernel.

On a hybrid machine the controller-less cgroup2 tree is left alone: nothing is limited or counted there,
and joining it would cost every start a kernel grace period; containers stay in their supervisor's cgroup
of that tree.

Each container gets one cgroup per hierarchy, ``<anchor>/<parent>/<container id>``: for an engine root the
parent is ``parent_for_root(root)``, recorded below the cgroup of the process that made the root. The paths
follow from the container id and the parent, so any dockyard process can reopen a container's cgroup
(``ContainerCgroup.open``), and the recovery pass can find the ones nobody owns (``list_leftovers``,
``remove_leftovers``).

Life of a container cgroup:

1. ``ContainerCgroup.create(id, Limits(...), parent)`` validates the limits and writes them before any
   process runs;
2. the container's first process joins through ``join_files()`` before it execs;
3. pause/unpause use ``freeze()``/``thaw()``; stop and kill use ``kill_all()``; ``stats()`` feeds
   ``docker stats``-style figures;
4. when PID 1 has exited, the supervisor reads ``oom_killed()`` and then calls ``destroy()``.
"""

from __future__ import annotations

from engine.runtime.cgroups.detect import CgroupSystem, Hierarchy, detect, parse
from engine.runtime.cgroups.manager import (
    IMPLEMENTATIONS,
    CgroupStats,
    Manager,
    remove_leftovers,
    warm_up_migration,
)
from engine.runtime.cgroups.parent import (
    DEFAULT_PARENT,
    CgroupParent,
    list_leftovers,
    parent_for_root,
    remove_parent,
)
from engine.runtime.cgroups.resources import Limits
from engine.runtime.cgroups.v1 import V1Manager
from engine.runtime.cgroups.v2 import V2Manager

#: The engine's name for a container's cgroup manager.
ContainerCgroup = Manager

IMPLEMENTATIONS.update(v1=V1Manager, hybrid=V1Manager, v2=V2Manager)

__all__ = [
    "DEFAULT_PARENT",
    "CgroupParent",
    "CgroupStats",
    "CgroupSystem",
    "ContainerCgroup",
    "Hierarchy",
    "Limits",
    "Manager",
    "V1Manager",
    "V2Manager",
    "detect",
    "list_leftovers",
    "parent_for_root",
    "parse",
    "remove_leftovers",
    "remove_parent",
    "warm_up_migration",
]
