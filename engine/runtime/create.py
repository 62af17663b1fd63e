"""``create``: a new container record over an image: its config, an empty writable layer, a name."""

from __future__ import annotations

import os

from engine.lean.record import field, record

from ..errors import InvalidArgument
from ..humanize import rfc3339
from ..lean.tools import suppress
from ..model.config import ContainerConfig, ContainerState, MountConfig, RestartPolicy
from ..paths import Layout
from ..store.containers import ContainerStore, name_conflict
from ..store.tmp import remove_tree
from .capnames import capabilities
from .logfile import log_config
from .names import generate_name, is_valid_name, new_id, validate_name
from .signals import parse_signal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

RESTART_NAMES = ("no", "on-failure", "always", "unless-stopped")


@record
class CreateOptions:
    """What ``run``/``create`` accept (the docker-py ``containers.run`` keywords, flattened)."""

    command: list[str] | None = None
    entrypoint: list[str] | None = None  # [] means "reset the image's entrypoint"
    name: str | None = None
    env: list[str] = field(default_factory=list)
    working_dir: str = ""
    user: str = ""
    hostname: str = ""
    tty: bool = False
    console_size: tuple[int, int] = (
        0,
        0,
    )  # rows, columns of the terminal with ``tty`` (Docker's ConsoleSize)
    stdin_open: bool = False
    auto_remove: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    stop_signal: str = ""
    stop_timeout: int | None = None
    restart: str = "no"
    network: str = "none"
    volumes: list[str] = field(default_factory=list)  # HOST:CTR[:ro] or NAME:CTR[:ro] or CTR
    tmpfs: list[str] = field(default_factory=list)  # CTR[:opts]
    read_only: bool = False
    memory: int | None = None
    memory_swap: int | None = None
    cpus: float | None = None
    cpu_shares: int | None = None
    pids_limit: int | None = None
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    privileged: bool = False
    ports: list[str] = field(default_factory=list)
    publish_all: bool = False
    ip: str = ""
    ip6: str = ""  # --ip6, on a network made with --ipv6
    aliases: list[str] = field(default_factory=list)
    link_local_ips: list[str] = field(default_factory=list)  # more addresses on the interface (Docker's)
    extra_hosts: list[str] = field(default_factory=list)
    dns: list[str] = field(default_factory=list)
    # resources beyond the first five, and the script flags (createflags.py; docs/RUN_FLAGS.md)
    cpu_period: int | None = None
    cpu_quota: int | None = None
    cpuset_cpus: str = ""
    cpuset_mems: str = ""
    memory_reservation: int | None = None
    memory_swappiness: int | None = None  # None (or -1): the kernel's
    oom_kill_disable: bool = False
    blkio_weight: int | None = None
    kernel_memory: int | None = None  # refused: deprecated
    dns_search: list[str] = field(default_factory=list)
    dns_options: list[str] = field(default_factory=list)
    expose: list[str] = field(default_factory=list)  # PORT[/PROTO] or START-END[/PROTO]
    attach: list[str] | None = None  # stdin, stdout, stderr a foreground run attaches
    platform: str = ""  # os/arch[/variant]: must be the image's
    domainname: str = ""
    mac_address: str = ""  # the interface's on the network the container starts on
    isolation: str = ""  # only "default" (kept, as Docker keeps it)
    volume_driver: str = ""  # kept; only the local driver makes volumes
    links: list[str] = field(default_factory=list)  # legacy --link NAME[:ALIAS], on the default bridge
    runtime: str = ""  # only "runc" (dockyard's own runtime stands in for it)
    cgroupns: str = ""  # host | private
    cgroup_parent: str = ""  # relative to the root's cgroup parent
    cidfile: str = ""  # written at create; refused if it exists
    annotations: dict[str, str] = field(default_factory=dict)  # --annotation KEY=VALUE
    weight_devices: list[str] = field(default_factory=list)  # --blkio-weight-device DEV:WEIGHT
    device_read_bps: list[str] = field(default_factory=list)  # DEV:RATE (bytes, with units)
    device_write_bps: list[str] = field(default_factory=list)
    device_read_iops: list[str] = field(default_factory=list)  # DEV:RATE (operations)
    device_write_iops: list[str] = field(default_factory=list)
    cpu_rt_period: int | None = None  # µs
    cpu_rt_runtime: int | None = None  # µs
    oom_score_adj: int | None = None  # -1000..1000
    userns: str = ""  # "" or host: no user namespace remapping here
    warnings: list[str] = field(default_factory=list)  # filled by create: what Docker's daemon warns about
    healthcheck: dict[str, Any] | None = None
    log_driver: str = ""  # json-file | none; "" for the root's default (ROOT/daemon.json, else json-file)
    log_opts: dict[str, str] = field(default_factory=dict)  # max-size, max-file, compress
    # mounts, init, namespaces, devices and security (runflags.py; docs/RUN_FLAGS.md)
    mounts: list[str] = field(default_factory=list)  # --mount type=bind,source=...,target=...
    init: bool = False
    shm_size: int = 0  # bytes; 0: 64 MiB
    ulimits: list[str] = field(default_factory=list)  # NAME=SOFT[:HARD]
    devices: list[str] = field(default_factory=list)  # HOST[:CTR[:PERMS]]
    gpus: str = ""  # refused: no GPU support
    security_opt: list[str] = field(default_factory=list)
    sysctls: list[str] = field(default_factory=list)  # NAME=VALUE
    pid: str = ""
    ipc: str = ""
    uts: str = ""
    group_add: list[str] = field(default_factory=list)
    volumes_from: list[str] = field(default_factory=list)  # CTR[:ro|rw]


