"""``dockyard context``: Docker's contexts kept as Docker keeps them (``contexts/meta/<sha256>/meta.json`` in
the user's dockyard config directory, ``config.json``'s ``currentContext``), listed, chosen, inspected and
removed with Docker's words; ``--context``/``-c`` and ``$DOCKYARD_CONTEXT``; and ``dockyard system
dial-stdio``, which joins its stdin and stdout to the root's API service (what an ``ssh://`` context runs on
the far host: tests/app/tui/test_context_ssh.py goes through ssh)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import time

import pytest

from tests.conftest import DOCKYARD


@pytest.fixture
def home(tmp_path, monkeypatch) -> str:
    """The user's config directory for the test (the contexts live in ``home/dockyard``)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("DOCKYARD_CONFIG", raising=False)
    monkeypatch.delenv("DOCKYARD_CONTEXT", raising=False)
    monkeypatch.delenv("DOCKYARD_HOST", raising=False)
    return str(tmp_path / "config" / "dockyard")


def _meta(home: str, name: str) -> str:
    return os.path.join(home, "contexts", "meta", hashlib.sha256(name.encode()).hexdigest(), "meta.json")


def test_create_ls_use_show_rm_as_docker_keeps_them(cli, home, root):
    # only default at first: the local engine root, current
    r = cli("context", "ls")
    assert r.out.splitlines()[0].split() == ["NAME", "DESCRIPTION", "DOCKER", "ENDPOINT", "ERROR"]
    assert r.out.splitlines()[1].split()[:2] == ["default", "*"] and root in r.out
    assert cli("context", "show").out == "default\n"
    # create: NAME on stdout, Docker's sentence on stderr, meta.json where Docker puts it
    r = cli(
        "context", "create", "far", "--docker", "host=ssh://me@far.example:2222", "--description", "far away"
    )
    assert (r.out, r.err) == ("far\n", 'Successfully created context "far"\n')
    with open(_meta(home, "far")) as f:
        assert json.load(f) == {
            "Name": "far",
            "Metadata": {"Description": "far away"},
            "Endpoints": {"docker": {"Host": "ssh://me@far.example:2222", "SkipTLSVerify": False}},
        }
    cli("context", "create", "sock", "--docker", "host=unix:///run/other.sock")
    rows = [line.split() for line in cli("context", "ls").out.splitlines()[1:]]
    assert rows[0][:2] == ["default", "*"]
    assert rows[1] == ["far", "far", "away", "ssh://me@far.example:2222"]
    assert rows[2] == ["sock", "unix:///run/other.sock"]
    assert cli("context", "ls", "-q").out == "default\nfar\nsock\n"
    lines = [json.loads(x) for x in cli("context", "ls", "--format", "json").out.splitlines()]
    assert lines[1] == {
        "Current": False, "Description": "far away", "DockerEndpoint": "ssh://me@far.example:2222",
        "Error": "", "Name": "far",
    }  # fmt: skip
    assert (
        cli("context", "ls", "--format", "{{.Name}}:{{.Current}}").out
        == "default:true\nfar:false\nsock:false\n"
    )
    # use: stored in config.json's currentContext; ls marks it, show names it
    r = cli("context", "use", "far")
    assert (r.out, r.err) == ("far\n", 'Current context is now "far"\n')
    with open(os.path.join(home, "config.json")) as f:
        assert json.load(f)["currentContext"] == "far"
    assert cli("context", "show").out == "far\n"
    assert [line.split()[:2] for line in cli("context", "ls").out.splitlines()[1:3]] == [
        ["default", "Local"], ["far", "*"]
    ]  # fmt: skip
    # rm: not the one in use, unless -f (then default is current again)
    r = cli.fails("context", "rm", "far")
    assert r.err == 'Error: context "far" is in use, set -f flag to force remove\n'
    assert os.path.exists(_meta(home, "far"))
    r = cli("context", "rm", "-f", "far", "sock")
    assert r.out == "far\nsock\n"
    assert not os.path.exists(os.path.dirname(_meta(home, "far")))
    assert cli("context", "show").out == "default\n" and cli("context", "ls", "-q").out == "default\n"
    r = cli("context", "use", "default")
    with open(os.path.join(home, "config.json")) as f:
        assert "currentContext" not in json.load(f)


