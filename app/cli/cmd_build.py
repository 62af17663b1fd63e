"""``build`` (with ``--watch``) and ``builder prune``.

Progress goes to standard error: ``--progress plain`` prints BuildKit-style lines (``#3 [2/5] RUN echo hi``,
the step's output, ``#3 DONE 0.2s``); ``--progress tty`` draws a live view with rich (steps, durations,
the last output lines of the running step); ``auto`` picks tty on a terminal. ``-q`` prints nothing but the
image ID, on standard output.
"""

from __future__ import annotations

import os
import sys
import time

from . import flags, output
from .commands import engine, local_engine

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from engine import BuildOptions, EngineAPI


def register(sub: flags.Commands) -> None:
    p = sub.add_parser("build", help="Build an image from a Dockerfile")
    p.add_argument("-t", "--tag", action="append", default=[], metavar="REF", help="Name and tag the image")
    p.add_argument("-f", "--file", metavar="FILE", help="The Dockerfile (default: CONTEXT/Dockerfile)")
    p.add_argument(
        "--build-arg", action="append", default=[], metavar="K=V", help="Set a build-time variable"
    )
    p.add_argument("--target", metavar="STAGE", help="Build this stage and what it needs, not the last one")
    p.add_argument("--no-cache", action="store_true", help="Do not use the build cache")
    p.add_argument("--label", action="append", default=[], metavar="K=V", help="Set a label on the image")
    p.add_argument("-q", "--quiet", action="store_true", help="Print only the image ID")
    p.add_argument("--progress", choices=("auto", "plain", "tty"), default="auto", help="Progress output")
    p.add_argument(
        "--secret", action="append", default=[], metavar="id=ID,src=FILE|env=VAR", help="A secret for RUN"
    )
    p.add_argument("--iidfile", metavar="FILE", help="Write the image ID to the file")
    p.add_argument("--network", default="default", metavar="MODE", help="RUN steps' network: none or host")
    p.add_argument(
        "--build-context", action="append", default=[], metavar="NAME=DIR", help="Another named context"
    )
    p.add_argument("--pull", action="store_true", help="Pull every image the build uses first")
    p.add_argument("--platform", metavar="PLATFORM", help="This machine's platform only")
    p.add_argument(
        "--cache-from",
        action="append",
        default=[],
        metavar="SOURCE",
        help="Accepted; the local cache is used",
    )
    p.add_argument("-o", "--output", metavar="DEST", help="Export the files: type=local,dest=DIR or type=tar")
    # limits and options of the RUN steps' containers, as Docker's build takes them
    p.add_argument("-m", "--memory", metavar="bytes", help="Memory limit")
    p.add_argument(
        "--memory-swap", metavar="bytes", help="Swap limit equal to memory plus swap: -1 for unlimited"
    )
    p.add_argument("-c", "--cpu-shares", type=int, help="CPU shares (relative weight)")
    p.add_argument("--cpu-period", type=int, help="Limit the CPU CFS period")
    p.add_argument("--cpu-quota", type=int, help="Limit the CPU CFS quota")
    p.add_argument("--cpuset-cpus", default="", help="CPUs in which to allow execution (0-3, 0,1)")
    p.add_argument("--cpuset-mems", default="", help="MEMs in which to allow execution (0-3, 0,1)")
    p.add_argument("--shm-size", metavar="bytes", help='Size of "/dev/shm"')
    p.add_argument("--ulimit", action="append", default=[], help="Ulimit options")
    p.add_argument("--security-opt", action="append", default=[], help="Security options")
    p.add_argument(
        "--add-host", action="append", default=[], help="Add a custom host-to-IP mapping (host:ip)"
    )
    p.add_argument("--cgroup-parent", default="", help='Set the parent cgroup for the "RUN" instructions')
    p.add_argument("--rm", action="store_true", default=True, help="Remove intermediate containers (always)")
    p.add_argument("--force-rm", action="store_true", help="Always remove intermediate containers (always)")
    p.add_argument("--compress", action="store_true", help="Accepted: the context is read in place")
    p.add_argument("--disable-content-trust", action="store_true", default=True, help="Accepted and ignored")
    p.add_argument("--watch", action="store_true", help="Rebuild whenever the context changes")
    p.add_argument("--run", metavar="NAME", help="With --watch: (re)start container NAME from each new image")
    p.add_argument("context", metavar="CONTEXT", help="The build context directory, or - for standard input")
    p.set_defaults(handler=cmd_build)

    builder = sub.add_parser("builder", help="Manage the build cache")
    bsub = builder.add_subparsers(dest="builder_command", metavar="COMMAND")
    pr = bsub.add_parser("prune", help="Remove build cache")
    pr.add_argument("-a", "--all", action="store_true", help="Remove all cache, not only unused entries")
    pr.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")
    pr.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="FILTER",
        help="until=DURATION keeps newer cache; type=exec.cachemount|regular",
    )
    pr.add_argument("--keep-storage", metavar="bytes", help="Amount of disk space to keep for cache")
    pr.set_defaults(handler=cmd_builder_prune)


