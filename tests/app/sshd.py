"""An SSH server of the test's own on 127.0.0.1 (a free port, a throwaway host key and client key in the
test's directory, its own config: no PAM, keys only), whose sessions run this checkout's ``dockyard`` on a
second engine root: the far side of an ``ssh://`` context, on this machine. Killed by its PID at the end.

The fixtures (tests/app/conftest.py makes them the app tests'): ``far_root``, that second root; ``sshd``,
the server, with the client's environment pointed at it; ``far``, the far root's own CLI, with busybox,
and the context ``far`` naming the server (described by the test module's ``FAR_DESCRIPTION``, if any)."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from engine import Engine
from tests.conftest import CLI, DOCKYARD, _cleanup_root


@dataclass
class SSHServer:
    host: str  # ssh://USER@127.0.0.1:PORT
    config: str  # the client's ssh config (DOCKYARD_SSH_CONFIG)
    root: str  # the engine root the far side's dockyard works on
    proc: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sshd(tmp: str, root: str) -> SSHServer:
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    if not os.path.exists(sshd) or not shutil.which("ssh"):
        pytest.skip("openssh-server and openssh-client are needed (make deps)")
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    keys = os.path.join(tmp, "ssh")
    os.makedirs(keys, mode=0o700)
    host_key, client_key = os.path.join(keys, "host_key"), os.path.join(keys, "client_key")
    for key in (host_key, client_key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    shutil.copy(client_key + ".pub", os.path.join(keys, "authorized_keys"))
    port = _free_port()
    bindir = os.path.dirname(DOCKYARD)
    path = f"{bindir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    config = os.path.join(keys, "sshd_config")
    with open(config, "w") as f:
        f.write(
            f"ListenAddress 127.0.0.1\nHostKey {host_key}\nAuthorizedKeysFile {keys}/authorized_keys\n"
            "UsePAM no\nStrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\nPidFile none\nLogLevel ERROR\nX11Forwarding no\n"
            "AllowTcpForwarding no\nPrintMotd no\n"
            f"SetEnv PATH={path} DOCKYARD_ROOT={root} DOCKYARD_DEFAULT_NETWORK=none\n"
        )
    with open(host_key + ".pub") as f:
        host_pub = " ".join(f.read().split()[:2])
    with open(os.path.join(keys, "known_hosts"), "w") as f:
        f.write(f"[127.0.0.1]:{port} {host_pub}\n")
    client_config = os.path.join(keys, "ssh_config")
    with open(client_config, "w") as f:
        f.write(
            f"Host *\n  IdentityFile {client_key}\n  IdentitiesOnly yes\n  UserKnownHostsFile {keys}/known_hosts\n"
            "  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  LogLevel ERROR\n"
        )
    proc = subprocess.Popen([sshd, "-D", "-e", "-f", config, "-p", str(port)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            err = proc.communicate()[1].decode(errors="replace")
            pytest.fail(f"sshd did not start: {err}")
        time.sleep(0.05)
    return SSHServer(f"ssh://{getpass.getuser()}@127.0.0.1:{port}", client_config, root, proc)


def stop_sshd(server: SSHServer) -> None:
    server.proc.send_signal(signal.SIGTERM)
    try:
        server.proc.wait(10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()
    if server.proc.stderr is not None:
        server.proc.stderr.close()


def far_processes(root: str) -> list[int]:
    """The ``dockyard system dial-stdio`` processes working on ``root`` (the far side of each ssh connection)
    and the service they share (which ends 10 s after its last request)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if (b"dial-stdio" in cmd or b"service" in cmd) and f"DOCKYARD_ROOT={root}".encode() in env:
            out.append(int(pid))
    return out


@pytest.fixture
def far_root(tmp_path) -> Iterator[str]:
    r = str(tmp_path / "far-root")
    os.makedirs(r)
    yield r
    _cleanup_root(r)


@pytest.fixture
def sshd(tmp_path, far_root, monkeypatch) -> Iterator[SSHServer]:
    server = start_sshd(str(tmp_path), far_root)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("DOCKYARD_SSH_CONFIG", server.config)
    monkeypatch.delenv("DOCKYARD_CONFIG", raising=False)
    monkeypatch.delenv("DOCKYARD_CONTEXT", raising=False)
    monkeypatch.delenv("DOCKYARD_HOST", raising=False)
    yield server
    stop_sshd(server)
    # the dial-stdio processes end with their connections, the shared service 10 s after its last request:
    # what is still there after a while is ended by its PID
    deadline = time.monotonic() + 15
    while far_processes(far_root) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in far_processes(far_root):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 15
    while far_processes(far_root) and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.fixture
def far(request, sshd, far_root, busybox_tar, cli) -> CLI:
    """The far engine's own CLI (on its root, directly), with busybox, and the context ``far`` naming it."""
    with open(busybox_tar, "rb") as f:
        Engine(far_root).images.import_(
            f, "busybox:latest", changes={"Cmd": ["sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}
        )
    description = getattr(request.module, "FAR_DESCRIPTION", "")
    extra = ["--description", description] if description else []
    assert cli("context", "create", "far", "--docker", f"host={sshd.host}", *extra).out == "far\n"
    return CLI(far_root)
