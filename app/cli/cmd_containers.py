"""Container lifecycle commands: create, run, start, stop, kill, restart, pause, unpause, rename, rm, wait
(ps and container prune: cmd_ps)."""

from __future__ import annotations

import os
import sys

from . import flags, output
from .commands import engine, local_engine, service

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from engine import AttachAPI, CreateOptions, EngineAPI, RemoteEngine


_TIME = "Seconds to wait before killing the container"


def add_create_flags(p: flags.Parser) -> None:
    a = p.add_argument
    a("-d", "--detach", action="store_true", help="Run container in background and print container ID")
    a("-i", "--interactive", action="store_true", help="Keep STDIN open even if not attached")
    a("-t", "--tty", action="store_true", help="Allocate a pseudo-TTY")
    a("--rm", action="store_true", help="Automatically remove the container when it exits")
    a("--name", help="Assign a name to the container")
    a("-e", "--env", action="append", default=[], help="Set environment variables")
    a("--env-file", action="append", default=[], help="Read in a file of environment variables")
    a("-w", "--workdir", default="", help="Working directory inside the container")
    a("-u", "--user", default="", help="Username or UID (format: <name|uid>[:<group|gid>])")
    a("--entrypoint", help="Overwrite the default ENTRYPOINT of the image")
    a("-h", "--hostname", default="", help="Container host name")
    a("-v", "--volume", action="append", default=[], help="Bind mount a volume")
    a("--tmpfs", action="append", default=[], help="Mount a tmpfs directory")
    a("--read-only", action="store_true", help="Mount the container's root filesystem as read only")
    a("-m", "--memory", metavar="bytes", help="Memory limit")
    a(
        "--memory-swap",
        metavar="bytes",
        help="Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
    )
    a("--cpus", type=float, metavar="decimal", help="Number of CPUs")
    a("-c", "--cpu-shares", type=int, help="CPU shares (relative weight)")
    a("--pids-limit", type=int, help="Tune container pids limit (set -1 for unlimited)")
    a("--restart", default="no", help="Restart policy to apply when a container exits")
    a("--stop-signal", default="", help="Signal to stop the container")
    a("--stop-timeout", type=int, help="Timeout (in seconds) to stop a container")
    a("-l", "--label", action="append", default=[], help="Set meta data on a container")
    a("--network", "--net", default=None, help="Connect a container to a network")
    a("--ip", default="", help="IPv4 address (e.g., 172.30.100.104)")
    a("--ip6", default="", help="IPv6 address (e.g., fd00:1::10), on a network created with --ipv6")
    a("--network-alias", action="append", default=[], help="Add network-scoped alias for the container")
    a("--link-local-ip", action="append", default=[], help="Container IPv4/IPv6 link-local addresses")
    a("-p", "--publish", action="append", default=[], help="Publish a container's port(s) to the host")
    a("-P", "--publish-all", action="store_true", help="Publish all exposed ports to random ports")
    a("--add-host", action="append", default=[], help="Add a custom host-to-IP mapping (host:ip)")
    a("--dns", action="append", default=[], help="Set custom DNS servers")
    # more resources and the flags scripts pass (docs/RUN_FLAGS.md)
    a("--dns-search", action="append", default=[], help="Set custom DNS search domains")
    a("--dns-option", action="append", default=[], help="Set DNS options")
    a("--cpuset-cpus", default="", help="CPUs in which to allow execution (0-3, 0,1)")
    a("--cpuset-mems", default="", help="MEMs in which to allow execution (0-3, 0,1)")
    a("--cpu-period", type=int, help="Limit CPU CFS (Completely Fair Scheduler) period")
    a("--cpu-quota", type=int, help="Limit CPU CFS (Completely Fair Scheduler) quota")
    a("--memory-reservation", metavar="bytes", help="Memory soft limit")
    a("--memory-swappiness", type=int, default=-1, help="Tune container memory swappiness (0 to 100)")
    a("--oom-kill-disable", action="store_true", help="Disable OOM Killer")
    a("--kernel-memory", metavar="bytes", help="Kernel memory limit (deprecated: refused)")
    a("--blkio-weight", type=int, help="Block IO (relative weight), between 10 and 1000, or 0 to disable")
    a("--cidfile", default="", help="Write the container ID to the file")
    a("--label-file", action="append", default=[], help="Read in a line delimited file of labels")
    a("--expose", action="append", default=[], help="Expose a port or a range of ports")
    a("-a", "--attach", action="append", default=[], help="Attach to STDIN, STDOUT or STDERR")
    a("--platform", default="", help="Set platform if server is multi-platform capable")
    a("--pull", default="", help='Pull image before running ("always", "missing", "never")')
    a("--domainname", default="", help="Container NIS domain name")
    a("--mac-address", default="", help="Container MAC address (e.g., 92:d0:c6:0a:29:33)")
    a("--isolation", default="", help="Container isolation technology (only 'default')")
    a("--link", action="append", default=[], help="Add link to another container")
    a("--runtime", default="", help="Runtime to use for this container (only 'runc')")
    a("--cgroupns", default="", help="Cgroup namespace to use (host|private)")
    a("--cgroup-parent", default="", help="Optional parent cgroup for the container")
    a("--cap-add", action="append", default=[], help="Add Linux capabilities")
    a("--cap-drop", action="append", default=[], help="Drop Linux capabilities")
    a("--privileged", action="store_true", help="Give extended privileges to this container")
    a("--health-cmd", help="Command to run to check health")
    a("--health-interval", metavar="duration", help="Time between running the check (ms|s|m|h)")
    a("--health-timeout", metavar="duration", help="Maximum time to allow one check to run (ms|s|m|h)")
    a("--health-retries", type=int, help="Consecutive failures needed to report unhealthy")
    a("--no-healthcheck", action="store_true", help="Disable any container-specified HEALTHCHECK")
    a("--log-driver", default="", help="Logging driver for the container (json-file, none)")
    a("--log-opt", action="append", default=[], help="Log driver options (max-size, max-file, compress)")
    a("--replicas", type=int, default=0, help="Start N containers from the image, named NAME-1..NAME-N")
    # mounts, init, namespaces, devices and security (docs/RUN_FLAGS.md)
    a("--mount", action="append", default=[], help="Attach a filesystem mount to the container")
    a(
        "--init",
        action="store_true",
        help="Run an init inside the container that forwards signals and reaps processes",
    )
    a("--shm-size", metavar="bytes", help="Size of /dev/shm")
    a("--ulimit", action="append", default=[], help="Ulimit options")
    a("--device", action="append", default=[], help="Add a host device to the container")
    a("--security-opt", action="append", default=[], help="Security Options")
    a("--sysctl", action="append", default=[], help="Sysctl options")
    a("--pid", default="", help="PID namespace to use")
    a("--ipc", default="", help="IPC mode to use")
    a("--uts", default="", help="UTS namespace to use")
    a("--group-add", action="append", default=[], help="Add additional groups to join")
    a("--volumes-from", action="append", default=[], help="Mount volumes from the specified container(s)")
    # per-device block I/O, real-time budget, OOM score, health start, pull and session flags
    a("--annotation", action="append", default=[], help="Add an annotation to the container (KEY=VALUE)")
    a("--blkio-weight-device", action="append", default=[], help="Block IO weight (relative device weight)")
    a(
        "--device-read-bps",
        action="append",
        default=[],
        help="Limit read rate (bytes per second) from a device",
    )
    a(
        "--device-write-bps",
        action="append",
        default=[],
        help="Limit write rate (bytes per second) to a device",
    )
    a("--device-read-iops", action="append", default=[], help="Limit read rate (IO per second) from a device")
    a("--device-write-iops", action="append", default=[], help="Limit write rate (IO per second) to a device")
    a("--cpu-rt-period", type=int, help="Limit CPU real-time period in microseconds")
    a("--cpu-rt-runtime", type=int, help="Limit CPU real-time runtime in microseconds")
    a("--oom-score-adj", type=int, help="Tune host's OOM preferences (-1000 to 1000)")
    a("--userns", default="", help="User namespace to use (only host: no user ID remapping)")
    a("--health-start-period", help="Start period before failed checks count (ms|s|m|h)")
    a("--health-start-interval", help="Time between checks during the start period (ms|s|m|h)")
    a("-q", "--quiet", action="store_true", help="Suppress the pull output")
    a("--disable-content-trust", action="store_true", default=True, help=flags.SUPPRESS)
    a("--detach-keys", default="", help="Override the key sequence for detaching a container")
    a("--sig-proxy", action="store_true", default=True, help="Proxy received signals to the process")
    a("image")
    a("command", nargs=flags.REMAINDER)


