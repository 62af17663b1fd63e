"""``open_engine``: the engine a context names."""

from __future__ import annotations

from .store import Context, ContextStore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..engine import Engine
    from ..remote import RemoteEngine


def open_engine(
    context: Context | str | None = None, root: str | None = None, store: ContextStore | None = None
) -> Engine | RemoteEngine:
    """The engine of ``context`` (a Context, a context's name, or None: the current one, see
    :meth:`ContextStore.current`). ``default`` is the local engine at ``root`` (None: ``$DOCKYARD_ROOT`` or
    the default root); any other context the service at its endpoint (``unix://``, ``tcp://`` with its TLS
    files, or ``ssh://`` through the system ``ssh`` client). NotFound for a context that does not exist;
    a service that does not answer is an error at once."""
    if not isinstance(context, Context):
        store = store or ContextStore()
        context = store.get(context or store.current())
    if context.is_default:
        from ..engine import Engine

        return Engine(root)
    from ..remote import RemoteEngine, TLSOptions

    ep = context.endpoint
    tls = None
    if ep.host.startswith("tcp://") or ep.ca or ep.cert or ep.key:
        tls = TLSOptions(not ep.skip_tls_verify and bool(ep.ca), ep.ca, ep.cert, ep.key)
    return RemoteEngine(ep.host, tls)