# -- argument parsing --------------------------------------------------------------------------------


def _pairs(items: list[str], what: str, from_env: bool) -> dict[str, Any]:
    from engine import InvalidArgument

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not key:
            raise InvalidArgument(f"invalid {what}: {item!r} (want KEY=VALUE)")
        if sep:
            out[key] = value
        elif from_env:
            out[key] = os.environ.get(key)  # Docker takes a bare --build-arg NAME from the environment
        else:
            out[key] = ""
    return out


def _dockerfile(a: flags.Namespace) -> str | None:
    if not a.file or a.file == "-":
        return None
    if a.context == "-":
        return a.file  # a path inside the context read from standard input
    if os.path.isabs(a.file) or os.path.exists(a.file):
        return os.path.abspath(a.file)
    return a.file  # relative to the context


def _secrets(items: list[str]) -> dict[str, bytes]:
    """``--secret id=ID[,type=file|env][,src=FILE|,env=VAR]`` as buildx reads it: without a source, an
    environment variable named ID when there is one, else a file named ID. A secret whose variable is not
    set is left out (a mount that requires it fails)."""
    from engine import InvalidArgument

    out: dict[str, bytes] = {}
    for item in items:
        fields: dict[str, str] = {}
        kind = ""
        for field in item.split(","):
            key, sep, value = field.partition("=")
            key = key.strip().lower()
            if not sep:
                raise InvalidArgument(f"invalid secret {item!r}: {field!r} is not KEY=VALUE")
            if key == "type":
                if value not in ("file", "env"):
                    raise InvalidArgument(f"unsupported secret type {value!r}")
                kind = value
            elif key in ("id", "src", "source", "env"):
                fields["src" if key == "source" else key] = value
            else:
                raise InvalidArgument(f"unexpected key '{key}' in '{field}'")
        secret_id = fields.get("id", "")
        src, env = fields.get("src", ""), fields.get("env", "")
        if kind == "env" and not env:
            env, src = src or secret_id, ""
        if not secret_id:
            secret_id = src or env
        if not secret_id:
            raise InvalidArgument(f"invalid secret {item!r}: it needs an id")
        if not src and not env:
            if secret_id in os.environ:
                env = secret_id
            else:
                src = secret_id
        if env:
            if env in os.environ:
                out[secret_id] = os.environb[os.fsencode(env)]
            continue
        try:
            size = os.stat(src).st_size
            if size > _SECRET_MAX:
                raise InvalidArgument(f"secret {secret_id} too big: the maximum is 500KB")
            with open(src, "rb") as f:
                out[secret_id] = f.read(_SECRET_MAX + 1)
        except OSError as exc:
            raise InvalidArgument(f"failed to stat {src}: {exc.strerror or exc}") from None
    return out