def register(sub: flags.Commands) -> None:
    group = sub.add_parser("container", help="Manage containers")
    cs = group.add_subparsers(dest="container_command", metavar="COMMAND")

    for parent, name in ((sub, "create"), (cs, "create")):
        p = parent.add_parser(name, help="Create a new container", add_help=False)
        p.add_argument("--help", action="help")
        add_create_flags(p)
        p.set_defaults(handler=cmd_create, docker_exit_codes=True)
    for parent, name in ((sub, "run"), (cs, "run")):
        p = parent.add_parser(name, help="Create and run a new container from an image", add_help=False)
        p.add_argument("--help", action="help")
        add_create_flags(p)
        p.set_defaults(handler=cmd_run, docker_exit_codes=True)

    for parent, name in ((sub, "start"), (cs, "start")):
        p = parent.add_parser(name, help="Start one or more stopped containers")
        p.add_argument("-a", "--attach", action="store_true", help="Attach STDOUT/STDERR and forward signals")
        p.add_argument("-i", "--interactive", action="store_true", help="Attach container's STDIN")
        p.add_argument(
            "--detach-keys", default="", help="Override the key sequence for detaching a container"
        )
        p.add_argument("containers", nargs="+", metavar="CONTAINER")
        p.set_defaults(handler=cmd_start)
    for parent, name in ((sub, "stop"), (cs, "stop")):
        p = parent.add_parser(name, help="Stop one or more running containers")
        p.add_argument("-t", "--time", "--timeout", dest="time", type=int, help=_TIME)
        p.add_argument("-s", "--signal", help="Signal to send to the container")
        p.add_argument("containers", nargs="+", metavar="CONTAINER")
        p.set_defaults(handler=cmd_stop)
    for parent, name in ((sub, "restart"), (cs, "restart")):
        p = parent.add_parser(name, help="Restart one or more containers")
        p.add_argument("-t", "--time", "--timeout", dest="time", type=int, help=_TIME)
        p.add_argument("-s", "--signal", help="Signal to send to the container")
        p.add_argument("containers", nargs="+", metavar="CONTAINER")
        p.set_defaults(handler=cmd_restart)
    for parent, name in ((sub, "kill"), (cs, "kill")):
        p = parent.add_parser(name, help="Kill one or more running containers")
        p.add_argument("-s", "--signal", default="KILL", help="Signal to send to the container")
        p.add_argument("containers", nargs="+", metavar="CONTAINER")
        p.set_defaults(handler=cmd_kill)
    for parent, name in ((sub, "pause"), (cs, "pause")):
        p = parent.add_parser(name, help="Pause all processes within one or more containers")
        p.add_argument("containers", nargs="+", metavar="CONTAINER")
        p.set_defaults(handler=cmd_pause)
    for parent, name in ((sub, "unpause"), (cs, "unpause")):
        p = parent.add_parser(name, help="Unpause all processes within one or more containers")
        p.add_argument("containers", nargs="+", metavar="CONTAINER")
        p.set_defaults(handler=cmd_unpause)
    for parent, name in ((sub, "rename"), (cs, "rename")):
        p = parent.add_parser(name, help="Rename a container")
        p.add_argument("container")
        p.add_argument("new_name")
        p.set_defaults(handler=cmd_rename)
    for parent, name in ((sub, "rm"), (cs, "rm"), (cs, "remove")):
        p = parent.add_parser(name, help="Remove one or more containers")
        p.add_argument("-f", "--force", action="store_true", help="Force the removal of a running container")
        p.add_argument(
            "-v", "--volumes", action="store_true", help="Remove volumes associated with the container"
        )
        p.add_argument("-l", "--link", action="store_true", help="Remove the specified link")
        p.add_argument("containers", nargs="+", metavar="CONTAINER")
        p.set_defaults(handler=cmd_rm)
    for parent, name in ((sub, "wait"), (cs, "wait")):
        p = parent.add_parser(name, help="Block until containers stop, then print their exit codes")
        p.add_argument("containers", nargs="+", metavar="CONTAINER")
        p.set_defaults(handler=cmd_wait)
    if isinstance(group, flags.Parser):  # ``dockyard container ...``: more in cmd_ps and cmd_inspect
        from . import cmd_inspect, cmd_ps, cmd_update
        from .commands import Null

        cmd_ps.register_group(cs)
        cmd_inspect.register(Null(), cs)
        cmd_update.register(Null(), cs)  # type: ignore[arg-type]


