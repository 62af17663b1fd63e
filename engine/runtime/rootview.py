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
    os.chroot(target)
    os.chdir("/")


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
