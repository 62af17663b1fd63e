"""Turn a container's config (and its image) into the ContainerSpec the launcher starts."""

from __future__ import annotations

import os
import stat

from ..model.config import ContainerConfig
from ..net.etcfiles import write_etc_files
from .capnames import ALL_CAPS, capabilities, normalize_cap  # noqa: F401  (re-exported)
from .spec import ContainerSpec, Mount, ProcessSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


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
        if stat.S_ISLNK(st.st_mode) or _through_link(d, rel):
            return None  # never follow links out of the image when reading its files as data
        return p
    return None


def _through_link(top: str, rel: str) -> bool:
    """Does ``top/rel`` pass through a symlink on the way (``etc`` -> /etc in a layer would lead to the
    host's own files)?"""
    path = top
    for part in rel.split("/")[:-1]:
        path = os.path.join(path, part)
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                return True
        except OSError:
            return False
    return False


def build_spec(
    cfg: ContainerConfig,
    cdir: str,
    lower_dirs: list[str],
    volume_path: object,
    resolve_user: object,
    net_ns_path: str | None = None,
    hosts_extra: list[str] | None = None,
) -> ContainerSpec:
    """``lower_dirs`` top-first; ``volume_path(name, read_only)`` gives a named volume's data dir (or, for
    a volume with the local driver's options, the (type, source, options) of its mount);
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
            src = volume_path(m.source, m.read_only)  # type: ignore[operator]
            if isinstance(src, tuple):  # made with the local driver's options: a tmpfs or a bind
                mounts.append(Mount(m.destination, src[0], src[1], list(src[2])))
            else:
                mounts.append(Mount(m.destination, "bind", src, ["rbind", "ro" if m.read_only else "rw"]))
        else:
            opts = ["bind" if m.nonrecursive else "rbind", "ro" if m.read_only else "rw"]
            mounts.append(Mount(m.destination, "bind", m.source, [*opts, m.propagation or "rprivate"]))
    namespaces = ["mount", "pid", "uts", "ipc", "cgroup"]
    if cfg.cgroupns == "host":  # --cgroupns host: the container sees the host's cgroup paths
        namespaces.remove("cgroup")
    if cfg.network_mode != "host" and not net_ns_path:
        namespaces.append("net")
    args = cfg.argv
    extra: dict[str, Any] = {}
    if run_flags_set(cfg):  # --init, namespaces, devices, security: specflags.py
        from .specflags import spec_flags

        extra = spec_flags(cfg, [upper, *lower_dirs], mounts, namespaces, layered_file)
        args = extra.pop("args", args)
        groups = [*groups, *extra.pop("group_gids", [])]
        if cfg.uts_mode == "host":
            hostname = os.uname().nodename
    process_extra: dict[str, Any] = {k: extra.pop(k) for k in ("rlimits", "seccomp_profile") if k in extra}
    if cfg.oom_score_adj:
        process_extra["oom_score_adj"] = cfg.oom_score_adj
    no_new_privs = extra.pop("no_new_privileges", not cfg.privileged)
    seccomp = extra.pop("seccomp", not cfg.privileged)
    return ContainerSpec(
        id=cfg.id,
        process=ProcessSpec(
            args=args,
            env=env,
            cwd=cfg.working_dir or image_cfg.get("WorkingDir") or "/",
            uid=uid,
            gid=gid,
            additional_gids=list(groups),
            tty=cfg.tty,
            capabilities=capabilities(cfg.cap_add, cfg.cap_drop, cfg.privileged),
            no_new_privileges=no_new_privs,
            seccomp=seccomp,
            **process_extra,
        ),
        lower_dirs=lower_dirs,
        upper_dir=upper,
        work_dir=os.path.join(cdir, "work"),
        rootfs=os.path.join(cdir, "rootfs"),
        hostname="" if cfg.uts_mode == "host" else hostname,
        domainname=cfg.domainname,
        readonly_rootfs=cfg.read_only,
        mounts=mounts,
        namespaces=namespaces,
        net_ns_path=net_ns_path,
        privileged=cfg.privileged,
        etc_files=write_etc_files(cdir, cfg, hostname, hosts_extra),
        **extra,
    )


def run_flags_set(cfg: ContainerConfig) -> bool:
    """Does the container use --init, a namespace mode, devices, ulimits, sysctls, --group-add, --shm-size
    or --security-opt (specflags.py is loaded only then)?"""
    return bool(
        cfg.init or cfg.shm_size or cfg.ulimits or cfg.devices or cfg.security_opt or cfg.sysctls
        or cfg.pid_mode or cfg.ipc_mode not in ("", "private", "shareable") or cfg.uts_mode or cfg.group_add
    )  # fmt: skip
