"""``kube play``: Pods, Deployments, ConfigMaps, Secrets and PersistentVolumeClaims of a manifest run
through the public API, every object labelled so that ``kube play --down`` removes what play made."""

from __future__ import annotations

import os

from ..errors import Conflict, ImageNotFound, InvalidArgument, NotFound
from . import labels as L
from .quantity import cpus, memory_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..engine import Engine
    from ..runtime.create import CreateOptions

_RESTART = {"Always": "always", "OnFailure": "on-failure", "Never": "no"}


def load(path: str) -> list[dict[str, Any]]:
    """The manifest's documents, each checked against the Kubernetes schema."""
    import yaml

    from .schema import validate

    try:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
    except OSError as e:
        raise InvalidArgument(f"{path}: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise InvalidArgument(f"{path}: not valid YAML: {e}") from None
    for i, doc in enumerate(docs, 1):
        validate(doc, path, i)
    return docs


def _pods(docs: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any], dict[str, str]]]:
    """Each pod to run: its name, its Deployment's name (or ""), its spec and its labels."""
    out = []
    for doc in docs:
        meta = doc.get("metadata") or {}
        if doc["kind"] == "Pod":
            out.append(
                (str(meta.get("name") or ""), "", doc.get("spec") or {}, dict(meta.get("labels") or {}))
            )
        elif doc["kind"] == "Deployment":
            spec = doc.get("spec") or {}
            template = spec.get("template") or {}
            tmeta = template.get("metadata") or {}
            replicas = spec.get("replicas", 1)
            name = str(meta.get("name") or "")
            for n in range(replicas):
                pod = f"{name}-pod" if replicas == 1 else f"{name}-pod-{n}"
                out.append((pod, name, template.get("spec") or {}, dict(tmeta.get("labels") or {})))
    for pod, _, spec, _ in out:
        if not pod:
            raise InvalidArgument("a Pod or Deployment has no metadata.name")
        if not spec.get("containers"):
            raise InvalidArgument(f"pod {pod} has no containers")
    return out


def _objects(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, str]]:
    """ConfigMaps' or Secrets' data by name (a Secret's base64 decoded, its stringData added)."""
    import base64

    out: dict[str, dict[str, str]] = {}
    for doc in docs:
        if doc["kind"] != kind:
            continue
        name = str((doc.get("metadata") or {}).get("name") or "")
        data = {k: str(v) for k, v in (doc.get("data") or {}).items()}
        if kind == "Secret":
            try:
                data = {k: base64.b64decode(v, validate=True).decode() for k, v in data.items()}
            except ValueError:
                raise InvalidArgument(f"secret {name}: data must be base64") from None
            data.update({k: str(v) for k, v in (doc.get("stringData") or {}).items()})
        out[name] = data
    return out