def parse_restart(policy: str) -> RestartPolicy:
    name, _, count = (policy or "no").partition(":")
    if name not in RESTART_NAMES:
        raise InvalidArgument(f"invalid restart policy '{policy}'")
    if count:
        if name != "on-failure":
            raise InvalidArgument(
                f"invalid restart policy '{policy}': maximum retry count can only be used with 'on-failure'"
            )
        # ASCII digits only (str.isdigit also takes "²", which int() refuses), and no more than Go's int
        if not (count.isascii() and count.isdigit()) or len(count.lstrip("0")) > 18:
            raise InvalidArgument(
                f"invalid restart policy '{policy}': maximum retry count must be an integer"
            )
    return RestartPolicy(name, int(count or 0))


def check_stop_signal(signal: str) -> None:
    """``--stop-signal`` (or the image's STOPSIGNAL) must name a signal: a container must be stoppable."""
    if not signal:
        return
    try:
        parse_signal(signal)
    except ValueError:  # a number in digits other than ASCII's ("²")
        raise InvalidArgument(f"Invalid signal: {signal}") from None


def parse_volume(spec: str) -> MountConfig:
    parts = spec.split(":")
    if len(parts) == 1:
        if not parts[0].startswith("/"):
            raise InvalidArgument(f"invalid volume specification: '{spec}'")
        return MountConfig("volume", parts[0], "", False)  # anonymous volume
    if len(parts) > 3:
        raise InvalidArgument(f"invalid volume specification: '{spec}'")
    src, dst = parts[0], parts[1]
    mode = parts[2] if len(parts) == 3 else "rw"
    ro = False
    for m in mode.split(","):
        if m == "ro":
            ro = True
        elif m not in ("rw", "z", "Z", "rprivate", "private", "rslave", "slave", "nocopy", ""):
            raise InvalidArgument(f"invalid mode: {mode}")
    if not dst.startswith("/"):
        raise InvalidArgument(
            f"invalid volume specification: '{spec}': invalid mount config: the container path must be absolute"
        )
    if dst == "/":
        raise InvalidArgument(
            f"invalid volume specification: '{spec}': invalid mount config: destination can't be '/'"
        )
    if src.startswith("/") or src.startswith("."):
        return MountConfig("bind", os.path.normpath(dst), os.path.abspath(src), ro)
    if not is_valid_name(src):
        raise InvalidArgument(
            f'"{src}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. '
            "If you intended to pass a host directory, use absolute path"
        )
    return MountConfig("volume", os.path.normpath(dst), src, ro)


def parse_tmpfs(spec: str) -> MountConfig:
    dst, _, opts = spec.partition(":")
    if not dst.startswith("/"):
        raise InvalidArgument(f"invalid tmpfs specification: '{spec}': the path must be absolute")
    options = [o for o in opts.split(",") if o] or ["rw", "noexec", "nosuid", "nodev"]
    return MountConfig("tmpfs", dst, "tmpfs", "ro" in options, options)


def run_flags_used(opts: CreateOptions) -> bool:
    """Is any of the flags runflags.py checks set (that module is loaded only then)?"""
    return bool(
        opts.mounts or opts.init or opts.shm_size or opts.ulimits or opts.devices or opts.gpus
        or opts.security_opt or opts.sysctls or opts.pid or opts.ipc or opts.uts or opts.group_add
        or opts.volumes_from
    )  # fmt: skip


def resolve_command(
    image_cfg: dict[str, Any], entrypoint: list[str] | None, command: list[str] | None
) -> tuple[list[str] | None, list[str] | None]:
    """Docker's rule: --entrypoint replaces the image's and drops its CMD; a command replaces CMD."""
    ep = image_cfg.get("Entrypoint")
    cmd = image_cfg.get("Cmd")
    if entrypoint is not None:
        ep = [x for x in entrypoint if x != ""] or None
        cmd = None
    if command:
        cmd = list(command)
    return (list(ep) if ep else None), (list(cmd) if cmd else None)


