"""The per-container supervisor (like conmon): one small detached process for each running container.

It starts the container's PID 1, holds its stdio (pipes or the pty master), writes the json-file log,
serves the attach socket, records the exit status (128+signal), OOM kills and times, applies the restart
policy, and tears down the cgroup when the container ends. It is detached from its caller (double fork,
own session), so containers outlive the CLI or the app that started them.

spawn.py starts it and supervise.py runs it (from the fork to the end of its container).
"""

from __future__ import annotations

import _thread
import errno
import fcntl
import os
import select
import sys
import time

from ..errors import DockyardError, RuntimeFailure
from ..humanize import rfc3339
from ..kernel.procinfo import boot_id, start_time
from ..lean import jsonio
from ..lean.tools import suppress
from ..model.config import ContainerConfig, ContainerState
from ..paths import Layout
from ..store.containers import ContainerStore
from . import attachproto as ap
from . import console
from .logfile import LogWriter
from .trace import trace

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal
    import socket
    from collections.abc import Callable
    from threading import Thread
    from typing import Any

    from .cgroups import ContainerCgroup
else:
    # For start-up speed, the C modules: signal.py and socket.py load enum, functools and selectors.
    import _signal as signal
    import _socket as socket


def _report(fd: int, msg: dict[str, Any]) -> None:
    with suppress(OSError):
        os.write(fd, jsonio.dumps(msg).encode() + b"\n")
        os.close(fd)


