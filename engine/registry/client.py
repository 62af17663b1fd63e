"""HTTP for the OCI Distribution API: pooled keep-alive connections, HTTPS or (for insecure registries) HTTP,
redirects, and authorization on every request.

``RegistryClient`` speaks to one repository of one registry; it is safe to use from several threads at once
(each request takes its own pooled connection).
"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Iterable
from typing import BinaryIO

from .auth import Authenticator, Credentials
from .errors import RegistryError, Unauthorized, Unreachable, describe
from .insecure import is_insecure
from .names import DOCKER_HUB_API

BLOCK = 1 << 20  # bytes per socket write of a streamed request body
REDIRECTS = (301, 302, 303, 307, 308)


class Response:
    """A response whose body is read on demand; the connection returns to the pool once the body is done."""

    def __init__(self, raw: http.client.HTTPResponse, url: str, release: _Release) -> None:
        self.raw = raw
        self.url = url
        self.status = raw.status
        self.headers = raw.headers
        self._release = release
        self._closed = False

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default) or default

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read() if n < 0 else self.raw.read(n)
        if n < 0 or not data:
            self.close()
        return data

    def readinto(self, buf: memoryview) -> int:
        got = self.raw.readinto(buf)
        if not got:
            self.close()
        return got

    def body(self, limit: int = 16 << 20) -> bytes:
        """The whole body (bounded: manifests, configs and error documents are small)."""
        data = self.raw.read(limit + 1)
        if len(data) > limit:
            self.close(reuse=False)
            raise RegistryError(f"the registry's answer to {self.url} is larger than {limit} bytes")
        self.close()
        return data

    def close(self, reuse: bool = True) -> None:
        if self._closed:
            return
        self._closed = True
        self._release(reuse and self.raw.isclosed())

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close(reuse=False)


class _Release:
    def __init__(self, pool: _Pool, conn: http.client.HTTPConnection) -> None:
        self.pool = pool
        self.conn = conn

    def __call__(self, reuse: bool) -> None:
        if reuse:
            self.pool.put(self.conn)
        else:
            self.conn.close()


class _Pool:
    """Idle keep-alive connections to one origin (scheme, host, port)."""

    def __init__(self, scheme: str, netloc: str, timeout: float, verify: bool, cafiles: list[str]) -> None:
        self.scheme = scheme
        self.netloc = netloc
        self.timeout = timeout
        self.verify = verify
        self.cafiles = cafiles
        self._ctx: ssl.SSLContext | None = None
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def get(self) -> tuple[http.client.HTTPConnection, bool]:
        """A connection, and whether it was reused (a reused one may have been closed by the server)."""
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        if self.scheme == "https":
            ctx = self._context()
            return http.client.HTTPSConnection(
                self.netloc, timeout=self.timeout, context=ctx, blocksize=BLOCK
            ), False
        return http.client.HTTPConnection(self.netloc, timeout=self.timeout, blocksize=BLOCK), False

    def _context(self) -> ssl.SSLContext:
        with self._lock:
            if self._ctx is None:
                ctx = ssl.create_default_context()
                for path in self.cafiles:
                    ctx.load_verify_locations(cafile=path)
                if not self.verify:
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                self._ctx = ctx
            return self._ctx

    def put(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < 8:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for c in idle:
            c.close()


Body = bytes | BinaryIO | None


class Transport:
    """Requests to absolute URLs over pooled connections."""

    def __init__(self, timeout: float = 60.0, verify: bool = True, cafiles: list[str] | None = None) -> None:
        self.timeout = timeout
        self.verify = verify
        self.cafiles = list(cafiles or [])
        self._pools: dict[tuple[str, str], _Pool] = {}
        self._lock = threading.Lock()

    def _pool(self, scheme: str, netloc: str) -> _Pool:
        with self._lock:
            pool = self._pools.get((scheme, netloc))
            if pool is None:
                pool = _Pool(scheme, netloc, self.timeout, self.verify, self.cafiles)
                self._pools[(scheme, netloc)] = pool
            return pool

    def request(self, method: str, url: str, headers: dict[str, str], body: Body = None) -> Response:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise RegistryError(f"unsupported URL {url!r}")
        pool = self._pool(parts.scheme, parts.netloc)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        start = body.tell() if body is not None and not isinstance(body, bytes) and body.seekable() else None
        for attempt in (0, 1):
            conn, reused = pool.get()
            try:
                conn.request(method, target, body=body, headers=headers)
                raw = conn.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                replayable = body is None or isinstance(body, bytes) or start is not None
                if reused and attempt == 0 and replayable:
                    if start is not None and not isinstance(body, bytes) and body is not None:
                        body.seek(start)
                    continue  # the server had closed an idle keep-alive connection: once more, fresh
                raise
            except BaseException:
                conn.close()
                raise
            if method == "HEAD":
                raw.read()
            return Response(raw, url, _Release(pool, conn))
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for p in pools:
            p.close()


def network_error(method: str, url: str, e: BaseException) -> Unreachable:
    """Docker's wording: ``Get "https://host:5000/v2/": dial tcp host:5000: connect: connection refused``."""
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc
    if ":" not in host.rpartition("]")[2]:
        host += ":443" if parts.scheme == "https" else ":80"
    verb = method.capitalize()
    if isinstance(e, ConnectionRefusedError):
        why = f"dial tcp {host}: connect: connection refused"
    elif isinstance(e, socket.gaierror):
        why = f"dial tcp: lookup {parts.hostname}: no such host"
    elif isinstance(e, TimeoutError | socket.timeout):
        why = f"dial tcp {host}: i/o timeout"
    elif isinstance(e, ssl.SSLCertVerificationError):
        if e.verify_code in (18, 19, 20, 21):  # self-signed, or no known issuer
            why = "tls: failed to verify certificate: x509: certificate signed by unknown authority"
        else:
            why = f"tls: failed to verify certificate: x509: {e.verify_message}"
    elif isinstance(e, ssl.SSLError):
        why = f"tls: {e.reason or e}"
    elif isinstance(e, OSError) and e.strerror:
        why = f"dial tcp {host}: connect: {e.strerror.lower()}"
    else:
        why = str(e) or type(e).__name__
    return Unreachable(f'{verb} "{url}": {why}')


