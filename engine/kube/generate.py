"""``kube generate``: containers of the engine as a Kubernetes Pod or Deployment (and a Service), as
``podman kube generate`` writes them; what the YAML cannot say is returned as warnings."""

from __future__ import annotations

from ..errors import InvalidArgument
from . import labels as L
from .quantity import format_cpus, format_memory

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..engine import Engine

_RESTART = {
    "always": "Always",
    "unless-stopped": "Always",
    "on-failure": "OnFailure",
    "no": "Never",
    "": "Never",
}

#: labels that the engine or another tool sets, never copied into a manifest
_SKIPPED_LABEL_PREFIXES = (L.PREFIX, "com.docker.compose.")


def _is_anonymous(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


def _volume_name(name: str) -> str:
    """A volume's name as a DNS label (Kubernetes' rule for the names of a pod's volumes)."""
    out = "".join(c if c.isalnum() or c == "-" else "-" for c in name.lower()).strip("-")
    return out[:63] or "volume"


def _seconds(ns: Any) -> int | None:
    """Nanoseconds as whole seconds, rounded up: a probe's timings are seconds, 1 at least."""
    return -(-int(ns) // 1_000_000_000) if ns else None


def _probe(health: dict[str, Any] | None) -> dict[str, Any] | None:
    if not health or not health.get("Test") or health["Test"][0] == "NONE":
        return None
    test = list(health["Test"])
    command = ["sh", "-c", test[1]] if test[0] == "CMD-SHELL" else test[1:]
    probe: dict[str, Any] = {"exec": {"command": command}}
    for key, api in (
        ("initialDelaySeconds", "StartPeriod"),
        ("periodSeconds", "Interval"),
        ("timeoutSeconds", "Timeout"),
    ):
        value = _seconds(health.get(api))
        if value:
            probe[key] = value
    if health.get("Retries"):
        probe["failureThreshold"] = int(health["Retries"])
    return probe


def _container(
    eng: Engine, info: dict[str, Any], warnings: list[str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One container's entry of the pod spec, and the pod volumes it uses."""
    config = info.get("Config") or {}
    host = info.get("HostConfig") or {}
    labels = config.get("Labels") or {}
    name = labels.get(L.CONTAINER) or info["Name"].lstrip("/")
    try:
        image_config = eng.images.inspect(info["Image"]).get("Config") or {}
    except Exception:
        image_config = {}
    ctr: dict[str, Any] = {"name": name, "image": config.get("Image", "")}
    entrypoint = config.get("Entrypoint") or []
    cmd = config.get("Cmd") or []
    if entrypoint != (image_config.get("Entrypoint") or []):
        ctr["command"] = list(entrypoint)
    if cmd != (image_config.get("Cmd") or []) or "command" in ctr:
        if cmd:
            ctr["args"] = list(cmd)
    image_env = set(image_config.get("Env") or [])
    env = []
    for item in config.get("Env") or []:
        if item in image_env:
            continue
        key, _, value = item.partition("=")
        env.append({"name": key, "value": value})
    if env:
        ctr["env"] = env
    if config.get("WorkingDir") and config["WorkingDir"] != (image_config.get("WorkingDir") or ""):
        ctr["workingDir"] = config["WorkingDir"]
    ports = []
    bindings = host.get("PortBindings") or {}
    if labels.get(L.PORTS):  # kube play's: the pod's infra container publishes them
        import json

        ports = list(json.loads(labels[L.PORTS]))
    for spec in sorted(set(config.get("ExposedPorts") or {}) | set(bindings)):
        number, _, proto = spec.partition("/")
        port: dict[str, Any] = {"containerPort": int(number)}
        for b in bindings.get(spec) or []:
            if b.get("HostPort"):
                port["hostPort"] = int(b["HostPort"])
            if b.get("HostIp"):
                port["hostIP"] = b["HostIp"]
            break
        if proto and proto != "tcp":
            port["protocol"] = proto.upper()
        ports.append(port)
    if ports:
        ctr["ports"] = ports
    limits: dict[str, str] = {}
    if host.get("Memory"):
        limits["memory"] = format_memory(int(host["Memory"]))
    if host.get("NanoCpus"):
        limits["cpu"] = format_cpus(int(host["NanoCpus"]) / 1e9)
    elif host.get("CpuQuota") and host.get("CpuPeriod"):
        limits["cpu"] = format_cpus(int(host["CpuQuota"]) / int(host["CpuPeriod"]))
    if limits:
        ctr["resources"] = {"limits": limits}
    probe = _probe(config.get("Healthcheck"))
    if probe:
        ctr["livenessProbe"] = probe
    security: dict[str, Any] = {}
    if host.get("Privileged"):
        security["privileged"] = True
    if host.get("ReadonlyRootfs"):
        security["readOnlyRootFilesystem"] = True
    caps = {k: list(host[v]) for k, v in (("add", "CapAdd"), ("drop", "CapDrop")) if host.get(v)}
    if caps:
        security["capabilities"] = caps
    user = str(config.get("User") or "")
    if user:
        uid, _, gid = user.partition(":")
        if uid.isdigit() and (not gid or gid.isdigit()):
            security["runAsUser"] = int(uid)
            if gid:
                security["runAsGroup"] = int(gid)
        else:
            warnings.append(
                f"container {name}: user {user!r} is not numeric: runAsUser takes a number, not kept"
            )
    if security:
        ctr["securityContext"] = security
    if config.get("Tty"):
        ctr["tty"] = True
    if config.get("OpenStdin"):
        ctr["stdin"] = True
    mounts, volumes = [], []
    for m in info.get("Mounts") or []:
        kind, target = m.get("Type"), m.get("Destination", "")
        if kind == "volume":
            vol = _volume_name(m.get("Name", ""))
            source = (
                {"emptyDir": {}}
                if _is_anonymous(m.get("Name", ""))
                else {"persistentVolumeClaim": {"claimName": m.get("Name", "")}}
            )
            if source.get("emptyDir") is not None:
                vol = f"{name}-{_volume_name(target)}"
        elif kind == "bind":
            vol = _volume_name(m.get("Source", "")) + "-host"
            source = {
                "hostPath": {"path": m.get("Source", ""), "type": "Directory" if _is_dir(m) else "File"}
            }
        elif kind == "tmpfs":
            vol = f"{name}-{_volume_name(target)}-tmpfs"
            source = {"emptyDir": {"medium": "Memory"}}
        else:
            warnings.append(f"container {name}: a {kind} mount at {target} cannot be expressed, left out")
            continue
        mount: dict[str, Any] = {"name": vol, "mountPath": target}
        if not m.get("RW", True):
            mount["readOnly"] = True
        mounts.append(mount)
        volumes.append({"name": vol, **source})
    if mounts:
        ctr["volumeMounts"] = mounts
    for key, what in (
        ("Devices", "devices"),
        ("Ulimits", "ulimits"),
        ("Sysctls", "sysctls"),
        ("Dns", "DNS servers"),
        ("ExtraHosts", "extra hosts"),
        ("SecurityOpt", "security options"),
    ):
        if host.get(key):
            warnings.append(f"container {name}: {what} cannot be expressed in a pod spec, left out")
    if config.get("StopSignal"):
        warnings.append(f"container {name}: stop signal {config['StopSignal']} cannot be expressed, left out")
    return ctr, volumes


def _is_dir(m: dict[str, Any]) -> bool:
    import os

    return os.path.isdir(m.get("Source", ""))


def _pod_containers(eng: Engine, refs: list[str]) -> list[str]:
    """``refs``, or when that is one name that is no container's but a pod's that kube play made, the
    pod's containers (not its infra container) in the order play made them."""
    from ..errors import NotFound

    if len(refs) != 1:
        return refs
    try:
        eng.containers.get(refs[0])
        return refs
    except NotFound:
        pass
    found = eng.containers.list(all=True, filters={"label": [f"{L.POD}={refs[0]}"]})
    members = sorted((c for c in found if L.INFRA not in c.labels), key=lambda c: c.created)
    return [c.id for c in members] or refs


def generate(
    eng: Engine,
    refs: list[str],
    *,
    kind: str = "pod",
    replicas: int = 1,
    service: bool = False,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The manifest's documents for containers ``refs`` (one pod, a container each), and the warnings:
    what the containers have that a manifest cannot say."""
    if kind not in ("pod", "deployment"):
        raise InvalidArgument(f"invalid type {kind!r}: pod or deployment")
    if replicas < 1:
        raise InvalidArgument("--replicas must be 1 or more")
    if replicas != 1 and kind != "deployment":
        raise InvalidArgument("--replicas is only used with --type deployment")
    if not refs:
        raise InvalidArgument("kube generate requires at least one container")
    infos = [eng.containers.inspect(ref) for ref in _pod_containers(eng, refs)]
    infos = [i for i in infos if L.INFRA not in ((i.get("Config") or {}).get("Labels") or {})]
    if not infos:
        raise InvalidArgument(
            "only pod infra containers given: they hold a pod's namespaces, no manifest container"
        )
    warnings: list[str] = []
    first = infos[0]
    first_labels = (first.get("Config") or {}).get("Labels") or {}
    pod = first_labels.get(L.POD) or f"{first['Name'].lstrip('/')}-pod"
    if first_labels.get(L.DEPLOYMENT):
        pod = f"{first_labels[L.DEPLOYMENT]}-pod"
    containers, volumes, pod_labels = [], [], {"app": pod}
    policies = set()
    for info in infos:
        ctr, vols = _container(eng, info, warnings)
        containers.append(ctr)
        for v in vols:
            if v not in volumes:
                volumes.append(v)
        for k, v in ((info.get("Config") or {}).get("Labels") or {}).items():
            if not k.startswith(_SKIPPED_LABEL_PREFIXES):
                pod_labels[k] = v
        policies.add(((info.get("HostConfig") or {}).get("RestartPolicy") or {}).get("Name") or "no")
        network = (info.get("HostConfig") or {}).get("NetworkMode") or ""
        if network not in ("none", "default", "bridge", "") and not network.startswith("container:"):
            warnings.append(
                f"container {ctr['name']}: network {network} is not expressed; kube play --network chooses one"
            )
    names = [c["name"] for c in containers]
    if len(set(names)) != len(names):
        raise InvalidArgument(f"two containers would have the same name in the pod: {names}")
    if len(policies) > 1:
        warnings.append(
            f"the containers' restart policies differ ({', '.join(sorted(policies))}): the first one's is used"
        )
    restart = _RESTART.get(
        ((first.get("HostConfig") or {}).get("RestartPolicy") or {}).get("Name") or "no", "Never"
    )
    app = pod_labels["app"]
    spec: dict[str, Any] = {"containers": containers, "restartPolicy": restart}
    if volumes:
        spec["volumes"] = volumes
    hostname = (first.get("Config") or {}).get("Hostname") or ""
    if hostname and hostname != pod and not first["Id"].startswith(hostname):
        spec["hostname"] = hostname
    docs: list[dict[str, Any]] = []
    if kind == "pod":
        docs.append(
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod, "labels": pod_labels}, "spec": spec}
        )
    else:
        if kind == "deployment" and restart != "Always":
            warnings.append(
                f"a Deployment's pods restart Always; the containers' policy ({restart}) is not kept"
            )
            spec["restartPolicy"] = "Always"
        deployment = first_labels.get(L.DEPLOYMENT) or f"{pod}-deployment"
        docs.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": deployment, "labels": {"app": app}},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": {"app": app}},
                    "template": {"metadata": {"name": pod, "labels": pod_labels}, "spec": spec},
                },
            }
        )
    if service:
        ports = []
        for c in containers:
            for p in c.get("ports") or []:
                entry: dict[str, Any] = {
                    "name": f"{p['containerPort']}-{p.get('protocol', 'TCP').lower()}",
                    "port": p.get("hostPort", p["containerPort"]),
                    "protocol": p.get("protocol", "TCP"),
                    "targetPort": p["containerPort"],
                }
                ports.append(entry)
        if not ports:
            warnings.append("--service: the containers publish or expose no port; the Service has none")
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": pod, "labels": {"app": app}},
                "spec": {"ports": ports, "selector": {"app": app}},
            }
        )
    return docs, warnings


def dump(docs: list[dict[str, Any]], warnings: list[str]) -> str:
    """The documents as YAML, after a comment naming what the manifest leaves out."""
    import yaml

    head = "# Save the output of this file and use kubectl create -f to import it into Kubernetes.\n#\n"
    head += "# Created with dockyard kube generate\n"
    for w in warnings:
        head += f"# NOTE: {w}\n"
    return head + "---\n".join(yaml.safe_dump(d, sort_keys=False, default_flow_style=False) for d in docs)
