"""What every compose command shares: the project loaded from the group's flags, the progress lines on
standard error, the service arguments checked."""

from __future__ import annotations

import sys

from ..commands import engine

TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine import Compose

    from .. import flags


def progress(kind: str, name: str, action: str) -> None:
    """Compose's plain progress line: `` Container proj-web-1  Started`` (standard error)."""
    sys.stderr.write(f" {kind} {name}  {action}\n")
    sys.stderr.flush()


def warn(message: str) -> None:
    sys.stderr.write(f"WARN[0000] {message}\n")


def _checks(a: flags.Namespace) -> None:
    from engine import InvalidArgument

    if a.dry_run:
        raise InvalidArgument("--dry-run is not supported: dockyard changes the engine's state directly")
    if a.ansi not in ("never", "always", "auto"):
        raise InvalidArgument(f'unsupported --ansi value "{a.ansi}": "never", "always" or "auto"')
    if a.progress not in ("auto", "tty", "plain", "json", "quiet"):
        raise InvalidArgument(f'unsupported --progress value "{a.progress}"')


def load(a: flags.Namespace, *, need_file: bool = True) -> Compose:
    """The project of the group's flags (``-f``, ``-p``, ``--project-directory``, ``--env-file``,
    ``--profile``). Without ``need_file``, a ``-p NAME`` whose files cannot be found is enough: the
    command acts on what carries the project's label (``down``, ``ps``, ``logs``, ``stop``...)."""
    from engine import Compose, ComposeError, load_compose

    _checks(a)
    eng = engine()
    report = (lambda *_: None) if a.progress == "quiet" else progress
    try:
        project = load_compose(
            a.file, project_name=a.project_name or None, project_directory=a.project_directory or None,
            env_files=a.env_file or None, profiles=a.profile or None,
        )  # fmt: skip
    except ComposeError as e:
        if need_file or not a.project_name or a.file or "no configuration file provided" not in str(e):
            raise
        return Compose(eng, name=a.project_name, progress=report, warn=warn)
    return Compose(eng, project, progress=report, warn=warn)
