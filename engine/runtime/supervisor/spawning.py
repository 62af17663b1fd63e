"""Starting a container's supervisor: detached, and if possible before the container exists.

    pending = PendingSupervisor(root, client_fd)   # forks it: it loads the launcher and warms the kernel
    ... write the container ...                      # meanwhile
    pid = pending.go(cid)                            # it starts the container; its PID 1 once exec'd
    # or pending.cancel() if the container could not be made

The supervisor is forked twice from the caller (no new interpreter: milliseconds; its own session; not the
caller's child, so nothing is left for the caller to reap). A caller with several threads must not fork:
there ``go`` starts ``python -m engine.runtime.supervisor.process ROOT ID STATUS_FD [CLIENT_FD]`` instead
(slower).
"""

from __future__ import annotations

import gc
import os
import select
import sys
import time

from ...errors import CommandNotFound, CommandNotInvokable, RuntimeFailure
from ...lean import jsonio
from ...lean.tools import suppress

_ERROR_KINDS = {"CommandNotFound": CommandNotFound, "CommandNotInvokable": CommandNotInvokable}


class PendingSupervisor:
    """A supervisor waiting for its container: forked at once unless the caller has threads."""

    def __init__(self, root: str, client_fd: int | None = None) -> None:
        from ..trace import trace

        trace("spawn")
        self.root = root
        self.client_fd = client_fd
        self.status_r = self.go_w = -1
        threading = sys.modules.get("threading")  # not imported: no thread was started with it
        self.forked = threading is None or threading.active_count() == 1
        if self.forked:
            self._fork()

    def _fork(self) -> None:
        self.status_r, status_w = os.pipe2(os.O_CLOEXEC)
        go_r, self.go_w = os.pipe2(os.O_CLOEXEC)
        try:
            child = os.fork()
        except OSError as e:
            for fd in (self.status_r, status_w, go_r, self.go_w):
                os.close(fd)
            self.status_r = self.go_w = -1
            raise RuntimeFailure(f"cannot start the container's supervisor: {e.strerror}") from None
        if child == 0:
            try:
                # What the caller made is never freed here: out of the collector's sight, its pages are not
                # written to (and copied) by collections during the supervisor's imports.
                gc.freeze()
                os.close(self.status_r)
                os.close(self.go_w)
                os.setsid()
                if os.fork() != 0:
                    os._exit(0)
                os.chdir("/")
                from .process import become_supervisor

                become_supervisor(self.root, status_w, self.client_fd, go_fd=go_r)
            finally:
                os._exit(1)
        os.close(status_w)
        os.close(go_r)
        with suppress(ChildProcessError):
            os.waitpid(child, 0)  # the intermediate process, gone at once

    def go(self, cid: str, timeout: float = 60.0) -> int:
        """Start container ``cid``; return its PID once its command runs, or raise what the launch hit
        (CommandNotFound, CommandNotInvokable, RuntimeFailure, ...)."""
        if self.forked:
            try:
                os.write(self.go_w, cid.encode() + b"\n")
            except OSError:
                pass  # it is gone: the report below says so
            finally:
                os.close(self.go_w)
                self.go_w = -1
        else:
            self._start_interpreter(cid)
        try:
            return _read_report(self.status_r, timeout)
        finally:
            os.close(self.status_r)
            self.status_r = -1

    def cancel(self) -> None:
        """The container was not made: the supervisor ends without doing anything."""
        for fd in (self.go_w, self.status_r):
            if fd >= 0:
                os.close(fd)
        self.go_w = self.status_r = -1

    def _start_interpreter(self, cid: str) -> None:
        import subprocess

        self.status_r, status_w = os.pipe2(os.O_CLOEXEC)
        fds = [status_w] + ([self.client_fd] if self.client_fd is not None else [])
        args = [sys.executable, "-m", "engine.runtime.supervisor.process", self.root, cid, str(status_w)]
        if self.client_fd is not None:
            args.append(str(self.client_fd))
        subprocess.Popen(
            args,
            pass_fds=fds,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/",
            env={**os.environ, "PYTHONPATH": _project_path()},
        )
        os.close(status_w)


def _read_report(fd: int, timeout: float) -> int:
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    if not data:
        raise RuntimeFailure("the container's supervisor exited before the container started")
    msg = jsonio.loads(data.splitlines()[0])
    if msg.get("ok"):
        return int(msg["pid"])
    cls = _ERROR_KINDS.get(msg.get("kind", ""), RuntimeFailure)
    raise cls(msg.get("error", "failed to start the container"))


def _project_path() -> str:
    """The directory that holds the ``engine`` package."""
    here = os.path.dirname(os.path.abspath(__file__))  # engine/runtime/supervisor
    return os.path.dirname(os.path.dirname(os.path.dirname(here)))
