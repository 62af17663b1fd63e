"""Big logs: dockyard vs Podman (k8s-file log driver) reading the end of containers' logs of ~1 GB each.

    .venv/bin/python -m bench.logs_scale [--containers 10] [--gb 1.0] [--runs 9] [--podman-minutes 10]

Real containers write the logs (busybox awk: lines of varied length on stdout and stderr; one container
writing 320 KiB lines, stored as 16 KiB pieces; one with a pty, ``-t``), then stay running (``sleep``) so
that ``logs -f`` follows a live container. Podman's containers run the same commands (its storage in a root
of its own, ``--network none``, ``--log-driver k8s-file``), as many as it fills in ``--podman-minutes``.
Measured, the two tools taking turns run by run (medians): ``logs --tail 100``, ``logs --tail 100 -t``,
``logs --since T`` and ``--since T --until T2`` with T a line ~100 from the end, and ``logs -f --tail 100``
until its 100 lines are out. Then the app (Pilot, in process): the time from showing a container's Logs tab
until its last line is drawn, the first time the log is opened (nothing indexed yet) and again in a new app
(the index kept beside the log), and the time to jump to the top and back. Everything is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import time

from .common import DOCKYARD, REPO, busybox_rootfs_tar, dockyard_env, median_ms, sh

WORK = "/tmp/b18-logs"
PODMAN_DIR = "/tmp/b18-podman"
MARK = "END-OF-OUTPUT"
_PAD = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 2
VARIED = (
    'BEGIN{p="' + _PAD + '"; for(i=0;i<N;i++){print i, substr(p,1,(i*7)%120); '
    'if(i%5==0) print "warn", i, substr(p,1,i%40) > "/dev/stderr"; if(i%1000==0) fflush()}}'
)
LONG = 'BEGIN{s="0123456789"; while(length(s)<300000) s=s s; for(i=0;i<N;i++) print i, s}'
PER_GB = {"varied": 6_500_000, "long": 3_000, "pty": 6_500_000}


def workloads(count: int, gb: float) -> list[tuple[str, list[str], list[str]]]:
    """(name, extra run flags, command) of each container."""
    out = []
    for k in range(count):
        kind = "long" if k == count - 2 else "pty" if k == count - 1 else "varied"
        prog = (LONG if kind == "long" else VARIED).replace("N;", f"{int(PER_GB[kind] * gb)};", 1)
        cmd = ["sh", "-c", f"awk '{prog}'; echo {MARK}; exec sleep 1000000"]
        out.append((f"log{k}-{kind}", ["-t"] if kind == "pty" else [], cmd))
    return out


PODMAN = [
    "podman",
    "--root",
    f"{PODMAN_DIR}/root",
    "--runroot",
    f"{PODMAN_DIR}/runroot",
    "--tmpdir",
    f"{PODMAN_DIR}/tmp",
]
PODMAN_CONF = f"{PODMAN_DIR}/containers.conf"


def podman_env() -> dict[str, str]:
    """Podman's configuration, the machine's with file locks: the machine-wide shared-memory lock table
    (2048 locks, /dev/shm/libpod_lock, shared by every Podman root on the machine) can be used up by others."""
    if not os.path.exists(PODMAN_CONF):
        os.makedirs(f"{PODMAN_DIR}/tmp", exist_ok=True)
        try:
            with open("/etc/containers/containers.conf") as f:
                conf = f.read()
        except OSError:
            conf = ""
        if "[engine]" not in conf:
            conf += "\n[engine]\n"
        with open(PODMAN_CONF, "w") as f:
            f.write(conf.replace("[engine]", '[engine]\nlock_type = "file"', 1))
    return {**os.environ, "CONTAINERS_CONF": PODMAN_CONF}


def podman(*args: str, check: bool = True) -> str:
    return sh(*PODMAN, *args, check=check, env=podman_env())


def _ends_with_mark(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - (1 << 16)))  # stderr's last lines may come after it
            return MARK.encode() in f.read()
    except OSError:
        return False


def fill_dockyard(env: dict[str, str], jobs: list[tuple[str, list[str], list[str]]]) -> dict[str, float]:
    """Two containers at a time; the seconds each took."""
    took: dict[str, float] = {}
    pending = list(jobs)
    running: dict[str, tuple[str, float]] = {}
    while pending or running:
        while pending and len(running) < 2:
            name, flags, cmd = pending.pop(0)
            if not sh(
                DOCKYARD, "ps", "-aq", "-f", f"name=^{name}$", env=env
            ).strip():  # (an earlier --keep run's)
                sh(
                    DOCKYARD,
                    "run",
                    "-d",
                    "--network",
                    "none",
                    "--name",
                    name,
                    *flags,
                    "benchbox",
                    *cmd,
                    env=env,
                )
            path = sh(DOCKYARD, "inspect", "-f", "{{.LogPath}}", name, env=env).strip()
            running[name] = (path, time.monotonic())
        time.sleep(1)
        for name, (path, t0) in list(running.items()):
            if _ends_with_mark(path):
                took[name] = time.monotonic() - t0
                del running[name]
                print(
                    f"dockyard {name}: {os.path.getsize(path) / 1e9:.2f} GB in {took[name]:.0f} s", flush=True
                )
    return took


def fill_podman(jobs: list[tuple[str, list[str], list[str]]], minutes: float) -> list[str]:
    """Podman's containers one after another (two at a time) until ``minutes`` are up; the names it filled."""
    deadline = time.monotonic() + minutes * 60
    done: list[str] = []
    pending = list(jobs)
    running: dict[str, str] = {}
    while (pending or running) and time.monotonic() < deadline:
        while pending and len(running) < 2:
            name, flags, cmd = pending.pop(0)
            podman(
                "run",
                "-d",
                "--network",
                "none",
                "--log-driver",
                "k8s-file",
                "--name",
                name,
                *flags,
                "localhost/benchbox",
                *cmd,
            )
            running[name] = podman("inspect", "-f", "{{.HostConfig.LogConfig.Path}}", name).strip()
        time.sleep(1)
        for name, path in list(running.items()):
            if _ends_with_mark(path):
                done.append(name)
                del running[name]
                print(f"podman {name}: {os.path.getsize(path) / 1e9:.2f} GB", flush=True)
    for name in running:  # not filled in time: left out of the comparison
        podman("rm", "-f", "-t", "0", name, check=False)
    return done


