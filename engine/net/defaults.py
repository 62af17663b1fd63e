"""Which network a container joins when none is named (kept light: the CLI imports it on every ``run``).

The default network is, in order: ``$DOCKYARD_DEFAULT_NETWORK``; ``default_network`` in
``<root>/networks/.config.json``; ``FALLBACK``. Docker's default is ``bridge``; a test suite or a
locked-down machine wants ``none``, so that containers get no route out unless asked for one.
"""

from __future__ import annotations

import os

from ..fsutil import read_json
from ..paths import Layout, resolve_root

ENV = "DOCKYARD_DEFAULT_NETWORK"
FALLBACK = "bridge"


def default_network(layout: Layout | None = None) -> str:
    env = os.environ.get(ENV, "").strip()
    if env:
        return env
    layout = layout or Layout(resolve_root())
    cfg = read_json(os.path.join(layout.networks, ".config.json"), {}) or {}
    return str(cfg.get("default_network") or FALLBACK)
