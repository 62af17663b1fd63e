"""The CLI over a service: ``dockyard -H unix:///SOCKET COMMAND`` against ``dockyard system service`` serving
the test's root on a socket in its temporary directory. Each command's output and status over the service
are compared with the same command run on the root directly (``cli``), and its effect is checked on the
root; ``-it`` runs through a terminal of its own (a pty)."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.app.service.conftest import Service, _answers, start_service, stop_service
from tests.conftest import CLI, DOCKYARD, REPO, Result, _cleanup_root

pytestmark = [pytest.mark.slow]

LOOP = "trap 'exit 0' TERM; echo up; echo warm >&2; while true; do sleep 0.1; done"


@pytest.fixture
def service(root: str, tmp_path) -> Iterator[Service]:
    sock = str(tmp_path / "dockyard.sock")
    proc = start_service(root, sock)
    deadline = time.monotonic() + 20
    while not _answers(sock):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_service(proc)
            pytest.fail("the service did not start")
        time.sleep(0.05)
    yield Service(sock, root, proc)
    stop_service(proc)


class RemoteCLI(CLI):
    """``dockyard -H unix://SOCKET ...``: the same command, through the service."""

    def __init__(self, root: str, url: str) -> None:
        super().__init__(root)
        self.url = url

    def __call__(
        self, *args: str, input: bytes | None = None, timeout: float = 60, check: bool = True
    ) -> Result:
        return super().__call__("-H", self.url, *args, input=input, timeout=timeout, check=check)


@pytest.fixture
def rcli(root: str, service: Service) -> RemoteCLI:
    return RemoteCLI(root, service.url)


_SPAN = re.compile(r"Less than a second|About an? (?:minute|hour)|\d+ (?:second|minute|hour)s?")


def _same(cli: CLI, rcli: RemoteCLI, *args: str) -> Result:
    """The command gives the same output, errors and status over the service as on the root (a span of time
    such as ``Up 2 seconds`` may have moved on between the two: ``_steady``)."""
    local = cli(*args, check=False)
    remote = rcli(*args, check=False)
    got = (remote.code, _steady(remote.out), remote.err)
    assert got == (local.code, _steady(local.out), local.err), args
    return remote


def _steady(text: str) -> str:
    """Spans of time as T, and a table's columns apart by two spaces (a span's width sets them)."""
    return re.sub(r" {2,}", "  ", _SPAN.sub("T", text))


