"""What every compose command shares: the project loaded from the group's flags, the progress lines on
standard error, the service arguments checked."""

from __future__ import annotations

import sys

from ..commands import local_engine

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


def refuse(flag: str, why: str) -> None:
    """A Docker Compose flag dockyard refuses on purpose: why, with status 125."""
    from engine import InvalidArgument

    e = InvalidArgument(f"{flag} is not supported: {why}")
    e.status_always = True  # type: ignore[attr-defined]
    raise e


def _checks(a: flags.Namespace) -> None:
    from engine import InvalidArgument

    if a.dry_run:
        refuse("--dry-run", "dockyard changes the engine's state directly and cannot rehearse it")
    if a.compatibility:
        refuse("--compatibility", "names are always Compose v2's (PROJECT-SERVICE-N), never v1's")
    if a.all_resources:
        refuse("--all-resources", "only the networks and volumes the chosen services use are made")
    if a.ansi not in ("never", "always", "auto"):
        raise InvalidArgument(f'unsupported --ansi value "{a.ansi}": "never", "always" or "auto"')
    if a.progress not in ("auto", "tty", "plain", "json", "quiet"):
        raise InvalidArgument(f'unsupported --progress value "{a.progress}"')
    if a.progress == "json":
        refuse(
            "--progress json",
            "progress is printed as plain lines (auto, tty and plain) or not at all (quiet)",
        )


def load(a: flags.Namespace, *, need_file: bool = True) -> Compose:
    """The project of the group's flags (``-f``, ``-p``, ``--project-directory``, ``--env-file``,
    ``--profile``). Without ``need_file``, a ``-p NAME`` whose files cannot be found is enough: the
    command acts on what carries the project's label (``down``, ``ps``, ``logs``, ``stop``...)."""
    from engine import Compose, ComposeError, load_compose

    _checks(a)
    eng = local_engine()  # compose works on the root's own records
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
