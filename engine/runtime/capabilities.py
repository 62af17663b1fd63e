"""Linux capabilities: names, masks, and the drop to a container's set just before exec.

A container process keeps a bounding set equal to its capability list, and, when it runs as root, the same
effective and permitted sets (the kernel gives root its bounding set at exec). A non-root process ends with
empty effective and permitted sets, like Docker (no file capabilities, no ambient set). The inheritable set
is always empty (Docker >= 23, CVE-2022-24769).
"""

from __future__ import annotations

import os

from engine.errors import InvalidArgument
from engine.kernel import syscalls
from engine.lean.tools import cache

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

CAPABILITIES: dict[str, int] = {
    "CAP_CHOWN": 0,
    "CAP_DAC_OVERRIDE": 1,
    "CAP_DAC_READ_SEARCH": 2,
    "CAP_FOWNER": 3,
    "CAP_FSETID": 4,
    "CAP_KILL": 5,
    "CAP_SETGID": 6,
    "CAP_SETUID": 7,
    "CAP_SETPCAP": 8,
    "CAP_LINUX_IMMUTABLE": 9,
    "CAP_NET_BIND_SERVICE": 10,
    "CAP_NET_BROADCAST": 11,
    "CAP_NET_ADMIN": 12,
    "CAP_NET_RAW": 13,
    "CAP_IPC_LOCK": 14,
    "CAP_IPC_OWNER": 15,
    "CAP_SYS_MODULE": 16,
    "CAP_SYS_RAWIO": 17,
    "CAP_SYS_CHROOT": 18,
    "CAP_SYS_PTRACE": 19,
    "CAP_SYS_PACCT": 20,
    "CAP_SYS_ADMIN": 21,
    "CAP_SYS_BOOT": 22,
    "CAP_SYS_NICE": 23,
    "CAP_SYS_RESOURCE": 24,
    "CAP_SYS_TIME": 25,
    "CAP_SYS_TTY_CONFIG": 26,
    "CAP_MKNOD": 27,
    "CAP_LEASE": 28,
    "CAP_AUDIT_WRITE": 29,
    "CAP_AUDIT_CONTROL": 30,
    "CAP_SETFCAP": 31,
    "CAP_MAC_OVERRIDE": 32,
    "CAP_MAC_ADMIN": 33,
    "CAP_SYSLOG": 34,
    "CAP_WAKE_ALARM": 35,
    "CAP_BLOCK_SUSPEND": 36,
    "CAP_AUDIT_READ": 37,
    "CAP_PERFMON": 38,
    "CAP_BPF": 39,
    "CAP_CHECKPOINT_RESTORE": 40,
}


@cache
def last_cap() -> int:
    """The highest capability number this kernel knows."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except (OSError, ValueError):
        return max(CAPABILITIES.values())


def mask_of(names: Iterable[str]) -> int:
    """The bit mask of capability ``names`` ("CAP_CHOWN", "chown" or "ALL"); unknown names are refused."""
    mask = 0
    for raw in names:
        name = raw.strip().upper()
        if name == "ALL":
            mask |= (1 << (last_cap() + 1)) - 1
            continue
        if not name.startswith("CAP_"):
            name = "CAP_" + name
        if name not in CAPABILITIES:
            raise InvalidArgument(f"unknown capability: {raw!r}")
        mask |= 1 << CAPABILITIES[name]
    return mask


def available_mask() -> int:
    """What the calling process could hand on: its permitted set within its bounding set."""
    _eff, permitted, _inh = syscalls.capget()
    return permitted


def drop_to(mask: int, uid: int, gid: int, groups: Sequence[int]) -> None:
    """Switch to ``uid``/``gid``/``groups`` keeping exactly the capabilities in ``mask``.

    Runs in the container process just before exec (single-threaded, still fully privileged).
    """
    top = last_cap()
    for cap in range(top + 1):
        if not mask >> cap & 1:
            syscalls.prctl(syscalls.PR_CAPBSET_DROP, cap)
    syscalls.prctl(syscalls.PR_SET_KEEPCAPS, 1)
    os.setgroups(list(groups))
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    syscalls.capset(mask, mask, 0)
    syscalls.prctl(syscalls.PR_CAP_AMBIENT, syscalls.PR_CAP_AMBIENT_CLEAR_ALL)
    syscalls.prctl(syscalls.PR_SET_KEEPCAPS, 0)
