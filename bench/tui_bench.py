"""How the app feels, measured from outside: the real ``dockyard`` runs in tmux, keys go in with send-keys
and the screen is read with capture-pane (so the figures include start-up, drawing and the terminal).

    .venv/bin/python bench/tui_bench.py [first-paint] [key-latency] [log-open] [idle-cpu]

- first paint: 200 containers (created, not started) and 50 images; time from launch until the lists are
  on screen. Goal < 1.5 s.
- key latency during a flood: one container writes ~50,000 lines a second while its Logs tab follows;
  time from a key press to the screen showing its effect (``f`` pausing and resuming the follow, which the
  status line shows). Goal < 100 ms.
- log open: a container whose log has 1,000,000 lines; time from pressing ``l`` to the status line saying
  the lines are indexed (and the last ones shown). Goal < 1 s.
- idle CPU: the app over 60 s with two idle running containers, CPU time of its process. Goal < 1 %.

Each scenario builds its own engine root under /tmp and removes it (and its containers) at the end.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator

import psutil

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from engine import CreateOptions, Engine  # noqa: E402

DOCKYARD = os.path.join(os.path.dirname(sys.executable), "dockyard")
GOALS = {
    "first paint": (1.5, "s"),
    "key latency (median)": (0.1, "s"),
    "key latency (p95)": (0.1, "s"),
    "log open (1M lines)": (1.0, "s"),
    "idle CPU": (1.0, "%"),
}


# -- tmux -------------------------------------------------------------------------------------------------
class Tmux:
    def __init__(self, root: str, width: int = 140, height: int = 40) -> None:
        self.name = f"dockyard-bench-{uuid.uuid4().hex[:8]}"
        self.root = root
        self.size = (width, height)
        self.started = 0.0

    def start(self) -> None:
        config = os.path.join(self.root, "bench-config.toml")
        cmd = f"env DOCKYARD_CONFIG={config} TERM=xterm-256color {DOCKYARD} --root {self.root}"
        self.started = time.perf_counter()
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                str(self.size[0]),
                "-y",
                str(self.size[1]),
                cmd,
            ],
            check=True,
        )

    def screen(self) -> str:
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        ).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def wait(self, test: Callable[[str], bool], timeout: float = 30.0, poll: float = 0.005) -> float:
        """Seconds until ``test(screen)`` holds."""
        t0 = time.perf_counter()
        while True:
            if test(self.screen()):
                return time.perf_counter() - t0
            if time.perf_counter() - t0 > timeout:
                raise SystemExit(f"timed out; screen:\n{self.screen()}")
            time.sleep(poll)

    def pid(self) -> int:
        out = subprocess.run(
            ["tmux", "list-panes", "-t", self.name, "-F", "#{pane_pid}"], capture_output=True, text=True
        ).stdout.split()
        pid = int(out[0])
        proc = psutil.Process(pid)
        for p in [proc, *proc.children(recursive=True)]:  # env execs python: the pane's process is the app
            if "python" in " ".join(p.cmdline()[:1]) or "dockyard" in " ".join(p.cmdline()):
                return p.pid
        return pid

    def stop(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def _discard(root: str) -> None:
    from bench.common import discard_root

    discard_root(root)


@contextlib.contextmanager
def engine_root() -> Iterator[Engine]:
    root = tempfile.mkdtemp(prefix="dockyard-tui-bench-")
    eng = Engine(root)
    try:
        eng.images.bootstrap("busybox")
        yield eng
    finally:
        for c in eng.containers.list(all=True):
            with contextlib.suppress(Exception):
                eng.containers.remove(c.id, force=True)
        _discard(root)


@contextlib.contextmanager
def app(eng: Engine) -> Iterator[Tmux]:
    t = Tmux(eng.root)
    try:
        t.start()
        yield t
    finally:
        t.stop()


def _run(eng: Engine, name: str, script: str) -> str:
    c = eng.containers.run("busybox", CreateOptions(name=name, command=["sh", "-c", script], network="none"))
    return c.id


def _tiny_layer(i: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = f"image {i}\n".encode()
        info = tarfile.TarInfo(f"etc/marker-{i}")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


# -- scenarios ----------------------------------------------------------------------------------------------
def first_paint() -> dict[str, float]:
    with engine_root() as eng:
        for i in range(49):
            eng.images.import_(io.BytesIO(_tiny_layer(i)), f"bench/img{i}:latest")
        for i in range(200):
            eng.containers.create(
                "busybox", CreateOptions(name=f"c{i:03d}", command=["true"], network="none")
            )
        samples = []
        for _ in range(3):
            with app(eng) as t:
                t.wait(lambda s: "200 containers" in s and "c199" in s and "bench/img" in s, timeout=30)
                samples.append(time.perf_counter() - t.started)
        return {"first paint": statistics.median(samples)}


def key_latency() -> dict[str, float]:
    flood = "trap 'exit 0' TERM; while true; do seq 1 5000; sleep 0.1; done"
    with engine_root() as eng:
        cid = _run(eng, "flood", flood)
        time.sleep(1.0)
        with app(eng) as t:
            t.wait(lambda s: "flood" in s)
            t.keys("l")
            t.wait(lambda s: "following" in s)
            time.sleep(1.0)
            samples = []
            for _ in range(15):  # f pauses and resumes following: the status line says which
                t0 = time.perf_counter()
                t.keys("f")
                t.wait(lambda s: "· paused" in s, timeout=10)
                samples.append(time.perf_counter() - t0)
                time.sleep(0.2)
                t0 = time.perf_counter()
                t.keys("f")
                t.wait(lambda s: "· following" in s, timeout=10)
                samples.append(time.perf_counter() - t0)
                time.sleep(0.2)
            lines = eng.containers.inspect(cid)["LogPath"]
            rate_note = os.path.getsize(lines)
        samples.sort()
        out = {
            "key latency (median)": statistics.median(samples),
            "key latency (p95)": samples[int(len(samples) * 0.95) - 1],
        }
        print(f"  (flood log grew to {rate_note / 1e6:.0f} MB during the run)")
        return out


def log_open() -> dict[str, float]:
    with engine_root() as eng:
        cid = _run(eng, "million", "seq 1 1000000")
        eng.containers.wait(cid)
        with app(eng) as t:
            t.wait(lambda s: "million" in s)
            time.sleep(1.0)
            t0 = time.perf_counter()
            t.keys("l")
            t.wait(lambda s: "1,000,000 lines" in s and "1000000" in s, timeout=30)
            return {"log open (1M lines)": time.perf_counter() - t0}


def idle_cpu(seconds: float = 60.0) -> dict[str, float]:
    with engine_root() as eng:
        _run(eng, "idle-a", "trap 'exit 0' TERM; while true; do sleep 1; done")
        _run(eng, "idle-b", "trap 'exit 0' TERM; while true; do sleep 1; done")
        with app(eng) as t:
            t.wait(lambda s: "idle-b" in s)
            time.sleep(3.0)
            proc = psutil.Process(t.pid())
            before = proc.cpu_times()
            t0 = time.perf_counter()
            time.sleep(seconds)
            after = proc.cpu_times()
            used = (after.user - before.user) + (after.system - before.system)
            return {"idle CPU": used / (time.perf_counter() - t0) * 100.0}


SCENARIOS = {
    "first-paint": first_paint,
    "key-latency": key_latency,
    "log-open": log_open,
    "idle-cpu": idle_cpu,
}


def main(argv: list[str]) -> int:
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed: apt-get install -y tmux")
    chosen = argv or list(SCENARIOS)
    results: dict[str, float] = {}
    for name in chosen:
        print(f"running {name}…", flush=True)
        results.update(SCENARIOS[name]())
    print()
    print(f"{'measure':<24} {'value':>10} {'goal':>10}  ok")
    for key, value in results.items():
        goal, unit = GOALS[key]
        shown = f"{value * 1000:.0f} ms" if unit == "s" else f"{value:.2f} %"
        goal_shown = f"{goal * 1000:.0f} ms" if unit == "s" else f"{goal:.0f} %"
        print(f"{key:<24} {shown:>10} {goal_shown:>10}  {'yes' if value < goal else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
