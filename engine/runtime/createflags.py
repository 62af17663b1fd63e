"""``create``'s checks of the resource flags beyond the first five and of the flags scripts pass
(--cidfile, --dns-search, --dns-option, --expose, --attach, --platform, --domainname, --mac-address,
--isolation, --runtime, --cgroupns, --cgroup-parent, --kernel-memory), each with Docker's rules and words.

Imported only when one of them is given: a plain ``run`` never loads this module. ``check`` raises
InvalidArgument before anything is written and returns the fields the container's config gets.
"""

from __future__ import annotations

import os

from ..errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..paths import Layout

    CreateOptions = Any  # create.py's record (not imported: create imports this module)

STREAMS = ("stdin", "stdout", "stderr")
KERNEL_MEMORY_REFUSED = (
    "--kernel-memory: specifying a kernel memory limit is deprecated and no longer supported "
    "(the kernel deprecated kmem.limit_in_bytes and cgroup v2 has none; -m/--memory counts kernel memory too)"
)


def check_mac(value: str, network: str) -> str:
    """--mac-address: six hexadecimal pairs (``:`` or ``-`` between them), as Docker's client checks it;
    the address of the interface on the network the container starts on, so not with no network."""
    pairs = value.replace("-", ":").split(":")
    if len(pairs) != 6 or not all(
        len(p) == 2 and all(c in "0123456789abcdefABCDEF" for c in p) for p in pairs
    ):
        raise InvalidArgument(f"{value} is not a valid mac address")
    if network in ("none", "host") or network.startswith("container:"):
        raise InvalidArgument("conflicting options: mac-address and the network mode")
    if int(pairs[0], 16) & 1:
        raise InvalidArgument(f"{value} is not a valid mac address: it is a multicast address")
    return ":".join(pairs).lower()


def asks_more(opts: CreateOptions) -> bool:
    """True when ``opts`` uses any flag this module checks."""
    return bool(
        opts.cpu_period is not None
        or opts.cpu_quota is not None
        or opts.cpuset_cpus
        or opts.cpuset_mems
        or opts.memory_reservation is not None
        or opts.memory_swappiness is not None
        or opts.oom_kill_disable
        or opts.blkio_weight is not None
        or opts.kernel_memory is not None
        or opts.dns_search
        or opts.dns_options
        or opts.expose
        or opts.attach is not None
        or opts.platform
        or opts.domainname
        or opts.mac_address
        or opts.isolation
        or opts.runtime
        or opts.cgroupns
        or opts.cgroup_parent
        or opts.cidfile
        or opts.annotations
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


def parse_expose(spec: str) -> list[str]:
    """``--expose 80``, ``80/udp``, ``7000-7002/tcp`` -> ["80/tcp"] ...; Docker's errors."""
    if ":" in spec:
        raise InvalidArgument(f"invalid port format for --expose: {spec}")
    port, _, proto = spec.partition("/")
    proto = proto.lower() or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        raise InvalidArgument(f"invalid proto: {proto}")
    low, dash, high = port.partition("-")
    try:
        for n in (low, high) if dash else (low,):
            if not (n.isascii() and n.isdigit()) or not 0 < int(n) <= 65535:
                raise ValueError(n)
    except ValueError:
        raise InvalidArgument(
            f"invalid range format for --expose: {spec}, error: invalid port: {port or spec}"
        ) from None
    first, last = int(low), int(high) if dash else int(low)
    if last < first:
        raise InvalidArgument(
            f"invalid range format for --expose: {spec}, error: invalid range specified for port: {port}"
        )
    return [f"{p}/{proto}" for p in range(first, last + 1)]


def parse_attach(streams: list[str]) -> list[str]:
    """``-a stdin -a STDOUT`` -> ["stdin", "stdout"]; Docker's message for anything else."""
    out: list[str] = []
    for s in streams:
        name = s.lower()
        if name not in STREAMS:
            raise InvalidArgument(
                f'invalid argument "{s}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR'
            )
        if name not in out:
            out.append(name)
    return out


def parse_platform(value: str) -> tuple[str, str, str]:
    """``linux/amd64``, ``linux/arm64/v8``, ``amd64`` or ``linux`` -> (os, architecture, variant), as
    Docker's platform parser reads them (the machine's architecture when only the OS is named)."""
    parts = value.strip().lower().split("/")
    if len(parts) == 1:
        parts = ["linux", parts[0]] if parts[0] != "linux" else ["linux", _machine_arch()]
    if len(parts) not in (2, 3) or not all(parts):
        raise InvalidArgument(f'"{value}": unknown operating system or architecture: invalid argument')
    arch = _ARCH.get(parts[1], parts[1])
    variant = parts[2] if len(parts) == 3 else ""
    if arch == "arm64" and variant == "v8":
        variant = ""
    return parts[0], arch, variant


_ARCH = {
    "x86_64": "amd64",
    "x86-64": "amd64",
    "aarch64": "arm64",
    "armhf": "arm",
    "armel": "arm",
    "i386": "386",
}


def _machine_arch() -> str:
    m = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}.get(m, m)


