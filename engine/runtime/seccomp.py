"""dockyard's default seccomp filter: a classic BPF program built here, no libseccomp.

What it does, in order:

1. Architecture: only the native one is accepted (AUDIT_ARCH_X86_64 on x86_64, AUDIT_ARCH_AARCH64 on
   aarch64). A system call made through another ABI (32-bit ``int 0x80`` on x86_64, say) kills the process.
   On x86_64, x32 system calls (numbers with bit 30 set) fail with ENOSYS.
2. ``clone3`` fails with ENOSYS, so that libc falls back to ``clone``, whose flags can be inspected.
3. ``clone`` with a namespace flag (CLONE_NEWNS, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWCGROUP,
   NEWTIME) fails with EPERM; threads and plain forks are allowed.
4. ``personality`` is allowed only for PER_LINUX (0x0), PER_LINUX32 (0x8), UNAME26 (0x20000), both
   (0x20008) and 0xffffffff (the query), as in Docker's profile; anything else fails with EPERM.
5. These fail with EPERM: mount, umount2, pivot_root, the new mount API (open_tree, move_mount, fsopen,
   fsconfig, fsmount, fspick, mount_setattr), unshare, setns, kexec_load, kexec_file_load, init_module,
   finit_module, delete_module, create_module, get_kernel_syms, query_module, reboot, swapon, swapoff,
   acct, settimeofday, clock_settime, clock_adjtime, adjtimex, iopl, ioperm, open_by_handle_at,
   name_to_handle_at, bpf, perf_event_open, userfaultfd, keyctl, add_key, request_key, lookup_dcookie,
   quotactl, quotactl_fd, nfsservctl, syslog, vhangup, uselib, ustat, sysfs, _sysctl, mbind, set_mempolicy,
   get_mempolicy, migrate_pages, move_pages, kcmp, process_vm_readv, process_vm_writev, pidfd_getfd,
   fanotify_init, io_uring_setup, io_uring_enter, io_uring_register.
6. Everything else is allowed.

How this differs from Docker: Docker's default profile is an allow-list (default action EPERM, about 350
named system calls allowed, some only with a given capability). This filter is a deny-list of the calls
Docker leaves out of its list or ties to a capability the default set lacks. A system call newer than this
table is therefore allowed here where Docker would refuse it; in exchange nothing a normal program uses is
refused by accident. Like Docker's profile, ``ptrace`` is allowed (kernels >= 4.8 check it properly), and
calls that need a capability the container lacks (mount, for instance) are refused twice: by this filter and
by the missing CAP_SYS_ADMIN. Privileged containers get no filter.
"""

from __future__ import annotations

import errno
import struct

from engine.kernel import syscalls
from engine.lean.tools import cache

# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]
_OFF_NR = 0
_OFF_ARCH = 4
_OFF_ARG0_LO = 16  # little-endian low word of args[0]

# classic BPF opcodes
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06

RET_KILL_PROCESS = 0x80000000
RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}

_X32_SYSCALL_BIT = 0x40000000

CLONE_NAMESPACE_FLAGS = (
    syscalls.CLONE_NEWNS
    | syscalls.CLONE_NEWUTS
    | syscalls.CLONE_NEWIPC
    | syscalls.CLONE_NEWUSER
    | syscalls.CLONE_NEWPID
    | syscalls.CLONE_NEWNET
    | syscalls.CLONE_NEWCGROUP
    | syscalls.CLONE_NEWTIME
)

PERSONALITY_ALLOWED = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)

DENIED = (
    "mount umount2 pivot_root open_tree move_mount fsopen fsconfig fsmount fspick mount_setattr unshare setns "
    "kexec_load kexec_file_load init_module finit_module delete_module create_module get_kernel_syms "
    "query_module reboot swapon swapoff acct settimeofday clock_settime clock_adjtime adjtimex iopl ioperm "
    "open_by_handle_at name_to_handle_at bpf perf_event_open userfaultfd keyctl add_key request_key "
    "lookup_dcookie quotactl quotactl_fd nfsservctl syslog vhangup uselib ustat sysfs _sysctl mbind "
    "set_mempolicy get_mempolicy migrate_pages move_pages kcmp process_vm_readv process_vm_writev pidfd_getfd "
    "fanotify_init io_uring_setup io_uring_enter io_uring_register"
).split()

