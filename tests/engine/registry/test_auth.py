"""Authentication against real servers: docker-registry with htpasswd (Basic), and a Bearer token front end
(401 -> token from the realm with the scopes -> retry), through the API and the CLI."""

from __future__ import annotations

import json
import os
import stat

import pytest

from engine import Engine
from engine.registry import Credentials, Unauthorized, login, logout, pull, push

pytestmark = pytest.mark.slow


@pytest.fixture
def other(tmp_path):
    path = str(tmp_path / "other-root")
    os.makedirs(path)
    return Engine(path)


def test_basic_auth_registry(engine_, busybox, basic_registry, other, auth_file):
    ref = f"{basic_registry.host}/private/bb:v1"
    engine_.images.tag(busybox, ref)
    with pytest.raises(Unauthorized, match="unauthorized: authentication required"):
        push(engine_.images.store, ref)
    with pytest.raises(
        Unauthorized, match="login attempt to http://.*/v2/ failed with status: 401 Unauthorized"
    ):
        login(basic_registry.host, "alice", "wrong", root=engine_.root)
    assert not os.path.exists(auth_file)
    assert login(basic_registry.host, "alice", "s3cret", root=engine_.root) == basic_registry.host
    assert stat.S_IMODE(os.stat(auth_file).st_mode) == 0o600
    pushed = push(engine_.images.store, ref)
    assert pull(other.images.store, ref).digest == pushed.digest
    assert logout(basic_registry.host) == (basic_registry.host, True)
    with pytest.raises(Unauthorized, match="pull access denied for .*may require 'dockyard login'"):
        pull(other.images.store, ref.replace(":v1", ":v2"))
    # explicit credentials work without stored ones
    assert push(engine_.images.store, ref, credentials=Credentials("alice", "s3cret")).existing


def test_bearer_token_flow(engine_, busybox, front, other):
    tokens = front(token_auth=True, users={"alice": "pw"})
    ref = f"{tokens.host}/team/app:v1"
    engine_.images.tag(busybox, ref)
    with pytest.raises(Unauthorized, match="unauthorized: authentication required"):
        push(engine_.images.store, ref)
    creds = Credentials("alice", "pw")
    pushed = push(engine_.images.store, ref, credentials=creds)
    granted = [t for t in tokens.token_requests if t["granted"] and t["user"] == "alice"]
    assert granted and "repository:team/app:pull,push" in granted[-1]["scope"]
    # every registry request after the challenge carried the token
    after = [hd for m, p, hd in tokens.requests if p.startswith("/v2/team/")]
    assert after and all(hd.get("Authorization", "").startswith("Bearer ") for hd in after[1:])

    assert pull(other.images.store, ref, credentials=creds).digest == pushed.digest
    with pytest.raises(Unauthorized, match="pull access denied for .*/team/app"):
        pull(other.images.store, ref.replace(":v1", ":v2"))  # anonymous tokens cover public/* only
    with pytest.raises(Unauthorized, match="incorrect username or password"):
        pull(other.images.store, ref, credentials=Credentials("alice", "nope"))

    public = f"{tokens.host}/public/app:v1"
    engine_.images.tag(busybox, public)
    push(engine_.images.store, public, credentials=creds)
    fresh = Engine(os.path.join(other.root, "..", "third"))
    assert pull(fresh.images.store, public).image_id == engine_.images.resolve(
        busybox
    )  # anonymous token, pull scope
    anon = [t for t in tokens.token_requests if t["user"] is None and t["granted"]]
    assert any("repository:public/app:pull" in t["scope"] for t in anon)


def test_cli_login_logout_with_tokens(cli, busybox, front, auth_file):
    tokens = front(token_auth=True, users={"alice": "pw"})
    r = cli.fails("login", "-u", "alice", "--password-stdin", tokens.host, input=b"bad\n")
    assert "incorrect username or password" in r.err
    r = cli("login", "-u", "alice", "--password-stdin", tokens.host, input=b"pw\n")
    assert r.out.strip() == "Login Succeeded"
    doc = json.load(open(auth_file))
    assert doc["auths"][tokens.host]["auth"] == "YWxpY2U6cHc="  # base64("alice:pw")
    r = cli("login", "-u", "alice", "-p", "pw", tokens.host)
    assert "WARNING! Using --password via the CLI is insecure" in r.err
    ref = f"{tokens.host}/team/cli:v1"
    cli("tag", busybox, ref)
    assert ": Pushed" in cli("push", ref).out
    assert cli("logout", tokens.host).out.strip() == f"Removing login credentials for {tokens.host}"
    assert cli("logout", tokens.host).out.strip() == f"Not logged in to {tokens.host}"
    r = cli.fails("push", ref)
    assert "unauthorized: authentication required" in r.err
    r = cli.fails("login", tokens.host)
    assert "Cannot perform an interactive login from a non TTY device" in r.err
