"""The app on a context (Docker's contexts, engine/context/): the top bar names it; ctrl+e opens a picker
and the app reopens in place on the chosen context's engine (opened in a worker: an ssh:// one takes a
connection), its lists, events, figures and host bar following the new engine. Several contexts marked in the
picker are opened together and shown side by side (app/tui/engines.py)."""

from __future__ import annotations

import contextlib
import weakref

TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine import EngineAPI

    from .app import DockyardApp
    from .hostinfo import HostSummary


def label(name: str, engine: EngineAPI) -> str:
    """The top bar's words for the engine: its root (or service), and the context when it is not default."""
    where = str(engine.root)
    return where if name in ("", "default") else f"{name} · {where}"


def is_far(engine: object) -> bool:
    """A service on another machine (tcp://, ssh://): the host bar's figures would be this machine's."""
    host = str(getattr(engine, "host", "") or "")
    return host.startswith(("tcp://", "ssh://"))


def far_host() -> HostSummary:
    raise LookupError("the engine runs on another machine")


def open_context(name: str, root: str | None = None) -> EngineAPI:
    """The engine of the context ``name`` (NotFound, or the service's error, when it cannot be opened);
    ``root``: the local engine root ``default`` opens (None: ``$DOCKYARD_ROOT`` or the default root)."""
    from engine import open_engine

    return open_engine(name, root=root)


def open_contexts(names: list[str], root: str | None = None) -> tuple[EngineAPI, list[str]]:
    """The engines of ``names`` side by side (one name: its engine alone), and why each context that could
    not be opened was left out; none opened: the first one's error."""
    from .engines import EngineSet

    if len(names) == 1:
        return open_context(names[0], root), []
    members: dict[str, EngineAPI] = {}
    problems: list[str] = []
    first: Exception | None = None
    for name in names:
        try:
            members[name] = open_context(name, root)
        except Exception as e:  # noqa: BLE001 - said, the others are shown
            problems.append(f"Cannot open context {name}: {e}")
            first = first or e
    if not members:
        assert first is not None
        raise first
    if len(members) == 1:
        return next(iter(members.values())), problems
    return EngineSet(members), problems


def set_name(engine: EngineAPI, name: str) -> str:
    """The top bar's name of what the app shows: the context, or the contexts side by side."""
    from .engines import EngineSet, members_of

    return " + ".join(members_of(engine)) if isinstance(engine, EngineSet) else name


#: The local engine root each app was opened on: what ``default`` opens again after another context.
_LOCAL_ROOTS: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()


def _local_root(dapp: DockyardApp) -> str | None:
    from engine import Engine

    from .engines import members_of

    shown = members_of(dapp.engine)
    local = shown.get("default") or next(iter(shown.values()))
    if isinstance(local, Engine):  # the local engine, not a service's
        _LOCAL_ROOTS[dapp] = str(local.root)
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
    from .engines import EngineSet, members_of

    shown = list(members_of(dapp.engine)) if isinstance(dapp.engine, EngineSet) else [current]
    root = _local_root(dapp)
    if root:  # default is the root the app was opened on
        contexts = [(n, d, root if n == "default" else e) for n, d, e in contexts]

    def chosen(names: list[str] | None) -> None:
        if not names or names == shown:
            return
        name = " + ".join(names)
        dapp.notify(f"Opening {'contexts' if len(names) > 1 else 'context'} {name}…", timeout=3)

        def work() -> None:
            try:
                engine, problems = open_contexts(names, root)
            except Exception as e:  # noqa: BLE001 - shown, the app stays on its engine
                problems, engine = [f"Cannot open context {name}: {e}"], None
            for message in problems:
                with contextlib.suppress(RuntimeError):
                    dapp.call_from_thread(dapp.notify, message, severity="error", timeout=10)
            if engine is not None:
                with contextlib.suppress(RuntimeError):
                    dapp.call_from_thread(switch, dapp, engine, set_name(engine, names[0]))

        dapp.run_worker(work, name=f"context {name}", group="context", thread=True, exclusive=True)

    dapp.push_screen(ContextPicker(contexts, current, shown), chosen)


def switch(dapp: DockyardApp, engine: EngineAPI, name: str) -> None:
    """Reopen the app in place on ``engine`` (the context ``name``): the feeds of the old engine stop, the
    lists are read again from the new one, and the old engine's connections are closed."""
    from .engines import EngineSet, event_feed, members_of
    from .feeds import HostFeed, StatsFeed
    from .hostinfo import read_host
    from .messages import Snapshot

    old = dapp.engine
    feeds = dapp.use_feeds and dapp.event_feed is not None
    for feed in (dapp.event_feed, dapp.stats_feed, dapp.host_feed):
        if feed is not None:
            feed.stop()
    dapp.engine = engine
    if dapp.use_feeds:
        dapp._stand_by()
    dapp.context_name = name
    dapp.root_label = label(name, engine)
    far = any(is_far(e) for e in members_of(engine).values())
    dapp.read_host = far_host if far else read_host
    dapp.host = None
    dapp.snapshot = Snapshot()
    dapp.snapshot_loaded = False
    main = dapp._ready_main()
    if main is not None:
        main.update_topbar()
    dapp.reload()
    if feeds:
        from .app import HOST_EVERY

        dapp.event_feed = event_feed(engine, dapp.post_message)
        dapp.event_feed.start()
        dapp.stats_feed = StatsFeed(
            engine, dapp.post_message, wanted=dapp._stats_wanted, pace=dapp._stats_pace
        )
        dapp.stats_feed.start()
        dapp.host_feed = HostFeed(dapp.read_host, dapp.post_message, HOST_EVERY)
        dapp.host_feed.start()
    else:
        dapp._sample_host()
    close_engine(old, keep=engine)
    dapp.notify(f"Now on {'contexts' if isinstance(engine, EngineSet) else 'context'} {name}", timeout=3)


def close_engine(old: EngineAPI, keep: EngineAPI | None = None) -> None:
    """Close the connections of ``old`` (a service's, or those of a set's services) that ``keep`` does not
    use any more."""
    from .engines import EngineSet

    kept = {id(e) for e in (keep.members.values() if isinstance(keep, EngineSet) else [keep])}
    for eng in old.members.values() if isinstance(old, EngineSet) else [old]:
        closer = getattr(getattr(eng, "client", None), "close", None)
        if callable(closer) and id(eng) not in kept:
            closer()
