"""--filter on ps, images, volume ls, network ls and the prunes; ps -s, images --digests; the --format of
version, info, history and inspect: Docker's rules, through the real CLI (values from Docker's reference)."""

from __future__ import annotations

import json


def _names(out: str) -> list[str]:
    return out.split()


def test_ps_filters(cli, busybox):
    web = cli(
        "run", "-d", "--name", "web", "-l", "app=web", "-l", "tier=front", busybox, "sleep", "60"
    ).out.strip()
    cli("create", "--name", "db", "-l", "tier=db", "-v", "data:/data", busybox, "true")
    cli("run", "--name", "done", busybox, "sh", "-c", "exit 3", check=False)
    cli("commit", "web", "child:1")
    cli("create", "--name", "kid", "child:1", "true")

    def ps(*args: str) -> list[str]:
        return _names(cli("ps", *args, "--format", "{{.Names}}").out)

    assert cli("ps", "-q", "--no-trunc").out.split() == [web]  # running only
    assert ps("--filter", "status=created") == ["kid", "db"]  # a status filter lists every state
    assert ps("-a", "--filter", "status=exited") == ["done"]
    assert ps("-a", "-f", "status=exited", "-f", "status=running") == ["done", "web"]  # one key: either value
    assert ps("-a", "--filter", "exited=3") == ["done"]
    assert ps("-a", "--filter", "exited=0") == []
    assert ps("-a", "--filter", "label=tier") == ["kid", "db", "web"]  # kid has its image's labels (web's)
    assert ps("-a", "--filter", "label=tier=db") == ["db"]
    assert ps("-a", "--filter", "label=tier", "--filter", "label=app=web") == ["kid", "web"]  # all of them
    assert ps("-a", "--filter", "name=^d") == ["done", "db"]  # a regular expression, as Docker's
    assert ps("-a", "--filter", "name=^/kid$") == ["kid"]  # Docker's names start with /
    assert ps("-a", "--filter", "name=we", "--filter", "status=running") == ["web"]  # two keys: both
    assert ps("-a", "--filter", f"id={web[:6]}") == ["web"]
    assert ps("-a", "--filter", "volume=data") == ["db"]
    assert ps("-a", "--filter", "volume=/data") == ["db"]  # or the mount's destination
    assert ps("-a", "--filter", "ancestor=busybox") == ["kid", "done", "db", "web"]  # child:1 is built on it
    assert ps("-a", "--filter", "ancestor=child:1") == ["kid"]
    assert ps("-a", "--filter", "ancestor=nosuchimage") == []
    assert ps("-a", "--filter", "before=done") == ["db", "web"]
    assert ps("-a", "--filter", "since=db") == ["kid", "done"]
    assert ps("-a", "--filter", "health=none") == ["kid", "done", "db", "web"]
    assert ps("-a", "--filter", "health=healthy") == []
    assert ps("-a", "--filter", "publish=80") == []
    assert cli("ps", "--filter", "label=app", "--format", '{{.Names}} {{.Label "app"}}').out.startswith("web")

    cli("exec", "web", "sh", "-c", "head -c 200000 /dev/zero > /big")
    table = cli("ps", "-s").out.splitlines()
    assert table[0].split()[-1] == "SIZE" and "NAMES" in table[0]
    assert "200kB (virtual " in table[1]
    assert "200kB (virtual" in cli("container", "ls", "--format", "{{.Names}} {{.Size}}").out

    rows = [json.loads(line) for line in cli("ps", "-a", "--format", "json").out.splitlines()]
    assert [r["Names"] for r in rows] == ["kid", "done", "db", "web"] and "Label" not in rows[0]

    cli("network", "create", "--internal", "inner")
    cli("create", "--name", "onnet", "--network", "inner", busybox, "true")
    inner = cli("network", "inspect", "-f", "{{.Id}}", "inner").out.strip()
    assert ps("-a", "--filter", "network=inner") == ["onnet"]
    assert ps("-a", "--filter", f"network={inner[:12]}") == ["onnet"]

    r = cli.fails("ps", "--filter", "foo=bar", code=1)
    assert r.err == "Error: invalid filter 'foo'\n"
    assert (
        cli.fails("ps", "--filter", "status=sleeping", code=1).err
        == "Error: invalid filter 'status=sleeping'\n"
    )
    assert "bad format of filter" in cli.fails("ps", "--filter", "status", code=1).err
    assert "Unrecognised filter value for health: ok" in cli.fails("ps", "-f", "health=ok").err


