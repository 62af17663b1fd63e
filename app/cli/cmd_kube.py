"""``kube generate`` and ``kube play``: Kubernetes YAML from containers, and a manifest run locally (as
``podman kube``); docs/KUBE.md."""

from __future__ import annotations

import sys

from . import flags
from .commands import local_engine


def register(sub: flags.Commands) -> None:
    g = sub.add_parser("kube", help="Play containers, pods or volumes from Kubernetes YAML, or generate it")
    ks = g.add_subparsers(dest="kube_command", metavar="COMMAND")
    p = ks.add_parser("generate", help="Generate Kubernetes YAML based on containers or a compose project")
    p.add_argument("-f", "--filename", default="", help="Write output to the specified path")
    p.add_argument(
        "-s", "--service", action="store_true", help="Generate YAML for a Kubernetes service object"
    )
    p.add_argument(
        "-t",
        "--type",
        default="",
        choices=("pod", "deployment"),
        help="Generate YAML for the given Kubernetes kind (pod; for a compose project, deployment)",
    )
    p.add_argument(
        "-r", "--replicas", type=int, default=None, help="Set the replicas number for Deployment kind"
    )
    p.add_argument("containers", nargs="+", metavar="CONTAINER|PROJECT")
    p.set_defaults(handler=cmd_generate, docker_exit_codes=True)  # Podman's: 125 for an engine error
    p = ks.add_parser("play", help="Play a pod or volume based on Kubernetes YAML")
    p.add_argument("--down", action="store_true", help="Stop and remove the pods the YAML describes")
    p.add_argument("--force", action="store_true", help="With --down, also remove the volumes of its claims")
    p.add_argument(
        "--replace", action="store_true", help="Remove the pods of an earlier play of the YAML first"
    )
    p.add_argument("--network", default="", help="Connect the pods' containers to this network")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(handler=cmd_play, docker_exit_codes=True)  # Podman's: 125 for an engine error
    p = ks.add_parser("down", help="Remove pods based on Kubernetes YAML")
    p.add_argument("--force", action="store_true", help="Also remove the volumes of its claims")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(handler=cmd_down, docker_exit_codes=True)  # Podman's: 125 for an engine error


def cmd_generate(a: flags.Namespace) -> int:
    from engine import InvalidArgument, Kube

    if a.filename:
        import os

        if os.path.exists(a.filename):
            raise InvalidArgument(f"cannot write to {a.filename!r}: file exists")
    text, warnings = Kube(local_engine()).generate(
        a.containers, kind=a.type, replicas=a.replicas, service=a.service
    )
    for w in warnings:
        sys.stderr.write(f"WARNING: {w}\n")
    if a.filename:
        with open(a.filename, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _report(made: dict[str, list[str]]) -> None:
    for kind in ("Pod", "Volume", "Container"):
        if made.get(kind):
            print(f"{kind}s:" if len(made[kind]) > 1 else f"{kind}:")
            for item in made[kind]:
                print(item)
    for w in made.get("Warning") or []:
        sys.stderr.write(f"WARNING: {w}\n")


def _report_down(removed: dict[str, list[str]]) -> None:
    """As podman: the pods stopped and removed, then the volumes removed."""
    for title, kind in (("Pods stopped:", "Pod"), ("Pods removed:", "Pod"), ("Volumes removed:", "Volume")):
        if removed.get(kind):
            print(title)
            for item in removed[kind]:
                print(item)


def cmd_play(a: flags.Namespace) -> int:
    from engine import InvalidArgument, Kube

    kube = Kube(local_engine())
    if a.down:
        if a.replace:
            raise InvalidArgument("--down and --replace cannot be used together")
        _report_down(kube.down(a.file, force=a.force))
        return 0
    if a.force:
        raise InvalidArgument("--force is only used with --down")
    _report(kube.play(a.file, network=a.network, replace=a.replace))
    return 0


def cmd_down(a: flags.Namespace) -> int:
    from engine import Kube

    _report_down(Kube(local_engine()).down(a.file, force=a.force))
    return 0
