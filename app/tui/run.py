"""Open the app: ``dockyard`` with no command on a terminal calls ``run_app``; with ``--host`` (or
``$DOCKYARD_HOST``) the app opens on an Engine API service instead of the engine root; with ``--context``
(``$DOCKYARD_CONTEXT``, or the one ``dockyard context use`` chose) on that context's engine."""

from __future__ import annotations

import os
import sys

#: How long a lone Escape byte waits for the rest of a key's escape sequence, in ms (Textual's ``ESCDELAY``,
#: 100 by default there: every Escape, the filter's "clear" too, took that long). A terminal writes each key's
#: sequence at once, so 25 ms holds over SSH as well; ``ESCDELAY`` in the environment still decides.
ESCAPE_DELAY_MS = 25


def run_app(
    root: str | None = None,
    host: str | None = None,
    tls: bool = False,
    tlsverify: bool = False,
    tlscacert: str | None = None,
    tlscert: str | None = None,
    tlskey: str | None = None,
    context: str | None = None,
) -> int:
    from engine import DockyardError, Engine, EngineAPI

    os.environ.setdefault("ESCDELAY", str(ESCAPE_DELAY_MS))  # before Textual reads it (on its import)
    from .app import DockyardApp
    from .config import Config

    host = host or os.environ.get("DOCKYARD_HOST") or None
    name = ""
    config = Config.load()
    if not host and not context and not root and len(config.engines) > 1:
        return _run_set(config)  # the settings' engines, side by side
    if not host:
        try:
            name = _context_name(context, root)
        except (DockyardError, OSError) as e:
            sys.stderr.write(f"dockyard: {e}\n")
            return 125
    if name:
        return _run_context(name)
    engine: EngineAPI
    try:
        if host:
            engine = open_remote(root, host, tls, tlsverify, tlscacert, tlscert, tlskey)
        else:
            engine = Engine(root)
    except (DockyardError, OSError) as e:
        where = f"the service at {host}" if host else "the engine root"
        sys.stderr.write(f"dockyard: cannot open {where}: {e}\n")
        return 125 if host else 1
    if host and host.startswith(("tcp://", "ssh://")):
        app = DockyardApp(engine, config, host=_far_host)
    else:
        app = DockyardApp(engine, config)
    app.run()
    return app.return_code or 0


def _context_name(context: str | None, root: str | None) -> str:
    """The context to open ("" for the local root): ``--context``, else ``$DOCKYARD_CONTEXT``, else the
    current one; ``--root`` means the local root unless a context is named."""
    from engine import ContextStore, InvalidArgument

    store = ContextStore()
    if context and root:
        raise InvalidArgument("--root and --context name two engines: choose one")
    name = context or (store.current() if not root else "default")
    if not store.exists(name):
        raise InvalidArgument(f'context "{name}" does not exist (dockyard context ls lists them)')
    return "" if name == "default" else name


def _run_context(name: str) -> int:
    from engine import DockyardError

    from .app import DockyardApp
    from .config import Config
    from .contexts import far_host, is_far, label, open_context

    try:
        engine = open_context(name)
    except (DockyardError, OSError) as e:
        sys.stderr.write(f"dockyard: cannot open context {name}: {e}\n")
        return 1
    if is_far(engine):
        app = DockyardApp(engine, Config.load(), host=far_host)
    else:
        app = DockyardApp(engine, Config.load())
    app.context_name = name
    app.root_label = label(name, engine)
    try:
        app.run()
    finally:
        closer = getattr(getattr(app.engine, "client", None), "close", None)
        if callable(closer):
            closer()  # over ssh: the connections end, and the far side's processes with them
    return app.return_code or 0


def _run_set(config: Config) -> int:
    """The app on the engines the settings name (``engines = ["default", "podman"]``), side by side; a
    context that cannot be opened is said, the others are shown."""
    from .app import DockyardApp
    from .contexts import close_engine, far_host, is_far, open_contexts, set_name
    from .engines import members_of

    try:
        engine, problems = open_contexts(list(config.engines))
    except Exception as e:  # noqa: BLE001 - none of them could be opened
        sys.stderr.write(f"dockyard: cannot open the engines {', '.join(config.engines)}: {e}\n")
        return 1
    far = any(is_far(e) for e in members_of(engine).values())
    app = DockyardApp(engine, config, host=far_host) if far else DockyardApp(engine, config)
    app.context_name = set_name(engine, config.engines[0])
    app.root_label = app.context_name
    for problem in problems:
        config.problem = (config.problem + "; " if config.problem else "") + problem
    try:
        app.run()
    finally:
        close_engine(app.engine)
    return app.return_code or 0


def _far_host() -> HostSummary:
    """The top bar's figures are this machine's: none for a service on another host."""
    raise LookupError("the service runs on another machine")


def open_remote(
    root: str | None,
    host: str,
    tls: bool = False,
    tlsverify: bool = False,
    tlscacert: str | None = None,
    tlscert: str | None = None,
    tlskey: str | None = None,
) -> RemoteEngine:
    """The engine of the service at ``host`` (``RemoteEngine``: an ``EngineAPI``, as ``Engine`` is). TLS as Docker's
    client: the flags, else ``$DOCKYARD_TLS_VERIFY`` and ``$DOCKYARD_CERT_PATH`` (ca.pem, cert.pem, key.pem)."""
    from engine import InvalidArgument, RemoteEngine, TLSOptions

    if root:
        raise InvalidArgument("--root and --host name two engines: choose one")
    env = os.environ
    verify = tlsverify or env.get("DOCKYARD_TLS_VERIFY", "") not in ("", "0")
    certs = env.get("DOCKYARD_CERT_PATH", "")
    options = None
    if tls or verify or tlscacert or tlscert or tlskey or certs:

        def default(given: str | None, name: str) -> str:
            if given:
                return given
            return os.path.join(certs, name) if certs else ""

        options = TLSOptions(
            verify, default(tlscacert, "ca.pem"), default(tlscert, "cert.pem"), default(tlskey, "key.pem")
        )
    return RemoteEngine(host, options)


TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine import RemoteEngine

    from .config import Config
    from .hostinfo import HostSummary
