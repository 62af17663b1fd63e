"""The import contracts in .importlinter (run by ``make lint``) hold for the tree, and catch what they are
for: an import pointing up a layer, a cycle, and a client reaching past the public API. Each breach is made
in a copy of the tree and must make ``lint-imports`` fail, naming the import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = os.path.join(os.path.dirname(sys.executable), "lint-imports")

pytestmark = pytest.mark.skipif(not os.path.exists(LINT_IMPORTS), reason="import-linter is not installed")


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}  # the copy's packages come before the installed ones
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--config", str(tree / ".importlinter")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    copy = tmp_path / "tree"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("engine", "app", "bench"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    shutil.copy(ROOT / ".importlinter", copy / ".importlinter")
    return copy


def add_import(tree: Path, module: str, line: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = tree / module.replace(".", "/") / "__init__.py"
    text = path.read_text()
    head, sep, rest = text.partition("from __future__ import annotations\n")
    path.write_text(head + sep + line + "\n" + rest)


def test_the_tree_keeps_its_contracts(tree: Path) -> None:
    result = lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_store_importing_the_api_breaks_the_layers(tree: Path) -> None:
    add_import(tree, "engine.store.blobs", "import engine.images  # noqa")
    result = lint(tree)
    assert result.returncode == 1
    assert "engine.store is not allowed to import engine.images" in result.stdout
    assert "engine.store.blobs -> engine.images" in result.stdout


def test_runtime_importing_build_breaks_the_layers(tree: Path) -> None:
    add_import(tree, "engine.runtime.wait", "import engine.build.cache  # noqa")
    result = lint(tree)
    assert result.returncode == 1
    assert "engine.runtime is not allowed to import engine.build" in result.stdout


def test_a_cycle_inside_a_package_is_refused(tree: Path) -> None:
    # build.events is imported by build.builder; importing the builder back closes a cycle among build's
    # modules, which no layer contract covers: the acyclic contract does
    add_import(tree, "engine.build.events", "import engine.build.builder  # noqa")
    result = lint(tree)
    assert result.returncode == 1
    assert "No cycles are allowed in engine.build" in result.stdout


def test_the_app_reaching_into_the_engine_is_refused(tree: Path) -> None:
    add_import(tree, "app.cli.output", "import engine.store.reference  # noqa")
    result = lint(tree)
    assert result.returncode == 1
    assert "app is not allowed to import engine.store" in result.stdout