def _asks_more(opts: CreateOptions) -> bool:
    """Does ``opts`` use a flag that createflags.py checks? (That module loads only then.)"""
    return bool(
        opts.cpu_period is not None
        or opts.cpu_quota is not None
        or opts.memory_reservation is not None
        or opts.memory_swappiness is not None
        or opts.blkio_weight is not None
        or opts.kernel_memory is not None
        or opts.attach is not None
        or opts.oom_kill_disable
        or any((opts.cpuset_cpus, opts.cpuset_mems, opts.dns_search, opts.dns_options, opts.expose))
        or any((opts.platform, opts.domainname, opts.mac_address, opts.isolation, opts.runtime))
        or any((opts.cgroupns, opts.cgroup_parent, opts.cidfile, opts.volume_driver))
        or _asks_even_more(opts)
    )


def _asks_even_more(opts: CreateOptions) -> bool:
    """Annotations, per-device block I/O, the real-time budget, the OOM score, --userns."""
    return bool(
        opts.annotations
        or opts.weight_devices
        or opts.device_read_bps
        or opts.device_write_bps
        or opts.device_read_iops
        or opts.device_write_iops
        or opts.cpu_rt_period is not None
        or opts.cpu_rt_runtime is not None
        or opts.oom_score_adj is not None
        or opts.userns
    )


def _healthcheck(given: dict[str, Any] | None, image: dict[str, Any] | None) -> dict[str, Any] | None:
    """The container's HEALTHCHECK: the image's, with what the health flags set over it (as Docker merges
    them: a flag without --health-cmd changes the image's check)."""
    if given is None:
        return image
    if "Test" in given or not image:
        return given
    return {**image, **given}


