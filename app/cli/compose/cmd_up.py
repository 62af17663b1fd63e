"""``compose up``, ``create``, ``down``, ``start``, ``stop``, ``restart``, ``kill``, ``rm``, ``pause``,
``unpause``, ``build``."""

from __future__ import annotations

import sys

from .common import load
from .common import refuse as _refuse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from engine import Compose

    from .. import flags


def _services(p: flags.Parser) -> None:
    p.add_argument("services", nargs="*", metavar="SERVICE")


def _timeout(p: flags.Parser) -> None:
    p.add_argument("-t", "--timeout", type=int, help="Specify a shutdown timeout in seconds")


def _build_and_recreate(p: flags.Parser) -> None:
    """up's and create's --build, --no-build, --force-recreate, --no-recreate."""
    p.add_argument("--build", action="store_true", help="Build images before starting containers")
    p.add_argument("--no-build", action="store_true", help="Don't build an image, even if it's policy")
    p.add_argument(
        "--force-recreate",
        action="store_true",
        help="Recreate containers even if their configuration and image haven't changed",
    )
    p.add_argument(
        "--no-recreate", action="store_true", help="If containers already exist, don't recreate them"
    )


def _remove_orphans(p: flags.Parser) -> None:
    p.add_argument(
        "--remove-orphans",
        action="store_true",
        help="Remove containers for services not defined in the Compose file",
    )


def _orphans_and_scale(p: flags.Parser) -> None:
    _remove_orphans(p)
    p.add_argument(
        "--scale", action="append", default=[], help="Scale SERVICE to NUM instances (SERVICE=NUM)"
    )


def _pull(p: flags.Parser) -> None:
    p.add_argument("--pull", default="policy", help='Pull image before running ("always"|"missing"|"never")')
    p.add_argument("--quiet-pull", action="store_true", help="Pull without printing progress information")


def _yes(p: flags.Parser) -> None:
    p.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help='Assume "yes" as answer to all prompts and run non-interactively',
    )


