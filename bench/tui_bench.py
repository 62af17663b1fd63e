"""How the app feels, measured from outside: the real ``dockyard`` runs in tmux, keys go in with send-keys
and the screen is read with capture-pane (so the figures include start-up, drawing and the terminal).

    .venv/bin/python bench/tui_bench.py [--seconds S] [first-paint] [key-latency] [log-open] [idle-cpu]
        [pane-switch] [back-to-flood] [idle-20] [idle-200]

With no scenario named, all run. --seconds sets how long each idle figure of idle-20 and idle-200 is
measured (60 by default).

- first paint: 200 containers (created, not started) and 50 images; time from launch until the lists are
  on screen. Goal < 1.5 s.
- key latency during a flood: one container writes ~50,000 lines a second while its Logs tab follows;
  time from a key press to the screen showing its effect (``f`` pausing and resuming the follow, which the
  status line shows). Goal < 100 ms.
- log open: a container whose log has 1,000,000 lines; time from pressing ``l`` to the status line saying
  the lines are indexed (and the last ones shown). Goal < 1 s.
- idle CPU: the app over 60 s with two idle running containers, CPU time of its process. Goal < 1 %.
- pane switch: ``1``, ``2``, ``3`` in turn while the Logs tab follows a container writing ~50,000 lines a
  second (and again with a quiet one); time from the key to the footer showing that pane's keys. p50 and
  p90; goal p90 < 100 ms with the flood, < 50 ms without.
- back to a flood: a container whose log holds 20,000,000 lines and still floods, and a calm one; the list
  goes to the calm one and back: time from the key until the flooding log shows again. Goal < 0.5 s.
- idle CPU with 20 and with 200 running containers (idle-20, idle-200): the app's CPU over 60 s on each
  detail tab (the focus in the containers list), then with the focus in the Images, Volumes and Networks
  lists, once the containers are a minute old (their STATUS then changes once a minute, not every
  second). Goal < 1 % on every tab and pane.

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


FLOOD = "trap 'exit 0' TERM; while true; do seq 1 5000; sleep 0.1; done"  # ~50,000 lines a second
PANE_FOOTER = {
    "1": " q Quit",
    "2": " ⏎ Run",
    "3": " / Search",
}  # how the footer begins with that pane focused


def _footer(screen: str) -> str:
    lines = screen.rstrip("\n").splitlines()
    return lines[-1] if lines else ""


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, round(len(ordered) * 0.9) - 1)]


def _switch_panes(t: Tmux, rounds: int) -> list[float]:
    """Seconds from pressing 1, 2 or 3 until the footer shows that pane's keys (the focus moved there)."""
    samples = []
    for i in range(rounds):
        key = "123"[i % 3]
        t0 = time.perf_counter()
        t.keys(key)
        t.wait(lambda s, k=key: _footer(s).startswith(PANE_FOOTER[k]), timeout=15)
        samples.append(time.perf_counter() - t0)
        time.sleep(0.15)
    return samples


def pane_switch(rounds: int = 60) -> dict[str, float]:
    """1, 2, 3 in turn while the Logs tab follows a container, with and without a flood in that log."""
    out: dict[str, float] = {}
    for label, script in (("flood", FLOOD), ("quiet", "trap 'exit 0' TERM; while true; do sleep 1; done")):
        with engine_root() as eng:
            _run(eng, "writer", script)
            with app(eng) as t:
                t.wait(lambda s: "writer" in s)
                t.keys("l")
                t.wait(lambda s: "writer ·" in s and "following" in s)
                time.sleep(1.0)
                samples = _switch_panes(t, rounds)
        p50, p90 = _percentiles(samples)
        out[f"pane switch, {label} (p50)"] = p50
        out[f"pane switch, {label} (p90)"] = p90
    return out


def back_to_flood(lines: int = 20_000_000, rounds: int = 8) -> dict[str, float]:
    """A container floods its log (after writing ``lines`` lines at once); the list goes to another
    container and back: seconds from the key until the flooding log is on screen again, following."""
    with engine_root() as eng:
        cid = _run(eng, "flood", f"trap 'exit 0' TERM; seq 1 {lines}; {FLOOD.split('; ', 1)[1]}")
        _run(eng, "calm", "trap 'exit 0' TERM; while true; do echo calm; sleep 1; done")
        path = eng.containers.inspect(cid)["LogPath"]
        while os.path.getsize(path) < lines * 60:  # each line is some 70 bytes in the log
            time.sleep(1.0)
        with app(eng) as t:
            t.wait(lambda s: "flood" in s and "calm" in s)
            screen = t.screen()
            flood_first = screen.index(" flood ") < screen.index(" calm ")
            there, back = ("Down", "Up") if flood_first else ("Up", "Down")
            if not flood_first:
                t.keys("Down")
            t.keys("l")
            t.wait(lambda s: _log_lines(s, "flood") >= lines, timeout=120)
            t.keys("1")
            samples = []
            for _ in range(rounds):
                for key, name in ((there, "calm"), (back, "flood")):
                    t0 = time.perf_counter()
                    t.keys(key)
                    t.wait(lambda s, n=name: _log_lines(s, n) > (lines if n == "flood" else 0), timeout=60)
                    if name == "flood":
                        samples.append(time.perf_counter() - t0)
                    time.sleep(1.0)
        p50, p90 = _percentiles(samples)
        print(f"  (the flooding log had {os.path.getsize(path) / 1e9:.1f} GB)")
        return {"back to a 20M-line flood (p50)": p50, "back to a 20M-line flood (p90)": p90}


def _log_lines(screen: str, name: str) -> int:
    """The line count the Logs tab's status gives for container ``name`` (0 when it shows another log)."""
    import re

    m = re.search(rf"{name} · ([0-9,]+) lines", screen)
    return int(m.group(1).replace(",", "")) if m else 0


