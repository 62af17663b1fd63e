"""``exec``: run another process inside a running container (its namespaces, cgroup, caps and seccomp)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import struct
import termios

from engine.lean.record import record

from ..errors import Conflict
from ..paths import Layout
from ..store.containers import ContainerStore
from .reconcile import reconcile
from .spec import ProcessSpec
from .specbuild import capabilities, merge_env

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@record
class ExecProcess:
    """A process started by exec; a direct child of the caller, reaped by ``wait``."""

    pid: int
    exit_code: int | None = None

    def wait(self) -> int:
        if self.exit_code is None:
            _, status = os.waitpid(self.pid, 0)
            code = os.waitstatus_to_exitcode(status)
            self.exit_code = 128 - code if code < 0 else code
        return self.exit_code

    def poll(self) -> int | None:
        if self.exit_code is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(status)
                self.exit_code = 128 - code if code < 0 else code
        return self.exit_code


@record
class ExecPty(ExecProcess):
    """An exec'd process on a new pseudo-terminal: read and write ``master``."""

    master: int = -1
    released: bool = False

    def release(self) -> None:
        """Leave the process running on its own (``exec -it`` detached by the detach keys): a small process
        of its own keeps the terminal open, reading what is written to it, until the process ends."""
        if self.master < 0:
            return
        first = os.fork()
        if first == 0:  # pragma: no cover - child
            try:
                os.setsid()
                if os.fork() != 0:
                    os._exit(0)
                devnull = os.open("/dev/null", os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(devnull, fd)
                os.closerange(3, self.master)  # the caller's pipes and files are not kept open
                os.closerange(self.master + 1, os.sysconf("SC_OPEN_MAX"))
                while True:
                    try:
                        if not os.read(self.master, 65536):
                            break
                    except OSError:  # EIO: the process and all it started closed the terminal
                        break
            finally:
                os._exit(0)
        os.waitpid(first, 0)
        os.close(self.master)
        self.master = -1
        self.released = True

    def resize(self, rows: int, cols: int) -> None:
        with contextlib.suppress(OSError):
            fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def close(self) -> None:
        """End the session: hang up the terminal, then make sure the shell is gone and reaped."""
        if self.master >= 0:
            with contextlib.suppress(OSError):
                os.close(self.master)
            self.master = -1
        if self.exit_code is None and not self.released:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGHUP)
            import time

            for _ in range(100):
                if self.poll() is not None:
                    return
                time.sleep(0.01)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.wait()


def _process(
    layout: Layout,
    cid: str,
    argv: list[str],
    env: list[str] | None,
    workdir: str,
    user: str,
    privileged: bool,
    tty: bool,
) -> tuple[ProcessSpec, int, list[str]]:
    store = ContainerStore(layout)
    reconcile(layout, cid)
    st = store.state(cid)
    if st.status == "paused":
        raise Conflict(f"Container {cid} is paused, unpause the container before exec")
    if st.status != "running" or not st.pid:
        raise Conflict(f"container {cid} is not running")
    cfg = store.config(cid)
    image_env = cfg.image_config.get("Env") or []
    full_env = merge_env(image_env, cfg.env + list(env or []))
    keys = {e.partition("=")[0] for e in full_env}
    if "HOSTNAME" not in keys:
        full_env.insert(0, f"HOSTNAME={cfg.hostname or cid[:12]}")
    if tty and "TERM" not in keys:
        full_env.append("TERM=xterm")
    priv = privileged or cfg.privileged
    proc = ProcessSpec(
        args=list(argv),
        env=full_env,
        cwd=workdir or cfg.working_dir or cfg.image_config.get("WorkingDir") or "/",
        tty=tty,
        capabilities=["ALL"] if priv else capabilities(cfg.cap_add, cfg.cap_drop, False),
        no_new_privileges=not priv,
        seccomp=not priv,
    )
    proc.user = user or cfg.user or cfg.image_config.get("User") or None
    return proc, st.pid, _cgroup_join(layout, cid)


