"""A compose project as typed records, after loading: files merged, variables interpolated, short syntax
turned into long syntax, paths made absolute, profiles applied.

``Project.to_dict()`` gives the normalised model as ``docker compose config`` prints it (keys sorted by the
printer, empty fields left out). A service key the model has no field for is kept, as loaded, in
``Service.extra`` and printed back unchanged.
"""

from __future__ import annotations

from engine.lean.record import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    """Sets ``key`` unless ``value`` is None or an empty collection."""
    if value is None or (isinstance(value, (list, dict, tuple)) and not value):
        return
    out[key] = value


@record
class Build:
    """``build:``: where the image's Dockerfile and context are."""

    context: str
    dockerfile: str | None = None
    args: dict[str, str | None] = field(default_factory=dict)
    target: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"context": self.context}
        _put(out, "dockerfile", self.dockerfile)
        _put(out, "args", dict(self.args))
        _put(out, "target", self.target)
        _put(out, "labels", dict(self.labels))
        out.update(self.extra)
        return out


@record
class Port:
    """One published or exposed port in long syntax. ``published`` is a port or a range ("8000-8010"), or
    None for an ephemeral host port."""

    target: int
    published: str | None = None
    host_ip: str | None = None
    protocol: str = "tcp"
    mode: str = "ingress"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode, "target": self.target, "protocol": self.protocol}
        _put(out, "published", self.published)
        _put(out, "host_ip", self.host_ip)
        return out


@record
class Mount:
    """One entry of a service's ``volumes:`` in long syntax: ``type`` is bind, volume, tmpfs or npipe.
    A bind's ``source`` is an absolute host path; a volume's is the project's volume key (None: anonymous)."""

    type: str
    target: str
    source: str | None = None
    read_only: bool = False
    consistency: str | None = None
    #: bind: ``propagation``, ``create_host_path``, ``selinux``
    bind: dict[str, Any] = field(default_factory=dict)
    #: volume: ``nocopy``
    volume: dict[str, Any] = field(default_factory=dict)
    #: tmpfs: ``size``, ``mode``
    tmpfs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "target": self.target}
        _put(out, "source", self.source)
        if self.read_only:
            out["read_only"] = True
        _put(out, "consistency", self.consistency)
        _put(out, "bind", dict(self.bind))
        if self.type == "volume":
            out["volume"] = dict(self.volume)
        _put(out, "tmpfs", dict(self.tmpfs))
        return out


@record
class ServiceNetwork:
    """A service's attachment to one of the project's networks."""

    aliases: list[str] = field(default_factory=list)
    ipv4_address: str | None = None
    ipv6_address: str | None = None
    priority: int | None = None

    def to_dict(self) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        _put(out, "aliases", list(self.aliases))
        _put(out, "ipv4_address", self.ipv4_address)
        _put(out, "ipv6_address", self.ipv6_address)
        _put(out, "priority", self.priority)
        return out or None


@record
class Dependency:
    """One ``depends_on`` entry: wait for the service to reach ``condition`` (service_started,
    service_healthy, service_completed_successfully)."""

    condition: str = "service_started"
    required: bool = True
    restart: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"condition": self.condition, "required": self.required}
        if self.restart:
            out["restart"] = True
        return out


@record
class Healthcheck:
    """``healthcheck:``. Durations stay as written ("1m30s"); ``test`` is the exec form (["CMD", ...],
    ["CMD-SHELL", "..."] or ["NONE"])."""

    test: list[str] | None = None
    interval: str | None = None
    timeout: str | None = None
    start_period: str | None = None
    start_interval: str | None = None
    retries: int | None = None
    disable: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "test", self.test)
        _put(out, "interval", self.interval)
        _put(out, "timeout", self.timeout)
        _put(out, "start_period", self.start_period)
        _put(out, "start_interval", self.start_interval)
        _put(out, "retries", self.retries)
        if self.disable:
            out["disable"] = True
        return out


@record
class Resources:
    """``deploy.resources`` limits (and ``mem_limit``, ``cpus``, ``pids_limit`` outside ``deploy``).
    ``memory`` stays as written ("64M" or a byte count)."""

    cpus: float | None = None
    memory: str | int | None = None
    pids: int | None = None
    reservations: dict[str, Any] = field(default_factory=dict)

    def limits_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "cpus", self.cpus)
        _put(out, "memory", self.memory)
        _put(out, "pids", self.pids)
        return out


