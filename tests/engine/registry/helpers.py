"""A real registry (Debian's docker-registry) on a loopback port, and small HTTP front ends for it: one that
demands Bearer tokens from its own token endpoint, one that cuts blob downloads short.

Everything listens on 127.0.0.1 only and is stopped by the fixtures that start it.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import secrets
import socket
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the registry exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


class Registry:
    """``docker-registry serve`` on 127.0.0.1:<free port>, storing in ``directory``."""

    def __init__(
        self, directory: str, htpasswd: str | None = None, tls: tuple[str, str] | None = None
    ) -> None:
        self.directory = directory
        self.storage = os.path.join(directory, "storage")
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        os.makedirs(self.storage, exist_ok=True)
        lines = [
            "version: 0.1",
            "log:",
            "  level: error",
            "  accesslog:",
            "    disabled: true",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {self.storage}",
            "  delete:",
            "    enabled: true",
            "http:",
            f"  addr: 127.0.0.1:{self.port}",
        ]
        if tls:
            lines += ["  tls:", f"    certificate: {tls[0]}", f"    key: {tls[1]}"]
        if htpasswd:
            lines += ["auth:", "  htpasswd:", "    realm: dockyard-test", f"    path: {htpasswd}"]
        self.config = os.path.join(directory, "config.yml")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.log = open(os.path.join(directory, "registry.log"), "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            ["docker-registry", "serve", self.config], stdout=self.log, stderr=subprocess.STDOUT
        )
        try:
            wait_port(self.port, self.proc)
        except BaseException:
            self.stop()
            raise

    def blob_path(self, digest: str) -> str:
        hexpart = digest.partition(":")[2]
        return os.path.join(self.storage, "docker/registry/v2/blobs/sha256", hexpart[:2], hexpart, "data")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def self_signed(directory: str) -> tuple[str, str]:
    """A certificate and key for 127.0.0.1 (openssl), valid for a day."""
    crt, key = os.path.join(directory, "registry.crt"), os.path.join(directory, "registry.key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        capture_output=True,
        check=True,
    )  # fmt: skip
    return crt, key


def htpasswd_file(path: str, user: str, password: str) -> str:
    out = subprocess.run(["htpasswd", "-Bbn", user, password], capture_output=True, check=True).stdout
    with open(path, "wb") as f:
        f.write(out)
    return path


# -- a front end for the registry ---------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that drop connections (a TLS probe, a cut download) are expected here


class Front:
    """An HTTP server on 127.0.0.1 that forwards every request to ``upstream`` (host:port), with hooks:

    - ``token_auth``: demand ``Authorization: Bearer`` tokens issued by its own ``/token`` endpoint
      (Basic credentials ``users`` get push and pull; anonymous callers get pull on ``public/*`` only);
    - ``cut_after``: for the first ``cut_times`` blob GETs, send the headers and only that many bytes of the
      body of larger blobs, then drop the connection;
    - ``ignore_range``: answer Range requests with the whole blob (as some servers do).

    ``requests`` records (method, path, headers) of everything forwarded; ``token_requests`` the token queries.
    """

    def __init__(
        self,
        upstream: str,
        token_auth: bool = False,
        users: dict[str, str] | None = None,
        cut_after: int = 0,
        cut_times: int = 0,
        ignore_range: bool = False,
    ) -> None:
        self.upstream = upstream
        self.token_auth = token_auth
        self.users = dict(users or {})
        self.cut_after = cut_after
        self.cut_times = cut_times
        self.ignore_range = ignore_range
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.token_requests: list[dict[str, Any]] = []
        self.tokens: dict[str, set[str]] = {}
        self.lock = threading.Lock()
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_a: Any) -> None:
                pass

            def do_GET(self) -> None:
                front.handle(self)

            do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

        self.server = _Server(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    # -- auth ---------------------------------------------------------------------------------------------
    def _challenge(self, h: BaseHTTPRequestHandler, scope: str) -> None:
        realm = f"http://{self.host}/token"
        value = f'Bearer realm="{realm}",service="dockyard-test"'
        if scope:
            value += f',scope="{scope}"'
        body = json.dumps(
            {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": None}]}
        ).encode()
        h.send_response(401)
        h.send_header("WWW-Authenticate", value)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def _token(self, h: BaseHTTPRequestHandler) -> None:
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(h.path).query)
        user = None
        authz = h.headers.get("Authorization", "")
        if authz.startswith("Basic "):
            u, _, p = base64.b64decode(authz[6:]).decode().partition(":")
            if self.users.get(u) != p or not u:
                h.send_response(401)
                h.send_header("Content-Length", "0")
                h.end_headers()
                self.token_requests.append({"user": u, "scope": q.get("scope", []), "granted": False})
                return
            user = u
        granted: set[str] = set()
        for scope in q.get("scope", []):
            kind, _, rest = scope.partition(":")
            repo, _, actions = rest.rpartition(":")
            for action in actions.split(","):
                if user or (action == "pull" and repo.startswith("public/")):
                    granted.add(f"{repo}:{action}")
        token = secrets.token_hex(16)
        with self.lock:
            self.tokens[token] = granted
            self.token_requests.append({"user": user, "scope": q.get("scope", []), "granted": True})
        body = json.dumps({"token": token, "expires_in": 300}).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _authorized(self, h: BaseHTTPRequestHandler) -> tuple[bool, str]:
        path = urllib.parse.urlsplit(h.path).path
        scope = ""
        need = ""
        if path.startswith("/v2/") and path != "/v2/":
            rest = path[4:]
            for marker in ("/manifests/", "/blobs/", "/tags/"):
                if marker in rest:
                    repo = rest.split(marker)[0]
                    action = "pull" if h.command in ("GET", "HEAD") else "push"
                    need = f"{repo}:{action}"
                    scope = f"repository:{repo}:{action}"
                    break
        authz = h.headers.get("Authorization", "")
        if not authz.startswith("Bearer "):
            return False, scope
        granted = self.tokens.get(authz[7:])
        if granted is None:
            return False, scope
        return (not need or need in granted), scope

    # -- forwarding -------------------------------------------------------------------------------------------
    def handle(self, h: BaseHTTPRequestHandler) -> None:
        headers = {k: v for k, v in h.headers.items()}
        with self.lock:
            self.requests.append((h.command, h.path, headers))
        if h.path.startswith("/token"):
            self._token(h)
            return
        if self.token_auth:
            ok, scope = self._authorized(h)
            if not ok:
                length = int(h.headers.get("Content-Length") or 0)
                if length:
                    h.rfile.read(length)
                self._challenge(h, scope)
                return
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else None
        conn = http.client.HTTPConnection(self.upstream, timeout=60)
        dropped = (
            ("authorization", "connection", "range") if self.ignore_range else ("authorization", "connection")
        )
        fwd = {k: v for k, v in headers.items() if k.lower() not in dropped}
        conn.request(h.command, h.path, body=body, headers=fwd)
        r = conn.getresponse()
        cut = False
        big = int(r.getheader("Content-Length") or 0) > self.cut_after
        if (
            h.command == "GET"
            and "/blobs/sha256:" in h.path
            and r.status in (200, 206)
            and big
            and self.cut_times
        ):
            with self.lock:
                if self.cut_times > 0:
                    self.cut_times -= 1
                    cut = True
        h.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("connection", "transfer-encoding"):
                h.send_header(k, v)
        if cut:
            h.send_header("Connection", "close")
        h.end_headers()
        if h.command == "HEAD":
            r.read()
            conn.close()
            return
        sent = 0
        while True:
            chunk = r.read(1 << 16)
            if not chunk:
                break
            if cut and sent + len(chunk) > self.cut_after:
                h.wfile.write(chunk[: self.cut_after - sent])
                h.wfile.flush()
                with contextlib.suppress(OSError):
                    h.connection.shutdown(socket.SHUT_RDWR)
                h.close_connection = True
                conn.close()
                return
            h.wfile.write(chunk)
            sent += len(chunk)
        conn.close()

    def ranges(self) -> list[str]:
        return [
            hd.get("Range", "")
            for m, p, hd in self.requests
            if m == "GET" and "/blobs/" in p and hd.get("Range")
        ]
