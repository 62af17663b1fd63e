"""The Engine API service's server, system and container endpoints, driven by Docker's own client and by
docker-py against a real engine root, plus the socket's security and a crowd of clients at once."""

from __future__ import annotations

import http.client
import io
import json
import os
import socket
import stat
import subprocess
import tarfile
import threading
import time

import pytest

from .conftest import start_service, stop_service

pytestmark = [pytest.mark.slow, pytest.mark.root]


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 30) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def request(
    sock: str, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
):  # type: ignore[no-untyped-def]
    conn = UnixHTTP(sock)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), data


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


# -- server and system ------------------------------------------------------------------------------------
def test_ping_version_and_info_over_both_path_forms(service, docker, busybox):
    status, headers, body = request(service.socket, "GET", "/_ping")
    assert (status, body) == (200, b"OK")
    assert headers["Api-Version"] == "1.43"
    status, headers, body = request(service.socket, "HEAD", "/v1.41/_ping")
    assert status == 200 and body == b"" and headers["Api-Version"] == "1.41"
    bare = json.loads(request(service.socket, "GET", "/version")[2])
    versioned = json.loads(request(service.socket, "GET", "/v1.41/version")[2])
    assert bare["ApiVersion"] == versioned["ApiVersion"] == "1.43"
    assert bare["MinAPIVersion"] == "1.24"
    out = docker("version", "--format", "{{.Server.APIVersion}} {{.Client.APIVersion}}").out.split()
    assert out[0] == "1.43"  # the client negotiates down to what it speaks (1.41 for Debian's 20.10)
    info = docker("info", "--format", "{{json .}}").out
    doc = json.loads(info)
    assert doc["Images"] == 1 and doc["Containers"] == 0 and doc["DockerRootDir"] == service.root
    assert doc["OSType"] == "linux"


def test_versions_outside_the_range_and_unknown_paths_get_docker_errors(service):
    status, _, body = request(service.socket, "GET", "/v1.99/version")
    assert status == 400
    assert (
        json.loads(body)["message"] == "client version 1.99 is too new. Maximum supported API version is 1.43"
    )
    status, _, body = request(service.socket, "GET", "/v1.12/version")
    assert status == 400 and "too old. Minimum supported API version is 1.24" in json.loads(body)["message"]
    status, headers, body = request(service.socket, "GET", "/v1.43/nothing/here")
    assert status == 404 and json.loads(body) == {"message": "page not found"}
    assert headers["Content-Type"].startswith("application/json")


def test_the_socket_is_reachable_by_root_and_its_group_only(service):
    st = os.stat(service.socket)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660
    assert st.st_uid == os.getuid()
    import grp

    try:
        want = grp.getgrnam("dockyard").gr_gid
    except KeyError:
        want = os.getgid()
    assert st.st_gid == want


def test_a_socket_already_served_is_refused_and_a_stale_one_replaced(service, root, tmp_path):
    proc = start_service(root, service.socket)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert f"another server is listening on {service.socket}" in err.decode()
    stale = tmp_path / "stale.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(stale))
    s.close()  # a socket file nobody listens on, as a killed server leaves it
    proc = start_service(root, str(stale))
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if request(str(stale), "GET", "/_ping")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the service did not replace the stale socket")
    finally:
        stop_service(proc)


def test_tcp_without_tls_is_refused(root, tmp_path):
    proc = start_service(root, str(tmp_path / "d.sock"), "--tcp", "127.0.0.1:23750")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "--tcp needs --tls-cert, --tls-key and --tls-ca" in err.decode()
    assert not os.path.exists(tmp_path / "d.sock")