def build_options(a: flags.Namespace, eng: EngineAPI) -> CreateOptions:
    from engine import CreateOptions
    from engine.units import parse_bytes, parse_duration

    from .envfiles import env_values, read_env_files

    entrypoint = None
    if a.entrypoint is not None:
        entrypoint = [a.entrypoint] if a.entrypoint else []
    memory = parse_bytes(a.memory) if a.memory else None
    swap = None
    if a.memory_swap:
        swap = -1 if a.memory_swap == "-1" else parse_bytes(a.memory_swap)
    labels = {}
    for lab in a.label:
        k, _, v = lab.partition("=")
        labels[k] = v
    health: dict[str, Any] | None = None
    if a.no_healthcheck:
        health = {"Test": ["NONE"]}
    elif a.health_cmd:
        health = {"Test": ["CMD-SHELL", a.health_cmd]}
        if a.health_interval:
            health["Interval"] = int(parse_duration(a.health_interval) * 1e9)
        if a.health_timeout:
            health["Timeout"] = int(parse_duration(a.health_timeout) * 1e9)
        if a.health_retries:
            health["Retries"] = a.health_retries
    if a.health_start_period or a.health_start_interval:
        health = _health_start(a, health)
    network = a.network
    if network is None:
        network = eng.default_network()  # $DOCKYARD_DEFAULT_NETWORK, else the root's setting
        if network == "none" and (a.publish or a.publish_all):
            network = "bridge"
    return CreateOptions(
        command=list(a.command) or None,
        entrypoint=entrypoint,
        name=a.name,
        env=read_env_files(a.env_file) + env_values(a.env),
        working_dir=a.workdir,
        user=a.user,
        hostname=a.hostname,
        tty=a.tty,
        console_size=_console_size() if a.tty else (0, 0),
        stdin_open=a.interactive,
        auto_remove=a.rm,
        labels=labels,
        stop_signal=a.stop_signal,
        stop_timeout=a.stop_timeout,
        restart=a.restart,
        network=network,
        volumes=a.volume,
        tmpfs=a.tmpfs,
        read_only=a.read_only,
        memory=memory,
        memory_swap=swap,
        cpus=a.cpus,
        cpu_shares=a.cpu_shares,
        pids_limit=a.pids_limit,
        cap_add=a.cap_add,
        cap_drop=a.cap_drop,
        privileged=a.privileged,
        ports=a.publish,
        publish_all=a.publish_all,
        ip=a.ip,
        ip6=a.ip6,
        aliases=a.network_alias,
        link_local_ips=a.link_local_ip,
        extra_hosts=a.add_host,
        dns=a.dns,
        **_script_options(a, labels),
        healthcheck=health,
        log_driver=a.log_driver,
        log_opts={k: v for k, _, v in (o.partition("=") for o in a.log_opt)},
        **_run_flag_options(a),
    )


