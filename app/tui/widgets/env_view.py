"""The Env tab: how the selected container is configured, in readable sections rather than raw JSON —
environment, command and entrypoint, working directory and user, labels, mounts, ports, networks, restart
policy and limits (read from the engine's ``inspect`` in a worker). For an image: what a container made from it
starts with (its environment, command, entrypoint, working directory, user, labels, ports, volumes)."""

from __future__ import annotations

import shlex
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from engine.humanize import format_bytes_binary

NAME_WIDTH = 20  # the column of keys in a section (longer keys get their own width)


def _quoted(argv: Any) -> str:
    if not argv:
        return ""
    if isinstance(argv, str):
        return argv
    return shlex.join(str(a) for a in argv)


def _bytes(n: Any) -> str:
    return format_bytes_binary(int(n)) if isinstance(n, int) and n > 0 else ""


class Section:
    """A titled list of ``key  value`` rows (value "" rows are left out unless ``keep``)."""

    def __init__(self, title: str, empty: str = "none") -> None:
        self.title = title
        self.empty = empty
        self.rows: list[tuple[str, str]] = []

    def add(self, key: str, value: Any, keep: bool = False) -> Section:
        text = "" if value is None else str(value)
        if text or keep:
            self.rows.append((key, text))
        return self

    def plain(self) -> str:
        """The section as text: its title, then ``  key  value`` lines."""
        if not self.rows:
            return f"{self.title}\n  ({self.empty})\n"
        width = max(len(k) for k, _ in self.rows)
        return self.title + "\n" + "".join(f"  {k.ljust(width)}  {v}\n" for k, v in self.rows)

    def renderable(self) -> RenderableType:
        """The title and a grid of keys and values: a long value wraps in its own column."""
        if not self.rows:
            return Group(Text(self.title, style="bold"), Text(f"  ({self.empty})", style="dim"), Text(""))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="cyan", no_wrap=True, max_width=NAME_WIDTH, overflow="ellipsis")
        grid.add_column(overflow="fold")
        for key, value in self.rows:
            grid.add_row(key, Text(value))
        return Group(Text(self.title, style="bold"), Padding(grid, (0, 0, 1, 2)))


