"""``EngineAPI``: what the app (and the CLI's commands over ``--host`` or a context) ask of an engine, as a
family of ``typing.Protocol`` classes. ``Engine`` (a root on this machine) and ``RemoteEngine`` (a service over
Docker's Engine API) both satisfy it structurally; the type checker holds them to it (the assertions at the
end of this module).

What an engine cannot do it says before it is asked: ``engine.supports(feature)`` is None when it can, else
the reason, and the call itself raises ``NotSupported`` with that reason. ``FEATURES`` names the features an
engine may lack."""

from __future__ import annotations

from typing import Any, Protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Iterator

    from .build.events import BuildEvent
    from .build.options import BuildOptions
    from .model.config import ContainerConfig
    from .model.container import Container
    from .model.image import HistoryEntry, Image, RemovedImage
    from .model.network import Network
    from .model.reports import DiskUsage, PruneReport, TopResult
    from .model.volume import Volume
    from .registry.events import TransferEvent
    from .registry.pull import PullResult
    from .registry.push import PushResult
    from .registry.search import SearchResult
    from .runtime.create import CreateOptions
    from .runtime.logfile import LogEntry
    from .runtime.logindex import LogIndex
    from .stats import StatsRecord
    from .store.eventlog import Event

#: What an engine may not offer, with what each covers (``supports`` takes these names).
FEATURES: dict[str, str] = {
    "layers": "the Layers tab's file trees: browsing an image's or a container's files layer by layer",
    "recreate": "recreating a container from another version of its image with its stored options",
    "watch-build": "building again whenever a directory on this machine changes",
    "commit-changes": "commit with configuration changes (-c)",
    "compose": "compose projects: up, down and their drift, made from the engine's own records",
}


class ExecPtyAPI(Protocol):
    """A process on a pseudo-terminal: ``master`` is the descriptor of its terminal."""

    master: int

    def resize(self, rows: int, cols: int) -> None: ...
    def wait(self) -> int: ...
    def release(self) -> None: ...  # leave the process running (exec -it's detach keys)
    def close(self) -> None: ...


class ExecProcessAPI(Protocol):
    """A process started in a container without a terminal: ``wait`` gives its exit status."""

    def wait(self) -> int: ...


class AttachAPI(Protocol):
    """A container's own stdio: output chunks as (stream, data), input, resize and the exit code."""

    @property
    def exit_code(self) -> int | None: ...
    def output(self) -> Iterator[tuple[str, bytes]]: ...
    def send_stdin(self, data: bytes) -> None: ...
    def close_stdin(self) -> None: ...
    def resize(self, rows: int, cols: int) -> None: ...
    def close(self) -> None: ...
    def fileno(self) -> int: ...
    def read(self) -> builtins.list[tuple[int, bytes]]: ...
    def __enter__(self) -> AttachAPI: ...
    def __exit__(self, *exc: object) -> None: ...


class StatsReaderAPI(Protocol):
    """One pass over the running containers' figures per ``sample``; ``sampler`` carries CPU % over."""

    sampler: Any

    def refresh(self) -> None: ...
    def sample(self) -> builtins.list[StatsRecord]: ...
    def running(self) -> bool: ...


