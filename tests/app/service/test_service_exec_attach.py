"""exec and attach through the Engine API service, driven by Docker's own client and by docker-py: the
upgraded connection both ways, with and without a terminal, detach keys, exit codes, and nothing left
behind by a client that goes away."""

from __future__ import annotations

import fcntl
import os
import select
import socket
import struct
import subprocess
import termios
import time

import pytest

from tests.app.service.conftest import DockerCLI


class Terminal:
    """A command run on a new pseudo-terminal (as a person at a terminal runs ``docker ... -it``)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))

        def controlling() -> None:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
            preexec_fn=controlling,
        )  # fmt: skip
        os.close(slave)
        self.seen = b""

    def type(self, data: bytes) -> None:
        os.write(self.master, data)

    def expect(self, text: bytes, timeout: float = 20) -> bytes:
        """Read until ``text`` has been shown; everything shown so far."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{text!r} not shown; the terminal shows {self.seen!r}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"{text!r} not shown before the end; it showed {self.seen!r}")
                self.seen += chunk
        return self.seen

    def wait(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"still running; the terminal shows {self.seen!r}")
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.seen += os.read(self.master, 65536)
                except OSError:
                    pass
        while select.select([self.master], [], [], 0.2)[0]:  # what it wrote just before it ended
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                break
            if not chunk:
                break
            self.seen += chunk
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


@pytest.fixture
def terminal(docker: DockerCLI):  # type: ignore[no-untyped-def]
    made: list[Terminal] = []

    def run(*args: str) -> Terminal:
        t = Terminal([docker.binary, *args], docker.env)
        made.append(t)
        return t

    yield run
    for t in made:
        t.close()


@pytest.fixture
def sleeper(cli, busybox) -> str:  # type: ignore[no-untyped-def]
    """A running container (made by dockyard itself, so these tests stand on exec and attach alone)."""
    cli("run", "-d", "--name", "box", busybox, "sleep", "1000")
    return "box"


def processes(cli, name: str) -> str:  # type: ignore[no-untyped-def]
    return cli("exec", name, "ps", "-o", "pid,args").out


# -- docker exec --------------------------------------------------------------------------------------
def test_exec_output_streams_and_exit_code(docker, sleeper) -> None:
    r = docker("exec", sleeper, "sh", "-c", "echo out; echo err >&2; exit 3", check=False)
    assert (r.code, r.out, r.err) == (3, "out\n", "err\n")
    assert docker("exec", sleeper, "echo", "hello").out == "hello\n"


def test_exec_stdin_ends_with_the_clients(docker, sleeper) -> None:
    r = docker("exec", "-i", sleeper, "sh", "-c", "cat; echo done", input=b"line one\nline two\n")
    assert r.out == "line one\nline two\ndone\n"
    big = os.urandom(3 << 20).hex().encode()  # 6 MiB each way: the flow control holds
    r = docker("exec", "-i", sleeper, "sh", "-c", "cat | wc -c", input=big)
    assert r.out.strip() == str(len(big))


def test_exec_env_workdir_user(docker, sleeper) -> None:
    r = docker("exec", "-e", "GREETING=hi there", "-w", "/tmp", "-u", "1000:1000", sleeper, "sh", "-c",
               'echo "$GREETING"; pwd; id -u; id -g')  # fmt: skip
    assert r.out.split("\n")[:4] == ["hi there", "/tmp", "1000", "1000"]


def test_exec_missing_command_and_stopped_container(docker, cli, sleeper) -> None:
    r = docker("exec", sleeper, "no-such-command", check=False)
    assert r.code == 126  # Docker's daemon: an exec that could not start
    assert "no-such-command" in r.out + r.err
    cli("create", "--name", "idle", "busybox", "true")
    r = docker("exec", "idle", "true", check=False)
    assert r.code != 0 and "is not running" in r.err


def test_exec_detached_runs_on(docker, cli, sleeper) -> None:
    docker("exec", "-d", sleeper, "sh", "-c", "sleep 0.3; echo made > /tmp/detached")
    deadline = time.monotonic() + 10
    while cli("exec", sleeper, "cat", "/tmp/detached", check=False).out != "made\n":
        assert time.monotonic() < deadline, "the detached exec did not run"
        time.sleep(0.1)