def _session(root: str, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    """The CLI on a terminal of its own (stdin, stdout and stderr), 30 rows by 100 columns."""
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    p = subprocess.Popen(
        [DOCKYARD, *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "DOCKYARD_ROOT": root},
        start_new_session=True,
    )
    os.close(slave)
    return p, master


def _read_until(master: int, text: bytes, timeout: float = 15) -> bytes:
    got = b""
    deadline = time.monotonic() + timeout
    while text not in got:
        left = deadline - time.monotonic()
        assert left > 0, got
        if select.select([master], [], [], left)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
    return got


# -- reading: the same output as the local CLI -----------------------------------------------------------------
def test_lists_inspect_logs_and_reports_match_the_local_cli(cli, rcli, busybox):
    cli("run", "-d", "--name", "web", "-l", "tier=front", "busybox", "sh", "-c", LOOP)
    cli(
        "run",
        "--name",
        "done",
        "busybox",
        "sh",
        "-c",
        "echo one; echo two >&2; echo three; exit 3",
        check=False,
    )
    cli("create", "--name", "fresh", "busybox", "true")
    cli("run", "-d", "--name", "still", "busybox", "sleep", "1000")  # processes that stay the same, for top
    cli("volume", "create", "data")
    cli("network", "create", "--internal", "inner")
    cli("tag", busybox, "mine:1")
    time.sleep(0.3)
    for argv in (
        ["ps"],
        ["ps", "-a"],
        ["ps", "-a", "-q"],
        ["ps", "-a", "--no-trunc", "--format", "{{.Names}} {{.Status}} {{.Command}} {{.Labels}}"],
        ["ps", "-a", "--filter", "status=exited", "--format", "{{.Names}}"],
        ["ps", "--filter", "label=tier=front", "-q"],
        ["ps", "-a", "--format", "json"],
        ["container", "ls", "-a", "-q"],
        ["images"],
        ["images", "-q"],
        ["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"],
        ["image", "ls", "mine"],
        ["inspect", "web"],
        ["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.Name}}", "web", "done", "fresh"],
        ["inspect", "--format", "{{json .Config.Labels}}", "web"],
        ["inspect", "-f", "{{.Id}}", busybox],
        ["container", "inspect", "-f", "{{.Config.Image}}", "done"],
        ["image", "inspect", "-f", "{{.Os}}", "mine:1"],
        ["history", "-q", busybox],
        ["logs", "done"],
        ["logs", "--tail", "1", "done"],
        ["logs", "-t", "done"],
        ["logs", "-t", "--tail", "2", "web"],
        ["top", "still"],
        ["top", "still", "-o", "pid,comm"],
        ["wait", "done"],
        ["port", "web"],
        ["network", "ls"],
        ["network", "ls", "-q", "--filter", "name=inner"],
        ["network", "inspect", "inner"],
        ["network", "inspect", "-f", "{{.Name}} {{.Internal}}", "inner"],
        ["volume", "ls"],
        ["volume", "inspect", "data"],
        ["volume", "inspect", "-f", "{{.Name}} {{.Driver}}", "data"],
        ["info"],
        ["info", "--format", "{{.Containers}} {{.ContainersRunning}} {{.Images}}"],
        ["version"],
        ["version", "--format", "{{.Server.Version}} {{.Server.ApiVersion}}"],
        ["stats", "--no-stream", "--format", "{{.Name}} {{.Container}}", "web"],
        # errors: Docker's words and statuses
        ["inspect", "nosuch"],
        ["logs", "nosuch"],
        ["stop", "nosuch"],
        ["top", "done"],
        ["network", "inspect", "nosuch"],
        ["volume", "inspect", "nosuch"],
        ["wait", "nosuch"],
    ):
        _same(cli, rcli, *argv)
    # stats: the service's figures for the same container (the numbers move between two reads)
    rows = [json.loads(line) for line in rcli("stats", "--no-stream", "--format", "json").out.splitlines()]
    assert sorted(r["Name"] for r in rows) == ["still", "web"]
    assert all(r["PIDs"] != "0" and r["MemUsage"] != "0B / 0B" for r in rows), rows


def test_logs_follow_over_the_service_until_the_container_ends(cli, rcli, busybox):
    cli("run", "-d", "--name", "talker", "busybox", "sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.3; done")
    r = rcli("logs", "-f", "talker", timeout=30)
    assert r.out == "1\n2\n3\n"
    assert cli("inspect", "-f", "{{.State.Status}}", "talker").out == "exited\n"


# -- changing: the effect on the root ------------------------------------------------------------------------
def _state(cli: CLI, name: str) -> str:
    return cli("inspect", "-f", "{{.State.Status}}", name).out.strip()


def test_lifecycle_commands_change_the_services_root(cli, rcli, busybox):
    cid = rcli("create", "--name", "box", "-e", "A=1", "busybox", "sh", "-c", LOOP).out.strip()
    assert len(cid) == 64 and _state(cli, "box") == "created"
    assert cli("inspect", "-f", "{{.Config.Env}}", "box").out.startswith("[A=1")
    assert rcli("start", "box").out == "box\n" and _state(cli, "box") == "running"
    assert rcli("pause", "box").out == "box\n" and _state(cli, "box") == "paused"
    assert rcli("unpause", "box").out == "box\n" and _state(cli, "box") == "running"
    started = cli("inspect", "-f", "{{.State.StartedAt}}", "box").out
    assert rcli("restart", "-t", "1", "box").out == "box\n" and _state(cli, "box") == "running"
    assert cli("inspect", "-f", "{{.State.StartedAt}}", "box").out != started
    assert rcli("rename", "box", "crate").out == ""
    assert cli("inspect", "-f", "{{.Name}}", cid).out == "/crate\n"
    assert rcli("stop", "-t", "1", "crate").out == "crate\n" and _state(cli, "crate") == "exited"
    assert rcli("wait", "crate").out == "0\n"
    rcli("start", "crate")
    assert rcli("kill", "-s", "KILL", "crate").out == "crate\n"
    assert rcli("wait", "crate").out == "137\n"
    # rm: a running one needs -f, as on the root
    rcli("start", "crate")
    r = rcli("rm", "crate", check=False)
    assert r.code == 1 and "You cannot remove a running container" in r.err
    assert rcli("rm", "-f", "crate").out == "crate\n"
    assert cli("ps", "-a", "-q").out == ""
    # update: the limits and the restart policy, on the record and the running container's cgroup
    cli("run", "-d", "--name", "lim", "busybox", "sh", "-c", LOOP)
    assert (
        rcli(
            "update",
            "--memory",
            "64m",
            "--memory-swap",
            "128m",
            "--pids-limit",
            "50",
            "--restart",
            "on-failure:2",
            "lim",
        ).out
        == "lim\n"
    )
    got = cli(
        "inspect",
        "-f",
        "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}",
        "lim",
    )
    assert got.out == f"{64 * 1024 * 1024} 50 on-failure\n"
    assert cli("stats", "--no-stream", "--format", "{{.MemUsage}}", "lim").out.endswith(
        " / 64MiB\n"
    )  # the cgroup's
    _same(cli, rcli, "update", "nosuch", "--memory", "64m")
    cli("rm", "-f", "lim")
    # two at once, one missing: the other is done and the status is 1
    cli("create", "--name", "aa", "busybox", "true")
    r = rcli("rm", "aa", "nosuch", check=False)
    assert (r.code, r.out) == (1, "aa\n") and "No such container: nosuch" in r.err


def test_run_over_the_service(cli, rcli, busybox):
    # foreground: the container's stdout and stderr apart, its exit status, -e, --rm removes it
    r = rcli("run", "--rm", "-e", "WHO=remote", "busybox", "sh", "-c", "echo hi $WHO; echo oops >&2; exit 7",
             check=False)  # fmt: skip
    assert (r.code, r.out, r.err) == (7, "hi remote\n", "oops\n")
    assert cli("ps", "-a", "-q").out == ""
    # the same as the local run for a command that is not there (127) and one that cannot run (126)
    _same(cli, rcli, "run", "--rm", "busybox", "nosuch")
    _same(cli, rcli, "run", "--rm", "busybox", "/etc")
    _same(cli, rcli, "run", "--rm", "nosuch:1", "true")
    assert cli("ps", "-a", "-q").out == ""
    # -d --name: running on the root, its ID printed
    cid = rcli("run", "-d", "--name", "bg", "busybox", "sh", "-c", LOOP).out.strip()
    assert cli("inspect", "-f", "{{.Id}} {{.State.Status}}", "bg").out == f"{cid} running\n"
    # -i: standard input reaches the container
    assert rcli("run", "--rm", "-i", "busybox", "cat", input=b"piped\n").out == "piped\n"
    # -v NAME:PATH: a named volume, kept on the root after --rm
    rcli("run", "--rm", "-v", "keep:/data", "busybox", "sh", "-c", "echo saved > /data/f")
    assert cli("run", "--rm", "-v", "keep:/data", "busybox", "cat", "/data/f").out == "saved\n"
    assert "keep" in cli("volume", "ls", "-q").out.split()
    # --network: an internal network made over the service; the container is on it
    rcli("network", "create", "--internal", "back")
    rcli("run", "-d", "--name", "svc", "--network", "back", "busybox", "sh", "-c", LOOP)
    nets = json.loads(cli("inspect", "-f", "{{json .NetworkSettings.Networks}}", "svc").out)
    assert list(nets) == ["back"] and nets["back"]["IPAddress"]
    r = rcli("exec", "svc", "ip", "-4", "-o", "addr", "show", "eth0")
    assert nets["back"]["IPAddress"] + "/" in r.out
    rcli("rm", "-f", "svc", "bg")
    assert rcli("network", "rm", "back").out == "back\n"
    assert "back" not in cli("network", "ls", "--format", "{{.Name}}").out.split()
    assert rcli("volume", "rm", "keep").out == "keep\n"
    assert "keep" not in cli("volume", "ls", "-q").out.split()


def test_exec_over_the_service(cli, rcli, busybox):
    cli("run", "-d", "--name", "host", "busybox", "sh", "-c", LOOP)
    r = rcli(
        "exec", "-e", "A=b", "-u", "1:2", "-w", "/tmp", "host", "sh", "-c", "echo $A $(pwd) $(id -u):$(id -g)"
    )
    assert r.out == "b /tmp 1:2\n"
    _same(cli, rcli, "exec", "host", "sh", "-c", "echo out; echo err >&2; exit 4")
    _same(cli, rcli, "exec", "host", "nosuch")
    _same(cli, rcli, "exec", "host", "/etc")
    _same(cli, rcli, "exec", "nosuch", "true")
    assert rcli("exec", "-i", "host", "sh", "-c", "cat > /tmp/in", input=b"typed").out == ""
    assert cli("exec", "host", "cat", "/tmp/in").out == "typed"
    # -d: the command runs on in the container, the CLI returns at once
    assert rcli("exec", "-d", "host", "sh", "-c", "sleep 0.3; echo late > /tmp/late").out == ""
    deadline = time.monotonic() + 10
    while cli("exec", "host", "cat", "/tmp/late", check=False).out != "late\n":
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_run_and_exec_with_a_terminal_over_the_service(cli, rcli, busybox, service):
    url = service.url
    # run -it: a shell on a terminal of the window's size; what is typed reaches it; its status is ours
    p, master = _session(cli.root, "-H", url, "run", "-it", "--rm", "--name", "tty", "busybox", "sh")
    try:
        _read_until(master, b"# ")
        os.write(master, b"stty size; tty; echo $((6*7))\r")
        got = _read_until(master, b"42\r\n")
        assert b"30 100" in got and b"/dev/pts/" in got
        os.write(master, b"exit 3\r")
        assert p.wait(timeout=15) == 3
    finally:
        os.close(master)
    assert cli("ps", "-a", "-q").out == ""
    # exec -it, then the detach keys leave its command running
    cli("run", "-d", "--name", "box", "busybox", "sh", "-c", LOOP)
    p, master = _session(
        cli.root, "-H", url, "exec", "-it", "box", "sh", "-c", "echo ready; read x; echo $x > /tmp/x; exit 5"
    )
    try:
        _read_until(master, b"ready")
        os.write(master, b"typed-in\r")
        assert p.wait(timeout=15) == 5
    finally:
        os.close(master)
    assert cli("exec", "box", "cat", "/tmp/x").out == "typed-in\n"
    loop = "echo started; i=0; while true; do i=$((i+1)); echo $i > /tmp/alive; sleep 0.1; done"
    p, master = _session(cli.root, "-H", url, "exec", "-it", "box", "sh", "-c", loop)
    try:
        _read_until(master, b"started")
        os.write(master, b"\x10\x11")
        _read_until(master, b"read escape sequence")
        assert p.wait(timeout=15) == 0
    finally:
        os.close(master)
    first = cli("exec", "box", "cat", "/tmp/alive").out
    deadline = time.monotonic() + 5
    while cli("exec", "box", "cat", "/tmp/alive").out == first:  # still running after the detach
        assert time.monotonic() < deadline, "the detached command stopped"
        time.sleep(0.2)
    # -it without a terminal: Docker's refusal
    r = rcli("run", "-it", "--rm", "busybox", "true", check=False)
    assert r.code == 125 and "the input device is not a TTY" in r.err


def test_images_tag_rmi_and_pull_over_the_service(cli, rcli, busybox, tmp_path, monkeypatch):
    assert rcli("tag", busybox, "copy:2").out == ""
    assert "copy:2" in cli("images", "--format", "{{.Repository}}:{{.Tag}}").out.split()
    assert rcli("rmi", "copy:2").out == "Untagged: copy:2\n"
    assert "copy:2" not in cli("images", "--format", "{{.Repository}}:{{.Tag}}").out.split()
    _same(cli, rcli, "rmi", "nosuch:1")
    import shutil

    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed")
    from tests.engine.registry.helpers import Registry

    monkeypatch.setenv("DOCKYARD_AUTH_FILE", str(tmp_path / "auth.json"))
    reg = Registry(str(tmp_path / "registry"))
    try:
        ref = f"{reg.host}/bb:1"
        cli("tag", busybox, ref)
        pushed = rcli("push", ref).out.splitlines()[-1]
        assert pushed == cli("push", ref).out.splitlines()[-1] and pushed.startswith("1: digest: sha256:")
        cli("rmi", ref)
        r = rcli("pull", ref)
        assert r.out.splitlines()[-1] == ref and "Status: Downloaded newer image for" in r.out
        assert ref in cli("inspect", "-f", "{{json .RepoTags}}", ref).out
        assert rcli("run", "--rm", ref, "echo", "pulled").out == "pulled\n"
    finally:
        reg.stop()


# -- what does not work over the service ----------------------------------------------------------------------
def test_what_cannot_work_over_the_service_is_refused_with_its_reason(cli, rcli, busybox, tmp_path):
    cli("run", "-d", "--name", "cc", "busybox", "sh", "-c", LOOP)
    before = cli("ps", "-a", "-q").out
    for argv, words in (
        (["system", "check"], "system check"),
        (["image", "bootstrap", "busybox"], "image bootstrap"),
        (["login", "-u", "me", "--password-stdin", "localhost:1"], "login"),
        (["compose", "ps"], "compose ps"),
    ):
        r = rcli(*argv, check=False)
        assert r.code == 125 and r.err.startswith(f"Error: dockyard {words} does not work with --host: "), (
            r.err
        )
        assert r.out == ""
    assert not (tmp_path / "h").exists() and cli("ps", "-a", "-q").out == before
    # --root and --host name two engines; a service that is not there: Docker's status 1
    r = cli("--root", cli.root, "-H", rcli.url, "ps", check=False)
    assert r.code == 125 and "choose one" in r.err
    r = cli("-H", f"unix://{tmp_path}/none.sock", "ps", check=False)
    assert r.code == 1 and "Cannot connect to the service at unix://" in r.err


def test_dockyard_host_in_the_environment_is_the_same_as_host(cli, rcli, busybox):
    cli("run", "-d", "--name", "envd", "busybox", "sh", "-c", LOOP)
    env = {**os.environ, "DOCKYARD_ROOT": cli.root, "DOCKYARD_HOST": rcli.url}
    p = subprocess.run([DOCKYARD, "ps", "--format", "{{.Names}}"], capture_output=True, env=env, timeout=30)
    assert (p.returncode, p.stdout) == (0, b"envd\n")
    p = subprocess.run([DOCKYARD, "system", "check"], capture_output=True, env=env, timeout=30)
    assert p.returncode == 125 and b"does not work with --host" in p.stderr


def test_the_local_path_does_not_load_the_remote_engine(root):
    code = (
        "import sys; from app.cli.main import main; main(['ps', '-a']); "
        "print(sorted(m for m in sys.modules if m.startswith(('engine.remote', 'engine.context', 'app.cli.remote'))))"
    )
    env = {**os.environ, "DOCKYARD_ROOT": root}
    env.pop("DOCKYARD_HOST", None)
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=60
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1] == "[]"


