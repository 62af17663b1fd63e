"""``compose config``: the project's files merged, interpolated, validated and printed in canonical form."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from engine import ComposeModel

    from .. import flags


def register(cs: flags.Commands) -> None:
    p = cs.add_parser("config", help="Parse, resolve and render compose file in canonical format")
    a = p.add_argument
    a("--format", default="yaml", help='Format the output. Values: [yaml | json] (default "yaml")')
    a("--hash", default=None, help="Print the service config hash, one per line")
    a("--images", action="store_true", help="Print the image names, one per line")
    a("--networks", action="store_true", help="Print the network names, one per line")
    a("--no-interpolate", action="store_true", help="Don't interpolate environment variables")
    a("-o", "--output", default="", help="Save to file (default to stdout)")
    a("--profiles", action="store_true", help="Print the profile names, one per line")
    a("-q", "--quiet", action="store_true", help="Only validate the configuration, don't print anything")
    a("--services", action="store_true", help="Print the service names, one per line")
    a("--volumes", action="store_true", help="Print the volume names, one per line")
    a("--variables", action="store_true", help="Print model variables and default values (refused)")
    a(
        "--resolve-image-digests",
        action="store_true",
        help="Pin image tags to digests (refused: it needs a registry)",
    )
    a("--no-normalize", action="store_true", help="Don't normalize compose model (refused)")
    a("--no-path-resolution", action="store_true", help="Don't resolve file paths (refused)")
    a("--no-consistency", action="store_true", help="Don't check model consistency (refused)")
    # a refused flag exits 125, a bad compose file 1 (ComposeError), as Docker Compose does
    p.set_defaults(handler=cmd_config, docker_exit_codes=True)


_REFUSED = {
    "variables": "--variables is not supported: dockyard does not keep the files' variables apart",
    "resolve_image_digests": "--resolve-image-digests is not supported: it asks a registry for each image's digest",
    "no_normalize": "--no-normalize is not supported: dockyard prints the model it runs, always normalised",
    "no_path_resolution": "--no-path-resolution is not supported: paths are made absolute as the files are read",
    "no_consistency": "--no-consistency is not supported: a project that refers to what it lacks is refused",
}


def _escaped(value: Any) -> Any:
    """Strings with ``$`` written ``$$``, so that the output reads back as the same model."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    return value


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def render(project: ComposeModel, fmt: str, escape: bool = True) -> str:
    """The model as ``docker compose config`` prints it: ``name`` first, then services, networks,
    volumes, configs and secrets, each with its keys sorted."""
    model = project.to_dict()
    ordered = {k: _sorted(v) for k, v in model.items()}
    if escape:
        ordered = _escaped(ordered)
    if fmt == "json":
        import json

        return json.dumps(ordered, indent=2) + "\n"
    import yaml

    return yaml.safe_dump(
        ordered, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1 << 30
    )


def cmd_config(a: flags.Namespace) -> int:
    from engine import InvalidArgument, load_compose

    from .common import _checks, warn

    _checks(a)
    for flag, reason in _REFUSED.items():
        if getattr(a, flag):
            raise InvalidArgument(reason)
    if a.format not in ("yaml", "json"):
        raise InvalidArgument(f'unsupported format "{a.format}": yaml or json')
    stdin_text = sys.stdin.read() if "-" in a.file else None
    project = load_compose(
        a.file,
        project_name=a.project_name or None,
        project_directory=a.project_directory or None,
        env_files=a.env_file or (),
        profiles=a.profile or (),
        interpolate=not a.no_interpolate,
        stdin_text=stdin_text,
    )
    for message in project.warnings:
        warn(message)
    lines: list[str] | None = None
    if a.services:
        lines = list(project.services)
    elif a.volumes:
        lines = list(project.volumes)
    elif a.networks:
        lines = list(project.networks)
    elif a.profiles:
        every = [*project.services.values(), *project.disabled.values()]
        lines = sorted({p for s in every for p in s.profiles})
    elif a.images:
        lines = [s.image or f"{project.name}-{s.name}" for s in project.services.values()]
    elif a.hash is not None:
        from engine import Compose

        from ..commands import local_engine

        wanted = list(project.services) if a.hash == "*" else [s for s in a.hash.split(",") if s]
        for name in wanted:
            if name not in project.services:
                from engine import ComposeError

                raise ComposeError(f"no such service: {name}")
        compose = Compose(local_engine(), project)
        lines = [f"{s} {compose.project.config_hash(s)}" for s in wanted]
    if a.quiet:
        return 0
    text = "".join(f"{line}\n" for line in lines) if lines is not None else render(project, a.format)
    if a.output:
        with open(a.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0
