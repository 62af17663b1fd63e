"""A service of the normalised model turned into a container's options (CreateOptions), as Compose turns it
into the Engine API's container config: ports, volumes, networks, health, resources, logging."""

from __future__ import annotations

from ..errors import InvalidArgument
from . import labels as L
from .project import service_networks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..runtime.create import CreateOptions
    from .project import ComposeProject


def words(value: Any) -> list[str]:
    """A command or entrypoint: a list as it is, a string split as a shell would."""
    if value is None:
        return []
    if isinstance(value, str):
        import shlex

        return shlex.split(value)
    return [str(v) for v in value]


def seconds(value: Any) -> float:
    """A Go duration (``1m30s``) or a number of seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    from ..units import parse_duration

    return parse_duration(str(value))


def size(value: Any) -> int:
    if isinstance(value, int):
        return value
    from ..units import parse_bytes

    return parse_bytes(str(value))


def healthcheck(hc: dict[str, Any] | None) -> dict[str, Any] | None:
    """Compose's ``healthcheck`` as the Engine API's HealthConfig (durations in nanoseconds)."""
    if not hc:
        return None
    if hc.get("disable"):
        return {"Test": ["NONE"]}
    out: dict[str, Any] = {}
    test = hc.get("test")
    if isinstance(test, str):
        out["Test"] = ["CMD-SHELL", test]
    elif test:
        out["Test"] = [str(t) for t in test]
    for key, api in (
        ("interval", "Interval"),
        ("timeout", "Timeout"),
        ("start_period", "StartPeriod"),
        ("start_interval", "StartInterval"),
    ):
        if hc.get(key) is not None:
            out[api] = int(seconds(hc[key]) * 1e9)
    if hc.get("retries") is not None:
        out["Retries"] = int(hc["retries"])
    return out


def _port(p: Any) -> list[str]:
    if isinstance(p, (str, int)):
        return [str(p)]
    target = p.get("target")
    published = p.get("published")
    proto = p.get("protocol") or "tcp"
    host_ip = p.get("host_ip") or ""
    spec = f"{target}/{proto}"
    if published not in (None, ""):
        spec = f"{published}:{spec}"
        if host_ip:
            spec = f"{host_ip}:{spec}"
    elif host_ip:
        spec = f"{host_ip}::{spec}"
    return [spec]


def _mounts(project: ComposeProject, svc: dict[str, Any]) -> tuple[list[str], list[str]]:
    """``volumes`` (long form) as ``-v`` specs, and the tmpfs mounts among them as ``--tmpfs`` specs."""
    vols: list[str] = []
    tmpfs: list[str] = []
    for v in svc.get("volumes") or []:
        if isinstance(v, str):
            vols.append(v)
            continue
        kind = v.get("type") or "volume"
        target = v.get("target")
        if not target:
            raise InvalidArgument(f"a volume of service {svc.get('name', '')} has no target")
        ro = ":ro" if v.get("read_only") else ""
        if kind == "tmpfs":
            opt = v.get("tmpfs") or {}
            tmpfs.append(f"{target}:size={size(opt['size'])}" if opt.get("size") else target)
        elif kind == "bind":
            src = v.get("source") or ""
            vols.append(f"{src}:{target}{ro}")
        elif kind == "volume":
            src = v.get("source") or ""
            if not src:
                vols.append(target)
            else:
                name = project.volume_name(src) if src in project.volumes else src
                vols.append(f"{name}:{target}{ro}")
        else:
            raise InvalidArgument(f"volume type {kind!r} is not supported (volume, bind and tmpfs are)")
    for t in svc.get("tmpfs") or []:
        tmpfs.append(str(t))
    return vols, tmpfs


def _key_values(value: Any, sep: str = "=") -> list[str]:
    if isinstance(value, dict):
        return [f"{k}{sep}{v}" for k, v in value.items()]
    return [str(v) for v in value or []]


def _extra_hosts(value: Any) -> list[str]:
    out = []
    if isinstance(value, dict):
        items = [(k, v) for k, vs in value.items() for v in (vs if isinstance(vs, list) else [vs])]
    else:
        items = []
        for entry in value or []:
            host, sep, ip = str(entry).partition("=")
            if not sep:
                host, _, ip = str(entry).partition(":")
            items.append((host, ip))
    for host, ip in items:
        out.append(f"{host}:{ip}")
    return out


def _ulimits(value: Any) -> list[str]:
    out = []
    for name, v in (value or {}).items():
        if isinstance(v, dict):
            out.append(f"{name}={v.get('soft')}:{v.get('hard')}")
        else:
            out.append(f"{name}={v}")
    return out


def _network(project: ComposeProject, svc: dict[str, Any]) -> tuple[str, list[str], str]:
    """The network a container is created on, its aliases there and its address there."""
    mode = svc.get("network_mode")
    if mode:
        if mode.startswith("service:"):
            other = mode.split(":", 1)[1]
            found = project.containers([other])
            if not found:
                raise InvalidArgument(f'service "{other}" has no container to share its network with')
            return f"container:{found[0].name}", [], ""
        return str(mode), [], ""
    return "none", [], ""


#: Compose keys of a service that dockyard does not run, and why (checked before anything is made).
REFUSED_KEYS = {
    "links": "legacy links: the services of a network reach each other by service name",
    "external_links": "legacy links: the services of a network reach each other by service name",
    "gpus": "no GPU support in this engine",
    "device_cgroup_rules": "device cgroup rules are not supported; devices: gives access to a device",
    "credential_spec": "a Windows containers option; dockyard runs Linux containers",
    "storage_opt": "the overlay storage of dockyard takes no per-container options",
    "post_start": "lifecycle hooks are not supported",
    "pre_stop": "lifecycle hooks are not supported",
    "volumes_from": "mount the same named volumes in both services instead",
    "userns_mode": "no user namespace remapping here",
    "mac_address": "dockyard chooses each endpoint's MAC address",
    "blkio_config": "per-device block I/O limits are set with dockyard run's --device-* flags",
    "use_api_socket": "dockyard has no daemon socket to give a container",
}


def check_service(project: ComposeProject, service: str) -> None:
    """Refuse what a service asks for that dockyard would not do, before anything is made."""
    svc = project.services[service]
    for key, why in REFUSED_KEYS.items():
        if svc.get(key):
            raise InvalidArgument(f"service {service}: {key} is not supported: {why}")
    for kind in ("secrets", "configs"):
        for ref in svc.get(kind) or []:
            source = ref if isinstance(ref, str) else ref.get("source", "")
            spec = getattr(project, kind).get(source)
            if spec is None:
                raise InvalidArgument(f"service {service} refers to undefined {kind[:-1]} {source}")
            if not spec.get("file"):
                how = "external (a Swarm object)" if spec.get("external") else "not from a file"
                raise InvalidArgument(
                    f"service {service}: {kind[:-1]} {source} is {how}: dockyard mounts {kind} from files only"
                )


def _secret_mounts(project: ComposeProject, svc: dict[str, Any]) -> list[str]:
    """File-based secrets and configs as read-only bind mounts: a secret at /run/secrets/NAME (or its
    target), a config at /NAME (or its target)."""
    out = []
    for kind, base in (("secrets", "/run/secrets"), ("configs", "")):
        for ref in svc.get(kind) or []:
            if isinstance(ref, str):
                ref = {"source": ref}
            source = ref.get("source", "")
            spec = getattr(project, kind).get(source) or {}
            target = str(ref.get("target") or source)
            if not target.startswith("/"):
                target = f"{base}/{target}"
            out.append(f"{spec['file']}:{target}:ro")
    return out


def _restart(svc: dict[str, Any]) -> str:
    """``restart``, else ``deploy.restart_policy`` as Compose maps it (any: always; on-failure with its
    max_attempts; none: no)."""
    if svc.get("restart"):
        return str(svc["restart"])
    policy = (svc.get("deploy") or {}).get("restart_policy") or {}
    condition = policy.get("condition")
    if condition == "any":
        return "always"
    if condition == "on-failure":
        attempts = policy.get("max_attempts")
        return f"on-failure:{attempts}" if attempts else "on-failure"
    return "no"


def container_options(
    project: ComposeProject,
    service: str,
    name: str,
    *,
    number: int = 0,
    oneoff: bool = False,
    image_id: str = "",
) -> CreateOptions:
    """The options of one of a service's containers, with Compose's labels."""
    labels = project.base_labels(service, oneoff=oneoff)
    labels[L.CONFIG_HASH] = project.config_hash(service)
    if number:
        labels[L.NUMBER] = str(number)
    if image_id:
        labels[L.IMAGE] = image_id
    deps = project.dependencies(service)
    if deps:
        labels[L.DEPENDS_ON] = ",".join(
            f"{d}:{v.get('condition', 'service_started')}:{str(v.get('restart', False)).lower()}"
            for d, v in deps.items()
        )
    return service_options(project, service, name, labels)


def service_options(
    project: ComposeProject, service: str, name: str, labels: dict[str, str]
) -> CreateOptions:
    from ..runtime.create import CreateOptions

    svc = project.services[service]
    env = []
    environment = svc.get("environment") or {}
    if isinstance(environment, list):
        env = [str(e) for e in environment if "=" in str(e)]
    else:
        env = [f"{k}={'' if v is None else v}" for k, v in environment.items() if v is not None]
    vols, tmpfs = _mounts(project, svc)
    network, aliases, ip = _network(project, svc)
    attachments = network_attachments(project, service, name)
    if attachments:
        network, aliases, ip = attachments[0]
    deploy = svc.get("deploy") or {}
    limits = (deploy.get("resources") or {}).get("limits") or {}
    reservations = (deploy.get("resources") or {}).get("reservations") or {}
    opts = CreateOptions(
        name=name,
        command=words(svc["command"]) if svc.get("command") is not None else None,
        entrypoint=words(svc["entrypoint"]) if svc.get("entrypoint") is not None else None,
        env=env,
        working_dir=str(svc.get("working_dir") or ""),
        user=str(svc.get("user") or ""),
        hostname=str(svc.get("hostname") or ""),
        domainname=str(svc.get("domainname") or ""),
        tty=bool(svc.get("tty")),
        stdin_open=bool(svc.get("stdin_open")),
        labels={**{k: str(v) for k, v in _labels(svc.get("labels")).items()}, **labels},
        stop_signal=str(svc.get("stop_signal") or ""),
        stop_timeout=int(seconds(svc["stop_grace_period"])) if svc.get("stop_grace_period") else None,
        restart=_restart(svc),
        network=network,
        aliases=aliases,
        ip=ip,
        volumes=[*vols, *_secret_mounts(project, svc)],
        tmpfs=tmpfs,
        read_only=bool(svc.get("read_only")),
        cap_add=[str(c) for c in svc.get("cap_add") or []],
        cap_drop=[str(c) for c in svc.get("cap_drop") or []],
        privileged=bool(svc.get("privileged")),
        ports=[s for p in svc.get("ports") or [] for s in _port(p)],
        expose=[str(e) for e in svc.get("expose") or []],
        extra_hosts=_extra_hosts(svc.get("extra_hosts")),
        dns=_list(svc.get("dns")),
        dns_search=_list(svc.get("dns_search")),
        dns_options=_list(svc.get("dns_opt")),
        init=bool(svc.get("init")),
        healthcheck=healthcheck(svc.get("healthcheck")),
        ulimits=_ulimits(svc.get("ulimits")),
        sysctls=_key_values(svc.get("sysctls")),
        security_opt=[str(s) for s in svc.get("security_opt") or []],
        group_add=[str(g) for g in svc.get("group_add") or []],
        pid=str(svc.get("pid") or ""),
        ipc=str(svc.get("ipc") or ""),
        cgroup_parent=str(svc.get("cgroup_parent") or ""),
        platform=str(svc.get("platform") or ""),
    )
    for key, field_name in (
        ("cpu_quota", "cpu_quota"),
        ("cpu_period", "cpu_period"),
        ("cpu_rt_runtime", "cpu_rt_runtime"),
        ("cpu_rt_period", "cpu_rt_period"),
        ("oom_score_adj", "oom_score_adj"),
        ("mem_swappiness", "memory_swappiness"),
    ):
        if svc.get(key) is not None:
            value = svc[key]
            setattr(
                opts,
                field_name,
                int(seconds(value) * 1e6)
                if key.startswith("cpu_rt") and isinstance(value, str)
                else int(value),
            )
    if svc.get("cpuset"):
        opts.cpuset_cpus = str(svc["cpuset"])
    if svc.get("oom_kill_disable"):
        opts.oom_kill_disable = True
    for key, field_name in (
        ("uts", "uts"),
        ("isolation", "isolation"),
        ("runtime", "runtime"),
        ("cgroup", "cgroupns"),
    ):
        if svc.get(key):
            setattr(opts, field_name, str(svc[key]))
    if svc.get("annotations"):
        opts.annotations = {k: str(v) for k, v in _labels(svc["annotations"]).items()}
    devices = svc.get("devices") or []
    opts.devices = [
        d
        if isinstance(d, str)
        else f"{d['source']}:{d.get('target', d['source'])}:{d.get('permissions', 'rwm')}"
        for d in devices
    ]
    mem = limits.get("memory") or svc.get("mem_limit")
    if mem:
        opts.memory = size(mem)
    if svc.get("memswap_limit"):
        opts.memory_swap = size(svc["memswap_limit"])
    reserve = reservations.get("memory") or svc.get("mem_reservation")
    if reserve:
        opts.memory_reservation = size(reserve)
    cpus = limits.get("cpus") or svc.get("cpus")
    if cpus:
        opts.cpus = float(cpus)
    pids = limits.get("pids") or svc.get("pids_limit")
    if pids:
        opts.pids_limit = int(pids)
    if svc.get("cpu_shares"):
        opts.cpu_shares = int(svc["cpu_shares"])
    if svc.get("shm_size"):
        opts.shm_size = size(svc["shm_size"])
    logging = svc.get("logging") or {}
    if logging.get("driver"):
        opts.log_driver = str(logging["driver"])
    if logging.get("options"):
        opts.log_opts = {k: str(v) for k, v in logging["options"].items()}
    return opts


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _labels(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        return dict(str(v).partition("=")[::2] for v in value)
    return dict(value or {})


def network_attachments(project: ComposeProject, service: str, name: str) -> list[tuple[str, list[str], str]]:
    """Every network of a service's container: (network name, aliases, IPv4 address), the one it is created
    on first. Compose gives each container its service's name and its own name as aliases."""
    svc = project.services[service]
    if svc.get("network_mode"):
        return []
    nets = service_networks(svc)
    ordered = sorted(nets, key=lambda n: (-int(nets[n].get("priority") or 0), n))
    out = []
    for key in ordered:
        cfg = nets[key]
        aliases = [service, name, *[str(a) for a in cfg.get("aliases") or []]]
        out.append((project.network_name(key), aliases, str(cfg.get("ipv4_address") or "")))
    return out