def machine_platform() -> tuple[str, str, str]:
    """This machine's platform as (os, architecture, variant)."""
    return "linux", _machine_arch(), ""


def check_platform(layout: Layout, ref: str, image_id: str, wanted: str) -> None:
    """``--platform`` must name the platform of the image that is there (dockyard keeps one image per
    name); Docker's message when it does not."""
    from ..store.imagestore import ImageStore

    want = parse_platform(wanted)
    doc = ImageStore(layout).config_of(image_id)
    arch = str(doc.get("architecture") or _machine_arch())
    variant = str(doc.get("variant") or "")
    have = (
        str(doc.get("os") or "linux"),
        _ARCH.get(arch, arch),
        "" if arch == "arm64" and variant == "v8" else variant,
    )
    if want[:2] != have[:2] or (want[2] and want[2] != have[2]):
        text = "/".join(p for p in want if p)
        raise InvalidArgument(
            f"image with reference {ref} was found but does not match the specified platform: "
            f"wanted {text}, actual: {'/'.join(p for p in have if p)}"
        )


def check(layout: Layout, opts: CreateOptions, image_ref: str, image_id: str) -> dict[str, Any]:
    """Check the flags; the config fields they give."""
    if opts.kernel_memory:
        raise InvalidArgument(KERNEL_MEMORY_REFUSED)
    if opts.mac_address:
        opts.mac_address = check_mac(opts.mac_address, opts.network)
    if opts.isolation not in ("", "default"):
        raise InvalidArgument(f"invalid isolation: \"{opts.isolation}\" - linux only supports 'default'")
    if opts.runtime not in ("", "runc"):
        raise InvalidArgument(
            f"unknown or invalid runtime name: {opts.runtime} (dockyard runs every container with its own "
            "runtime, which stands in for the default runc)"
        )
    if opts.cgroupns not in ("", "host", "private"):
        raise InvalidArgument("--cgroupns: invalid CGROUP mode")
    if opts.cgroup_parent:
        from .cgroups.parent import is_relative_parent

        path = opts.cgroup_parent.strip("/") if not opts.cgroup_parent.startswith("/") else ""
        if not path or not is_relative_parent(path):
            raise InvalidArgument(
                f"invalid --cgroup-parent {opts.cgroup_parent!r}: dockyard takes a relative path (a/b), "
                "made below the cgroup parent of its root; no absolute path, '.' or '..'"
            )
    for d in opts.dns_search:
        if not d or any(c.isspace() for c in d) or len(d) > 255:
            raise InvalidArgument(f"{d} is not a valid domain")
    for o in opts.dns_options:
        if not o or any(c.isspace() for c in o):
            raise InvalidArgument(f"invalid DNS option {o!r}")
    if opts.domainname and (len(opts.domainname) > 64 or any(c.isspace() for c in opts.domainname)):
        raise InvalidArgument(f"invalid domainname {opts.domainname!r}: at most 64 characters, no spaces")
    expose: list[str] = []
    for spec in opts.expose:
        for p in parse_expose(spec):
            if p not in expose:
                expose.append(p)
    attach = parse_attach(opts.attach) if opts.attach is not None else None
    if opts.platform:
        check_platform(layout, image_ref, image_id, opts.platform)
    cidfile = ""
    if opts.cidfile:
        cidfile = os.path.abspath(opts.cidfile)
        if os.path.lexists(cidfile):
            raise InvalidArgument(
                f"container ID file found, make sure the other container isn't running or delete {opts.cidfile}"
            )
    return {
        **_even_more(opts),
        "cpu_period": opts.cpu_period or None,
        "cpu_quota": opts.cpu_quota or None,
        "cpuset_cpus": opts.cpuset_cpus,
        "cpuset_mems": opts.cpuset_mems,
        "memory_reservation": opts.memory_reservation or None,
        "memory_swappiness": opts.memory_swappiness,
        "oom_kill_disable": True if opts.oom_kill_disable else None,
        "blkio_weight": opts.blkio_weight or None,
        "dns_search": list(opts.dns_search),
        "dns_options": list(opts.dns_options),
        "expose": expose,
        "attach": attach,
        "platform": opts.platform,
        "domainname": opts.domainname,
        "cgroupns": opts.cgroupns,
        "cgroup_parent": opts.cgroup_parent.strip("/"),
        "cidfile": cidfile,
    }