def register(cs: flags.Commands) -> None:
    p = cs.add_parser("up", help="Create and start containers")
    a = p.add_argument
    a("-d", "--detach", action="store_true", help="Detached mode: Run containers in the background")
    _build_and_recreate(p)
    a("--no-deps", action="store_true", help="Don't start linked services")
    a("--no-start", action="store_true", help="Don't start the services after creating them")
    _orphans_and_scale(p)
    _timeout(p)
    a("--wait", action="store_true", help="Wait for services to be running|healthy. Implies detached mode.")
    a(
        "--wait-timeout",
        type=int,
        help="Maximum duration in seconds to wait for the project to be running|healthy",
    )
    _pull(p)
    a(
        "--abort-on-container-exit",
        action="store_true",
        help="Stops all containers if any container was stopped",
    )
    a(
        "--abort-on-container-failure",
        action="store_true",
        help="Stops all containers if any container exited with failure",
    )
    a("--exit-code-from", default="", help="Return the exit code of the selected service container")
    a("--attach", action="append", default=[], help="Restrict attaching to the specified services")
    a(
        "--no-attach",
        action="append",
        default=[],
        help="Do not attach (stream logs) to the specified services",
    )
    a(
        "--attach-dependencies",
        action="store_true",
        help="Automatically attach to log output of dependent services",
    )
    a("--no-color", action="store_true", help="Produce monochrome output")
    a("--no-log-prefix", action="store_true", help="Don't print prefix in logs")
    a("--timestamps", action="store_true", help="Show timestamps")
    a(
        "-V",
        "--renew-anon-volumes",
        action="store_true",
        help="Recreate anonymous volumes instead of retrieving data from the previous containers",
    )
    a("--always-recreate-deps", action="store_true", help="Recreate dependent containers")
    _yes(p)
    a(
        "-w",
        "--watch",
        action="store_true",
        help="Watch source code and rebuild/refresh containers when files are updated (refused)",
    )
    a("--menu", action="store_true", help="Enable interactive shortcuts when running attached (refused)")
    _services(p)
    p.set_defaults(handler=cmd_up)

    p = cs.add_parser("create", help="Creates containers for a service")
    _build_and_recreate(p)
    _orphans_and_scale(p)
    _pull(p)
    _yes(p)
    _services(p)
    p.set_defaults(handler=cmd_create)

    p = cs.add_parser("down", help="Stop and remove containers, networks")
    _remove_orphans(p)
    p.add_argument(
        "--rmi",
        default="",
        help='Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")',
    )
    _timeout(p)
    p.add_argument(
        "-v",
        "--volumes",
        action="store_true",
        help='Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers',
    )
    _services(p)
    p.set_defaults(handler=cmd_down)

    p = cs.add_parser("start", help="Start services")
    _services(p)
    p.set_defaults(handler=cmd_start)
    p = cs.add_parser("stop", help="Stop services")
    _timeout(p)
    _services(p)
    p.set_defaults(handler=cmd_stop)
    p = cs.add_parser("restart", help="Restart service containers")
    _timeout(p)
    p.add_argument("--no-deps", action="store_true", help="Don't restart dependent services")
    _services(p)
    p.set_defaults(handler=cmd_restart)
    p = cs.add_parser("kill", help="Force stop service containers")
    p.add_argument("-s", "--signal", default="SIGKILL", help="SIGNAL to send to the container")
    _remove_orphans(p)
    _services(p)
    p.set_defaults(handler=cmd_kill)
    p = cs.add_parser("rm", help="Removes stopped service containers")
    p.add_argument("-f", "--force", action="store_true", help="Don't ask to confirm removal")
    p.add_argument(
        "-s", "--stop", action="store_true", help="Stop the containers, if required, before removing"
    )
    p.add_argument(
        "-v", "--volumes", action="store_true", help="Remove any anonymous volumes attached to containers"
    )
    _services(p)
    p.set_defaults(handler=cmd_rm)
    p = cs.add_parser("pause", help="Pause services")
    _services(p)
    p.set_defaults(handler=cmd_pause)
    p = cs.add_parser("unpause", help="Unpause services")
    _services(p)
    p.set_defaults(handler=cmd_unpause)
    p = cs.add_parser("build", help="Build or rebuild services")
    p.add_argument("-q", "--quiet", action="store_true", help="Don't print anything to STDOUT")
    p.add_argument("--no-cache", action="store_true", help="Do not use cache when building the image")
    _services(p)
    p.set_defaults(handler=cmd_build)


def _scale(values: list[str]) -> dict[str, int]:
    from engine import InvalidArgument

    out = {}
    for v in values:
        name, eq, num = v.partition("=")
        if not eq or not num.strip().isdigit():
            raise InvalidArgument(f"invalid --scale value {v!r}: SERVICE=NUM")
        out[name] = int(num)
    return out


def _build_mode(a: flags.Namespace) -> bool | None:
    from engine import InvalidArgument

    if a.build and a.no_build:
        raise InvalidArgument("--build and --no-build are incompatible")
    return True if a.build else (False if a.no_build else None)


def _pull_mode(a: flags.Namespace) -> str:
    from engine import InvalidArgument

    if a.pull not in ("policy", "always", "missing", "never", "build"):
        raise InvalidArgument(f'invalid --pull option "{a.pull}"')
    return "missing" if a.pull == "policy" else a.pull


def _build_printer(quiet: bool = False) -> Any:
    def show(service: str, event: Any) -> None:
        msg = getattr(event, "message", "")
        if msg and not quiet:
            sys.stderr.write(f"{service}  {msg.rstrip()}\n")

    return show


