"""What docker-py's container tests ask of the service, checked with docker-py (and Docker's client) on a real
engine root: archives through a stopped container's volumes and binds, wait on a container that removes
itself, a paused container that still runs, Isolation and VolumeDriver kept, a chosen MAC address on the
interface, an exec that cannot start, Docker's words for removing a running container, and a health check
that is "starting" as soon as the start returns."""

from __future__ import annotations

import io
import os
import tarfile
import time

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.root]


def _tar(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _untar(chunks) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}  # type: ignore[union-attr]


def test_archives_reach_a_stopped_containers_volumes_and_binds(docker_py, cli, busybox, tmp_path) -> None:
    api = docker_py.api
    bound = tmp_path / "bound"
    bound.mkdir()
    (bound / "host.txt").write_text("from the host")
    made = api.create_container(
        busybox,
        ["sh", "-c", "cat /vol1/in.txt; echo written > /vol1/out.txt; echo there > /b/made.txt"],
        volumes=["/vol1"],
        host_config=api.create_host_config(binds={str(bound): {"bind": "/b", "mode": "rw"}}),
    )
    cid = made["Id"]
    # before the first start: the anonymous volume takes the copy, as Docker's
    assert api.put_archive(cid, "/vol1", _tar("in.txt", b"put before start\n"))
    api.start(cid)
    assert api.wait(cid)["StatusCode"] == 0
    assert api.logs(cid) == b"put before start\n"
    # stopped: the volume and the bind are seen, not the image's empty directories under them
    strm, stat = api.get_archive(cid, "/vol1/out.txt")
    assert stat["name"] == "out.txt" and _untar(strm) == {"out.txt": b"written\n"}
    strm, _ = api.get_archive(cid, "/b")
    assert _untar(strm) == {"b/host.txt": b"from the host", "b/made.txt": b"there\n"}
    # a copy into the stopped container's bind lands on the host
    assert api.put_archive(cid, "/b", _tar("back.txt", b"back"))
    assert (bound / "back.txt").read_bytes() == b"back"
    # dockyard's own cp reads the volume of the stopped container too, and export leaves volumes out
    assert cli("cp", f"{cid}:/vol1/out.txt", str(tmp_path / "got")).code == 0
    assert (tmp_path / "got").read_text() == "written\n"
    exported = b"".join(api.export(cid))
    with tarfile.open(fileobj=io.BytesIO(exported)) as t:
        assert "vol1/out.txt" not in t.getnames() and "b/host.txt" not in t.getnames()
    api.remove_container(cid, v=True)


def test_a_read_only_bind_refuses_a_copy_while_stopped(docker_py, busybox, tmp_path) -> None:
    import docker as docker_sdk

    api = docker_py.api
    bound = tmp_path / "ro"
    bound.mkdir()
    cid = api.create_container(
        busybox, "true", host_config=api.create_host_config(binds={str(bound): {"bind": "/ro", "mode": "ro"}})
    )["Id"]
    with pytest.raises(docker_sdk.errors.APIError):
        api.put_archive(cid, "/ro", _tar("no.txt", b"no"))
    assert os.listdir(bound) == []
    api.remove_container(cid)


def test_wait_gives_the_exit_code_of_a_container_that_removes_itself(docker_py, busybox) -> None:
    api = docker_py.api
    cid = api.create_container(
        busybox, ["sh", "-c", "sleep 0.5; exit 3"], host_config=api.create_host_config(auto_remove=True)
    )["Id"]
    api.start(cid)
    assert api.wait(cid) == {"StatusCode": 3, "Error": None}
    deadline = time.monotonic() + 10
    while any(c["Id"] == cid for c in api.containers(all=True)):
        assert time.monotonic() < deadline, "the container was not removed"
        time.sleep(0.05)
    # docker-py's run(auto_remove=True) waits after the logs ended and the container went
    out = docker_py.containers.run(busybox, ["sh", "-c", "echo hello; sleep 0.3"], auto_remove=True)
    assert out == b"hello\n"


def test_a_paused_container_still_runs(docker_py, docker, busybox) -> None:
    c = docker_py.containers.run(busybox, ["sleep", "300"], detach=True)
    c.pause()
    state = docker_py.api.inspect_container(c.id)["State"]
    assert (state["Status"], state["Running"], state["Paused"]) == ("paused", True, True)
    assert docker("inspect", "-f", "{{.State.Running}} {{.State.Paused}}", c.id).out == "true true\n"
    c.unpause()
    state = docker_py.api.inspect_container(c.id)["State"]
    assert (state["Running"], state["Paused"]) == (True, False)
    c.remove(force=True)


