"""Docker's contexts: named engines to work on. ``ContextStore`` keeps them as Docker keeps its own (a
``meta.json`` per context in ``contexts/meta/<sha256 of the name>/``, TLS files in ``contexts/tls/<same>/docker``,
the current context's name in ``config.json``'s ``currentContext``), in the user's dockyard config directory.
``default`` is the local engine root and is never stored. ``open_engine(context)`` opens the engine a context
names: the local ``Engine`` for ``default``, a ``RemoteEngine`` for ``unix://``, ``tcp://`` (TLS) and
``ssh://`` hosts."""

from __future__ import annotations

from .open import open_engine
from .store import DEFAULT, Context, ContextStore, Endpoint, config_dir

__all__ = ["DEFAULT", "Context", "ContextStore", "Endpoint", "config_dir", "open_engine"]
