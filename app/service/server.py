"""The Docker Engine API over a unix socket (or TCP with TLS and client certificates), on aiohttp's server.

Every route is served at its bare path and at ``/v{version}/path``; the version is checked against the
range served (``MIN_API_VERSION`` .. ``API_VERSION``). Errors are Docker's ``{"message": ...}`` bodies with
its statuses; bodies read whole are bounded (413 past ``MAX_BODY``), headers too. With an idle time, the
server ends once no request has been open for that long (as ``podman system service --time``).
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import os
import signal
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from engine import DockyardError, Engine, InvalidArgument

from .api import API_VERSION, MIN_API_VERSION, Api, ApiError, api_version, error_body, vtuple

#: A body read whole (JSON): larger gets 413. Archives and build contexts are streamed, not read whole.
MAX_BODY = 16 * 1024 * 1024
#: Bounds on the request line and on each header, as Go's http server (1 MiB of headers in all).
MAX_LINE = 8190
MAX_FIELD = 64 * 1024
DEFAULT_SOCKET = "/run/dockyard.sock"
SOCKET_GROUP = "dockyard"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as e:
        return error_body(e.status, e.message)
    except DockyardError as e:
        return Api.engine_error(e)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        message = {404: "page not found"}.get(e.status) or e.text or e.reason
        if e.status == 413:
            message = f"request body too large: more than {MAX_BODY} bytes"
        if message.startswith(f"{e.status}: "):
            message = message[len(f"{e.status}: ") :]
        return error_body(e.status, message)
    except (asyncio.CancelledError, ConnectionError):
        raise
    except Exception as e:  # a bug: the client gets its words, the server goes on
        from engine import record_crash

        with contextlib.suppress(Exception):
            record_crash(e)
        return error_body(500, f"{type(e).__name__}: {e}")


@web.middleware
async def version_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    version = request.match_info.get("version")
    if version is not None:
        v = vtuple(version)
        if v == (-1,) or len(v) != 2:
            raise ApiError(400, f"invalid API version: {version}")
        if v > vtuple(API_VERSION):
            raise ApiError(
                400, f"client version {version} is too new. Maximum supported API version is {API_VERSION}"
            )
        if v < vtuple(MIN_API_VERSION):
            raise ApiError(
                400,
                f"client version {version} is too old. Minimum supported API version is {MIN_API_VERSION}, "
                "please upgrade your client to a newer version",
            )
        request["api_version"] = version
    return await handler(request)


class Activity:
    """Open requests and when the last one ended: the idle time counts from there."""

    def __init__(self) -> None:
        self.open = 0
        self.last = time.monotonic()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.open += 1
        try:
            return await handler(request)
        finally:
            self.open -= 1
            self.last = time.monotonic()

    def idle_for(self) -> float:
        return 0.0 if self.open else time.monotonic() - self.last


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("Api-Version", api_version(request))
    response.headers.setdefault("Ostype", "linux")
    response.headers.setdefault("Docker-Experimental", "false")
    response.headers["Server"] = "Docker/dockyard (linux)"


def make_app(api: Api, activity: Activity | None = None) -> web.Application:
    from .routes import all_routes

    middlewares: list[Any] = [errors_middleware, version_middleware]
    if activity is not None:
        middlewares.insert(0, activity.middleware)
    app = web.Application(middlewares=middlewares, client_max_size=MAX_BODY)
    app["api"] = api
    for rd in all_routes(api):
        rd.register(app.router)
        web.RouteDef(rd.method, "/v{version:[0-9][0-9.]*}" + rd.path, rd.handler, rd.kwargs).register(
            app.router
        )
    app.on_response_prepare.append(_headers)
    return app


# -- listening ------------------------------------------------------------------------------------------
def _listening_fd() -> socket.socket | None:
    """The socket systemd passed (socket activation: LISTEN_PID is us, LISTEN_FDS >= 1), if any."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()) or int(os.environ.get("LISTEN_FDS", "0") or 0) < 1:
        return None
    for key in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        os.environ.pop(key, None)
    return socket.socket(fileno=3)


