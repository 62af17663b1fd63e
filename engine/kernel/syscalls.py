"""Thin ctypes bindings to the Linux system calls the runtime needs and the standard library lacks.

Every wrapper raises ``OSError`` (errno, strerror, what) on failure, like the ``os`` module does; callers
turn that into a user-facing error naming the step. Only libc is loaded, by its soname: no
``ctypes.util.find_library`` (it runs a subprocess). System calls without a glibc wrapper go through
``syscall(2)`` with numbers for x86_64 and aarch64; the numbers from 424 up are the same on every
architecture.
"""

from __future__ import annotations

import ctypes
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
else:
    import _socket as socket  # for start-up speed: the C module; socket.py loads enum, selectors and array

_libc = ctypes.CDLL("libc.so.6", use_errno=True)

MACHINE = os.uname().machine

# --- namespaces (clone flags) ---
CLONE_NEWTIME = 0x00000080
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

# --- mount(2) flags ---
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_SYNCHRONOUS = 0x10
MS_REMOUNT = 0x20
MS_MANDLOCK = 0x40
MS_DIRSYNC = 0x80
MS_NOSYMFOLLOW = 0x100
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_MOVE = 0x2000
MS_REC = 0x4000
MS_SILENT = 0x8000
MS_UNBINDABLE = 0x20000
MS_PRIVATE = 0x40000
MS_SLAVE = 0x80000
MS_SHARED = 0x100000
MS_RELATIME = 0x200000
MS_STRICTATIME = 0x1000000

MNT_FORCE = 0x1
MNT_DETACH = 0x2

# --- open_tree / move_mount / mount_setattr ---
AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
AT_EMPTY_PATH = 0x1000
AT_RECURSIVE = 0x8000
OPEN_TREE_CLONE = 0x1
OPEN_TREE_CLOEXEC = os.O_CLOEXEC
MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOVE_MOUNT_T_SYMLINKS = 0x10
MOVE_MOUNT_T_EMPTY_PATH = 0x40
MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
MOUNT_ATTR_NOEXEC = 0x8
MOUNT_ATTR_NOSYMFOLLOW = 0x200000

# --- fsopen / fsconfig / fsmount (the new mount API, used for long overlay option lists) ---
FSOPEN_CLOEXEC = 0x1
FSCONFIG_SET_FLAG = 0
FSCONFIG_SET_STRING = 1
FSCONFIG_CMD_CREATE = 6
FSMOUNT_CLOEXEC = 0x1

# --- openat2 resolve flags ---
RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10

# --- prctl ---
PR_SET_PDEATHSIG = 1
PR_GET_DUMPABLE = 3
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_SET_NAME = 15
PR_SET_SECCOMP = 22
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37
PR_SET_NO_NEW_PRIVS = 38
PR_GET_NO_NEW_PRIVS = 39
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_CAP_AMBIENT_CLEAR_ALL = 4

# --- seccomp ---
SECCOMP_MODE_FILTER = 2
SECCOMP_SET_MODE_FILTER = 1

# --- ioctl ---
TIOCSCTTY = 0x540E

CLOSE_RANGE_CLOEXEC = 1 << 2

_ARCH_SYSCALLS: dict[str, dict[str, int]] = {
    "x86_64": {"pivot_root": 155, "seccomp": 317, "rt_sigaction": 13},
    "aarch64": {"pivot_root": 41, "seccomp": 277, "rt_sigaction": 134},
}
# Numbered alike on every architecture (the unified table starting at 424).
SYS_OPEN_TREE = 428
SYS_MOVE_MOUNT = 429
SYS_FSOPEN = 430
SYS_FSCONFIG = 431
SYS_FSMOUNT = 432
SYS_CLOSE_RANGE = 436
SYS_OPENAT2 = 437
SYS_MOUNT_SETATTR = 442


def _arch_nr(name: str) -> int:
    try:
        return _ARCH_SYSCALLS[MACHINE][name]
    except KeyError:
        raise OSError(38, f"{name} is not supported on {MACHINE} by dockyard") from None


_c_long = ctypes.c_long
_syscall = _libc.syscall
_syscall.restype = _c_long

_mount = _libc.mount
_mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_mount.restype = ctypes.c_int
_umount2 = _libc.umount2
_umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_umount2.restype = ctypes.c_int
_unshare = _libc.unshare
_unshare.argtypes = [ctypes.c_int]
_unshare.restype = ctypes.c_int
_setns = _libc.setns
_setns.argtypes = [ctypes.c_int, ctypes.c_int]
_setns.restype = ctypes.c_int
_prctl = _libc.prctl
_prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_prctl.restype = ctypes.c_int
_sethostname = _libc.sethostname
_sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_sethostname.restype = ctypes.c_int
_setdomainname = _libc.setdomainname
_setdomainname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_setdomainname.restype = ctypes.c_int
_ioctl = _libc.ioctl
_ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong]
_ioctl.restype = ctypes.c_int