def test_exec_it_on_a_terminal(terminal, sleeper) -> None:
    t = terminal("exec", "-it", sleeper, "sh")
    t.expect(b"# ")
    t.type(b"stty size; tty; echo $((6*7))\r")
    shown = t.expect(b"42")
    assert b"30 100" in shown  # the client's window size reached the terminal
    assert b"/dev/pts/" in shown
    t.type(b"exit 5\r")
    assert t.wait() == 5


def test_exec_it_detach_keys_leave_it_running(terminal, cli, sleeper) -> None:
    t = terminal("exec", "-it", sleeper, "sh", "-c", "echo ready; exec sleep 600")
    t.expect(b"ready")
    t.type(b"\x10\x11")  # ctrl-p ctrl-q
    t.wait()  # Docker's client ends with its "read escape sequence" (status 1) after an exec's detach
    assert b"escape sequence" in t.seen
    assert "sleep 600" in processes(cli, sleeper)


def test_exec_client_gone_leaves_nothing(docker, cli, sleeper) -> None:
    p = docker.popen("exec", sleeper, "sh", "-c", "echo started; exec sleep 777")
    assert p.stdout is not None
    assert p.stdout.readline() == b"started\n"
    p.kill()
    p.wait()
    deadline = time.monotonic() + 10
    while "sleep 777" in processes(cli, sleeper):
        assert time.monotonic() < deadline, "the exec outlived its client"
        time.sleep(0.1)


# -- docker run -it, attach ------------------------------------------------------------------------------
def test_run_output_from_the_first_byte(docker, busybox) -> None:
    r = docker("run", "--rm", busybox, "sh", "-c", "echo first; echo second >&2; exit 4", check=False)
    assert (r.code, r.out, r.err) == (4, "first\n", "second\n")


def test_run_interactive_stdin(docker, busybox) -> None:
    r = docker("run", "--rm", "-i", busybox, "sh", "-c", "tr a-z A-Z", input=b"shout\n")
    assert r.out == "SHOUT\n"


def test_run_it_and_attach_with_detach_keys(terminal, docker, busybox) -> None:
    t = terminal("run", "-it", "--name", "shell", busybox, "sh")
    t.expect(b"# ")
    t.type(b"echo $((2+3))x\r")
    t.expect(b"5x")
    t.type(b"\x10\x11")
    assert t.wait() == 0
    assert docker("inspect", "-f", "{{.State.Running}}", "shell").out.strip() == "true"
    a = terminal("attach", "shell")
    time.sleep(0.5)
    a.type(b"echo back$((1+1))\r")
    a.expect(b"back2")
    a.type(b"exit 7\r")
    assert a.wait() == 7
    assert docker("wait", "shell").out.strip() == "7"


# -- docker-py --------------------------------------------------------------------------------------
def test_docker_py_exec_run(docker_py, sleeper) -> None:
    c = docker_py.containers.get(sleeper)
    r = c.exec_run(["sh", "-c", "echo o; echo e >&2; exit 2"], demux=True)
    assert r.exit_code == 2 and r.output == (b"o\n", b"e\n")
    r = c.exec_run("pwd", workdir="/etc", user="nobody", environment={"X": "1"})
    assert (r.exit_code, r.output) == (0, b"/etc\n")
    r = c.exec_run(["sh", "-c", "tty"], tty=True)
    assert r.output.startswith(b"/dev/pts/")
    chunks = list(c.exec_run(["sh", "-c", "echo a; sleep 0.2; echo b"], stream=True).output)
    assert b"".join(chunks) == b"a\nb\n"


def test_docker_py_exec_inspect_resize_and_errors(docker_py, sleeper) -> None:
    import docker as docker_sdk

    api = docker_py.api
    e = api.exec_create(sleeper, ["sh", "-c", "exit 9"])
    assert api.exec_inspect(e)["Running"] is False and api.exec_inspect(e)["ExitCode"] is None
    api.exec_start(e)
    info = api.exec_inspect(e)
    assert (info["ExitCode"], info["ProcessConfig"]["entrypoint"]) == (9, "sh")
    with pytest.raises(docker_sdk.errors.APIError) as again:
        api.exec_start(e)
    assert again.value.response.status_code == 409
    with pytest.raises(docker_sdk.errors.NotFound):
        api.exec_inspect("0" * 64)
    e = api.exec_create(sleeper, ["sh", "-c", "sleep 0.5; stty size"], tty=True)
    sock = api.exec_start(e, tty=True, socket=True)
    api.exec_resize(e, height=11, width=33)
    raw = b""
    while chunk := sock._sock.recv(1024):
        raw += chunk
    sock.close()
    assert b"11 33" in raw