def test_start_attach_diff_df_and_prune_over_the_service(cli, rcli, busybox):
    cli("create", "--name", "once", "busybox", "sh", "-c", "echo from-start; echo to-err >&2; exit 6")
    r = rcli("start", "-a", "once", check=False)
    assert (r.code, r.out, r.err) == (6, "from-start\n", "to-err\n")
    cli("create", "-i", "--name", "reader", "busybox", "sh", "-c", "read x; echo got $x")
    assert rcli("start", "-a", "-i", "reader", input=b"line\n").out == "got line\n"
    cli("run", "-d", "--name", "late", "busybox", "sh", "-c", "sleep 1; echo late-out; exit 2")
    r = rcli("attach", "late", check=False)
    assert (r.code, r.out) == (2, "late-out\n")
    cli("run", "--name", "changer", "busybox", "sh", "-c", "echo x > /made; rm /etc/hostname || true")
    for argv in (["diff", "changer"], ["system", "df"], ["port", "changer"], ["history", busybox]):
        _same(cli, rcli, *argv)
    cli("volume", "create", "spare")
    cli("network", "create", "--internal", "spare-net")
    assert "spare" in rcli("volume", "prune", "-f", "-a").out
    assert "spare-net" in rcli("network", "prune", "-f").out
    r = rcli("container", "prune", "-f")
    assert r.out.startswith("Deleted Containers:\n") and cli("ps", "-a", "-q").out == ""