#: The per-device flags: the config field each fills, the key of its value, how its value is read.
_DEVICE_FLAGS = (
    ("weight_devices", "--blkio-weight-device", "blkio_weight_device", "Weight"),
    ("device_read_bps", "--device-read-bps", "blkio_device_read_bps", "Rate"),
    ("device_write_bps", "--device-write-bps", "blkio_device_write_bps", "Rate"),
    ("device_read_iops", "--device-read-iops", "blkio_device_read_iops", "Rate"),
    ("device_write_iops", "--device-write-iops", "blkio_device_write_iops", "Rate"),
)
_BPS_FORMAT = (
    "The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. "
    "Unit is optional and can be kb, mb, or gb"
)
_IOPS_FORMAT = "The correct format is <device-path>:<number>. Number must be a positive integer"


def parse_device_value(flag: str, val: str) -> dict[str, Any]:
    """``/dev/sda:100`` (a weight), ``/dev/sda:1mb`` (bytes a second) or ``/dev/sda:50`` (operations a
    second) as Docker's [{"Path", "Weight"|"Rate"}] entry; Docker's words for a bad one; the device must be
    a block device of this machine."""
    from .cgroups.resources import device_number

    def bad(why: str) -> InvalidArgument:
        return InvalidArgument(f'invalid argument "{val}" for "{flag}" flag: {why}')

    path, sep, value = val.partition(":")
    if not sep or not path:
        raise bad(f"bad format: {val}")
    if not path.startswith("/dev/"):
        raise bad(f"bad format for device path: {val}")
    digits = value.isascii() and value.isdigit()
    if flag == "--blkio-weight-device":
        if not digits or int(value) > 65535 or (int(value) and not 10 <= int(value) <= 1000):
            raise bad(f"invalid weight for device: {val}")
        number = int(value)
    elif flag.endswith("-bps"):
        from ..units import parse_bytes

        try:
            number = parse_bytes(value)
        except InvalidArgument:
            number = -1
        if number < 0 or value.strip().startswith("-"):
            raise bad(f"invalid rate for device: {val}. {_BPS_FORMAT}")
    else:
        if not digits or int(value) >= 1 << 64:
            raise bad(f"invalid rate for device: {val}. {_IOPS_FORMAT}")
        number = int(value)
    number_text = device_number(path)  # a block device that is there, or Docker's words for what it is
    if flag == "--blkio-weight-device":
        _check_weighs(path, number_text)
    return {"Path": path, "Weight" if flag == "--blkio-weight-device" else "Rate": number}


