"""Turn a container's config (and its image) into the ContainerSpec the launcher starts."""

from __future__ import annotations

import os
import stat

from ..errors import InvalidArgument
from ..fsutil import atomic_write_bytes
from .records import ContainerConfig
from .spec import DEFAULT_CAPABILITIES, ContainerSpec, Mount, ProcessSpec

ALL_CAPS = (
    "CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETGID CAP_SETUID "
    "CAP_SETPCAP CAP_LINUX_IMMUTABLE CAP_NET_BIND_SERVICE CAP_NET_BROADCAST CAP_NET_ADMIN CAP_NET_RAW "
    "CAP_IPC_LOCK CAP_IPC_OWNER CAP_SYS_MODULE CAP_SYS_RAWIO CAP_SYS_CHROOT CAP_SYS_PTRACE CAP_SYS_PACCT "
    "CAP_SYS_ADMIN CAP_SYS_BOOT CAP_SYS_NICE CAP_SYS_RESOURCE CAP_SYS_TIME CAP_SYS_TTY_CONFIG CAP_MKNOD "
    "CAP_LEASE CAP_AUDIT_WRITE CAP_AUDIT_CONTROL CAP_SETFCAP CAP_MAC_OVERRIDE CAP_MAC_ADMIN CAP_SYSLOG "
    "CAP_WAKE_ALARM CAP_BLOCK_SUSPEND CAP_AUDIT_READ CAP_PERFMON CAP_BPF CAP_CHECKPOINT_RESTORE"
).split()

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def normalize_cap(name: str) -> str:
    n = name.strip().upper()
    if n == "ALL":
        return n
    if not n.startswith("CAP_"):
        n = "CAP_" + n
    if n not in ALL_CAPS:
        raise InvalidArgument(f"unknown capability: {name!r}")
    return n


def capabilities(cap_add: list[str], cap_drop: list[str], privileged: bool) -> list[str]:
    if privileged:
        return list(ALL_CAPS)
    adds = [normalize_cap(c) for c in cap_add]
    drops = [normalize_cap(c) for c in cap_drop]
    caps = list(DEFAULT_CAPABILITIES)
    if "ALL" in drops:
        caps = []
    caps = [c for c in caps if c not in drops]
    if "ALL" in adds:
        caps = [c for c in ALL_CAPS if c not in drops or c in adds]
    else:
        for c in adds:
            if c not in caps:
                caps.append(c)
    return caps


def merge_env(image_env: list[str], user_env: list[str]) -> list[str]:
    out: dict[str, str] = {}
    for e in list(image_env) + list(user_env):
        k, sep, v = e.partition("=")
        out[k] = v if sep else out.get(k, "")
    if "PATH" not in out:
        out["PATH"] = DEFAULT_PATH
    return [f"{k}={v}" for k, v in out.items()]


def layered_file(dirs_top_first: list[str], relpath: str) -> str | None:
    """The host path of ``relpath`` as the merged view would show it (whiteouts and opaque dirs respected)."""
    rel = relpath.strip("/")
    for d in dirs_top_first:
        p = os.path.join(d, rel)
        try:
            st = os.lstat(p)
        except (FileNotFoundError, NotADirectoryError):
            # an opaque parent hides everything below it in lower layers
            parent = os.path.dirname(p)
            try:
                if os.getxattr(parent, "trusted.overlay.opaque") == b"y":
                    return None
            except OSError:
                pass
            continue
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
            return None  # whiteout
        if stat.S_ISLNK(st.st_mode):
            return None  # never follow links out of the image when reading its files as data
        return p
    return None


