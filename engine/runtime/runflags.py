"""``run``/``create`` flags for mounts, init, namespaces, devices and security, checked at create with Docker's
rules and words (docs/RUN_FLAGS.md). Loaded only when one of these flags is used.

``check_run_flags`` reads them all before anything is written and returns the container record's fields; the
mounts of ``--mount`` and ``--volumes-from`` are added to the list ``-v`` and ``--tmpfs`` made.
"""

from __future__ import annotations

import os
import stat

from ..errors import InvalidArgument
from ..model.config import MountConfig

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..store.containers import ContainerStore

#: The tini package's static binary, bind-mounted read-only at /sbin/docker-init by ``--init``.
INIT_BINARY = "/usr/bin/tini-static"
INIT_PATH = "/sbin/docker-init"

#: Docker's --ulimit names (go-units' ulimitNameMapping).
ULIMIT_NAMES = (
    "core cpu data fsize locks memlock msgqueue nice nofile nproc rss rtprio rttime sigpending stack".split()
)
#: Docker's namespaced sysctls (docker/cli opts.ValidateSysctl).
SYSCTL_IPC = (
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
)
PROPAGATIONS = ("rprivate", "private", "rshared", "shared", "rslave", "slave")
_TRUE = ("1", "t", "T", "true", "TRUE", "True")
_FALSE = ("0", "f", "F", "false", "FALSE", "False")


def _flag_error(flag: str, value: str, reason: str) -> InvalidArgument:
    return InvalidArgument(f'invalid argument "{value}" for "--{flag}" flag: {reason}')


def _go_bool(value: str) -> bool | None:
    return True if value in _TRUE else False if value in _FALSE else None


def _csv_fields(text: str) -> list[str]:
    """One line of CSV as Go's encoding/csv reads it (quotes around a field, "" inside one)."""
    import csv

    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error as e:
        raise InvalidArgument(str(e)) from None
    return rows[0] if rows else []


# ------------------------------------------------------------------------------------------ --mount


def parse_mount(spec: str) -> MountConfig:
    """``--mount type=bind,source=/a,target=/b,readonly`` (docker/cli opts.MountOpt, then the daemon's
    checks of each type)."""

    def bad(reason: str) -> InvalidArgument:
        return _flag_error("mount", spec, reason)

    try:
        fields = _csv_fields(spec)
    except InvalidArgument as e:
        raise bad(e.message) from None
    kind, source, target, read_only = "volume", "", "", False
    propagation, nonrecursive, nocopy = "", False, False
    volume_opts: dict[str, str] = {}
    tmpfs_size: int | None = None
    tmpfs_mode: int | None = None
    families: set[str] = set()
    for item in fields:
        key, sep, value = item.partition("=")
        key = key.lower()
        if not sep:
            if key in ("readonly", "ro"):
                read_only = True
            elif key == "volume-nocopy":
                nocopy, families = True, families | {"volume"}
            elif key == "bind-nonrecursive":
                nonrecursive, families = True, families | {"bind"}
            else:
                raise bad(f"invalid field '{item}' must be a key=value pair")
            continue
        if key == "type":
            kind = value.lower()
        elif key in ("source", "src"):
            source = os.path.abspath(value) if value == "." or value.startswith("./") else value
        elif key in ("target", "dst", "destination"):
            target = value
        elif key in ("readonly", "ro", "bind-nonrecursive", "volume-nocopy"):
            flag = _go_bool(value)
            if flag is None:
                raise bad(f"invalid value for {key}: {value}")
            if key in ("readonly", "ro"):
                read_only = flag
            elif key == "bind-nonrecursive":
                nonrecursive, families = flag, families | {"bind"}
            else:
                nocopy, families = flag, families | {"volume"}
        elif key == "bind-propagation":
            propagation, families = value.lower(), families | {"bind"}
        elif key == "volume-opt":
            k, _, v = value.partition("=")
            if k:
                volume_opts[k] = v
            families.add("volume")
        elif key in ("volume-driver", "volume-label"):
            families.add("volume")
            if key == "volume-driver" and value not in ("", "local"):
                raise InvalidArgument(
                    f"volume driver {value!r} is not supported: dockyard's volumes are local directories"
                )
        elif key == "consistency":
            pass  # Docker for Mac's; Linux ignores it too
        elif key == "tmpfs-size":
            from ..units import parse_bytes

            try:
                tmpfs_size = parse_bytes(value)
            except InvalidArgument:
                raise bad(f"invalid value for {key}: {value}") from None
            families.add("tmpfs")
        elif key == "tmpfs-mode":
            try:
                tmpfs_mode = int(value, 8)
            except ValueError:
                raise bad(f"invalid value for {key}: {value}") from None
            if not 0 <= tmpfs_mode <= 0xFFFFFFFF:
                raise bad(f"invalid value for {key}: {value}")
            families.add("tmpfs")
        else:
            raise bad(f"unexpected key '{key}' in '{item}'")
    if not kind:
        raise bad("type is required")
    if not target:
        raise bad("target is required")
    for family in sorted(families):
        if family != kind:
            raise bad(f"cannot mix '{family}-*' options with mount type '{kind}'")
    return _check_mount(
        kind,
        source,
        target,
        read_only,
        propagation,
        nonrecursive,
        nocopy,
        volume_opts,
        tmpfs_size,
        tmpfs_mode,
    )


