"""Docker's seccomp profile format (``--security-opt seccomp=FILE``) compiled into a classic BPF program.

What a profile may hold: ``defaultAction`` and ``defaultErrnoRet``; ``syscalls``, each with ``names`` (or the
older ``name``), ``action``, ``errnoRet`` and ``args`` (``index``, ``value``, ``valueTwo``, ``op``: SCMP_CMP_EQ,
NE, LT, LE, GT, GE, MASKED_EQ; all of a rule's conditions must hold), and ``includes``/``excludes`` by
``caps`` and ``arches`` as in Docker's own default profile. Actions: SCMP_ACT_ALLOW, SCMP_ACT_ERRNO,
SCMP_ACT_KILL (the thread), SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_LOG and
SCMP_ACT_TRACE. A name this table does not know is skipped, as libseccomp skips a call the kernel lacks.

How it differs from runc's libseccomp: only the native architecture is accepted (``architectures`` is read
but another ABI's calls are killed, as in dockyard's default filter); the rules of one system call are tried
in the order the profile gives them, the first whose conditions hold decides. x86_64 only for now.
"""

from __future__ import annotations

import errno

from ..errors import InvalidArgument
from ..kernel import syscalls
from . import seccomp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: x86_64 system calls in number order ("-" for an unused number), from the kernel's unistd_64.h.
_X86_64 = """
read write open close stat fstat lstat poll lseek mmap mprotect munmap brk rt_sigaction rt_sigprocmask
rt_sigreturn ioctl pread64 pwrite64 readv writev access pipe select sched_yield mremap msync mincore madvise
shmget shmat shmctl dup dup2 pause nanosleep getitimer alarm setitimer getpid sendfile socket connect accept
sendto recvfrom sendmsg recvmsg shutdown bind listen getsockname getpeername socketpair setsockopt getsockopt
clone fork vfork execve exit wait4 kill uname semget semop semctl shmdt msgget msgsnd msgrcv msgctl fcntl
flock fsync fdatasync truncate ftruncate getdents getcwd chdir fchdir rename mkdir rmdir creat link unlink
symlink readlink chmod fchmod chown fchown lchown umask gettimeofday getrlimit getrusage sysinfo times ptrace
getuid syslog getgid setuid setgid geteuid getegid setpgid getppid getpgrp setsid setreuid setregid getgroups
setgroups setresuid getresuid setresgid getresgid getpgid setfsuid setfsgid getsid capget capset rt_sigpending
rt_sigtimedwait rt_sigqueueinfo rt_sigsuspend sigaltstack utime mknod uselib personality ustat statfs fstatfs
sysfs getpriority setpriority sched_setparam sched_getparam sched_setscheduler sched_getscheduler
sched_get_priority_max sched_get_priority_min sched_rr_get_interval mlock munlock mlockall munlockall vhangup
modify_ldt pivot_root _sysctl prctl arch_prctl adjtimex setrlimit chroot sync acct settimeofday mount umount2
swapon swapoff reboot sethostname setdomainname iopl ioperm create_module init_module delete_module
get_kernel_syms query_module quotactl nfsservctl getpmsg putpmsg afs_syscall tuxcall security gettid readahead
setxattr lsetxattr fsetxattr getxattr lgetxattr fgetxattr listxattr llistxattr flistxattr removexattr
lremovexattr fremovexattr tkill time futex sched_setaffinity sched_getaffinity set_thread_area io_setup
io_destroy io_getevents io_submit io_cancel get_thread_area lookup_dcookie epoll_create epoll_ctl_old
epoll_wait_old remap_file_pages getdents64 set_tid_address restart_syscall semtimedop fadvise64 timer_create
timer_settime timer_gettime timer_getoverrun timer_delete clock_settime clock_gettime clock_getres
clock_nanosleep exit_group epoll_wait epoll_ctl tgkill utimes vserver mbind set_mempolicy get_mempolicy
mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify mq_getsetattr kexec_load waitid add_key request_key
keyctl ioprio_set ioprio_get inotify_init inotify_add_watch inotify_rm_watch migrate_pages openat mkdirat
mknodat fchownat futimesat newfstatat unlinkat renameat linkat symlinkat readlinkat fchmodat faccessat
pselect6 ppoll unshare set_robust_list get_robust_list splice tee sync_file_range vmsplice move_pages
utimensat epoll_pwait signalfd timerfd_create eventfd fallocate timerfd_settime timerfd_gettime accept4
signalfd4 eventfd2 epoll_create1 dup3 pipe2 inotify_init1 preadv pwritev rt_tgsigqueueinfo perf_event_open
recvmmsg fanotify_init fanotify_mark prlimit64 name_to_handle_at open_by_handle_at clock_adjtime syncfs
sendmmsg setns getcpu process_vm_readv process_vm_writev kcmp finit_module sched_setattr sched_getattr
renameat2 seccomp getrandom memfd_create kexec_file_load bpf execveat userfaultfd membarrier mlock2
copy_file_range preadv2 pwritev2 pkey_mprotect pkey_alloc pkey_free statx io_pgetevents rseq - - - - - - - - -
- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -
- - - - - - - - - - - - - - - - - - - - - - - - - pidfd_send_signal io_uring_setup io_uring_enter
io_uring_register open_tree move_mount fsopen fsconfig fsmount fspick pidfd_open clone3 close_range openat2
pidfd_getfd faccessat2 process_madvise epoll_pwait2 mount_setattr quotactl_fd landlock_create_ruleset
landlock_add_rule landlock_restrict_self memfd_secret process_mrelease futex_waitv set_mempolicy_home_node
cachestat fchmodat2 map_shadow_stack futex_wake futex_wait futex_requeue statmount listmount lsm_get_self_attr
lsm_set_self_attr lsm_list_modules mseal
"""

