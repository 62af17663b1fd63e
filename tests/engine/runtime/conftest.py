"""Fixtures for real containers: a busybox lower layer, per-test container directories, and a runner that
kills and reaps everything it started, whatever the test's outcome."""

from __future__ import annotations

import errno
import os
import select
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from engine.runtime.launch import launch
from engine.runtime.spec import ContainerSpec, ProcessSpec

PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces, overlayfs, mounts)")


def _static_busybox() -> str | None:
    for path in ("/bin/busybox", "/usr/bin/busybox"):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                head = f.read(1 << 16)
            if b"ld-linux" not in head and b"ld-musl" not in head:
                return path
    return None


@pytest.fixture(scope="session")
def busybox_lower(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A read-only image layer: static busybox with its applets, /etc/passwd and /etc/group."""
    busybox = _static_busybox()
    if busybox is None:
        pytest.skip("needs a static busybox (Debian: apt-get install busybox-static)")
    lower = tmp_path_factory.mktemp("busybox-layer")
    (lower / "bin").mkdir()
    shutil.copy2(busybox, lower / "bin" / "busybox")
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            os.symlink("busybox", lower / "bin" / applet)
    etc = lower / "etc"
    etc.mkdir()
    (etc / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\n"
        "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
        "app:x:1000:1000:app user:/home/app:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
    )
    (etc / "group").write_text(
        "root:x:0:\ndaemon:x:1:\nwheel:x:10:root,app\nstaff:x:50:app\napp:x:1000:\nnogroup:x:65534:\n"
    )
    for d in ("proc", "sys", "dev", "tmp", "root", "home/app"):
        (lower / d).mkdir(parents=True)
    return str(lower)


class Runner:
    """Starts containers on one overlay (upper/work/rootfs under the test's tmp dir) and reaps them all."""

    def __init__(self, base: str, lower: str) -> None:
        self.base = base
        self.lower = lower
        self.upper = os.path.join(base, "upper")
        self.work = os.path.join(base, "work")
        self.rootfs = os.path.join(base, "rootfs")
        for d in (self.upper, self.work, self.rootfs):
            os.makedirs(d, exist_ok=True)
        self.pids: list[int] = []
        self._devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)

    def spec(self, args: list[str], *, process: dict[str, Any] | None = None, **kw: Any) -> ContainerSpec:
        proc = ProcessSpec(args=args, env=[PATH], **(process or {}))
        kw.setdefault("hostname", "box")
        return ContainerSpec(
            id="c0ffee",
            process=proc,
            lower_dirs=[self.lower],
            upper_dir=self.upper,
            work_dir=self.work,
            rootfs=self.rootfs,
            **kw,
        )

    def start(self, spec: ContainerSpec, **kw: Any) -> tuple[int, int]:
        """Launch with stdout+stderr on a pipe; return (pid, read end)."""
        r, w = os.pipe()
        try:
            pid = launch(spec, stdin=self._devnull, stdout=w, stderr=w, **kw)
        except BaseException:
            os.close(r)
            raise
        finally:
            os.close(w)
        self.pids.append(pid)
        return pid, r

    def track(self, pid: int) -> None:
        self.pids.append(pid)

    def collect(self, pid: int, r: int, timeout: float = 20) -> tuple[int, str]:
        """Read the output to EOF, reap ``pid``; return (exit code, output)."""
        out = read_all(r, timeout)
        return self.wait(pid, timeout), out

    def wait(self, pid: int, timeout: float = 20) -> int:
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                self.pids.remove(pid)
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > deadline:
                raise AssertionError(f"process {pid} did not exit")
            time.sleep(0.005)

    def run(self, args: list[str], **kw: Any) -> tuple[int, str]:
        launch_kw = {k: kw.pop(k) for k in ("before_exec",) if k in kw}
        pid, r = self.start(self.spec(args, **kw), **launch_kw)
        return self.collect(pid, r)

    def sh(self, script: str, **kw: Any) -> tuple[int, str]:
        return self.run(["sh", "-c", script], **kw)

    def close(self) -> None:
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self.pids.clear()
        os.close(self._devnull)


def read_all(fd: int, timeout: float = 20) -> str:
    """Everything until end of file (for a terminal's master: until its other end is gone); closes ``fd``."""
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no EOF on the container's output")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError as e:
                if e.errno != errno.EIO:  # EIO: a terminal's master once no process holds the terminal
                    raise
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode(errors="replace")


def host_mounts_under(path: str) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if path in line]


def children() -> set[int]:
    """PIDs of this process's children, zombies included (from /proc, without reaping anything)."""
    pids: set[int] = set()
    for tid in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{tid}/children") as f:
            pids.update(int(p) for p in f.read().split())
    return pids


@pytest.fixture
def runner(tmp_path: Any, busybox_lower: str) -> Iterator[Runner]:
    if os.geteuid() != 0:
        pytest.skip("needs root (namespaces, overlayfs, mounts)")
    r = Runner(str(tmp_path / "ctr"), busybox_lower)
    try:
        yield r
    finally:
        r.close()
        # launch must leave the calling thread's PID namespace for children as it found it
        assert os.readlink("/proc/thread-self/ns/pid_for_children") == os.readlink("/proc/thread-self/ns/pid")
        assert host_mounts_under(r.base) == [], "a container mount leaked into the host's namespace"


@pytest.fixture
def memory_cgroup() -> Iterator[str]:
    """A memory cgroup of the test's own, below the test process's memory cgroup (v1)."""
    with open("/proc/self/cgroup") as f:
        own = {line.split(":")[1]: line.strip().split(":", 2)[2] for line in f}
    base = "/sys/fs/cgroup/memory"
    if "memory" not in own or not os.path.isdir(base):
        pytest.skip("needs the cgroup v1 memory hierarchy")
    path = os.path.join(base + own["memory"], f"dockyard-rt-{uuid.uuid4().hex[:8]}")
    os.mkdir(path)
    try:
        yield path
    finally:
        os.rmdir(path)