def create(
    layout: Layout, image_ref: str, image_id: str, image_cfg: dict[str, Any], opts: CreateOptions
) -> str:
    """Validate everything, then write the container; returns its ID. Nothing is written on bad input."""
    store = ContainerStore(layout)
    name = validate_name(opts.name) if opts.name else None
    stop_signal = opts.stop_signal or image_cfg.get("StopSignal") or ""
    check_stop_signal(stop_signal)
    entrypoint, cmd = resolve_command(image_cfg, opts.entrypoint, opts.command)
    if not entrypoint and not cmd:
        raise InvalidArgument("no command specified")
    policy = parse_restart(opts.restart)
    if policy.name != "no" and opts.auto_remove:
        raise InvalidArgument("conflicting options: cannot specify both --restart and --rm")
    mounts = [parse_volume(v) for v in opts.volumes] + [parse_tmpfs(t) for t in opts.tmpfs]
    run_flags: dict[str, Any] = {}
    if run_flags_used(opts):  # --mount, --init, namespaces, devices, security: runflags.py
        from .runflags import check_run_flags

        run_flags = check_run_flags(ContainerStore(layout), opts, mounts)
    capabilities(opts.cap_add, opts.cap_drop, opts.privileged)  # validates names
    more: dict[str, Any] = {}
    asks_more = _asks_more(opts)
    if asks_more:
        from .createflags import check as check_more

        more = check_more(layout, opts, image_ref, image_id)
    if asks_more or any(
        v is not None for v in (opts.memory, opts.memory_swap, opts.cpus, opts.cpu_shares, opts.pids_limit)
    ):
        from engine.lean.record import replace

        from .cgroups import Limits

        limits = Limits.of(opts)
        limits.validate()
        if asks_more:
            from .cgroups.support import check as machine_check
            from .createflags import device_limits, kept_devices

            limits, opts.warnings[:] = machine_check(replace(limits, **device_limits(more)))
            more.update(
                cpuset_cpus=limits.cpuset_cpus,
                cpuset_mems=limits.cpuset_mems,
                blkio_weight=limits.blkio_weight,
                memory_swappiness=limits.swappiness,
                oom_kill_disable=limits.oom_kill_disable,
                **kept_devices(more, limits),
            )
    log_driver, log_opts = log_config(layout.root, opts.log_driver, opts.log_opts)
    for e in opts.env:
        if not e or e.startswith("=") or "\0" in e:  # a NUL could never reach the process
            raise InvalidArgument(f"invalid environment variable: {e!r}")
    if opts.network not in ("none", "host", "bridge", "default") and not opts.network:
        raise InvalidArgument("invalid network mode")
    ports: list[dict[str, Any]] = []
    networks: dict[str, dict[str, Any]] = {}
    network_mode, hostname = opts.network, opts.hostname
    if opts.network.startswith("container:"):  # another container's network namespace, and its names
        from . import netshare

        network_mode, hostname, domainname = netshare.check(store, opts)
        if domainname and not opts.domainname:
            more["domainname"] = domainname
    elif opts.network not in ("none", "host"):
        from .nethooks import plan

        exposed = more.get("expose")  # --expose: published by -P as the image's EXPOSE are
        planned_cfg = (
            image_cfg
            if not exposed
            else {
                **image_cfg,
                "ExposedPorts": {**(image_cfg.get("ExposedPorts") or {}), **{p: {} for p in exposed}},
            }
        )
        ports, networks = plan(layout, opts, planned_cfg)
    elif opts.ports:
        raise InvalidArgument(
            f"conflicting options: port publishing and the container type network mode ({opts.network})"
        )
    cid = new_id()
    for m in mounts:
        if m.type == "volume" and not m.source:
            m.source = new_id()  # anonymous volume, removed with rm -v
    stop_timeout = opts.stop_timeout
    if opts.volume_driver not in ("", "local") and any(m.type == "volume" for m in mounts):
        from ..errors import NotFound  # Docker's words: it looks for the plugin and finds none

        driver = opts.volume_driver
        raise NotFound(f'error looking up volume plugin {driver}: plugin "{driver}" not found')
    links: list[dict[str, str]] = []
    user_net = next((n for n in networks if n != "bridge"), "") if opts.links else ""
    if user_net:  # on a user network a link is a name its DNS server gives (Docker's EndpointSettings.Links)
        from .links import endpoint_links

        networks[user_net]["links"] = endpoint_links(list(opts.links))
    elif opts.links:
        from .links import parse_links

        links = parse_links(ContainerStore(layout), list(opts.links), opts.network)
    cfg = ContainerConfig(
        id=cid,
        links=links,
        name="",
        created=rfc3339(__import__("time").time()),
        image=image_ref,
        image_id=image_id,
        entrypoint=entrypoint,
        cmd=cmd,
        env=list(opts.env),
        working_dir=opts.working_dir,
        user=opts.user,
        hostname=hostname,
        tty=opts.tty,
        console_size=[max(0, int(n)) for n in opts.console_size] if opts.tty else [0, 0],
        open_stdin=opts.stdin_open,
        stdin_once=opts.stdin_open,
        auto_remove=opts.auto_remove,
        labels={**(image_cfg.get("Labels") or {}), **opts.labels},
        stop_signal=stop_signal,
        stop_timeout=stop_timeout,
        restart_policy=policy,
        network_mode=network_mode,
        mounts=mounts,
        read_only=opts.read_only,
        memory=opts.memory,
        memory_swap=opts.memory_swap if opts.memory_swap or not opts.memory else 2 * opts.memory,  # Docker's
        cpus=opts.cpus,
        cpu_shares=opts.cpu_shares,
        pids_limit=opts.pids_limit,
        cap_add=list(opts.cap_add),
        cap_drop=list(opts.cap_drop),
        privileged=opts.privileged,
        ports=ports,
        networks=networks,
        extra_hosts=list(opts.extra_hosts),
        dns=list(opts.dns),
        healthcheck=_healthcheck(opts.healthcheck, image_cfg.get("Healthcheck")),
        log_driver=log_driver,
        log_opts=log_opts,
        image_config=dict(image_cfg),
        **run_flags,
        **more,
    )
    with store.names_lock():
        if name is not None:
            owner = store.owner(name)
            if owner:
                raise name_conflict(name, owner)
        else:
            name = generate_name(store.taken)
        cfg.name = name
        # The directory appears whole, by one rename, after the name is reserved: a process killed in
        # between leaves a name whose container does not exist (free to take; the sweep drops it), never a
        # container without its name.
        made = store.build_dir(cfg, ContainerState())
        wrote_cidfile = False
        try:
            if cfg.cgroup_parent:  # read by the cgroup code wherever it looks for the container's cgroup
                from .cgroups.parent import SUBPARENT_FILE

                with open(os.path.join(made, SUBPARENT_FILE), "w") as f:
                    f.write(cfg.cgroup_parent)
            if cfg.cidfile:
                from .createflags import write_cidfile

                write_cidfile(cfg.cidfile, cid)
                wrote_cidfile = True
            store.reserve_name(name, cid)
            store.install_dir(made, cid)
        except BaseException:
            store.release_name(name, cid)
            store.drop_id(cid)
            remove_tree(made)
            if wrote_cidfile:
                with suppress(OSError):
                    os.unlink(cfg.cidfile)
            raise
    if any(m.type == "volume" for m in mounts):
        from .volumes import ensure_volume

        for m in mounts:
            if m.type == "volume":
                ensure_volume(layout, m.source)
    for m in mounts:
        if m.type == "bind" and not os.path.exists(m.source):
            os.makedirs(m.source, exist_ok=True)  # -v creates a missing host directory, as Docker does
    from ..store.eventlog import emit

    emit(layout, "container", "create", cid, {"name": name, "image": image_ref}, config=cfg)
    return cid
