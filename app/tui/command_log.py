"""The command log: for every action taken in the app, the ``dockyard`` command line that does the same.

The app hands each engine call it makes to :meth:`CommandLog.track` (``DockyardApp.call`` does it for every
call; the Run and Build dialogs wrap their own). A call that changes something (start, stop, run, tag,
build, prune...) becomes an :class:`Entry` with its command line, shell-quoted, and the call's outcome once
known; calls that only read (inspect, logs, top...) are not logged. Container and image IDs are written as the
lists show them (a name, a tag), so the line can be pasted into a shell on the same root.

The log is safe to use from worker threads: listeners (the command log dialog) get ``CommandLog.Changed``
posted to them, which Textual delivers on the UI thread.
"""

from __future__ import annotations

import functools
import shlex
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from textual.message import Message

MAX_ENTRIES = 500
DEFAULT_STOP_TIMEOUT = 10


@dataclass
class Entry:
    argv: list[str]
    at: float  # time.time() when the action was taken
    label: str = ""  # what the app called the action ("Stop web")
    state: str = "running"  # running | done | failed
    error: str = ""
    number: int = 0

    @property
    def line(self) -> str:
        """The command line, shell-quoted (a ``#`` line is a note: no single command does the same)."""
        if self.argv and self.argv[0] == "#":
            return " ".join(self.argv)
        return shlex.join(self.argv)


class CommandLog:
    class Changed(Message):
        """The log has a new entry, or an entry's outcome is known."""

    def __init__(self, snapshot: Callable[[], Any] | None = None) -> None:
        """``snapshot`` gives what the lists show (messages.Snapshot): names for IDs, the default network."""
        self.entries: deque[Entry] = deque(maxlen=MAX_ENTRIES)
        self._snapshot = snapshot
        self._lock = threading.Lock()
        self._count = 0
        self._listeners: list[Any] = []

    # -- listeners -------------------------------------------------------------------------------------------
    def listen(self, widget: Any) -> None:
        self._listeners.append(widget)

    def unlisten(self, widget: Any) -> None:
        if widget in self._listeners:
            self._listeners.remove(widget)

    def _changed(self) -> None:
        for widget in list(self._listeners):
            try:
                widget.post_message(CommandLog.Changed())
            except RuntimeError:  # its loop is gone
                self.unlisten(widget)

    # -- recording -------------------------------------------------------------------------------------------
    def add(self, argv: list[str], label: str = "") -> Entry:
        with self._lock:
            self._count += 1
            entry = Entry(argv, time.time(), label, number=self._count)
            self.entries.append(entry)
        self._changed()
        return entry

    def finish(self, entry: Entry, error: str | None = None) -> None:
        entry.state = "failed" if error is not None else "done"
        entry.error = error or ""
        self._changed()

    def track(
        self,
        fn: Callable[..., Any],
        args: Iterable[Any] = (),
        kw: dict[str, Any] | None = None,
        label: str = "",
    ) -> Callable[..., Any]:
        """Log ``fn(*args, **kw)`` now if it is an action, and give back what to call instead of ``fn``: the
        same call, which also records how it ended. A call that only reads is given back untouched."""
        argv = self.command_for(fn, tuple(args), kw or {})
        if argv is None:
            return fn
        entry = self.add(argv, label)
        return self._tracked(fn, entry)

    def tracking(self, fn: Callable[..., Any], label: str = "") -> Callable[..., Any]:
        """``fn`` made to log each call it gets (for the dialogs that call the engine themselves)."""

        @functools.wraps(fn)
        def call(*args: Any, **kw: Any) -> Any:
            return self.track(fn, args, kw, label)(*args, **kw)

        return call

    def _tracked(self, fn: Callable[..., Any], entry: Entry) -> Callable[..., Any]:
        @functools.wraps(fn)
        def call(*args: Any, **kw: Any) -> Any:
            try:
                result = fn(*args, **kw)
            except BaseException as e:
                self.finish(entry, str(e) or type(e).__name__)
                raise
            self.finish(entry)
            return result

        return call

    def command_for(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kw: dict[str, Any]
    ) -> list[str] | None:
        """The ``dockyard`` argv of a call, or None when the call only reads."""
        import inspect

        owner = getattr(fn, "__self__", None)
        name = getattr(fn, "__name__", "")
        key = f"{type(owner).__name__}.{name}" if owner is not None else name
        build = _BUILDERS.get(key)
        if build is None:
            return None
        try:
            bound = inspect.signature(fn).bind_partial(*args, **kw)
        except (TypeError, ValueError):
            return None
        bound.apply_defaults()
        try:
            argv = build(self._words(), bound.arguments)
        except Exception:  # noqa: BLE001 - an odd argument costs the line, never the action
            return None
        return argv if argv[:1] == ["#"] else ["dockyard", *argv]  # a "#" line is a note

    def _words(self) -> _Words:
        snap = self._snapshot() if self._snapshot is not None else None
        if snap is None:
            return _Words({}, "")
        names = {c.id: c.name for c in snap.containers}
        for im in snap.images:
            names[im.id.removeprefix("sha256:")] = im.tags[0] if im.tags else im.short_id
        return _Words(names, snap.default_network)