def test_docker_py_exec_detach_keys_over_the_socket(docker_py, sleeper) -> None:
    api = docker_py.api
    e = api.exec_create(sleeper, "cat", stdin=True, tty=True, detach_keys="ctrl-x")
    sock = api.exec_start(e, tty=True, socket=True)._sock
    sock.sendall(b"abc")
    assert sock.recv(16) == b"abc"  # the terminal echoes
    sock.sendall(b"\x18")
    time.sleep(0.5)
    with pytest.raises(OSError):
        for _ in range(3):
            sock.sendall(b"more\n")
            time.sleep(0.1)
    sock.close()
    assert api.exec_inspect(e)["Running"] is True  # detached, not ended


def test_docker_py_attach(docker_py, busybox) -> None:
    c = docker_py.containers.run(busybox, ["sh", "-c", "echo early; read x; echo got $x; exit 6"],
                                 stdin_open=True, detach=True)  # fmt: skip
    sock = c.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1, "logs": 1})._sock
    sock.sendall(b"word\n")
    raw = b""
    while chunk := sock.recv(4096):
        raw += chunk
    sock.close()
    frames = []
    while raw:
        kind, size = raw[0], int.from_bytes(raw[4:8], "big")
        frames.append((kind, raw[8 : 8 + size]))
        raw = raw[8 + size :]
    assert b"".join(d for k, d in frames if k == 1) == b"early\ngot word\n"
    assert c.wait()["StatusCode"] == 6
    assert c.attach(logs=True, stream=False) == b"early\ngot word\n"
    c.remove()


def test_attach_to_unknown_container_is_404(service) -> None:
    s = socket.socket(socket.AF_UNIX)
    s.connect(service.socket)
    s.sendall(b"POST /v1.43/containers/nope/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: d\r\n"
              b"Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n")  # fmt: skip
    reply = s.recv(4096)
    s.close()
    assert reply.startswith(b"HTTP/1.1 404") and b"No such container: nope" in reply


def test_docker_py_exec_framing_follows_the_start(docker_py, sleeper) -> None:
    api = docker_py.api
    e = api.exec_create(sleeper, ["printf", "on a terminal"], tty=True)
    sock = api.exec_start(e, socket=True)  # the start does not say Tty: framed, as Docker's
    raw = b""
    while chunk := sock._sock.recv(1024):
        raw += chunk
    sock.close()
    assert raw == bytes((1, 0, 0, 0)) + len(b"on a terminal").to_bytes(4, "big") + b"on a terminal"
    e = api.exec_create(sleeper, "whoami", user="nosuchuser")
    assert b"nosuchuser" in api.exec_start(e)
    assert api.exec_inspect(e)["ExitCode"] == 126


def _frames(sock: socket.socket) -> dict[int, bytes]:
    raw = b""
    while chunk := sock.recv(4096):
        raw += chunk
    sock.close()
    out: dict[int, bytes] = {1: b"", 2: b""}
    while raw:
        kind, size = raw[0], int.from_bytes(raw[4:8], "big")
        out[kind] = out.get(kind, b"") + raw[8 : 8 + size]
        raw = raw[8 + size :]
    return out


def test_every_client_attached_before_the_start_gets_the_whole_output(docker_py, busybox) -> None:
    api = docker_py.api
    c = api.create_container(busybox, ["sh", "-c", "echo one; echo two >&2; echo three; exit 3"])
    socks = [
        api.attach_socket(c, params={"stdout": 1, "stderr": 1, "stream": 1})._sock for _ in range(3)
    ]  # three clients wait for the start, as `docker start -a` in three terminals would
    api.start(c)
    for sock in socks:
        got = _frames(sock)
        assert (got[1], got[2]) == (b"one\nthree\n", b"two\n")
    assert api.wait(c)["StatusCode"] == 3
    api.remove_container(c)


def test_a_second_client_of_a_long_start_gets_what_came_before_it_then_the_rest(docker_py, busybox) -> None:
    api = docker_py.api
    c = api.create_container(busybox, ["sh", "-c", "echo early; sleep 1.5; echo late"])
    socks = [api.attach_socket(c, params={"stdout": 1, "stream": 1})._sock for _ in range(2)]
    api.start(c)
    for sock in socks:
        assert _frames(sock)[1] == b"early\nlate\n"
    assert api.wait(c)["StatusCode"] == 0
    api.remove_container(c)