IDLE_SECONDS = 60.0  # how long each idle figure is measured (--seconds)
TABS = ("Layers", "Logs", "Stats", "Inspect", "Env", "Top", "Events", "Terminal")
LOWER_PANES = (("2", "Images"), ("4", "Volumes"), ("5", "Networks"))  # the lower-left pane's lists


def idle_cpu_many(count: int, seconds: float) -> dict[str, float]:
    """The app's CPU over ``seconds`` on each detail tab (the focus in the containers list), then with the
    focus in each of the lower-left pane's lists (Images, Volumes, Networks; the Layers tab shown), with
    ``count`` idle running containers."""
    out: dict[str, float] = {}
    with engine_root() as eng:
        for i in range(count):
            _run(eng, f"idle{i:03d}", "trap 'exit 0' TERM; while true; do sleep 5; done")
        started = time.monotonic()
        with app(eng) as t:
            t.wait(lambda s: f"{count} running" in s, timeout=60)
            # idle: the statuses say "Up About a minute" and stay so (younger ones tick every second)
            time.sleep(max(0.0, 62.0 - (time.monotonic() - started)))
            proc = psutil.Process(t.pid())

            def measure(label: str) -> None:
                time.sleep(3.0)  # what the key started (a tab's first reading, a layout) is over
                before = proc.cpu_times()
                t0 = time.perf_counter()
                time.sleep(seconds)
                after = proc.cpu_times()
                used = (after.user - before.user) + (after.system - before.system)
                out[f"idle CPU, {count} containers, {label}"] = used / (time.perf_counter() - t0) * 100.0
                print(f"  {label}: {out[f'idle CPU, {count} containers, {label}']:.2f} %", flush=True)

            for tab in TABS:
                if not _show_tab(t, tab):
                    print(f"  ({tab}: no such tab in this build)")
                    continue
                t.keys("1")
                measure(tab)
            _show_tab(t, "Layers")
            for key, name in LOWER_PANES:
                t.keys(key)
                t.wait(lambda s, k=key, n=name: f"[{k}] {n}" in s, timeout=10)
                measure(f"{name} pane")
    return out


def _show_tab(t: Tmux, tab: str) -> bool:
    """Press ] until ``tab`` is the detail tab shown (read once the tab bar's underline has stopped moving:
    while it slides, the screen shows no tab or the one it passes). False when the build has no such tab."""
    for _ in range(len(TABS) + 1):
        shown = _settled_tab(t)
        if shown == tab:
            return True
        t.keys("]")
        with contextlib.suppress(SystemExit):
            t.wait(lambda s, was=shown: _tab_shown(s) not in ("", was), timeout=5)
    return False


def _settled_tab(t: Tmux) -> str:
    """The tab shown, once two readings 0.3 s apart agree."""
    shown = _tab_shown(t.screen())
    for _ in range(20):
        time.sleep(0.3)
        again = _tab_shown(t.screen())
        if again == shown and shown:
            return shown
        shown = again
    return shown


def _tab_shown(screen: str) -> str:
    """The detail tab underlined on screen (the line under the tab titles marks it)."""
    lines = screen.splitlines()
    for i, line in enumerate(lines[:-1]):
        if all(name in line for name in ("Layers", "Logs", "Stats")):
            marks = lines[i + 1]
            left, right = marks.find("╸"), marks.find("╺")  # the active tab's bar ends in half blocks
            start = left + 1 if left >= 0 else 0
            end = right if right > start else len(marks)
            for name in TABS:
                at = line.find(f" {name} ")
                if at >= 0 and start <= at + 1 + len(name) // 2 < end:
                    return name
    return ""


SCENARIOS: dict[str, Callable[[], dict[str, float]]] = {
    "first-paint": first_paint,
    "key-latency": key_latency,
    "log-open": log_open,
    "idle-cpu": idle_cpu,
    "pane-switch": pane_switch,
    "back-to-flood": back_to_flood,
    "idle-20": lambda: idle_cpu_many(20, IDLE_SECONDS),
    "idle-200": lambda: idle_cpu_many(200, IDLE_SECONDS),
}


def main(argv: list[str]) -> int:
    if "-h" in argv or "--help" in argv:
        print(__doc__)
        return 0
    global IDLE_SECONDS
    if "--seconds" in argv:  # a shorter idle measurement, for a quick look
        at = argv.index("--seconds")
        IDLE_SECONDS = float(argv[at + 1])
        del argv[at : at + 2]
    unknown = [name for name in argv if name not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed: apt-get install -y tmux")
    chosen = argv or list(SCENARIOS)
    results: dict[str, float] = {}
    for name in chosen:
        print(f"running {name}…", flush=True)
        results.update(SCENARIOS[name]())
    print()
    print(f"{'measure':<44} {'value':>10} {'goal':>10}  ok")
    for key, value in results.items():
        goal, unit = _goal(key)
        shown = f"{value * 1000:.0f} ms" if unit == "s" else f"{value:.2f} %"
        goal_shown = f"{goal * 1000:.0f} ms" if unit == "s" else f"{goal:.0f} %"
        print(f"{key:<44} {shown:>10} {goal_shown:>10}  {'yes' if value < goal else 'NO'}")
    return 0


def _goal(key: str) -> tuple[float, str]:
    if key in GOALS:
        return GOALS[key]
    if key.startswith("pane switch, flood"):
        return 0.1, "s"
    if key.startswith("pane switch, quiet"):
        return 0.05, "s"
    if key.startswith("back to"):
        return 0.5, "s"
    return 1.0, "%"  # idle CPU


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
