"""``dockyard kube generate`` and ``kube play``: manifests from real containers, manifests run as real
containers (env, mounted ConfigMaps and Secrets, claims as named volumes, a pod's containers sharing its infra
container's network and IPC namespaces and hostname), ``--down`` removing what play made and nothing else, the
schema check, Podman's exit status, and a stable round trip."""

from __future__ import annotations

import json
import os
import time
import urllib.request

import yaml

from engine.runtime.cgroups import ContainerCgroup, parent_for_root

MiB = 1024 * 1024


def memory_limit(root: str, cid: str) -> int:
    cg = ContainerCgroup.open(cid, parent_for_root(root))
    memory = cg.dirs.get("memory")
    path = (
        os.path.join(memory, "memory.limit_in_bytes")
        if memory
        else os.path.join(cg.dirs["unified"], "memory.max")
    )
    with open(path) as f:
        return int(f.read().strip())


def docs_of(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def names(cli) -> set[str]:
    return set(cli("ps", "-a", "--format", "{{.Names}}").out.split())


def volumes(cli) -> set[str]:
    return set(cli("volume", "ls", "-q").out.split())


def wait_for(predicate, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)


APP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  greeting: hello
  app.conf: |
    port=8080
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
data:
  password: c2VjcmV0
stringData:
  user: admin
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: store
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
---
apiVersion: v1
kind: Pod
metadata:
  name: duo
  labels:
    tier: back
spec:
  containers:
  - name: server
    image: busybox
    command: [sh, -c, "echo served > /www/index.html; echo kept > /store/data; exec httpd -f -p 8080 -h /www"]
    env:
    - name: GREETING
      valueFrom:
        configMapKeyRef: {name: settings, key: greeting}
    - name: PASSWORD
      valueFrom:
        secretKeyRef: {name: creds, key: password}
    envFrom:
    - secretRef: {name: creds}
      prefix: S_
    resources:
      limits: {memory: 48Mi}
    volumeMounts:
    - {name: conf, mountPath: /etc/app}
    - {name: sec, mountPath: /etc/creds}
    - {name: store, mountPath: /store}
    - {name: www, mountPath: /www}
  - name: client
    image: busybox
    args: [sleep, "1000"]
  volumes:
  - name: conf
    configMap: {name: settings}
  - name: sec
    secret: {secretName: creds}
  - name: store
    persistentVolumeClaim: {claimName: store}
  - name: www
    emptyDir: {}
"""


def test_generate_writes_a_pod_of_the_containers_settings(cli, busybox, tmp_path):
    cli("volume", "create", "data")
    cli(
        "run", "-d", "--name", "web", "-e", "FOO=bar", "-w", "/tmp", "-v", "data:/data", "--tmpfs", "/cache",
        "-m", "64m", "--cpus", "0.5", "--restart", "always", "--health-cmd", "true", "--health-interval", "5s",
        "--health-retries", "2", "-l", "tier=front", "--expose", "80", "--dns", "192.0.2.1", busybox,
        "sleep", "1000",
    )  # fmt: skip
    r = cli("kube", "generate", "web")
    assert "WARNING: container web: DNS servers cannot be expressed" in r.err
    assert "# NOTE: container web: DNS servers cannot be expressed" in r.out
    (pod,) = docs_of(r.out)
    assert pod["kind"] == "Pod" and pod["metadata"]["name"] == "web-pod"
    assert pod["metadata"]["labels"] == {"app": "web-pod", "tier": "front"}
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Always"
    (ctr,) = spec["containers"]
    assert ctr["name"] == "web" and ctr["image"] == busybox.split(":")[0] or ctr["image"] == busybox
    assert ctr["args"] == ["sleep", "1000"] and "command" not in ctr  # the image's entrypoint is kept
    assert ctr["env"] == [{"name": "FOO", "value": "bar"}]  # not the image's PATH
    assert ctr["workingDir"] == "/tmp"
    assert ctr["ports"] == [{"containerPort": 80}]
    assert ctr["resources"] == {"limits": {"memory": "64Mi", "cpu": "500m"}}
    assert ctr["livenessProbe"] == {
        "exec": {"command": ["sh", "-c", "true"]},
        "periodSeconds": 5,
        "failureThreshold": 2,
    }
    mounts = {m["mountPath"]: m["name"] for m in ctr["volumeMounts"]}
    vols = {v["name"]: v for v in spec["volumes"]}
    assert vols[mounts["/data"]]["persistentVolumeClaim"] == {"claimName": "data"}
    assert vols[mounts["/cache"]]["emptyDir"] == {"medium": "Memory"}
    # -f writes the file, which the schema check accepts; an existing file is not overwritten
    out = tmp_path / "web.yaml"
    cli("kube", "generate", "-f", str(out), "web")
    assert docs_of(out.read_text()) == [pod]
    r = cli.fails("kube", "generate", "-f", str(out), "web")
    assert "file exists" in r.err and "WARNING" not in r.err


def test_generate_a_deployment_and_a_service(cli, busybox):
    cli("run", "-d", "--name", "api", "--expose", "8080/udp", busybox, "sleep", "1000")
    docs = docs_of(cli("kube", "generate", "--type", "deployment", "--replicas", "3", "-s", "api").out)
    assert [d["kind"] for d in docs] == ["Deployment", "Service"]
    dep, svc = docs
    assert dep["metadata"]["name"] == "api-pod-deployment"
    assert dep["spec"]["replicas"] == 3
    assert dep["spec"]["selector"] == {"matchLabels": {"app": "api-pod"}}
    assert dep["spec"]["template"]["metadata"]["labels"]["app"] == "api-pod"
    assert dep["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"containerPort": 8080, "protocol": "UDP"}
    ]
    assert svc["spec"]["selector"] == {"app": "api-pod"}
    assert svc["spec"]["ports"] == [{"name": "8080-udp", "port": 8080, "protocol": "UDP", "targetPort": 8080}]
    r = cli.fails("kube", "generate", "--replicas", "2", "api")
    assert "--replicas is only used with --type deployment" in r.err
    cli.fails("kube", "generate", "nothere", code=125)


def test_play_runs_a_pod_with_configmaps_secrets_and_a_claim_and_down_removes_it(
    cli, busybox, root, tmp_path
):
    other = cli("run", "-d", "--name", "bystander", busybox, "sleep", "1000").out.strip()
    f = tmp_path / "app.yaml"
    f.write_text(APP)
    r = cli("kube", "play", str(f))
    assert r.out.startswith("Pod:\nduo\nVolumes:\n")
    assert names(cli) == {"bystander", "duo-infra", "duo-server", "duo-client"}
    assert len(r.out.split("Containers:\n")[1].split()) == 2  # the infra container is not listed
    env = cli("exec", "duo-server", "sh", "-c", "echo $GREETING $PASSWORD $S_user $S_password").out
    assert env == "hello secret admin secret\n"
    assert (
        cli("exec", "duo-server", "cat", "/etc/app/app.conf", "/etc/app/greeting").out == "port=8080\nhello"
    )
    assert cli("exec", "duo-server", "cat", "/etc/creds/password", "/etc/creds/user").out == "secretadmin"
    # ConfigMaps and Secrets are mounted read-only
    assert cli("exec", "duo-server", "sh", "-c", "echo x > /etc/app/greeting", check=False).code != 0
    assert cli("exec", "duo-server", "hostname").out == "duo\n"
    # the pod's containers reach each other on 127.0.0.1, and by their names
    wait_for(
        lambda: (
            cli("exec", "duo-client", "wget", "-qO-", "http://127.0.0.1:8080/", check=False).out == "served\n"
        )
    )
    assert cli("exec", "duo-client", "wget", "-qO-", "http://server:8080/").out == "served\n"
    cid = json.loads(cli("inspect", "duo-server").out)[0]["Id"]
    assert memory_limit(root, cid) == 48 * MiB
    assert {"settings", "creds-secret", "store"} <= volumes(cli)

    r = cli("kube", "play", str(f), check=False)
    assert r.code == 125 and 'the pod name "duo" is already in use (by container duo-infra)' in r.err

    r = cli("kube", "play", "--down", str(f))
    assert r.out.startswith("Pods stopped:\nduo\nPods removed:\nduo\nVolumes removed:\n")
    assert names(cli) == {"bystander"}
    assert cli("inspect", "-f", "{{.State.Running}}", other).out == "true\n"
    left = volumes(cli)
    assert "store" in left and "settings" not in left and "creds-secret" not in left
    assert "duo" not in cli("network", "ls", "--format", "{{.Name}}").out.split()
    # the claim's data is still there for the next play; --down --force removes the claim's volume too
    cli("kube", "play", str(f))
    wait_for(lambda: cli("exec", "duo-client", "true", check=False).code == 0)
    cli("kube", "play", "--replace", str(f))
    assert names(cli) == {"bystander", "duo-infra", "duo-server", "duo-client"}
    cli("kube", "play", "--down", "--force", str(f))
    assert "store" not in volumes(cli)
    assert names(cli) == {"bystander"}


def test_play_a_deployment_makes_its_replicas(cli, busybox, tmp_path):
    f = tmp_path / "dep.yaml"
    f.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: worker}\nspec:\n  replicas: 3\n"
        "  selector: {matchLabels: {app: worker}}\n  template:\n    metadata: {labels: {app: worker}}\n"
        "    spec:\n      containers:\n      - {name: w, image: busybox, args: [sleep, '1000']}\n"
    )
    cli("kube", "play", str(f))
    assert names(cli) == {f"worker-pod-{n}-{c}" for n in range(3) for c in ("w", "infra")}
    labels = json.loads(cli("inspect", "worker-pod-1-w").out)[0]["Config"]["Labels"]
    assert labels["app"] == "worker"
    # generate of a replica gives the Deployment back
    (dep,) = docs_of(cli("kube", "generate", "--type", "deployment", "--replicas", "3", "worker-pod-1-w").out)
    assert dep["metadata"]["name"] == "worker" and dep["spec"]["replicas"] == 3
    assert dep["spec"]["template"]["metadata"]["name"] == "worker-pod"
    cli("kube", "down", str(f))
    assert names(cli) == set()


def test_play_refuses_a_field_not_in_the_schema_before_making_anything(cli, busybox, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(
        APP.replace('    args: [sleep, "1000"]\n', '    args: [sleep, "1000"]\n    restartPolicyy: Always\n')
    )
    r = cli.fails("kube", "play", str(f), code=125)  # Podman's status for an error
    assert f"{f}: document 4 (Pod duo): Pod.spec.containers[1].restartPolicyy: unknown field" in r.err
    f.write_text(
        APP.replace("limits: {memory: 48Mi}", "limits: {memory: 48Mi}\n    ports: [{containerPort: '80'}]")
    )
    r = cli.fails("kube", "play", str(f))
    assert "Pod.spec.containers[0].ports[0].containerPort: expected int, got str '80'" in r.err
    f.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
    r = cli.fails("kube", "play", str(f))
    assert "document 1: apiVersion v1 kind Namespace is not supported" in r.err
    f.write_text(APP.replace("key: greeting", "key: nokey"))
    r = cli.fails("kube", "play", str(f))
    assert "configmap 'settings' has no key 'nokey'" in r.err
    f.write_text(
        APP.replace(
            '    args: [sleep, "1000"]\n',
            '    args: [sleep, "1000"]\n    livenessProbe: {httpGet: {port: 80}}\n',
        )
    )
    r = cli.fails("kube", "play", str(f))
    assert "pod duo, container client: only exec probes are supported" in r.err
    assert names(cli) == set() and volumes(cli) == set()


def test_generate_play_generate_is_stable(cli, busybox, tmp_path):
    cli("volume", "create", "data")
    cli(
        "run", "-d", "--name", "web", "-e", "FOO=bar", "-w", "/tmp", "-v", "data:/data", "-v", "/srv:/srv:ro",
        "--tmpfs", "/cache", "-m", "64m", "--cpus", "1", "--restart", "on-failure", "--health-cmd",
        "test -d /data", "-l", "tier=front", "--expose", "80", "--cap-add", "NET_ADMIN", "-u", "1000:1000",
        busybox, "sleep", "1000",
    )  # fmt: skip
    first = cli("kube", "generate", "web").out
    f = tmp_path / "web.yaml"
    f.write_text(first)
    cli("rm", "-f", "web")
    cli("kube", "play", str(f))
    second = cli("kube", "generate", "web-pod-web").out
    assert second == first
    assert cli("exec", "web-pod-web", "sh", "-c", "id -u; echo $FOO; pwd").out == "1000\nbar\n/tmp\n"
    cli("kube", "play", "--down", str(f))
    assert names(cli) == set() and "data" in volumes(cli)


SHARED = """\
apiVersion: v1
kind: Pod
metadata:
  name: shared
spec:
  hostname: box
  containers:
  - name: server
    image: busybox
    command: [sh, -c, "echo local > /tmp/index.html; exec httpd -f -p 127.0.0.1:8080 -h /tmp"]
    ports: [{containerPort: 8080}]
  - name: client
    image: busybox
    args: [sleep, "1000"]
"""


def ns(cli, name: str, kind: str) -> str:
    return cli("exec", name, "readlink", f"/proc/self/ns/{kind}").out


def test_a_pods_containers_share_its_infra_containers_network_ipc_and_uts(cli, busybox, tmp_path):
    f = tmp_path / "pod.yaml"
    f.write_text(SHARED)
    cli("kube", "play", str(f))
    assert names(cli) == {"shared-infra", "shared-server", "shared-client"}
    infra = json.loads(cli("inspect", "shared-infra").out)[0]
    assert infra["Config"]["Labels"]["io.dockyard.kube.infra"] == "true"
    assert infra["Config"]["Image"] == "busybox" and infra["State"]["Running"]
    for name in ("shared-server", "shared-client"):
        host = json.loads(cli("inspect", name).out)[0]["HostConfig"]
        assert (
            host["NetworkMode"] == f"container:{infra['Id']}" and host["IpcMode"] == "container:shared-infra"
        )
    # the server listens on 127.0.0.1 only: the pod's other container reaches it there
    wait_for(
        lambda: (
            cli("exec", "shared-client", "wget", "-qO-", "http://127.0.0.1:8080/", check=False).out
            == "local\n"
        )
    )
    # one network namespace (with only the pod's loopback in it), one IPC namespace and /dev/shm, one UTS
    # namespace (one hostname)
    for kind in ("net", "ipc", "uts"):
        assert (
            ns(cli, "shared-client", kind) == ns(cli, "shared-server", kind) == ns(cli, "shared-infra", kind)
        )
    assert ns(cli, "shared-client", "pid") != ns(cli, "shared-server", "pid")  # no shareProcessNamespace
    assert cli("exec", "shared-client", "ls", "/sys/class/net").out.split() == ["lo"]
    cli("exec", "shared-server", "sh", "-c", "echo segment > /dev/shm/x")
    assert cli("exec", "shared-client", "cat", "/dev/shm/x").out == "segment\n"
    assert {cli("exec", n, "hostname").out for n in ("shared-server", "shared-client")} == {"box\n"}
    # a container outside the pod has a namespace of its own: nothing listens on its 127.0.0.1:8080
    r = cli("run", "--rm", busybox, "wget", "-T", "2", "-qO-", "http://127.0.0.1:8080/", check=False)
    assert r.code != 0 and "local" not in r.out
    # generate of the pod by its name: its two containers, not the infra one, with their ports
    (pod,) = docs_of(cli("kube", "generate", "shared").out)
    assert pod["metadata"]["name"] == "shared" and pod["spec"]["hostname"] == "box"
    assert [c["name"] for c in pod["spec"]["containers"]] == ["server", "client"]
    assert pod["spec"]["containers"][0]["ports"] == [{"containerPort": 8080}]
    r = cli.fails("kube", "generate", "shared-infra", code=125)
    assert "infra containers" in r.err
    cli("kube", "play", "--down", str(f))
    assert names(cli) == set()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_pod_on_a_network_answers_to_its_name_and_publishes_its_ports_once(cli, busybox, tmp_path):
    port = free_port()
    f = tmp_path / "pod.yaml"
    f.write_text(
        SHARED.replace("127.0.0.1:8080", "8080")
        .replace("  hostname: box\n", "  hostname: box\n  shareProcessNamespace: true\n")
        .replace("{containerPort: 8080}", f"{{containerPort: 8080, hostPort: {port}, hostIP: 127.0.0.1}}")
    )
    # a hostPort needs a network: the tests' default one is none
    r = cli.fails("kube", "play", str(f), code=125)
    assert "pod shared publishes a hostPort, which needs a network" in r.err
    assert names(cli) == set()
    cli("network", "create", "--internal", "podnet")
    cli("kube", "play", "--network", "podnet", str(f))
    ports = {n: cli("port", n).out for n in ("shared-infra", "shared-server", "shared-client")}
    assert ports == {
        "shared-infra": f"8080/tcp -> 127.0.0.1:{port}\n",
        "shared-server": "",
        "shared-client": "",
    }
    wait_for(
        lambda: cli("exec", "shared-client", "wget", "-qO-", "http://127.0.0.1:8080/", check=False).code == 0
    )
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy: this machine only
    with direct.open(f"http://127.0.0.1:{port}/", timeout=10) as resp:
        assert resp.read() == b"local\n"
    (pod,) = docs_of(cli("kube", "generate", "shared").out)
    assert pod["spec"]["containers"][0]["ports"] == [
        {"containerPort": 8080, "hostPort": port, "hostIP": "127.0.0.1"}
    ]
    assert cli("inspect", "-f", "{{json .NetworkSettings.Networks}}", "shared-server").out.strip() in (
        "{}",
        "null",
    )
    cli("run", "-d", "--name", "outside", "--network", "podnet", busybox, "sleep", "1000")
    for host in ("shared", "server", "client"):
        wait_for(
            lambda host=host: (
                cli("exec", "outside", "wget", "-qO-", f"http://{host}:8080/", check=False).out == "local\n"
            )
        )
    # shareProcessNamespace: the pod's processes see each other, the infra's sleep as PID 1
    ps = cli("exec", "shared-client", "ps", "-o", "pid,args").out
    assert "httpd" in ps and "1 sleep 2147483647" in " ".join(ps.split())
    cli("kube", "play", "--down", str(f))
    assert names(cli) == {"outside"}
    assert "podnet" in cli("network", "ls", "--format", "{{.Name}}").out.split()