def test_isolation_and_volume_driver_are_kept_as_given(docker_py, busybox) -> None:
    import docker as docker_sdk

    api = docker_py.api
    before = len(api.containers(all=True))
    cid = api.create_container(
        busybox, "true", host_config=api.create_host_config(isolation="default", volume_driver="foo")
    )["Id"]
    host = api.inspect_container(cid)["HostConfig"]
    assert (host["Isolation"], host["VolumeDriver"]) == ("default", "foo")
    with pytest.raises(docker_sdk.errors.APIError) as e:
        api.create_container(busybox, "true", host_config=api.create_host_config(isolation="hyperv"))
    assert e.value.status_code == 400 and "linux only supports 'default'" in e.value.explanation
    # a volume to make with a driver that is not here: Docker's words, and nothing made
    with pytest.raises(docker_sdk.errors.NotFound) as e:
        api.create_container(
            busybox, "true", volumes=["/data"], host_config=api.create_host_config(volume_driver="foo")
        )
    assert e.value.explanation == 'error looking up volume plugin foo: plugin "foo" not found'
    assert len(api.containers(all=True)) == before + 1
    api.remove_container(cid)


def test_a_chosen_mac_address_is_the_interfaces(docker_py, cli, busybox) -> None:
    import docker as docker_sdk

    api = docker_py.api
    cli("network", "create", "--internal", "macnet")
    cid = api.create_container(
        busybox,
        ["cat", "/sys/class/net/eth0/address"],
        mac_address="02:42:AC:11:00:0a",
        host_config=api.create_host_config(network_mode="macnet"),
    )["Id"]
    api.start(cid)
    assert api.wait(cid)["StatusCode"] == 0
    assert api.logs(cid) == b"02:42:ac:11:00:0a\n"
    assert api.inspect_container(cid)["NetworkSettings"]["Networks"]["macnet"]["MacAddress"] == (
        "02:42:ac:11:00:0a"
    )
    for bad, words in (("02:42:ac:11:00", "is not a valid mac address"), ("01:00:5e:00:00:01", "multicast")):
        with pytest.raises(docker_sdk.errors.APIError) as e:
            api.create_container(
                busybox, "true", mac_address=bad, host_config=api.create_host_config(network_mode="macnet")
            )
        assert e.value.status_code == 400 and words in e.value.explanation
    with pytest.raises(docker_sdk.errors.APIError) as e:
        api.create_container(
            busybox,
            "true",
            mac_address="02:42:ac:11:00:0b",
            host_config=api.create_host_config(network_mode="none"),
        )
    assert "conflicting options: mac-address and the network mode" in e.value.explanation
    api.remove_container(cid)
    cli("network", "rm", "macnet")


def test_an_exec_that_cannot_start_exits_126(docker_py, busybox) -> None:
    c = docker_py.containers.run(busybox, ["sleep", "300"], detach=True)
    code, out = c.exec_run("no-such-command")
    assert code == 126 and b"no-such-command" in out
    assert c.exec_run("true")[0] == 0
    c.remove(force=True)


def test_removing_a_running_container_says_dockers_words(docker_py, busybox) -> None:
    import docker as docker_sdk

    c = docker_py.containers.run(busybox, ["sleep", "300"], detach=True)
    with pytest.raises(docker_sdk.errors.APIError) as e:
        c.remove()
    assert e.value.status_code == 409
    assert e.value.explanation == (
        f"You cannot remove a running container {c.id}. Stop the container before attempting removal or "
        "force remove"
    )
    c.pause()
    with pytest.raises(docker_sdk.errors.APIError) as e:
        c.remove()
    assert e.value.explanation.startswith(
        f"You cannot remove a paused container {c.id}. Unpause and then stop"
    )
    c.remove(force=True)


def test_a_health_check_is_starting_when_the_start_returns(docker_py, busybox) -> None:
    api = docker_py.api
    second = 1_000_000_000
    cid = api.create_container(
        busybox, ["sleep", "300"], healthcheck={"test": ["CMD", "true"], "interval": 60 * second}
    )["Id"]
    assert "Health" not in api.inspect_container(cid)["State"]
    api.start(cid)
    health = api.inspect_container(cid)["State"]["Health"]
    assert health == {"Status": "starting", "FailingStreak": 0, "Log": []}
    none = api.create_container(busybox, ["sleep", "300"], healthcheck={"test": ["NONE"]})["Id"]
    api.start(none)
    assert "Health" not in api.inspect_container(none)["State"]
    api.remove_container(cid, force=True)
    api.remove_container(none, force=True)


