"""``run --network container:NAME``: the container joins NAME's network namespace (a server NAME runs on
127.0.0.1 answers it), takes NAME's hostname and /etc files, is refused the flags that would shape a network
of its own (Docker's words, status 125), and cannot start while NAME is not running."""

from __future__ import annotations

import json
import time


def wait_for(predicate, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)


def test_a_container_joins_another_ones_network_namespace(cli, busybox):
    donor = cli(
        "run", "-d", "--name", "donor", "--hostname", "holder", "--add-host", "peer:192.0.2.7", busybox,
        "sh", "-c", "echo inside > /tmp/index.html; exec httpd -f -p 127.0.0.1:8080 -h /tmp",
    ).out.strip()  # fmt: skip
    cli("run", "-d", "--name", "joiner", "--network", "container:donor", busybox, "sleep", "1000")
    wait_for(
        lambda: cli("exec", "joiner", "wget", "-qO-", "http://127.0.0.1:8080/", check=False).out == "inside\n"
    )
    ns = {n: cli("exec", n, "readlink", "/proc/self/ns/net").out for n in ("donor", "joiner")}
    assert ns["donor"] == ns["joiner"]
    assert cli("exec", "joiner", "hostname").out == "holder\n"
    assert "192.0.2.7\tpeer" in cli("exec", "joiner", "cat", "/etc/hosts").out  # the donor's file
    info = json.loads(cli("inspect", "joiner").out)[0]
    assert info["HostConfig"]["NetworkMode"] == f"container:{donor}"
    assert info["Config"]["Hostname"] == "holder"
    # a container of its own network does not see the donor's server
    r = cli("run", "--rm", busybox, "wget", "-T", "2", "-qO-", "http://127.0.0.1:8080/", check=False)
    assert r.code != 0 and "inside" not in r.out


def test_flags_that_shape_a_network_are_refused_and_the_donor_must_run(cli, busybox):
    cli("create", "--name", "donor", busybox, "sleep", "1000")
    for flags, words in (
        (["--hostname", "x"], "conflicting options: hostname and the network mode"),
        (["--dns", "192.0.2.1"], "conflicting options: dns and the network mode"),
        (
            ["--add-host", "a:192.0.2.1"],
            "conflicting options: custom host-to-IP mapping and the network mode",
        ),
        (["-p", "8080:80"], "conflicting options: port publishing and the container type network mode"),
        (["--expose", "80"], "conflicting options: port exposing and the container type network mode"),
        (["--link", "donor"], "conflicting options: container type network can't be used with links"),
        (["--mac-address", "02:42:ac:11:00:02"], "conflicting options: mac-address and the network mode"),
    ):
        r = cli.fails("create", "--network", "container:donor", *flags, busybox, "true", code=125)
        assert words in r.err, flags
    r = cli.fails("create", "--network", "container:nothere", busybox, "true", code=125)
    assert "No such container: nothere" in r.err
    r = cli.fails("create", "--network", "container:", busybox, "true", code=125)
    assert "invalid container format container:<name|id>" in r.err
    assert set(cli("ps", "-a", "--format", "{{.Names}}").out.split()) == {"donor"}
    # the donor is not running: the joiner cannot start; once it runs, it can
    cli("create", "--name", "joiner", "--network", "container:donor", busybox, "sleep", "1000")
    donor = cli("inspect", "-f", "{{.Id}}", "donor").out.strip()
    r = cli.fails("start", "joiner")
    assert f"cannot join network of a non running container: {donor}" in r.err
    cli("start", "donor")
    cli("start", "joiner")
    assert cli("exec", "joiner", "ls", "/sys/class/net").out.split() == ["lo"]
