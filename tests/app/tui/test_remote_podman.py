"""The app over ``--host`` against another Docker-compatible engine: Podman's ``podman system service``. Podman
runs with a root, a run directory, a temporary directory and a configuration of its own in a temporary
directory (nothing of the machine's Podman is touched), its busybox image imported from the tests' rootfs tar
(no pull), its containers on no network. The app lists Podman's containers and images, stops and starts one
from the keyboard (Podman sees it) and follows a container's log."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from app.tui.widgets.containers_table import ContainersTable
from app.tui.widgets.log_view import LogView
from engine import RemoteEngine

from .conftest import make_app, settle, wait_for
from .screen_text import shown_lines

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("podman") is None, reason="podman is not installed (apt-get install podman)"
    ),
]

TALKER = "trap 'exit 0' TERM; i=0; while true; do echo tick $i; echo oops $i >&2; i=$((i+1)); sleep 0.1; done"
LOOP = "trap 'exit 0' TERM; while true; do sleep 0.1; done"
IMAGE = "localhost/busybox:latest"

#: Podman's configuration for these machines (see ../shared/REFERENCE.md): root lacks CAP_SYS_RESOURCE (so
#: modest default ulimits), the cgroup tree is v1 hybrid (runc, not crun), PID 1 is not systemd.
CONF = """[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


@dataclass
class Podman:
    directory: str
    proc: subprocess.Popen[bytes]

    @property
    def socket(self) -> str:
        return os.path.join(self.directory, "podman.sock")

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def env(self) -> dict[str, str]:
        return {**os.environ, "CONTAINERS_CONF": os.path.join(self.directory, "containers.conf")}

    def __call__(self, *args: str, check: bool = True) -> str:
        p = subprocess.run(
            podman_command(self.directory, *args), capture_output=True, text=True, env=self.env(), timeout=60
        )
        if check and p.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} failed ({p.returncode}): {p.stderr}")
        return p.stdout

    def state(self, name: str) -> str:
        return self("inspect", "--format", "{{.State.Status}}", name).strip()


def podman_command(directory: str, *args: str) -> list[str]:
    """``podman`` with its storage, state and networks in ``directory``."""
    return [
        "podman",
        "--root", os.path.join(directory, "root"),
        "--runroot", os.path.join(directory, "run"),
        "--tmpdir", os.path.join(directory, "tmp"),
        "--volumepath", os.path.join(directory, "volumes"),
        "--network-config-dir", os.path.join(directory, "networks"),
        *args,
    ]  # fmt: skip


def _answers(sock: str) -> bool:
    import socket

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(sock)
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
        return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False
    finally:
        s.close()