@pytest.fixture
def internal_bridge(engine_, root):  # type: ignore[no-untyped-def]
    """The root's default ``bridge`` network made internal (no route off the machine), as
    bench/dockerpy_suite.py makes it: legacy links exist on that network only."""
    import json

    engine_.networks.list()  # writes the bridge network's record
    path = os.path.join(root, "networks", "bridge", "network.json")
    with open(path) as f:
        record = json.load(f)
    record["internal"] = True
    with open(path, "w") as f:
        json.dump(record, f)
    assert engine_.networks.get("bridge").internal


def test_legacy_links_give_variables_hosts_and_go_on_their_own(
    docker_py, busybox, cli, internal_bridge
) -> None:
    import docker as docker_sdk

    api = docker_py.api
    cli("network", "create", "--internal", "linknet")
    db = api.create_container(
        busybox, ["sleep", "300"], name="db", environment={"FOO": "1"}, ports=[5432],
        host_config=api.create_host_config(network_mode="bridge"),
    )["Id"]  # fmt: skip
    api.start(db)
    web = api.create_container(
        busybox, ["sh", "-c", "env; cat /etc/hosts"], name="web",
        host_config=api.create_host_config(links={"db": "my-db"}, network_mode="bridge"),
    )["Id"]  # fmt: skip
    assert api.inspect_container(web)["HostConfig"]["Links"] == ["/db:/web/my-db"]
    api.start(web)
    assert api.wait(web)["StatusCode"] == 0
    out = api.logs(web).decode()
    ip = api.inspect_container(db)["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
    for line in (
        "MY_DB_NAME=/web/my-db", "MY_DB_ENV_FOO=1", f"MY_DB_PORT=tcp://{ip}:5432",
        f"MY_DB_PORT_5432_TCP_ADDR={ip}", f"{ip}\tmy-db {db[:12]} db",
    ):  # fmt: skip
        assert line in out.splitlines(), (line, out)
    assert "MY_DB_ENV_PATH" not in out and "MY_DB_ENV_HOME" not in out
    # the linked container must run when the linking one starts
    api.stop(db, timeout=0)
    with pytest.raises(docker_sdk.errors.APIError) as e:
        api.start(web)
    assert "Cannot link to a non running container: /db AS /web/my-db" in e.value.explanation
    # rm --link: the link goes, both containers stay
    with pytest.raises(docker_sdk.errors.NotFound):
        api.remove_container("web/nope", link=True)
    with pytest.raises(docker_sdk.errors.APIError) as e:
        api.remove_container("web", link=True)
    assert e.value.status_code == 409 and "cannot remove the default link name" in e.value.explanation
    api.remove_container("web/my-db", link=True)
    assert api.inspect_container(web)["HostConfig"]["Links"] is None
    assert {c["Id"] for c in api.containers(all=True)} >= {db, web}
    # what is refused, in Docker's words or with the reason
    with pytest.raises(docker_sdk.errors.NotFound) as e:
        api.create_container(
            busybox, "true", host_config=api.create_host_config(links={"nosuch": "x"}, network_mode="bridge")
        )
    assert e.value.explanation == "could not get container for nosuch"
    # on a user network a link is a name the container's DNS server gives: kept with the endpoint
    other = api.create_container(
        busybox, "true", host_config=api.create_host_config(links={"db": "x"}, network_mode="linknet")
    )
    assert api.inspect_container(other)["NetworkSettings"]["Networks"]["linknet"]["Links"] == ["db:x"]
    api.remove_container(other)
    api.remove_container(web)
    api.remove_container(db)
    cli("network", "rm", "linknet")


def test_dockyards_own_link_and_rm_link(cli, busybox, internal_bridge) -> None:
    cli("run", "-d", "--name", "db", "--network", "bridge", "-e", "WHO=db", busybox, "sleep", "300")
    out = cli("run", "--name", "app", "--network", "bridge", "--link", "db", busybox, "sh", "-c",
              "echo $DB_ENV_WHO $DB_NAME; cat /etc/hosts").out  # fmt: skip
    db = cli("inspect", "-f", "{{.Id}} {{.NetworkSettings.Networks.bridge.IPAddress}}", "db").out.split()
    assert out.startswith("db /app/db\n") and f"{db[1]}\tdb {db[0][:12]}" in out.splitlines()
    assert cli("rm", "--link", "app/db").out == "app/db\n"
    assert "Links" not in cli("inspect", "-f", "{{json .HostConfig}}", "app").out.replace('"Links":null', "")
    r = cli.fails("run", "--network", "none", "--link", "db", busybox, "true", code=125)
    assert "links are only supported on the default bridge network" in r.err
    cli("rm", "-f", "app", "db")
