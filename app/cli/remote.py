"""Commands on an Engine API service, as ``docker -H`` runs them: ``dockyard -H unix:///PATH ps`` (or
``--host``, or $DOCKYARD_HOST; ``tcp://HOST:PORT`` with TLS) works on the service's containers, images,
networks and volumes. ``commands.engine()`` returns the service's engine (engine/remote/'s ``RemoteEngine``,
the surface of ``Engine`` over the API), so each command's handler is the local one (``run`` and ``start -a``
attach over the API before they start: cmd_containers' ``_run_remote``). What needs the engine's files on this machine is
refused before anything is done, with the reason (status 125). Only a command given ``-H`` loads this module.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import flags

#: The handlers (module.function) that work over the API.
WORKS = {
    "cmd_ps.cmd_ps", "cmd_ps.cmd_container_prune",
    "cmd_containers.cmd_create", "cmd_containers.cmd_run", "cmd_containers.cmd_start", "cmd_containers.cmd_stop",
    "cmd_containers.cmd_restart", "cmd_containers.cmd_kill", "cmd_containers.cmd_rm", "cmd_containers.cmd_rename",
    "cmd_containers.cmd_pause", "cmd_containers.cmd_unpause", "cmd_containers.cmd_wait",
    "cmd_inspect.cmd_logs", "cmd_inspect.cmd_exec", "cmd_inspect.cmd_inspect", "cmd_inspect.cmd_top",
    "cmd_inspect.cmd_stats", "cmd_inspect.cmd_attach", "cmd_inspect.cmd_diff", "cmd_inspect.cmd_port",
    "cmd_inspect.cmd_cp", "cmd_inspect.cmd_export", "cmd_inspect.cmd_commit", "cmd_images.cmd_save",
    "cmd_images.cmd_load", "cmd_images.cmd_import", "cmd_system.cmd_prune", "cmd_build.cmd_build",
    "cmd_update.cmd_update", "cmd_registry.cmd_push",
    "cmd_images.cmd_images", "cmd_images.cmd_tag", "cmd_images.cmd_rmi", "cmd_images.cmd_history",
    "cmd_images.cmd_image_inspect", "cmd_images.cmd_image_prune",
    "cmd_registry.cmd_pull",
    "cmd_network.cmd_create", "cmd_network.cmd_ls", "cmd_network.cmd_rm", "cmd_network.cmd_inspect",
    "cmd_network.cmd_connect", "cmd_network.cmd_disconnect", "cmd_network.cmd_prune",
    "cmd_volumes.cmd_create", "cmd_volumes.cmd_ls", "cmd_volumes.cmd_rm", "cmd_volumes.cmd_inspect",
    "cmd_volumes.cmd_prune",
    "cmd_system.cmd_version", "cmd_system.cmd_info", "cmd_system.cmd_df",
    "cmd_events.cmd_events",
}  # fmt: skip

_FILES = "it reads or writes the engine's files on this machine; run it where the engine's root is (--root)"
_LATER = "it is not sent over the Engine API yet; run it where the engine's root is (--root)"

#: Why the other commands do not work with ``-H``.
REASONS = {
    "cmd_build.cmd_builder_prune": _FILES,
    "cmd_system.cmd_check": "it checks the engine's files on this machine; run it on the service's machine",
    "cmd_images.cmd_bootstrap": "it makes an image from this machine's own files",
    "cmd_registry.cmd_login": "credentials are this machine's: log in where the engine runs",
    "cmd_registry.cmd_logout": "credentials are this machine's: log out where the engine runs",
    "cmd_service.cmd_service": "it serves an engine root of this machine",
    "cmd_kube.cmd_generate": _LATER,
    "cmd_kube.cmd_play": _LATER,
    "cmd_kube.cmd_down": _LATER,
}

_GROUPS = ("container", "image", "network", "volume", "system", "builder", "compose", "kube")


def handler_key(args: flags.Namespace) -> str | None:
    handler = getattr(args, "handler", None)
    if handler is None:
        return None
    module = handler.__module__
    if module.startswith("app.cli.compose"):
        return f"compose.{handler.__name__}"  # the compose commands: none over -H yet
    return f"{module.rpartition('.')[2]}.{handler.__name__}"


def _words(argv: list[str]) -> str:
    """The command as given: ``ps``, ``network create``."""
    words = argv[:1]
    if words and words[0] in _GROUPS:
        words += [w for w in argv[1:] if not w.startswith("-")][:1]
    return " ".join(words)


def use_service(args: flags.Namespace, argv: list[str]) -> int:
    """Make the command work on the service ``-H`` (or the context) names: 0, or the status of a refusal
    (said on stderr). The context ``default`` is the local engine: nothing to do."""
    from engine import DockyardError

    from . import commands

    key = handler_key(args)
    if key is None:
        return 0  # a group without its command: its help
    host = args.host or os.environ.get("DOCKYARD_HOST", "")
    context = None
    if not host:
        from engine import ContextStore

        store = ContextStore()
        context = store.current()
        if context == "default":
            return 0  # the local engine
    if key not in WORKS:
        why = REASONS.get(key, _LATER)
        where = "--host" if host else f"the context {context!r}"
        sys.stderr.write(f"Error: dockyard {_words(argv)} does not work with {where}: {why}\n")
        return 125
    try:
        if host:
            from app.tui.run import open_remote

            remote = open_remote(
                args.root, host, args.tls, args.tlsverify, args.tlscacert, args.tlscert, args.tlskey
            )
        else:
            from engine import RemoteEngine, open_engine

            opened = open_engine(context, store=store)
            assert isinstance(opened, RemoteEngine)  # the context is not default: a service
            remote = opened
    except DockyardError as e:
        sys.stderr.write(f"Error: {e}\n")
        return 125 if type(e).__name__ in ("InvalidArgument", "NotFound") else 1
    commands.use_service(remote)  # an EngineAPI, as the root's Engine is: each handler is the local one
    return 0
