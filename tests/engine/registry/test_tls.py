"""HTTPS: a registry that speaks only TLS, reached unverified as a loopback (insecure) registry, and verified
against a CA from a certs.d directory when it is not marked insecure."""

from __future__ import annotations

import os
import shutil

import pytest

from engine import Engine
from engine.registry import Unreachable, pull, push
from engine.registry.client import CERTS_ENV, RegistryClient

pytestmark = pytest.mark.slow


def test_loopback_tls_registry_push_pull(engine_, busybox, tls_registry, tmp_path):
    ref = f"{tls_registry.host}/secure/bb:v1"
    engine_.images.tag(busybox, ref)
    pushed = push(engine_.images.store, ref)
    other = Engine(str(tmp_path / "other"))
    assert pull(other.images.store, ref).digest == pushed.digest
    client = RegistryClient(tls_registry.host, "secure/bb")
    try:
        assert client.base() == f"https://{tls_registry.host}"  # HTTPS first; no fallback to HTTP was needed
    finally:
        client.close()


def test_certificate_is_verified_unless_insecure(tls_registry, tmp_path, monkeypatch):
    certs = tmp_path / "certs.d"
    monkeypatch.setenv(CERTS_ENV, str(certs))
    strict = RegistryClient(tls_registry.host, "x", insecure=False)
    with pytest.raises(Unreachable, match="x509: certificate signed by unknown authority"):
        strict.base()
    strict.close()
    os.makedirs(certs / tls_registry.host)
    shutil.copy(tls_registry.cert, certs / tls_registry.host / "ca.crt")
    trusted = RegistryClient(tls_registry.host, "x", insecure=False)
    try:
        assert trusted.base() == f"https://{tls_registry.host}"
        r = trusted.request("GET", "/v2/_catalog")
        assert b"repositories" in r.body()
    finally:
        trusted.close()
