"""What a piece of dockyard loads: the start-up tests' one probe."""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter without ``site`` (as the ``dockyard`` command runs) holds after
    running ``code`` with this project on its path."""
    script = f"import sys\nsys.path.insert(0, {ROOT!r})\n{code}\nprint(' '.join(sorted(sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-S", "-c", script], capture_output=True, text=True, check=True, cwd="/"
    )
    return set(result.stdout.split())
