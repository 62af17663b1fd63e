"""``dockyard system service``: serve the Docker Engine API (app/service) for this root."""

from __future__ import annotations

from . import flags
from .commands import local_engine


def register(ss: flags.Commands) -> None:
    p = ss.add_parser(
        "service",
        help="Serve the Docker Engine API on a unix socket (DOCKER_HOST=unix://SOCKET for docker's clients)",
    )
    a = p.add_argument
    a("--socket", default="/run/dockyard.sock", metavar="PATH", help="The unix socket to listen on")
    a(
        "-t",
        "--time",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="Exit after this many seconds without a request (0: run until stopped)",
    )
    a(
        "--tcp",
        default="",
        metavar="HOST:PORT",
        help="Listen on TCP too (only with TLS and client certificates)",
    )
    a("--tls-cert", default="", metavar="FILE", help="The server's TLS certificate (PEM)")
    a("--tls-key", default="", metavar="FILE", help="The server's TLS key (PEM)")
    a("--tls-ca", default="", metavar="FILE", help="The CA whose certificates clients must present (PEM)")
    p.set_defaults(handler=cmd_service)
    p = ss.add_parser(
        "dial-stdio",
        help="Connect stdin and stdout to the engine's API service (what ssh runs for an ssh:// context)",
    )
    p.set_defaults(handler=cmd_dial_stdio)


def cmd_service(a: flags.Namespace) -> int:
    from engine import InvalidArgument

    if a.time < 0:
        raise InvalidArgument(f"invalid --time {a.time}: it must be 0 (no limit) or more seconds")
    from app.service.server import serve

    serve(
        local_engine(),
        a.socket,
        idle=a.time,
        tcp=a.tcp,
        tls_cert=a.tls_cert,
        tls_key=a.tls_key,
        tls_ca=a.tls_ca,
    )
    return 0


def cmd_dial_stdio(a: flags.Namespace) -> int:
    """One client's connection on stdin and stdout, to the root's service (started when none runs)."""
    import os

    from app.service.stdio import dial_stdio
    from engine import DockyardError

    root = os.path.abspath(os.environ.get("DOCKYARD_ROOT") or "/var/lib/dockyard")
    try:
        dial_stdio(root)
    except OSError as e:
        raise DockyardError(f"cannot reach the engine service for {root}: {e.strerror or e}") from None
    return 0