class _Words:
    """How a call's arguments are written on a command line: IDs as the lists show them."""

    def __init__(self, names: dict[str, str], default_network: str) -> None:
        self.names = names
        self.default_network = default_network

    def ref(self, ref: Any) -> str:
        text = str(ref)
        hexid = text.removeprefix("sha256:")
        if len(hexid) == 64:
            return self.names.get(hexid) or hexid[:12]
        return text


Args = dict[str, Any]
_BUILDERS: dict[str, Callable[[_Words, Args], list[str]]] = {}


def _one(verb: str) -> Callable[[_Words, Args], list[str]]:
    return lambda w, a: [verb, w.ref(a["ref"])]


for _verb in ("start", "pause", "unpause", "attach", "wait"):
    _BUILDERS[f"Containers.{_verb}"] = _one(_verb)


def _stop_flags(a: Args) -> list[str]:
    out = []
    if a.get("timeout") is not None and a["timeout"] != DEFAULT_STOP_TIMEOUT:
        out += ["-t", str(a["timeout"])]
    if a.get("signal"):
        out += ["-s", str(a["signal"])]
    return out


def _stop(w: _Words, a: Args) -> list[str]:
    return ["stop", *_stop_flags(a), w.ref(a["ref"])]


def _restart(w: _Words, a: Args) -> list[str]:
    return ["restart", *_stop_flags(a), w.ref(a["ref"])]


def _kill(w: _Words, a: Args) -> list[str]:
    return ["kill", *(["-s", str(a["signal"])] if a.get("signal") else []), w.ref(a["ref"])]


def _rename(w: _Words, a: Args) -> list[str]:
    return ["rename", w.ref(a["ref"]), str(a["new_name"])]


def _rm(w: _Words, a: Args) -> list[str]:
    flags = (["-f"] if a.get("force") else []) + (["-v"] if a.get("volumes") else [])
    return ["rm", *flags, w.ref(a["ref"])]


def _commit(w: _Words, a: Args) -> list[str]:
    out = ["commit"]
    if a.get("author"):
        out += ["-a", str(a["author"])]
    if a.get("message"):
        out += ["-m", str(a["message"])]
    for key, value in (a.get("changes") or {}).items():
        out += ["-c", f"{key} {value}"]
    if a.get("pause") is False:
        out.append("--pause=false")
    out.append(w.ref(a["ref"]))
    if a.get("repo_tag"):
        out.append(str(a["repo_tag"]))
    return out


def _exec(w: _Words, a: Args) -> list[str]:
    out = ["exec", "-it"] if "rows" in a else ["exec"]
    for item in a.get("env") or []:
        out += ["-e", str(item)]
    if a.get("workdir"):
        out += ["-w", str(a["workdir"])]
    if a.get("user"):
        out += ["-u", str(a["user"])]
    if a.get("privileged"):
        out.append("--privileged")
    return [*out, w.ref(a["ref"]), *map(str, a.get("cmd") or [])]