_SECRET_MAX = 500 * 1024


def _run_options(a: flags.Namespace) -> dict[str, Any]:
    """The RUN steps' limits and options (BuildOptions.run_options) from Docker's build flags."""
    from engine import InvalidArgument
    from engine.units import parse_bytes

    if not a.rm:
        raise InvalidArgument(
            "--rm=false is not supported: dockyard removes each step's container once its layer is made "
            "(the layers are in the image; `dockyard run` one of them to look inside)"
        )
    out: dict[str, Any] = {}
    if a.memory:
        out["memory"] = parse_bytes(a.memory)
    if a.memory_swap:
        out["memory_swap"] = -1 if a.memory_swap == "-1" else parse_bytes(a.memory_swap)
    if a.shm_size:
        out["shm_size"] = parse_bytes(a.shm_size)
    for name in ("cpu_shares", "cpu_period", "cpu_quota"):
        if getattr(a, name) is not None:
            out[name] = getattr(a, name)
    for name in ("cpuset_cpus", "cpuset_mems", "cgroup_parent"):
        if getattr(a, name):
            out[name] = getattr(a, name)
    for flag, name in (("ulimit", "ulimits"), ("security_opt", "security_opt"), ("add_host", "extra_hosts")):
        if getattr(a, flag):
            out[name] = list(getattr(a, flag))
    return out


def _output(value: str | None) -> tuple[str, str] | None:
    """``-o DIR``, ``-o -`` (a tar on standard output) or ``--output type=local|tar,dest=PATH``."""
    from engine import InvalidArgument

    if value is None:
        return None
    if value == "-":
        return ("tar", "-")
    if "=" not in value and "," not in value:
        return ("local", value)
    fields: dict[str, str] = {}
    for field in value.split(","):
        key, sep, val = field.partition("=")
        if not sep:
            raise InvalidArgument(f"invalid output {value!r}: {field!r} is not KEY=VALUE")
        fields[key.strip().lower()] = val
    kind = fields.pop("type", "")
    if not kind:
        raise InvalidArgument(f"invalid output {value!r}: type is required (type=local or type=tar)")
    if kind in ("docker", "image") and not set(fields) - {"name"}:
        return None  # what a build does anyway: an image in the engine's store
    if kind not in ("local", "tar"):
        raise InvalidArgument(
            f"output type {kind!r} is not supported: dockyard stores the image in its engine (the default), "
            "or exports its files with type=local or type=tar"
        )
    dest = fields.pop("dest", "")
    if fields:
        raise InvalidArgument(f"unexpected key '{sorted(fields)[0]}' for output type {kind}")
    if not dest:
        raise InvalidArgument(f"output type {kind} needs dest=PATH")
    return (kind, dest)


# -- renderers ---------------------------------------------------------------------------------------------


class PlainProgress:
    """BuildKit's ``--progress plain``: one line per event on standard error."""

    def __init__(self, out: Any = None) -> None:
        self.out = out or sys.stderr

    def __call__(self, event: Any) -> None:
        self.out.write(event.message + "\n")
        self.out.flush()

    def close(self) -> None:
        pass