def _check_mount(
    kind: str,
    source: str,
    target: str,
    read_only: bool,
    propagation: str,
    nonrecursive: bool,
    nocopy: bool,
    volume_opts: dict[str, str],
    tmpfs_size: int | None,
    tmpfs_mode: int | None,
) -> MountConfig:
    """The daemon's checks of one mount (moby volume/mounts validate.go), in its words."""

    def bad(reason: str) -> InvalidArgument:
        return InvalidArgument(f'invalid mount config for type "{kind}": {reason}')

    if kind not in ("bind", "volume", "tmpfs"):
        if kind in ("npipe", "cluster", "image"):
            raise bad(f"mount type {kind} is not supported here")
        raise bad("mount type unknown")
    if not target.startswith("/"):
        raise bad(f"invalid mount path: '{target}' mount path must be absolute")
    destination = os.path.normpath(target)
    if destination.startswith("//"):
        destination = destination[1:]
    if destination == "/":
        raise bad("invalid specification: destination can't be '/'")
    if kind == "bind":
        if not source:
            raise bad("field Source must not be empty")
        if not source.startswith("/"):
            raise bad(f"invalid mount path: '{source}' mount path must be absolute")
        if propagation and propagation not in PROPAGATIONS:
            raise bad(f"invalid propagation mode: {propagation}")
        if not os.path.exists(source):
            raise bad(f"bind source path does not exist: {source}")
        return MountConfig(
            "bind",
            destination,
            os.path.normpath(source),
            read_only,
            via="mount",
            propagation=propagation or "rprivate",
            nonrecursive=nonrecursive,
        )
    if kind == "volume":
        if source:
            from .names import is_valid_name

            if not is_valid_name(source):
                raise bad(
                    f'"{source}" includes invalid characters for a local volume name, only '
                    '"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed'
                )
        if volume_opts:
            raise InvalidArgument(
                "volume-opt is not supported: dockyard's volumes are plain directories of the local driver, "
                "which takes no options here (create the volume first with `dockyard volume create`)"
            )
        return MountConfig("volume", destination, source, read_only, via="mount", nocopy=nocopy)
    if source:
        raise bad("field Source must not be specified")
    options = ["rw" if not read_only else "ro", "noexec", "nosuid", "nodev"]
    if tmpfs_size is not None and tmpfs_size > 0:
        options.append(f"size={tmpfs_size}")
    if tmpfs_mode is not None:
        options.append(f"mode={tmpfs_mode:o}")
    return MountConfig("tmpfs", destination, "", read_only, options, via="mount")


# --------------------------------------------------------------------------------- the other flags


