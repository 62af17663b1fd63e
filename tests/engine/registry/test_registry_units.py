"""The parts of the registry client that need no registry: names, insecure hosts, credentials, challenges,
platform choice, error wording."""

from __future__ import annotations

import json
import os
import stat

import pytest

from engine.errors import InvalidArgument
from engine.registry import auth, insecure, manifests
from engine.registry.errors import describe
from engine.registry.names import normalize_server, parse_remote
from engine.store import oci


@pytest.mark.parametrize(
    "ref, registry, repository, reference, local, full",
    [
        ("busybox", "registry-1.docker.io", "library/busybox", "latest", "busybox:latest",
         "docker.io/library/busybox:latest"),
        ("docker.io/library/busybox:1.36", "registry-1.docker.io", "library/busybox", "1.36", "busybox:1.36",
         "docker.io/library/busybox:1.36"),
        ("team/app:v2", "registry-1.docker.io", "team/app", "v2", "team/app:v2", "docker.io/team/app:v2"),
        ("localhost:5000/x", "localhost:5000", "x", "latest", "localhost:5000/x:latest", "localhost:5000/x:latest"),
        ("127.0.0.1:5000/a/b:t", "127.0.0.1:5000", "a/b", "t", "127.0.0.1:5000/a/b:t", "127.0.0.1:5000/a/b:t"),
        ("quay.io/org/img", "quay.io", "org/img", "latest", "quay.io/org/img:latest", "quay.io/org/img:latest"),
    ],
)  # fmt: skip
def test_parse_remote(ref, registry, repository, reference, local, full):
    n = parse_remote(ref)
    assert (n.registry, n.repository, n.reference, n.local_tagged, n.full) == (
        registry,
        repository,
        reference,
        local,
        full,
    )


def test_parse_remote_digest_pins():
    d = "sha256:" + "ab" * 32
    n = parse_remote(f"127.0.0.1:5000/x@{d}")
    assert n.reference == d and n.tag is None and n.full == f"127.0.0.1:5000/x@{d}"
    with pytest.raises(InvalidArgument, match="invalid reference format"):
        parse_remote("Bad/Name")


def test_normalize_server():
    assert normalize_server(None) == "registry-1.docker.io"
    assert normalize_server("https://index.docker.io/v1/") == "registry-1.docker.io"
    assert normalize_server("docker.io") == "registry-1.docker.io"
    assert normalize_server("http://127.0.0.1:5000/") == "127.0.0.1:5000"
    assert normalize_server("myreg.example:443") == "myreg.example:443"


def test_insecure_registries(tmp_path, monkeypatch):
    for host in ("localhost:5000", "127.0.0.1:5000", "127.0.0.2", "[::1]:5000", "app.localhost"):
        assert insecure.is_insecure(host), host
    assert not insecure.is_insecure("registry-1.docker.io")
    assert not insecure.is_insecure("10.1.2.3:5000")
    monkeypatch.setenv(insecure.ENV, "10.1.2.3:5000, reg.lan")
    assert insecure.is_insecure("10.1.2.3:5000")
    assert not insecure.is_insecure("10.1.2.3:6000")
    assert insecure.is_insecure("reg.lan:5000")  # a bare host allows every port
    monkeypatch.delenv(insecure.ENV)
    root = tmp_path / "root"
    root.mkdir()
    (root / "registries.json").write_text(json.dumps({"insecure": ["192.168.0.0/16"]}))
    assert insecure.is_insecure("192.168.7.9:5000", str(root))
    assert not insecure.is_insecure("192.169.0.1:5000", str(root))


def test_credentials_file_shape_and_mode(auth_file):
    auth.store_credentials("127.0.0.1:5000", auth.Credentials("alice", "pa:ss"))
    auth.store_credentials("registry-1.docker.io", auth.Credentials("bob", "x"))
    st = os.stat(auth_file)
    assert stat.S_IMODE(st.st_mode) == 0o600
    doc = json.load(open(auth_file))
    assert doc["auths"]["127.0.0.1:5000"]["auth"] == "YWxpY2U6cGE6c3M="  # base64("alice:pa:ss")
    assert "https://index.docker.io/v1/" in doc["auths"]  # Docker Hub under Docker's key
    assert auth.load_credentials("127.0.0.1:5000") == auth.Credentials("alice", "pa:ss")
    assert auth.remove_credentials("127.0.0.1:5000") is True
    assert auth.remove_credentials("127.0.0.1:5000") is False
    assert auth.load_credentials("127.0.0.1:5000") is None
    assert auth.load_credentials("registry-1.docker.io") == auth.Credentials("bob", "x")