def _recreate(w: _Words, a: Args) -> list[str]:
    name = w.ref(a["ref"])
    return [
        "#",
        f"recreate {name} from {a['image']} (no one dockyard command does it: {name} is stopped, replaced by",
        f"a container with its name and options made from {a['image']}, and removed)",
    ]


def _update(w: _Words, a: Args) -> list[str]:
    out = ["update"]
    flags = (
        ("memory", "-m"),
        ("memory_swap", "--memory-swap"),
        ("memory_reservation", "--memory-reservation"),
        ("cpus", "--cpus"),
        ("cpu_shares", "--cpu-shares"),
        ("cpu_period", "--cpu-period"),
        ("cpu_quota", "--cpu-quota"),
        ("cpuset_cpus", "--cpuset-cpus"),
        ("cpuset_mems", "--cpuset-mems"),
        ("pids_limit", "--pids-limit"),
        ("blkio_weight", "--blkio-weight"),
        ("restart", "--restart"),
    )
    for key, flag in flags:
        value = a.get(key)
        if value is not None and value != "":
            out += [flag, _size(value) if key.startswith("memory") else _num(value)]
    return [*out, w.ref(a["ref"])]


def _prune(what: str) -> Callable[[_Words, Args], list[str]]:
    def build(_w: _Words, a: Args) -> list[str]:
        out = [*what.split(), "prune", "-f"]
        if a.get("all"):
            out.append("-a")
        for key, values in (a.get("filters") or {}).items():
            for value in values:
                out += ["--filter", f"{key}={value}"]
        return out

    return build


_BUILDERS["Containers.prune"] = _prune("container")
_BUILDERS["Images.prune"] = _prune("image")
_BUILDERS["Images.prune_builds"] = _prune("builder")
_BUILDERS["Volumes.prune"] = _prune("volume")
_BUILDERS["Networks.prune"] = _prune("network")


def _tag(w: _Words, a: Args) -> list[str]:
    return ["tag", w.ref(a["source"]), str(a["target"])]


def _untag(_w: _Words, a: Args) -> list[str]:
    return ["rmi", str(a["tag"])]


def _rmi(w: _Words, a: Args) -> list[str]:
    return ["rmi", *(["-f"] if a.get("force") else []), w.ref(a["name"])]


def _pull(_w: _Words, a: Args) -> list[str]:
    ref = str(a["repository"]) + (f":{a['tag']}" if a.get("tag") else "")
    return ["pull", *(["--platform", str(a["platform"])] if a.get("platform") else []), ref]


def _push(_w: _Words, a: Args) -> list[str]:
    return ["push", str(a["repository"]) + (f":{a['tag']}" if a.get("tag") else "")]


def _bootstrap(_w: _Words, a: Args) -> list[str]:
    return ["image", "bootstrap", str(a["what"])]


def _build(_w: _Words, a: Args) -> list[str]:
    return ["build", *build_flags(a["options"])]


def _watch(_w: _Words, a: Args) -> list[str]:
    flags = build_flags(a["options"])
    run = ["--run", str(a["run_name"])] if a.get("run_name") else []
    return ["build", "--watch", *run, *flags]


def build_flags(options: Any) -> list[str]:
    """``build``'s flags for a BuildOptions, the context last."""
    out: list[str] = []
    for tag in options.tags:
        out += ["-t", tag]
    if options.dockerfile:
        out += ["-f", options.dockerfile]
    for name, value in options.build_args.items():
        out += ["--build-arg", name if value is None else f"{name}={value}"]
    if options.target:
        out += ["--target", options.target]
    if options.no_cache:
        out.append("--no-cache")
    for key, value in options.labels.items():
        out += ["--label", f"{key}={value}"]
    if options.pull:
        out.append("--pull")
    if options.network not in ("none", "default"):
        out += ["--network", options.network]
    return [*out, options.context_dir]