class ContainersAPI(Protocol):
    def list(
        self, all: bool = False, filters: dict[str, builtins.list[str]] | None = None
    ) -> builtins.list[Container]: ...
    def get(self, ref: str) -> Container: ...
    def resolve(self, ref: str) -> str: ...
    def inspect(self, ref: str, size: bool = False) -> dict[str, Any]: ...
    def config(self, ref: str) -> ContainerConfig: ...
    def logs(
        self,
        ref: str,
        follow_: bool = False,
        tail: int | None = None,
        since: float | None = None,
        until: float | None = None,
        stdout: bool = True,
        stderr: bool = True,
    ) -> Iterator[LogEntry]: ...
    def log_index(self, ref: str) -> LogIndex: ...
    def create(self, image: str, opts: CreateOptions | None = None) -> Container: ...
    def run(self, image: str, opts: CreateOptions | None = None, detach: bool = True) -> Container: ...
    def run_replicas(
        self, image: str, replicas: int, opts: CreateOptions | None = None
    ) -> builtins.list[Container]: ...
    def recreate(self, ref: str, image: str) -> Container: ...
    def start(self, ref: str) -> bool: ...
    def stop(self, ref: str, timeout: int | None = None, signal: str | None = None) -> bool: ...
    def restart(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None: ...
    def kill(self, ref: str, signal: str | None = None) -> None: ...
    def pause(self, ref: str) -> None: ...
    def unpause(self, ref: str) -> None: ...
    def rename(self, ref: str, new_name: str) -> None: ...
    def remove(self, ref: str, force: bool = False, volumes: bool = False) -> None: ...
    def wait(self, ref: str, timeout: float | None = None) -> int: ...
    def prune(self, *, filters: dict[str, builtins.list[str]] | None = None) -> PruneReport: ...
    def top(self, ref: str, ps_args: str | None = None) -> TopResult: ...
    def diff(self, ref: str) -> builtins.list[tuple[str, str]]: ...
    def writable_size(self, ref: str) -> int: ...
    def commit(
        self,
        ref: str,
        repo_tag: str | None = None,
        message: str = "",
        author: str = "",
        changes: dict[str, Any] | None = None,
        pause: bool = True,
    ) -> str: ...
    def export(self, ref: str, out: Any) -> None: ...
    def exec_pty(
        self,
        ref: str,
        cmd: builtins.list[str],
        *,
        env: builtins.list[str] | None = None,
        workdir: str = "",
        user: str = "",
        privileged: bool = False,
        rows: int = 24,
        cols: int = 80,
    ) -> ExecPtyAPI: ...
    def attach(self, ref: str) -> AttachAPI: ...
    def stats_reader(self, refs: builtins.list[str] | None = None) -> StatsReaderAPI: ...
    def stats(
        self, refs: builtins.list[str] | None = None, interval: float = 1.0, first: float | None = None
    ) -> Iterator[builtins.list[StatsRecord]]: ...
    def exec_run(
        self,
        ref: str,
        cmd: builtins.list[str],
        *,
        env: builtins.list[str] | None = None,
        workdir: str = "",
        user: str = "",
        privileged: bool = False,
        stdin: int | None = None,
        stdout: int | None = None,
        stderr: int | None = None,
        detach: bool = False,
    ) -> ExecProcessAPI: ...
    def update(
        self,
        ref: str,
        *,
        memory: int | None = None,
        memory_swap: int | None = None,
        memory_reservation: int | None = None,
        cpus: float | None = None,
        cpu_shares: int | None = None,
        cpu_period: int | None = None,
        cpu_quota: int | None = None,
        cpuset_cpus: str = "",
        cpuset_mems: str = "",
        pids_limit: int | None = None,
        blkio_weight: int | None = None,
        restart: str = "",
        cpu_rt_period: int | None = None,
        cpu_rt_runtime: int | None = None,
    ) -> builtins.list[str]: ...
    def get_archive(self, ref: str, src: str, out: Any, *, follow_link: bool = False) -> int: ...
    def put_archive(self, ref: str, dest: str, stream: Any, *, archive: bool = False) -> int: ...
    def copy_from(self, ref: str, src: str, dest: str, *, follow_link: bool = False) -> tuple[int, int]: ...
    def copy_to(
        self, ref: str, src: str, dest: str, *, archive: bool = False, follow_link: bool = False
    ) -> int: ...


class ImagesAPI(Protocol):
    def list(
        self, all: bool = False, filters: dict[str, builtins.list[str]] | None = None
    ) -> builtins.list[Image]: ...
    def get(self, name: str) -> Image: ...
    def resolve(self, name: str) -> str: ...
    def inspect(self, name: str, legacy: bool = False) -> dict[str, Any]: ...
    def tag(self, source: str, target: str) -> None: ...
    def remove(self, name: str, force: bool = False) -> RemovedImage: ...
    def prune(
        self, all: bool = False, *, filters: dict[str, builtins.list[str]] | None = None
    ) -> PruneReport: ...
    def pull(
        self,
        repository: str,
        tag: str | None = None,
        platform: str | None = None,
        progress: Callable[[TransferEvent], None] | None = None,
        auth_config: dict[str, str] | None = None,
    ) -> PullResult: ...
    def push(
        self,
        repository: str,
        tag: str | None = None,
        progress: Callable[[TransferEvent], None] | None = None,
        auth_config: dict[str, str] | None = None,
    ) -> PushResult: ...
    def build(self, options: BuildOptions, progress: Callable[[BuildEvent], None] | None = None) -> str: ...
    def analyze(self, name: str) -> Any: ...  # an ImageAnalysis; NotSupported where "layers" is not offered
    def history(self, name: str) -> builtins.list[HistoryEntry]: ...
    def tagged_name(self, name: str) -> str: ...
    def check_platform(self, platform: str, name: str | None = None) -> None: ...
    def damaged(self, since_list: bool = False) -> builtins.list[str]: ...
    def import_(
        self, source: Any, ref: str | None = None, /, message: str = "", changes: dict[str, Any] | None = None
    ) -> str: ...
    def save(self, names: builtins.list[str], out: Any) -> None: ...
    def load(self, source: Any, progress: Any = None, /) -> builtins.list[str]: ...


class NetworksAPI(Protocol):
    def list(self, filters: dict[str, builtins.list[str]] | None = None) -> builtins.list[Network]: ...
    def get(self, ref: str) -> Network: ...
    def inspect(self, ref: str) -> dict[str, Any]: ...
    def create(
        self,
        name: str,
        *,
        driver: str = "bridge",
        subnet: str = "",
        gateway: str = "",
        internal: bool = False,
        labels: dict[str, str] | None = None,
        options: dict[str, str] | None = None,
        ip_range: str = "",
        aux_addresses: dict[str, str] | None = None,
        ipv6: bool = False,
        subnet6: str = "",
        gateway6: str = "",
        ip_range6: str = "",
    ) -> Network: ...
    def remove(self, ref: str) -> None: ...
    def prune(self, *, filters: dict[str, builtins.list[str]] | None = None) -> builtins.list[str]: ...
    def connect(
        self,
        network: str,
        container: str,
        *,
        ip: str = "",
        aliases: builtins.list[str] | None = None,
        driver_opts: dict[str, str] | None = None,
        gw_priority: int = 0,
        link_local_ips: builtins.list[str] | None = None,
        links: builtins.list[str] | None = None,
        ip6: str = "",
    ) -> None: ...
    def disconnect(self, network: str, container: str, *, force: bool = False) -> None: ...


class VolumesAPI(Protocol):
    def list(self, filters: dict[str, builtins.list[str]] | None = None) -> builtins.list[Volume]: ...
    def get(self, name: str, size: bool = False) -> Volume: ...
    def inspect(self, name: str) -> dict[str, Any]: ...
    def create(
        self,
        name: str | None = None,
        labels: dict[str, str] | None = None,
        driver: str = "local",
        options: dict[str, str] | None = None,
    ) -> Volume: ...
    def remove(self, name: str, force: bool = False) -> None: ...
    def prune(self, *, filters: dict[str, builtins.list[str]] | None = None) -> builtins.list[str]: ...


class EngineAPI(Protocol):
    """An engine, wherever it runs: its lists and actions, its events, and what it does not offer."""

    @property
    def root(self) -> str: ...  # where it is: the root directory, or the service's address
    @property
    def containers(self) -> ContainersAPI: ...
    @property
    def images(self) -> ImagesAPI: ...
    @property
    def networks(self) -> NetworksAPI: ...
    @property
    def volumes(self) -> VolumesAPI: ...

    def supports(self, feature: str) -> str | None:
        """None when the engine offers ``feature`` (a name of ``FEATURES``), else why not."""
        ...

    def event_offset(self) -> int: ...
    def events(
        self,
        since_offset: int | None = None,
        timeout: float | None = None,
        filters: dict[str, builtins.list[str]] | None = None,
        since: float | None = None,
        until: float | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> Iterator[Event]: ...
    def default_network(self) -> str: ...
    def df(self) -> DiskUsage: ...
    def search(self, term: str, limit: int = 25) -> builtins.list[SearchResult]: ...
    def info(self, version: str) -> dict[str, Any]: ...
    def watch_build(
        self,
        options: BuildOptions,
        progress: Callable[[BuildEvent], None] | None = None,
        run_name: str | None = None,
        stop: Any = None,
    ) -> None: ...


if TYPE_CHECKING:
    from .engine import Engine
    from .remote.engine import RemoteEngine

    def _local_is_an_engine(engine: Engine) -> EngineAPI:
        return engine  # the type checker holds Engine to the protocol

    def _remote_is_an_engine(engine: RemoteEngine) -> EngineAPI:
        return engine  # and RemoteEngine