_NETWORK_ERRORS = (OSError, http.client.HTTPException)

CERTS_ENV = "DOCKYARD_CERTS_DIR"
CERTS_DIRS = ("/etc/dockyard/certs.d", "/etc/containers/certs.d", "/etc/docker/certs.d")


def ca_files(registry: str) -> list[str]:
    """Extra CA certificates trusted for ``registry``: ``<certs dir>/<host:port>/*.crt``, the layout Docker and
    Podman use (``$DOCKYARD_CERTS_DIR`` first, then /etc/dockyard, /etc/containers and /etc/docker)."""
    out: list[str] = []
    for d in (os.environ.get(CERTS_ENV), *CERTS_DIRS):
        if not d:
            continue
        host_dir = os.path.join(d, registry)
        try:
            names = sorted(os.listdir(host_dir))
        except OSError:
            continue
        out += [os.path.join(host_dir, n) for n in names if n.endswith(".crt")]
    return out


class RegistryClient:
    """The Distribution API of one repository: ``request("GET", "/manifests/latest")`` and friends."""

    def __init__(
        self,
        registry: str,
        repository: str,
        actions: Iterable[str] = ("pull",),
        credentials: Credentials | None = None,
        root: str | None = None,
        timeout: float = 60.0,
        extra_scopes: Iterable[str] = (),
        insecure: bool | None = None,
    ) -> None:
        if registry == DOCKER_HUB_API and "push" not in actions:
            from .mirrors import hub_mirror

            mirror = hub_mirror(root)
            if mirror is not None:  # Docker Hub's reads go to the root's mirror, without Hub credentials
                registry, credentials = mirror, None
        self.registry = registry
        self.repository = repository
        self.insecure = is_insecure(registry, root) if insecure is None else insecure
        self.transport = Transport(timeout, verify=not self.insecure, cafiles=ca_files(registry))
        scopes = [f"repository:{repository}:{','.join(actions)}", *extra_scopes]
        self.auth = Authenticator(registry, credentials, scopes, self._fetch_token)
        self._base = ""
        self._base_lock = threading.Lock()

    # -- connection set-up --------------------------------------------------------------------------------
    def base(self) -> str:
        """``https://host`` (or ``http://host`` for an insecure registry that does not speak TLS), found by
        pinging ``/v2/`` once; a 401 there primes the authorization for the requests that follow."""
        with self._base_lock:
            if self._base:
                return self._base
            schemes = ["https", "http"] if self.insecure else ["https"]
            last: BaseException | None = None
            for scheme in schemes:
                url = f"{scheme}://{self.registry}/v2/"
                try:
                    r = self.transport.request("GET", url, {"User-Agent": _agent()})
                except (
                    ssl.SSLError,
                    ssl.CertificateError,
                    ConnectionResetError,
                    http.client.HTTPException,
                ) as e:
                    last = network_error("GET", url, e)
                    continue  # not TLS: try plain HTTP when allowed
                except OSError as e:
                    last = network_error("GET", url, e)
                    continue
                status, challenge = r.status, r.header("WWW-Authenticate")
                r.body()
                if status == 401:
                    self.auth.challenged(challenge, self.auth.authorization()[0])
                elif status >= 500 or status == 404:
                    last = RegistryError(
                        f'Get "{url}": the registry answered HTTP {status}; is {self.registry} a registry?',
                        status,
                    )
                    continue
                self._base = f"{scheme}://{self.registry}"
                return self._base
            assert last is not None
            raise last

    def _fetch_token(self, url: str, headers: dict[str, str]) -> tuple[int, bytes]:
        headers = {**headers, "User-Agent": _agent()}
        try:
            r = self.transport.request("GET", url, headers)
        except _NETWORK_ERRORS as e:
            raise network_error("GET", url, e) from None
        return r.status, r.body()

    # -- requests -------------------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        """``/manifests/x`` -> ``<base>/v2/<repository>/manifests/x``; absolute URLs (Location headers) stay."""
        if path.startswith(("http://", "https://")):
            return path
        if path.startswith("/v2/"):
            return self.base() + path
        return f"{self.base()}/v2/{self.repository}{path}"

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: Body = None,
        ok: Iterable[int] = (200,),
    ) -> Response:
        """Send a request with authorization, following redirects; statuses outside ``ok`` raise."""
        url = self.url(path)
        hdrs = {"User-Agent": _agent(), **(headers or {})}
        start = body.tell() if body is not None and not isinstance(body, bytes) and body.seekable() else None
        retries = 2
        while True:
            gen, authz = self.auth.authorization()
            send = dict(hdrs)
            if authz:
                send["Authorization"] = authz
            r = self._send(method, url, send, body)
            if r.status == 401 and retries > 0:
                challenge = r.header("WWW-Authenticate")
                data = r.body()
                replayable = body is None or isinstance(body, bytes) or start is not None
                if replayable and self.auth.challenged(challenge, gen):
                    if start is not None and body is not None and not isinstance(body, bytes):
                        body.seek(start)
                    retries -= 1
                    continue
                raise _failure(401, data, url)
            if r.status in REDIRECTS and method in ("GET", "HEAD"):
                return self._follow(method, r, hdrs, set(ok))
            if r.status not in set(ok):
                status, data = r.status, r.body() if method != "HEAD" else b""
                raise _failure(status, data, url)
            return r

    def _send(self, method: str, url: str, headers: dict[str, str], body: Body) -> Response:
        try:
            return self.transport.request(method, url, headers, body)
        except _NETWORK_ERRORS as e:
            raise network_error(method, url, e) from None

    def _follow(self, method: str, r: Response, headers: dict[str, str], ok: set[int]) -> Response:
        """Follow redirects (blob storage behind a CDN); credentials go only to the registry itself."""
        url = r.url
        for _ in range(6):
            location = r.header("Location")
            r.body()
            if not location:
                raise RegistryError(f"the registry redirected {url} without a Location")
            url = urllib.parse.urljoin(url, location)
            send = dict(headers)
            if urllib.parse.urlsplit(url).netloc == self.registry:
                authz = self.auth.authorization()[1]
                if authz:
                    send["Authorization"] = authz
            r = self._send(method, url, send, None)
            if r.status not in REDIRECTS:
                if r.status not in ok:
                    raise _failure(r.status, r.body() if method != "HEAD" else b"", url)
                return r
        raise RegistryError(f"too many redirects fetching {url}")

    def close(self) -> None:
        self.transport.close()


def _failure(status: int, body: bytes, url: str) -> RegistryError:
    code, message = describe(status, body)
    if status == 401:
        return Unauthorized(
            message if code else "unauthorized: authentication required", status, code or "UNAUTHORIZED"
        )
    return RegistryError(message, status, code)


def _agent() -> str:
    return "dockyard/0.1.0 (python http.client)"
