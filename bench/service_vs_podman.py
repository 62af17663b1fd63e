"""The Engine API service: dockyard's vs Podman's (``podman system service``), same busybox rootfs, no network.

    .venv/bin/python -m bench.service_vs_podman [--runs 20] [--containers 500]

Both services listen on a unix socket of their own; one client (HTTP/1.1 over a kept-alive connection, the
way docker-py and Docker's client talk) sends the same requests to each:

- a container's life through the API: ``POST /containers/create`` (``true``, network none), ``POST
  .../start``, ``POST .../wait``, ``DELETE /containers/{id}``, each step timed and the four together;
- ``GET /containers/json?all=1`` with that many containers (made, not started).

The two services take turns run by run; each figure is a median. The ratio goes to
bench/results/service_vs_podman.txt.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Any

from .common import (
    DOCKYARD,
    busybox_rootfs_tar,
    discard_root,
    dockyard_env,
    ensure_peers,
    fresh_root,
    median_ms,
    sh,
    table,
)


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=120)
        self.path = path

    def connect(self) -> None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(120)
        s.connect(self.path)
        self.sock = s


class Client:
    def __init__(self, path: str, version: str = "v1.41") -> None:
        self.conn = UnixHTTP(path)
        self.prefix = f"/{version}"

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        self.conn.request(method, self.prefix + path, body=data, headers=headers)
        r = self.conn.getresponse()
        raw = r.read()
        if r.status >= 400:
            raise SystemExit(f"{method} {path}: {r.status} {raw[:300]!r}")
        return r.status, json.loads(raw) if raw.strip() else None

    def close(self) -> None:
        self.conn.close()


def wait_for(path: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the service exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            c = UnixHTTP(path)
            c.request("GET", "/_ping")
            if c.getresponse().status == 200:
                c.close()
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"no answer on {path}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def life(c: Client, image: str) -> dict[str, float]:
    took: dict[str, float] = {}
    t = time.perf_counter()
    _, doc = c.call(
        "POST", "/containers/create", {"Image": image, "Cmd": ["true"], "HostConfig": {"NetworkMode": "none"}}
    )
    cid = doc["Id"]
    took["create"] = time.perf_counter() - t
    for step, method, path in (
        ("start", "POST", f"/containers/{cid}/start"),
        ("wait", "POST", f"/containers/{cid}/wait"),
        ("delete", "DELETE", f"/containers/{cid}"),
    ):
        t = time.perf_counter()
        c.call(method, path)
        took[step] = time.perf_counter() - t
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--containers", type=int, default=500)
    a = ap.parse_args()
    ensure_peers()
    work = tempfile.mkdtemp(prefix="bench-svc-")
    tar = busybox_rootfs_tar(os.path.join(work, "busybox.tar"))
    root = fresh_root()
    env = dockyard_env(root)
    env["DOCKYARD_DEFAULT_NETWORK"] = "none"
    sh(DOCKYARD, "import", "-c", 'CMD ["sh"]', tar, "benchbox", env=env)
    sh("podman", "import", "-q", tar, "localhost/benchbox:latest")
    ours_sock, theirs_sock = os.path.join(work, "dockyard.sock"), os.path.join(work, "podman.sock")
    ours_proc = subprocess.Popen(
        [DOCKYARD, "system", "service", "--socket", ours_sock, "--time", "0"], env=env, stderr=subprocess.PIPE
    )
    theirs_proc = subprocess.Popen(
        ["podman", "system", "service", "--time", "0", f"unix://{theirs_sock}"], stderr=subprocess.PIPE
    )
    made: list[tuple[Client, str]] = []
    try:
        wait_for(ours_sock, ours_proc)
        wait_for(theirs_sock, theirs_proc)
        ours, theirs = Client(ours_sock), Client(theirs_sock)
        sides = ((ours, "benchbox"), (theirs, "localhost/benchbox"))
        for side in sides:  # warm-up
            life(*side)
        runs: dict[str, tuple[list[float], list[float]]] = {}
        for _ in range(a.runs):
            for i, side in enumerate(sides):
                for step, seconds in life(*side).items():
                    runs.setdefault(step, ([], []))[i].append(seconds)
        rows = []
        total_ours = total_theirs = 0.0
        for step in ("create", "start", "wait", "delete"):
            o, t = median_ms(runs[step][0]), median_ms(runs[step][1])
            total_ours, total_theirs = total_ours + o, total_theirs + t
            rows.append((f"  {step}", o, t))
        rows.insert(0, ("create + start + wait + delete (API)", total_ours, total_theirs))

        for c, image in sides:
            for _ in range(a.containers):
                _, doc = c.call("POST", "/containers/create", {"Image": image, "Cmd": ["true"],
                                                               "HostConfig": {"NetworkMode": "none"}})  # fmt: skip
                made.append((c, doc["Id"]))
        lists: tuple[list[float], list[float]] = ([], [])
        for _ in range(a.runs):
            for i, (c, _image) in enumerate(sides):
                t = time.perf_counter()
                _, listed = c.call("GET", "/containers/json?all=1")
                lists[i].append(time.perf_counter() - t)
                assert len(listed) >= a.containers, len(listed)
        rows.append(
            (f"GET /containers/json, {a.containers} containers", median_ms(lists[0]), median_ms(lists[1]))
        )
        print(table(rows, "podman"))
    finally:
        for c, cid in made:
            try:
                c.call("DELETE", f"/containers/{cid}?force=1")
            except (SystemExit, OSError):
                pass
        stop(ours_proc)
        stop(theirs_proc)
        sh("podman", "rmi", "-f", "localhost/benchbox", check=False)
        shutil.rmtree(work, ignore_errors=True)
        discard_root(root)


if __name__ == "__main__":
    main()
