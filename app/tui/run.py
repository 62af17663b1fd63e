"""Open the app: ``dockyard`` with no command on a terminal calls ``run_app``."""

from __future__ import annotations

import sys


def run_app(root: str | None = None) -> int:
    from engine import DockyardError, Engine

    from .app import DockyardApp
    from .config import Config

    try:
        engine = Engine(root)
    except (DockyardError, OSError) as e:
        sys.stderr.write(f"dockyard: cannot open the engine root: {e}\n")
        return 1
    app = DockyardApp(engine, Config.load())
    app.run()
    return app.return_code or 0