class TtyProgress:
    """A live view: one line per step (CACHED, running with a spinner, done with its time, ERROR), the last
    output lines of the running step, and a header with the elapsed time."""

    TAIL = 6

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        self.live: Any = None
        self.steps: dict[int, dict[str, Any]] = {}
        self.order: list[int] = []
        self.started = time.monotonic()
        self.drawn = 0.0
        self.title = "Building"

    def _start(self) -> None:
        from rich.live import Live

        self.started = time.monotonic()
        self.steps.clear()
        self.order.clear()
        # No refresh thread: the view is redrawn on each event. (A second thread would make every RUN
        # step start its container's supervisor as a new interpreter instead of a fork.)
        self.live = Live(self.render(), console=self.console, auto_refresh=False, transient=False)
        self.live.start()

    def __call__(self, event: Any) -> None:
        kind = event.kind
        if kind == "watch":
            self.close()
            self.console.print(f"[bold cyan]watch[/] {event.text}")
            return
        if self.live is None:
            if kind in ("warning", "error") and not event.vertex:
                self.console.print(f"[yellow]{event.message}[/]")
                return
            self._start()
        if kind == "info":
            pass
        elif kind == "warning":
            self.console.print(f"[yellow]{event.message}[/]")
        elif event.vertex:
            step = self.steps.get(event.vertex)
            if step is None:
                step = {"label": event.label, "status": "running", "start": time.monotonic(), "lines": []}
                self.steps[event.vertex] = step
                self.order.append(event.vertex)
            if kind == "output":
                step["lines"].append(event.text)
            elif kind in ("done", "cached", "error"):
                step["status"] = kind
                step["elapsed"] = event.elapsed
                if kind == "error":
                    step["error"] = event.text
        elif kind == "error":
            self.console.print(f"[red]{event.message}[/]")
        if kind == "result":
            self.title = "Built"
            self.live.update(self.render(done=True, image=event.image_id), refresh=True)
            self.close()
            return
        now = time.monotonic()
        if kind != "output" or now - self.drawn > 0.05:
            self.drawn = now
            self.live.update(self.render(), refresh=True)

    def render(self, done: bool = False, image: str = "") -> Any:
        from rich.table import Table
        from rich.text import Text

        elapsed = time.monotonic() - self.started
        finished = sum(1 for v in self.steps.values() if v["status"] != "running")
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        table.add_column(justify="right", width=7)
        head = "FINISHED" if done else ""
        table.add_row(
            Text(f"[+] {self.title} {elapsed:.1f}s ({finished}/{len(self.steps)}) {head}", style="bold"), ""
        )
        for vertex in self.order:
            step = self.steps[vertex]
            status = step["status"]
            if status == "cached":
                line = Text(" => ") + Text("CACHED ", style="cyan") + Text(step["label"])
                took = f"{step.get('elapsed', 0):.1f}s"
            elif status == "running":
                line = Text(" => ", style="yellow") + Text(step["label"], style="yellow")
                took = f"{time.monotonic() - step['start']:.1f}s"
            elif status == "error":
                line = Text(" => ERROR ", style="bold red") + Text(step["label"], style="red")
                took = f"{step.get('elapsed', 0):.1f}s"
            else:
                line = Text(" => ") + Text(step["label"], style="blue")
                took = f"{step.get('elapsed', 0):.1f}s"
            table.add_row(line, took)
            if status in ("running", "error"):
                for out in step["lines"][-self.TAIL :]:
                    table.add_row(Text(" => => # " + out, style="dim"), "")
        if image:
            table.add_row(Text(f" => writing image {image}", style="green"), "")
        return table

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


def _renderer(mode: str) -> Any:
    if mode == "auto":
        mode = "tty" if sys.stderr.isatty() else "plain"
    return TtyProgress() if mode == "tty" else PlainProgress()


# -- commands -------------------------------------------------------------------------------------------


def cmd_build(a: flags.Namespace) -> int:
    """``docker build``. What dockyard refuses of Docker's flags (a network, platform or output it
    cannot give, a remote context) ends with status 125 before anything is built; a failed build with 1."""
    from engine import InvalidArgument

    try:
        return _build(a)
    except InvalidArgument as exc:
        sys.stderr.write(f"Error: {exc}\n")
        return 125