def test_parse_challenge():
    ch = auth.parse_challenge(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'
    )
    assert ch is not None and ch.scheme == "bearer"
    assert ch.params == {
        "realm": "https://auth.example/token",
        "service": "registry.example",
        "scope": "repository:a/b:pull,push",
    }
    basic = auth.parse_challenge('Basic realm="basic-realm"')
    assert basic is not None and basic.scheme == "basic" and basic.params == {"realm": "basic-realm"}


def test_token_flow_asks_realm_with_scopes_and_credentials():
    asked: list[tuple[str, dict[str, str]]] = []

    def fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
        asked.append((url, headers))
        return 200, json.dumps({"access_token": "T0K", "expires_in": 300}).encode()

    a = auth.Authenticator("r.example", auth.Credentials("u", "p"), ["repository:x:pull"], fetch)
    gen, header = a.authorization()
    assert header is None  # nothing asked until the registry challenges
    assert a.challenged('Bearer realm="https://t.example/token",service="svc",scope="repository:y:pull"', gen)
    gen, header = a.authorization()
    assert header == "Bearer T0K"
    url, headers = asked[0]
    assert (
        url == "https://t.example/token?service=svc&scope=repository%3Ax%3Apull&scope=repository%3Ay%3Apull"
    )
    assert headers["Authorization"] == auth.Credentials("u", "p").basic()
    a.authorization()
    assert len(asked) == 1  # the token is reused until it expires


def test_basic_challenge_without_credentials_gives_up():
    a = auth.Authenticator("r", None, [], lambda u, h: (500, b""))
    assert not a.challenged('Basic realm="x"', 0)


def test_platform_choice():
    def desc(arch: str, variant: str = "") -> dict[str, object]:
        p = {"os": "linux", "architecture": arch}
        if variant:
            p["variant"] = variant
        return {"digest": f"sha256:{arch}{variant}", "platform": p}

    index = manifests.Manifest(
        b"",
        "sha256:i",
        oci.MT_OCI_INDEX,
        {"manifests": [desc("arm", "v6"), desc("arm", "v7"), desc("arm64", "v8"), desc("amd64")]},
    )
    assert manifests.choose(index, manifests.parse_platform("linux/amd64"))["digest"] == "sha256:amd64"
    assert manifests.choose(index, manifests.parse_platform("linux/arm/v7"))["digest"] == "sha256:armv7"
    assert manifests.choose(index, manifests.parse_platform("linux/arm64"))["digest"] == "sha256:arm64v8"
    assert manifests.choose(index, manifests.parse_platform("linux/aarch64"))["digest"] == "sha256:arm64v8"
    assert manifests.parse_platform(None) == manifests.Platform("linux", oci.goarch())
    from engine.registry.errors import RegistryError

    with pytest.raises(
        RegistryError, match="no matching manifest for linux/s390x in the manifest list entries"
    ):
        manifests.choose(index, manifests.parse_platform("linux/s390x"))
    with pytest.raises(InvalidArgument, match="invalid platform"):
        manifests.parse_platform("linux/")


def test_error_wording():
    body = json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}).encode()
    assert describe(404, body) == ("MANIFEST_UNKNOWN", "manifest unknown: manifest unknown")
    body = json.dumps(
        {"errors": [{"code": "DENIED", "message": "requested access to the resource is denied"}]}
    )
    assert describe(403, body.encode())[1] == "denied: requested access to the resource is denied"
    assert describe(502, b"<html>bad gateway</html>")[1].startswith(
        "received unexpected HTTP status: 502 Bad Gateway"
    )


def test_network_error_wording():
    from engine.registry.client import network_error

    e = network_error("GET", "http://127.0.0.1:9/v2/", ConnectionRefusedError(111, "Connection refused"))
    assert str(e) == 'Get "http://127.0.0.1:9/v2/": dial tcp 127.0.0.1:9: connect: connection refused'
