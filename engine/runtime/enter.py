"""Run another process inside a running container (``docker exec``).

Contract with the caller::

    pid = enter(container_pid, process, stdin=..., stdout=..., stderr=..., cgroup_join=[...])
    _, status = os.waitpid(pid, 0)

The returned host PID is a **direct child of the calling process**, already inside the container's PID
namespace (the calling thread joins that namespace for its children around a single fork), so the caller
reaps it with ``waitpid``. Its own orphans are reaped by the container's PID 1.

The child joins the container's cgroups (``cgroup_join``), then its cgroup, ipc, uts, net and mount
namespaces (mount last: it switches root and working directory to the container's), with
``console_socket`` makes its terminal in the container's devpts (console.py), closes every fd but 0-2, resolves ``process.user`` in the container's /etc/passwd, changes to ``process.cwd`` (which must
exist, as with ``docker exec -w``), sets rlimits, looks the command up in the container's PATH, installs
seccomp, drops capabilities and ids, sets no_new_privs and execs. Capabilities and seccomp come from
``process`` alone: for a privileged container pass ``capabilities=["ALL"]`` and ``seccomp=False``.

Errors are those of ``launch``: CommandNotFound (127), CommandNotInvokable (126), InvalidArgument,
RuntimeFailure; none leaves a process behind. Until exec the child is this Python interpreter, not
dumpable, inside the container's namespaces: a container process without CAP_SYS_PTRACE cannot open its
/proc/PID/exe, fd/ or mem.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence

from engine.errors import RuntimeFailure
from engine.kernel import syscalls
from engine.runtime import console, namespaces
from engine.runtime.launch import (
    ProcessPlan,
    child_prelude,
    close_all,
    close_other_fds,
    finish_and_exec,
    high_fd,
    install_stdio,
    join_cgroups,
    kill_and_reap,
    make_terminal,
    pipe,
    plan_process,
    read_report,
    report_and_exit,
)
from engine.runtime.spec import ProcessSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


def _enter_main(
    plan: ProcessPlan,
    ns_fds: dict[str, int],
    stdio: tuple[int, int, int],
    console_fd: int,
    size: tuple[int, int],
    cgroup_join: Sequence[str],
    err_w: int,
) -> NoReturn:
    step = "prepare the exec process"
    try:
        child_prelude()
        step = "set up stdio"
        install_stdio(*stdio)
        close_other_fds(err_w, console_fd, *ns_fds.values())
        os.setsid()
        step = "join the container's cgroups"
        join_cgroups(cgroup_join)
        for name in namespaces.ENTER_ORDER:
            step = f"join the container's {name} namespace"
            syscalls.setns(ns_fds[name], namespaces.FLAGS[name])
        if console_fd >= 0:
            step = "create the terminal"
            make_terminal(console_fd, console.PTMX, rows=size[0], cols=size[1])
        step = "close file descriptors"
        close_other_fds(err_w)
        step = "start the process"
        finish_and_exec(plan)
    except BaseException as exc:  # noqa: B036 - the child must never unwind into the caller's code
        report_and_exit(err_w, step, exc)


def enter(
    pid: int,
    process: ProcessSpec,
    *,
    stdin: int = -1,
    stdout: int = -1,
    stderr: int = -1,
    console_socket: int = -1,
    console_size: tuple[int, int] = (0, 0),
    cgroup_join: Sequence[str] = (),
) -> int:
    """Exec ``process`` inside the container whose PID 1 has host PID ``pid``; return the new host PID.

    With ``console_socket`` (console.py) it gets a terminal of the container's devpts (``console_size``:
    rows, columns) instead of ``stdin``/``stdout``/``stderr``; its master is sent on that socket."""
    plan = plan_process(process, create_cwd=False)
    devnull = -1
    if console_socket >= 0:  # its stdio until the terminal exists
        devnull = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
        stdin = stdout = stderr = devnull
    ns_fds: dict[str, int] = {}
    err_r = err_w = -1
    child = 0
    started = False
    try:
        for name in (*namespaces.ENTER_ORDER, "pid"):
            ns_fds[name] = high_fd(namespaces.open_namespace(pid, name))
        err_r, err_w = pipe()
        with namespaces.children_in_pid_namespace(ns_fds["pid"]):
            try:
                child = os.fork()
            except OSError as e:  # the namespace's init has exited
                raise RuntimeFailure(f"container process {pid} is not running: {e.strerror}") from None
            if child == 0:  # pragma: no cover - runs in the child
                try:
                    _enter_main(
                        plan,
                        ns_fds,
                        (stdin, stdout, stderr),
                        console_socket,
                        console_size,
                        cgroup_join,
                        err_w,
                    )
                finally:
                    os._exit(1)
        close_all((err_w, *ns_fds.values()))
        err_w = -1
        ns_fds.clear()
        failure = read_report(err_r)
        if failure is not None:
            raise failure
        started = True
        return child
    finally:
        if child > 0 and not started:
            kill_and_reap(child)
        with contextlib.suppress(OSError):
            close_all((err_r, err_w, devnull, *ns_fds.values()))