def _certs(d) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=test-ca")  # fmt: skip
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth")):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}-key.pem", "-out", f"{name}.csr",
            "-subj", f"/CN={name}")  # fmt: skip
        (d / f"{name}.ext").write_text(ext + "\n")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")  # fmt: skip
    return {k: str(d / f"{k}.pem") for k in ("ca", "server", "server-key", "client", "client-key")}


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_tcp_with_tls_requires_a_client_certificate(root, tmp_path, busybox):
    from .conftest import docker_binary

    c = _certs(tmp_path)
    port = _free_port()
    sock = str(tmp_path / "d.sock")
    proc = start_service(root, sock, "--tcp", f"127.0.0.1:{port}", "--tls-cert", c["server"], "--tls-key",
                         c["server-key"], "--tls-ca", c["ca"])  # fmt: skip
    try:
        env = {**os.environ, "DOCKER_CONFIG": str(tmp_path)}
        env.pop("DOCKER_HOST", None)
        base = [docker_binary(), "-H", f"tcp://127.0.0.1:{port}", "--tlsverify", "--tlscacert", c["ca"]]
        deadline = time.monotonic() + 20
        while True:
            r = subprocess.run([*base, "--tlscert", c["client"], "--tlskey", c["client-key"], "images",
                                "--format", "{{.Repository}}"], env=env, capture_output=True, text=True)  # fmt: skip
            if r.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == ["busybox"]
        import ssl

        ctx = ssl.create_default_context(cafile=c["ca"])  # no client certificate: the handshake fails
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                    tls.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
                    if not tls.recv(100):
                        raise ConnectionResetError("closed")
    finally:
        stop_service(proc)


def test_an_oversized_body_gets_413_and_nothing_is_made(service, busybox, cli):
    body = b'{"Image": "busybox", "Cmd": ["true"], "Labels": {"x": "' + b"a" * (17 * 1024 * 1024) + b'"}}'
    status, _, data = request(service.socket, "POST", "/v1.43/containers/create", body,
                              {"Content-Type": "application/json"})  # fmt: skip
    assert status == 413
    assert "request body too large" in json.loads(data)["message"]
    assert cli("ps", "-aq").out == ""
    status, _, _ = request(service.socket, "GET", "/_ping", headers={"X-Big": "a" * 100_000})
    assert status in (400, 431)


def test_the_service_ends_after_its_idle_time(root, tmp_path):
    sock = str(tmp_path / "d.sock")
    env = {**os.environ, "DOCKYARD_ROOT": root}
    from tests.conftest import DOCKYARD

    t0 = time.monotonic()
    proc = subprocess.run([DOCKYARD, "system", "service", "--socket", sock, "--time", "1"], env=env,
                          capture_output=True, timeout=30)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - t0 < 10
    assert not os.path.exists(sock)


def test_events_stream_with_filters_and_a_time_range(service, docker, busybox):
    since = str(int(time.time()) - 1)
    follower = docker.popen("events", "--filter", "type=container", "--filter", "event=start",
                            "--format", "{{.Action}} {{.Actor.Attributes.name}}")  # fmt: skip
    time.sleep(1)
    docker("run", "-d", "--name", "ev", busybox, "true")
    docker("wait", "ev")
    deadline = time.monotonic() + 10
    line = b""
    while time.monotonic() < deadline and not line:
        line = follower.stdout.readline()  # type: ignore[union-attr]
    follower.terminate()
    follower.wait()
    assert line.decode().strip() == "start ev"
    until = str(int(time.time()) + 1)
    out = docker("events", "--since", since, "--until", until, "--filter", "container=ev",
                 "--format", "{{.Type}} {{.Action}}").out.splitlines()  # fmt: skip
    assert out[:3] == ["container create", "container start", "container die"]
    r = docker.fails("events", "--since", since, "--until", until, "--filter", "bogus=1")
    assert "invalid filter 'bogus'" in r.err


def test_system_df_counts_images_containers_and_volumes(service, docker, busybox):
    docker("volume", "create", "dfvol")
    docker("create", "--name", "dfc", "-v", "dfvol:/data", busybox, "true")
    status, _, body = request(service.socket, "GET", "/v1.43/system/df")
    doc = json.loads(body)
    assert status == 200
    assert [im["RepoTags"] for im in doc["Images"]] == [["busybox:latest"]]
    assert doc["Images"][0]["Containers"] == 1
    assert [c["Names"] for c in doc["Containers"]] == [["/dfc"]]
    assert [v["Name"] for v in doc["Volumes"]] == ["dfvol"]
    out = docker("system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}").out.splitlines()
    assert out[:3] == ["Images 1 1", "Containers 1 0", "Local Volumes 1 1"]