def cmd_up(a: flags.Namespace) -> int:
    if a.watch:
        _refuse(
            "--watch",
            "an attached up does not watch here: run dockyard compose watch, which brings the services up first",
        )
    if a.menu:
        _refuse("--menu", "dockyard compose has no interactive shortcuts")
    if a.renew_anon_volumes:
        _refuse("-V, --renew-anon-volumes", "recreated containers always get new anonymous volumes here")
    if a.always_recreate_deps:
        _refuse(
            "--always-recreate-deps", "only the services whose configuration or image changed are recreated"
        )
    cp = load(a)
    detach = a.detach or a.wait
    if detach and (a.abort_on_container_exit or a.exit_code_from or a.abort_on_container_failure):
        from engine import InvalidArgument

        raise InvalidArgument("--abort-on-container-exit and --detach are incompatible options")
    cp.project.enable(a.services)
    cp.check_services([*a.services, *([a.exit_code_from] if a.exit_code_from else [])])
    containers = cp.up(
        a.services or None,
        _build_printer(),
        scale=_scale(a.scale), build=_build_mode(a), force_recreate=a.force_recreate,
        no_recreate=a.no_recreate, no_deps=a.no_deps, no_start=a.no_start, remove_orphans=a.remove_orphans,
        pull=_pull_mode(a), timeout=a.timeout, wait=a.wait,
        wait_timeout=float(a.wait_timeout) if a.wait_timeout else None,
    )  # fmt: skip
    if detach or a.no_start:
        return 0
    from .cmd_logs import attached

    shown = [c for c in containers if _attached_to(a, c.labels.get("com.docker.compose.service", ""))]
    return attached(cp, shown, a)


def _attached_to(a: flags.Namespace, service: str) -> bool:
    if service in a.no_attach:
        return False
    if a.attach:
        return service in a.attach
    return not a.services or a.attach_dependencies or service in a.services


def cmd_create(a: flags.Namespace) -> int:
    cp = load(a)
    cp.create_only(
        a.services or None, scale=_scale(a.scale), build=_build_mode(a), force_recreate=a.force_recreate,
        no_recreate=a.no_recreate, remove_orphans=a.remove_orphans, pull=_pull_mode(a),
    )  # fmt: skip
    return 0


def cmd_down(a: flags.Namespace) -> int:
    from engine import InvalidArgument

    if a.rmi not in ("", "local", "all"):
        raise InvalidArgument(f'invalid value for --rmi: "{a.rmi}": "local" or "all"')
    cp = load(a, need_file=False)
    if a.services:
        cp.check_services(a.services)
        cp.stop(a.services, a.timeout)
        cp.remove(cp.removable(a.services, stopping=True), stopping=True, volumes=a.volumes)
        return 0
    cp.down(remove_orphans=a.remove_orphans, volumes=a.volumes, images=a.rmi or None, timeout=a.timeout)
    return 0


def cmd_start(a: flags.Namespace) -> int:
    load(a, need_file=False).start(a.services or None)
    return 0


def cmd_stop(a: flags.Namespace) -> int:
    load(a, need_file=False).stop(a.services or None, a.timeout)
    return 0


def cmd_restart(a: flags.Namespace) -> int:
    cp = load(a, need_file=False)
    services = a.services or None
    if services and not a.no_deps and cp.services:
        services = [s for s in cp.services if s in set(services) | set(_dependents(cp, services))]
    cp.restart(services, a.timeout)
    return 0


def _dependents(cp: Compose, services: list[str]) -> list[str]:
    return cp.project.dependents(services)


def cmd_kill(a: flags.Namespace) -> int:
    cp = load(a, need_file=False)
    if a.remove_orphans:
        orphans = cp.project.orphans()
        cp.remove(orphans, stopping=True)
    cp.kill(a.services or None, a.signal)
    return 0


def cmd_rm(a: flags.Namespace) -> int:
    cp = load(a, need_file=False)
    found = cp.removable(a.services or None, stopping=a.stop)
    if not found:
        sys.stderr.write("No stopped containers\n")
        return 0
    if not a.force:
        sys.stderr.write("Going to remove " + ", ".join(c.name for c in found) + "\n? Are you sure? [yN] ")
        sys.stderr.flush()
        try:
            answer = sys.stdin.readline().strip().lower()
        except (EOFError, OSError):
            answer = ""
        if answer not in ("y", "yes"):
            return 0
    cp.remove(found, stopping=a.stop, volumes=a.volumes)
    return 0


def cmd_pause(a: flags.Namespace) -> int:
    load(a, need_file=False).pause(a.services or None)
    return 0


def cmd_unpause(a: flags.Namespace) -> int:
    load(a, need_file=False).unpause(a.services or None)
    return 0


def cmd_build(a: flags.Namespace) -> int:
    cp = load(a)
    for service in cp.build(a.services or None, _build_printer(a.quiet), a.no_cache):
        if not a.quiet:
            sys.stderr.write(f" Service {service}  Built\n")
    return 0
