"""What dockyard refuses of Docker's command line on purpose, and why.

A Docker command or flag that dockyard will not do gets an answer, never silence and never a plain
``unknown flag``: ``dockyard: '--gpus' is not supported: no GPU support in this engine`` and status 125. The
parser comes here only on its error path (a flag it does not know, a command that is not dockyard's), so none
of this is loaded by a command that parses: a flag the parsers know always wins over this table.

Commands and flags are named as Docker names them: its own name for a command (``container run``, not
``run``: ALIASES maps the others), Docker's help's spelling for a flag (``-H, --host``). docs/CLI.md is made
from these tables; tests/app/cli/test_cli_reference.py checks them against Docker's help.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

_SWARM = "dockyard has no Swarm mode: it runs containers on this machine only"
_WINDOWS = "a Windows containers option; dockyard runs Linux containers"
_CHECKPOINT = "dockyard has no checkpoint and restore (CRIU)"
_CLUSTER_VOLUMES = "cluster volumes are a Swarm feature; dockyard's volumes are local directories"

#: Docker's commands that dockyard refuses, with the reason; a group's reason covers all its commands.
COMMANDS: dict[str, str] = {
    "swarm": _SWARM,
    "service": _SWARM,
    "stack": _SWARM,
    "node": _SWARM,
    "secret": "dockyard has no Swarm secrets: mount a file with -v or --tmpfs instead",
    "config": "dockyard has no Swarm configs: mount a file with -v instead",
    "plugin": "dockyard has no engine plugins: networking, volumes and logging are built in",
    "trust": "dockyard has no content trust (Notary image signing)",
    "checkpoint": _CHECKPOINT,
    "manifest": "dockyard does not make or push manifest lists: an image in dockyard has one platform",
    "search": "dockyard does not search registries: look images up on the registry's own site",
    "context export": "dockyard does not export contexts: copy the context's directory "
    "(dockyard context inspect NAME shows its Storage paths)",
    "context import": "dockyard does not import contexts: create one with dockyard context create",
    "volume update": _CLUSTER_VOLUMES,
}

_CREATE = {
    "--gpus": "no GPU support in this engine",
    "--cpu-count": _WINDOWS,
    "--cpu-percent": _WINDOWS,
    "--io-maxbandwidth": _WINDOWS,
    "--io-maxiops": _WINDOWS,
    "--volume-driver": "dockyard has no volume plugins: a named volume is a local directory",
    "--storage-opt": "dockyard has no storage driver options: the writable layer is a plain overlayfs directory",
    "--use-api-socket": "there is no Docker API socket to share: dockyard has no daemon",
    "--device-cgroup-rule": "dockyard puts containers in no devices cgroup, so there is no allow list to add "
    "a rule to: a container has the default device nodes and those --device adds",
}

#: Docker's flags that dockyard refuses, per Docker command ("" for the global options), with the reason.
FLAGS: dict[str, dict[str, str]] = {
    "container create": _CREATE,
    "container run": _CREATE,
    "container start": {"--checkpoint": _CHECKPOINT, "--checkpoint-dir": _CHECKPOINT},
    "image build": {
        "--isolation": _WINDOWS,
        "--squash": "dockyard does not squash an image's layers (an experimental daemon feature): "
        "use a multi-stage build and COPY --from to keep only what the image needs",
    },
    "image ls": {
        "--tree": "images in dockyard have one platform each: there is no tree of platforms to show"
    },
    "network create": {
        "--attachable": _SWARM,
        "--ingress": _SWARM,
        "--scope": _SWARM,
        "--config-only": "dockyard has no configuration-only networks (a Swarm feature)",
        "--config-from": "dockyard has no configuration-only networks (a Swarm feature)",
        "--ipam-driver": "dockyard has no IPAM plugins: addresses come from its own allocator",
        "--ipam-opt": "dockyard has no IPAM plugins: addresses come from its own allocator",
    },
    "volume create": {
        flag: _CLUSTER_VOLUMES
        for flag in (
            "--availability",
            "--group",
            "--limit-bytes",
            "--required-bytes",
            "--scope",
            "--secret",
            "--sharing",
            "--topology-preferred",
            "--topology-required",
            "--type",
        )
    },  # fmt: skip
    "volume ls": {"--cluster": _CLUSTER_VOLUMES},
}

#: Docker's other names of its commands (outside the refused groups), to their own: ``run`` is ``container run``.
ALIASES: dict[str, str] = {
    "attach": "container attach",
    "commit": "container commit",
    "cp": "container cp",
    "create": "container create",
    "diff": "container diff",
    "exec": "container exec",
    "export": "container export",
    "kill": "container kill",
    "logs": "container logs",
    "container list": "container ls",
    "container ps": "container ls",
    "ps": "container ls",
    "pause": "container pause",
    "port": "container port",
    "rename": "container rename",
    "restart": "container restart",
    "container remove": "container rm",
    "rm": "container rm",
    "run": "container run",
    "start": "container start",
    "stats": "container stats",
    "stop": "container stop",
    "top": "container top",
    "unpause": "container unpause",
    "update": "container update",
    "wait": "container wait",
    "build": "image build",
    "builder build": "image build",
    "history": "image history",
    "import": "image import",
    "load": "image load",
    "image list": "image ls",
    "images": "image ls",
    "pull": "image pull",
    "push": "image push",
    "image remove": "image rm",
    "rmi": "image rm",
    "save": "image save",
    "tag": "image tag",
    "network list": "network ls",
    "context list": "context ls",
    "context remove": "context rm",
    "network remove": "network rm",
    "events": "system events",
    "info": "system info",
    "volume list": "volume ls",
    "volume remove": "volume rm",
}


def command_reason(path: str) -> str | None:
    """Why the Docker command ``path`` (words after ``docker``) is refused, or None."""
    words = path.split()
    for n in range(1, len(words) + 1):
        why = COMMANDS.get(" ".join(words[:n]))
        if why is not None:
            return why
    return None


def flag_reason(prog: str, name: str) -> str | None:
    """Why the flag ``name`` (``--gpus``, ``-H``) of the command whose parser is ``prog`` (``dockyard run``)
    is refused, or None."""
    top, _, path = prog.partition(" ")
    if top != "dockyard":
        return None  # another program's parser: Docker's flags are not its business
    for names, why in FLAGS.get(ALIASES.get(path, path), {}).items():
        if name in names.split(", "):
            return why
    return None


def refuse(top: str, word: str, why: str, help_of: str) -> NoReturn:
    """Docker-like words for what is refused on purpose, status 125."""
    sys.stderr.write(f"{top}: '{word}' is not supported: {why}\nSee '{help_of} --help'.\n")
    raise SystemExit(125)


def refuse_unknown_command(before: list[str], word: str, top: str = "dockyard") -> None:
    """Before ``word`` is called an unknown command: exit 125 with the reason when it is a Docker command
    refused on purpose, or when a refused global flag comes before it (``before``: ``-H tcp://host ps``, whose
    ``tcp://host`` was taken for the command)."""
    for arg in before:
        if not arg.startswith("-"):
            continue  # the value of --root
        names = [arg.partition("=")[0]] if arg.startswith("--") else ["-" + c for c in arg[1:]]
        for name in names:  # -H, or each of a group of shorthands: -vH
            why = flag_reason(top, name)
            if why is not None:
                refuse(top, name, why, top)
    why = command_reason(word)
    if why is not None:
        refuse(top, word, why, top)