ACTIONS = {
    "SCMP_ACT_ALLOW": seccomp.RET_ALLOW,
    "SCMP_ACT_KILL": 0x00000000,
    "SCMP_ACT_KILL_THREAD": 0x00000000,
    "SCMP_ACT_KILL_PROCESS": seccomp.RET_KILL_PROCESS,
    "SCMP_ACT_TRAP": 0x00030000,
    "SCMP_ACT_LOG": 0x7FFC0000,
}
_ERRNO_ACTIONS = {"SCMP_ACT_ERRNO": 0x00050000, "SCMP_ACT_TRACE": 0x7FF00000}
_OPS = ("SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_GT", "SCMP_CMP_GE")
_LD = 0x20
_JEQ, _JGT, _JGE, _JSET = 0x15, 0x25, 0x35, 0x45
_AND_K = 0x54
_RET = 0x06
_OFF_ARGS = 16


def syscall_numbers(machine: str = syscalls.MACHINE) -> dict[str, int]:
    if machine != "x86_64":
        raise InvalidArgument(
            f"seccomp profiles from a file are not supported on {machine} yet (x86_64 only)"
        )
    return {name: n for n, name in enumerate(_X86_64.split()) if name != "-"}


def _action(name: Any, errno_ret: Any, default_errno: int) -> int:
    if name in ACTIONS:
        return int(ACTIONS[name])
    if name in _ERRNO_ACTIONS:
        code = errno_ret if isinstance(errno_ret, int) and not isinstance(errno_ret, bool) else default_errno
        return int(_ERRNO_ACTIONS[name]) | (code & 0xFFFF)
    if name == "SCMP_ACT_NOTIFY":
        raise InvalidArgument(
            "seccomp action SCMP_ACT_NOTIFY is not supported: dockyard has no seccomp agent"
        )
    raise InvalidArgument(f"unknown seccomp action {name!r}")


def _applies(rule: dict[str, Any], caps: set[str], machine: str) -> bool:
    arches = {"x86_64": ("amd64", "x86_64", "SCMP_ARCH_X86_64")}.get(machine, (machine,))
    inc = rule.get("includes") or {}
    exc = rule.get("excludes") or {}
    if not isinstance(inc, dict) or not isinstance(exc, dict):
        raise InvalidArgument("seccomp profile: includes and excludes must be objects")
    if inc.get("caps") and not all(_cap(c) in caps or "ALL" in caps for c in inc["caps"]):
        return False
    if inc.get("arches") and not any(a in arches for a in inc["arches"]):
        return False
    if exc.get("caps") and any(_cap(c) in caps or "ALL" in caps for c in exc["caps"]):
        return False
    return not (exc.get("arches") and any(a in arches for a in exc["arches"]))


def _cap(name: Any) -> str:
    text = str(name).upper()
    return text if text.startswith("CAP_") else "CAP_" + text