def unix_listener(path: str) -> socket.socket:
    """A listening unix socket at ``path``: mode 0660, group ``dockyard`` when that group exists. A socket
    left by a server that is gone is replaced; one that a server answers on is refused."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        import stat

        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            raise InvalidArgument(f"{path} exists and is not a socket")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
        except OSError:
            os.unlink(path)  # nobody listens there
        else:
            raise InvalidArgument(f"another server is listening on {path}")
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)  # never reachable by others, not even for an instant
    try:
        sock.bind(path)
    finally:
        os.umask(old)
    try:
        gid = grp.getgrnam(SOCKET_GROUP).gr_gid
    except KeyError:
        gid = -1
    if gid != -1:
        os.chown(path, -1, gid)
    os.chmod(path, 0o660)
    sock.listen(128)
    sock.setblocking(False)
    return sock


def tls_context(cert: str, key: str, ca: str) -> ssl.SSLContext:
    """TLS that requires a client certificate signed by ``ca``."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_cert_chain(cert, key)
    return ctx


def check_tcp(tcp: str, cert: str, key: str, ca: str) -> tuple[str, int]:
    """``--tcp HOST:PORT``: refused unless TLS with client certificates is configured."""
    if not (cert and key and ca):
        raise InvalidArgument(
            "--tcp needs --tls-cert, --tls-key and --tls-ca: the API gives root over the machine, so it is "
            "served over TCP only with TLS and client certificates"
        )
    host, sep, port = tcp.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidArgument(f"invalid --tcp address {tcp!r}: HOST:PORT expected")
    return host.strip("[]") or "127.0.0.1", int(port)


async def _serve(
    api: Api,
    sock_path: str | None,
    idle: float,
    tcp: tuple[str, int] | None,
    tls: ssl.SSLContext | None,
    ready: Callable[[], None] | None,
) -> None:
    activity = Activity()
    app = make_app(api, activity)
    runner = web.AppRunner(
        app,
        handler_cancellation=True,  # a client that goes away ends its handler, and with it its stream
        access_log=None,
        max_line_size=MAX_LINE,
        max_field_size=MAX_FIELD,
    )
    await runner.setup()
    sites: list[web.BaseSite] = []
    passed = _listening_fd()
    if passed is not None:
        sites.append(web.SockSite(runner, passed))
    elif sock_path:
        sites.append(web.SockSite(runner, unix_listener(sock_path)))
    if tcp is not None:
        sites.append(web.TCPSite(runner, tcp[0], tcp[1], ssl_context=tls))
    for site in sites:
        await site.start()
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, done.set)
    if ready is not None:
        ready()
    try:
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout=min(idle, 1.0) if idle > 0 else None)
            if idle > 0 and activity.idle_for() >= idle:
                break
    finally:
        api.closing.set()  # streams end, their threads with them
        await runner.cleanup()
        api.pool.shutdown(wait=False, cancel_futures=True)
        if passed is None and sock_path:
            with contextlib.suppress(OSError):
                os.unlink(sock_path)


def serve(
    engine: Engine,
    socket_path: str | None = DEFAULT_SOCKET,
    *,
    idle: float = 0,
    tcp: str = "",
    tls_cert: str = "",
    tls_key: str = "",
    tls_ca: str = "",
    ready: Callable[[], None] | None = None,
) -> None:
    """Serve the Engine API for ``engine`` until SIGTERM/SIGINT, or until idle for ``idle`` seconds (0:
    for ever). ``ready`` is called once it listens."""
    tcp_addr = check_tcp(tcp, tls_cert, tls_key, tls_ca) if tcp else None
    tls = tls_context(tls_cert, tls_key, tls_ca) if tcp_addr else None
    if tls_cert or tls_key or tls_ca:
        for f in (tls_cert, tls_key, tls_ca):
            if f and not os.path.exists(f):
                raise InvalidArgument(f"no such file: {f}")
    asyncio.run(_serve(Api(engine), socket_path, idle, tcp_addr, tls, ready))
