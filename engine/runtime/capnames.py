"""Linux capability names as users write them (``NET_ADMIN``, ``CAP_NET_ADMIN``, ``ALL``) and Docker's default set."""

from __future__ import annotations

from ..errors import InvalidArgument

# Docker's default capability set (REFERENCE: CapBnd 0x00000000a80425fb).
DEFAULT_CAPABILITIES: tuple[str, ...] = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)

ALL_CAPS = (
    "CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETGID CAP_SETUID "
    "CAP_SETPCAP CAP_LINUX_IMMUTABLE CAP_NET_BIND_SERVICE CAP_NET_BROADCAST CAP_NET_ADMIN CAP_NET_RAW "
    "CAP_IPC_LOCK CAP_IPC_OWNER CAP_SYS_MODULE CAP_SYS_RAWIO CAP_SYS_CHROOT CAP_SYS_PTRACE CAP_SYS_PACCT "
    "CAP_SYS_ADMIN CAP_SYS_BOOT CAP_SYS_NICE CAP_SYS_RESOURCE CAP_SYS_TIME CAP_SYS_TTY_CONFIG CAP_MKNOD "
    "CAP_LEASE CAP_AUDIT_WRITE CAP_AUDIT_CONTROL CAP_SETFCAP CAP_MAC_OVERRIDE CAP_MAC_ADMIN CAP_SYSLOG "
    "CAP_WAKE_ALARM CAP_BLOCK_SUSPEND CAP_AUDIT_READ CAP_PERFMON CAP_BPF CAP_CHECKPOINT_RESTORE"
).split()


def normalize_cap(name: str) -> str:
    n = name.strip().upper()
    if n == "ALL":
        return n
    if not n.startswith("CAP_"):
        n = "CAP_" + n
    if n not in ALL_CAPS:
        raise InvalidArgument(f"unknown capability: {name!r}")
    return n


def capabilities(cap_add: list[str], cap_drop: list[str], privileged: bool) -> list[str]:
    if privileged:
        return list(ALL_CAPS)
    adds = [normalize_cap(c) for c in cap_add]
    drops = [normalize_cap(c) for c in cap_drop]
    caps = list(DEFAULT_CAPABILITIES)
    if "ALL" in drops:
        caps = []
    caps = [c for c in caps if c not in drops]
    if "ALL" in adds:
        caps = [c for c in ALL_CAPS if c not in drops or c in adds]
    else:
        for c in adds:
            if c not in caps:
                caps.append(c)
    return caps