def test_image_filters_digests_and_prune(cli, busybox, busybox_tar):
    cli("tag", busybox, "busybox:v2")
    cli("import", "--change", "LABEL a=b", busybox_tar, "lab:1")
    cli("create", "--name", "ctr", busybox, "true")
    dangling = cli("commit", "ctr").out.strip()

    def images(*args: str) -> list[str]:
        return _names(cli("images", *args, "--format", "{{.Repository}}:{{.Tag}}").out)

    assert sorted(images("--filter", "reference=busy*:*")) == ["busybox:latest", "busybox:v2"]
    assert sorted(images("--filter", "reference=busybox")) == ["busybox:latest", "busybox:v2"]  # any tag
    assert images("--filter", "reference=*:v2") == ["busybox:v2"]
    assert images("--filter", "reference=lab") == ["lab:1"]
    assert images("--filter", "label=a=b") == ["lab:1"]
    assert images("--filter", "label=a=c") == []
    assert images("--filter", "dangling=true") == ["<none>:<none>"]
    assert cli("images", "-q", "--filter", "dangling=true").out.split() == [dangling[7:19]]
    assert "<none>:<none>" not in images("--filter", "dangling=false")
    assert sorted(images("--filter", "since=busybox")) == ["<none>:<none>", "lab:1"]
    assert sorted(images("--filter", "before=lab:1")) == ["busybox:latest", "busybox:v2"]
    header = cli("images", "--digests").out.splitlines()[0].split()
    assert header[:4] == ["REPOSITORY", "TAG", "DIGEST", "IMAGE"]
    assert cli("images", "--format", '{{.Repository}} {{.Label "a"}}', "lab").out.strip().startswith("lab")
    assert (
        cli.fails("images", "--filter", "dangling=maybe", code=1).err
        == "Error: invalid filter 'dangling=[maybe]'\n"
    )
    assert cli.fails("images", "--filter", "color=red", code=1).err == "Error: invalid filter 'color'\n"

    # image prune -a takes the label filter: only lab:1 goes (the others are in use or kept)
    out = cli("image", "prune", "-a", "-f", "--filter", "label=a=b").out
    assert "lab" not in " ".join(images()) and "Deleted Images:" in out
    assert cli("image", "prune", "-a", "-f", "--filter", "until=1h").out.startswith(
        "Total reclaimed space: 0B"
    )
    assert (
        cli.fails("image", "prune", "-f", "--filter", "name=x", code=1).err
        == "Error: invalid filter 'name'\n"
    )