def _check_weighs(path: str, number: str) -> None:
    """A per-device weight needs the BFQ I/O scheduler on the device (the kernel's only one that weighs
    cgroups against each other on it): refused at create, with the reason, when it has another."""
    try:
        with open(f"/sys/dev/block/{number}/queue/scheduler") as f:
            text = f.read()
    except OSError:
        return  # a partition or a device without a queue: the kernel says what it takes at start
    active = text[text.find("[") + 1 : text.find("]")] if "[" in text else text.strip()
    if active != "bfq":
        raise InvalidArgument(
            f"--blkio-weight-device {path}: the device's I/O scheduler ({active}) gives no weight per "
            "cgroup; only BFQ does (/sys/block/DEVICE/queue/scheduler)"
        )


def _even_more(opts: CreateOptions) -> dict[str, Any]:
    """The config fields of --annotation, the per-device block I/O flags, --cpu-rt-*, --oom-score-adj and
    --userns (the limits themselves are checked with the others, by Limits)."""
    out: dict[str, Any] = {}
    for key in opts.annotations:
        if not key.strip():
            raise InvalidArgument("invalid annotation: the key must not be empty")
    out["annotations"] = dict(opts.annotations)
    for field_name, flag, config_name, _key in _DEVICE_FLAGS:
        out[config_name] = [parse_device_value(flag, v) for v in getattr(opts, field_name)]
    if opts.oom_score_adj is not None and not -1000 <= opts.oom_score_adj <= 1000:
        raise InvalidArgument(f"Invalid value {opts.oom_score_adj}, range for oom score adj is [-1000, 1000]")
    if opts.userns not in ("", "host"):
        raise InvalidArgument(
            "--userns: invalid USER mode (only host: dockyard does not remap user IDs, a container's "
            "root is the machine's root, as with Docker's default daemon)"
        )
    out["oom_score_adj"] = opts.oom_score_adj or 0
    out["userns_mode"] = opts.userns
    out["isolation"] = opts.isolation
    out["volume_driver"] = opts.volume_driver
    out["cpu_rt_period"] = opts.cpu_rt_period or None
    out["cpu_rt_runtime"] = opts.cpu_rt_runtime or None
    return out


def device_limits(more: dict[str, Any]) -> dict[str, Any]:
    """The Limits fields of the per-device entries and the real-time budget in ``more`` (check's result)."""
    out: dict[str, Any] = {
        "cpu_rt_period": more.get("cpu_rt_period"),
        "cpu_rt_runtime": more.get("cpu_rt_runtime"),
    }
    for _field, _flag, config_name, key in _DEVICE_FLAGS:
        limit_name = "blkio_weight_device" if key == "Weight" else config_name.removeprefix("blkio_")
        out[limit_name] = tuple((e["Path"], e[key]) for e in more.get(config_name) or ())
    return out


def kept_devices(more: dict[str, Any], limits: Any) -> dict[str, Any]:
    """The per-device config entries the machine check kept (those it dropped are emptied, as Docker does)."""
    out: dict[str, Any] = {}
    for _field, _flag, config_name, key in _DEVICE_FLAGS:
        limit_name = "blkio_weight_device" if key == "Weight" else config_name.removeprefix("blkio_")
        out[config_name] = more.get(config_name, []) if getattr(limits, limit_name) else []
    return out


def write_cidfile(path: str, cid: str) -> None:
    """Write the container's ID to ``path``, which must not exist (O_EXCL: two creates racing for one file
    cannot both have it)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    except FileExistsError:
        raise InvalidArgument(
            f"container ID file found, make sure the other container isn't running or delete {path}"
        ) from None
    except OSError as e:
        raise InvalidArgument(f"failed to create the container ID file: {e.strerror}: {path}") from None
    try:
        os.write(fd, cid.encode())
    finally:
        os.close(fd)