def _run(w: _Words, a: Args) -> list[str]:
    opts = a.get("opts")
    if opts is None:
        from engine import CreateOptions

        opts = CreateOptions(**(a.get("kw") or {}))
    if "detach" not in a:  # Containers.create
        return ["create", *run_flags(opts, False, w.default_network), a["image"], *(opts.command or [])]
    flags = run_flags(opts, bool(a["detach"]), w.default_network)
    return ["run", *flags, a["image"], *(opts.command or [])]


def _run_request(w: _Words, a: Args) -> list[str]:
    req = a["req"]
    opts = req.options
    return [
        "run",
        *run_flags(opts, detach=req.detach, default_network=w.default_network),
        req.image,
        *(opts.command or []),
    ]


def _replicas(w: _Words, a: Args) -> list[str]:
    from engine import CreateOptions

    opts = a.get("opts") or CreateOptions()
    flags = run_flags(opts, detach=True, default_network=w.default_network)
    return ["run", "--replicas", str(a["replicas"]), *flags, a["image"], *(opts.command or [])]


def _volume_create(_w: _Words, a: Args) -> list[str]:
    out = ["volume", "create"]
    if a.get("driver") and a["driver"] != "local":
        out += ["-d", str(a["driver"])]
    for key, value in (a.get("labels") or {}).items():
        out += ["--label", f"{key}={value}"]
    for key, value in (a.get("options") or {}).items():
        out += ["-o", f"{key}={value}"]
    return [*out, *([str(a["name"])] if a.get("name") else [])]


def _volume_rm(_w: _Words, a: Args) -> list[str]:
    return ["volume", "rm", *(["-f"] if a.get("force") else []), str(a["name"])]


def _network_create(_w: _Words, a: Args) -> list[str]:
    out = ["network", "create"]
    if a.get("driver") and a["driver"] != "bridge":
        out += ["-d", str(a["driver"])]
    for key, flag in (("subnet", "--subnet"), ("gateway", "--gateway"), ("ip_range", "--ip-range")):
        if a.get(key):
            out += [flag, str(a[key])]
    if a.get("internal"):
        out.append("--internal")
    for key, value in (a.get("labels") or {}).items():
        out += ["--label", f"{key}={value}"]
    for key, value in (a.get("options") or {}).items():
        out += ["-o", f"{key}={value}"]
    for key, value in (a.get("aux_addresses") or {}).items():
        out += ["--aux-address", f"{key}={value}"]
    return [*out, str(a["name"])]


def _network_rm(w: _Words, a: Args) -> list[str]:
    return ["network", "rm", w.ref(a["ref"])]


def _connect(w: _Words, a: Args) -> list[str]:
    out = ["network", "connect"]
    if a.get("ip"):
        out += ["--ip", str(a["ip"])]
    for alias in a.get("aliases") or []:
        out += ["--alias", str(alias)]
    return [*out, w.ref(a["network"]), w.ref(a["container"])]


def _disconnect(w: _Words, a: Args) -> list[str]:
    return [
        "network",
        "disconnect",
        *(["-f"] if a.get("force") else []),
        w.ref(a["network"]),
        w.ref(a["container"]),
    ]