class _Plan:
    """What play makes, computed and checked before anything is made."""

    def __init__(self, eng: Engine, path: str, docs: list[dict[str, Any]], network: str) -> None:
        self.eng = eng
        self.path = os.path.abspath(path)
        self.network = network
        self.pods = _pods(docs)
        self.configmaps = _objects(docs, "ConfigMap")
        self.secrets = _objects(docs, "Secret")
        self.claims = [
            str((d.get("metadata") or {}).get("name") or "")
            for d in docs
            if d["kind"] == "PersistentVolumeClaim"
        ]
        self.volumes: dict[str, tuple[str, str, dict[str, str]]] = {}  # name -> (source, object, files)
        self.containers: list[tuple[str, str, CreateOptions]] = []  # pod, image, options
        self.eng_warnings: list[str] = []
        for pod, deployment, spec, labels in self.pods:
            self._pod(pod, deployment, spec, labels)

    def _lookup(
        self, kind: str, name: str, key: str | None, optional: bool, where: str
    ) -> dict[str, str] | str | None:
        table = self.configmaps if kind == "configmap" else self.secrets
        data = table.get(name)
        if data is None:
            if optional:
                return None
            raise NotFound(f"{where}: {kind} {name!r} is not in the manifest")
        if key is None:
            return data
        if key not in data:
            if optional:
                return None
            raise NotFound(f"{where}: {kind} {name!r} has no key {key!r}")
        return data[key]

    def _env(self, ctr: dict[str, Any], where: str) -> list[str]:
        env: list[str] = []
        for src in ctr.get("envFrom") or []:
            prefix = str(src.get("prefix") or "")
            for kind, ref in (("configmap", src.get("configMapRef")), ("secret", src.get("secretRef"))):
                if ref:
                    data = self._lookup(kind, ref.get("name", ""), None, bool(ref.get("optional")), where)
                    if isinstance(data, dict):
                        env.extend(f"{prefix}{k}={v}" for k, v in data.items())
        for e in ctr.get("env") or []:
            source = e.get("valueFrom")
            if not source:
                env.append(f"{e['name']}={e.get('value') or ''}")
                continue
            for kind, key in (("configmap", "configMapKeyRef"), ("secret", "secretKeyRef")):
                ref = source.get(key)
                if ref:
                    value = self._lookup(
                        kind, ref.get("name", ""), ref["key"], bool(ref.get("optional")), where
                    )
                    if isinstance(value, str):
                        env.append(f"{e['name']}={value}")
                    break
            else:
                raise InvalidArgument(
                    f"{where}: env {e['name']}: only configMapKeyRef and secretKeyRef are supported in valueFrom"
                )
        return env

    def _pod(self, pod: str, deployment: str, spec: dict[str, Any], labels: dict[str, str]) -> None:
        from ..runtime.create import CreateOptions

        for key in (
            "initContainers",
            "hostNetwork",
            "hostPID",
            "hostIPC",
            "affinity",
            "nodeSelector",
            "tolerations",
        ):
            if spec.get(key):
                raise InvalidArgument(
                    f"pod {pod}: {key} is not supported: dockyard runs one local pod, without a scheduler"
                )
        restart = _RESTART[str(spec.get("restartPolicy") or "Always")]
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        containers = spec["containers"]
        infra = self._infra(pod, deployment, spec, restart)
        for ctr in containers:
            where = f"pod {pod}, container {ctr['name']}"
            image = ctr.get("image")
            if not image:
                raise InvalidArgument(f"{where}: no image")
            for key in ("lifecycle", "readinessProbe", "startupProbe", "volumeDevices", "resizePolicy"):
                if ctr.get(key):
                    self.eng_warnings.append(f"{where}: {key} is not supported, ignored")
            opts = CreateOptions(
                name=f"{pod}-{ctr['name']}",
                entrypoint=[str(c) for c in ctr["command"]] if ctr.get("command") else None,
                command=[str(c) for c in ctr["args"]] if ctr.get("args") else None,
                env=self._env(ctr, where),
                working_dir=str(ctr.get("workingDir") or ""),
                tty=bool(ctr.get("tty")),
                stdin_open=bool(ctr.get("stdin")),
                restart=restart,
                network=f"container:{infra.name}",
                ipc=f"container:{infra.name}",
                uts=f"container:{infra.name}",
                pid=f"container:{infra.name}" if spec.get("shareProcessNamespace") else "",
                labels={
                    **{str(k): str(v) for k, v in labels.items()},
                    L.POD: pod,
                    L.CONTAINER: str(ctr["name"]),
                    L.FILE: self.path,
                    **({L.DEPLOYMENT: deployment} if deployment else {}),
                },
            )
            ports = []
            for p in ctr.get("ports") or []:  # published once, by the pod's infra container
                proto = str(p.get("protocol") or "TCP")
                port: dict[str, Any] = {"containerPort": int(p["containerPort"])}
                if p.get("hostPort"):
                    ip = f"{p['hostIP']}:" if p.get("hostIP") else ""
                    infra.ports.append(f"{ip}{p['hostPort']}:{p['containerPort']}/{proto.lower()}")
                    port["hostPort"] = int(p["hostPort"])
                    if p.get("hostIP"):
                        port["hostIP"] = str(p["hostIP"])
                else:
                    infra.expose.append(f"{p['containerPort']}/{proto.lower()}")
                if proto != "TCP":
                    port["protocol"] = proto
                ports.append(port)
            if ports:
                import json

                opts.labels[L.PORTS] = json.dumps(ports)
            infra.extra_hosts.append(f"{ctr['name']}:127.0.0.1")  # the pod's containers by name too
            if infra.aliases:
                infra.aliases.append(str(ctr["name"]))
            limits = (ctr.get("resources") or {}).get("limits") or {}
            if limits.get("memory") is not None:
                opts.memory = memory_bytes(limits["memory"])
            if limits.get("cpu") is not None:
                opts.cpus = cpus(limits["cpu"])
            probe = ctr.get("livenessProbe")
            if probe:
                if not (probe.get("exec") or {}).get("command"):
                    raise InvalidArgument(
                        f"{where}: only exec probes are supported (no httpGet, tcpSocket, grpc)"
                    )
                hc: dict[str, Any] = {"Test": ["CMD", *[str(c) for c in probe["exec"]["command"]]]}
                for key, api in (
                    ("periodSeconds", "Interval"),
                    ("timeoutSeconds", "Timeout"),
                    ("initialDelaySeconds", "StartPeriod"),
                ):
                    if probe.get(key):
                        hc[api] = int(probe[key]) * 1_000_000_000
                if probe.get("failureThreshold"):
                    hc["Retries"] = int(probe["failureThreshold"])
                opts.healthcheck = hc
            security = ctr.get("securityContext") or {}
            opts.privileged = bool(security.get("privileged"))
            opts.read_only = bool(security.get("readOnlyRootFilesystem"))
            caps = security.get("capabilities") or {}
            opts.cap_add = [str(c) for c in caps.get("add") or []]
            opts.cap_drop = [str(c) for c in caps.get("drop") or []]
            if security.get("runAsUser") is not None:
                opts.user = str(security["runAsUser"])
                if security.get("runAsGroup") is not None:
                    opts.user += f":{security['runAsGroup']}"
            for m in ctr.get("volumeMounts") or []:
                self._mount(pod, opts, volumes, m, where)
            self.containers.append((pod, str(image), opts))

    def _infra(self, pod: str, deployment: str, spec: dict[str, Any], restart: str) -> CreateOptions:
        """The pod's infra container: a process that sleeps, from the image of the pod's first container,
        holding the network, IPC and UTS namespaces that the pod's containers join (its hostname theirs), and
        publishing the pod's ports.
        Its network is --network, else the default network for a pod that publishes a port, else none."""
        from ..runtime.create import CreateOptions

        network = self.network
        if not network:
            publishes = any(p.get("hostPort") for c in spec["containers"] for p in c.get("ports") or [])
            network = self.eng.default_network() if publishes else "none"
        if network == "none" and any(
            p.get("hostPort") for c in spec["containers"] for p in c.get("ports") or []
        ):
            raise InvalidArgument(
                f"pod {pod} publishes a hostPort, which needs a network: the pod's is none (choose one with --network)"
            )
        opts = CreateOptions(
            name=f"{pod}-infra",
            entrypoint=["sleep"],
            command=["2147483647"],
            restart=restart,
            network=network,
            ipc="shareable",
            stop_signal="SIGKILL",  # PID 1 of its namespace, sleep would ignore SIGTERM
            labels={
                L.POD: pod,
                L.INFRA: "true",
                L.FILE: self.path,
                **({L.DEPLOYMENT: deployment} if deployment else {}),
            },
        )
        if network != "host" and not network.startswith("container:"):
            opts.hostname = str(spec.get("hostname") or pod)
        if network not in ("none", "host", "default", "bridge") and not network.startswith("container:"):
            opts.aliases = [pod]  # and its containers' names: on a user network the pod answers to them
        self.containers.append((pod, str(spec["containers"][0].get("image") or ""), opts))
        return opts

    def _mount(
        self, pod: str, opts: CreateOptions, volumes: dict[str, Any], m: dict[str, Any], where: str
    ) -> None:
        vol = volumes.get(m["name"])
        if vol is None:
            raise InvalidArgument(f"{where}: volumeMount {m['name']} names no volume of the pod")
        target = str(m["mountPath"])
        if m.get("subPath"):
            raise InvalidArgument(f"{where}: volumeMount {m['name']}: subPath is not supported")
        ro = ":ro" if m.get("readOnly") else ""
        if vol.get("persistentVolumeClaim"):
            claim = str(vol["persistentVolumeClaim"]["claimName"])
            self.volumes.setdefault(claim, ("pvc", claim, {}))
            opts.volumes.append(f"{claim}:{target}{ro}")
        elif vol.get("hostPath"):
            path = str(vol["hostPath"]["path"])
            kind = vol["hostPath"].get("type") or ""
            if kind in ("DirectoryOrCreate",):
                os.makedirs(path, exist_ok=True)
            elif kind in ("Directory", "File") and not os.path.exists(path):
                raise NotFound(f"{where}: hostPath {path} does not exist")
            opts.volumes.append(f"{path}:{target}{ro}")
        elif vol.get("emptyDir") is not None:
            if (vol["emptyDir"] or {}).get("medium") == "Memory":
                limit = (vol["emptyDir"] or {}).get("sizeLimit")
                opts.tmpfs.append(f"{target}:size={memory_bytes(limit)}" if limit else target)
            else:
                opts.volumes.append(target)
        elif vol.get("configMap") or vol.get("secret"):
            kind = "configmap" if vol.get("configMap") else "secret"
            ref = vol.get("configMap") or vol.get("secret")
            name = str(ref.get("name") or ref.get("secretName") or "")
            data = self._lookup(kind, name, None, bool(ref.get("optional")), where)
            files = dict(data) if isinstance(data, dict) else {}
            if ref.get("items"):
                files = {
                    str(i.get("path") or i["key"]): files[i["key"]] for i in ref["items"] if i["key"] in files
                }
            volume = f"{name}-{kind}" if kind == "secret" else name
            self.volumes[volume] = (kind, name, files)
            opts.volumes.append(f"{volume}:{target}:ro")
        else:
            raise InvalidArgument(
                f"{where}: volume {m['name']}: only persistentVolumeClaim, hostPath, emptyDir, configMap and secret volumes are supported"
            )


