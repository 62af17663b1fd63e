"""Linux namespaces by name: the clone flags, /proc/PID/ns files, and placing a forked child in a PID namespace.

A PID namespace is entered by the *children* of the thread that unshares or joins it. The launcher uses
that to make the container's PID 1 a direct child of the caller with a single fork: the calling thread
unshares (or joins) the PID namespace, forks, and switches its pid_for_children back at once. Only the
calling thread is affected; the caller's own PID namespace never changes.
"""

from __future__ import annotations

import fcntl
import os
import struct

from engine.errors import InvalidArgument, RuntimeFailure
from engine.kernel import syscalls
from engine.lean.tools import contextmanager

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
    from collections.abc import Iterable, Iterator
else:
    import _socket as socket  # for start-up speed: the C module; socket.py loads enum and selectors

FLAGS: dict[str, int] = {
    "mount": syscalls.CLONE_NEWNS,
    "uts": syscalls.CLONE_NEWUTS,
    "ipc": syscalls.CLONE_NEWIPC,
    "net": syscalls.CLONE_NEWNET,
    "pid": syscalls.CLONE_NEWPID,
    "cgroup": syscalls.CLONE_NEWCGROUP,
}

# The file under /proc/PID/ns/ for each namespace.
PROC_NAMES: dict[str, str] = {
    "mount": "mnt",
    "uts": "uts",
    "ipc": "ipc",
    "net": "net",
    "pid": "pid",
    "cgroup": "cgroup",
}

# The order in which a process joins a running container's namespaces: the cgroup namespace right after
# joining the cgroups, the mount namespace last (it switches root and working directory).
ENTER_ORDER: tuple[str, ...] = ("cgroup", "ipc", "uts", "net", "mount")


def flags_of(names: Iterable[str]) -> int:
    """The clone flags for namespace ``names``; unknown names are refused."""
    flags = 0
    for name in names:
        if name not in FLAGS:
            raise InvalidArgument(f"unknown namespace {name!r} (known: {', '.join(FLAGS)})")
        flags |= FLAGS[name]
    return flags


def open_namespace(pid: int, name: str) -> int:
    """Open /proc/PID/ns/NAME (close-on-exec)."""
    path = f"/proc/{pid}/ns/{PROC_NAMES[name]}"
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise RuntimeFailure(f"container process {pid} is not running") from None
    except OSError as e:
        raise RuntimeFailure(f"cannot open {path}: {e.strerror}") from None


@contextmanager
def children_in_pid_namespace(target_fd: int | None) -> Iterator[None]:
    """Within the block, processes forked by this thread start in a new PID namespace (``target_fd`` None)
    or in the namespace ``target_fd`` refers to; the thread's previous setting is restored on exit."""
    own = os.open("/proc/thread-self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            if target_fd is None:
                syscalls.unshare(syscalls.CLONE_NEWPID)
            else:
                syscalls.setns(target_fd, syscalls.CLONE_NEWPID)
        except OSError as e:
            raise RuntimeFailure(f"cannot enter a new PID namespace: {e.strerror}") from None
        try:
            yield
        finally:
            syscalls.setns(own, syscalls.CLONE_NEWPID)
    finally:
        os.close(own)


def loopback_up() -> None:
    """Bring ``lo`` up in the current (new) network namespace, as every container expects."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s.fileno(), siocgifflags, req))[1]
        fcntl.ioctl(s.fileno(), siocsifflags, struct.pack("16sH14x", b"lo", flags | iff_up))
    finally:
        s.close()
