"""--format through the real CLI: Go templates over inspect documents and list rows, tables with the
command's column names, and Docker's message and status 125 for a template that fails."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def web(cli, busybox) -> str:
    """A running container on an internal network, with a label, an environment variable and a mount."""
    cli("network", "create", "--internal", "fmtnet")
    cli("run", "-d", "--name", "web", "--network", "fmtnet", "-l", "k=v", "-e", "FOO=bar", "-v", "/tmp:/mnt",
        busybox, "sleep", "60")  # fmt: skip
    return "web"


def test_inspect_walks_maps_lists_and_functions(cli, web) -> None:
    ip = cli("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", web).out.strip()
    doc = json.loads(cli("inspect", web).out)[0]
    assert ip == doc["NetworkSettings"]["Networks"]["fmtnet"]["IPAddress"]
    assert ip.count(".") == 3
    assert (
        cli("inspect", "-f", "{{json .Config.Env}}", web).out
        == json.dumps(doc["Config"]["Env"], separators=(",", ":")) + "\n"
    )
    assert cli("inspect", "-f", "{{.State.Running}} {{.Name}}", web).out == "true /web\n"
    assert cli("inspect", "-f", "{{len .Mounts}}", web).out == "1\n"
    assert (
        cli("inspect", "-f", '{{index .Config.Labels "k"}}|{{index .Config.Labels "x"}}|', web).out == "v||\n"
    )
    pid = doc["State"]["Pid"]
    assert cli("inspect", "-f", '{{printf "%s-%d" .Name .State.Pid}}', web).out == f"/web-{pid}\n"
    assert cli("inspect", "-f", "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}}{{end}}", web).out == "k=v\n"


def test_inspect_of_an_exited_container_and_several_objects(cli, busybox) -> None:
    cli("run", "--name", "done", busybox, "sh", "-c", "exit 3", check=False)
    fmt = '{{if eq .State.Status "exited"}}exited {{.State.ExitCode}}{{else}}running{{end}}'
    assert cli("inspect", "-f", fmt, "done").out == "exited 3\n"
    r = cli("inspect", "--type", "container", "-f", "{{.Name}}", "done", "done")
    assert r.out == "/done\n/done\n"


def test_ps_images_and_tables(cli, web, busybox) -> None:
    cli("create", "--name", "idle", busybox, "true")
    lines = sorted(cli("ps", "-a", "--format", "{{.Names}}\\t{{.Status}}").out.splitlines())
    assert lines[0].startswith("idle\tCreated") and lines[1].startswith("web\tUp ")
    table = cli("ps", "--format", "table {{.ID}}\\t{{.Names}}").out.splitlines()
    assert table[0] == "CONTAINER ID   NAMES"
    cid = cli("inspect", "-f", "{{.Id}}", web).out.strip()
    assert table[1] == f"{cid[:12]}   web"
    assert cli("ps", "--format", '{{.Names}} {{.Label "k"}}|{{.Label "none"}}|').out == "web v||\n"
    assert cli("images", "--format", "{{.Repository}}:{{.Tag}}").out == "busybox:latest\n"
    assert cli("images", "--format", "table {{.Repository}}\\t{{upper .Tag}}").out == (
        "REPOSITORY   TAG\nbusybox      LATEST\n"
    )
    row = json.loads(cli("ps", "--format", "{{json .}}").out)
    assert row["Names"] == "web" and "Label" not in row and list(row) == sorted(row)


def test_list_commands_take_templates(cli, busybox) -> None:
    cli("volume", "create", "v1")
    assert cli("volume", "ls", "--format", "{{.Name}}:{{.Driver}}").out == "v1:local\n"
    assert cli("volume", "inspect", "-f", "{{.Name}} {{.Driver}}", "v1").out == "v1 local\n"
    cli("network", "create", "--internal", "n2")
    assert cli("network", "inspect", "-f", "{{.Name}} {{.Internal}}", "n2").out == "n2 true\n"
    assert cli("image", "inspect", "-f", "{{index .RepoTags 0}}", busybox).out == "busybox:latest\n"
    assert cli("history", "--format", "{{len .ID}}", busybox).out.strip() != ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ps", "--format", "{{foo}}"], 'template parsing error: template: :1: function "foo" not defined'),
        (["ps", "-a", "--format", "{{.Names"], "template parsing error: template: :1: unclosed action"),
        (["images", "--format", "{{end}}"], "template parsing error: template: :1: unexpected {{end}}"),
        (
            ["inspect", "-f", "{{foo}}", "nothing"],
            'template parsing error: template: :1: function "foo" not defined',
        ),
        (
            ["ps", "-a", "--format", "{{index .Names 99}}"],
            'template parsing error: template: :1:2: executing "" at <index .Names 99>: '
            "error calling index: index out of range: 99",
        ),
        (
            ["inspect", "-f", "{{.Name 1}}", "one"],
            'template parsing error: template: :1:2: executing "" at <.Name>: Name is not a method but has arguments',
        ),
        (
            ["inspect", "-f", "{{call .Name}}", "one"],
            'template parsing error: template: :1:2: executing "" at <call .Name>: '
            "error calling call: non-function .Name of type string",
        ),
    ],
)
def test_a_failing_template_prints_dockers_message_and_nothing_else(cli, busybox, args, message) -> None:
    cli("create", "--name", "one", busybox, "true")
    r = cli.fails(*args, code=125)
    assert r.out == ""
    assert r.err == message + "\n"


def test_a_template_that_fails_on_a_later_row_prints_no_row(cli, busybox) -> None:
    cli("create", "--name", "a1", busybox, "true")
    cli("create", "--name", "a2", busybox, "true")
    r = cli.fails("ps", "-a", "--format", '{{if eq .Names "a1"}}{{nil}}{{end}}{{.Names}}', code=125)
    assert r.out == "" and "nil is not a command" in r.err


def test_plain_ps_loads_no_template_package(cli) -> None:
    import subprocess
    import sys

    code = (
        "import sys, io; from app.cli import output; output.emit(None, ['A'], ['A'], [{'A': 1}], io.StringIO()); "
        "print(any(m.startswith('app.cli.gotemplate') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
