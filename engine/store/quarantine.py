"""Damaged files are moved aside, never deleted: ``ROOT/quarantine/<time>-<where it was>``.

What a repair or a rebuild replaces (a garbled state file, an unreadable image record, a layer whose
content does not match its digest) goes here whole, so nothing a user might still want is lost; removing
the directory is the user's call (``system check`` lists what it holds).
"""

from __future__ import annotations

import os
import time

from engine.paths import Layout


def keep(layout: Layout, path: str) -> str:
    """Move ``path`` (a file or a directory inside the root) into the quarantine; return where it went."""
    os.makedirs(layout.quarantine, mode=0o700, exist_ok=True)
    rel = os.path.relpath(path, layout.root).replace(os.sep, "_")
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    dest = os.path.join(layout.quarantine, f"{stamp}-{os.getpid()}-{rel}")
    n = 0
    while os.path.lexists(dest + (f".{n}" if n else "")):
        n += 1
    dest += f".{n}" if n else ""
    os.rename(path, dest)
    return dest


def held(layout: Layout) -> list[str]:
    """What the quarantine holds (names, oldest first)."""
    try:
        return sorted(os.listdir(layout.quarantine))
    except FileNotFoundError:
        return []
