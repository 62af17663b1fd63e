"""Writes the ``dockyard`` command of a virtual environment: ``python -m app.launcher VENV/bin/dockyard``.

pip's console script starts Python with its ``site`` module, which reads every ``.pth`` file of the
environment and runs ``sitecustomize`` (on Debian and Ubuntu that may load a crash reporter): 2-3 ms before
the first line of dockyard runs, on every call. Container commands take 15-25 ms in all, so the command
written here starts the interpreter with ``-S`` and puts on ``sys.path`` what ``site`` would have: this
project and the environment's site-packages (for rich and Textual). ``make`` writes it over pip's.
"""

from __future__ import annotations

import os
import sys
import sysconfig

TEMPLATE = """#!{python} -S
# dockyard's command, written by app/launcher.py: Python without the site module (faster start), with the
# paths site would have added.
import sys

sys.path[0:1] = [{project!r}]
sys.path.append({site_packages!r})
from app.cli.main import entry

entry()
"""


def script(python: str, project: str, site_packages: str) -> str:
    return TEMPLATE.format(python=python, project=project, site_packages=site_packages)


def install(path: str) -> None:
    """Write the command to ``path`` for the running interpreter and this project's sources."""
    project = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    python = os.path.join(os.path.dirname(os.path.abspath(path)), "python")
    if not os.path.exists(python):
        python = sys.executable
    text = script(python, project, sysconfig.get_paths()["purelib"])
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m app.launcher VENV/bin/dockyard")
    install(sys.argv[1])