# -- containers with Docker's client ------------------------------------------------------------------------
def test_run_ps_inspect_logs_stop_rm(service, docker, busybox, cli):
    cid = docker("run", "-d", "--name", "web", "-e", "WHO=dock", "-l", "tier=front", busybox,
                 "sh", "-c", "echo hello $WHO; echo oops >&2; exec sleep 300").out.strip()  # fmt: skip
    assert len(cid) == 64
    ps = docker("ps", "--format", '{{.Names}} {{.Image}} {{.State}} {{.Label "tier"}}').out.splitlines()
    assert ps == ["web busybox:latest running front"]
    assert docker("ps", "-q", "--filter", "label=tier=back").out == ""
    assert docker("inspect", "-f", "{{.State.Status}} {{.Name}} {{.Config.Labels.tier}}", "web").out.strip() == \
        "running /web front"  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        logs = docker("logs", "web")
        if "oops" in logs.err:
            break
        time.sleep(0.1)
    assert logs.out == "hello dock\n" and logs.err == "oops\n"  # the streams come apart again
    stamped = docker("logs", "-t", "--tail", "1", "web").err
    assert stamped.endswith(" oops\n") and stamped[:4].isdigit()
    assert cli("inspect", "-f", "{{.State.Running}}", "web").out.strip() == "true"  # the same root underneath
    assert docker("stop", "-t", "1", "web").out.strip() == "web"
    assert docker("inspect", "-f", "{{.State.ExitCode}}", "web").out.strip() == "137"
    docker("rm", "web")
    assert docker("ps", "-aq").out == ""
    r = docker.fails("inspect", "web")
    assert "No such object: web" in r.err or "No such container: web" in r.err


def test_logs_follow_streams_and_a_gone_client_leaves_nothing(service, docker, busybox):
    docker("run", "-d", "--name", "tick", busybox, "sh", "-c",
           "i=0; while [ $i -lt 400 ]; do echo line$i; i=$((i+1)); sleep 0.1; done")  # fmt: skip
    time.sleep(0.5)
    baseline = fds(service.proc.pid)
    f = docker.popen("logs", "-f", "tick")
    got = [f.stdout.readline() for _ in range(8)]  # type: ignore[union-attr]
    assert got[0] == b"line0\n" and got[7] == b"line7\n"
    assert fds(service.proc.pid) > baseline  # the log and its watch are open for this reader
    f.kill()  # the client goes away mid-stream
    f.wait()
    deadline = time.monotonic() + 10
    while fds(service.proc.pid) > baseline and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fds(service.proc.pid) <= baseline
    # a follower ends by itself when the container stops
    f = docker.popen("logs", "-f", "--tail", "1", "tick")
    time.sleep(0.5)
    docker("kill", "tick")
    out, _ = f.communicate(timeout=20)
    assert f.returncode == 0 and out.startswith(b"line")


