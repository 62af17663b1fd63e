"""An SSH server of the test's own on 127.0.0.1 (a free port, a throwaway host key and client key in the
test's directory, its own config: no PAM, keys only), whose sessions run this checkout's ``dockyard`` on a
second engine root: the far side of an ``ssh://`` context, on this machine. Killed by its PID at the end."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass

import pytest

from tests.conftest import DOCKYARD


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
