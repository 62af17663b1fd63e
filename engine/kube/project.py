"""``kube generate PROJECT``: the containers of a compose project (found by Compose's labels) as one
Deployment (or Pod) per service, a Service per service with ports and a PersistentVolumeClaim per named
volume; what the manifest cannot say (networks, depends_on, ...) is returned as warnings."""

from __future__ import annotations

from ..errors import ContainerNotFound, InvalidArgument
from .generate import _RESTART, _SKIPPED_LABEL_PREFIXES, _container, _volume_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..engine import Engine

# Compose's labels (engine/compose/labels.py; kube does not import compose)
PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
NUMBER = "com.docker.compose.container-number"
ONEOFF = "com.docker.compose.oneoff"
DEPENDS_ON = "com.docker.compose.depends_on"

#: what a claim asks for: the local engine's volumes have no size, Kubernetes needs one
_STORAGE = "1Gi"


def _labels(info: dict[str, Any]) -> dict[str, str]:
    return (info.get("Config") or {}).get("Labels") or {}


def find_project(eng: Engine, refs: list[str]) -> list[dict[str, Any]] | None:
    """The inspected containers of compose project ``refs[0]`` (not its one-off ``compose run`` ones)
    when that is one name and no container has it, else None: a container's name wins, as podman's pod."""
    if len(refs) != 1:
        return None
    try:
        eng.containers.get(refs[0])
        return None
    except ContainerNotFound:
        pass
    found = eng.containers.list(all=True, filters={"label": [f"{PROJECT}={refs[0]}"]})
    infos = [eng.containers.inspect(c.id) for c in found]
    infos = [i for i in infos if _labels(i).get(ONEOFF) != "True" and _labels(i).get(SERVICE)]
    return infos or None


def _claim(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": _STORAGE}}},
    }


def generate_project(
    eng: Engine, project: str, infos: list[dict[str, Any]], *, kind: str, replicas: int | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """The manifest's documents for the project's containers, and the warnings."""
    if kind not in ("pod", "deployment"):
        raise InvalidArgument(f"invalid type {kind!r}: pod or deployment")
    if replicas is not None:
        raise InvalidArgument(
            f"--replicas cannot be used with compose project {project}: each Deployment has as many "
            "replicas as its service has containers"
        )
    services: dict[str, list[dict[str, Any]]] = {}
    for info in infos:
        services.setdefault(_labels(info)[SERVICE], []).append(info)
    warnings: list[str] = []
    claims: dict[str, str] = {}  # the engine's volume name -> the claim's
    for vol in eng.volumes.list(filters={"label": [f"{PROJECT}={project}"]}):
        claims[vol.name] = _volume_name(vol.name)
    workloads: list[dict[str, Any]] = []
    services_docs: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    networks: set[str] = set()
    for service in sorted(services):
        members = sorted(services[service], key=lambda i: int(_labels(i).get(NUMBER) or 0))
        first = members[0]
        name = _volume_name(service)
        if name in names:
            raise InvalidArgument(
                f"services {names[name]} and {service} would have the same Kubernetes name {name}"
            )
        names[name] = service
        ctr, volumes = _container(eng, first, warnings)
        ctr["name"] = name
        for v in volumes:
            pvc = v.get("persistentVolumeClaim")
            if pvc:
                raw = str(pvc["claimName"])
                claims.setdefault(raw, _volume_name(raw))
                pvc["claimName"] = claims[raw]
        labels = {"app": name}
        for k, val in _labels(first).items():
            if not k.startswith(_SKIPPED_LABEL_PREFIXES):
                labels[k] = val
        host = first.get("HostConfig") or {}
        policy = (host.get("RestartPolicy") or {}).get("Name") or "no"
        spec: dict[str, Any] = {"containers": [ctr], "restartPolicy": _RESTART.get(policy, "Never")}
        if volumes:
            spec["volumes"] = volumes
        if kind == "pod":
            if len(members) > 1:
                warnings.append(
                    f"service {service}: a Pod is one of its {len(members)} containers; "
                    "--type deployment keeps them as replicas"
                )
            workloads.append(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": name, "labels": labels},
                    "spec": spec,
                }
            )
        else:
            if spec["restartPolicy"] != "Always":
                warnings.append(
                    f"service {service}: a Deployment's pods restart Always; "
                    f"the service's restart policy ({policy}) is not kept"
                )
                spec["restartPolicy"] = "Always"
            workloads.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": name, "labels": {"app": name}},
                    "spec": {
                        "replicas": len(members),
                        "selector": {"matchLabels": {"app": name}},
                        "template": {"metadata": {"labels": labels}, "spec": spec},
                    },
                }
            )
        ports = [
            {
                "name": f"{p['containerPort']}-{p.get('protocol', 'TCP').lower()}",
                "port": p.get("hostPort", p["containerPort"]),
                "protocol": p.get("protocol", "TCP"),
                "targetPort": p["containerPort"],
            }
            for p in ctr.get("ports") or []
        ]
        if ports:
            services_docs.append(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": name, "labels": {"app": name}},
                    "spec": {"ports": ports, "selector": {"app": name}},
                }
            )
        depends = _labels(first).get(DEPENDS_ON) or ""
        if depends:
            on = ", ".join(d.split(":", 1)[0] for d in depends.split(",") if d)
            warnings.append(
                f"service {service}: depends_on ({on}) is not expressed: Kubernetes starts pods in any order"
            )
        settings = (first.get("NetworkSettings") or {}).get("Networks") or {}
        for net in list(settings) or [host.get("NetworkMode") or ""]:
            if net not in ("none", "default", "bridge", "host", ""):
                networks.add(net)
    for raw, claim in sorted(claims.items()):
        if raw != claim:
            warnings.append(f"volume {raw} is claimed as {claim} (a Kubernetes name)")
    if networks:
        warnings.append(
            f"the project's networks ({', '.join(sorted(networks))}) are not expressed: a Service names "
            "each service with ports; kube play --network NET puts every container on NET"
        )
    docs = [_claim(c) for c in sorted(set(claims.values()))] + workloads + services_docs
    return docs, warnings