def test_wait_top_stats_pause_rename(service, docker, busybox):
    docker("run", "-d", "--name", "w1", busybox, "sh", "-c", "sleep 1; exit 7")
    assert docker("wait", "w1").out.strip() == "7"
    docker("run", "-d", "--name", "busy", busybox, "sh", "-c", "exec sleep 300")
    top = docker("top", "busy").out.splitlines()
    assert top[0].split()[:3] == ["UID", "PID", "PPID"] and top[1].endswith("sleep 300")
    stats = docker(
        "stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}} {{.MemUsage}}", "busy"
    ).out.split()
    assert stats[0] == "busy" and stats[1] == "1" and stats[3] == "/"
    docker("pause", "busy")
    assert docker("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "busy").out.strip() == "paused true"
    assert "(Paused)" in docker("ps", "--format", "{{.Status}}").out
    docker("unpause", "busy")
    docker("rename", "busy", "calm")
    assert docker("inspect", "-f", "{{.Name}}", "calm").out.strip() == "/calm"
    assert docker("ps", "--format", "{{.Names}}").out.split() == ["calm"]
    docker("rm", "-f", "calm")


def test_cp_diff_and_export_through_the_archive_endpoints(service, docker, busybox, tmp_path, cli):
    docker("run", "-d", "--name", "box", busybox, "sh", "-c", "mkdir /work; exec sleep 300")
    src = tmp_path / "note.txt"
    src.write_text("from the host\n")
    time.sleep(0.3)
    docker("cp", str(src), "box:/work/")
    assert cli("exec", "box", "cat", "/work/note.txt").out == "from the host\n"
    assert cli("exec", "box", "stat", "-c", "%u", "/work/note.txt").out.strip() == "0"
    back = tmp_path / "back"
    docker("cp", "box:/work/note.txt", str(back))
    assert back.read_text() == "from the host\n"
    r = docker.fails("cp", "box:/no/such", str(tmp_path / "x"))
    assert "Could not find the file /no/such in container box" in r.err or "No such container:path" in r.err
    diff = docker("diff", "box").out.splitlines()
    assert "A /work/note.txt" in diff and "A /work" in diff
    out = tmp_path / "box.tar"
    docker("export", "-o", str(out), "box")
    with tarfile.open(out) as tf:
        names = tf.getnames()
        assert "work/note.txt" in names and "bin/busybox" in names
        assert tf.extractfile("work/note.txt").read() == b"from the host\n"  # type: ignore[union-attr]
    status, headers, body = request(service.socket, "HEAD", "/v1.43/containers/box/archive?path=/work")
    assert status == 200
    import base64

    st = json.loads(base64.b64decode(headers["X-Docker-Container-Path-Stat"]))
    assert st["name"] == "work" and st["mode"] & (1 << 31)  # Go's ModeDir
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as tf:
        info = tarfile.TarInfo("put.txt")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"put"))
    status, _, _ = request(service.socket, "PUT", "/v1.43/containers/box/archive?path=/work", tar.getvalue())
    assert status == 200
    assert cli("exec", "box", "cat", "/work/put.txt").out == "put"
    docker("rm", "-f", "box")


def test_errors_carry_docker_statuses(service, docker, busybox):
    r = docker.fails("start", "nosuch")
    assert "No such container: nosuch" in r.err
    docker("run", "-d", "--name", "up", busybox, "sleep", "300")
    r = docker.fails("rm", "up")
    assert "You cannot remove a running container" in r.err  # Docker's words at API 1.43
    status, _, _ = request(service.socket, "POST", "/v1.43/containers/up/start")
    assert status == 304
    docker("kill", "up")
    docker("wait", "up")
    status, _, _ = request(service.socket, "POST", "/v1.43/containers/up/stop")
    assert status == 304
    body = json.dumps(
        {"Image": "busybox", "Cmd": ["true"], "HostConfig": {"RestartPolicy": {"Name": "sometimes"}}}
    )
    status, _, data = request(service.socket, "POST", "/v1.43/containers/create", body.encode(),
                              {"Content-Type": "application/json"})  # fmt: skip
    assert status == 400 and "invalid restart policy" in json.loads(data)["message"]
    status, _, data = request(service.socket, "POST", "/v1.43/containers/create?name=up", b'{"Image":"busybox"}',
                              {"Content-Type": "application/json"})  # fmt: skip
    assert status == 409 and 'The container name "/up" is already in use' in json.loads(data)["message"]
    status, _, data = request(service.socket, "GET", "/v1.43/containers/json?filters=notjson")
    assert status == 400
    docker("rm", "up")


