"""Work inside a container's filesystem from a short-lived child process, confined to it.

For ``cp``, ``export``: the child either joins a running container's mount namespace (so volumes and other
mounts are seen as the container sees them) or, for a stopped container, mounts its overlay in a private
mount namespace of its own (so nothing is ever left mounted on the host). Either way it then resolves every
path inside the container's root: a symlink in the container cannot lead the copy out to the host
(CVE-2018-15664 class). Data crosses between the child and the caller through a pipe, as a tar stream.
"""

from __future__ import annotations

import contextlib
import os
import traceback
from collections.abc import Callable

from ..errors import DockyardError, InvalidArgument, NotFound, RuntimeFailure
from ..kernel import syscalls
from ..model.config import MountConfig
from ..paths import Layout
from ..store.containers import ContainerStore
from .prepare import image_lower_dirs

_KINDS: dict[str, type[DockyardError]] = {
    "NotFound": NotFound,
    "InvalidArgument": InvalidArgument,
    "UnsafeArchive": InvalidArgument,
}


def _enter_view(layout: Layout, cid: str, writable: bool, live: bool) -> None:
    """In the child: make ``/`` the container's root filesystem."""
    store = ContainerStore(layout)
    st = store.state(cid)
    if live and st.status in ("running", "paused") and st.pid:
        fd = os.open(f"/proc/{st.pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
        try:
            syscalls.setns(fd, syscalls.CLONE_NEWNS)
        finally:
            os.close(fd)
        os.chdir("/")
        return
    cfg = store.config(cid)
    lowers = image_lower_dirs(layout, cfg.image_id)
    upper = store.path(cid, "upper")
    target = store.path(cid, "rootfs")
    syscalls.unshare(syscalls.CLONE_NEWNS)
    syscalls.mount(None, "/", None, syscalls.MS_REC | syscalls.MS_PRIVATE)
    if writable:
        data = f"lowerdir={':'.join(lowers)},upperdir={upper},workdir={store.path(cid, 'work')}"
        syscalls.mount("overlay", target, "overlay", 0, data)
    else:
        syscalls.mount(
            "overlay", target, "overlay", syscalls.MS_RDONLY, f"lowerdir={':'.join([upper, *lowers])}"
        )
    # cp sees the container's volumes and binds as Docker's archive endpoints do (export does not)
    trees = _detach_mounts(layout, cfg.mounts, writable) if live else []
    os.chroot(target)
    os.chdir("/")
    _attach_mounts(trees, writable)


def _detach_mounts(layout: Layout, mounts: list[MountConfig], writable: bool) -> list[tuple[str, int]]:
    """(destination, detached clone) of each bind and volume of a stopped container, read-only where the
    mount is (and everywhere in a view that only reads); taken while host paths can still be resolved.
    A tmpfs has nothing to show once its container stopped."""
    from .volumes import volume_source

    trees = []
    for m in sorted(mounts, key=lambda m: os.path.normpath(m.destination).count("/")):
        if m.type == "bind":
            source = m.source
        elif m.type == "volume":
            os.makedirs(os.path.join(layout.volumes, m.source, "_data"), exist_ok=True)
            found = volume_source(layout, m.source, m.read_only)
            if not isinstance(found, str) and found[0] != "bind":
                continue
            source = found if isinstance(found, str) else found[1]
        else:
            continue
        if not os.path.isdir(source):
            continue  # a file bound over a file: the image's own file shows
        flags = syscalls.OPEN_TREE_CLONE | syscalls.OPEN_TREE_CLOEXEC | syscalls.AT_RECURSIVE
        fd = syscalls.open_tree(syscalls.AT_FDCWD, source, flags)
        if m.read_only or not writable:
            attr = syscalls.AT_EMPTY_PATH | syscalls.AT_RECURSIVE
            syscalls.mount_setattr(fd, "", attr, syscalls.MOUNT_ATTR_RDONLY)
        trees.append((os.path.normpath("/" + m.destination), fd))
    return trees


def _attach_mounts(trees: list[tuple[str, int]], writable: bool) -> None:
    """In the container's root (after chroot: every path resolves inside it), each clone at its place; a
    view that may write makes a missing mount point, as a start would."""
    for dest, fd in trees:
        try:
            if writable and not os.path.lexists(dest):
                os.makedirs(dest, 0o755, exist_ok=True)
            if os.path.isdir(dest):
                syscalls.move_mount(fd, "", syscalls.AT_FDCWD, dest, syscalls.MOVE_MOUNT_F_EMPTY_PATH)
        finally:
            os.close(fd)


def run_in_view(
    layout: Layout,
    cid: str,
    fn: Callable[[int], None],
    *,
    writable: bool = False,
    live: bool = True,
    child_fd: int,
    parent_fd: int = -1,
) -> int:
    """Fork; the child enters the container's filesystem and calls ``fn(child_fd)``. Returns the child PID.

    Errors in the child are written to the ``error`` file descriptor protocol of ``wait_view``.
    """
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 0
        try:
            os.close(err_r)
            if parent_fd >= 0:
                os.close(parent_fd)  # the caller's end of the pipe: EOF must reach the child
            _enter_view(layout, cid, writable, live)
            fn(child_fd)
        except BaseException as e:  # noqa: BLE001
            code = 1
            with contextlib.suppress(Exception):
                kind = type(e).__name__
                msg = str(e) if isinstance(e, DockyardError | OSError) else traceback.format_exc(limit=3)
                os.write(err_w, f"{kind}\n{msg}".encode()[:65000])
        finally:
            os._exit(code)
    os.close(err_w)
    _ERRFDS[pid] = err_r
    return pid


_ERRFDS: dict[int, int] = {}


def wait_view(pid: int) -> None:
    """Reap the child; raise what it reported."""
    err_r = _ERRFDS.pop(pid)
    try:
        data = b""
        while True:
            chunk = os.read(err_r, 65536)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(err_r)
    os.waitpid(pid, 0)
    if data:
        kind, _, msg = data.decode(errors="replace").partition("\n")
        raise _KINDS.get(kind, RuntimeFailure)(msg)