def _exit_status(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


class _Poller:
    """Waits for input on descriptors, each registered with a value of the caller's: what the loop needs of
    ``selectors.DefaultSelector``, on epoll itself (for start-up speed: selectors loads collections)."""

    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._data: dict[int, Any] = {}

    def register(self, fd: int | socket.socket, data: Any) -> None:
        fd = fd if isinstance(fd, int) else fd.fileno()
        if fd in self._data:
            raise KeyError(f"descriptor {fd} is already registered")
        self._epoll.register(fd, select.EPOLLIN)
        self._data[fd] = data

    def unregister(self, fd: int | socket.socket) -> None:
        """Stop watching ``fd`` (KeyError if it was not registered)."""
        fd = fd if isinstance(fd, int) else fd.fileno()
        del self._data[fd]
        with suppress(OSError):
            self._epoll.unregister(fd)

    def select(self, timeout: float) -> list[tuple[int, Any]]:
        """(fd, value) of each descriptor with input or at end of stream; waits up to ``timeout`` seconds."""
        ready = self._epoll.poll(max(timeout, 0.0), max(len(self._data), 1))
        return [(fd, self._data[fd]) for fd, _events in ready if fd in self._data]


class _Background:
    """``fn(*args)`` in a thread of its own; ``join()`` waits until it has returned. (On ``_thread``: the
    threading module loads functools and collections, milliseconds of every start.)"""

    def __init__(self, fn: Callable[..., object], *args: object) -> None:
        self._running = _thread.allocate_lock()
        self._running.acquire()
        _thread.start_new_thread(self._run, (fn, args))

    def _run(self, fn: Callable[..., object], args: tuple[object, ...]) -> None:
        try:
            fn(*args)
        finally:
            self._running.release()

    def join(self) -> None:
        with self._running:
            pass


class _Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.decoder = ap.Decoder()

    def send(self, data: bytes) -> bool:
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False


class Supervisor:
    def __init__(self, root: str, cid: str, status_fd: int, client_fd: int | None) -> None:
        self.layout = Layout(root)
        self.store = ContainerStore(self.layout)
        self.cid = cid
        self.cdir = self.store.path(cid)
        self.status_fd = status_fd
        self.cfg: ContainerConfig = self.store.config(cid)
        self.sel = _Poller()
        self.clients: list[_Client] = []
        self.pending_client = client_fd
        self.pid = 0
        self.outputs: dict[int, str] = {}  # fd -> stream name
        self.stdin_w: int | None = None
        self.master: int | None = None
        self.cgroup: Any = None
        self.log: LogWriter | None = None
        self.health: Any = None
        self.cgroup_setup: _Background | None = None
        self.cgroup_files: list[str] = []
        self.cgroup_error: BaseException | None = None

    # -- state -------------------------------------------------------------------------
    def update_state(self, **changes: Any) -> ContainerState:
        with self.store.lock(self.cid):
            st = self.store.state(self.cid)
            for k, v in changes.items():
                setattr(st, k, v)
            self.store.save_state(self.cid, st)
            return st

    # -- stdio ---------------------------------------------------------------------------
    def _stdio(self) -> tuple[int, int, int]:
        """PID 1's stdin, stdout and stderr; with a terminal, (-1, -1, -1): it makes its own (see launch)."""
        if self.cfg.tty:
            return -1, -1, -1
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        for fd in (out_r, err_r):
            os.set_blocking(fd, False)
        self.outputs = {out_r: "stdout", err_r: "stderr"}
        if self.cfg.open_stdin:
            in_r, in_w = os.pipe2(os.O_CLOEXEC)
            self.stdin_w = in_w
            return in_r, out_w, err_w
        devnull = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        return devnull, out_w, err_w

    # -- launching -------------------------------------------------------------------------
    def _make_cgroup(self, located: ContainerCgroup, parent: str, after: Thread | None) -> None:
        """Warm the kernel's cgroup migration lock (once ``after``, an earlier warming, is done: within
        ~10 ms of one this costs nothing), then create the container's cgroup (at ``located``, removing a
        leftover there first) with its limits."""
        from .cgroups import ContainerCgroup, Limits, warm_up_migration

        try:
            if after is not None:
                after.join()
            warm_up_migration()
            limits = Limits(
                memory=self.cfg.memory,
                memory_swap=self.cfg.memory_swap,
                cpus=self.cfg.cpus,
                cpu_shares=self.cfg.cpu_shares,
                pids=self.cfg.pids_limit,
            )
            with suppress(DockyardError):
                located.destroy()
            for attempt in range(3):  # the root's parent may be removed under us by a last ``rm``: retry
                try:
                    self.cgroup = ContainerCgroup.create(self.cid, limits, parent)
                    break
                except (FileNotFoundError, RuntimeFailure):
                    if attempt == 2:
                        raise
        except BaseException as e:  # noqa: B036 - handed to the main thread, which raises it
            self.cgroup_error = e

    def begin_cgroup(self, after: Thread | None = None) -> None:
        """Make the cgroup in a thread while the main thread prepares the spec and PID 1 its root.

        A directory per hierarchy, and on cgroup v2 the first migration-lock wait (an RCU grace period:
        5-20 ms here), would otherwise come one after the other in the container's start.
        """
        from .cgroups import ContainerCgroup, parent_for_root  # here: the thread would wait for the GIL

        # The paths are known before the directories exist: PID 1 is told them now, joins once they do.
        parent = parent_for_root(self.layout.root)
        located = ContainerCgroup.open(self.cid, parent, must_exist=False)
        self.cgroup_files = located.join_files()
        sys.setswitchinterval(0.0005)
        self.cgroup_error = None
        self.cgroup_setup = _Background(self._make_cgroup, located, parent, after)

    def _await_cgroup(self) -> None:
        """Wait for the thread; raise what it hit."""
        if self.cgroup_setup is not None:
            self.cgroup_setup.join()
            self.cgroup_setup = None
            sys.setswitchinterval(0.005)
        if self.cgroup_error is not None:
            raise self.cgroup_error

    def launch(self) -> None:
        """Start PID 1. The cgroup is made in a thread meanwhile (``begin_cgroup``); the new process sets up
        its root filesystem while that finishes, and is put in the cgroup before it may exec."""
        if self.cgroup_setup is None:  # restarts (the first start begins it as the supervisor starts)
            self.begin_cgroup()
        stdio: tuple[int, int, int] = (-1, -1, -1)
        terminal = (-1, -1)
        try:
            from .launch import launch
            from .nethooks import preload, setup, uses_network
            from .prepare import prepare_spec

            networked = uses_network(self.cfg.network_mode)
            if networked:
                preload()  # now, while the cgroup is being made

            trace("imports done")
            spec = prepare_spec(self.layout, self.cfg)
            spec.cgroup_join = self.cgroup_files
            trace("spec prepared")

            def before_exec(pid: int) -> None:
                self._await_cgroup()  # then PID 1 joins it itself (spec.cgroup_join)
                trace("cgroup created")
                if networked:
                    setup(self.layout, self.cfg, pid)

            stdio = self._stdio()
            terminal = console.socketpair() if self.cfg.tty else (-1, -1)
            self.pid = launch(
                spec,
                stdin=stdio[0],
                stdout=stdio[1],
                stderr=stdio[2],
                console_socket=terminal[1],
                console_size=(self.cfg.console_size[0], self.cfg.console_size[1]),
                before_exec=before_exec,
            )
            if self.cfg.tty:
                master = console.receive(terminal[0])
                os.set_blocking(master, False)
                self.master = master
                self.outputs = {master: "stdout"}
        except BaseException:
            with suppress(BaseException):
                self._await_cgroup()  # joined before the caller tears down; the first error is the one to tell
            if self.cgroup is not None:
                self.cgroup.destroy()
                self.cgroup = None
            raise
        finally:
            for fd in {*stdio, *terminal} - {-1}:
                os.close(fd)
        trace("launched")
        for fd in self.outputs:
            self.sel.register(fd, "out")

    # -- the loop ----------------------------------------------------------------------------
    def _add_client(self, sock: socket.socket) -> None:
        sock.setblocking(True)
        c = _Client(sock)
        self.clients.append(c)
        self.sel.register(sock, c)

    def _drop_client(self, c: _Client) -> None:
        with suppress(KeyError, ValueError):
            self.sel.unregister(c.sock)
        with suppress(ValueError):
            self.clients.remove(c)
        c.sock.close()

    def _broadcast(self, kind: int, data: bytes) -> None:
        msg = ap.frame(kind, data)
        for c in list(self.clients):
            if not c.send(msg):
                self._drop_client(c)

    def _on_output(self, fd: int) -> bool:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return True
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            data = b""
        if not data:
            with suppress(KeyError, ValueError):
                self.sel.unregister(fd)
            os.close(fd)
            del self.outputs[fd]
            if self.master == fd:
                self.master = None
            return False
        stream = self.outputs[fd]
        assert self.log is not None
        self.log.write(stream, data)
        self._broadcast(ap.STDOUT if stream == "stdout" else ap.STDERR, data)
        return True

    def _on_client(self, c: _Client) -> None:
        try:
            data = c.sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._drop_client(c)
            return
        for kind, payload in c.decoder.feed(data):
            if kind == ap.STDIN:
                target = self.master if self.cfg.tty else self.stdin_w
                if target is not None:
                    with suppress(OSError):
                        os.write(target, payload)
            elif kind == ap.STDIN_EOF:
                if self.stdin_w is not None:  # the client's input ended: so does the container's
                    os.close(self.stdin_w)
                    self.stdin_w = None
            elif kind == ap.RESIZE and self.master is not None:
                rows, cols = ap.parse_resize(payload)
                import struct

                with suppress(OSError):
                    fcntl.ioctl(self.master, console.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def _reap(self) -> int | None:
        """Reap children; the container's exit status once PID 1 is gone."""
        result = None
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid == self.pid:
                result = _exit_status(status)
            elif self.health is not None and self.health.probe is not None and pid == self.health.probe.pid:
                self._health_done(_exit_status(status))
        return result

    # -- health checks ---------------------------------------------------------------------
    def _health_setup(self) -> None:
        self.health = None
        hc = self.cfg.healthcheck
        if hc:
            from .health import HealthChecker

            checker = HealthChecker(hc)
            if checker.enabled:
                self.health = checker
                self.update_state(health="starting", health_failing_streak=0, health_log=[])

    def _health_tick(self) -> None:
        h = self.health
        if h is None:
            return
        if h.probe is not None:
            if h.timed_out():
                h.kill_probe()
            return
        if h.due_in() > 0:
            return
        from .exec import probe_process

        process, procs = probe_process(self.layout, self.cfg, h.argv or [])
        fd = h.start_probe(self.pid, process, procs)
        if fd is None:
            self._health_record(-1)
            return
        self.sel.register(fd, "health")

    def _health_done(self, code: int) -> None:
        h = self.health
        if h is None or h.probe is None:
            return
        with suppress(KeyError, ValueError):
            self.sel.unregister(h.probe.out_fd)
        self._health_record(code)

    def _health_record(self, code: int) -> None:
        h = self.health
        assert h is not None
        with self.store.lock(self.cid):
            st = self.store.state(self.cid)
            if h.probe is not None:
                h.finish(code, st)
            else:
                st.health_failing_streak += 1
                h.next_run = time.monotonic() + h.interval
                if st.health_failing_streak >= h.retries:
                    st.health = "unhealthy"
            self.store.save_state(self.cid, st)
        from ..store.eventlog import emit

        with suppress(Exception):
            emit(self.layout, "container", "health_status", self.cid, {"status": st.health})

    def serve_until_exit(self) -> int:
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.sel.register(wake_r, "wake")
        code = self._reap()
        self._health_setup()
        while code is None:
            timeout = 1.0 if self.health is None else min(1.0, self.health.due_in())
            for fd, what in self.sel.select(timeout):
                if what == "health":
                    if self.health is not None:
                        self.health.read_output()
                    continue
                if what == "wake":
                    with suppress(BlockingIOError):
                        os.read(wake_r, 512)
                elif what == "out":
                    self._on_output(fd)
                elif what == "listen":
                    with suppress(OSError):
                        self._add_client(ap.accept(self.listener))
                else:
                    self._on_client(what)
            code = self._reap()
            if code is None:
                self._health_tick()
        if self.health is not None and self.health.probe is not None:
            with suppress(KeyError, ValueError):
                self.sel.unregister(self.health.probe.out_fd)
            os.close(self.health.probe.out_fd)
            self.health.probe = None
        # PID 1 is gone: the pid namespace is torn down; drain what is left of the output.
        deadline = time.monotonic() + 1.0
        while self.outputs and time.monotonic() < deadline:
            for fd, what in self.sel.select(0.1):
                if what == "out":
                    self._on_output(fd)
        for fd in list(self.outputs):
            with suppress(KeyError, ValueError):
                self.sel.unregister(fd)
            os.close(fd)
        self.outputs = {}
        self.master = None
        if self.stdin_w is not None:
            os.close(self.stdin_w)
            self.stdin_w = None
        self.sel.unregister(wake_r)
        signal.set_wakeup_fd(-1)
        os.close(wake_r)
        os.close(wake_w)
        return code

    def teardown(self) -> bool:
        from .nethooks import teardown

        with suppress(Exception):
            teardown(self.layout, self.cfg)
        oom = False
        if self.cgroup is not None:
            with suppress(Exception):
                oom = self.cgroup.oom_killed()
            with suppress(Exception):
                self.cgroup.destroy()
            self.cgroup = None
        return oom

    def should_restart(self, code: int, st: ContainerState) -> bool:
        pol = self.cfg.restart_policy
        if st.stop_requested or pol.name in ("", "no"):
            return False
        if pol.name == "on-failure":
            return code != 0 and (pol.max_retries <= 0 or st.restart_count < pol.max_retries)
        return pol.name in ("always", "unless-stopped")

    def run(self) -> None:
        self.log = LogWriter(self.store.log_path(self.cid))
        self.listener = ap.listen(self.cdir)
        self.sel.register(self.listener, "listen")
        if self.pending_client is not None:
            self._add_client(socket.socket(fileno=self.pending_client))
        reported = False
        backoff = 0.1
        while True:
            try:
                self.launch()
            except BaseException as e:
                self.teardown()
                kind = type(e).__name__
                msg = str(e) if isinstance(e, DockyardError) else f"{kind}: {e}"
                code = getattr(e, "exit_code", 125)
                if reported:  # a restart failed: the container has exited
                    self.update_state(
                        status="exited", error=msg, exit_code=code, pid=0, finished_at=rfc3339(time.time())
                    )
                else:  # the first start failed: it stays created (as in Docker), the caller gets the error
                    self.update_state(status="created", error=msg, exit_code=0, pid=0, finished_at="")
                    _report(self.status_fd, {"ok": False, "kind": kind, "error": msg})
                self._finish(code)
                return
            st = self.update_state(
                status="running",
                pid=self.pid,
                pid_start=start_time(self.pid),
                shim_pid=os.getpid(),
                shim_start=start_time(os.getpid()),
                boot_id=boot_id(),
                started_at=rfc3339(time.time()),
                finished_at="",
                exit_code=0,
                oom_killed=False,
                error="",
            )
            if not reported:
                _report(self.status_fd, {"ok": True, "pid": self.pid})
                trace("reported")
                reported = True
            t0 = time.monotonic()
            code = self.serve_until_exit()
            trace("exited")
            oom = self.teardown()
            trace("torn down")
            with self.store.lock(self.cid):
                st = self.store.state(self.cid)
                restart = self.should_restart(code, st)
                st.status = "restarting" if restart else "exited"
                st.exit_code = code
                st.oom_killed = oom
                st.pid = 0
                st.finished_at = rfc3339(time.time())
                if restart:
                    st.restart_count += 1
                self.store.save_state(self.cid, st)
            if not restart:
                self._finish(code)
                return
            self.log.flush()
            if time.monotonic() - t0 > 10:
                backoff = 0.1
            time.sleep(backoff)
            backoff = min(backoff * 2, 60.0)
            with self.store.lock(self.cid):
                if self.store.state(self.cid).stop_requested:
                    st = self.store.state(self.cid)
                    st.status = "exited"
                    self.store.save_state(self.cid, st)
                    self._finish(code)
                    return

    def _finish(self, code: int) -> None:
        trace("finishing")
        if self.log is not None:
            self.log.close()
            self.log = None
        with suppress(OSError):
            os.unlink(os.path.join(self.cdir, ap.SOCKET_NAME))
        from ..store.eventlog import emit

        with suppress(Exception):
            emit(self.layout, "container", "die", self.cid, {"exitCode": code})
        dead = None
        if self.cfg.auto_remove:
            from .remove import retire

            with suppress(Exception):
                dead = retire(self.layout, self.cid)
        trace("removed" if self.cfg.auto_remove else "final state")
        self._broadcast(ap.EXIT, str(code).encode())
        for c in list(self.clients):
            self._drop_client(c)
        self.listener.close()
        if dead is not None:  # out of every listing already: its files go after the caller has the exit code
            from ..store.tmp import remove_tree

            with suppress(OSError):
                remove_tree(dead)