def _health_start(a: flags.Namespace, health: dict[str, Any] | None) -> dict[str, Any] | None:
    """--health-start-period and --health-start-interval, in Docker's words when they are wrong (without
    --health-cmd they change the image's check: the engine merges them)."""
    from engine import InvalidArgument
    from engine.units import parse_duration

    out = dict(health) if health is not None else {}
    if out.get("Test") == ["NONE"]:
        return health
    for flag, key, text in (
        ("--health-start-period", "StartPeriod", a.health_start_period),
        ("--health-start-interval", "StartInterval", a.health_start_interval),
    ):
        if not text:
            continue
        try:
            sign = -1 if text.startswith("-") else 1  # Go reads a negative duration: Docker refuses it
            ns = sign * int(parse_duration(text.removeprefix("-")) * 1e9)
        except InvalidArgument:
            raise InvalidArgument(
                f'invalid argument "{text}" for "{flag}" flag: time: invalid duration "{text}"'
            ) from None
        if ns < 0:
            raise InvalidArgument(f"{flag} cannot be negative")
        if 0 < ns < 1_000_000:
            raise InvalidArgument(f"{key} in Healthcheck cannot be less than 1ms")
        out[key] = ns
    return out


def _run_flag_options(a: flags.Namespace) -> dict[str, Any]:
    """The CreateOptions of --mount, --init, --shm-size, --ulimit, --device, --security-opt, --sysctl, --pid,
    --ipc, --uts, --group-add and --volumes-from."""
    shm = 0
    if a.shm_size:
        from engine import InvalidArgument
        from engine.units import parse_bytes

        try:
            shm = parse_bytes(a.shm_size)
        except InvalidArgument:
            raise InvalidArgument(
                f'invalid argument "{a.shm_size}" for "--shm-size" flag: invalid size: \'{a.shm_size}\''
            ) from None
    return {
        "mounts": a.mount,
        "init": a.init,
        "shm_size": shm,
        "ulimits": a.ulimit,
        "devices": a.device,
        "security_opt": a.security_opt,
        "sysctls": a.sysctl,
        "pid": a.pid,
        "ipc": a.ipc,
        "uts": a.uts,
        "group_add": a.group_add,
        "volumes_from": a.volumes_from,
    }


