"""``run --replicas N``: N containers named NAME-1..NAME-N that share the image's layers on disk.

Checked where it is real: the overlay mounts of the running containers (their mountinfo), and ``system df -v``
(one image size, N small writable layers)."""

from __future__ import annotations

import json
import os

import pytest

from engine import Engine

pytestmark = [pytest.mark.slow, pytest.mark.root]


def _overlay_options(pid: int) -> dict[str, str]:
    """The mount options of the container's root overlay, read from its own mount table."""
    with open(f"/proc/{pid}/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if left.split()[4] == "/" and right.startswith("overlay "):
                opts = right.split()[2]
                return dict(o.partition("=")[::2] for o in opts.split(","))
    raise AssertionError(f"no overlay root in /proc/{pid}/mountinfo")


def test_replicas_share_the_image_layers(cli, busybox):
    out = cli(
        "run", "-d", "--replicas", "3", "--name", "rep", "--network", "none", busybox, "sleep", "300"
    ).out
    ids = out.split()
    assert len(ids) == 3
    eng = Engine(cli.root)
    names = sorted(c.name for c in eng.containers.list())
    assert names == ["rep-1", "rep-2", "rep-3"]
    image = eng.images.get(busybox)
    image_lowers = [li.path for li in reversed(image.layers)]  # overlay lists the top layer first

    lowers, uppers = [], []
    for name in names:
        info = json.loads(cli("inspect", name).out)[0]
        assert info["Image"] == image.id
        opts = _overlay_options(int(info["State"]["Pid"]))
        own = os.path.join(eng.layout.containers, info["Id"])
        dirs = opts["lowerdir"].split(":")
        # below the container's own init layer (hostname, resolv.conf...) come exactly the image's layers
        assert all(d.startswith(own) for d in dirs[: len(dirs) - len(image_lowers)])
        shared = dirs[len(dirs) - len(image_lowers) :]
        assert [os.path.realpath(d) for d in shared] == [os.path.realpath(p) for p in image_lowers]
        lowers.append(shared)
        uppers.append(opts["upperdir"])
        assert opts["upperdir"].startswith(own)
    assert lowers[0] == lowers[1] == lowers[2]  # one copy of the layers for all three
    assert len(set(uppers)) == 3  # each has its own writable layer

    # a write in one replica stays in its own upper dir
    cli("exec", "rep-2", "sh", "-c", "head -c 100000 /dev/zero > /written")
    assert os.path.getsize(os.path.join(uppers[1], "written")) == 100000
    assert not os.path.exists(os.path.join(uppers[0], "written"))
    assert cli("exec", "rep-1", "sh", "-c", "test -e /written || echo absent").out.strip() == "absent"

    du = eng.df()
    assert du.images == 1 and du.images_size == image.size  # the image counted once
    assert du.containers == 3 and du.containers_active == 3
    sizes = {c["name"]: c["size"] for c in du.details["containers"]}
    assert sizes["rep-2"] >= 100000 and sizes["rep-1"] < 4096 and sizes["rep-3"] < 4096
    assert du.containers_size < image.size  # N small writable layers, not N images
    [row] = du.details["images"]
    assert row["containers"] == 3 and row["size"] == image.size

    text = cli("system", "df", "-v").out
    images_part = text.split("Images space usage:")[1].split("Containers space usage:")[0]
    rows = [line.split() for line in images_part.strip().splitlines()[1:]]
    assert len(rows) == 1 and rows[0][0] == "busybox" and rows[0][-1] == "3"
    containers_part = text.split("Containers space usage:")[1].split("Local Volumes space usage:")[0]
    assert sorted(line.split()[-1] for line in containers_part.strip().splitlines()[1:]) == names