def write_etc_files(
    cdir: str, cfg: ContainerConfig, hostname: str, hosts_extra: list[str] | None = None
) -> dict[str, str]:
    """hostname, hosts and resolv.conf for the container, kept in its directory and bind-mounted."""
    files = {}
    hn = os.path.join(cdir, "hostname")
    atomic_write_bytes(hn, (hostname + "\n").encode())
    files["/etc/hostname"] = hn
    hosts = [
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "fe00::0\tip6-localnet",
        "ff00::0\tip6-mcastprefix",
        "ff02::1\tip6-allnodes",
        "ff02::2\tip6-allrouters",
    ]
    for h in cfg.extra_hosts:
        name, _, ip = h.partition(":")
        hosts.append(f"{ip}\t{name}")
    hosts += list(hosts_extra or [])
    if cfg.network_mode == "host":
        try:
            with open("/etc/hosts") as f:
                hosts = f.read().splitlines()
        except OSError:
            pass
    elif not hosts_extra:
        hosts.append(f"127.0.1.1\t{hostname}")
    hp = os.path.join(cdir, "hosts")
    atomic_write_bytes(hp, ("\n".join(hosts) + "\n").encode())
    files["/etc/hosts"] = hp
    rp = os.path.join(cdir, "resolv.conf")
    if cfg.dns:
        resolv = "".join(f"nameserver {d}\n" for d in cfg.dns)
    elif cfg.network_mode == "host":
        try:
            with open("/etc/resolv.conf") as f:
                resolv = f.read()
        except OSError:
            resolv = ""
    else:
        resolv = ""  # no way out of the machine: no nameserver (Docker's --network none)
    atomic_write_bytes(rp, resolv.encode())
    files["/etc/resolv.conf"] = rp
    return files


def build_spec(
    cfg: ContainerConfig,
    cdir: str,
    lower_dirs: list[str],
    volume_path: object,
    resolve_user: object,
    net_ns_path: str | None = None,
    hosts_extra: list[str] | None = None,
) -> ContainerSpec:
    """``lower_dirs`` top-first; ``volume_path(name)`` gives a named volume's data dir;
    ``resolve_user(dirs_top_first, user)`` gives (uid, gid, extra gids, home)."""
    image_cfg = cfg.image_config
    upper = os.path.join(cdir, "upper")
    user = cfg.user or image_cfg.get("User", "") or ""
    uid, gid, groups, home = resolve_user([upper, *lower_dirs], user)  # type: ignore[operator]
    hostname = cfg.hostname or cfg.id[:12]
    env = merge_env(image_cfg.get("Env") or [], cfg.env)
    keys = {e.partition("=")[0] for e in env}
    if "HOSTNAME" not in keys:
        env.insert(0, f"HOSTNAME={hostname}")
    if cfg.tty and "TERM" not in keys:
        env.append("TERM=xterm")
    if "HOME" not in keys:
        env.append(f"HOME={home or '/root'}")
    mounts: list[Mount] = []
    for m in cfg.mounts:
        if m.type == "tmpfs":
            opts = list(m.options) or ["rw", "nosuid", "nodev", "noexec"]
            mounts.append(Mount(m.destination, "tmpfs", "tmpfs", opts))
        elif m.type == "volume":
            src = volume_path(m.source)  # type: ignore[operator]
            mounts.append(Mount(m.destination, "bind", src, ["rbind", "ro" if m.read_only else "rw"]))
        else:
            mounts.append(Mount(m.destination, "bind", m.source, ["rbind", "ro" if m.read_only else "rw"]))
    namespaces = ["mount", "pid", "uts", "ipc", "cgroup"]
    if cfg.network_mode != "host" and not net_ns_path:
        namespaces.append("net")
    return ContainerSpec(
        id=cfg.id,
        process=ProcessSpec(
            args=cfg.argv,
            env=env,
            cwd=cfg.working_dir or image_cfg.get("WorkingDir") or "/",
            uid=uid,
            gid=gid,
            additional_gids=list(groups),
            tty=cfg.tty,
            capabilities=capabilities(cfg.cap_add, cfg.cap_drop, cfg.privileged),
            no_new_privileges=not cfg.privileged,
            seccomp=not cfg.privileged,
        ),
        lower_dirs=lower_dirs,
        upper_dir=upper,
        work_dir=os.path.join(cdir, "work"),
        rootfs=os.path.join(cdir, "rootfs"),
        hostname=hostname,
        domainname=cfg.domainname,
        readonly_rootfs=cfg.read_only,
        mounts=mounts,
        namespaces=namespaces,
        net_ns_path=net_ns_path,
        privileged=cfg.privileged,
        etc_files=write_etc_files(cdir, cfg, hostname, hosts_extra),
    )
