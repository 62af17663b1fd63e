"""Start a container's PID 1 from the running Python process: one fork, no helper binary, no new interpreter.

Contract with the caller (the per-container supervisor)::

    pid = launch(spec, stdin=..., stdout=..., stderr=..., before_exec=setup)
    ...
    _, status = os.waitpid(pid, 0)          # the caller reaps PID 1; its exit status is the container's

* ``launch`` returns once the container's command has been exec'd. The returned host PID is a **direct
  child of the calling process**: the calling thread unshares a PID namespace for its children, forks, and
  switches back at once (see ``namespaces.children_in_pid_namespace``), so PID 1 needs no intermediate
  process and no reparenting. The caller must reap it with ``waitpid`` and must not set SIGCHLD to SIG_IGN.
* Orphans inside the container are reaped by the container's PID 1. Without a PID namespace (``--pid
  host``) they go to the nearest child subreaper or the host's init (the supervisor process is not one: it
  reaps its children by PID only, one thread per container, and an orphan's exit is none of its business).
* ``before_exec(pid)`` runs in the caller while the new process sets up its root filesystem (both proceed
  in parallel); this is where the caller makes the cgroups and wires the network namespace
  (/proc/PID/ns/net). If it raises, the process is killed and reaped and the exception propagates. Then
  the caller opens the files of ``spec.cgroup_join`` and hands them over with the go-ahead; the process
  writes "0" into each (it joins the cgroups itself: on cgroup v1, a single thread moving itself through a
  ``tasks`` file does not take the kernel's global migration lock, whose first use after a quiet spell
  waits for an RCU grace period, 5-20 ms), then creates its cgroup namespace and mounts /sys/fs/cgroup.
* Errors: ``CommandNotFound`` (127), ``CommandNotInvokable`` (126), ``InvalidArgument`` (bad spec, an
  unknown ``-u`` user), ``RuntimeFailure`` (a setup step failed; the message names it and the errno). In
  every failure no process is left behind.
* The calling thread must stay alive until ``launch`` returns (the child has PR_SET_PDEATHSIG tied to it
  during setup, cleared just before exec). Concurrent ``launch`` calls from several threads are fine.

In the container process, in order: dumpable off (until exec), signals reset, stdio on 0-2 and every other
inherited fd closed, setsid, the namespaces, the root filesystem (rootfs.py: overlay, pivot_root, /dev,
with ``console_socket`` a terminal of the container's own devpts as stdio and controlling tty (console.py), /sys,
volumes, /proc, masked and read-only paths),
hostname, wait for ``before_exec``, cgroup namespace and /sys/fs/cgroup, close every fd but 0-2 before
anything resolves a path the image controls (CVE-2024-21626), user from the container's /etc/passwd,
working directory, read-only root, rlimits, PATH lookup, seccomp, capabilities and ids, no_new_privs, exec.

The window in which a host program is visible: until execve the process is this Python interpreter, and
/proc/1/exe refers to the host's python binary. It is not dumpable during that window (so /proc/1/exe, fd/,
mem are closed to anything without CAP_SYS_PTRACE), no other process of the container exists yet, and after
pivot_root no host path resolves. Imports are disabled in the child so that nothing can be loaded from the
container's files.
"""

from __future__ import annotations

import errno
import fcntl
import gc
import os
import stat
import sys

from engine.errors import CommandNotFound, CommandNotInvokable, DockyardError, InvalidArgument, RuntimeFailure
from engine.kernel import syscalls
from engine.lean import jsonio
from engine.lean.record import field, record
from engine.lean.tools import suppress
from engine.runtime import capabilities, console, namespaces, rootfs, seccomp, users
from engine.runtime.spec import ContainerSpec, ProcessSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal
    from collections.abc import Callable, Iterable, Sequence
    from typing import NoReturn
else:
    import _signal as signal  # for start-up speed: the C module (plain ints); signal.py loads enum, functools

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_ERRORS: dict[str, type[DockyardError]] = {
    "RuntimeFailure": RuntimeFailure,
    "CommandNotFound": CommandNotFound,
    "CommandNotInvokable": CommandNotInvokable,
    "InvalidArgument": InvalidArgument,
}


# ---------------------------------------------------------------------------------- process plan


