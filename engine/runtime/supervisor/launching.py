"""PID 1 started: its stdio (from the relay), its spec (config + image), networking between its fork and its
exec, and the cgroup it joins before it execs (made meanwhile in a thread: see cgroup.py)."""

from __future__ import annotations

import os

from ...lean.tools import suppress
from .. import console
from ..trace import trace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ...model.config import ContainerConfig
    from ...paths import Layout
    from .cgroup import CgroupSetup
    from .relay import Relay


def launch_container(
    layout: Layout, cfg: ContainerConfig, cgroup: CgroupSetup, relay: Relay, servers: list[Any] | None = None
) -> int:
    """Start PID 1; its PID. The cgroup is made in a thread meanwhile (``CgroupSetup.begin``); the new
    process sets up its root filesystem while that finishes, and is put in the cgroup before it may exec.
    On a user network its DNS server (engine/net/dns.py) starts before it may exec, and goes in ``servers``
    for the caller to stop when it exits."""
    if not cgroup.begun:  # restarts (the first start begins it as the supervisor starts)
        cgroup.begin()
    stdio: tuple[int, int, int] = (-1, -1, -1)
    terminal = (-1, -1)
    try:
        from ..launch import launch
        from ..nethooks import preload, setup, uses_network
        from ..prepare import prepare_spec

        networked = uses_network(cfg.network_mode)
        resolver = None
        if networked:
            preload()  # now, while the cgroup is being made
            from ...net.netstore import DEFAULT_NETWORK

            if servers is not None and any(name != DEFAULT_NETWORK for name in cfg.networks):
                from ...net import dns  # a user network: its embedded DNS server

                resolver = dns.Resolver.start if dns.wanted(cfg) else None

        trace("imports done")
        spec = prepare_spec(layout, cfg)
        spec.cgroup_join = cgroup.files
        trace("spec prepared")

        def before_exec(pid: int) -> None:
            cgroup.wait()  # then PID 1 joins it itself (spec.cgroup_join)
            trace("cgroup created")
            if networked:
                if resolver is not None and servers is not None:
                    servers.append(resolver(layout, cfg, pid))
                setup(layout, cfg, pid)

        stdio = relay.pipes()
        terminal = console.socketpair() if cfg.tty else (-1, -1)
        pid = launch(
            spec,
            stdin=stdio[0],
            stdout=stdio[1],
            stderr=stdio[2],
            console_socket=terminal[1],
            console_size=(cfg.console_size[0], cfg.console_size[1]),
            before_exec=before_exec,
        )
        if cfg.tty:
            relay.take_terminal(console.receive(terminal[0]))
    except BaseException:
        for server in servers or []:
            with suppress(BaseException):
                server.stop()
        if servers:
            servers.clear()
        with suppress(BaseException):
            cgroup.wait()  # joined before the caller tears down; the first error is the one to tell
        cgroup.discard()
        raise
    finally:
        for fd in {*stdio, *terminal} - {-1}:
            os.close(fd)
    trace("launched")
    relay.watch_outputs()
    return pid
