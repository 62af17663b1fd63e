"""``compose run``: a one-off container of a service, its command and some options replaced; no published
ports unless asked (``--service-ports``, ``-p``), no restart policy, no network aliases unless asked."""

from __future__ import annotations

import os

from . import labels as L
from .convert import check_service, container_options
from .up import create

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..model.container import Container
    from .project import ComposeProject


def create_oneoff(
    cp: ComposeProject,
    service: str,
    image_id: str,
    *,
    name: str | None = None,
    command: list[str] | None = None,
    entrypoint: list[str] | None = None,
    env: list[str] | None = None,
    labels: dict[str, str] | None = None,
    user: str | None = None,
    workdir: str | None = None,
    volumes: list[str] | None = None,
    ports: list[str] | None = None,
    service_ports: bool = False,
    use_aliases: bool = False,
    tty: bool = False,
    stdin_open: bool = False,
    auto_remove: bool = False,
    cap_add: list[str] | None = None,
    cap_drop: list[str] | None = None,
) -> Container:
    check_service(cp, service)
    name = name or f"{cp.name}-{service}-run-{os.urandom(6).hex()}"
    opts = container_options(cp, service, name, image_id=image_id, oneoff=True)
    opts.labels[L.NUMBER] = "1"
    if command:
        opts.command = list(command)
    if entrypoint is not None:
        opts.entrypoint = list(entrypoint)
        if command is None:
            opts.command = []
    if env:
        keys = {e.partition("=")[0] for e in env}
        opts.env = [e for e in opts.env if e.partition("=")[0] not in keys] + list(env)
    opts.labels.update(labels or {})
    if user is not None:
        opts.user = user
    if workdir is not None:
        opts.working_dir = workdir
    opts.volumes = [*opts.volumes, *(volumes or [])]
    if not service_ports:
        opts.ports = []
    opts.ports = [*opts.ports, *(ports or [])]
    if not use_aliases:
        opts.aliases = []
    opts.restart = "no"
    opts.tty = tty
    opts.stdin_open = stdin_open
    opts.auto_remove = auto_remove
    opts.cap_add = [*opts.cap_add, *(cap_add or [])]
    opts.cap_drop = [*opts.cap_drop, *(cap_drop or [])]
    return create(cp, service, name, 1, image_id, opts)