@record
class ProcessPlan:
    """A validated ProcessSpec, ready for the forked child (nothing in it needs computing there)."""

    args: list[str]
    env: dict[str, str]
    cwd: str
    create_cwd: bool
    uid: int
    gid: int
    groups: list[int]
    user: str | None
    caps: int
    no_new_privs: bool
    seccomp_program: bytes | None
    rlimits: list[tuple[int, int, int]] = field(default_factory=list)
    seccomp_last: bool = False  # a profile from a file: installed just before exec, as runc does with NNP
    oom_score_adj: int | None = None


def _env_dict(entries: Iterable[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for entry in entries:
        key, sep, value = entry.partition("=")
        if not sep or not key:
            continue
        if "\0" in entry:
            raise InvalidArgument(f"invalid environment variable: {entry!r}")
        env[key] = value
    return env


def _rlimits(requested: dict[str, tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Resolve rlimit names and cap them at what the caller has (root here lacks CAP_SYS_RESOURCE)."""
    if not requested:
        return []
    # Loaded only when limits are asked for: a shared library, which most starts do without.
    import resource

    known = {
        name[len("RLIMIT_") :].lower(): getattr(resource, name)
        for name in dir(resource)
        if name.startswith("RLIMIT_")
    }
    inf = resource.RLIM_INFINITY

    def value(v: int) -> float:
        return float("inf") if v == inf or v < 0 else v

    def back(v: float) -> int:
        return inf if v == float("inf") else int(v)

    out = []
    for name, (soft, hard) in requested.items():
        key = name.lower().removeprefix("rlimit_")
        if key not in known:
            raise InvalidArgument(f"invalid ulimit type: {name}")
        if value(soft) > value(hard):
            raise InvalidArgument(f"ulimit soft limit must be less than hard limit: {soft} > {hard}")
        res = known[key]
        _cur_soft, cur_hard = resource.getrlimit(res)
        new_hard = min(value(hard), value(cur_hard))
        new_soft = min(value(soft), new_hard)
        out.append((res, back(new_soft), back(new_hard)))
    return out


def plan_process(process: ProcessSpec, *, privileged: bool = False, create_cwd: bool = True) -> ProcessPlan:
    """Validate ``process`` (raising before anything changes) and precompute what the child needs."""
    if not process.args or not process.args[0]:
        raise InvalidArgument("no command specified")
    if any("\0" in a for a in process.args):
        raise InvalidArgument("the command contains a NUL byte")
    cwd = process.cwd or "/"
    if not cwd.startswith("/"):
        raise InvalidArgument(f"the working directory '{cwd}' is invalid, it needs to be an absolute path")
    for value in (process.uid, process.gid, *process.additional_gids):
        if not 0 <= value <= users.MAX_ID:
            raise InvalidArgument(f"uids and gids must be in range 0-{users.MAX_ID}")
    wanted = capabilities.mask_of(["ALL"] if privileged else process.capabilities)
    caps = wanted & capabilities.available_mask()
    program = seccomp.default_filter() if process.seccomp and not privileged else None
    last = False
    if program is not None and process.seccomp_profile is not None:
        from engine.runtime.seccompprofile import compile_profile

        program = compile_profile(process.seccomp_profile, list(process.capabilities))
        last = process.no_new_privileges  # without no_new_privs it needs CAP_SYS_ADMIN: before the drop
    return ProcessPlan(
        args=list(process.args),
        env=_env_dict(process.env),
        cwd=os.path.normpath(cwd),
        create_cwd=create_cwd,
        uid=process.uid,
        gid=process.gid,
        groups=list(process.additional_gids),
        user=process.user,
        caps=caps,
        no_new_privs=process.no_new_privileges,
        seccomp_program=program,
        rlimits=_rlimits(process.rlimits),
        seccomp_last=last,
        oom_score_adj=process.oom_score_adj,
    )


# ------------------------------------------------------------------------- child-side helpers


def child_prelude() -> None:
    """First thing in a forked child: no GC finalizers, no imports, no output, not dumpable, clean signals."""
    gc.disable()
    sys.stdout = None
    sys.stderr = None
    # With no finders at all, a lazy import fails instead of reading code from the container's files.
    # (Replaced, not cleared: freeing the finder caches would only cost copy-on-write faults.)
    sys.meta_path = []
    syscalls.prctl(syscalls.PR_SET_DUMPABLE, 0)
    syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)
    os.umask(0)
    # exec resets caught signals but keeps ignored ones (Python ignores SIGPIPE and SIGXFSZ): reset those
    # this interpreter changed; the rest are at their defaults already.
    for sig in range(1, signal.NSIG):
        handler = signal.getsignal(sig)
        if handler is not None and handler != signal.SIG_DFL:
            with suppress(OSError, ValueError):
                signal.signal(sig, signal.SIG_DFL)
    for sig in (32, 33):  # kept by the C library: Python cannot see them, a parent may have ignored them
        with suppress(OSError):
            syscalls.reset_signal(sig)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def install_stdio(stdin: int, stdout: int, stderr: int) -> None:
    """Put the three descriptors on 0, 1, 2 (inheritable), whatever numbers they had."""
    tmp = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3) for fd in (stdin, stdout, stderr)]
    for target, fd in enumerate(tmp):
        os.dup2(fd, target)
    for fd in tmp:
        os.close(fd)


def make_terminal(
    console_fd: int, ptmx: str, bind_console: bool = False, rows: int = 0, cols: int = 0
) -> None:
    """A new pty of the container's devpts on 0, 1, 2 and as controlling terminal (the caller is a session
    leader); its master goes back over ``console_fd``, which is closed. ``bind_console``: also /dev/console."""
    master, slave, pts = console.open_pty(ptmx, rows, cols)
    try:
        if bind_console:
            rootfs.bind_console(pts)
        install_stdio(slave, slave, slave)
        syscalls.set_controlling_tty(0)
        console.send(console_fd, master)
    finally:
        os.close(slave)
        os.close(master)
        os.close(console_fd)


def close_other_fds(*keep: int) -> None:
    """Close everything but 0, 1, 2 and the descriptors in ``keep`` (the error pipe, ...)."""
    first = 3
    for fd in sorted(k for k in keep if k >= 3):
        if fd > first:
            syscalls.close_range(first, fd - 1)
        first = fd + 1
    syscalls.close_range(first)


def join_cgroups(paths: Iterable[str], pid: int = 0) -> None:
    """Write ``pid`` (0: the caller itself) into each cgroup.procs or tasks file."""
    for path in paths:
        try:
            with open(path, "w") as f:
                f.write(str(pid))
        except OSError as e:
            raise RuntimeFailure(
                f"cannot add process to cgroup {os.path.dirname(path)}: {e.strerror}"
            ) from None


def open_cgroup_files(paths: Iterable[str]) -> list[int]:
    """Open cgroup files for writing (closed again if one fails)."""
    fds: list[int] = []
    try:
        for path in paths:
            try:
                fds.append(high_fd(os.open(path, os.O_WRONLY | os.O_CLOEXEC)))
            except OSError as e:
                raise RuntimeFailure(f"cannot open cgroup {os.path.dirname(path)}: {e.strerror}") from None
    except BaseException:
        close_all(fds)
        raise
    return fds


def join_cgroup_fds(fds: Iterable[int]) -> None:
    """Join the cgroups whose cgroup.procs or tasks files are open on ``fds`` (writing "0": ourselves)."""
    for fd in fds:
        try:
            os.write(fd, b"0")
        except OSError as e:
            raise RuntimeFailure(f"cannot join the container's cgroup: {os.strerror(e.errno or 0)}") from None
        finally:
            os.close(fd)


def find_executable(name: str, path_var: str) -> str:
    """Resolve the command like Docker (Go's exec.LookPath) inside the container's root."""
    if "/" in name:
        try:
            st = os.stat(name)
        except FileNotFoundError:
            raise CommandNotFound(f'exec: "{name}": stat {name}: no such file or directory') from None
        except OSError as e:
            raise CommandNotInvokable(f'exec: "{name}": {os.strerror(e.errno or 0).lower()}') from None
        if stat.S_ISDIR(st.st_mode) or not st.st_mode & 0o111:
            raise CommandNotInvokable(f'exec: "{name}": permission denied')
        return name
    for directory in path_var.split(":"):
        candidate = os.path.join(directory or ".", name)
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_mode & 0o111:
            return candidate
    raise CommandNotFound(f'exec: "{name}": executable file not found in $PATH')


def _set_oom_score_adj(value: int) -> None:
    """--oom-score-adj: the process's own /proc/self/oom_score_adj (its children inherit it)."""
    try:
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, str(value).encode())
        finally:
            os.close(fd)
    except OSError as e:
        raise RuntimeFailure(
            f"cannot set the OOM score adjustment to {value}: {(e.strerror or '').lower()} (going below "
            "the lowest value this process had needs CAP_SYS_RESOURCE)"
        ) from None


def finish_and_exec(plan: ProcessPlan, *, readonly_root: bool = False) -> NoReturn:
    """The last steps, inside the container's root with only 0-2 and the error pipe open: user, cwd,
    read-only root, rlimits, PATH lookup, seccomp, capabilities and ids, no_new_privs, execve."""
    env = dict(plan.env)
    uid, gid, groups = plan.uid, plan.gid, plan.groups
    if plan.user is not None:
        uid, gid, groups, home = users.resolve_user("/", plan.user)
        env.setdefault("HOME", home)
    cwd = plan.cwd
    if plan.create_cwd:
        with suppress(FileExistsError):
            os.makedirs(cwd, 0o755, exist_ok=True)
    try:
        os.chdir(cwd)
    except OSError as e:
        raise RuntimeFailure(f'chdir to cwd ("{cwd}") failed: {os.strerror(e.errno or 0).lower()}') from None
    if readonly_root:
        rootfs.make_root_readonly()
    if plan.oom_score_adj is not None:
        _set_oom_score_adj(plan.oom_score_adj)
    if plan.rlimits:
        import resource  # loaded by plan_process before the fork (this process can import nothing new)

        for res, soft, hard in plan.rlimits:
            resource.setrlimit(res, (soft, hard))
    path = find_executable(plan.args[0], env.get("PATH", DEFAULT_PATH))
    if plan.seccomp_program is not None and not plan.seccomp_last:
        # Installed while CAP_SYS_ADMIN is still held, so it works without no_new_privs too.
        seccomp.install(plan.seccomp_program)
    capabilities.drop_to(plan.caps, uid, gid, groups)
    if plan.no_new_privs:
        syscalls.prctl(syscalls.PR_SET_NO_NEW_PRIVS, 1)
    if plan.seccomp_program is not None and plan.seccomp_last:
        seccomp.install(plan.seccomp_program)  # a user's profile need not allow what the drop calls
    os.umask(0o022)
    syscalls.prctl(syscalls.PR_SET_PDEATHSIG, 0)
    try:
        os.execve(path, plan.args, env)
    except OSError as e:
        code = e.errno or 0
        reason = os.strerror(code).lower()
        if code == errno.ENOENT:
            raise CommandNotFound(f'exec: "{plan.args[0]}": {reason}') from None
        if code in (errno.EACCES, errno.ENOEXEC, errno.EISDIR, errno.EPERM, errno.ENOTDIR):
            raise CommandNotInvokable(f'exec: "{plan.args[0]}": {reason}') from None
        raise RuntimeFailure(f'exec: "{plan.args[0]}": {reason}') from None


def report_and_exit(err_w: int, step: str, exc: BaseException) -> NoReturn:
    """Send the failure to the parent over the error pipe and exit (never returns, never raises)."""
    try:
        if isinstance(exc, DockyardError):
            kind, message = type(exc).__name__, exc.message
            if kind not in _ERRORS:
                kind = "RuntimeFailure"
        elif isinstance(exc, OSError):
            code = exc.errno or 0
            name = errno.errorcode.get(code, str(code))
            where = f" ({exc.filename})" if exc.filename and str(exc.filename) not in step else ""
            kind, message = "RuntimeFailure", f"{step}: {os.strerror(code).lower()} ({name}){where}"
        else:
            kind, message = "RuntimeFailure", f"{step}: {type(exc).__name__}: {exc}"
        os.write(err_w, jsonio.dumps({"type": kind, "message": message}).encode())
    finally:
        os._exit(1)


# ------------------------------------------------------------------------- parent-side helpers


def high_fd(fd: int) -> int:
    """Move ``fd`` to 3 or above (close-on-exec), so it never collides with the child's 0, 1, 2."""
    if fd >= 3:
        return fd
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    os.close(fd)
    return new


def go_channel() -> tuple[int, int]:
    """(the process's end, the caller's end) of the socket the go-ahead and the cgroup files come on."""
    a, b = syscalls.socketpair()
    return high_fd(a), high_fd(b)


def send_go(fd: int, cgroup_fds: list[int]) -> None:
    syscalls.send_fds(fd, b"G", cgroup_fds)


def receive_go(fd: int) -> tuple[bool, list[int]]:
    """(True, the cgroup files) once the caller says go; (False, []) if it gave up (EOF)."""
    data, fds = syscalls.receive_fds(fd, 64)
    return bool(data), fds


def pipe() -> tuple[int, int]:
    r, w = os.pipe2(os.O_CLOEXEC)
    return high_fd(r), high_fd(w)


def read_report(fd: int) -> DockyardError | None:
    """Read the child's error pipe to EOF (EOF alone means the exec succeeded)."""
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    if not chunks:
        return None
    try:
        data = jsonio.loads(b"".join(chunks))
        return _ERRORS.get(data["type"], RuntimeFailure)(str(data["message"]))
    except (ValueError, KeyError, TypeError):
        return RuntimeFailure("the container process failed during setup")


def kill_and_reap(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with suppress(ChildProcessError):
        os.waitpid(pid, 0)


def close_all(fds: Iterable[int]) -> None:
    for fd in fds:
        if fd >= 0:
            with suppress(OSError):
                os.close(fd)


# ------------------------------------------------------------------------------------ launch


@record
class _LaunchPlan:
    process: ProcessPlan
    unshare_flags: int
    cgroup_ns: bool
    overlay: str
    mounts: list[rootfs.MountPlan]
    devices: Sequence[rootfs.Device]
    replaced: list[str]
    cgroups: rootfs.CgroupLayout | None
    masked: list[str]
    readonly: list[str]
    shm: str | None = rootfs.SHM_OPTIONS


def _plan_launch(spec: ContainerSpec) -> _LaunchPlan:
    ns = set(spec.namespaces)
    namespaces.flags_of(ns)  # validates the names
    if "mount" not in ns:
        raise InvalidArgument("a container needs its own mount namespace")
    for path in (spec.rootfs, spec.upper_dir, spec.work_dir, *spec.lower_dirs):
        if not os.path.isabs(path):
            raise InvalidArgument(f"runtime paths must be absolute: {path}")
    if not os.path.isdir(spec.rootfs):
        raise InvalidArgument(f"rootfs mount point {spec.rootfs} is not a directory")
    if (spec.hostname or spec.domainname) and "uts" not in ns:
        raise InvalidArgument("a hostname needs a UTS namespace")
    flags = namespaces.flags_of(ns - {"pid", "cgroup"})
    if spec.net_ns_path:
        flags &= ~syscalls.CLONE_NEWNET
    if spec.ipc_ns_path:
        flags &= ~syscalls.CLONE_NEWIPC
    if spec.uts_ns_path:
        flags &= ~syscalls.CLONE_NEWUTS
    devices = rootfs.host_devices() if spec.privileged else rootfs.default_devices()
    if spec.devices and not spec.privileged:
        extra = rootfs.extra_devices(spec.devices)
        names = {d.path for d in extra}
        devices = [d for d in devices if d.path not in names] + extra
    mounts = rootfs.plan_mounts(spec)
    user_dests = {m.destination for m in mounts}
    return _LaunchPlan(
        process=plan_process(spec.process, privileged=spec.privileged, create_cwd=True),
        unshare_flags=flags,
        cgroup_ns="cgroup" in ns,
        overlay=rootfs.overlay_options(spec.lower_dirs, spec.upper_dir, spec.work_dir),
        mounts=mounts,
        devices=devices,
        replaced=[d for d in rootfs.REPLACEABLE if d in user_dests],
        cgroups=rootfs.cgroup_layout(),
        masked=[] if spec.privileged else list(spec.masked_paths),
        readonly=[] if spec.privileged else list(spec.readonly_paths),
        shm=rootfs.shm_options(spec.shm_size),
    )


def _container_main(
    spec: ContainerSpec,
    plan: _LaunchPlan,
    stdio: tuple[int, int, int],
    terminal: tuple[int, int, int],
    net_fd: int,
    err_w: int,
    go_r: int,
    ipc_fd: int = -1,
    uts_fd: int = -1,
) -> NoReturn:
    step = "prepare the container process"
    try:
        child_prelude()
        step = "set up stdio"
        install_stdio(*stdio)
        # Drop every inherited descriptor now (the parent's pipe ends included: an EOF on go_r must mean the
        # parent is gone; and those of other containers being started by other threads).
        console_fd, rows, cols = terminal
        close_other_fds(err_w, go_r, net_fd, console_fd, ipc_fd, uts_fd)
        os.setsid()
        if net_fd >= 0:
            step = f"join network namespace {spec.net_ns_path}"
            syscalls.setns(net_fd, syscalls.CLONE_NEWNET)
        if ipc_fd >= 0:
            step = f"join IPC namespace {spec.ipc_ns_path}"
            syscalls.setns(ipc_fd, syscalls.CLONE_NEWIPC)
            os.close(ipc_fd)
        if uts_fd >= 0:
            step = f"join UTS namespace {spec.uts_ns_path}"
            syscalls.setns(uts_fd, syscalls.CLONE_NEWUTS)
            os.close(uts_fd)
        step = "create namespaces"
        syscalls.unshare(plan.unshare_flags)
        if plan.unshare_flags & syscalls.CLONE_NEWNET:
            step = "bring up the loopback interface"
            namespaces.loopback_up()
        step = "make mounts private"
        rootfs.make_rslave()
        step = f"mount overlay on {spec.rootfs}"
        rootfs.mount_overlay(
            plan.overlay,
            spec.lower_dirs,
            spec.upper_dir,
            spec.work_dir,
            spec.rootfs,
            nodev=not spec.privileged,
        )
        step = "prepare bind mounts"
        bind_fds = rootfs.detach_binds(plan.mounts)
        shm_fd = -1
        if spec.shm_from:
            step = f"take /dev/shm from {spec.shm_from}"
            shm_fd = rootfs.clone_from_namespace(spec.shm_from, "/dev/shm")
        step = "pivot_root"
        rootfs.pivot(spec.rootfs)
        step = "set up /dev"
        rootfs.mount_dev(plan.devices, plan.replaced, nodev=not spec.privileged, shm=plan.shm)
        if shm_fd >= 0:
            rootfs.attach_shm(shm_fd)
        if console_fd >= 0:
            step = "create the terminal"
            make_terminal(console_fd, console.PTMX, bind_console=True, rows=rows, cols=cols)
        step = "mount /sys"
        rootfs.mount_sys(readonly=not spec.privileged)
        # /proc comes after the volumes: while their host sources are open here, the image must have no
        # /proc/self/fd/N to point a mount point's symlink at.
        late = [i for i, m in enumerate(plan.mounts) if rootfs.under_proc(m.destination)]
        early = [i for i in range(len(plan.mounts)) if i not in late]
        step = "mount volumes"
        rootfs.attach_mounts([plan.mounts[i] for i in early], [bind_fds[i] for i in early])
        step = "mount /proc"
        rootfs.mount_proc()
        proc_sys = -1
        if spec.sysctls:  # written after networking, through /proc/sys as it is before it turns read-only
            proc_sys = os.open("/proc/sys", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        if late:
            step = "mount volumes"
            rootfs.attach_mounts([plan.mounts[i] for i in late], [bind_fds[i] for i in late])
        step = "mask paths"
        rootfs.mask_paths(plan.masked)
        step = "make paths read-only"
        rootfs.readonly_paths(plan.readonly)
        if spec.hostname:
            step = "set hostname"
            syscalls.sethostname(spec.hostname)
        if spec.domainname:
            step = "set domainname"
            syscalls.setdomainname(spec.domainname)
        step = "wait for the engine"
        go, cgroup_fds = receive_go(go_r)
        if not go:
            os._exit(1)  # the engine gave up on this container
        step = "join the container's cgroups"
        join_cgroup_fds(cgroup_fds)
        if plan.cgroup_ns:
            step = "create cgroup namespace"
            syscalls.unshare(syscalls.CLONE_NEWCGROUP)
        step = "mount /sys/fs/cgroup"
        rootfs.mount_cgroups(plan.cgroups, readonly=not spec.privileged)
        if proc_sys >= 0:
            step = "write sysctls"
            rootfs.write_sysctls(spec.sysctls, proc_sys)
        step = "close file descriptors"
        close_other_fds(err_w)
        step = "start the process"
        finish_and_exec(plan.process, readonly_root=spec.readonly_rootfs)
    except BaseException as exc:  # noqa: B036 - the child must never unwind into the caller's code
        report_and_exit(err_w, step, exc)


def launch(
    spec: ContainerSpec,
    *,
    stdin: int = -1,
    stdout: int = -1,
    stderr: int = -1,
    console_socket: int = -1,
    console_size: tuple[int, int] = (0, 0),
    before_exec: Callable[[int], None] | None = None,
) -> int:
    """Start the container's PID 1 and return its host PID once its command is exec'd (see module doc).

    With ``console_socket`` (a unix socket, console.py) it gets a terminal made inside the container instead of
    ``stdin``/``stdout``/``stderr`` (``console_size``: its rows and columns, 0 for unknown), and the
    terminal's master is sent on that socket before the exec."""
    plan = _plan_launch(spec)
    devnull = -1
    if console_socket >= 0:  # its stdio until the terminal exists
        devnull = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
        stdin = stdout = stderr = devnull
    net_fd = ipc_fd = pid_fd = uts_fd = -1
    err_r = err_w = go_r = go_w = -1
    pid = 0
    started = False
    try:
        if spec.net_ns_path:
            try:
                net_fd = high_fd(os.open(spec.net_ns_path, os.O_RDONLY | os.O_CLOEXEC))
            except OSError as e:
                raise RuntimeFailure(
                    f"cannot open network namespace {spec.net_ns_path}: {e.strerror}"
                ) from None
        for path, kind in ((spec.ipc_ns_path, "IPC"), (spec.pid_ns_path, "PID"), (spec.uts_ns_path, "UTS")):
            if path:  # --ipc / --pid / --uts container:X
                try:
                    fd = high_fd(os.open(path, os.O_RDONLY | os.O_CLOEXEC))
                except OSError as e:
                    raise RuntimeFailure(f"cannot open {kind} namespace {path}: {e.strerror}") from None
                if kind == "IPC":
                    ipc_fd = fd
                elif kind == "UTS":
                    uts_fd = fd
                else:
                    pid_fd = fd
        err_r, err_w = pipe()
        go_r, go_w = go_channel()

        def fork_container() -> int:
            try:
                child = os.fork()
            except OSError as e:
                raise RuntimeFailure(f"cannot start the container process: {e.strerror}") from None
            if child == 0:  # pragma: no cover - runs in the child, which never leaves here
                try:
                    _container_main(
                        spec,
                        plan,
                        (stdin, stdout, stderr),
                        (console_socket, *console_size),
                        net_fd,
                        err_w,
                        go_r,
                        ipc_fd,
                        uts_fd,
                    )
                finally:
                    os._exit(1)
            return child

        if spec.pid_ns_path:
            with namespaces.children_in_pid_namespace(pid_fd):
                pid = fork_container()
        elif "pid" in spec.namespaces:
            with namespaces.children_in_pid_namespace(None):
                pid = fork_container()
        else:
            pid = fork_container()
        close_all((err_w, go_r, net_fd, ipc_fd, pid_fd, uts_fd))
        err_w = go_r = net_fd = ipc_fd = pid_fd = uts_fd = -1
        cgroup_fds: list[int] = []
        try:
            if before_exec is not None:
                before_exec(pid)
            cgroup_fds = open_cgroup_files(spec.cgroup_join)
        except BaseException:
            kill_and_reap(pid)
            pid = 0
            failure = read_report(err_r)
            if failure is not None:
                raise failure from None
            raise
        try:
            with suppress(BrokenPipeError, ConnectionResetError):
                send_go(go_w, cgroup_fds)
        finally:
            close_all((go_w, *cgroup_fds))
        go_w = -1
        failure = read_report(err_r)
        if failure is not None:
            raise failure
        started = True
        return pid
    finally:
        if pid > 0 and not started:
            kill_and_reap(pid)
        close_all((err_r, err_w, go_r, go_w, net_fd, ipc_fd, pid_fd, uts_fd, devnull))