def _run(cmd: list[str], env: dict[str, str] | None) -> tuple[float, bytes]:
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, env=env)
    took = time.perf_counter() - t
    if p.returncode:
        raise SystemExit(f"{cmd} failed: {p.stderr[-300:]!r}")
    return took, p.stdout + p.stderr


def _follow_start(cmd: list[str], env: dict[str, str] | None, want: int) -> float:
    """Seconds until ``logs -f --tail N`` has written ``want`` bytes (what ``logs --tail N`` writes, stdout
    and stderr together: N entries, a 16 KiB piece of a long line being one for dockyard as for Docker,
    while Podman's --tail counts whole lines)."""
    import selectors

    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    sel = selectors.DefaultSelector()
    assert p.stdout and p.stderr
    for f in (p.stdout, p.stderr):
        os.set_blocking(f.fileno(), False)
        sel.register(f, selectors.EVENT_READ)
    seen = 0
    try:
        while seen < want and time.perf_counter() - t < 30:
            for key, _ in sel.select(1):
                seen += len(os.read(key.fileobj.fileno(), 1 << 20))  # type: ignore[union-attr]
        return time.perf_counter() - t
    finally:
        p.kill()
        p.wait()


def _stamps(out: bytes) -> list[str]:
    """The times of ``logs -t`` output's lines (a long line's 16 KiB pieces share an output line)."""
    return sorted(line.split(b" ", 1)[0].decode() for line in out.splitlines() if line[:2] == b"20")


