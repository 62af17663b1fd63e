"""The app on a context (Docker's contexts, engine/context/): the top bar names it; ctrl+e opens a picker
and the app reopens in place on the chosen context's engine (opened in a worker: an ssh:// one takes a
connection), its lists, events, figures and host bar following the new engine."""

from __future__ import annotations

import contextlib
import weakref

TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine import Engine

    from .app import DockyardApp
    from .hostinfo import HostSummary


def label(name: str, engine: Engine) -> str:
    """The top bar's words for the engine: its root (or service), and the context when it is not default."""
    where = str(engine.root)
    return where if name in ("", "default") else f"{name} · {where}"


def is_far(engine: object) -> bool:
    """A service on another machine (tcp://, ssh://): the host bar's figures would be this machine's."""
    host = str(getattr(engine, "host", "") or "")
    return host.startswith(("tcp://", "ssh://"))


def far_host() -> HostSummary:
    raise LookupError("the engine runs on another machine")


def open_context(name: str, root: str | None = None) -> Engine:
    """The engine of the context ``name`` (NotFound, or the service's error, when it cannot be opened);
    ``root``: the local engine root ``default`` opens (None: ``$DOCKYARD_ROOT`` or the default root)."""
    from engine import open_engine

    return open_engine(name, root=root)  # type: ignore[return-value]  # RemoteEngine offers what the app calls


#: The local engine root each app was opened on: what ``default`` opens again after another context.
_LOCAL_ROOTS: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()


def _local_root(dapp: DockyardApp) -> str | None:
    if not hasattr(dapp.engine, "client"):  # the local engine, not a service's
        _LOCAL_ROOTS[dapp] = str(dapp.engine.root)
    return _LOCAL_ROOTS.get(dapp)


def pick(app: object) -> None:
    """Show the contexts; the chosen one is opened in a worker, then the app switches to it."""
    from typing import cast

    from engine import ContextStore, DockyardError

    dapp = cast("DockyardApp", app)
    from .dialogs.context_picker import ContextPicker

    try:
        store = ContextStore()
        contexts = [(c.name, c.description, c.endpoint.host) for c in store.list()]
    except (DockyardError, OSError) as e:
        dapp.notify(f"Cannot read the contexts: {e}", severity="error")
        return
    current = getattr(dapp, "context_name", "") or "default"
    root = _local_root(dapp)
    if root:  # default is the root the app was opened on
        contexts = [(n, d, root if n == "default" else e) for n, d, e in contexts]

    def chosen(name: str | None) -> None:
        if name is None or name == current:
            return
        dapp.notify(f"Opening context {name}…", timeout=3)

        def work() -> None:
            try:
                engine = open_context(name, root)
            except Exception as e:  # noqa: BLE001 - shown, the app stays on its engine
                message = f"Cannot open context {name}: {e}"
                with contextlib.suppress(RuntimeError):
                    dapp.call_from_thread(dapp.notify, message, severity="error", timeout=10)
                return
            with contextlib.suppress(RuntimeError):
                dapp.call_from_thread(switch, dapp, engine, name)

        dapp.run_worker(work, name=f"context {name}", group="context", thread=True, exclusive=True)

    dapp.push_screen(ContextPicker(contexts, current), chosen)


def switch(dapp: DockyardApp, engine: Engine, name: str) -> None:
    """Reopen the app in place on ``engine`` (the context ``name``): the feeds of the old engine stop, the
    lists are read again from the new one, and the old engine's connections are closed."""
    from .feeds import EventFeed, HostFeed, StatsFeed
    from .hostinfo import read_host
    from .messages import Snapshot

    old = dapp.engine
    feeds = dapp.use_feeds and dapp.event_feed is not None
    for feed in (dapp.event_feed, dapp.stats_feed, dapp.host_feed):
        if feed is not None:
            feed.stop()
    dapp.engine = engine
    dapp.context_name = name
    dapp.root_label = label(name, engine)
    dapp.read_host = far_host if is_far(engine) else read_host
    dapp.host = None
    dapp.snapshot = Snapshot()
    dapp.snapshot_loaded = False
    main = dapp._ready_main()
    if main is not None:
        main.update_topbar()
    dapp.reload()
    if feeds:
        from .app import HOST_EVERY

        dapp.event_feed = EventFeed(engine, dapp.post_message)
        dapp.event_feed.start()
        dapp.stats_feed = StatsFeed(
            engine, dapp.post_message, wanted=dapp._stats_wanted, pace=dapp._stats_pace
        )
        dapp.stats_feed.start()
        dapp.host_feed = HostFeed(dapp.read_host, dapp.post_message, HOST_EVERY)
        dapp.host_feed.start()
    else:
        dapp._sample_host()
    closer = getattr(getattr(old, "client", None), "close", None)
    if callable(closer):
        closer()
    dapp.notify(f"Now on context {name}", timeout=3)