def test_run_it_detach_keys_leave_the_container_running(cli, rcli, busybox, service):
    p, master = _session(cli.root, "-H", service.url, "run", "-it", "--name", "kept", "busybox", "sh")
    try:
        _read_until(master, b"# ")
        os.write(master, b"\x10\x11")
        _read_until(master, b"read escape sequence")
        assert p.wait(timeout=15) == 0
    finally:
        os.close(master)
    assert cli("inspect", "-f", "{{.State.Status}}", "kept").out == "running\n"


def test_a_context_names_the_service_for_every_command(cli, busybox, service, tmp_path):
    from engine import ContextStore

    conf = tmp_path / "conf"
    store = ContextStore(str(conf))
    store.create("svc", service.url, description="the test's service")
    cli("run", "-d", "--name", "far", "busybox", "sh", "-c", LOOP)
    empty = tmp_path / "other-root"  # the local engine: it has nothing
    env = {**os.environ, "DOCKYARD_CONFIG": str(conf / "config.toml"), "DOCKYARD_ROOT": str(empty)}

    def run(*args: str, **more: str) -> subprocess.CompletedProcess[str]:
        e = {**env, **more}
        return subprocess.run([DOCKYARD, *args], capture_output=True, text=True, env=e, timeout=60)

    assert run("--context", "svc", "ps", "--format", "{{.Names}}").stdout == "far\n"
    assert run("-c", "svc", "exec", "far", "echo", "there").stdout == "there\n"
    assert run("ps", "--format", "{{.Names}}", DOCKYARD_CONTEXT="svc").stdout == "far\n"
    assert run("--context", "default", "ps", "-q").stdout == ""  # the local engine
    r = run("--context", "svc", "system", "check")
    assert r.returncode == 125 and "does not work with the context 'svc'" in r.stderr
    # a stored current context: every command's, unless a root is named
    store.use("svc")
    env.pop("DOCKYARD_ROOT")
    assert run("ps", "--format", "{{.Names}}").stdout == "far\n"
    assert run("--root", str(empty), "ps", "-q").stdout == ""
    r = run("--context", "nosuch", "ps")
    assert r.returncode != 0 and "nosuch" in r.stderr
    _cleanup_root(str(empty))  # the local engine's root, made by the local commands above