def _script_options(a: flags.Namespace, labels: dict[str, str]) -> dict[str, Any]:
    """The options of the resource and script flags (only those given: the others keep their defaults).
    ``labels`` takes --label-file's labels under the --label ones."""
    if a.label_file:
        from_files = _read_label_files(a.label_file)
        labels.update({k: v for k, v in from_files.items() if k not in labels})
    out: dict[str, Any] = {}
    if a.memory_reservation or a.kernel_memory:
        from engine.units import parse_bytes

        if a.memory_reservation:
            out["memory_reservation"] = parse_bytes(a.memory_reservation)
        if a.kernel_memory:
            out["kernel_memory"] = parse_bytes(a.kernel_memory)
    if a.memory_swappiness != -1:
        out["memory_swappiness"] = a.memory_swappiness
    if a.attach:
        if a.detach:
            from engine import InvalidArgument

            raise InvalidArgument("Conflicting options: -a and -d")
        out["attach"] = list(a.attach)
    for name in ("cpuset_cpus", "cpuset_mems", "cpu_period", "cpu_quota", "blkio_weight", "cidfile"):
        value = getattr(a, name)
        if value not in (None, ""):
            out[name] = value
    for name in (
        "platform",
        "domainname",
        "mac_address",
        "isolation",
        "runtime",
        "cgroupns",
        "cgroup_parent",
    ):
        if getattr(a, name):
            out[name] = getattr(a, name)
    if a.oom_kill_disable:
        out["oom_kill_disable"] = True
    if a.dns_search:
        out["dns_search"] = list(a.dns_search)
    if a.dns_option:
        out["dns_options"] = list(a.dns_option)
    if a.link:
        out["links"] = list(a.link)
    if a.expose:
        out["expose"] = list(a.expose)
    if a.annotation:
        out["annotations"] = {k: v for k, _, v in (x.partition("=") for x in a.annotation)}
    for name, field in (
        ("blkio_weight_device", "weight_devices"),
        ("device_read_bps", "device_read_bps"),
        ("device_write_bps", "device_write_bps"),
        ("device_read_iops", "device_read_iops"),
        ("device_write_iops", "device_write_iops"),
    ):
        if getattr(a, name):
            out[field] = list(getattr(a, name))
    for name in ("cpu_rt_period", "cpu_rt_runtime", "oom_score_adj"):
        if getattr(a, name) is not None:
            out[name] = getattr(a, name)
    if a.userns:
        out["userns"] = a.userns
    return out


def _read_label_files(paths: list[str]) -> dict[str, str]:
    """--label-file: KEY=VALUE lines (a KEY alone is an empty label), # comments and blank lines skipped."""
    from engine import InvalidArgument

    labels: dict[str, str] = {}
    for path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise InvalidArgument(f"open {path}: {(e.strerror or str(e)).lower()}") from None
        for n, raw in enumerate(data.splitlines(), 1):
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                raise InvalidArgument(f"label file {path} contains invalid utf8 bytes at line {n}") from None
            if not line or line.startswith("#"):
                continue
            k, _, v = line.partition("=")
            labels[k] = v
    return labels


