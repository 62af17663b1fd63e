"""Fixtures of the Engine API service's tests: ``service`` serves the test's engine root on a unix socket in
the test's temporary directory (stopped at the end); ``docker`` runs Docker's own client against it;
``docker_py`` is a docker-py client of it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import DOCKYARD


def docker_binary() -> str:
    """Debian's docker client (docker.io) when it is there, else ``docker`` on PATH."""
    if os.path.exists("/usr/bin/docker"):
        return "/usr/bin/docker"
    found = shutil.which("docker")
    if not found:
        pytest.fail("the docker client is missing: apt-get install docker.io")
    return found


def _answers(path: str) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(path)
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
        return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False
    finally:
        s.close()


@dataclass
class Service:
    socket: str
    root: str
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"


def start_service(root: str, sock: str, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DOCKYARD_ROOT": root}
    return subprocess.Popen(
        [DOCKYARD, "system", "service", "--socket", sock, "--time", "0", *extra],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def stop_service(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def service(root, tmp_path) -> Iterator[Service]:
    sock = str(tmp_path / "docker.sock")
    proc = start_service(root, sock)
    deadline = time.monotonic() + 20
    while not _answers(sock):
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the service exited {proc.returncode}: {err.decode(errors='replace')}")
        if time.monotonic() > deadline:
            stop_service(proc)
            pytest.fail("the service did not answer within 20 seconds")
        time.sleep(0.05)
    yield Service(sock, root, proc)
    stop_service(proc)
    assert not os.path.exists(sock), "the service left its socket behind"


@dataclass
class Result:
    code: int
    out: str
    err: str


class DockerCLI:
    """Docker's client (``docker ...``) talking to the service."""

    def __init__(self, service: Service, config_dir: str) -> None:
        self.service = service
        self.binary = docker_binary()
        self.env = {
            **os.environ,
            "DOCKER_HOST": service.url,
            "DOCKER_CONFIG": config_dir,
            "DOCKER_CLI_HINTS": "false",
        }
        self.env.pop("DOCKER_API_VERSION", None)
        self.env.pop("DOCKER_CONTEXT", None)

    def __call__(
        self, *args: str, input: bytes | None = None, timeout: float = 60, check: bool = True
    ) -> Result:
        p = subprocess.run(
            [self.binary, *args],
            input=input,
            capture_output=True,
            timeout=timeout,
            env=self.env,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        r = Result(p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"))
        if check and r.code != 0:
            raise AssertionError(f"docker {' '.join(args)} exited {r.code}\nstdout:{r.out}\nstderr:{r.err}")
        return r

    def popen(self, *args: str, **kw) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
        return subprocess.Popen(
            [self.binary, *args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw
        )

    def fails(self, *args: str, input: bytes | None = None) -> Result:
        r = self(*args, check=False, input=input)
        assert r.code != 0, f"docker {' '.join(args)} should have failed\n{r.out}{r.err}"
        return r


@pytest.fixture
def docker(service, tmp_path) -> DockerCLI:
    config = tmp_path / "docker-config"
    config.mkdir(exist_ok=True)
    return DockerCLI(service, str(config))


@pytest.fixture
def docker_py(service):  # type: ignore[no-untyped-def]
    import docker as docker_sdk

    client = docker_sdk.DockerClient(base_url=service.url, timeout=60)
    yield client
    client.close()