def test_cp_through_a_pipe_over_the_service(cli, rcli, busybox, tmp_path):
    cli("run", "-d", "--name", "files", "busybox", "sh", "-c", LOOP)
    import io
    import tarfile

    got = tarfile.open(fileobj=io.BytesIO(rcli("cp", "files:/etc/passwd", "-").out.encode()))
    assert got.getnames() == ["passwd"]
    member = got.extractfile("passwd")
    assert member is not None and member.read() == cli("exec", "files", "cat", "/etc/passwd").out.encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = b"sent over\n"
        info = tarfile.TarInfo("note.txt")
        info.size, info.uid = len(data), 1234
        t.addfile(info, io.BytesIO(data))
    assert rcli("cp", "-", "files:/tmp", input=buf.getvalue()).code == 0
    assert cli("exec", "files", "stat", "-c", "%u %s", "/tmp/note.txt").out == "0 10\n"  # owned by root
    assert cli("exec", "files", "cat", "/tmp/note.txt").out == "sent over\n"
    _same(cli, rcli, "cp", "files:/nosuch", "-")
    # a path on this machine: refused with the way that works
    r = rcli("cp", "files:/etc/passwd", str(tmp_path / "p"), check=False)
    assert r.code == 125 and "cp CONTAINER:SRC - | tar x" in r.err and not (tmp_path / "p").exists()