def parse_ulimit(value: str) -> dict[str, Any]:
    """``NAME=SOFT[:HARD]`` (go-units ParseUlimit): Docker's {"Name", "Soft", "Hard"}."""
    name, sep, limits = value.partition("=")
    if not sep:
        raise _flag_error("ulimit", value, f"invalid ulimit argument: {value}")
    if name not in ULIMIT_NAMES:
        raise _flag_error("ulimit", value, f"invalid ulimit type: {name}")
    parts = limits.split(":")
    if len(parts) > 2:
        raise _flag_error(
            "ulimit",
            value,
            f"too many limit value arguments - {limits}, can only have up to two, `soft[:hard]`",
        )
    numbers = []
    for part in parts:
        text = part[1:] if part[:1] in "+-" else part
        if not (text.isascii() and text.isdigit()) or len(text) > 19:
            raise _flag_error("ulimit", value, f'strconv.ParseInt: parsing "{part}": invalid syntax')
        numbers.append(int(part))
    soft = numbers[0]
    hard = numbers[1] if len(numbers) == 2 else soft
    if hard != -1 and soft > hard:
        raise _flag_error("ulimit", value, f"ulimit soft limit must be less than hard limit: {soft} > {hard}")
    return {"Name": name, "Soft": soft, "Hard": hard}


def check_ulimits(ulimits: list[dict[str, Any]]) -> None:
    """A hard limit above this process's own cannot be set without CAP_SYS_RESOURCE: refuse it now rather
    than give the container less than it asked for."""
    import resource

    from .capabilities import CAPABILITIES, available_mask

    if available_mask() >> CAPABILITIES["CAP_SYS_RESOURCE"] & 1:
        return
    for u in ulimits:
        res = getattr(resource, "RLIMIT_" + u["Name"].upper(), None)
        if res is None:
            continue
        _soft, hard_now = resource.getrlimit(res)
        wanted = u["Hard"]
        if hard_now != resource.RLIM_INFINITY and (wanted < 0 or wanted > hard_now):
            raise InvalidArgument(
                f"ulimit {u['Name']}: hard limit {wanted} is above this machine's {hard_now} "
                "(raising it needs CAP_SYS_RESOURCE, which dockyard does not have here)"
            )


def _valid_device_mode(mode: str) -> bool:
    return bool(mode) and all(c in "rwm" for c in mode) and len(set(mode)) == len(mode)


def parse_device(value: str) -> dict[str, str]:
    """``HOST[:CONTAINER][:PERMISSIONS]`` (docker/cli ValidateDevice and parseDevice), checked on the host."""
    if value.count(":") > 2 or not value.split(":")[0]:
        raise _flag_error("device", value, f"bad format for path: {value}")
    parts = value.split(":")
    src, dst, perms = parts[0], "", "rwm"
    if len(parts) == 2:
        if _valid_device_mode(parts[1]):
            perms = parts[1]
        else:
            dst = parts[1]
    elif len(parts) == 3:
        dst, perms = parts[1], parts[2]
        if not _valid_device_mode(perms):
            raise _flag_error("device", value, f"bad mode specified: {perms}")
    dst = dst or src
    if not dst.startswith("/"):
        raise _flag_error("device", value, f"{dst} is not an absolute path")
    try:
        st = os.stat(src)
    except OSError as e:
        reason = (e.strerror or str(e)).lower()
        raise InvalidArgument(
            f'error gathering device information while adding custom device "{src}": {reason}'
        ) from None
    if not (stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)):
        raise InvalidArgument(
            f'error gathering device information while adding custom device "{src}": not a device node'
        )
    return {"PathOnHost": src, "PathInContainer": os.path.normpath(dst), "CgroupPermissions": perms}


