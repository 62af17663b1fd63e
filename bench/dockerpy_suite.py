"""docker-py's own integration tests (its ``tests/integration`` modules) against ``dockyard system service``.

    .venv/bin/python -m bench.dockerpy_suite --tests /work/dockerpy/tests [MODULE ...]

``--tests`` is a copy of docker-py's ``tests`` directory (``helpers.py``, ``integration/base.py``,
``conftest.py`` and the modules); it is not part of this repository. For the run the script

- makes a scratch engine root with busybox imported (``image bootstrap``) and tagged under the names the
  modules use (``IMAGES``), and makes the root's predefined ``bridge`` network internal: the containers get
  addresses as on Docker's bridge but no route off the machine;
- starts a Docker Hub mirror on 127.0.0.1 (bench/hub_mirror.py: the images the tests pull, made from busybox)
  and names it in the root's ``daemon.json``, so those pulls never leave the machine;
- starts ``dockyard system service`` on a socket next to the root and runs each module with pytest
  (``DOCKER_HOST=unix://SOCKET``, one junit file per module), deselecting the tests of ``DESELECTED``;
- stops the service and discards the root (its containers, cgroups and bridges).

It writes one row per module (passed, failed, skipped; a deselected test counts as skipped) and then every
skip and failure with its reason to bench/results/dockerpy.txt. Rows of modules that were not run this time
are kept from the file as it was, so the modules can be run a few at a time.

``DESELECTED`` lists the tests that cannot pass on this machine whatever dockyard does, each with its reason:
Swarm (services, secrets, configs, nodes), plugins, Docker Hub or another registry off the machine, content of
Docker's own images. A test that fails because dockyard is wrong is not listed here: it is fixed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCKYARD = os.path.join(os.path.dirname(sys.executable), "dockyard")
RESULTS = os.path.join(REPO, "bench", "results", "dockerpy.txt")

# The image names docker-py's tests expect to find (its conftest pulls them when missing; here they are the
# local busybox image under those names, and nothing is pulled).
IMAGES = ("busybox:latest", "busybox:buildroot-2014.02", "alpine:3.10", "alpine:latest")

# The reasons a test cannot pass on this machine, whatever dockyard does.
WHY = {
    "swarm": "needs Swarm mode (dockyard has no swarm)",
    "plugins": "needs Docker's plugin system (dockyard has no plugins)",
    "hub": "pulls from Docker Hub: needs a registry off the machine",
    "image": "needs the content of Docker Hub's image the test names (dockyard's busybox stands in for it)",
}
SWARM = WHY["swarm"]
# node id (MODULE.py::Class::test) -> why it cannot pass here
DESELECTED: dict[str, str] = {
    "models_images_test.py::ImageCollectionTest::test_pull_multiple": "the stored copy of this test is older than "
    "docker-py 6, whose images.pull returns one Image unless all_tags=True: len() raises TypeError on the client",
    "models_images_test.py::ImageCollectionTest::test_pull_with_sha": "pulls hello-world by the digest of "
    "Docker Hub's own image, which the mirror on this machine cannot have (its other pulls are served there)",
    **{
        f"build_test.py::BuildTest::{test}": "written for docker-py 1.x: build(stream=True) raises TypeError in "
        "docker-py 2.0 and later, before any request"
        for test in ("test_build_streaming", "test_build_stderr_data", "test_build_gzip_encoding")
    },
    "api_network_test.py::TestNetworks::test_create_network_attachable": SWARM + " (an attachable overlay)",
    "api_network_test.py::TestNetworks::test_create_network_ingress": SWARM + " (the ingress network)",
    "api_network_test.py::TestNetworks::test_create_inspect_network_with_scope": SWARM
    + " (networks of scope swarm)",
    "models_containers_test.py::ContainerCollectionTest::test_run_with_image_that_does_not_exist": WHY["hub"]
    + " (run pulls the missing image and expects Docker Hub's not found)",
    "api_container_test.py::CreateContainerTest::test_create_with_device_cgroup_rules": "dockyard puts "
    "containers in no devices cgroup (a container's devices are the /dev it makes), so it refuses "
    "DeviceCgroupRules with that reason",
    "api_container_test.py::AttachContainerTest::test_run_container_reading_socket_ws": "docker-py opens a "
    "websocket only over TCP (websocket-client refuses the unix socket's http+docker:// URL); the service "
    "serves TCP only with TLS, where this test is marked an expected failure",
    "api_exec_test.py::ExecTest::test_exec_command_as_user": WHY["image"] + ": alpine's user postgres",
    "api_exec_test.py::ExecTest::test_exec_command_with_workdir": WHY["image"]
    + ": alpine's directory /var/opt (an exec's working directory must exist, as with runc)",
    "api_client_test.py::ConnectionTimeoutTest::test_timeout": "connects to 192.168.10.2, an address off the "
    "machine, to time docker-py's own connect timeout (no service is involved)",
}


# Modules of docker-py 1.x that docker-py 2.0 renamed (its tests live on in the new modules); they import
# names docker-py 7 no longer has (docker.Client, helpers.BaseTestCase), so they are listed, not run.
RETIRED = {
    "api_test.py": "docker-py 1.x's module, not in docker-py 7: its tests are in api_client_test.py",
    "network_test.py": "docker-py 1.x's module, not in docker-py 7: its tests are in api_network_test.py",
    "volume_test.py": "docker-py 1.x's module, not in docker-py 7: its tests are in api_volume_test.py",
    "exec_test.py": "docker-py 1.x's module, not in docker-py 7: its tests are in api_exec_test.py",
    "container_test.py": "docker-py 1.x's module, not in docker-py 7: its tests are in api_container_test.py",
    "healthcheck_test.py": "docker-py 1.x's module, not in docker-py 7: its tests are in "
    "api_healthcheck_test.py",
}


@dataclass
class Outcome:
    name: str
    status: str  # passed, failed, skipped
    reason: str = ""


@dataclass
class ModuleResult:
    module: str
    outcomes: list[Outcome] = field(default_factory=list)
    error: str = ""

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _answers(path: str) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(path)
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
        return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False
    finally:
        s.close()


def prepare_root(root: str) -> None:
    """busybox under every name in IMAGES, and the root's ``bridge`` network internal."""
    import json

    sys.path.insert(0, REPO)
    from engine import Engine

    engine = Engine(root)
    name = engine.images.bootstrap("busybox")
    for target in IMAGES:
        if target != name:
            engine.images.tag(name, target)
    engine.networks.list()  # writes the bridge network's record
    path = os.path.join(root, "networks", "bridge", "network.json")
    with open(path) as f:
        record = json.load(f)
    record["internal"] = True
    with open(path, "w") as f:
        json.dump(record, f)
    if not engine.networks.get("bridge").internal:
        raise SystemExit(f"could not make the bridge network of {root} internal")


