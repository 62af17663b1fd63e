"""Everything the supervisor needs before launch: the image's layer directories, volumes, the user, /etc files."""

from __future__ import annotations

import os

from ..errors import ImageNotFound
from ..model.config import ContainerConfig
from ..paths import Layout
from ..store.catalog import Catalog
from ..store.layers import LayerStore
from .spec import ContainerSpec
from .specbuild import build_spec, layered_file


def image_lower_dirs(layout: Layout, image_id: str) -> list[str]:
    """The image's unpacked layer directories, top-most first (overlayfs lowerdir order)."""
    images = Catalog(layout.images, layout.lock("images"))
    entry = images.get(image_id)
    if entry is None:
        raise ImageNotFound(f"No such image: {image_id}")
    layers = LayerStore(layout.layers, layout.tmp)
    dirs = [layers.diff_path(c) for c in reversed(entry.layers)]
    if not dirs:
        empty = os.path.join(layout.root, "empty-layer")
        os.makedirs(empty, exist_ok=True)
        dirs = [empty]
    return dirs


def resolve_user_in_layers(dirs_top_first: list[str], user: str) -> tuple[int, int, list[int], str]:
    """Resolve ``user`` against the image's /etc/passwd and /etc/group as the merged view shows them."""
    from .users import resolve_user

    if not user:
        user = "0"
    if all(part.isdigit() for part in user.split(":") if part) and ":" in user:
        uid_s, _, gid_s = user.partition(":")
        return int(uid_s or 0), int(gid_s or 0), [], "/"
    view = os.path.join(os.path.dirname(dirs_top_first[0]), "etc-view")
    os.makedirs(os.path.join(view, "etc"), exist_ok=True)
    for name in ("passwd", "group"):
        src = layered_file(dirs_top_first, "etc/" + name)
        dst = os.path.join(view, "etc", name)
        data = b""
        if src is not None:
            with open(src, "rb") as f:
                data = f.read(4 << 20)
        with open(dst, "wb") as f:
            f.write(data)
    return resolve_user(view, user)


def volume_path(layout: Layout, name: str) -> str:
    return os.path.join(layout.volumes, name, "_data")


def _volume_source(layout: Layout, name: str, read_only: bool) -> str | tuple[str, str, list[str]]:
    from .volumes import volume_source  # only for a container that mounts a named volume

    return volume_source(layout, name, read_only)


INIT_DIRS = ("dev", "proc", "sys", "etc")
INIT_FILES = ("etc/hostname", "etc/hosts", "etc/resolv.conf")


def init_layer(cdir: str) -> str:
    """The container's init layer (as Docker has): empty mount points for the files and file systems the
    runtime mounts, so that they never show up as changes in the writable layer (``diff``, ``commit``)."""
    init = os.path.join(cdir, "init")
    if not os.path.isdir(init):
        tmp = init + ".tmp"
        os.makedirs(tmp, exist_ok=True)
        for d in INIT_DIRS:
            os.makedirs(os.path.join(tmp, d), mode=0o755, exist_ok=True)
        for f in INIT_FILES:
            open(os.path.join(tmp, f), "a").close()
        os.rename(tmp, init)
    return init


def prepare_spec(layout: Layout, cfg: ContainerConfig) -> ContainerSpec:
    cdir = os.path.join(layout.containers, cfg.id)
    lower = [init_layer(cdir), *image_lower_dirs(layout, cfg.image_id)]
    for m in cfg.mounts:
        if m.type == "volume":
            os.makedirs(volume_path(layout, m.source), exist_ok=True)
    spec = build_spec(
        cfg,
        cdir,
        lower,
        lambda n, ro: _volume_source(layout, n, ro),
        resolve_user_in_layers,
    )
    if any(m.startswith("container:") for m in (cfg.pid_mode, cfg.ipc_mode, cfg.uts_mode)):
        join_namespaces(layout, cfg, spec)
    if cfg.network_mode.startswith("container:"):
        from .netshare import join

        join(layout, cfg, spec)
    if cfg.links:  # legacy --link: the linked containers' variables, read as this one starts
        from .links import link_env, with_links

        spec.process.env = with_links(spec.process.env, link_env(layout, cfg))
    return spec


def join_namespaces(layout: Layout, cfg: ContainerConfig, spec: ContainerSpec) -> None:
    """--pid container:X, --ipc container:X and --uts container:X (Podman's): X's namespaces (for IPC its
    /dev/shm too, for UTS its hostname), joined at start as Docker joins them; X must be running (and, for
    IPC, made with --ipc shareable)."""
    from ..errors import Conflict
    from ..store.containers import ContainerStore

    store = ContainerStore(layout)
    for kind, mode in (("PID", cfg.pid_mode), ("IPC", cfg.ipc_mode), ("UTS", cfg.uts_mode)):
        if not mode.startswith("container:"):
            continue
        target = store.resolve(mode[len("container:") :])
        state = store.state(target)
        pid = state.pid if state.status in ("running", "paused") else 0
        if not pid or not os.path.exists(f"/proc/{pid}/ns"):
            raise Conflict(f"cannot join {kind} of a non running container: {target}")
        if kind == "PID":
            spec.pid_ns_path = f"/proc/{pid}/ns/pid"
            continue
        if kind == "UTS":
            spec.uts_ns_path = f"/proc/{pid}/ns/uts"
            spec.namespaces = [n for n in spec.namespaces if n != "uts"]
            spec.hostname = spec.domainname = ""  # X's, live
            continue
        if store.config(target).ipc_mode != "shareable":
            raise Conflict("non-shareable IPC (hint: use IpcMode:shareable for the donor container)")
        spec.ipc_ns_path = f"/proc/{pid}/ns/ipc"
        spec.namespaces = [n for n in spec.namespaces if n != "ipc"]
        spec.shm_from = f"/proc/{pid}/ns/mnt"
        spec.shm_size = -1