def test_volume_network_and_container_prune_filters(cli, busybox):
    cli("volume", "create", "-l", "a=b", "v1")
    cli("volume", "create", "v2")
    cli("volume", "create", "v3")
    cli("create", "--name", "user", "-l", "keep=yes", "-v", "v2:/x", busybox, "true")
    cli("create", "--name", "other", busybox, "true")

    def vols(*args: str) -> list[str]:
        return cli("volume", "ls", "-q", *args).out.split()

    assert vols("--filter", "dangling=true") == ["v1", "v3"]
    assert vols("--filter", "dangling=false") == ["v2"]
    assert vols("--filter", "label=a") == ["v1"]
    assert vols("--filter", "name=^v[12]$") == ["v1", "v2"]
    assert vols("--filter", "driver=local") == ["v1", "v2", "v3"]
    assert cli("volume", "ls", "--format", '{{.Name}}={{.Label "a"}}', "-f", "label=a").out.startswith("v1")
    assert (
        cli("volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Labels}}", "v1").out
        == "v1 local map[a:b]\n"  # a map prints as Go prints it, as Docker's does
    )
    assert (
        cli.fails("volume", "prune", "-f", "--filter", "until=1h", code=1).err
        == "Error: invalid filter 'until'\n"
    )
    assert "v1" in cli("volume", "prune", "-f", "--filter", "label=a").out
    assert vols() == ["v2", "v3"]
    cli("volume", "prune", "-f", "--filter", "label!=a")
    assert vols() == ["v2"]  # in use

    cli("network", "create", "--internal", "-l", "team=x", "n1")
    cli("network", "create", "--internal", "n2")

    def nets(*args: str) -> list[str]:
        return cli("network", "ls", "--format", "{{.Name}}", *args).out.split()

    assert nets("--filter", "type=custom") == ["n1", "n2"]
    assert nets("--filter", "type=builtin") == ["bridge", "host", "none"]
    assert nets("--filter", "label=team=x") == ["n1"]
    assert nets("--filter", "name=^n") == ["none", "n1", "n2"]
    assert nets("--filter", "driver=null") == ["none"]
    assert nets("--filter", "dangling=true") == ["n1", "n2"]
    n1 = cli("network", "inspect", "-f", "{{.Id}}", "n1").out.strip()
    assert nets("--filter", f"id={n1[:10]}") == ["n1"]
    assert cli("network", "ls", "--format", "{{.Name}} {{.Labels}}", "-f", "label=team").out == "n1 team=x\n"
    assert (
        cli.fails("network", "ls", "-f", "type=other", code=1).err
        == "Error: invalid filter: 'type'='other'\n"
    )
    assert cli("network", "prune", "-f", "--filter", "until=1h").out == ""  # both are newer: spared
    assert cli("network", "prune", "-f", "--filter", "label=team").out.split() == [
        "Deleted",
        "Networks:",
        "n1",
    ]

    out = cli("container", "prune", "-f", "--filter", "label!=keep").out
    assert cli("ps", "-a", "--format", "{{.Names}}").out.split() == ["user"] and "Deleted Containers:" in out
    assert (
        cli("container", "prune", "-f", "--filter", "until=2000-01-01").out == "Total reclaimed space: 0B\n"
    )
    assert cli("ps", "-aq").out.strip()  # user is older than nothing: kept
    assert (
        "invalid filter 'status'" in cli.fails("container", "prune", "-f", "--filter", "status=x", code=1).err
    )
    assert "not supported with" in cli.fails("system", "prune", "-f", "--volumes", "--filter", "until=1h").err
    out = cli("system", "prune", "-f", "--filter", "label=keep=yes").out
    assert cli("ps", "-aq").out == "" and "Deleted Containers:" in out


def test_version_info_history_formats(cli, busybox):
    version = cli("version").out.split()[-1]
    assert cli("version", "--format", "{{.Client.Version}}").out == version + "\n"
    doc = json.loads(cli("version", "--format", "{{json .}}").out)
    assert doc["Server"]["Version"] == version and doc["Client"]["Os"] == "linux"
    assert json.loads(cli("version", "--format", "json").out)["Server"]["Components"][0]["Name"] == "Engine"

    cli("run", "-d", "--name", "up", busybox, "sleep", "60")
    cli("create", "--name", "made", busybox, "true")
    assert (
        cli("info", "--format", "{{.Containers}} {{.ContainersRunning}} {{.ContainersStopped}}").out
        == "2 1 1\n"
    )
    info = json.loads(cli("info", "--format", "{{json .}}").out)
    for key in ("Images", "Driver", "MemTotal", "NCPU", "KernelVersion", "OperatingSystem", "ServerVersion",
                "DockerRootDir", "CgroupVersion", "ContainersPaused"):  # fmt: skip
        assert key in info
    assert info["Images"] == 1 and info["DockerRootDir"] == cli.root and info["NCPU"] >= 1

    cli("commit", "-m", "a note", "up", "noted:1")
    lines = cli(
        "history", "--format", "{{.ID}}|{{.CreatedBy}}|{{.Comment}}|{{.Size}}", "noted:1"
    ).out.splitlines()
    assert len(lines) == 2 and lines[0].endswith("|a note|0B") and len(lines[0].split("|")[0]) == 12
    full = cli("history", "-q", "--no-trunc", "noted:1").out.split()
    assert full[0].startswith("sha256:") and len(full[0]) == 71
    assert cli("history", "--format", "{{.CreatedSince}}", "noted:1").out.splitlines()[0].endswith("ago")
