"""``exec``'s flags through the real CLI, each checked by its effect inside the container."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

from tests.conftest import DOCKYARD


def _cap(text: str, field: str) -> int:
    line = next(x for x in text.splitlines() if x.startswith(field + ":"))
    return int(line.split()[1], 16)


def _host_caps() -> int:
    with open("/proc/self/status") as f:
        return _cap(f.read(), "CapBnd")


def test_privileged_exec_has_every_capability(cli, busybox):
    cli("run", "-d", "--name", "px", "busybox", "sleep", "1000")
    plain = cli("exec", "px", "cat", "/proc/self/status").out
    assert _cap(plain, "CapEff") == 0xA80425FB  # Docker's 14 default capabilities
    priv = cli("exec", "--privileged", "px", "cat", "/proc/self/status").out
    # all ones: every capability the kernel has (as far as the caller holds them)
    assert _cap(priv, "CapEff") == _host_caps()
    assert _cap(priv, "CapBnd") == _host_caps()
    assert bin(_host_caps()).count("1") > 14


def test_env_env_file_workdir_user(cli, busybox, tmp_path):
    cli("run", "-d", "--name", "ev", "-e", "FROM_RUN=run", "busybox", "sleep", "1000")
    envf = tmp_path / "env"
    envf.write_text("# a comment\nA=from-file\nB=overridden\nFROM_HOST\n\n")
    env = {**os.environ, "DOCKYARD_ROOT": cli.root, "FROM_HOST": "host-value", "PASSED": "passed"}
    r = subprocess.run(
        [DOCKYARD, "exec", "--env-file", str(envf), "-e", "B=flag", "-e", "PASSED", "-e", "UNSET_HERE",
         "ev", "env"],
        capture_output=True, env=env, text=True, check=True,
    )  # fmt: skip
    got = dict(line.split("=", 1) for line in r.stdout.splitlines())
    assert got["A"] == "from-file" and got["B"] == "flag" and got["FROM_HOST"] == "host-value"
    assert got["PASSED"] == "passed" and got["FROM_RUN"] == "run"
    assert "UNSET_HERE" not in got  # -e NAME of a variable the caller does not have sets nothing
    assert (
        "open /nope: no such file or directory" in cli.fails("exec", "--env-file", "/nope", "ev", "true").err
    )

    assert cli("exec", "-w", "/etc", "ev", "pwd").out == "/etc\n"
    assert cli("exec", "--workdir", "/tmp", "ev", "sh", "-c", "pwd").out == "/tmp\n"
    assert cli("exec", "-u", "1234:55", "ev", "id").out.split()[:2] == ["uid=1234", "gid=55"]
    assert cli("exec", "-u", "nobody", "ev", "id", "-u").out == "65534\n"
    assert "unable to find user nosuch" in cli.fails("exec", "-u", "nosuch", "ev", "true").err


def test_exit_codes_like_docker(cli, busybox):
    cli("run", "-d", "--name", "ec", "busybox", "sleep", "1000")
    assert cli.fails("exec", "ec", "sh", "-c", "exit 9", code=9)
    r = cli.fails("exec", "ec", "no-such-command", code=127)
    assert 'exec: "no-such-command": executable file not found in $PATH' in r.err
    cli.fails("exec", "ec", "/no/such/path", code=127)
    cli.fails("exec", "ec", "/etc/passwd", code=126)  # not executable
    cli.fails("exec", "ec", "/tmp", code=126)  # a directory
    # any other error is status 1, as Docker's exec
    assert "No such container: nope" in cli.fails("exec", "nope", "true", code=1).err
    assert "the input device is not a TTY" in cli.fails("exec", "-it", "ec", "true", code=1).err
    cli("stop", "-t", "0", "ec")
    assert "is not running" in cli.fails("exec", "ec", "true", code=1).err


def test_detach_interactive_and_tty(cli, busybox):
    cli("run", "-d", "--name", "dt", "busybox", "sleep", "1000")
    t0 = time.monotonic()
    assert cli("exec", "-d", "dt", "sh", "-c", "sleep 1; echo done > /tmp/detached").out == ""
    assert time.monotonic() - t0 < 1  # returned at once
    assert cli("exec", "dt", "cat", "/tmp/detached", check=False).code != 0
    deadline = time.monotonic() + 10
    while cli("exec", "dt", "cat", "/tmp/detached", check=False).out != "done\n":
        assert time.monotonic() < deadline
        time.sleep(0.2)

    # -i passes standard input; without it the command reads nothing
    assert cli("exec", "-i", "dt", "cat", input=b"piped in").out == "piped in"
    assert cli("exec", "dt", "cat", input=b"not passed").out == ""
    # -t: the command's output is a terminal; its input too, though nothing is typed into it without -i
    r = cli("exec", "-t", "dt", "sh", "-c", "test -t 0 && test -t 1 && echo both-terminals; tty")
    assert r.out.splitlines()[0] == "both-terminals"
    assert r.out.splitlines()[1].startswith("/dev/pts/")
    assert cli("exec", "dt", "sh", "-c", "test -t 1 || echo no-terminal").out == "no-terminal\n"


def _session(root: str, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    """The CLI on a terminal of its own (stdin, stdout and stderr)."""
    master, slave = pty.openpty()
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


def test_interactive_tty_and_detach_keys(cli, busybox):
    cli("run", "-d", "--name", "it", "busybox", "sleep", "1000")
    p, master = _session(
        cli.root, "exec", "-it", "it", "sh", "-c", "echo ready; read line; echo $line > /tmp/typed; exit 5"
    )
    try:
        _read_until(master, b"ready")
        os.write(master, b"typed-in\r")
        assert p.wait(timeout=15) == 5
    finally:
        os.close(master)
    assert cli("exec", "it", "cat", "/tmp/typed").out == "typed-in\n"

    # --detach-keys: typing them leaves the command running without the CLI
    loop = "echo started; i=0; while true; do i=$((i+1)); echo $i > /tmp/alive; sleep 0.1; done"
    p, master = _session(cli.root, "exec", "-it", "--detach-keys", "ctrl-x,y", "it", "sh", "-c", loop)
    try:
        _read_until(master, b"started")
        os.write(master, b"\x18y")
        _read_until(master, b"read escape sequence")
        assert p.wait(timeout=15) == 0
    finally:
        os.close(master)
    first = cli("exec", "it", "cat", "/tmp/alive").out
    time.sleep(0.5)
    assert cli("exec", "it", "cat", "/tmp/alive").out != first  # still writing after the CLI left
    assert "Invalid detach keys" in cli.fails("exec", "-it", "--detach-keys", "ctrl-", "it", "sh").err