def _pull_mode(a: flags.Namespace) -> str:
    if a.pull not in ("", "always", "missing", "never"):
        from engine import InvalidArgument

        raise InvalidArgument(
            f'invalid pull option: \'{a.pull}\': must be one of "always", "missing" or "never"'
        )
    return a.pull


def _ensure_image(eng: EngineAPI, a: flags.Namespace) -> None:
    """The image is there, or pulled as --pull says: ``always`` pulls, ``missing`` pulls when it is not
    there, ``never`` refuses (Docker's "No such image"); without --pull it must be there already."""
    from engine import ImageNotFound

    mode = _pull_mode(a)
    if mode == "always":
        _pull(eng, a.image, a.platform, a.quiet)
        return
    if mode in ("missing", "never"):
        try:
            eng.images.resolve(a.image)
            return
        except ImageNotFound:
            try:
                shown = eng.images.tagged_name(a.image)
            except Exception:
                shown = a.image
            if mode == "never":
                raise ImageNotFound(f"No such image: {shown}") from None
            sys.stderr.write(f"Unable to find image '{shown}' locally\n")
            _pull(eng, a.image, a.platform, a.quiet)
            return
    _image_or_error(eng, a.image)


def _pull(eng: EngineAPI, ref: str, platform: str, quiet: bool = False) -> None:
    """Pull ``ref`` as ``pull`` does, its report on stderr (stdout is the container's); none with -q."""
    result = eng.images.pull(ref, platform=platform or None)
    if quiet:
        return
    sys.stderr.write(f"Digest: {result.digest}\n")
    status = "Image is up to date for" if result.up_to_date else "Downloaded newer image for"
    sys.stderr.write(f"Status: {status} {result.name}\n")
    sys.stderr.flush()


def _warn(opts: CreateOptions) -> None:
    for w in opts.warnings:
        sys.stderr.write(f"WARNING: {w}\n")


class _Streams:
    """An attach session that hands on only the output streams -a named (1: stdout, 2: stderr)."""

    def __init__(self, session: Any, kinds: set[int]) -> None:
        self._session = session
        self._kinds = kinds

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    def read(self) -> list[tuple[int, bytes]]:
        chunk = self._session.read()
        if not chunk:
            return chunk
        kept = [(k, d) for k, d in chunk if k in self._kinds or k not in (1, 2)]
        return kept or [(0, b"")]


def _console_size() -> tuple[int, int]:
    """Rows and columns of the terminal on stdin (or stdout), so that ``-t`` starts at that size."""
    for fd in (0, 1):
        try:
            size = os.get_terminal_size(fd)
            return size.lines, size.columns
        except OSError:
            continue
    return 0, 0


def _image_or_error(eng: EngineAPI, image: str) -> None:
    from engine import ImageNotFound

    try:
        eng.images.resolve(image)
    except ImageNotFound:
        try:
            shown = eng.images.tagged_name(image)
        except Exception:
            shown = image
        sys.stderr.write(f"Unable to find image '{shown}' locally\n")
        raise


def cmd_create(a: flags.Namespace) -> int:
    eng = engine()
    opts = build_options(a, eng)
    _ensure_image(eng, a)
    c = eng.containers.create(a.image, opts)
    _warn(opts)
    print(c.id)
    return 0


