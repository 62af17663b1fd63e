"""An unexpected exception (a bug, not bad input) is written whole under the root's ``logs/`` and reported in
one line: the user sees what happened and where the trace is, never a raw traceback."""

from __future__ import annotations

import os
import time

from .paths import resolve_root


def record_crash(exc: BaseException, root: str | None = None, argv: list[str] | None = None) -> str:
    """Write ``exc`` with its traceback (and the command line) to ``ROOT/logs/crash-<time>-<pid>.txt``, or
    to the temporary directory when the root cannot be written; return the file's path."""
    import tempfile
    import traceback

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if argv is not None:
        text = "command: " + " ".join(argv) + "\n" + text
    name = f"crash-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{os.getpid()}.txt"
    for directory in (os.path.join(resolve_root(root), "logs"), tempfile.gettempdir()):
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            path = os.path.join(directory, name)
            with open(path, "w") as f:
                f.write(text)
            return path
        except OSError:
            continue
    return ""