def play(eng: Engine, path: str, *, network: str = "", replace: bool = False) -> dict[str, list[str]]:
    """Run the manifest at ``path``: returns what was made, by kind ("Pod", "Container", "Volume")."""
    docs = load(path)
    plan = _Plan(eng, path, docs, network)
    for _, image, _ in plan.containers:
        try:
            eng.images.get(image)
        except ImageNotFound:
            raise ImageNotFound(
                f"{image}: image not known: pull it first (kube play pulls no image)"
            ) from None
    if replace:
        down(eng, path, pods=[p[0] for p in plan.pods])
    for pod, _, opts in plan.containers:
        try:
            eng.containers.get(opts.name or "")
        except NotFound:
            continue
        if L.INFRA in opts.labels:
            raise Conflict(
                f'the pod name "{pod}" is already in use (by container {opts.name}): use --replace to replace it'
            )
        raise Conflict(f'the container name "{opts.name}" is already in use: use --replace to replace it')
    made: dict[str, list[str]] = {
        "Pod": [],
        "Container": [],
        "Volume": [],
        "Warning": list(plan.eng_warnings),
    }
    base = {L.FILE: plan.path}
    for name in plan.claims:
        if name not in plan.volumes:
            plan.volumes[name] = ("pvc", name, {})
    for name, (source, obj, files) in plan.volumes.items():
        try:
            existing = eng.volumes.get(name)
            if source != "pvc" and (existing.labels or {}).get(L.SOURCE) != source:
                raise Conflict(f"volume {name} exists and was not made by kube play for {source} {obj}")
            created = False
        except NotFound:
            eng.volumes.create(name, labels={**base, L.SOURCE: source, L.OBJECT: obj})
            created = True
        if files:
            mountpoint = eng.volumes.inspect(name)["Mountpoint"]
            for fname, content in files.items():
                target = os.path.join(mountpoint, fname)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "w", encoding="utf-8") as f:
                    f.write(content)
        if created:
            made["Volume"].append(name)
    for pod, _, opts in plan.containers:
        c = eng.containers.create(_image(plan, opts), opts)
        eng.containers.start(c.id)
        if L.INFRA not in opts.labels:
            made["Container"].append(c.id)
        if pod not in made["Pod"]:
            made["Pod"].append(pod)
    return made