def test_export_save_load_import_commit_events_and_system_prune_over_the_service(
    cli, rcli, busybox, tmp_path
):
    import io
    import tarfile

    since = str(int(time.time()) - 1)
    cli("run", "--name", "made", "busybox", "sh", "-c", "echo kept > /kept")

    def names(data: bytes) -> list[str]:
        return sorted(tarfile.open(fileobj=io.BytesIO(data)).getnames())

    remote_tar = subprocess.run(
        [DOCKYARD, "-H", rcli.url, "export", "made"], capture_output=True, timeout=60, env={**os.environ}
    ).stdout
    local_tar = subprocess.run(
        [DOCKYARD, "export", "made"],
        capture_output=True,
        timeout=60,
        env={**os.environ, "DOCKYARD_ROOT": cli.root},
    ).stdout
    assert "kept" in names(remote_tar) and names(remote_tar) == names(local_tar)
    # save: the same archive; load: the same report
    rcli("save", "-o", str(tmp_path / "remote.tar"), busybox)
    cli("save", "-o", str(tmp_path / "local.tar"), busybox)
    assert (tmp_path / "remote.tar").read_bytes() == (tmp_path / "local.tar").read_bytes()
    assert rcli("load", "-q", "-i", str(tmp_path / "remote.tar")).out == "Loaded image: busybox:latest\n"
    # import: a new image on the service's root, from the exported tar
    image_id = rcli("import", "-", "flat:1", input=remote_tar).out.strip()
    assert (
        image_id.startswith("sha256:") and cli("inspect", "-f", "{{.Id}}", "flat:1").out.strip() == image_id
    )
    assert cli("run", "--rm", "flat:1", "/bin/cat", "/kept").out == "kept\n"
    # commit: the container's change in a new image; --change is refused (not sent yet)
    committed = rcli("commit", "made", "snap:1").out.strip()
    assert cli("inspect", "-f", "{{.Id}}", "snap:1").out.strip() == committed
    assert cli("run", "--rm", "snap:1", "cat", "/kept").out == "kept\n"
    r = rcli("commit", "-c", 'CMD ["true"]', "made", "snap:2", check=False)
    assert r.code == 125 and "not available with --host" in r.err
    # events: the same lines for the same span
    until = str(int(time.time()) + 1)
    time.sleep(1.2)
    _same(cli, rcli, "events", "--since", since, "--until", until, "--filter", "type=container")
    # system prune: the stopped container goes
    r = rcli("system", "prune", "-f")
    assert "Deleted Containers:" in r.out and cli("ps", "-a", "-q").out == ""