def _end_processes_of(directory: str) -> None:
    """Podman's helpers still running for ``directory`` (an exec session's conmon outlives its container's
    removal), each ended by its PID."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if (directory + "/").encode() not in f.read():
                    continue
            os.kill(int(pid), signal.SIGKILL)
        except OSError:
            continue


def _unmount_under(directory: str) -> None:
    """What Podman left mounted in ``directory`` (its storage's own bind mount), deepest first."""
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    for point in sorted((p for p in points if p.startswith(directory + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


@pytest.fixture(scope="module")
def podman(busybox_tar: str) -> Iterator[Podman]:
    """Podman's service on a socket of its own temporary directory, with busybox imported; at the end its
    containers and images are removed, the service stopped (by its PID) and the directory removed."""
    directory = tempfile.mkdtemp(prefix="dockyard-podman-")
    with open(os.path.join(directory, "containers.conf"), "w") as f:
        f.write(CONF)
    proc: subprocess.Popen[bytes] | None = None
    p = None
    try:
        env = {**os.environ, "CONTAINERS_CONF": os.path.join(directory, "containers.conf")}
        subprocess.run(
            podman_command(directory, "import", "-q", "-c", 'CMD ["sh"]', busybox_tar, IMAGE),
            check=True, capture_output=True, env=env, timeout=60,
        )  # fmt: skip
        proc = subprocess.Popen(
            podman_command(directory, "system", "service", "--time", "0", f"unix://{directory}/podman.sock"),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        p = Podman(directory, proc)
        deadline = time.monotonic() + 20
        while not _answers(p.socket):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("podman system service did not start")
            time.sleep(0.05)
        yield p
    finally:
        if p is not None:
            p("rm", "-af", "-t", "0", check=False)
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if p is not None:
            p("rmi", "-af", check=False)
        _end_processes_of(directory)
        _unmount_under(directory)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def pod(podman: Podman) -> Iterator[Podman]:
    """The service, with every container the test made removed afterwards."""
    yield podman
    podman("rm", "-af", "-t", "0", check=False)


def _select(app, cid: str) -> None:
    table = app.main.query_one(ContainersTable)
    table.move_cursor(row=table.get_row_index(cid))
    table.focus()


@pytest.mark.asyncio
async def test_the_app_lists_podmans_containers_and_images_and_stops_and_starts_one(pod, config):
    looping = pod("run", "-d", "--network", "none", "--name", "pod-loop", IMAGE, "sh", "-c", LOOP).strip()
    made = pod("create", "--network", "none", "--name", "pod-made", IMAGE, "true").strip()
    image_id = pod("images", "--no-trunc", "--format", "{{.ID}}", IMAGE).strip()
    app = make_app(RemoteEngine(pod.url), config)  # type: ignore[arg-type]
    async with app.run_test(size=(140, 36)) as pilot:
        await settle(pilot)
        listed = {c.name: c for c in app.snapshot.containers}
        assert set(listed) == {"pod-loop", "pod-made"}
        assert (listed["pod-loop"].id, listed["pod-loop"].status) == (looping, "running")
        assert (listed["pod-made"].id, listed["pod-made"].status) == (made, "created")
        assert listed["pod-loop"].command == ["sh", "-c", LOOP] and listed["pod-loop"].image == IMAGE
        assert re.match(r"\d{4}-\d\d-\d\dT", listed["pod-loop"].started_at)
        assert [im.tags for im in app.snapshot.images] == [[IMAGE]]
        assert app.snapshot.images[0].id.removeprefix("sha256:") == image_id.removeprefix("sha256:")
        assert app.snapshot.images[0].layers[0].size > 1_000_000  # the rootfs, sized from the history
        # what the table shows: each container's name, state and image
        # (the IMAGE column may be cut short while STATUS reads "Up Less than a second")
        assert shown_lines(app, "pod-loop", "Up ", "localhost/")
        assert shown_lines(app, "pod-made", "Created", "localhost/")
        assert shown_lines(app, "localhost/busybox", image_id.removeprefix("sha256:")[:12], "2.14MB")
        # stop and start from the keyboard: Podman sees it, and the list follows (Podman's events)
        _select(app, looping)
        await pilot.press("x")
        await wait_for(pilot, lambda: pod.state("pod-loop") == "exited", what="podman to see the stop")
        await wait_for(pilot, lambda: app.main.containers.current.status == "exited", what="the list")
        assert pod("inspect", "--format", "{{.State.ExitCode}}", "pod-loop").strip() == "0"  # TERM trapped
        await pilot.press("s")
        await wait_for(pilot, lambda: pod.state("pod-loop") == "running", what="podman to see the start")
        await wait_for(pilot, lambda: app.main.containers.current.status == "running", what="the list")
        # a container Podman's own CLI starts shows up (the event feed)
        third = pod("run", "-d", "--network", "none", "--name", "pod-third", IMAGE, "sh", "-c", LOOP).strip()
        await wait_for(pilot, lambda: any(c.id == third for c in app.snapshot.containers), what="pod-third")
        assert app.root_label == pod.url


@pytest.mark.asyncio
async def test_the_app_follows_a_podman_containers_log(pod, config):
    cid = pod("run", "-d", "--network", "none", "--name", "pod-talker", IMAGE, "sh", "-c", TALKER).strip()
    app = make_app(RemoteEngine(pod.url), config)  # type: ignore[arg-type]
    async with app.run_test(size=(140, 36)) as pilot:
        await settle(pilot)
        _select(app, cid)
        await pilot.press("l")
        view = app.main.query_one(LogView)
        await wait_for(pilot, lambda: view.line_count >= 6, what="the first lines")
        first = view.line_count
        await wait_for(pilot, lambda: view.line_count >= first + 6, what="more lines as they come")
        assert view.follow
        lines = [view.get_line(i) for i in range(view.line_count)]
        out = [x.text for x in lines if x.stream == "stdout"]
        err = [x.text for x in lines if x.stream == "stderr"]
        assert out[:3] == ["tick 0", "tick 1", "tick 2"] and err[:3] == ["oops 0", "oops 1", "oops 2"]
        assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", x.time) for x in lines)
        # what Podman keeps is what the app shows
        kept = pod("logs", "pod-talker").splitlines()
        assert kept[:3] == ["tick 0", "tick 1", "tick 2"]


def test_top_a_shell_and_a_restart_through_podman(pod):
    """Podman's answers where they differ from Docker's: ``top`` comes back as busybox ``ps`` printed it (one
    column), a shell's terminal size is not taken from the exec's start; and a restart is seen by the next
    list although the list's summary hardly changes."""
    pod("run", "-d", "--network", "none", "--name", "pod-top", IMAGE, "sh", "-c", LOOP)
    remote = RemoteEngine(pod.url)
    top = remote.containers.top("pod-top")
    assert top.titles == ("PID", "USER", "COMMAND")
    assert ("1", "root", f"sh -c {LOOP}") in top.processes
    pty = remote.containers.exec_pty("pod-top", ["sh"], rows=10, cols=33)
    os.write(pty.master, b"stty size; exit 7\n")
    out = b""
    while chunk := os.read(pty.master, 4096):
        out += chunk
    assert b"10 33" in out
    assert pty.wait() == 7
    pty.close()
    before = {c.name: c for c in remote.containers.list(all=True)}["pod-top"]
    remote.containers.restart("pod-top", timeout=1)
    after = {c.name: c for c in remote.containers.list(all=True)}["pod-top"]
    assert after.pid != before.pid and after.started_at > before.started_at
    assert after.pid == int(pod("inspect", "--format", "{{.State.Pid}}", "pod-top"))