@record
class Service:
    """One service, every key in long syntax."""

    name: str
    image: str | None = None
    build: Build | None = None
    #: the exec form: a string command is split as a shell would (``docker compose config`` prints a list)
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    environment: dict[str, str | None] = field(default_factory=dict)
    ports: list[Port] = field(default_factory=list)
    expose: list[str] = field(default_factory=list)
    volumes: list[Mount] = field(default_factory=list)
    tmpfs: list[str] = field(default_factory=list)
    #: network key -> the attachment's settings (None: defaults)
    networks: dict[str, ServiceNetwork | None] = field(default_factory=dict)
    network_mode: str | None = None
    depends_on: dict[str, Dependency] = field(default_factory=dict)
    healthcheck: Healthcheck | None = None
    restart: str | None = None
    #: ``deploy.replicas`` or ``scale``; None: one
    replicas: int | None = None
    resources: Resources | None = None
    labels: dict[str, str] = field(default_factory=dict)
    container_name: str | None = None
    user: str | None = None
    working_dir: str | None = None
    hostname: str | None = None
    stop_signal: str | None = None
    stop_grace_period: str | None = None
    init: bool | None = None
    read_only: bool | None = None
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    privileged: bool | None = None
    extra_hosts: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    stdin_open: bool | None = None
    tty: bool | None = None
    #: the other keys of the Compose Specification, as loaded (``deploy`` keeps what is not modelled above)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "image", self.image)
        if self.build is not None:
            out["build"] = self.build.to_dict()
        _put(out, "command", self.command)
        _put(out, "entrypoint", self.entrypoint)
        _put(out, "environment", dict(self.environment))
        _put(out, "ports", [p.to_dict() for p in self.ports])
        _put(out, "expose", list(self.expose))
        _put(out, "volumes", [m.to_dict() for m in self.volumes])
        _put(out, "tmpfs", list(self.tmpfs))
        _put(out, "networks", {k: (v.to_dict() if v else None) for k, v in self.networks.items()})
        _put(out, "network_mode", self.network_mode)
        _put(out, "depends_on", {k: d.to_dict() for k, d in self.depends_on.items()})
        if self.healthcheck is not None:
            out["healthcheck"] = self.healthcheck.to_dict()
        _put(out, "restart", self.restart)
        _put(out, "labels", dict(self.labels))
        for key in (
            "container_name", "user", "working_dir", "hostname", "stop_signal", "init", "read_only",
            "privileged", "stdin_open", "tty",
        ):  # fmt: skip
            _put(out, key, getattr(self, key))
        _put(out, "stop_grace_period", self.stop_grace_period)
        _put(out, "cap_add", list(self.cap_add))
        _put(out, "cap_drop", list(self.cap_drop))
        _put(out, "extra_hosts", list(self.extra_hosts))
        _put(out, "profiles", list(self.profiles))
        for key, value in self.extra.items():
            if key != "deploy":
                out[key] = value
        deploy = dict(self.extra.get("deploy") or {})
        if self.replicas is not None and self.extra.get("scale") != self.replicas:
            deploy["replicas"] = self.replicas
        if self.resources is not None:
            res = dict(deploy.get("resources") or {})
            limits = {**(res.get("limits") or {}), **self.resources.limits_dict()}
            _put(res, "limits", limits)
            _put(res, "reservations", dict(self.resources.reservations))
            _put(deploy, "resources", res)
        _put(out, "deploy", deploy)
        return out


@record
class Network:
    """A network of the project. ``name`` is the real network's name (PROJECT_KEY unless set or external)."""

    key: str
    name: str
    external: bool = False
    internal: bool = False
    driver: str | None = None
    driver_opts: dict[str, str] = field(default_factory=dict)
    #: ``ipam.config``'s subnets, in order
    subnets: list[str] = field(default_factory=list)
    ipam: dict[str, Any] = field(default_factory=dict)
    attachable: bool = False
    enable_ipv6: bool = False
    labels: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.external:
            out["external"] = True
        if self.internal:
            out["internal"] = True
        _put(out, "driver", self.driver)
        _put(out, "driver_opts", dict(self.driver_opts))
        _put(out, "ipam", dict(self.ipam))
        if self.attachable:
            out["attachable"] = True
        if self.enable_ipv6:
            out["enable_ipv6"] = True
        _put(out, "labels", dict(self.labels))
        return out


@record
class Volume:
    """A named volume of the project. ``name`` is the real volume's name (PROJECT_KEY unless set or
    external)."""

    key: str
    name: str
    external: bool = False
    driver: str | None = None
    driver_opts: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.external:
            out["external"] = True
        _put(out, "driver", self.driver)
        _put(out, "driver_opts", dict(self.driver_opts))
        _put(out, "labels", dict(self.labels))
        return out


@record
class Project:
    """A loaded compose project: the services the active profiles enable, and the project's networks,
    volumes, configs and secrets."""

    name: str
    working_dir: str
    services: dict[str, Service] = field(default_factory=dict)
    networks: dict[str, Network] = field(default_factory=dict)
    volumes: dict[str, Volume] = field(default_factory=dict)
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the compose files, absolute, in the order they were merged
    config_files: list[str] = field(default_factory=list)
    #: the services left out because none of their profiles is active
    disabled: dict[str, Service] = field(default_factory=dict)
    #: what Compose warns about while loading (a variable that is not set)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        out["services"] = {k: s.to_dict() for k, s in sorted(self.services.items())}
        _put(out, "networks", {k: n.to_dict() for k, n in sorted(self.networks.items())})
        _put(out, "volumes", {k: v.to_dict() for k, v in sorted(self.volumes.items())})
        _put(out, "configs", dict(sorted(self.configs.items())))
        _put(out, "secrets", dict(sorted(self.secrets.items())))
        return out