# System call numbers (from the kernel's unistd tables). aarch64 lacks the legacy x86-only calls.
SYSCALLS: dict[str, dict[str, int]] = {
    "x86_64": {
        "mount": 165, "umount2": 166, "pivot_root": 155, "open_tree": 428, "move_mount": 429, "fsopen": 430,
        "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442, "unshare": 272, "setns": 308,
        "kexec_load": 246, "kexec_file_load": 320, "init_module": 175, "finit_module": 313,
        "delete_module": 176, "create_module": 174, "get_kernel_syms": 177, "query_module": 178,
        "reboot": 169, "swapon": 167, "swapoff": 168, "acct": 163, "settimeofday": 164, "clock_settime": 227,
        "clock_adjtime": 305, "adjtimex": 159, "iopl": 172, "ioperm": 173, "open_by_handle_at": 304,
        "name_to_handle_at": 303, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "keyctl": 250,
        "add_key": 248, "request_key": 249, "lookup_dcookie": 212, "quotactl": 179, "quotactl_fd": 443,
        "nfsservctl": 180, "syslog": 103, "vhangup": 153, "uselib": 134, "ustat": 136, "sysfs": 139,
        "_sysctl": 156, "mbind": 237, "set_mempolicy": 238, "get_mempolicy": 239, "migrate_pages": 256,
        "move_pages": 279, "kcmp": 312, "process_vm_readv": 310, "process_vm_writev": 311, "pidfd_getfd": 438,
        "fanotify_init": 300, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "clone": 56, "clone3": 435, "personality": 135,
    },
    "aarch64": {
        "mount": 40, "umount2": 39, "pivot_root": 41, "open_tree": 428, "move_mount": 429, "fsopen": 430,
        "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442, "unshare": 97, "setns": 268,
        "kexec_load": 104, "kexec_file_load": 294, "init_module": 105, "finit_module": 273,
        "delete_module": 106, "reboot": 142, "swapon": 224, "swapoff": 225, "acct": 89, "settimeofday": 170,
        "clock_settime": 112, "clock_adjtime": 266, "adjtimex": 171, "open_by_handle_at": 265,
        "name_to_handle_at": 264, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282, "keyctl": 219,
        "add_key": 217, "request_key": 218, "lookup_dcookie": 18, "quotactl": 60, "quotactl_fd": 443,
        "nfsservctl": 42, "syslog": 116, "vhangup": 58, "mbind": 235, "set_mempolicy": 237,
        "get_mempolicy": 236, "migrate_pages": 238, "move_pages": 239, "kcmp": 272, "process_vm_readv": 270,
        "process_vm_writev": 271, "pidfd_getfd": 438, "fanotify_init": 262, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427, "clone": 220, "clone3": 435, "personality": 92,
    },
}  # fmt: skip


def ret_errno(code: int) -> int:
    return _RET_ERRNO | (code & 0xFFFF)


class _Program:
    """A tiny assembler: instructions whose jump targets are labels, resolved to 8-bit offsets at the end."""

    def __init__(self) -> None:
        self.insns: list[tuple[int, str | int, str | int, int]] = []
        self.labels: dict[str, int] = {}

    def label(self, name: str) -> None:
        self.labels[name] = len(self.insns)

    def op(self, code: int, k: int, jt: str | int = 0, jf: str | int = 0) -> None:
        self.insns.append((code, jt, jf, k & 0xFFFFFFFF))

    def assemble(self) -> bytes:
        out = bytearray()
        for i, (code, jt, jf, k) in enumerate(self.insns):
            offs = []
            for target in (jt, jf):
                off = target if isinstance(target, int) else self.labels[target] - (i + 1)
                if not 0 <= off <= 255:  # classic BPF jumps only forward, by at most 255
                    raise ValueError(f"seccomp: jump out of range at instruction {i}")
                offs.append(off)
            out += struct.pack("<HBBI", code, offs[0], offs[1], k)
        return bytes(out)


@cache
def default_filter(machine: str = syscalls.MACHINE) -> bytes:
    """The default filter for ``machine`` as packed ``struct sock_filter`` entries."""
    if machine not in SYSCALLS:
        raise ValueError(f"no seccomp table for {machine}")
    table = SYSCALLS[machine]
    p = _Program()
    p.op(_LD_W_ABS, _OFF_ARCH)
    p.op(_JEQ_K, AUDIT_ARCH[machine], jt=1)
    p.op(_RET_K, RET_KILL_PROCESS)
    p.op(_LD_W_ABS, _OFF_NR)
    if machine == "x86_64":
        p.op(_JGE_K, _X32_SYSCALL_BIT, jt="enosys")
    p.op(_JEQ_K, table["clone3"], jt="enosys")
    p.op(_JEQ_K, table["clone"], jt="clone")
    p.op(_JEQ_K, table["personality"], jt="personality")
    for name in DENIED:
        if name in table:
            p.op(_JEQ_K, table[name], jt="eperm")
    p.op(_RET_K, RET_ALLOW)
    p.label("eperm")
    p.op(_RET_K, ret_errno(errno.EPERM))
    p.label("enosys")
    p.op(_RET_K, ret_errno(errno.ENOSYS))
    p.label("clone")
    p.op(_LD_W_ABS, _OFF_ARG0_LO)
    p.op(_JSET_K, CLONE_NAMESPACE_FLAGS, jt=1)
    p.op(_RET_K, RET_ALLOW)
    p.op(_RET_K, ret_errno(errno.EPERM))
    p.label("personality")
    p.op(_LD_W_ABS, _OFF_ARG0_LO)
    for value in PERSONALITY_ALLOWED:
        p.op(_JEQ_K, value, jt="allow")
    p.op(_RET_K, ret_errno(errno.EPERM))
    p.label("allow")
    p.op(_RET_K, RET_ALLOW)
    return p.assemble()


def install(program: bytes) -> None:
    """Install ``program`` on the calling thread (needs no_new_privs or CAP_SYS_ADMIN)."""
    syscalls.seccomp_set_filter(program)