def _cgroup_join(layout: Layout, cid: str) -> list[str]:
    """The files an exec'd process joins the container's cgroups through ([] if it has none left)."""
    from .cgroups import ContainerCgroup, parent_for_root

    with contextlib.suppress(Exception):
        return ContainerCgroup.open(cid, parent_for_root(layout.root)).join_files()
    return []


def probe_process(layout: Layout, cfg: Any, argv: list[str]) -> tuple[ProcessSpec, list[str]]:
    """The process of a health probe: the container's environment, user and privileges."""
    image_env = cfg.image_config.get("Env") or []
    proc = ProcessSpec(
        args=list(argv),
        env=merge_env(image_env, cfg.env),
        cwd=cfg.working_dir or cfg.image_config.get("WorkingDir") or "/",
        capabilities=["ALL"] if cfg.privileged else capabilities(cfg.cap_add, cfg.cap_drop, False),
        no_new_privileges=not cfg.privileged,
        seccomp=not cfg.privileged,
    )
    proc.user = cfg.user or cfg.image_config.get("User") or None
    return proc, _cgroup_join(layout, cfg.id)


def exec_run(
    layout: Layout,
    cid: str,
    argv: list[str],
    *,
    env: list[str] | None = None,
    workdir: str = "",
    user: str = "",
    privileged: bool = False,
    stdin: int | None = None,
    stdout: int | None = None,
    stderr: int | None = None,
    detach: bool = False,
) -> ExecProcess:
    from .enter import enter

    proc, pid, procs = _process(layout, cid, argv, env, workdir, user, privileged, False)
    devnull = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    try:
        if detach:
            return _detached(proc, pid, procs, devnull)
        child = enter(
            pid,
            proc,
            stdin=devnull if stdin is None else stdin,
            stdout=devnull if stdout is None else stdout,
            stderr=devnull if stderr is None else stderr,
            cgroup_join=procs,
        )
    finally:
        os.close(devnull)
    return ExecProcess(child)


def _detached(proc: ProcessSpec, pid: int, procs: list[str], devnull: int) -> ExecProcess:
    """exec -d: a small detached reaper enters the container and outlives the caller."""
    from .enter import enter

    r, w = os.pipe2(os.O_CLOEXEC)
    first = os.fork()
    if first == 0:
        try:
            os.close(r)
            os.setsid()
            if os.fork() != 0:
                os._exit(0)
            for fd in (0, 1, 2):  # let go of the caller's terminal and pipes
                os.dup2(devnull, fd)
            try:
                child = enter(pid, proc, stdin=devnull, stdout=devnull, stderr=devnull, cgroup_join=procs)
                os.write(w, f"ok {child}\n".encode())
            except Exception as e:  # noqa: BLE001
                os.write(w, f"err {type(e).__name__} {e}\n".encode())
                os._exit(1)
            os.close(w)
            os.waitpid(child, 0)
        finally:
            os._exit(0)
    os.close(w)
    os.waitpid(first, 0)
    msg = os.read(r, 4096).decode()
    os.close(r)
    if msg.startswith("ok "):
        return ExecProcess(int(msg.split()[1]), exit_code=0)
    from ..errors import CommandNotFound, CommandNotInvokable, RuntimeFailure

    kind, _, text = msg[4:].strip().partition(" ")
    raise {"CommandNotFound": CommandNotFound, "CommandNotInvokable": CommandNotInvokable}.get(
        kind, RuntimeFailure
    )(text or "exec failed")


def exec_pty(
    layout: Layout,
    cid: str,
    argv: list[str],
    *,
    env: list[str] | None = None,
    workdir: str = "",
    user: str = "",
    privileged: bool = False,
    rows: int = 24,
    cols: int = 80,
) -> ExecPty:
    from . import console
    from .enter import enter

    proc, pid, procs = _process(layout, cid, argv, env, workdir, user, privileged, True)
    ours, theirs = console.socketpair()
    try:
        try:
            child = enter(pid, proc, console_socket=theirs, console_size=(rows, cols), cgroup_join=procs)
        finally:
            os.close(theirs)
        master = console.receive(ours)
    finally:
        os.close(ours)
    return ExecPty(child, master=master)
