"""Recreating a container from another version of its image: a rollback or an upgrade that keeps the name,
the configuration and the data in volumes."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def test_upgrade_then_roll_back(cli, busybox, engine_, tmp_path):
    cli("tag", "busybox", "app:1")
    cli("run", "--name", "mk2", "app:1", "sh", "-c", "echo 2 > /version")
    cli("commit", "-c", 'CMD ["sh", "-c", "cat /version 2>/dev/null || echo 1; sleep 1000"]', "mk2", "app:2")
    cli("rm", "mk2")
    cli("volume", "create", "data")
    cli(
        "run",
        "-d",
        "--name",
        "svc",
        "-e",
        "MODE=prod",
        "-v",
        "data:/data",
        "--label",
        "tier=web",
        "--restart",
        "on-failure:3",
        "--stop-timeout",
        "1",
        "app:1",
        "sh",
        "-c",
        "echo $MODE > /data/mode; sleep 1000",
    )
    old = engine_.containers.get("svc")

    new = engine_.containers.recreate("svc", "app:2")
    assert new.name == "svc" and new.id != old.id and new.status == "running"
    assert new.image == "app:2" and new.labels["tier"] == "web"
    d = json.loads(cli("inspect", "svc").out)[0]
    assert "MODE=prod" in d["Config"]["Env"]
    assert d["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert cli("exec", "svc", "cat", "/data/mode").out == "prod\n"  # the volume came along
    assert cli("ps", "-a", "-q").out.split() == [new.short_id]  # the old container is gone

    back = engine_.containers.recreate("svc", "app:1")
    assert back.image == "app:1" and back.status == "running"
    assert cli("exec", "svc", "ls", "/version", check=False).code != 0  # version 1 has no /version


def test_recreate_refuses_an_unknown_image_and_keeps_the_container(cli, busybox, engine_):
    cid = cli("run", "-d", "--name", "keep", "busybox", "sleep", "1000").out.strip()
    from engine import ImageNotFound

    with pytest.raises(ImageNotFound):
        engine_.containers.recreate("keep", "nosuch:9")
    c = engine_.containers.get("keep")
    assert c.id == cid and c.status == "running"