def test_build_over_the_service(cli, rcli, busybox, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "f.txt").write_text("from the context\n")
    (ctx / "Dockerfile").write_text("FROM busybox\nARG X=1\nRUN echo built-$X > /b\nCOPY . /ctx/\n")
    (ctx / "big").mkdir()
    (ctx / "big" / "blob").write_bytes(b"x" * 1000)
    (ctx / ".dockerignore").write_text("big\nDockerfile\n")  # not sent: big/; sent all the same: Dockerfile
    r = rcli("build", "--progress", "plain", "--build-arg", "X=2", "-t", "rb:1", "-t", "rb:2", str(ctx))
    assert "#3 [3/4] RUN echo built-$X > /b" in r.err and "naming to rb:2 done" in r.err
    assert cli("run", "--rm", "rb:2", "cat", "/b", "/ctx/f.txt").out == "built-2\nfrom the context\n"
    assert cli("run", "--rm", "rb:2", "ls", "-A", "/ctx").out == ".dockerignore\nf.txt\n"
    # -q: the image's ID alone, the same as the local build's (all of it from the cache)
    remote_id = rcli("build", "-q", "--build-arg", "X=2", str(ctx)).out
    assert remote_id == cli("build", "-q", "--build-arg", "X=2", str(ctx)).out
    assert remote_id.strip() == cli("inspect", "-f", "{{.Id}}", "rb:1").out.strip()
    # a Dockerfile outside the context is sent with it
    (tmp_path / "Other").write_text("FROM busybox\nRUN echo other > /o\n")
    rcli("build", "-f", str(tmp_path / "Other"), "-t", "other:1", str(ctx))
    assert cli("run", "--rm", "other:1", "cat", "/o").out == "other\n"
    # a failed step: the service's message and a failure
    (ctx / "Bad").write_text("FROM busybox\nRUN exit 3\n")
    r = rcli("build", "-f", str(ctx / "Bad"), str(ctx), check=False)
    assert r.code != 0 and "returned a non-zero code: 3" in r.err
    # what is not sent is refused, status 125
    r = rcli("build", "--watch", str(ctx), check=False)
    assert r.code == 125 and "not available with --host" in r.err
    r = rcli("build", "--secret", "id=s,src=" + str(ctx / "f.txt"), str(ctx), check=False)
    assert r.code == 125 and "--secret" in r.err