def remove_soon(workdir: str) -> None:
    """Remove the scratch directory. A network janitor the root's last containers started lives on for
    about a second and takes the root's network lock once more (writing ``locks/net.lock`` again): remove
    until the directory stays gone."""
    deadline = time.monotonic() + 15
    while True:
        shutil.rmtree(workdir, ignore_errors=True)
        time.sleep(1.5)
        if not os.path.exists(workdir) or time.monotonic() > deadline:
            return


def service_env(root: str) -> dict[str, str]:
    env = {**os.environ, "DOCKYARD_ROOT": root, "DOCKYARD_DEFAULT_NETWORK": "bridge"}
    for k in ("DOCKER_HOST", "DOCKER_API_VERSION", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        env.pop(k, None)
    return env


def start_service(root: str, sock: str) -> subprocess.Popen[bytes]:
    logf = open(os.path.join(os.path.dirname(sock), "service.log"), "wb")
    proc = subprocess.Popen(
        [DOCKYARD, "system", "service", "--socket", sock, "--time", "0"],
        env=service_env(root),
        stdin=subprocess.DEVNULL,
        stdout=logf,
        stderr=subprocess.STDOUT,
    )
    logf.close()
    deadline = time.monotonic() + 30
    while not _answers(sock):
        if proc.poll() is not None:
            raise SystemExit(f"the service exited {proc.returncode}; see {os.path.dirname(sock)}/service.log")
        if time.monotonic() > deadline:
            stop_service(proc)
            raise SystemExit("the service did not answer within 30 seconds")
        time.sleep(0.05)
    return proc


def stop_service(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _short(text: str, limit: int = 240) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    # pytest's message: the assertion's first line, or the exception's last
    first = lines[0] if lines else ""
    if first.startswith("Skipped: "):
        first = first[len("Skipped: ") :]
    return first if len(first) <= limit else first[: limit - 3] + "..."


def collect(tests: str, path: str, env: dict[str, str]) -> list[str]:
    """The module's node ids (``MODULE.py::Class::test``)."""
    p = subprocess.run(
        [sys.executable, "-m", "pytest", path, "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=os.path.dirname(tests),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    ids = [line.strip() for line in p.stdout.splitlines() if "::" in line and not line.startswith(" ")]
    return [i.split("/")[-1] for i in ids]


def run_module(tests: str, module: str, sock: str, workdir: str, timeout: float) -> ModuleResult:
    result = ModuleResult(module)
    path = os.path.join(os.path.basename(tests), "integration", module)
    env = {**os.environ, "DOCKER_HOST": f"unix://{sock}", "PYTHONDONTWRITEBYTECODE": "1"}
    for k in ("DOCKER_API_VERSION", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        env.pop(k, None)
    ids = collect(tests, path, env)
    if not ids:
        result.error = "no tests collected (the module does not import?)"
        return result
    deselect = []
    for node in ids:
        reason = DESELECTED.get(node)
        if reason:
            deselect += ["--deselect", f"{path}::{node.split('::', 1)[1]}"]
            result.outcomes.append(Outcome(node.split("::", 1)[1], "skipped", "deselected: " + reason))
    xml = os.path.join(workdir, module.replace(".py", ".xml"))
    cmd = [sys.executable, "-m", "pytest", path, "-q", "-p", "no:cacheprovider", f"--junitxml={xml}"]
    cmd += ["-o", "junit_family=xunit1", "--timeout", "300", *deselect]
    t0 = time.monotonic()
    try:
        p = subprocess.run(
            cmd, cwd=os.path.dirname(tests), env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        result.error = f"the module took longer than {timeout:.0f} s"
        return result
    log(f"{module}: {time.monotonic() - t0:.1f} s, pytest exit {p.returncode}")
    if not os.path.exists(xml):
        result.error = _short(p.stdout[-2000:] + p.stderr[-2000:]) or f"pytest exited {p.returncode}"
        return result
    seen: dict[str, Outcome] = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
        skipped = case.find("skipped")
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        if bad is not None:
            where = "error in setup/teardown: " if case.find("error") is not None else ""
            outcome = Outcome(name, "failed", where + _short(bad.get("message") or bad.text or ""))
        elif skipped is not None:
            outcome = Outcome(name, "skipped", _short(skipped.get("message") or skipped.text or ""))
        else:
            outcome = Outcome(name, "passed")
        # a test that failed and whose teardown failed too has two entries: one outcome, the first reason
        earlier = seen.get(name)
        if earlier is None:
            seen[name] = outcome
            result.outcomes.append(outcome)
        elif outcome.status == "failed" and earlier.status != "failed":
            earlier.status, earlier.reason = outcome.status, outcome.reason
    return result


# -- the results file -----------------------------------------------------------------------------------------


def _header(version: str) -> list[str]:
    return [
        f"docker-py {version}'s integration tests against dockyard system service (bench/dockerpy_suite.py)",
        "a deselected test (see DESELECTED in the script) counts as skipped",
        "",
        f"{'module':<34} {'passed':>7} {'failed':>7} {'skipped':>8}",
    ]


def _read_sections(path: str) -> dict[str, tuple[str, list[str]]]:
    """module -> (its table row, its section's lines) from an earlier results file."""
    if not os.path.exists(path):
        return {}
    rows: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    current = None
    with open(path) as f:
        for line in f.read().splitlines():
            if line.startswith("## "):
                current = line[3:].strip()
                sections[current] = []
            elif current is not None:
                sections[current].append(line)
            elif line.split(" ", 1)[0].endswith("_test.py"):
                rows[line.split(" ", 1)[0]] = line
    return {m: (row, sections.get(m, [])) for m, row in rows.items()}


def write_results(path: str, results: list[ModuleResult], version: str) -> None:
    kept = _read_sections(path)
    rows: dict[str, tuple[str, list[str]]] = dict(kept)
    for r in results:
        row = f"{r.module:<34} {r.count('passed'):>7} {r.count('failed'):>7} {r.count('skipped'):>8}"
        lines = []
        if r.error:
            row += f"  ({r.error})"
        for o in r.outcomes:
            if o.status != "passed":
                lines.append(f"{o.status:<8} {o.name}: {o.reason}")
        rows[r.module] = (row, lines)
    totals = [0, 0, 0]
    for row, _ in rows.values():
        fields = row.split()
        for i in range(3):
            totals[i] += int(fields[1 + i])
    out = _header(version)
    out += [rows[m][0] for m in sorted(rows)]
    out.append(f"{'total':<34} {totals[0]:>7} {totals[1]:>7} {totals[2]:>8}")
    for m in sorted(rows):
        if rows[m][1]:
            out += ["", f"## {m}", *[line for line in rows[m][1] if line.strip()]]
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tests", required=True, help="docker-py's tests directory (with integration/)")
    ap.add_argument("--out", default=RESULTS, help="the results file (default bench/results/dockerpy.txt)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed for one module")
    ap.add_argument("--keep", action="store_true", help="keep the scratch root and the service's log")
    ap.add_argument("modules", nargs="*", help="module names (api_network_test.py); default: all of them")
    args = ap.parse_args()

    tests = os.path.abspath(args.tests)
    integration = os.path.join(tests, "integration")
    if not os.path.isfile(os.path.join(integration, "base.py")):
        raise SystemExit(f"{integration}/base.py is missing: --tests is docker-py's tests directory")
    modules = [m if m.endswith(".py") else m + ".py" for m in args.modules]
    if not modules:
        modules = sorted(m for m in os.listdir(integration) if m.endswith("_test.py"))
    for m in modules:
        if m not in RETIRED and not os.path.isfile(os.path.join(integration, m)):
            raise SystemExit(f"no module {m} in {integration}")

    import docker

    workdir = tempfile.mkdtemp(prefix="dockerpy-suite-")
    root = os.path.join(workdir, "root")
    sock = os.path.join(workdir, "docker.sock")
    proc = None
    mirror = None
    results = []
    try:
        prepare_root(root)
        from bench.hub_mirror import HubMirror

        mirror = HubMirror(os.path.join(workdir, "hub-mirror"))  # Docker Hub's pulls served on 127.0.0.1
        mirror.fill(root)
        proc = start_service(root, sock)
        log(f"service on {sock}, root {root}")
        for m in modules:
            if m in RETIRED:
                results.append(ModuleResult(m, error="not run: " + RETIRED[m]))
                continue
            results.append(run_module(tests, m, sock, workdir, args.timeout))
            r = results[-1]
            log(
                f"  {r.count('passed')} passed, {r.count('failed')} failed, {r.count('skipped')} skipped {r.error}"
            )
    finally:
        if proc is not None:
            stop_service(proc)
        if mirror is not None:
            mirror.stop()
        sys.path.insert(0, REPO)
        from engine import Engine

        if os.path.isdir(root):
            Engine(root).discard()
        if args.keep:
            log(f"kept {workdir}")
        else:
            remove_soon(workdir)
    write_results(args.out, results, docker.__version__)
    with open(args.out) as f:
        print(f.read())


if __name__ == "__main__":
    main()