def test_inspect_is_dockers_document_and_tls_files_are_copied_into_the_store(cli, home, tmp_path):
    ca, cert, key = (tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem")
    for f in (ca, cert, key):
        f.write_text(f"-----BEGIN {f.name}-----\n")
    cli(
        "context", "create", "tls", "--docker",
        f"host=tcp://10.0.0.9:2376,ca={ca},cert={cert},key={key},skip-tls-verify=false",
    )  # fmt: skip
    ident = hashlib.sha256(b"tls").hexdigest()
    [doc] = json.loads(cli("context", "inspect", "tls").out)
    assert doc == {
        "Name": "tls",
        "Metadata": {},
        "Endpoints": {"docker": {"Host": "tcp://10.0.0.9:2376", "SkipTLSVerify": False}},
        "TLSMaterial": {"docker": ["ca.pem", "cert.pem", "key.pem"]},
        "Storage": {
            "MetadataPath": os.path.join(home, "contexts", "meta", ident),
            "TLSPath": os.path.join(home, "contexts", "tls", ident),
        },
    }
    stored = os.path.join(home, "contexts", "tls", ident, "docker", "key.pem")
    with open(stored) as f:
        assert f.read() == "-----BEGIN key.pem-----\n"  # a copy: the original may go
    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600
    # default: in memory, its endpoint the engine root; no name means the current context
    [default] = json.loads(cli("context", "inspect").out)
    assert default["Name"] == "default" and default["Storage"]["MetadataPath"] == "<IN MEMORY>"
    assert default["Endpoints"]["docker"]["Host"] == cli.root
    assert cli("context", "inspect", "-f", "{{.Endpoints.docker.Host}}", "tls").out == "tcp://10.0.0.9:2376\n"
    # update: a new endpoint replaces the TLS files
    cli("context", "update", "tls", "--docker", "host=ssh://me@10.0.0.9", "--description", "now ssh")
    [doc] = json.loads(cli("context", "inspect", "tls").out)
    assert doc["Endpoints"]["docker"]["Host"] == "ssh://me@10.0.0.9" and doc["TLSMaterial"] == {}
    assert doc["Metadata"] == {"Description": "now ssh"}
    assert not os.path.exists(stored)


def test_bad_input_is_refused_before_anything_is_written(cli, home):
    cases = [
        (["default", "--docker", "host=unix:///x"], '"default" is a reserved context name'),
        (["_bad", "--docker", "host=unix:///x"], "is invalid, names are validated against regexp"),
        (["x/y", "--docker", "host=unix:///x"], "is invalid"),
        (["a1", "--docker", "host=ftp://x"], "unsupported scheme 'ftp'"),
        (["a1", "--docker", "host=unix://relative"], "must be absolute"),
        (["a1", "--docker", "host=ssh://-oProxyCommand=sh"], "invalid ssh host"),
        (["a1", "--docker", "host=ssh://me@host/path"], "no path"),
        (["a1", "--docker", "host=tcp://h:2376"], "a tcp:// context needs TLS"),
        (["a1", "--docker", "host=unix:///x,cert=/etc/hostname"], "apply to a tcp:// host only"),
        (["a1", "--docker", "hots=unix:///x"], "unrecognized config key: 'hots'"),
        (["a1", "--docker", "host=unix:///x,skip-tls-verify=maybe"], "invalid skip-tls-verify"),
        (["a1"], "the default context is this machine's engine root"),
    ]
    for args, message in cases:
        r = cli.fails("context", "create", *args)
        assert message in r.err, (args, r.err)
    assert not os.path.exists(os.path.join(home, "contexts", "meta")) or not os.listdir(
        os.path.join(home, "contexts", "meta")
    )
    cli("context", "create", "a1", "--docker", "host=unix:///x")
    assert cli.fails("context", "create", "a1", "--docker", "host=unix:///y").err == (
        'Error: context "a1" already exists\n'
    )
    r = cli("context", "create", "b1", "--from", "a1")  # a copy of a1's endpoint
    assert json.loads(cli("context", "inspect", "b1").out)[0]["Endpoints"]["docker"]["Host"] == "unix:///x"
    assert cli.fails("context", "use", "nope").err == 'Error: context "nope" does not exist\n'
    r = cli.fails("context", "rm", "nope", "a1")
    assert r.out == "a1\n" and r.err == 'Error: context "nope" does not exist\n'  # each name, as Docker
    assert cli.fails("context", "rm", "default").err == 'Error: context "default" cannot be removed\n'
    r = cli.fails("context", "export", "b1", code=125)
    assert "'context export' is not supported" in r.err
    r = cli.fails("--host", "unix:///x", "--context", "b1", "context", "ls", code=125)
    assert "cannot specify both --host and --context" in r.err


def test_context_flag_and_variable_choose_the_context_for_one_run(cli, home, monkeypatch):
    cli("context", "create", "one", "--docker", "host=unix:///run/one.sock")
    cli("context", "create", "two", "--docker", "host=unix:///run/two.sock")
    cli("context", "use", "one")
    monkeypatch.setenv("DOCKYARD_CONTEXT", "two")  # the variable over context use
    assert cli("context", "show").out == "two\n"
    r = cli("context", "use", "one")
    assert "DOCKYARD_CONTEXT is set (two)" in r.err
    assert cli("--context", "one", "context", "show").out == "one\n"  # the flag over the variable
    assert cli(
        "-c", "default", "context", "ls", "--format", "{{if .Current}}{{.Name}}{{end}}"
    ).out.strip() == ("default")
    monkeypatch.delenv("DOCKYARD_CONTEXT")
    assert cli("context", "show").out == "one\n"  # what context use stored


def test_dial_stdio_joins_stdin_and_stdout_to_the_roots_service(cli, busybox, root):
    cid = cli("create", "--name", "seen", "busybox", "true").out.strip()
    env = {**os.environ, "DOCKYARD_ROOT": root}
    request = b"GET /containers/json?all=1 HTTP/1.1\r\nHost: docker\r\n\r\n"
    p = subprocess.Popen(
        [DOCKYARD, "system", "dial-stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )
    assert p.stdin is not None and p.stdout is not None
    p.stdin.write(request)
    p.stdin.flush()
    head = b""
    while b"\r\n\r\n" not in head:
        head += p.stdout.read1(65536)
    headers, _, body = head.partition(b"\r\n\r\n")
    assert headers.startswith(b"HTTP/1.1 200")
    length = int(
        next(h for h in headers.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1]
    )
    while len(body) < length:
        body += p.stdout.read1(65536)
    [c] = json.loads(body)
    assert c["Id"] == cid and c["Names"] == ["/seen"]
    # a second request on the same connection (keep-alive), then the client goes away: the process ends
    p.stdin.write(b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
    p.stdin.flush()
    assert p.stdout.read1(65536).startswith(b"HTTP/1.1 200")
    p.stdin.close()
    p.stdout.close()
    assert p.wait(10) == 0
    # the service it started for the root ends by itself once idle
    deadline = time.monotonic() + 30
    while _service_of(root) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _service_of(root) == []


def _service_of(root: str) -> list[int]:
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if b"service" in cmd and b"--socket" in cmd and f"DOCKYARD_ROOT={root}".encode() in env:
            out.append(int(pid))
    return out


def test_ssh_hosts_become_the_system_ssh_command_and_a_missing_context_stops_the_app(
    home, monkeypatch, capsys
):
    from app.tui.run import run_app
    from engine.remote.client import ssh_command

    tail = ["dockyard", "system", "dial-stdio"]
    base = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=30", "-T"]
    assert ssh_command("ssh://build-box") == [*base, "--", "build-box", *tail]
    assert ssh_command("ssh://me@10.0.0.9:2222") == [*base, "-l", "me", "-p", "2222", "--", "10.0.0.9", *tail]
    assert ssh_command("ssh://me@[fd00::9]:2222") == [*base, "-l", "me", "-p", "2222", "--", "fd00::9", *tail]
    monkeypatch.setenv("DOCKYARD_SSH_CONFIG", "/etc/dockyard-ssh.conf")
    assert ssh_command("ssh://h")[len(base) : len(base) + 2] == ["-F", "/etc/dockyard-ssh.conf"]
    # the app on a context that does not exist: a clear line, status 125, before anything opens
    monkeypatch.setenv("DOCKYARD_CONTEXT", "gone")
    assert run_app() == 125
    assert (
        capsys.readouterr().err
        == 'dockyard: context "gone" does not exist (dockyard context ls lists them)\n'
    )
    assert run_app(root="/tmp/somewhere", context="gone") == 125
    assert "--root and --context name two engines" in capsys.readouterr().err