def _image(plan: _Plan, opts: CreateOptions) -> str:
    for _, image, o in plan.containers:
        if o is opts:
            return image
    raise AssertionError(opts.name)


def down(
    eng: Engine, path: str, *, force: bool = False, pods: list[str] | None = None
) -> dict[str, list[str]]:
    """Remove the pods of the manifest at ``path`` that play made (their containers, infra containers and
    any pod network of an earlier version), the ConfigMap and Secret volumes, and with ``force`` the claims'
    volumes too."""
    if pods is None:
        docs = load(path)
        pods = [p[0] for p in _pods(docs)]
    abspath = os.path.abspath(path)
    removed: dict[str, list[str]] = {"Pod": [], "Container": [], "Volume": []}
    for c in eng.containers.list(all=True, filters={"label": [f"{L.FILE}={abspath}"]}):
        pod = (c.labels or {}).get(L.POD, "")
        if pod not in pods:
            continue
        eng.containers.remove(c.id, force=True, volumes=True)
        removed["Container"].append(c.id)
        if pod not in removed["Pod"]:
            removed["Pod"].append(pod)
    for net in eng.networks.list(filters={"label": [f"{L.FILE}={abspath}"]}):
        if (net.labels or {}).get(L.POD) in pods:
            eng.networks.remove(net.name)
    for vol in eng.volumes.list(filters={"label": [f"{L.FILE}={abspath}"]}):
        source = (vol.labels or {}).get(L.SOURCE)
        if source in ("configmap", "secret") or (force and source == "pvc"):
            try:
                eng.volumes.remove(vol.name)
            except Conflict:
                continue  # still used by a container play did not make
            removed["Volume"].append(vol.name)
    return removed