def test_create_over_the_service_makes_the_container_the_local_create_makes(cli, rcli, busybox):
    flags = [
        "--cpu-shares", "512", "--dns", "192.0.2.1", "--dns-search", "ex.test", "--hostname", "h1",
        "--domainname", "d.test", "--security-opt", "no-new-privileges", "--group-add", "10", "--shm-size", "32m",
        "--log-opt", "max-size=1m", "--expose", "80", "--expose", "90-91/udp", "--oom-score-adj", "100",
        "--memory", "64m", "--memory-reservation", "32m", "--memory-swap", "128m", "--cpuset-cpus", "0",
        "--pids-limit", "40", "--init", "--read-only", "--tmpfs", "/run", "--stop-signal", "USR1",
        "--stop-timeout", "3", "--health-cmd", "true", "--ulimit", "nofile=100:200", "--cap-add", "NET_ADMIN",
        "--cap-drop", "CHOWN", "-e", "A=1", "-l", "k=v", "-w", "/tmp", "-u", "1:1", "--restart", "on-failure:3",
    ]  # fmt: skip
    cli("create", "--name", "here", *flags, "busybox", "sleep", "1")
    rcli("create", "--name", "there", *flags, "busybox", "sleep", "1")
    for part in ("HostConfig", "Config"):
        here = json.loads(cli("inspect", "-f", f"{{{{json .{part}}}}}", "here").out)
        there = json.loads(cli("inspect", "-f", f"{{{{json .{part}}}}}", "there").out)
        assert there == here, part
    # an option the API does not carry yet is refused with its name, before anything is made
    r = rcli(
        "create", "--name", "never", "--device-read-bps", "/dev/null:1mb", "busybox", "true", check=False
    )
    assert r.code == 125 and "device_read_bps: not sent with --host yet" in r.err
    assert "never" not in cli("ps", "-a", "--format", "{{.Names}}").out.split()