def parse_security_opts(values: list[str], privileged: bool) -> tuple[list[str], dict[str, Any] | None]:
    """``--security-opt``: (the options as given, a seccomp profile read from its file)."""
    profile: dict[str, Any] | None = None
    for opt in values:
        if opt in ("no-new-privileges", "disable"):
            continue
        key, sep, value = opt.partition("=")
        if not sep:
            key, sep, value = opt.partition(":")
        if not sep or not value:
            raise InvalidArgument(f"Invalid --security-opt: {opt!r}".replace("'", '"'))
        if key == "no-new-privileges":
            if _go_bool(value) is None:
                raise InvalidArgument(f'invalid --security-opt 2: "{opt}"')
        elif key == "seccomp":
            if value not in ("unconfined", "default", "builtin"):
                profile = read_seccomp_profile(value)
        elif key in ("label", "apparmor"):
            pass  # recorded only: this machine runs neither SELinux nor AppArmor for containers
        elif key == "systempaths":
            if value != "unconfined":
                raise InvalidArgument(f'invalid --security-opt 2: "{opt}"')
        else:
            raise InvalidArgument(f'invalid --security-opt 2: "{opt}"')
    return list(values), profile


def security_setting(security_opt: list[str], key: str) -> str | None:
    """The last value given for ``key`` (``no-new-privileges`` alone is "true"); None when not given."""
    found = None
    for opt in security_opt:
        if opt == key == "no-new-privileges":
            found = "true"
            continue
        k, sep, v = opt.partition("=")
        if not sep:
            k, sep, v = opt.partition(":")
        if sep and k == key:
            found = v
    return found


def read_seccomp_profile(path: str) -> dict[str, Any]:
    """A seccomp profile file in Docker's format, read and compiled once now so that a bad one is refused."""
    import json

    try:
        with open(path, "rb") as f:
            data = f.read(8 << 20)
    except OSError as e:
        raise InvalidArgument(
            f"opening seccomp profile ({path}) failed: open {path}: {(e.strerror or str(e)).lower()}"
        ) from None
    try:
        profile = json.loads(data)
    except (ValueError, RecursionError) as e:
        raise InvalidArgument(f"compacting json for seccomp profile ({path}) failed: {e}") from None
    if not isinstance(profile, dict):
        raise InvalidArgument(f"decoding seccomp profile failed: ({path}) is not a JSON object")
    from .seccompprofile import compile_profile

    compile_profile(profile, ["ALL"])  # raises InvalidArgument on what it cannot take
    return profile


def parse_sysctls(values: list[str], network_mode: str, ipc_mode: str) -> dict[str, str]:
    """``--sysctl NAME=VALUE``: Docker's namespaced ones only, and only in a namespace of the container's."""
    out: dict[str, str] = {}
    for value in values:
        name, sep, setting = value.partition("=")
        allowed = sep and (name in SYSCTL_IPC or name.startswith(("net.", "fs.mqueue.")))
        if not allowed:
            raise _flag_error("sysctl", value, f"sysctl '{value}' is not allowed")
        if name.startswith("net.") and network_mode == "host":
            raise InvalidArgument(f"sysctl {name!r} not allowed in host network namespace".replace("'", '"'))
        if not name.startswith("net.") and ipc_mode == "host":
            raise InvalidArgument(f'sysctl "{name}" is not allowed in the hosts ipc namespace')
        if "/" in name or ".." in name.split("."):
            raise _flag_error("sysctl", value, f"sysctl '{value}' is not allowed")
        out[name] = setting
    return out


def _namespace_mode(flag: str, mode: str, allowed: tuple[str, ...], store: ContainerStore) -> str:
    if mode in allowed:
        return mode
    if mode.startswith("container:") and "container:" in allowed and mode[len("container:") :]:
        store.resolve(mode[len("container:") :])  # No such container: NAME
        return mode
    if flag == "ipc":
        raise InvalidArgument(f"invalid IPC mode: {mode}")
    raise InvalidArgument(f"--{flag}: invalid {flag.upper()} mode")