def _fail(what: str) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, os.strerror(err), what)


def _enc(path: str | bytes | None) -> bytes | None:
    if path is None:
        return None
    return os.fsencode(path)


def mount(
    source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None
) -> None:
    if _mount(_enc(source), _enc(target), _enc(fstype), flags, _enc(data)) != 0:
        raise _fail(target)


def umount2(target: str, flags: int = 0) -> None:
    if _umount2(_enc(target), flags) != 0:
        raise _fail(target)


def unshare(flags: int) -> None:
    if _unshare(flags) != 0:
        raise _fail("unshare")


def setns(fd: int, nstype: int = 0) -> None:
    if _setns(fd, nstype) != 0:
        raise _fail("setns")


def pivot_root(new_root: str, put_old: str) -> None:
    nr = _arch_nr("pivot_root")
    if _syscall(_c_long(nr), ctypes.c_char_p(_enc(new_root)), ctypes.c_char_p(_enc(put_old))) != 0:
        raise _fail("pivot_root")


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    res = _prctl(option, arg2, arg3, arg4, arg5)
    if res < 0:
        raise _fail(f"prctl({option})")
    return int(res)


def sethostname(name: str) -> None:
    raw = name.encode()
    if _sethostname(raw, len(raw)) != 0:
        raise _fail("sethostname")


def setdomainname(name: str) -> None:
    raw = name.encode()
    if _setdomainname(raw, len(raw)) != 0:
        raise _fail("setdomainname")


def set_controlling_tty(fd: int) -> None:
    """Make the terminal on ``fd`` the controlling terminal of the calling session leader."""
    if _ioctl(fd, TIOCSCTTY, 0) != 0:
        raise _fail("ioctl(TIOCSCTTY)")


def close_range(first: int, last: int = 0xFFFFFFFF, flags: int = 0) -> None:
    res = _syscall(_c_long(SYS_CLOSE_RANGE), ctypes.c_uint(first), ctypes.c_uint(last), ctypes.c_uint(flags))
    if res != 0:
        raise _fail("close_range")


# --- capabilities ---
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


_capget = _libc.capget
_capget.argtypes = [ctypes.POINTER(_CapHeader), ctypes.POINTER(_CapData)]
_capget.restype = ctypes.c_int
_capset = _libc.capset
_capset.argtypes = [ctypes.POINTER(_CapHeader), ctypes.POINTER(_CapData)]
_capset.restype = ctypes.c_int


def capget(pid: int = 0) -> tuple[int, int, int]:
    """Return the (effective, permitted, inheritable) capability masks of ``pid`` (0: the caller)."""
    hdr = _CapHeader(_LINUX_CAPABILITY_VERSION_3, pid)
    data = (_CapData * 2)()
    if _capget(ctypes.byref(hdr), data) != 0:
        raise _fail("capget")
    eff = data[0].effective | (data[1].effective << 32)
    prm = data[0].permitted | (data[1].permitted << 32)
    inh = data[0].inheritable | (data[1].inheritable << 32)
    return eff, prm, inh


def capset(effective: int, permitted: int, inheritable: int) -> None:
    """Set the calling thread's capability sets (64-bit masks)."""
    hdr = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    low = 0xFFFFFFFF
    data[0].effective, data[1].effective = effective & low, effective >> 32
    data[0].permitted, data[1].permitted = permitted & low, permitted >> 32
    data[0].inheritable, data[1].inheritable = inheritable & low, inheritable >> 32
    if _capset(ctypes.byref(hdr), data) != 0:
        raise _fail("capset")


# --- seccomp ---
class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def seccomp_set_filter(program: bytes) -> None:
    """Install a classic BPF seccomp filter (``program`` is packed ``struct sock_filter`` entries)."""
    buf = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    nr = _arch_nr("seccomp")
    res = _syscall(_c_long(nr), ctypes.c_uint(SECCOMP_SET_MODE_FILTER), ctypes.c_uint(0), ctypes.byref(prog))
    if res != 0:
        raise _fail("seccomp")


# --- the new mount API ---
class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


def open_tree(dirfd: int, path: str, flags: int) -> int:
    """Return an fd for a detached copy (with OPEN_TREE_CLONE) of the mount at ``path``."""
    res = _syscall(
        _c_long(SYS_OPEN_TREE), ctypes.c_int(dirfd), ctypes.c_char_p(_enc(path)), ctypes.c_uint(flags)
    )
    if res < 0:
        raise _fail(path or f"fd {dirfd}")
    return int(res)


def move_mount(from_dfd: int, from_path: str, to_dfd: int, to_path: str, flags: int) -> None:
    res = _syscall(
        _c_long(SYS_MOVE_MOUNT),
        ctypes.c_int(from_dfd),
        ctypes.c_char_p(_enc(from_path)),
        ctypes.c_int(to_dfd),
        ctypes.c_char_p(_enc(to_path)),
        ctypes.c_uint(flags),
    )
    if res != 0:
        raise _fail(to_path or f"fd {to_dfd}")


