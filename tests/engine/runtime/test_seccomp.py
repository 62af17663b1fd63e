"""The default seccomp filter: its program, its effect on real system calls, and inside a container."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import struct

import pytest

from engine.kernel import syscalls
from engine.runtime import seccomp
from tests.engine.runtime.conftest import Runner


@pytest.mark.parametrize("machine", sorted(seccomp.SYSCALLS))
def test_program_assembles_for_each_architecture(machine: str) -> None:
    program = seccomp.default_filter(machine)
    insns = [struct.unpack("<HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    assert len(program) % 8 == 0 and len(insns) < 256
    # starts with the architecture check, killing on mismatch
    assert insns[0] == (0x20, 0, 0, 4)
    assert insns[1] == (0x15, 1, 0, seccomp.AUDIT_ARCH[machine])
    assert insns[2] == (0x06, 0, 0, seccomp.RET_KILL_PROCESS)
    # every jump lands inside the program
    for i, (code, jt, jf, _k) in enumerate(insns):
        if code & 0x07 == 0x05:
            assert i + 1 + max(jt, jf) < len(insns)
    # the last instruction of every path returns
    assert insns[-1][0] == 0x06


def test_every_denied_call_has_a_number_where_it_exists() -> None:
    for machine, table in seccomp.SYSCALLS.items():
        missing = [name for name in seccomp.DENIED if name not in table]
        if machine == "x86_64":
            assert missing == []
        assert len(set(table.values())) == len(table), f"duplicate numbers for {machine}"


def _in_filtered_child(calls: list[tuple[str, list[int]]]) -> list[int]:
    """Fork, install the filter, make each raw system call; return each result as 0 or -errno."""
    table = seccomp.SYSCALLS[syscalls.MACHINE]
    program = seccomp.default_filter()
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(r)
            syscalls.prctl(syscalls.PR_SET_NO_NEW_PRIVS, 1)
            seccomp.install(program)
            results = []
            for name, args in calls:
                nr = table[name] if name in table else int(name)
                res = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
                if res == 0 and name == "clone":
                    os._exit(0)  # a clone that got through: the new process leaves at once
                results.append(-ctypes.get_errno() if res == -1 else 0)
            os.write(w, json.dumps(results).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 4096):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return list(json.loads(data))


@pytest.mark.skipif(syscalls.MACHINE not in seccomp.SYSCALLS, reason="no table for this architecture")
def test_filter_denies_and_allows_real_system_calls() -> None:
    uts = syscalls.CLONE_NEWUTS
    results = _in_filtered_child(
        [
            ("unshare", [uts]),
            ("setns", [0, 0]),
            ("mount", [0, 0, 0, 0, 0]),
            ("keyctl", [0, 0, 0, 0, 0]),
            ("bpf", [0, 0, 0]),
            ("clone3", [0, 0]),
            ("personality", [0xFFFFFFFF]),
            ("personality", [0x0040000]),  # ADDR_NO_RANDOMIZE: refused
            ("clone", [uts | 17, 0, 0, 0, 0]),  # CLONE_NEWUTS | SIGCHLD
        ]
    )
    assert results[:5] == [-errno.EPERM] * 5
    assert results[5] == -errno.ENOSYS
    assert results[6] == 0
    assert results[7] == -errno.EPERM
    assert results[8] == -errno.EPERM


@pytest.mark.skipif(syscalls.MACHINE != "x86_64", reason="x32 exists on x86_64 only")
def test_x32_system_calls_are_refused() -> None:
    getpid = 39
    assert _in_filtered_child([(str(getpid | 0x40000000), [])]) == [-errno.ENOSYS]


@pytest.mark.slow
@pytest.mark.root
def test_seccomp_blocks_mount_even_with_cap_sys_admin(runner: Runner) -> None:
    caps = ["CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID"]
    script = "mkdir -p /mnt; mount -t tmpfs x /mnt && echo mounted || echo refused"
    assert runner.sh(script, process={"capabilities": caps}) == (
        0,
        "mount: permission denied (are you root?)\nrefused\n",
    )
    assert runner.sh(script, process={"capabilities": caps, "seccomp": False}) == (0, "mounted\n")


@pytest.mark.slow
@pytest.mark.root
def test_seccomp_without_no_new_privs(runner: Runner) -> None:
    code, out = runner.sh(
        "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status; unshare -u true || echo refused",
        process={"no_new_privileges": False},
    )
    assert code == 0
    assert out.splitlines()[:2] == ["NoNewPrivs:\t0", "Seccomp:\t2"]
    assert out.endswith("refused\n")