def container_sections(data: dict[str, Any]) -> list[Section]:
    cfg = data.get("Config") or {}
    host = data.get("HostConfig") or {}
    net = data.get("NetworkSettings") or {}
    out = []

    env = Section("Environment", "no variables")
    for item in cfg.get("Env") or []:
        name, _, value = str(item).partition("=")
        env.add(name, value, keep=True)
    out.append(env)

    cmd = Section("Command")
    cmd.add("Entrypoint", _quoted(cfg.get("Entrypoint")))
    cmd.add("Command", _quoted(cfg.get("Cmd")))
    if data.get("Path") and cfg.get("Entrypoint"):
        cmd.add("Runs", _quoted([data["Path"], *(data.get("Args") or [])]))
    cmd.add("Working dir", cfg.get("WorkingDir") or "/")
    cmd.add("User", cfg.get("User") or "root")
    cmd.add("Hostname", cfg.get("Hostname"))
    cmd.add("Terminal", "yes (tty)" if cfg.get("Tty") else "")
    cmd.add("Stdin open", "yes" if cfg.get("OpenStdin") else "")
    cmd.add("Stop signal", cfg.get("StopSignal"))
    cmd.add("Stop timeout", f"{cfg['StopTimeout']} s" if cfg.get("StopTimeout") is not None else "")
    health = cfg.get("Healthcheck")
    if isinstance(health, dict) and health.get("Test"):
        cmd.add("Healthcheck", _quoted(health.get("Test")))
    out.append(cmd)

    labels = Section("Labels", "no labels")
    for key, value in sorted((cfg.get("Labels") or {}).items()):
        labels.add(key, value, keep=True)
    out.append(labels)

    mounts = Section("Mounts", "no mounts")
    for m in data.get("Mounts") or []:
        kind = m.get("Type", "")
        source = m.get("Name") if kind == "volume" else m.get("Source")
        mode = "rw" if m.get("RW", True) else "ro"
        where = f"{source} → " if source else ""
        mounts.add(str(m.get("Destination", "")), f"{kind}  {where}{m.get('Destination', '')}  ({mode})")
    for dest, opts in sorted((host.get("Tmpfs") or {}).items()):
        if not any(m.get("Destination") == dest for m in data.get("Mounts") or []):
            mounts.add(dest, f"tmpfs  {opts}")
    out.append(mounts)

    ports = Section("Ports", "no published ports")
    published = net.get("Ports") or host.get("PortBindings") or {}
    for port, bindings in sorted(published.items()):
        if not bindings:
            ports.add(port, "exposed, not published")
            continue
        for b in bindings:
            ports.add(port, f"→ {b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort', '')}")
    for port in sorted(cfg.get("ExposedPorts") or {}):
        if port not in published:
            ports.add(port, "exposed, not published")
    out.append(ports)

    networks = Section("Networks")
    nets = net.get("Networks") or {}
    for name, ep in sorted(nets.items()):
        parts = []
        if ep.get("IPAddress"):
            parts.append(f"{ep['IPAddress']}/{ep.get('IPPrefixLen', '')}".rstrip("/"))
        if ep.get("Gateway"):
            parts.append(f"gateway {ep['Gateway']}")
        if ep.get("MacAddress"):
            parts.append(ep["MacAddress"])
        aliases = ep.get("Aliases") or ep.get("aliases") or []
        if aliases:
            parts.append("aliases " + ", ".join(aliases))
        networks.add(name, "  ".join(parts) or "(no address while it is not running)", keep=True)
    if not nets:
        networks.add("mode", host.get("NetworkMode") or "none", keep=True)
    out.append(networks)

    restart = Section("Restart policy")
    policy = host.get("RestartPolicy") or {}
    name = policy.get("Name") or "no"
    if name == "on-failure" and policy.get("MaximumRetryCount"):
        name += f" (at most {policy['MaximumRetryCount']} retries)"
    restart.add("Policy", name)
    restart.add("Restarts so far", data.get("RestartCount") or 0)
    restart.add("Remove on exit", "yes (--rm)" if host.get("AutoRemove") else "no")
    out.append(restart)

    limits = Section("Limits", "none: the host's")
    limits.add("Memory", _bytes(host.get("Memory")))
    swap = host.get("MemorySwap")
    limits.add("Memory + swap", "unlimited" if swap == -1 else _bytes(swap))
    limits.add("Memory reservation", _bytes(host.get("MemoryReservation")))
    nano = host.get("NanoCpus") or 0
    limits.add("CPUs", f"{nano / 1e9:g}" if nano else "")
    limits.add("CPU shares", host.get("CpuShares") or "")
    if host.get("CpuQuota"):
        limits.add("CPU quota", f"{host['CpuQuota']} µs every {host.get('CpuPeriod') or 100000} µs")
    limits.add("CPU set", host.get("CpusetCpus"))
    limits.add("Memory nodes", host.get("CpusetMems"))
    pids = host.get("PidsLimit")
    limits.add("PIDs", pids if isinstance(pids, int) and pids > 0 else "")
    limits.add("Block I/O weight", host.get("BlkioWeight") or "")
    shm = host.get("ShmSize")
    limits.add("/dev/shm", _bytes(shm) if shm and shm != 64 * 1024 * 1024 else "")
    for u in host.get("Ulimits") or []:
        limits.add(f"ulimit {u.get('Name')}", f"{u.get('Soft')}:{u.get('Hard')}")
    out.append(limits)

    security = Section("Security", "defaults")
    security.add("Privileged", "yes" if host.get("Privileged") else "")
    security.add("Read-only root", "yes" if host.get("ReadonlyRootfs") else "")
    security.add("Capabilities added", ", ".join(host.get("CapAdd") or []))
    security.add("Capabilities dropped", ", ".join(host.get("CapDrop") or []))
    security.add("Options", ", ".join(host.get("SecurityOpt") or []))
    out.append(security)

    log = Section("Logging")
    log_cfg = host.get("LogConfig") or {}
    opts = ", ".join(f"{k}={v}" for k, v in sorted((log_cfg.get("Config") or {}).items()))
    log.add("Driver", (log_cfg.get("Type") or "json-file") + (f" ({opts})" if opts else ""))
    out.append(log)
    return out


