"""``dockyard compose``: Docker Compose's commands over the in-process engine (docs/COMPOSE.md)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .. import flags


def register(sub: flags.Commands) -> None:
    from . import cmd_config, cmd_exec, cmd_logs, cmd_more, cmd_ps, cmd_up, cmd_watch

    g = sub.add_parser("compose", help="Define and run multi-container applications")
    a = g.add_argument
    a("-f", "--file", action="append", default=[], help="Compose configuration files")
    a("-p", "--project-name", default="", help="Project name")
    a("--profile", action="append", default=[], help="Specify a profile to enable")
    a("--env-file", action="append", default=[], help="Specify an alternate environment file")
    a("--project-directory", default="", help="Specify an alternate working directory")
    a("--parallel", type=int, default=-1, help="Control max parallelism, -1 for unlimited")
    a(
        "--ansi",
        default="auto",
        help='Control when to print ANSI control characters ("never"|"always"|"auto")',
    )
    a("--progress", default="auto", help="Set type of progress output (auto, tty, plain, json, quiet)")
    a("--compatibility", action="store_true", help="Run compose in backward compatibility mode")
    a("--all-resources", action="store_true", help="Include all resources, even those not used by services")
    a("--dry-run", action="store_true", help="Execute command in dry run mode (refused)")
    cs = g.add_subparsers(dest="compose_command", metavar="COMMAND")
    cmd_up.register(cs)
    cmd_config.register(cs)
    cmd_ps.register(cs)
    cmd_logs.register(cs)
    cmd_exec.register(cs)
    cmd_more.register(cs)
    cmd_watch.register(cs)