def volumes_from(store: ContainerStore, refs: list[str]) -> list[MountConfig]:
    """The bind and volume mounts of the containers ``refs`` name (``CTR[:ro|rw]``), as they have them."""
    out: list[MountConfig] = []
    for ref in refs:
        name, _, mode = ref.partition(":")
        if mode not in ("", "ro", "rw", "z", "Z", "ro,z", "rw,z", "ro,Z", "rw,Z"):
            raise InvalidArgument(f"invalid mode: {mode}")
        source = store.config(store.resolve(name))
        for m in source.mounts:
            if m.type == "tmpfs":
                continue
            ro = m.read_only if not mode or mode.startswith(("z", "Z")) else mode.startswith("ro")
            out.append(
                MountConfig(
                    m.type,
                    m.destination,
                    m.source,
                    ro,
                    list(m.options),
                    via="volumes-from",
                    propagation=m.propagation,
                    nonrecursive=m.nonrecursive,
                    nocopy=m.nocopy,
                )
            )
    return out


# ------------------------------------------------------------------------------------------- create


def check_run_flags(store: ContainerStore, opts: Any, mounts: list[MountConfig]) -> dict[str, Any]:
    """Validate these flags of ``opts`` (CreateOptions) and return the container record's fields; ``mounts`` (from -v and --tmpfs)
    gains those of --mount and --volumes-from (a mount point given twice is refused, as Docker does;
    one inherited by --volumes-from gives way to one given here)."""
    if opts.gpus:
        raise InvalidArgument(
            f'could not select device driver "" with capabilities: [[gpu]] (--gpus {opts.gpus}): '
            "dockyard has no GPU support"
        )
    own = [parse_mount(m) for m in opts.mounts]
    seen: set[str] = set()
    for m in mounts + own:
        if m.destination in seen:
            raise InvalidArgument(f"Duplicate mount point: {m.destination}")
        seen.add(m.destination)
    inherited = [m for m in volumes_from(store, opts.volumes_from) if m.destination not in seen]
    mounts[:0] = inherited
    mounts += own
    if opts.init and not os.access(INIT_BINARY, os.X_OK):
        raise InvalidArgument(
            f"--init needs {INIT_BINARY} (Debian's tini package: apt-get install tini), which is missing"
        )
    ulimits: dict[str, dict[str, Any]] = {}
    for u in opts.ulimits:
        parsed = parse_ulimit(u)
        ulimits[parsed["Name"]] = parsed
    if ulimits:
        check_ulimits(list(ulimits.values()))
    devices = [parse_device(d) for d in opts.devices]
    for d in devices:
        if set(d["CgroupPermissions"]) != set("rwm"):
            raise InvalidArgument(
                f"device permissions {d['CgroupPermissions']!r} are not supported: dockyard keeps devices "
                "out of reach with nodev mounts, not with a devices cgroup, so a device it adds is usable "
                "in full (rwm)"
            )
    security_opt, profile = parse_security_opts(opts.security_opt, opts.privileged)
    pid_mode = _namespace_mode("pid", opts.pid, ("", "host", "container:"), store)
    ipc_mode = _namespace_mode(
        "ipc", opts.ipc, ("", "private", "shareable", "host", "none", "container:"), store
    )
    uts_mode = _namespace_mode("uts", opts.uts, ("", "host", "container:"), store)
    if uts_mode and opts.hostname:
        raise InvalidArgument("Conflicting options: hostname and the UTS mode")
    if opts.shm_size < 0:
        raise InvalidArgument("SHM size can not be less than 0")
    if opts.shm_size and (ipc_mode in ("host", "none") or ipc_mode.startswith("container:")):
        raise InvalidArgument(
            f"--shm-size has no effect with --ipc {ipc_mode}: the container has no /dev/shm of its own"
        )
    sysctls = parse_sysctls(opts.sysctls, opts.network, ipc_mode)
    for g in opts.group_add:
        if not g or ":" in g:
            raise InvalidArgument(f"invalid group: {g!r}")
    return {
        "init": opts.init,
        "shm_size": opts.shm_size,
        "ulimits": list(ulimits.values()),
        "devices": devices,
        "security_opt": security_opt,
        "seccomp_profile": profile,
        "sysctls": sysctls,
        "pid_mode": pid_mode,
        "ipc_mode": ipc_mode,
        "uts_mode": uts_mode,
        "group_add": list(opts.group_add),
        "volumes_from": list(opts.volumes_from),
    }
