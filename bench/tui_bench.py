"""How the app feels, measured from outside: the real ``dockyard`` runs in tmux, keys go in with send-keys
and the screen is read with capture-pane (so the figures include start-up, drawing and the terminal).

    .venv/bin/python bench/tui_bench.py [--seconds S] [first-paint] [key-latency] [log-open] [idle-cpu]
        [pane-switch] [back-to-flood] [idle-20] [idle-200] [first-paint-1000] [keys-1000]

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
- first paint at 1000 containers (first-paint-1000): 900 created, 50 exited and 50 running containers (names,
  labels, five images, three networks); time from launch until the top bar counts them and the list's first
  rows are drawn. Goal < 1.5 s. Beside it, the listing's floor: ``podman ps -a`` over the same number of
  Podman containers (its own storage under /tmp, no network) and ``dockyard ps -a``, interleaved.
- keys at 1000 containers (keys-1000): on that root, while another process creates, starts and removes
  containers (the app's event feed reloading the list), the time from a key to the screen showing its
  effect: cursor down/up and page down in the list, ``/`` and typing a filter, the Logs/Stats/Inspect tabs
  in turn (``]`` and ``[``), the Images pane and back (``2``, ``1``). p50 and p90; goal p90 < 100 ms. (No
  TUI peer: lazydocker is not installed here.)

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


# -- 1000 containers ---------------------------------------------------------------------------------------
SCALE_RUNNING = "trap 'exit 0' TERM; while true; do sleep 5; done"


def _populate_1000(eng: Engine) -> None:
    """900 created, 50 exited and 50 running containers with names and labels, over five images and three
    networks (the running ones last: the newest, at the top of the list)."""
    for i in range(4):
        eng.images.import_(io.BytesIO(_tiny_layer(i)), f"bench/img{i}:latest")
    for net in ("front", "back", "data"):
        eng.networks.create(net, internal=True)
    images = ["busybox", "bench/img0", "bench/img1", "bench/img2", "bench/img3"]
    for i in range(900):
        labels = {"tier": ("web", "db", "cache")[i % 3], "team": f"t{i % 7}"}
        opts = CreateOptions(name=f"app-{i:04d}", command=["true"], network="none", labels=labels)
        eng.containers.create(images[i % 5], opts)
    for i in range(50):
        c = eng.containers.run(
            "busybox", CreateOptions(name=f"done-{i:03d}", command=["true"], network="none")
        )
        eng.containers.wait(c.id)
    for i in range(50):
        _run(eng, f"run-{i:03d}", SCALE_RUNNING)


def _podman_listing(count: int, rounds: int) -> tuple[list[float], list[float]]:
    """``podman ps -a`` over ``count`` Podman containers (its own storage, no network) and ``dockyard ps -a``
    over a dockyard root with as many, interleaved: seconds each."""
    from bench.common import busybox_rootfs_tar, ensure_peers, sh

    ensure_peers()
    work = tempfile.mkdtemp(prefix="c18-podman-", dir="/tmp")
    pod = ["podman", "--root", os.path.join(work, "root"), "--runroot", os.path.join(work, "run")]
    try:
        tar = busybox_rootfs_tar(os.path.join(work, "busybox.tar"))
        sh(*pod, "import", "-q", tar, "localhost/benchbox:latest")
        with engine_root() as eng:
            for i in range(count):
                sh(*pod, "create", "-q", "--network", "none", "--name", f"app-{i:04d}", "--label", "tier=web",
                   "localhost/benchbox", "true")  # fmt: skip
                eng.containers.create(
                    "busybox", CreateOptions(name=f"app-{i:04d}", command=["true"], network="none")
                )
            theirs, ours = [], []
            for _ in range(rounds):
                for cmd, out in ((pod, theirs), ([DOCKYARD, "--root", eng.root], ours)):
                    t0 = time.perf_counter()
                    listed = sh(*cmd, "ps", "-a")
                    out.append(time.perf_counter() - t0)
                    assert listed.count("\n") > count, listed[-200:]
        return ours, theirs
    finally:
        subprocess.run([*pod, "system", "reset", "-f"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def first_paint_1000(rounds: int = 5) -> dict[str, float]:
    out: dict[str, float] = {}
    with engine_root() as eng:
        _populate_1000(eng)
        samples = []
        for _ in range(rounds):
            with app(eng) as t:
                t.wait(lambda s: "50 running / 1000 containers" in s and "run-049" in s, timeout=60)
                samples.append(time.perf_counter() - t.started)
            time.sleep(0.5)
    p50, p90 = _percentiles(samples)
    out["first paint, 1000 containers (p50)"] = p50
    out["first paint, 1000 containers (max)"] = max(samples)
    ours, theirs = _podman_listing(1000, rounds)
    out["floor: dockyard ps -a, 1000 (p50)"] = statistics.median(ours)
    out["floor: podman ps -a, 1000 (p50)"] = statistics.median(theirs)
    return out


CHURN = """
import sys, time
from engine import CreateOptions, Engine
eng = Engine(sys.argv[1])
made = []
i = 0
while True:
    c = eng.containers.run("busybox", CreateOptions(name=f"churn-{i:04d}", network="none",
                           command=["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 5; done"]))
    made.append(c.id)
    if len(made) > 3:
        eng.containers.remove(made.pop(0), force=True)
    i += 1
    print(i, flush=True)
    time.sleep(0.3)