def mount_setattr(
    dirfd: int, path: str, flags: int, attr_set: int, attr_clr: int = 0, propagation: int = 0
) -> None:
    attr = _MountAttr(attr_set, attr_clr, propagation, 0)
    res = _syscall(
        _c_long(SYS_MOUNT_SETATTR),
        ctypes.c_int(dirfd),
        ctypes.c_char_p(_enc(path)),
        ctypes.c_uint(flags),
        ctypes.byref(attr),
        ctypes.c_size_t(ctypes.sizeof(attr)),
    )
    if res != 0:
        raise _fail(path or f"fd {dirfd}")


def fsopen(fstype: str, flags: int = FSOPEN_CLOEXEC) -> int:
    res = _syscall(_c_long(SYS_FSOPEN), ctypes.c_char_p(_enc(fstype)), ctypes.c_uint(flags))
    if res < 0:
        raise _fail(f"fsopen({fstype})")
    return int(res)


def fsconfig(fd: int, cmd: int, key: str | None = None, value: str | None = None, aux: int = 0) -> None:
    res = _syscall(
        _c_long(SYS_FSCONFIG),
        ctypes.c_int(fd),
        ctypes.c_uint(cmd),
        ctypes.c_char_p(_enc(key)),
        ctypes.c_char_p(_enc(value)),
        ctypes.c_int(aux),
    )
    if res != 0:
        raise _fail(f"fsconfig({key})")


def fsmount(fd: int, flags: int = FSMOUNT_CLOEXEC, attr_flags: int = 0) -> int:
    res = _syscall(_c_long(SYS_FSMOUNT), ctypes.c_int(fd), ctypes.c_uint(flags), ctypes.c_uint(attr_flags))
    if res < 0:
        raise _fail("fsmount")
    return int(res)


# --- openat2 ---
class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


def openat2(dirfd: int, path: str, flags: int, mode: int = 0, resolve: int = 0) -> int:
    """openat2(2): open ``path`` relative to ``dirfd`` with RESOLVE_* restrictions (Linux 5.6+)."""
    how = _OpenHow(flags, mode, resolve)
    res = _syscall(
        _c_long(SYS_OPENAT2),
        ctypes.c_int(dirfd),
        ctypes.c_char_p(_enc(path)),
        ctypes.byref(how),
        ctypes.c_size_t(ctypes.sizeof(how)),
    )
    if res < 0:
        raise _fail(path)
    return int(res)


class _KernelSigaction(ctypes.Structure):
    _fields_ = [
        ("handler", ctypes.c_void_p),
        ("flags", ctypes.c_ulong),
        ("restorer", ctypes.c_void_p),
        ("mask", ctypes.c_uint64),
    ]


def reset_signal(sig: int) -> None:
    """Set ``sig`` back to its default disposition with the raw system call: it also reaches the signals the
    C library keeps for itself (32 and 33), which an ignoring parent may have passed down and exec keeps."""
    act = _KernelSigaction(None, 0, None, 0)
    if _syscall(_c_long(_arch_nr("rt_sigaction")), _c_long(sig), ctypes.byref(act), None, _c_long(8)) != 0:
        raise _fail(f"rt_sigaction({sig})")


# --- descriptors over unix sockets (SCM_RIGHTS) ---

_FD_SIZE = 4  # a C int, as SCM_RIGHTS carries them


def socketpair() -> tuple[int, int]:
    """Two connected unix stream sockets, as close-on-exec descriptors."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    return a.detach(), b.detach()


def send_fds(sock_fd: int, data: bytes, fds: list[int]) -> None:
    """Send ``data`` with copies of ``fds`` on the unix socket open on ``sock_fd``."""
    packed = b"".join(fd.to_bytes(_FD_SIZE, sys.byteorder, signed=True) for fd in fds)
    sock = socket.socket(fileno=sock_fd)
    try:
        sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, packed)])
    finally:
        sock.detach()


def fds_of(ancillary: list[tuple[int, int, bytes]]) -> list[int]:
    """The descriptors of a ``recvmsg`` answer's ancillary data (SCM_RIGHTS)."""
    fds: list[int] = []
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(payload) - len(payload) % _FD_SIZE
            fds += (
                int.from_bytes(payload[i : i + _FD_SIZE], sys.byteorder, signed=True)
                for i in range(0, usable, _FD_SIZE)
            )
    return fds


def receive_fds(sock_fd: int, max_fds: int) -> tuple[bytes, list[int]]:
    """One message and the descriptors sent with it (close-on-exec); (b"", []) at end of stream."""
    sock = socket.socket(fileno=sock_fd)
    try:
        data, ancillary, _flags, _addr = sock.recvmsg(1, socket.CMSG_LEN(max_fds * _FD_SIZE))
    finally:
        sock.detach()
    fds = fds_of(ancillary)
    for fd in fds:
        os.set_inheritable(fd, False)
    return data, fds