def cmd_run(a: flags.Namespace) -> int:
    eng = engine()
    if a.replicas:
        opts = build_options(a, eng)
        if a.replicas < 0:
            from engine import InvalidArgument

            raise InvalidArgument(f"invalid replicas value {a.replicas}: it must be at least 1")
        return _run_replicas(eng, a, opts)
    remote = service()
    if remote is not None:  # -H: over the Engine API (app/cli/remote.py)
        return _run_remote(a, remote, build_options(a, eng))
    local = local_engine(eng)  # the root's own engine: its supervisor and the container's terminal or pipes
    session, fd = (None, None) if a.detach else local.containers.attach_socket()
    supervisor = local.containers.supervisor(fd)  # gets ready while the options are read and checked
    try:
        try:
            opts = build_options(a, eng)
            _ensure_image(eng, a)
            c = local.containers.run(a.image, opts, attach_fd=fd, supervisor=supervisor)
            _warn(opts)
        except BaseException:
            supervisor.cancel()
            raise
        finally:
            if fd is not None:
                os.close(fd)
        if session is None:  # detached
            print(c.id)
            return 0
        from .terminal import DETACH_KEYS, proxy_signals, relay_session

        keys = DETACH_KEYS
        if a.detach_keys:
            from .cmd_inspect import _detach_keys

            keys = _detach_keys(a.detach_keys)
        restore = proxy_signals(c.id) if a.sig_proxy and not a.tty else None
        try:
            if a.attach:  # -a: only the streams named reach this terminal (all still go to the log)
                named = {x.lower() for x in a.attach}
                kinds = {k for k, n in ((1, "stdout"), (2, "stderr")) if n in named}
                stdin = a.interactive and "stdin" in named
                code = relay_session(_Streams(session, kinds), stdin, a.tty, keys)
            else:
                code = relay_session(session, a.interactive, a.tty, keys)
        finally:
            if restore is not None:
                restore()
    finally:
        if session is not None:
            session.close()
    if code is None:
        if not a.tty:
            try:
                code = eng.containers.wait(c.id)
            except Exception:
                return 0
        else:
            return 0
    if code:
        _tell_supervisor_failure(eng, c.id)
    return code


def _tell_supervisor_failure(eng: EngineAPI, cid: str) -> None:
    """A non-zero exit caused by the supervisor failing, not by the container: say so (one line)."""
    from engine import NotFound

    try:
        error = eng.containers.get(cid).error
    except NotFound:
        return
    if error.startswith("the supervisor failed"):
        sys.stderr.write(f"Error: {error}\n")


def _run_replicas(eng: EngineAPI, a: flags.Namespace, opts: CreateOptions) -> int:
    """``run --replicas N``: N detached containers from one image, sharing its layers."""
    _image_or_error(eng, a.image)
    for c in eng.containers.run_replicas(a.image, a.replicas, opts):
        print(c.id)
    return 0


def _each(a: flags.Namespace, fn: Any) -> int:
    def do(ref: str) -> None:
        fn(ref)
        print(ref)

    return output.for_each(a.containers, do)


def cmd_start(a: flags.Namespace) -> int:
    eng = engine()
    remote = service()
    if (a.attach or a.interactive) and remote is not None:
        return _start_attached_remote(a, remote)
    if a.attach or a.interactive:
        from .cmd_inspect import _detach_keys
        from .terminal import DETACH_KEYS, relay_session

        if len(a.containers) > 1:
            from engine import InvalidArgument

            raise InvalidArgument("you cannot start and attach multiple containers at once")
        ref = a.containers[0]
        local = local_engine(eng)  # the root's own engine: the container's terminal or pipes
        cfg = local.containers.config(ref)
        attached, fd = local.containers.attach_socket()
        session: AttachAPI = attached
        try:
            try:
                started = local.containers.start(ref, attach_fd=fd)
            finally:
                os.close(fd)
            if not started:
                session.close()
                session = eng.containers.attach(ref)
            keys = _detach_keys(a.detach_keys) if a.detach_keys else DETACH_KEYS
            code = relay_session(session, a.interactive and cfg.open_stdin, cfg.tty, keys)
        finally:
            session.close()
        return code or 0
    from engine import DockyardError

    failed: list[str] = []

    def start(ref: str) -> None:
        try:
            eng.containers.start(ref)
        except DockyardError:
            failed.append(ref)
            raise
        print(ref)

    if output.for_each(a.containers, start) == 0:
        return 0
    sys.stderr.write(f"Error: failed to start containers: {', '.join(failed)}\n")
    return 1


def cmd_stop(a: flags.Namespace) -> int:
    eng = engine()
    return _each(a, lambda r: eng.containers.stop(r, a.time, a.signal))


def cmd_restart(a: flags.Namespace) -> int:
    eng = engine()
    return _each(a, lambda r: eng.containers.restart(r, a.time, a.signal))


def cmd_kill(a: flags.Namespace) -> int:
    eng = engine()
    return _each(a, lambda r: eng.containers.kill(r, a.signal))


def cmd_pause(a: flags.Namespace) -> int:
    eng = engine()
    return _each(a, lambda r: eng.containers.pause(r))