"""


def _cursor_prefix(t: Tmux) -> str:
    """The escape codes the focused list's cursor row begins with (read on the first row)."""
    import re

    for line in _screen_e(t).splitlines()[2:6]:
        m = re.match(r"^(?:\x1b\[[0-9;]*m)*│((?:\x1b\[[0-9;]*m)+) {4}[a-z]", line)
        if m and "48;" in m.group(1):
            return m.group(1)
    raise SystemExit("cannot find the cursor row")


def _screen_e(t: Tmux) -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-e", "-p", "-t", t.name], capture_output=True, text=True
    ).stdout


def _cursor_at(t: Tmux, prefix: str) -> tuple[int, str]:
    """The screen line of the list's cursor and the name on it."""
    import re

    for i, line in enumerate(_screen_e(t).splitlines()):
        at = line.find("│" + prefix)
        if 0 <= at < 40:
            plain = re.sub(r"\x1b\[[0-9;]*m", "", line[at:])
            return i, plain[1:30].split()[0] if plain[1:30].split() else ""
    return -1, ""


def keys_1000(rounds: int = 3) -> dict[str, float]:
    import re

    samples: dict[str, list[float]] = {}

    def timed_key(label: str, key: str, effect: Callable[[], bool], timeout: float = 15.0) -> None:
        t0 = time.perf_counter()
        t.keys(key)
        while not effect():
            if time.perf_counter() - t0 > timeout:
                raise SystemExit(f"{label}: timed out; screen:\n{t.screen()}")
            time.sleep(0.005)
        samples.setdefault(label, []).append(time.perf_counter() - t0)
        time.sleep(0.15)

    with engine_root() as eng:
        _populate_1000(eng)
        churn = subprocess.Popen(
            [sys.executable, "-c", CHURN, eng.root],
            stdout=subprocess.PIPE,
            text=True,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        try:
            with app(eng) as t:
                t.wait(lambda s: re.search(r"/ 10[0-9][0-9] containers", s) is not None, timeout=60)
                t.wait(lambda s: "churn-" in s, timeout=30)
                time.sleep(1.0)
                prefix = _cursor_prefix(t)
                for _ in range(rounds):
                    for label, key, n in (("cursor down", "Down", 12), ("cursor up", "Up", 6),
                                          ("page down", "PageDown", 4)):  # fmt: skip
                        for _ in range(n):
                            was = _cursor_at(t, prefix)
                            timed_key(label, key, lambda w=was: _cursor_at(t, prefix) not in (w, (-1, "")))
                    t.keys("Home")
                    time.sleep(0.3)
                    timed_key("/ (filter opens)", "/", lambda: "filter (enter: keep" in t.screen())
                    typed = ""
                    for ch in "app-01":
                        typed += ch
                        timed_key("filter typing", ch, lambda w=typed: f"[filter: {w}]" in t.screen())
                    timed_key("escape (filter off)", "Escape", lambda: "[filter:" not in t.screen())
                    t.keys("Home")
                    time.sleep(0.3)
                    for _ in range(12):  # to a container the other process leaves alone (its own go soon)
                        if _cursor_at(t, prefix)[1].startswith("run-"):
                            break
                        t.keys("Down")
                        time.sleep(0.3)
                    t.keys("l")
                    t.wait(lambda s: re.search(r" · [0-9,]+ lines", s) is not None, timeout=15)
                    time.sleep(0.5)
                    tabs = (("]", "Stats", lambda s: "Net in/s" in s), ("]", "Inspect", lambda s: "├ Id: " in s),
                            ("[", "Stats", lambda s: "Net in/s" in s),
                            ("[", "Logs", lambda s: re.search(r" · [0-9,]+ lines", s) is not None))  # fmt: skip
                    for key, _name, shown in tabs:
                        timed_key("tab switch", key, lambda f=shown: f(t.screen()))
                    t.keys("1")
                    time.sleep(0.3)
                    for _ in range(4):
                        timed_key(
                            "Images pane (2)", "2", lambda: _footer(t.screen()).startswith(PANE_FOOTER["2"])
                        )
                        timed_key("Containers pane (1)", "1",
                                  lambda: _footer(t.screen()).startswith(PANE_FOOTER["1"]))  # fmt: skip
        finally:
            churn.terminate()
            made = churn.communicate(timeout=30)[0].split()
            print(
                f"  (another process made and removed containers meanwhile: {made[-1] if made else 0} made)"
            )
    out: dict[str, float] = {}
    everything: list[float] = []
    for label, values in samples.items():
        p50, p90 = _percentiles(values)
        out[f"{label} (p50)"], out[f"{label} (p90)"] = p50, p90
        everything += values
    p50, p90 = _percentiles(everything)
    out["all keys, 1000 containers (p50)"], out["all keys, 1000 containers (p90)"] = p50, p90
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
    "first-paint-1000": first_paint_1000,
    "keys-1000": keys_1000,
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
    if key.startswith("first paint"):
        return 1.5, "s"
    if key.startswith("floor"):
        return 1.5, "s"
    if "(p" in key or "(max)" in key:
        return 0.1, "s"
    return 1.0, "%"  # idle CPU


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
