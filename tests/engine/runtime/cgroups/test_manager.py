"""The manager interface: which implementation drives a container, chosen by the machine's cgroup mode."""

from __future__ import annotations

import pytest

from engine.runtime.cgroups import ContainerCgroup, Manager, V1Manager, V2Manager, detect, parse
from engine.runtime.cgroups.manager import IMPLEMENTATIONS

MOUNTINFO_V1 = "30 25 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
MOUNTINFO_HYBRID = MOUNTINFO_V1 + "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
MOUNTINFO_V2 = "26 23 0:25 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"


@pytest.mark.parametrize(
    ("mountinfo", "kind", "join_file"),
    [
        (MOUNTINFO_V1, V1Manager, "tasks"),
        (MOUNTINFO_HYBRID, V1Manager, "tasks"),  # the controller-less cgroup2 tree is left alone
        (MOUNTINFO_V2, V2Manager, "cgroup.procs"),
    ],
)
def test_the_mode_chooses_the_implementation(mountinfo: str, kind: type[Manager], join_file: str) -> None:
    system = parse(mountinfo, "4:memory:/s\n0::/s\n")
    cg = ContainerCgroup.open("c1", system=system, must_exist=False)
    assert type(cg) is kind and cg.mode == system.mode
    assert cg.join_files() == [d + "/" + join_file for d in cg.dirs.values()]
    again = ContainerCgroup.from_state(cg.state())
    assert type(again) is kind and again.dirs == cg.dirs and again.path == cg.path


def test_this_machine_has_an_implementation() -> None:
    assert set(IMPLEMENTATIONS) == {"v1", "hybrid", "v2"}
    assert ContainerCgroup is Manager
    assert issubclass(IMPLEMENTATIONS[detect().mode], Manager)


def test_the_interface_itself_drives_nothing() -> None:
    with pytest.raises(TypeError, match="abstract"):
        Manager("c1", "v1", {}, "")  # type: ignore[abstract]