def image_sections(data: dict[str, Any]) -> list[Section]:
    cfg = data.get("Config") or {}
    out = []
    env = Section("Environment", "no variables")
    for item in cfg.get("Env") or []:
        name, _, value = str(item).partition("=")
        env.add(name, value, keep=True)
    out.append(env)
    cmd = Section("Command")
    cmd.add("Entrypoint", _quoted(cfg.get("Entrypoint")))
    cmd.add("Command", _quoted(cfg.get("Cmd")))
    cmd.add("Working dir", cfg.get("WorkingDir") or "/")
    cmd.add("User", cfg.get("User") or "root")
    cmd.add("Stop signal", cfg.get("StopSignal"))
    out.append(cmd)
    labels = Section("Labels", "no labels")
    for key, value in sorted((cfg.get("Labels") or {}).items()):
        labels.add(key, value, keep=True)
    out.append(labels)
    ports = Section("Exposed ports", "none")
    for port in sorted(cfg.get("ExposedPorts") or {}):
        ports.add(port, "exposed")
    out.append(ports)
    volumes = Section("Volumes", "none")
    for path in sorted(cfg.get("Volumes") or {}):
        volumes.add(path, "anonymous volume at each run")
    out.append(volumes)
    return out


def render_sections(title: str, sections: list[Section]) -> tuple[RenderableType, str]:
    """What the tab shows and the same as plain text."""
    shown = Group(Text(title, style="bold underline"), Text(""), *(s.renderable() for s in sections))
    plain = title + "\n\n" + "\n".join(s.plain() for s in sections)
    return shown, plain.rstrip()


class EnvView(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    EnvView { height: 1fr; padding: 0 1; }
    EnvView > #env-text { width: 1fr; height: auto; }
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.subject: tuple[str, str, str] | None = None  # kind, id, status
        self.text = ""  # what the tab shows, as plain text

    def compose(self) -> ComposeResult:
        yield Static("Select a container or an image.", id="env-text")

    def show(self, kind: str, ref: str, title: str, status: str = "") -> None:
        """Read and show the configuration of a container (``kind`` "container") or an image."""
        key = (kind, ref, status)
        if key == self.subject:
            return
        self.subject = key
        engine = self.app.engine  # type: ignore[attr-defined]

        def work() -> None:
            shown: RenderableType
            try:
                if kind == "container":
                    shown, text = render_sections(title, container_sections(engine.containers.inspect(ref)))
                else:
                    shown, text = render_sections(title, image_sections(engine.images.inspect(ref)))
            except Exception as e:  # noqa: BLE001 - shown in the tab (removed meanwhile, ...)
                text = f"{title}: {e}"
                shown = Text(text, style="red")
            try:
                self.app.call_from_thread(self._shown, key, shown, text)
            except RuntimeError:
                pass

        self.run_worker(work, name="env", group="env", thread=True, exclusive=True, exit_on_error=False)

    def clear(self) -> None:
        self.subject = None
        self._set(Text("Select a container or an image."), "Select a container or an image.")

    def _shown(self, key: tuple[str, str, str], shown: RenderableType, text: str) -> None:
        if key == self.subject:
            self._set(shown, text)

    def _set(self, shown: RenderableType, text: str) -> None:
        self.text = text
        self.query_one("#env-text", Static).update(shown)
