"""Engine.events: what any process changes under the root, followed from an offset, with Docker's filters."""

from __future__ import annotations

from engine import Engine


def test_events_follow_changes_with_filters(engine_, busybox):
    start = engine_.event_offset()
    a = engine_.containers.create(busybox, name="ev-a", network="none", command=["true"])
    other = Engine(engine_.root)  # another client of the same root sees the same log
    b = other.containers.create(busybox, name="ev-b", network="none", command=["true"])
    other.containers.rename(b.id, "ev-b2")

    def seen(**filters: list[str]) -> list[tuple[str, str]]:
        return [(e.action, e.id) for e in engine_.events(since_offset=start, timeout=0, filters=filters)]

    assert seen() == [("create", a.id), ("create", b.id), ("rename", b.id)]
    assert seen(event=["rename"]) == [("rename", b.id)]
    assert seen(container=["ev-a"]) == [("create", a.id)]
    assert seen(container=[b.id[:12]], event=["create", "rename"]) == [("create", b.id), ("rename", b.id)]
    assert seen(type=["image"]) == []
    assert seen(label=["x"]) == []  # a filter dockyard does not know matches nothing
    assert engine_.event_offset() > start


def test_discard_removes_the_root_its_containers_and_its_cgroups(tmp_path, busybox_tar):
    import glob
    import os

    from engine.runtime.cgroups import parent_for_root

    root = str(tmp_path / "gone")
    eng = Engine(root)
    with open(busybox_tar, "rb") as f:
        eng.images.import_(f, "busybox:latest")
    eng.containers.run("busybox", name="running", network="none", command=["sleep", "60"])
    parent = parent_for_root(root)
    assert glob.glob(f"/sys/fs/cgroup/*/{parent}") or glob.glob(f"/sys/fs/cgroup/{parent}")
    eng.discard()
    assert not os.path.exists(root)
    assert not glob.glob(f"/sys/fs/cgroup/*/{parent}") and not glob.glob(f"/sys/fs/cgroup/{parent}")


def test_a_discarded_root_is_not_made_again_by_its_network_cleanup(tmp_path, busybox_tar):
    import os
    import time

    from engine.net import janitor

    root = str(tmp_path / "gone")
    eng = Engine(root)
    with open(busybox_tar, "rb") as f:
        eng.images.import_(f, "busybox:latest")
    eng.networks.create("inner", internal=True)
    eng.containers.run("busybox", name="on-net", network="inner", command=["sleep", "60"])
    eng.containers.stop("on-net", timeout=0)  # asks for the delayed cleanup of the network's bridge
    eng.discard()
    time.sleep(janitor.LINGER + 1.0)  # the cleanup's time has come: it finds the root gone
    assert not os.path.exists(root)