def _size(value: Any) -> str:
    """Bytes as ``docker run -m`` takes them: ``512m`` when a whole number of a unit, else the bytes."""
    n = int(value)
    if n <= 0:
        return str(n)
    for suffix, factor in (("g", 1024**3), ("m", 1024**2), ("k", 1024)):
        if n % factor == 0:
            return f"{n // factor}{suffix}"
    return str(n)


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def run_flags(opts: Any, detach: bool, default_network: str = "") -> list[str]:
    """``docker run``'s flags for a CreateOptions: what differs from the defaults, in ``docker run --help``'s
    words (the image and command go after them)."""
    out: list[str] = []
    if detach:
        out.append("-d")
    if opts.stdin_open and opts.tty:
        out.append("-it")
    elif opts.stdin_open:
        out.append("-i")
    elif opts.tty:
        out.append("-t")
    if opts.auto_remove:
        out.append("--rm")
    if opts.name:
        out += ["--name", opts.name]
    if opts.hostname:
        out += ["--hostname", opts.hostname]
    if opts.entrypoint is not None:
        out += ["--entrypoint", shlex.join(opts.entrypoint) if opts.entrypoint else ""]
    if opts.working_dir:
        out += ["-w", opts.working_dir]
    if opts.user:
        out += ["-u", opts.user]
    for item in opts.env:
        out += ["-e", item]
    for key, value in opts.labels.items():
        out += ["-l", f"{key}={value}"]
    for port in opts.ports:
        out += ["-p", port]
    if opts.publish_all:
        out.append("-P")
    for volume in opts.volumes:
        out += ["-v", volume]
    for mount in opts.mounts:
        out += ["--mount", mount]
    for tmpfs in opts.tmpfs:
        out += ["--tmpfs", tmpfs]
    if opts.read_only:
        out.append("--read-only")
    if opts.memory is not None:
        out += ["-m", _size(opts.memory)]
    if opts.memory_swap is not None:
        out += ["--memory-swap", _size(opts.memory_swap)]
    if opts.cpus is not None:
        out += ["--cpus", _num(opts.cpus)]
    if opts.cpu_shares is not None:
        out += ["--cpu-shares", str(opts.cpu_shares)]
    if opts.pids_limit is not None:
        out += ["--pids-limit", str(opts.pids_limit)]
    if opts.network and opts.network != default_network:
        out += ["--network", opts.network]
    if opts.ip:
        out += ["--ip", opts.ip]
    for alias in opts.aliases:
        out += ["--network-alias", alias]
    for host in opts.extra_hosts:
        out += ["--add-host", host]
    for dns in opts.dns:
        out += ["--dns", dns]
    if opts.restart and opts.restart != "no":
        out += ["--restart", opts.restart]
    for cap in opts.cap_add:
        out += ["--cap-add", cap]
    for cap in opts.cap_drop:
        out += ["--cap-drop", cap]
    if opts.privileged:
        out.append("--privileged")
    if opts.stop_signal:
        out += ["--stop-signal", opts.stop_signal]
    if opts.stop_timeout is not None:
        out += ["--stop-timeout", str(opts.stop_timeout)]
    if opts.init:
        out.append("--init")
    for ulimit in opts.ulimits:
        out += ["--ulimit", ulimit]
    if opts.log_driver:
        out += ["--log-driver", opts.log_driver]
    for key, value in opts.log_opts.items():
        out += ["--log-opt", f"{key}={value}"]
    return out


_BUILDERS.update(
    {
        "Containers.stop": _stop,
        "Containers.restart": _restart,
        "Containers.kill": _kill,
        "Containers.rename": _rename,
        "Containers.remove": _rm,
        "Containers.commit": _commit,
        "Containers.exec_pty": _exec,
        "Containers.exec_run": _exec,
        "Containers.recreate": _recreate,
        "Containers.update": _update,
        "Images.tag": _tag,
        "Images.untag": _untag,
        "Images.remove": _rmi,
        "Images.pull": _pull,
        "Images.push": _push,
        "Images.bootstrap": _bootstrap,
        "Images.build": _build,
        "Engine.watch_build": _watch,
        "Containers.run": _run,
        "Containers.create": _run,
        "DockyardApp._run_request": _run_request,
        "Containers.run_replicas": _replicas,
        "Volumes.create": _volume_create,
        "Volumes.remove": _volume_rm,
        "Networks.create": _network_create,
        "Networks.remove": _network_rm,
        "Networks.connect": _connect,
        "Networks.disconnect": _disconnect,
    }
)
# the Projects view's actions (app/tui/widgets/projects_model.py) say their own ``dockyard compose ...`` line
_BUILDERS["compose_action"] = lambda _w, a: a["action"].argv()