def _build(a: flags.Namespace) -> int:
    from engine import BuildOptions, InvalidArgument

    if a.run and not a.watch:
        raise InvalidArgument("--run needs --watch")
    if a.context == "-" and a.file == "-":
        raise InvalidArgument("invalid argument: can't use stdin for both build context and dockerfile")
    if a.watch and "-" in (a.context, a.file):
        raise InvalidArgument(
            "--watch needs a context directory and a Dockerfile on disk, not standard input"
        )
    if a.network not in ("default", "none", "host"):
        raise InvalidArgument(
            f"network mode {a.network!r} not supported by the build: use none, default (the same: dockyard "
            "build steps have no network) or host"
        )
    output = _output(a.output)
    to_stdout = output is not None and output[1] == "-"
    if to_stdout and sys.stdout.isatty():
        raise InvalidArgument(
            "refusing to write a tar to the terminal: redirect standard output, or use dest=FILE"
        )
    options = BuildOptions(
        a.context,
        dockerfile=_dockerfile(a),
        tags=list(a.tag),
        build_args=_pairs(a.build_arg, "build argument", True),
        target=a.target,
        no_cache=a.no_cache,
        labels=_pairs(a.label, "label", False),
        dockerfile_text=sys.stdin.buffer.read().decode("utf-8", "replace") if a.file == "-" else None,
        context_stream=sys.stdin.buffer if a.context == "-" else None,
        secrets=_secrets(a.secret),
        network="none" if a.network == "default" else a.network,
        build_contexts=_pairs(a.build_context, "build context", False),
        pull=a.pull,
        output=output,
        output_stream=sys.stdout.buffer if to_stdout else None,
        cache_from=list(a.cache_from),
        platform=a.platform,
        run_options=_run_options(a),
    )
    eng = engine()
    render: Callable[[Any], None]
    renderer = None
    if a.quiet:
        render = _quiet
    else:
        renderer = _renderer(a.progress)
        render = renderer
    try:
        if a.watch:
            return _watch(eng, a, options, render)
        image_id = eng.images.build(options, progress=render)
    finally:
        if renderer is not None:
            renderer.close()
    if a.iidfile:
        with open(a.iidfile, "w") as f:
            f.write(image_id)
    if a.quiet and not to_stdout:
        print(image_id)
    return 0


def _quiet(event: Any) -> None:
    if event.kind == "result":
        return


def _watch(eng: EngineAPI, a: flags.Namespace, options: BuildOptions, render: Callable[[Any], None]) -> int:
    import threading

    def show(event: Any) -> None:
        if a.quiet and event.kind == "result":
            print(event.image_id, flush=True)
        render(event)

    stop = threading.Event()
    try:
        eng.watch_build(options, progress=show, run_name=a.run, stop=stop)
    except KeyboardInterrupt:
        stop.set()
    return 0


_CACHE_KINDS = ("regular", "exec.cachemount")


def _parse_filters(filters: list[str]) -> tuple[float | None, set[str] | None]:
    """``until=DURATION`` and ``type=regular|exec.cachemount`` (BuildKit's record types)."""
    from engine import InvalidArgument
    from engine.units import parse_duration

    older = None
    kinds: set[str] | None = None
    for f in filters:
        key, _, value = f.partition("=")
        if key == "until":
            older = parse_duration(value)
        elif key == "type":
            if value not in _CACHE_KINDS:
                raise InvalidArgument(
                    f"invalid filter 'type={value}': use type=regular or type=exec.cachemount"
                )
            kinds = (kinds or set()) | {value}
        else:
            raise InvalidArgument(f"invalid filter '{key}'")
    return older, kinds


def cmd_builder_prune(a: flags.Namespace) -> int:
    from engine.humanize import human_size

    older, kinds = _parse_filters(a.filter)
    keep = None
    if a.keep_storage:
        from engine.units import parse_bytes

        keep = parse_bytes(a.keep_storage)
    what = "all build cache" if a.all else "all dangling build cache"
    if not output.confirmed(a.force, f"This will remove {what}."):
        return 0
    eng = local_engine()
    report = eng.images.prune_builds(all=a.all, older_than=older, kinds=kinds, keep_storage=keep)
    if report.deleted:
        print(f"Deleted build cache objects: {report.deleted}")
    print(f"Total:\t{human_size(report.reclaimed)}")
    return 0