def test_create_body_options_reach_the_container(service, busybox, cli):
    body = {
        "Image": "busybox",
        "Cmd": ["sh", "-c", "exec sleep 300"],
        "Env": ["A=1"],
        "WorkingDir": "/tmp",
        "Hostname": "made-by-api",
        "Labels": {"k": "v"},
        "HostConfig": {"Memory": 64 * 1024 * 1024, "PidsLimit": 50, "Tmpfs": {"/scratch": "size=1m"},
                       "NetworkMode": "none", "ReadonlyRootfs": True},
    }  # fmt: skip
    status, _, data = request(service.socket, "POST", "/v1.43/containers/create?name=opt",
                              json.dumps(body).encode(), {"Content-Type": "application/json"})  # fmt: skip
    assert status == 201, data
    assert request(service.socket, "POST", "/v1.43/containers/opt/start")[0] == 204
    assert cli("exec", "opt", "hostname").out.strip() == "made-by-api"
    assert cli("exec", "opt", "sh", "-c", "echo $A; pwd").out.split() == ["1", "/tmp"]
    assert "/scratch" in cli("exec", "opt", "cat", "/proc/mounts").out
    assert cli("exec", "opt", "touch", "/nope", check=False).code != 0  # the root is read-only
    doc = json.loads(request(service.socket, "GET", "/v1.43/containers/opt/json")[2])
    assert doc["HostConfig"]["Memory"] == 64 * 1024 * 1024 and doc["HostConfig"]["PidsLimit"] == 50
    cli("rm", "-f", "opt")


# -- containers with docker-py -------------------------------------------------------------------------------
def test_docker_py_run_list_get_logs_wait_remove(service, docker_py, busybox):
    import docker

    c = docker_py.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2; exit 3"], detach=True,
                                 labels={"app": "py"}, name="pyc")  # fmt: skip
    assert docker_py.containers.get("pyc").id == c.id
    assert c.wait() == {"StatusCode": 3, "Error": None}
    assert c.logs() == b"out\nerr\n"
    assert c.logs(stderr=False) == b"out\n"
    assert [x.name for x in docker_py.containers.list(all=True, filters={"label": "app=py"})] == ["pyc"]
    assert docker_py.containers.list() == []  # not running
    c.reload()
    assert c.status == "exited" and c.attrs["State"]["ExitCode"] == 3
    c.remove()
    with pytest.raises(docker.errors.NotFound):
        docker_py.containers.get("pyc")
    out = docker_py.containers.run("busybox", ["echo", "attached"], remove=True)
    assert out == b"attached\n"
    assert docker_py.containers.list(all=True) == []


def test_docker_py_stats_one_shot_and_streamed(service, docker_py, busybox):
    c = docker_py.containers.run("busybox", ["sleep", "300"], detach=True)
    s = c.stats(stream=False)
    assert s["id"] == c.id and s["pids_stats"]["current"] == 1
    assert (
        s["cpu_stats"]["cpu_usage"]["total_usage"] > 0 and s["precpu_stats"]["cpu_usage"]["total_usage"] > 0
    )
    stream = c.stats(decode=True)
    first, second = next(stream), next(stream)
    assert (
        second["precpu_stats"]["cpu_usage"]["total_usage"] == first["cpu_stats"]["cpu_usage"]["total_usage"]
    )
    stream.close()
    c.remove(force=True)


# -- many clients at once -----------------------------------------------------------------------------------
def test_fifty_clients_create_start_wait_and_remove_at_once(service, busybox, cli):
    import docker

    baseline = fds(service.proc.pid)
    errors: list[BaseException] = []
    codes: list[int] = []

    def one(i: int) -> None:
        try:
            client = docker.DockerClient(base_url=service.url, timeout=120)
            c = client.containers.create("busybox", ["sh", "-c", f"exit {i % 5}"], name=f"crowd{i}")
            c.start()
            codes.append(c.wait(timeout=120)["StatusCode"])
            c.remove()
            client.close()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not errors, errors[:3]
    assert sorted(codes) == sorted(i % 5 for i in range(50))
    assert cli("ps", "-aq").out == ""
    status, _, body = request(service.socket, "GET", "/v1.43/containers/json?all=1")
    assert json.loads(body) == []
    deadline = time.monotonic() + 10
    while fds(service.proc.pid) > baseline + 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert fds(service.proc.pid) <= baseline + 2  # no connection, pipe or watch left open