def cmd_unpause(a: flags.Namespace) -> int:
    eng = engine()
    return _each(a, lambda r: eng.containers.unpause(r))


def cmd_rename(a: flags.Namespace) -> int:
    engine().containers.rename(a.container, a.new_name)
    return 0


def cmd_rm(a: flags.Namespace) -> int:
    from engine import NotFound

    eng = engine()
    if a.link:  # PARENT/ALIAS: the legacy link goes, both containers stay

        def unlink(ref: str) -> None:
            local_engine(eng).containers.remove_link(ref)  # links are the root's own records
            print(ref)

        return output.for_each(a.containers, unlink)

    def remove(ref: str) -> None:
        try:
            eng.containers.remove(ref, force=a.force, volumes=a.volumes)
        except NotFound as e:
            if not a.force:
                raise
            sys.stderr.write(f"Error: {e}\n")  # -f: a container that is not there is no failure (Docker)
            return
        print(ref)

    return output.for_each(a.containers, remove)


def cmd_wait(a: flags.Namespace) -> int:
    eng = engine()
    return output.for_each(a.containers, lambda ref: print(eng.containers.wait(ref), flush=True))


def _run_remote(a: flags.Namespace, eng: RemoteEngine, opts: CreateOptions) -> int:
    """``run`` on the service: create; without -d, attach (and open the wait for its exit) before the
    start, as Docker's client does, so nothing the container writes is missed; then relay the terminal."""
    from engine import DockyardError

    from .terminal import DETACH_KEYS, proxy_signals, relay_session

    _ensure_image(eng, a)
    ctrs = eng.containers
    c = ctrs.create(a.image, opts)
    _warn(opts)
    if a.detach:
        _start(ctrs, c.id)
        print(c.id)
        return 0
    if a.tty and a.interactive and not sys.stdin.isatty():
        from engine import InvalidArgument

        raise InvalidArgument("the input device is not a TTY")
    named = {x.lower() for x in a.attach} if a.attach else None
    stdin = a.interactive and (named is None or "stdin" in named)
    session = ctrs.attach_stream(c.id, stdin)
    try:
        session.exit_from(ctrs.wait_stream(c.id, "removed" if a.rm else "next-exit"))
        _start(ctrs, c.id)
        keys = DETACH_KEYS
        if a.detach_keys:
            from .cmd_inspect import _detach_keys

            keys = _detach_keys(a.detach_keys)
        restore = proxy_signals(c.id) if a.sig_proxy and not a.tty else None
        try:
            if named is not None:
                kinds = {k for k, n in ((1, "stdout"), (2, "stderr")) if n in named}
                code = relay_session(_Streams(session, kinds), stdin, a.tty, keys)
            else:
                code = relay_session(session, a.interactive, a.tty, keys)
        finally:
            if restore is not None:
                restore()
    except DockyardError:
        raise
    finally:
        session.close()
    return code or 0


def _start(ctrs: Any, cid: str) -> None:
    """Start, with the exit status Docker's client gives a command that cannot run (126, 127)."""
    from engine import CommandNotFound, CommandNotInvokable, DockyardError

    try:
        ctrs.start(cid)
    except DockyardError as e:
        text = str(e)
        if "executable file not found" in text or "no such file or directory" in text:
            raise CommandNotFound(text) from None
        if "permission denied" in text:
            raise CommandNotInvokable(text) from None
        raise


def _start_attached_remote(a: flags.Namespace, eng: RemoteEngine) -> int:
    """``start -a [-i]`` on the service: attach, open the wait, start, relay."""
    from engine import InvalidArgument

    from .cmd_inspect import _detach_keys
    from .terminal import DETACH_KEYS, relay_session

    if len(a.containers) > 1:
        raise InvalidArgument("you cannot start and attach multiple containers at once")
    ctrs = eng.containers
    ref = a.containers[0]
    cfg = ctrs.config(ref)
    stdin = a.interactive and cfg.open_stdin
    session = ctrs.attach_stream(ref, stdin)
    try:
        session.exit_from(ctrs.wait_stream(session.cid, "next-exit"))
        _start(ctrs, session.cid)
        keys = _detach_keys(a.detach_keys) if a.detach_keys else DETACH_KEYS
        code = relay_session(session, stdin, cfg.tty, keys)
    finally:
        session.close()
    return code or 0
