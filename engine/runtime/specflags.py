"""What ``--init``, the namespace modes, ``--device``, ``--ulimit``, ``--sysctl``, ``--group-add``, ``--shm-size``
and ``--security-opt`` add to a container's spec (loaded by specbuild only for a container that uses one)."""

from __future__ import annotations

import os

from ..errors import InvalidArgument
from ..model.config import ContainerConfig
from .runflags import INIT_BINARY, INIT_PATH, security_setting
from .spec import Mount

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def _group_gid(
    dirs_top_first: list[str], group: str, find_file: Callable[[list[str], str], str | None]
) -> int:
    """``--group-add`` GROUP: a number as is, a name from the image's /etc/group (read as data)."""
    if group.isascii() and group.isdigit():
        gid = int(group)
        if gid > 2**31 - 1:
            raise InvalidArgument(f"uids and gids must be in range 0-{2**31 - 1}")
        return gid
    path = find_file(dirs_top_first, "etc/group")
    text = ""
    if path is not None:
        with open(path, "rb") as f:
            text = f.read(4 << 20).decode("utf-8", "replace")
    for line in text.splitlines():
        parts = line.strip().split(":")
        if len(parts) >= 3 and parts[0] == group and parts[2].isdigit():
            return int(parts[2])
    raise InvalidArgument(f"Unable to find group {group}: no matching entries in group file")


def spec_flags(
    cfg: ContainerConfig,
    dirs_top_first: list[str],
    mounts: list[Mount],
    namespaces: list[str],
    find_file: Callable[[list[str], str], str | None],
) -> dict[str, Any]:
    """The spec's fields for these flags; ``mounts`` and ``namespaces`` are changed in place.
    ``find_file(dirs, relpath)``: a file of the image as its layers show it (specbuild.layered_file)."""
    out: dict[str, Any] = {}
    if cfg.init:
        if not os.access(INIT_BINARY, os.X_OK):
            raise InvalidArgument(
                f"--init needs {INIT_BINARY} (Debian's tini package: apt-get install tini), which is missing"
            )
        mounts.append(Mount(INIT_PATH, "bind", INIT_BINARY, ["bind", "ro"]))
        out["args"] = [INIT_PATH, "--", *cfg.argv]
    if cfg.pid_mode == "host":
        namespaces.remove("pid")
    if cfg.uts_mode == "host":
        namespaces.remove("uts")
    if cfg.ipc_mode == "host":
        namespaces.remove("ipc")
        mounts.append(Mount("/dev/shm", "bind", "/dev/shm", ["rbind", "rw"]))
    elif cfg.ipc_mode == "none":
        out["shm_size"] = -1
    elif cfg.shm_size:
        out["shm_size"] = cfg.shm_size
    if cfg.group_add:
        out["group_gids"] = [_group_gid(dirs_top_first, g, find_file) for g in cfg.group_add]
    if cfg.ulimits:
        out["rlimits"] = {u["Name"]: (int(u["Soft"]), int(u["Hard"])) for u in cfg.ulimits}
    if cfg.sysctls:
        out["sysctls"] = dict(cfg.sysctls)
    if cfg.devices and not cfg.privileged:
        devices = []
        for d in cfg.devices:
            try:
                st = os.stat(d["PathOnHost"])
            except OSError as e:
                raise InvalidArgument(
                    f'error gathering device information while adding custom device "{d["PathOnHost"]}": '
                    f"{(e.strerror or str(e)).lower()}"
                ) from None
            dst = d["PathInContainer"]
            if dst.startswith("/dev/") and dst.count("/") >= 2:
                devices.append([dst[len("/dev/") :], st.st_mode, st.st_rdev, st.st_uid, st.st_gid])
            else:  # elsewhere than /dev: a bind of the host's node (a single node stays usable)
                mounts.append(Mount(dst, "bind", d["PathOnHost"], ["bind", "rw"]))
        out["devices"] = devices
    if cfg.security_opt and not cfg.privileged:
        nnp = security_setting(cfg.security_opt, "no-new-privileges")
        if nnp is not None:
            out["no_new_privileges"] = nnp.lower() in ("1", "t", "true")
        seccomp = security_setting(cfg.security_opt, "seccomp")
        if seccomp == "unconfined":
            out["seccomp"] = False
        elif seccomp not in (None, "default", "builtin") and cfg.seccomp_profile is not None:
            out["seccomp_profile"] = cfg.seccomp_profile
        if security_setting(cfg.security_opt, "systempaths") == "unconfined":
            out["masked_paths"] = []
            out["readonly_paths"] = []
    return out