def _since_points(stamps: list[str], lines: int) -> tuple[str, str]:
    """The times of the first of the last ``lines`` lines and of the one halfway from there to the end."""
    last = stamps[-lines:]
    return last[0], last[len(last) // 2]


# Podman's --since reads the log from its start (~10-25 s for 1 GB here): measured SLOW_PEER_RUNS times, on
# these containers only (one of each kind).
SLOW_PEER_ON = ("log0-varied", "log8-long", "log9-pty")
SLOW_PEER_RUNS = 2


def measure_cli(env: dict[str, str], names: list[str], peer: list[str], runs: int) -> list[str]:
    rows: list[str] = []
    head = f"{'container':<16} {'operation':<32} {'dockyard':>10} {'podman':>10} {'ratio':>6}"
    ours = [DOCKYARD]
    theirs = PODMAN
    all_ratios: dict[str, list[float]] = {}
    for name in names:
        compare = name in peer
        tools = [(ours, env)] + ([(theirs, podman_env())] if compare else [])
        # T: the first of the lines dockyard's --tail 100 shows (100 entries: 100 lines, or a few long lines'
        # 16 KiB pieces), the same number of lines back for Podman
        stamps = [_stamps(_run([*cmd, "logs", "--tail", "100", "-t", name], e)[1]) for cmd, e in tools]
        points = [_since_points(st, len(stamps[0])) for st in stamps]
        sizes = [len(_run([*cmd, "logs", "--tail", "100", name], e)[1]) for cmd, e in tools]
        ops = {
            "logs --tail 100": [["logs", "--tail", "100", name]] * 2,
            "logs --tail 100 -t": [["logs", "--tail", "100", "-t", name]] * 2,
            "logs --since T (tail 100 lines)": [["logs", "--since", p[0], name] for p in points],
            "logs --since T --until T2": [["logs", "--since", p[0], "--until", p[1], name] for p in points],
        }
        samples: dict[str, tuple[list[float], list[float]]] = {
            op: ([], []) for op in [*ops, "logs -f --tail 100"]
        }
        slow_peer = name in SLOW_PEER_ON
        for run in range(runs):
            for op, args in ops.items():
                for k, (cmd, e) in enumerate(tools):
                    if k == 1 and "--since" in op and (run >= SLOW_PEER_RUNS or not slow_peer):
                        continue  # Podman reads the whole log for --since: a few runs on a few containers
                    samples[op][k].append(_run([*cmd, *args[k]], e)[0])
            for k, (cmd, e) in enumerate(tools):
                samples["logs -f --tail 100"][k].append(
                    _follow_start([*cmd, "logs", "-f", "--tail", "100", name], e, sizes[k])
                )
        for op, (a, b) in samples.items():
            o = median_ms(a)
            t = median_ms(b) if b else float("nan")
            ratio = o / t if b else float("nan")
            if b:
                all_ratios.setdefault(op, []).append(ratio)
            rows.append(
                f"{name:<16} {op:<32} {o:>8.1f}ms {t:>8.1f}ms {ratio:>6.2f}"
                if b
                else f"{name:<16} {op:<32} {o:>8.1f}ms {'-':>10} {'-':>6}"
            )
        print(rows[-5:], flush=True)
    summary = [
        f"{'median over containers':<16} {op:<32} ratio {statistics.median(r):.2f}"
        for op, r in all_ratios.items()
    ]
    return [head, *rows, "", *summary]


def measure_app(root: str, names: list[str]) -> list[str]:
    """The app in process (Textual's Pilot, as tests/app/tui drive it), the Logs tab shown: per container,
    the cursor put on its row, until the log's last line is on screen (the time includes the list's settle
    delay before the details follow the cursor), and from the app's asking for the log (``show_logs``) to
    the same; then ``g`` (the top) until the first line is drawn, and ``G`` back. Once in an app that finds
    no index, then in a new app (the index kept beside each log)."""
    sys.path.insert(0, REPO)
    from app.tui.config import Config
    from app.tui.widgets.log_view import LogView
    from engine import Engine
    from tests.app.tui.conftest import make_app, select_container
    from tests.app.tui.screen_text import widget_lines

    eng = Engine(root)
    ids = {n: eng.containers.get(n).id for n in names}
    for n in names:  # counted by an earlier run: the first app must find no index
        with contextlib.suppress(FileNotFoundError):
            os.unlink(eng.containers.inspect(n)["LogPath"] + ".idx")
    last = {}
    for n in names:
        entry = next(iter(eng.containers.logs(n, tail=1)))
        last[n] = entry.data.decode(errors="replace").rstrip("\r\n")[:20]

    async def one_app(label: str, first: bool) -> list[str]:
        out = []
        app = make_app(eng, Config(path=os.path.join(WORK, "tui-config.toml")))
        async with app.run_test(size=(140, 40)) as pilot:
            table = await select_container(pilot, ids[names[-1]])
            await pilot.press("l")  # the Logs tab
            view = app.main.query_one(LogView)
            for name in names:
                await app.workers.wait_for_complete()
                if first and name == names[-1]:  # opened to show the tab: measured as if it never was
                    kept = view._kept.pop(ids[name], None)
                    if kept is not None:
                        kept.close()
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(eng.containers.inspect(name)["LogPath"] + ".idx")
                await pilot.pause(0.3)
                t0 = time.perf_counter()
                table.move_cursor(row=table.get_row_index(ids[name]))
                asked = 0.0
                while time.perf_counter() - t0 < 60:
                    if not asked and view.wanted == ids[name]:
                        asked = time.perf_counter()
                    if view.source is not None and view.source_key == ids[name] and view.rows:
                        if widget_lines(app, view, last[name]):
                            break
                    await pilot.pause(0.002)
                else:
                    print(
                        f"{name}: not shown: rows {view.rows} at {view.scroll_y}/{view.max_scroll_y} "
                        f"follow {view.follow}; last row {view.plain(view.rows - 1)[:40]!r}, wanted {last[name]!r}"
                    )
                shown = time.perf_counter()
                view.action_top()  # what ``g`` does (Pilot's press would wait for the app to be idle)
                while (
                    time.perf_counter() - shown < 30
                ):  # the line at the top (the window's first line, if the
                    at = round(view.scroll_y)  # lines above it came in meanwhile) drawn
                    if (at == 0 or view.source.counting == 0) and widget_lines(
                        app, view, view.plain(at)[:20]
                    ):
                        break
                    await pilot.pause(0.002)
                top = time.perf_counter() - shown
                t2 = time.perf_counter()
                view.action_bottom()  # ``G``
                while not widget_lines(app, view, last[name]) and time.perf_counter() - t2 < 30:
                    await pilot.pause(0.002)
                bottom = time.perf_counter() - t2
                out.append(
                    f"{label:<22} {name:<14} shown {(shown - t0) * 1000:5.0f} ms (asked->shown "
                    f"{(shown - (asked or t0)) * 1000:4.0f} ms)  top {top * 1000:4.0f} ms  end {bottom * 1000:4.0f} ms"
                    f"  {view.status()[:70]}"
                )
                print(out[-1], flush=True)
        return out

    rows = asyncio.run(one_app("first app (no index)", True))
    rows += asyncio.run(one_app("new app (index kept)", False))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--containers", type=int, default=10)
    ap.add_argument("--gb", type=float, default=1.0, help="log size of each container, roughly")
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--podman-minutes", type=float, default=10.0)
    ap.add_argument("--keep", action="store_true", help="leave the containers (and their logs) in place")
    ap.add_argument("--reuse", action="store_true", help="measure containers a --keep run left")
    ap.add_argument("--fill-only", action="store_true", help="fill, then stop (implies --keep)")
    ap.add_argument(
        "--app-only", action="store_true", help="with --reuse: the app again, the CLI figures kept"
    )
    a = ap.parse_args()
    root = os.path.join(WORK, "root")
    env = dockyard_env(root)
    jobs = workloads(a.containers, a.gb)
    names = [j[0] for j in jobs]
    notes = [f"load before: {open('/proc/loadavg').read().strip()}"]
    a.keep = a.keep or a.fill_only
    try:
        if not a.reuse:
            os.makedirs(WORK, exist_ok=True)
            os.makedirs(PODMAN_DIR, exist_ok=True)
            tar = busybox_rootfs_tar(os.path.join(WORK, "busybox.tar"))
            sh(DOCKYARD, "import", "-c", 'CMD ["sh"]', tar, "benchbox", env=env)
            podman("import", "-q", tar, "localhost/benchbox:latest")
            t = time.monotonic()
            fill_dockyard(env, jobs)
            notes.append(f"dockyard filled {len(jobs)} containers in {time.monotonic() - t:.0f} s")
            t = time.monotonic()
            try:
                filled = fill_podman(jobs, a.podman_minutes)
            except SystemExit as e:  # what failed is said in the results
                notes.append(f"podman failed: {str(e)[-300:]}")
                filled = []
            notes.append(
                f"podman filled {len(filled)} of {len(jobs)} in {time.monotonic() - t:.0f} s "
                f"(limit {a.podman_minutes:g} min)"
            )
            with open(os.path.join(WORK, "podman-filled"), "w") as f:
                f.write("\n".join(filled))
            if a.fill_only:
                print("\n".join(notes))
                return
        with open(os.path.join(WORK, "podman-filled")) as f:
            filled = f.read().split()
        sizes = []
        for name in names:
            path = sh(DOCKYARD, "inspect", "-f", "{{.LogPath}}", name, env=env).strip()
            size = sum(
                os.path.getsize(os.path.join(os.path.dirname(path), p))
                for p in os.listdir(os.path.dirname(path))
                if p.startswith(os.path.basename(path)) and not p.endswith(".idx")
            )
            peer = ""
            if name in filled:
                ppath = podman("inspect", "-f", "{{.HostConfig.LogConfig.Path}}", name).strip()
                peer = f", podman's k8s-file {os.path.getsize(ppath) / 1e9:.2f} GB"
            sizes.append(f"  {name}: dockyard's json-file {size / 1e9:.2f} GB{peer}")
        out = os.path.join(REPO, "bench", "results", "logs_scale.txt")
        if a.app_only:  # the CLI figures of the last run, kept
            with open(out) as f:
                text = f.read()
            cli = text[text.index("container ") : text.index("\nThe app (Pilot")].rstrip("\n").split("\n")
        else:
            cli = measure_cli(env, names, filled, a.runs)
        app = measure_app(root, names)
        notes.append(f"load after: {open('/proc/loadavg').read().strip()}")
        report = "\n".join(
            [
                "Big logs: `dockyard logs` vs `podman logs` (k8s-file), whole command, median of "
                f"{'the CLI run before:' if a.app_only else a.runs} runs, the tools taking turns (bench/logs_scale.py). Machine: 2 CPUs, 23 GB RAM "
                "(the logs in the page cache).",
                *notes,
                "Log sizes:",
                *sizes,
                "",
                *cli,
                "",
                "The app (Pilot in process, 140x40): Logs tab shown until the last line is drawn; Home (top) "
                "and End back:",
                *app,
                "",
            ]
        )
        print(report)
        os.makedirs(os.path.join(REPO, "bench", "results"), exist_ok=True)
        with open(out, "w") as f:
            f.write(report)
    finally:
        if not a.keep:
            cleanup(root)


def cleanup(root: str) -> None:
    sys.path.insert(0, REPO)
    from engine import Engine

    if os.path.isdir(root):
        Engine(root).discard()
    podman("system", "reset", "-f", check=False)
    shutil.rmtree(WORK, ignore_errors=True)
    shutil.rmtree(PODMAN_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
