"""Fixtures for the registry tests: a real registry on a loopback port per test, and a credentials file of the
test's own."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator

import pytest

from .helpers import Front, Registry, htpasswd_file, self_signed


@pytest.fixture(autouse=True)
def auth_file(tmp_path, monkeypatch) -> str:
    """Credentials go to a file of the test's own, never to the user's."""
    path = str(tmp_path / "auth" / "auth.json")
    monkeypatch.setenv("DOCKYARD_AUTH_FILE", path)
    monkeypatch.delenv("DOCKYARD_INSECURE_REGISTRIES", raising=False)
    return path


def _need_registry() -> None:
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")


@pytest.fixture
def registry(tmp_path) -> Iterator[Registry]:
    _need_registry()
    reg = Registry(str(tmp_path / "registry"))
    yield reg
    reg.stop()


@pytest.fixture
def basic_registry(tmp_path) -> Iterator[Registry]:
    """A registry with htpasswd (Basic) authentication: user ``alice``, password ``s3cret``."""
    _need_registry()
    if shutil.which("htpasswd") is None:
        pytest.skip("htpasswd is not installed (apt-get install apache2-utils)")
    os.makedirs(tmp_path / "htauth")
    path = htpasswd_file(str(tmp_path / "htauth" / "htpasswd"), "alice", "s3cret")
    reg = Registry(str(tmp_path / "basic-registry"), htpasswd=path)
    yield reg
    reg.stop()


@pytest.fixture
def tls_registry(tmp_path) -> Iterator[Registry]:
    """A registry speaking HTTPS only, with a self-signed certificate (``.cert``) for 127.0.0.1."""
    _need_registry()
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    os.makedirs(tmp_path / "tls")
    crt, key = self_signed(str(tmp_path / "tls"))
    reg = Registry(str(tmp_path / "tls-registry"), tls=(crt, key))
    reg.cert = crt  # type: ignore[attr-defined]
    yield reg
    reg.stop()


@pytest.fixture
def front(registry) -> Iterator[Callable[..., Front]]:
    """Make HTTP front ends for ``registry`` (see helpers.Front); all are stopped at the end."""
    made: list[Front] = []

    def make(**kw: object) -> Front:
        f = Front(registry.host, **kw)  # type: ignore[arg-type]
        made.append(f)
        return f

    yield make
    for f in made:
        f.stop()


def run(*args: str, input: bytes | None = None) -> str:
    p = subprocess.run(args, capture_output=True, input=input, timeout=120)
    assert p.returncode == 0, f"{args} failed: {p.stderr.decode(errors='replace')}"
    return p.stdout.decode()


@pytest.fixture
def skopeo() -> Callable[..., str]:
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed")

    def call(*args: str) -> str:
        return run("skopeo", *args)

    return call


@pytest.fixture
def skopeo_push(cli, skopeo, tmp_path) -> Callable[..., None]:  # type: ignore[no-untyped-def]
    """Push a dockyard image to ``ref`` with skopeo (from ``dockyard save``'s archive); ``flags`` go to
    ``skopeo copy`` (``--dest-compress``, ``--format oci`` ...)."""

    def push(image: str, ref: str, *flags: str) -> None:
        archive = str(tmp_path / "skopeo-source.tar")
        cli("save", "-o", archive, image)
        skopeo("copy", "-q", "--dest-tls-verify=false", *flags, f"oci-archive:{archive}", f"docker://{ref}")

    return push