def _u64(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 64:
        raise InvalidArgument(f"seccomp profile: {what} must be a number from 0 to 2^64-1")
    return value


def _condition(p: seccomp._Program, arg: Any, fail: str) -> None:
    """Instructions that go on when ``arg`` holds and jump to ``fail`` when it does not."""
    if not isinstance(arg, dict):
        raise InvalidArgument("seccomp profile: each of args must be an object")
    index = arg.get("index", 0)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= 5:
        raise InvalidArgument("seccomp profile: an argument index must be 0 to 5")
    op = arg.get("op", "")
    value = _u64(arg.get("value", 0), "value")
    two = _u64(arg.get("valueTwo", 0), "valueTwo")
    lo_off, hi_off = _OFF_ARGS + 8 * index, _OFF_ARGS + 8 * index + 4
    hi, lo = value >> 32, value & 0xFFFFFFFF
    if op == "SCMP_CMP_MASKED_EQ":  # (arg & value) == valueTwo
        for off, mask, want in ((hi_off, hi, two >> 32), (lo_off, lo, two & 0xFFFFFFFF)):
            p.op(_LD, off)
            p.op(_AND_K, mask)
            p.op(_JEQ, want, jt=0, jf=fail)
        return
    if op not in _OPS:
        raise InvalidArgument(f"seccomp profile: unknown comparison {op!r}")
    if op in ("SCMP_CMP_EQ", "SCMP_CMP_NE"):
        ok = f"{fail}-ok-{len(p.insns)}"
        p.op(_LD, hi_off)
        if op == "SCMP_CMP_EQ":
            p.op(_JEQ, hi, jt=0, jf=fail)
            p.op(_LD, lo_off)
            p.op(_JEQ, lo, jt=0, jf=fail)
        else:
            p.op(_JEQ, hi, jt=0, jf=ok)
            p.op(_LD, lo_off)
            p.op(_JEQ, lo, jt=fail, jf=0)
            p.label(ok)
        return
    # Ordered comparisons, unsigned over 64 bits: decide on the high words, else on the low ones.
    ok = f"{fail}-ok-{len(p.insns)}"
    if op in ("SCMP_CMP_GT", "SCMP_CMP_GE"):
        p.op(_LD, hi_off)
        p.op(_JGT, hi, jt=ok, jf=0)
        p.op(_JEQ, hi, jt=0, jf=fail)
        p.op(_LD, lo_off)
        p.op(_JGT if op == "SCMP_CMP_GT" else _JGE, lo, jt=0, jf=fail)
    else:  # LT, LE: not (arg >= value) / not (arg > value)
        p.op(_LD, hi_off)
        p.op(_JGT, hi, jt=fail, jf=0)
        p.op(_JEQ, hi, jt=0, jf=ok)
        p.op(_LD, lo_off)
        p.op(_JGE if op == "SCMP_CMP_LT" else _JGT, lo, jt=fail, jf=0)
    p.label(ok)


def compile_profile(profile: dict[str, Any], caps: list[str], machine: str = syscalls.MACHINE) -> bytes:
    """The BPF program of ``profile`` for a container holding capabilities ``caps``."""
    table = syscall_numbers(machine)
    default_errno = profile.get("defaultErrnoRet")
    default_errno = default_errno if isinstance(default_errno, int) else errno.EPERM
    if "defaultAction" not in profile:
        raise InvalidArgument("seccomp profile: defaultAction is required")
    default = _action(profile["defaultAction"], profile.get("defaultErrnoRet"), errno.EPERM)
    rules = profile.get("syscalls") or []
    if not isinstance(rules, list):
        raise InvalidArgument("seccomp profile: syscalls must be a list")
    held = {_cap(c) if c != "ALL" else "ALL" for c in caps}
    per_call: dict[int, list[tuple[int, list[Any]]]] = {}
    for rule in rules:
        if not isinstance(rule, dict):
            raise InvalidArgument("seccomp profile: each of syscalls must be an object")
        names = rule.get("names") or ([rule["name"]] if rule.get("name") else [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InvalidArgument("seccomp profile: names must be a list of system call names")
        action = _action(rule.get("action"), rule.get("errnoRet"), default_errno)
        args = rule.get("args") or []
        if not isinstance(args, list):
            raise InvalidArgument("seccomp profile: args must be a list")
        if not _applies(rule, held, machine):
            continue
        for name in names:
            if name in table:
                per_call.setdefault(table[name], []).append((action, args))
    p = seccomp._Program()
    p.op(_LD, 4)
    p.op(_JEQ, seccomp.AUDIT_ARCH[machine], jt=1)
    p.op(_RET, seccomp.RET_KILL_PROCESS)
    p.op(_LD, 0)
    if machine == "x86_64":  # x32 system calls fail with ENOSYS, as in the default filter
        p.op(_JGE, 0x40000000, jt=0, jf=1)
        p.op(_RET, seccomp.ret_errno(errno.ENOSYS))
    for nr, entries in per_call.items():
        after = f"after-{nr}"
        p.op(_JEQ, nr, jt=0, jf=after)
        for i, (action, args) in enumerate(entries):
            fail = f"c{nr}-{i}"
            for arg in args:
                _condition(p, arg, fail)
            p.op(_RET, action)
            p.label(fail)
        p.op(_RET, default)
        p.label(after)
    p.op(_RET, default)
    try:
        return p.assemble()
    except ValueError as e:
        raise InvalidArgument(f"seccomp profile: {e}") from None
