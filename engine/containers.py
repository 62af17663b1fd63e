"""The container half of the engine API: ``engine.containers.create/run/start/stop/.../logs/exec_run``.

Shaped after docker-py's ``client.containers``: records are typed (engine.model.container.Container), streams are
iterators, errors are the engine's exception hierarchy. Each operation lives in its own module under
engine/runtime (create.py, start.py, stop.py, pause.py, rename.py, wait.py, remove.py ...).
"""

from __future__ import annotations

import builtins
import os

from .errors import Conflict, ContainerNotFound, CorruptRecord, DockyardError, NotFound
from .humanize import parse_time
from .lean.tools import suppress
from .runtime.reconcile import needs_reconcile, reconcile
from .store.containers import ContainerStore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from .images import Images
    from .model.config import ContainerConfig
    from .model.container import Container
    from .model.reports import PruneReport, TopResult
    from .paths import Layout
    from .runtime.attach import AttachSession
    from .runtime.create import CreateOptions
    from .runtime.exec import ExecProcess, ExecPty
    from .runtime.logfile import LogEntry
    from .runtime.logindex import LogIndex
    from .runtime.supervisor.spawning import PendingSupervisor
    from .stats import StatsReader, StatsRecord
    from .store.analysis import FileTree


__all__ = ["Containers", "CreateOptions"]


def __getattr__(name: str) -> Any:
    if name == "CreateOptions":
        from .runtime.create import CreateOptions

        return CreateOptions
    raise AttributeError(name)


class Containers:
    def __init__(self, layout: Layout, images: Images) -> None:
        self.layout = layout
        self.images = images
        self.store = ContainerStore(self.layout)
        self._standby: PendingSupervisor | None = None

    # -- lookup ------------------------------------------------------------------------
    def resolve(self, ref: str) -> str:
        return self.store.resolve(ref)

    def _record(self, cid: str) -> Container:
        return self._row(cid)[0]

    def _row(self, cid: str, shared: bool = False) -> tuple[Container, ContainerConfig]:
        """The container's record and its config, each file read once (the state twice when a supervisor
        died and the state is fixed first). ``shared``: the config is the store's snapshot, unchanged files
        are not read again, and the caller changes nothing in the config."""
        from .model.container import Container

        store = self.store
        cfg = store.config_snapshot(cid) if shared else store.config(cid)
        st = store.state_snapshot(cid) if shared else store.state(cid)
        if needs_reconcile(st) and reconcile(self.layout, cid):
            st = store.state(cid)
        c = Container(
            id=cid,
            name=cfg.name,
            image=cfg.image,
            image_id=cfg.image_id,
            command=cfg.argv,
            created=cfg.created,
            status=st.status,
            exit_code=st.exit_code,
            started_at=st.started_at,
            finished_at=st.finished_at,
            pid=st.pid,
            oom_killed=st.oom_killed,
            error=st.error,
            restart_count=st.restart_count,
            health=st.health,
            labels=dict(cfg.labels),
            ports=list(cfg.ports),
            tty=cfg.tty,
            networks=dict(cfg.networks),
        )
        return c, cfg

    def _listed(self, cid: str) -> Container:
        """The container's record from the config's listed fields (``ContainerStore.listed``) and its
        state: each file read once, nothing made of what a listing does not show."""
        from .model.container import Container

        store = self.store
        d = store.listed(cid)
        st = store.state(cid)
        if needs_reconcile(st) and reconcile(self.layout, cid):
            st = store.state(cid)
        return Container(
            id=cid,
            name=d["name"],
            image=d["image"],
            image_id=d["image_id"],
            command=[*(d.get("entrypoint") or ()), *(d.get("cmd") or ())],
            created=d["created"],
            status=st.status,
            exit_code=st.exit_code,
            started_at=st.started_at,
            finished_at=st.finished_at,
            pid=st.pid,
            oom_killed=st.oom_killed,
            error=st.error,
            restart_count=st.restart_count,
            health=st.health,
            labels=dict(d.get("labels") or {}),
            ports=list(d.get("ports") or ()),
            tty=d.get("tty", False),
            networks=dict(d.get("networks") or {}),
        )

    def _damaged(self, cid: str, damage: CorruptRecord) -> Container:
        """A container whose config cannot be read, as ``ps -a`` shows it: Dead, with the reason; its name
        from the name index when the index still has it."""
        from .humanize import rfc3339
        from .model.container import Container

        name = next((n for n, i in self.store.names().items() if i == cid), cid[:12])
        try:
            created = rfc3339(os.stat(self.store.path(cid)).st_mtime)
        except OSError:
            created = ""
        return Container(
            id=cid, name=name, image="", image_id="", command=[], created=created, status="dead",
            error=str(damage),
        )  # fmt: skip

    def get(self, ref: str) -> Container:
        return self._record(self.resolve(ref))

    def list(
        self, all: bool = False, filters: dict[str, builtins.list[str]] | None = None
    ) -> builtins.list[Container]:
        """Containers, newest first; running ones only unless ``all`` (or a ``status`` filter). ``filters``
        as ``docker ps --filter`` (engine/filters.py: status, exited, name, id, label, ancestor, health,
        volume, network, before, since, publish, expose); an unknown key is InvalidArgument."""
        return [c for c, _ in self._rows(all, filters, listed=True)]

    def _rows(
        self,
        all: bool,
        filters: dict[str, builtins.list[str]] | None,
        shared: bool = False,
        listed: bool = False,
    ) -> builtins.list[tuple[Container, ContainerConfig | None]]:
        """``list``'s choice and order, each container with its config (None for a damaged one); ``shared``
        as ``_row``'s. ``listed``: the records only, from the fields a listing shows (no config: None)."""
        if filters:
            all = all or bool(filters.get("status"))
        out: builtins.list[tuple[Container, ContainerConfig | None]] = []
        for cid in self.store.entries():
            try:
                row: tuple[Container, ContainerConfig | None] = (
                    (self._listed(cid), None) if listed else self._row(cid, shared)
                )
            except ContainerNotFound:
                continue
            except CorruptRecord as e:
                row = (self._damaged(cid, e), None)
            if not all and row[0].status not in ("running", "paused", "restarting"):
                continue
            out.append(row)
        out.sort(key=lambda r: parse_time(r[0].created), reverse=True)
        if filters:
            from .filters import select_containers

            chosen = select_containers(
                [c for c, _ in out], filters, get=self.get, image_family=self.images.family,
                mounts=self._mounts, network_id=self._network_id,
            )  # fmt: skip
            keep = {c.id for c in chosen}
            out = [r for r in out if r[0].id in keep]
        return out

    def _mounts(self, cid: str) -> builtins.list[tuple[str, str]]:
        """(volume name or bind source, destination) of each of the container's mounts."""
        try:
            return [(m.source, m.destination) for m in self.store.config(cid).mounts]
        except DockyardError:
            return []

    def _network_id(self, name: str) -> str:
        from .net.netstore import NetStore

        try:
            net = NetStore(self.layout).load(name)
        except DockyardError:
            return ""
        return net.id if net is not None else ""

    def users_of_image(self, image_id: str) -> builtins.list[tuple[str, bool]]:
        out = []
        for cid in self.store.ids():
            try:
                cfg = self.store.config(cid)
            except (ContainerNotFound, CorruptRecord):
                continue
            if cfg.image_id == image_id:
                st = self.store.state(cid)
                out.append((cid, st.status in ("running", "paused", "restarting")))
        return out

    # -- lifecycle ------------------------------------------------------------------------
    def create(self, image: str, opts: CreateOptions | None = None, **kw: Any) -> Container:
        from .runtime import create as _create
        from .runtime.create import CreateOptions

        opts = opts or CreateOptions(**kw)
        image_id = self.images.resolve(image)
        image_cfg = self.images.config_of(image_id).get("config") or {}
        cid = _create.create(self.layout, image, image_id, image_cfg, opts)
        return self._record(cid)

    def start(self, ref: str, attach_fd: int | None = None) -> bool:
        """Start the container; False if it was running. ``attach_fd``: a socket to attach before it runs."""
        from .runtime import start as _start

        supervisor = self.supervisor(attach_fd)  # it loads and warms up while the container is looked up
        try:
            cid = self.resolve(ref)
        except BaseException:
            supervisor.cancel()
            raise
        return _start.start(self.layout, cid, attach_fd, supervisor)

    def supervisor(self, attach_fd: int | None = None) -> PendingSupervisor:
        """A container supervisor forked ahead of ``run`` or ``start`` (see runtime/supervisor/spawning.py): it
        imports the launcher and takes the kernel's first cgroup-lock wait (10-20 ms here) while the caller
        prepares. Pass it to ``run``; ``cancel()`` it if there is nothing to run."""
        from .runtime.supervisor.spawning import PendingSupervisor

        return PendingSupervisor(self.layout.root, attach_fd)

    def standby(self) -> None:
        """Keep the root's supervisor process running while this process lives (a long-lived caller such as
        the app): each start is then one connection to it, never a new process (for a caller with threads,
        a new interpreter: a few hundred milliseconds). Call it once, in the background; ``Engine.discard``
        ends the process all the same."""
        if self._standby is None:
            self._standby = self.supervisor()

    def run(
        self,
        image: str,
        opts: CreateOptions | None = None,
        detach: bool = True,
        attach_fd: int | None = None,
        supervisor: PendingSupervisor | None = None,
        **kw: Any,
    ) -> Container:
        """Create and start; ``attach_fd`` as for ``start``. With ``detach=False`` wait for the end.

        The supervisor (``supervisor``, else one forked now) gets ready while the container is written.
        """
        from .runtime import start as _start
        from .runtime.create import CreateOptions

        opts = opts or CreateOptions(**kw)
        supervisor = supervisor or self.supervisor(attach_fd)
        try:
            c = self.create(image, opts)
        except BaseException:
            supervisor.cancel()
            raise
        try:
            _start.start(self.layout, c.id, attach_fd, supervisor)
        except Exception:
            if opts.auto_remove:
                with suppress(Exception):
                    self.remove(c.id, force=True)
            raise
        if not detach:
            with suppress(ContainerNotFound):  # removed as it ended (``auto_remove``)
                self.wait(c.id)
        with suppress(ContainerNotFound):
            return self.get(c.id)
        return c

    def run_replicas(
        self, image: str, replicas: int, opts: CreateOptions | None = None
    ) -> builtins.list[Container]:
        """Start ``replicas`` containers from one image, named ``NAME-1`` .. ``NAME-N`` (NAME given or
        generated); all stand on the image's same read-only layers, each with its own writable layer. If one
        fails, the ones already made are removed again and the error is raised."""
        import copy

        from .errors import InvalidArgument
        from .runtime.create import CreateOptions
        from .runtime.names import generate_name, validate_name

        if replicas < 1:
            raise InvalidArgument(f"invalid replicas value {replicas}: it must be at least 1")
        opts = opts or CreateOptions()
        base = validate_name(opts.name) if opts.name else generate_name(self.store.taken)
        names = [f"{base}-{i}" for i in range(1, replicas + 1)]
        for n in names:
            owner = self.store.owner(n)
            if owner:
                from .store.containers import name_conflict

                raise name_conflict(n, owner)
        made: builtins.list[Container] = []
        try:
            for n in names:
                o = copy.copy(opts)
                o.name = n
                made.append(self.run(image, o))
        except BaseException:
            for c in made:
                with suppress(Exception):
                    self.remove(c.id, force=True)
            raise
        return made

    def recreate(self, ref: str, image: str) -> Container:
        """Replace the container by one made from ``image`` (another version of its image: a rollback or an
        upgrade) with the same name, configuration, volumes and ports; running again if it was running.

        As compose does it: stop the old one, move it aside, create and start the new one, then remove the
        old one; and put the old one back if anything fails."""
        from .runtime.recreate import options_from
        from .store.eventlog import emit

        cid = self.resolve(ref)
        cfg = self.store.config(cid)
        new_image_id = self.images.resolve(image)  # refuse an unknown image before touching anything
        opts = options_from(cfg, cfg.image_config)
        was_running = self.store.state(cid).status in ("running", "paused", "restarting")
        aside = f"{cfg.name}-replaced-{cid[:12]}"
        if was_running:
            self.stop(cid)
        self.rename(cid, aside)
        try:
            new = self.create(image, opts)
            if was_running:
                self.start(new.id)
        except BaseException:
            with suppress(Exception):
                made = self.store.owner(cfg.name)
                if made and made != cid:
                    self.remove(made, force=True)
            self.rename(cid, cfg.name)
            if was_running:
                self.start(cid)
            raise
        self.remove(cid)
        emit(self.layout, "container", "recreate", new.id, {"from": cid, "image": new_image_id})
        return self.get(new.id)

    def stop(self, ref: str, timeout: int | None = None, signal: str | None = None) -> bool:
        from .runtime import stop as _stop

        return _stop.stop(self.layout, self.resolve(ref), timeout, signal)

    def kill(self, ref: str, signal: str | None = None) -> None:
        from .runtime import stop as _stop

        _stop.kill(self.layout, self.resolve(ref), signal)

    def restart(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None:
        """``docker restart``: stop (with ``signal`` instead of the stop signal, if given), then start."""
        from .runtime import start as _start
        from .runtime import stop as _stop

        cid = self.resolve(ref)
        _stop.stop(self.layout, cid, timeout, signal)
        _start.start(self.layout, cid)
        from .store.eventlog import emit

        emit(self.layout, "container", "restart", cid)

    def pause(self, ref: str) -> None:
        from .runtime import pause as _pause

        _pause.pause(self.layout, self.resolve(ref))

    def unpause(self, ref: str) -> None:
        from .runtime import pause as _pause

        _pause.unpause(self.layout, self.resolve(ref))

    def rename(self, ref: str, new_name: str) -> None:
        from .runtime import rename as _rename

        _rename.rename(self.layout, self.resolve(ref), new_name)

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
    ) -> builtins.list[str]:
        """``docker update``: change the container's limits and restart policy, running or not (the live
        cgroup and the record; None or "" leaves a setting as it is). Returns Docker's warnings for what the
        machine cannot apply; raises Docker's ``Cannot update container ...`` errors."""
        from .runtime.update import UpdateOptions, update

        opts = UpdateOptions(
            memory=memory,
            memory_swap=memory_swap,
            memory_reservation=memory_reservation,
            cpus=cpus,
            cpu_shares=cpu_shares,
            cpu_period=cpu_period,
            cpu_quota=cpu_quota,
            cpuset_cpus=cpuset_cpus,
            cpuset_mems=cpuset_mems,
            pids_limit=pids_limit,
            blkio_weight=blkio_weight,
            restart=restart,
            cpu_rt_period=cpu_rt_period,
            cpu_rt_runtime=cpu_rt_runtime,
        )
        return update(self.layout, self.resolve(ref), opts)

    def wait(self, ref: str, timeout: float | None = None) -> int:
        from .runtime import wait as _wait

        return _wait.wait(self.layout, self.resolve(ref), timeout)

    def remove_link(self, name: str) -> None:
        """``rm --link PARENT/ALIAS``: the parent forgets its legacy link; both containers stay."""
        from .runtime.links import remove_link

        remove_link(self.store, name)

    def linked(self, name: str) -> str:
        """The ID of the container a legacy link ``PARENT/ALIAS`` names."""
        from .runtime.links import find_link

        return find_link(self.store, name)[2]

    def remove(self, ref: str, force: bool = False, volumes: bool = False) -> None:
        from .runtime import stop as _stop
        from .runtime.remove import remove_stopped

        cid = self.resolve(ref)
        reconcile(self.layout, cid)
        st = self.store.state(cid)
        try:
            cfg = self.store.config(cid)
        except CorruptRecord:
            return self._remove_damaged(cid, st.status, force)
        if st.status in ("running", "paused", "restarting"):
            if not force:
                raise Conflict(
                    f'cannot remove container "/{cfg.name}": container is {st.status}: stop the container '
                    "before removing or force remove"
                )
            _stop.stop(self.layout, cid, timeout=0, sig="KILL")
        remove_stopped(self.layout, cid)
        if volumes:
            from .volumes import Volumes

            vols = Volumes(self.layout)
            for m in cfg.mounts:
                if m.type == "volume" and len(m.source) == 64:
                    with suppress(Exception):
                        vols.remove(m.source)

    def _remove_damaged(self, cid: str, status: str, force: bool) -> None:
        """``rm`` of a container whose config is unreadable: its processes (found by its cgroup) are killed
        when ``force``, its name and directory go."""
        from .runtime.remove import remove_stopped

        if status in ("running", "paused", "restarting") and not force:
            raise Conflict(
                f'cannot remove container "{cid[:12]}": container is {status}: stop the container before '
                "removing or force remove"
            )
        remove_stopped(self.layout, cid)

    def prune(self, *, filters: dict[str, builtins.list[str]] | None = None) -> PruneReport:
        """``container prune``: remove the stopped containers; ``filters``: ``until`` (spares those created
        since), ``label``/``label!`` (spares those without / with the labels)."""
        from .model.reports import PruneReport
        from .runtime.remove import remove_stopped

        spares = None
        if filters:
            from .filters import pruning

            spares = pruning(filters)
        report = PruneReport()
        for c in self.list(all=True):
            if spares is not None and spares(parse_time(c.created), c.labels):
                continue
            if c.status in ("exited", "created", "dead"):
                size = self.writable_size(c.id)
                with suppress(ContainerNotFound):
                    remove_stopped(self.layout, c.id)
                    report.deleted.append(c.id)
                    report.reclaimed += size
        if not self.store.ids():  # no container left: the root's cgroup parent goes too
            from .runtime.cgroups import parent_for_root, remove_parent

            with suppress(Exception):
                remove_parent(parent_for_root(self.layout.root))
        return report

    def reconcile_all(self) -> builtins.list[str]:
        from .runtime.reconcile import clear_stale_start

        fixed = []
        for cid in self.store.ids():
            with suppress(ContainerNotFound, CorruptRecord):
                if reconcile(self.layout, cid):
                    fixed.append(cid)
                elif clear_stale_start(self.layout, cid):
                    fixed.append(f"what a killed start of container {cid[:12]} left (cgroup, network)")
        from .runtime.cgroups import parent_for_root, remove_leftovers

        with suppress(Exception):
            gone = remove_leftovers(set(self.store.ids()), parent_for_root(self.layout.root))
            fixed += [f"cgroup of container {cid[:12]} (no such container)" for cid in gone]
            if not self.store.ids():
                from .runtime.cgroups import remove_parent

                remove_parent(parent_for_root(self.layout.root))
        return fixed

    # -- seeing inside -----------------------------------------------------------------------
    def config(self, ref: str) -> ContainerConfig:
        """The container's configuration as stored (what ``create`` was given, completed from the image)."""
        return self.store.config(self.resolve(ref))

    def writable_size(self, ref: str) -> int:
        from .fsutil import dir_size

        return dir_size(self.store.path(self.resolve(ref), "upper"))

    def summaries(
        self, all: bool = False, filters: dict[str, builtins.list[str]] | None = None, size: bool = False
    ) -> builtins.list[dict[str, Any]]:
        """The containers as Docker's ``GET /containers/json`` lists them (``list``'s choice and order); with
        ``size``, SizeRw and SizeRootFs as ``inspect`` gives them."""
        from .runtime.inspect import summary

        out = []
        for c, cfg in self._rows(all, filters, shared=True):  # summary() changes nothing in the config
            if cfg is None:
                continue  # damaged (``list`` shows it Dead; inspect names the file)
            doc = summary(self.layout, cfg, c)
            if size:
                from .fsutil import dir_size

                rw = dir_size(self.store.path(c.id, "upper"))
                try:
                    image = self.images.get(c.image_id).size
                except NotFound:
                    image = 0
                doc["SizeRw"], doc["SizeRootFs"] = rw, rw + image
            out.append(doc)
        return out

    def inspect(self, ref: str, size: bool = False) -> dict[str, Any]:
        """``docker inspect``; with ``size``, SizeRw (the writable layer) and SizeRootFs (with the image's
        layers) too."""
        from .runtime.inspect import inspect

        cid = self.resolve(ref)
        reconcile(self.layout, cid)
        out = inspect(self.layout, self.store, cid)
        if size:
            from .fsutil import dir_size

            rw = dir_size(self.store.path(cid, "upper"))
            try:
                image = self.images.get(out["Image"]).size
            except NotFound:
                image = 0
            out["SizeRw"] = rw
            out["SizeRootFs"] = rw + image
        return out

    def logs(
        self,
        ref: str,
        follow_: bool = False,
        tail: int | None = None,
        since: float | None = None,
        until: float | None = None,
        stdout: bool = True,
        stderr: bool = True,
        stop: Callable[[], bool] | None = None,
    ) -> Iterator[LogEntry]:
        """The container's log entries; with ``follow_``, then those written after, until the container
        stops or ``stop()`` (asked between waits, several times a second) returns true."""
        from .runtime.logread import check_readable, entries

        cid = self.resolve(ref)
        check_readable(self.store, cid)
        path = self.store.log_path(cid)

        def keep(e: LogEntry) -> bool:
            if (e.stream == "stdout" and not stdout) or (e.stream == "stderr" and not stderr):
                return False
            t = e.timestamp if (since or until) else 0
            if since and t < since:
                return False
            return not (until and t > until)  # as Docker: a line at the very time is shown

        if not follow_:
            for e in entries(path, tail, since=since):
                if until and e.timestamp > until:
                    return  # the lines are in the order of their times: none after it is older
                if keep(e):
                    yield e
            return

        def running() -> bool:
            if stop is not None and stop():
                return False
            reconcile(self.layout, cid)
            with suppress(Exception):
                return self.store.state(cid).status in ("running", "paused", "restarting")
            return False

        for e in entries(path, tail, running, since=since):
            if until and e.timestamp > until:
                return
            if keep(e):
                yield e

    def log_index(self, ref: str) -> LogIndex:
        """The container's log as numbered lines read on demand, for a viewer that must stay fast on a huge
        log (see engine.runtime.logindex); ``update()`` counts what was appended since."""
        from .runtime.logindex import LogIndex
        from .runtime.logread import check_readable

        cid = self.resolve(ref)
        check_readable(self.store, cid)
        return LogIndex(self.store.log_path(cid))

    def attach_socket(self) -> tuple[AttachSession, int]:
        """A session and the descriptor to pass as ``attach_fd`` to ``run`` or ``start``: the session gets the
        container's output from its very first byte (and sends its input). Close the descriptor once the
        call returns; the session when done."""
        from .runtime.attach import AttachSession

        return AttachSession.pair()

    def attach(self, ref: str) -> AttachSession:
        from .runtime.attach import AttachSession

        cid = self.resolve(ref)
        st = self.store.state(cid)
        if st.status not in ("running", "paused", "restarting"):
            raise Conflict("You cannot attach to a stopped container, start it first")
        return AttachSession.connect(self.store.path(cid))

    def top(self, ref: str, ps_args: str | None = None) -> TopResult:
        """The container's processes: ``ps -ef``'s columns, or the host's ps run with ``ps_args`` (as
        ``docker top CONTAINER [ps OPTIONS]``)."""
        from .runtime import top
        from .runtime.cgroups import ContainerCgroup, parent_for_root

        if ps_args:
            top.validate_ps_args(ps_args)
        cid = self.resolve(ref)
        reconcile(self.layout, cid)
        status = self.store.state(cid).status
        if status == "restarting":
            raise Conflict(f"Container {cid} is restarting, wait until the container is running")
        if status not in ("running", "paused"):
            raise Conflict(f"container {cid} is not running")
        pids = ContainerCgroup.open(cid, parent_for_root(self.layout.root)).pids()
        return top.ps(pids, ps_args) if ps_args else top.ps_ef(pids)

    def diff(self, ref: str) -> builtins.list[tuple[str, str]]:
        from .runtime.prepare import image_lower_dirs
        from .store.changes import diff_upper

        cid = self.resolve(ref)
        cfg = self.store.config(cid)
        changes = diff_upper(self.store.path(cid, "upper"), image_lower_dirs(self.layout, cfg.image_id))
        return [(c.kind, c.path) for c in changes]

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
    ) -> ExecProcess:
        """Run ``cmd`` in the running container with the given descriptors as its stdio; the handle's
        ``wait()`` gives the exit code."""
        from .runtime.exec import exec_run

        return exec_run(
            self.layout,
            self.resolve(ref),
            list(cmd),
            env=env,
            workdir=workdir,
            user=user,
            privileged=privileged,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            detach=detach,
        )

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
    ) -> ExecPty:
        """Run ``cmd`` on a new pseudo-terminal; the handle has the ``master`` fd, ``resize``, ``wait`` and
        ``close``."""
        from .runtime.exec import exec_pty

        return exec_pty(
            self.layout,
            self.resolve(ref),
            list(cmd),
            env=env,
            workdir=workdir,
            user=user,
            privileged=privileged,
            rows=rows,
            cols=cols,
        )

    def copy_from(self, ref: str, src: str, dest: str, *, follow_link: bool = False) -> tuple[int, int]:
        """``cp CONTAINER:SRC DEST`` (``-L``: ``follow_link``); the copies are owned by the caller. Returns
        the size copied (a file's, or the archive's for a directory) and the bytes of the archive."""
        from .runtime.copy import copy_from

        return copy_from(self.layout, self.resolve(ref), src, dest, follow_link=follow_link)

    def copy_to(
        self, ref: str, src: str, dest: str, *, archive: bool = False, follow_link: bool = False
    ) -> int:
        """``cp SRC CONTAINER:DEST``: owned by root in the container, or as on the host with ``archive``
        (``-a``); ``follow_link`` (``-L``). Returns the bytes of the archive sent."""
        from .runtime.copy import copy_to

        return copy_to(self.layout, self.resolve(ref), src, dest, archive=archive, follow_link=follow_link)

    def get_archive(self, ref: str, src: str, out: Any, *, follow_link: bool = False) -> int:
        """``cp CONTAINER:SRC -``: a tar of SRC written to the binary file ``out``; returns its bytes."""
        from .runtime.copy import get_archive

        return get_archive(self.layout, self.resolve(ref), src, out, follow_link=follow_link)

    def put_archive(self, ref: str, dest: str, stream: Any, *, archive: bool = False) -> int:
        """``cp - CONTAINER:DEST``: the tar read from the binary file ``stream`` extracted into the
        directory DEST (owned by root unless ``archive``); returns the bytes of the archive."""
        from .runtime.copy import put_archive

        return put_archive(self.layout, self.resolve(ref), ref, dest, stream, archive=archive)

    def stat_path(self, ref: str, path: str) -> dict[str, Any]:
        """A path in the container as Docker's archive API states it: name, size, mode (Go's FileMode
        bits), mtime, linkTarget. NotFound when it is not there."""
        from .runtime.copy import stat_path

        return stat_path(self.layout, self.resolve(ref), path)

    def export(self, ref: str, out: Any) -> None:
        from .runtime.copy import export

        export(self.layout, self.resolve(ref), out)

    def commit(
        self,
        ref: str,
        repo_tag: str | None = None,
        message: str = "",
        author: str = "",
        changes: dict[str, Any] | None = None,
        pause: bool = True,
    ) -> str:
        """The writable layer becomes a new image layer on top of the container's image; returns the image ID."""
        from .images import check_changes
        from .runtime.copy import commit

        check_changes(changes)
        return commit(
            self.layout,
            self.images.store,
            self.resolve(ref),
            repo_tag,
            message,
            author,
            changes,
            pause,
        )

    def layer_tree(self, ref: str, only_changes: bool = False) -> FileTree:
        """The container's writable layer as a file tree marked added / modified / removed against its image."""
        from .images import _scan_cache
        from .runtime.prepare import image_lower_dirs
        from .store.analysis import layer_tree

        cid = self.resolve(ref)
        cfg = self.store.config(cid)
        return layer_tree(
            self.store.path(cid, "upper"),
            image_lower_dirs(self.layout, cfg.image_id),
            only_changes=only_changes,
            cache=_scan_cache(),
        )

    def stats_reader(self, refs: builtins.list[str] | None = None) -> StatsReader:
        """Resource usage of the running containers (those of ``refs``, else all), one pass per
        ``sample()``; see engine.stats.StatsReader."""
        from .runtime.cgroups import ContainerCgroup, parent_for_root
        from .stats import StatsReader

        def targets() -> builtins.list[tuple[str, str, int, ContainerCgroup]]:
            ids = {self.resolve(r) for r in refs} if refs else None
            out = []
            for c in self.list():
                if ids is not None and c.id not in ids:
                    continue
                with suppress(Exception):
                    cg = ContainerCgroup.open(c.id, parent_for_root(self.layout.root))
                    out.append((c.id, c.name, c.pid, cg))
            return out

        return StatsReader(targets)

    def stats(
        self, refs: builtins.list[str] | None = None, interval: float = 1.0, first: float | None = None
    ) -> Iterator[builtins.list[StatsRecord]]:
        """``docker stats``: the records of the running containers (those of ``refs``, else all) every
        ``interval`` seconds, the first after ``first`` seconds (default ``interval``); for ever."""
        yield from self.stats_reader(refs).stream(interval, first)

    def replace(self, name: str, image: str, stop_timeout: int = 10) -> tuple[str, bool]:
        """Make the container ``name`` run ``image``: stop and remove the one there (unless it already runs
        that image), then run a new one detached with the image's command. Returns (container ID, whether a
        container was replaced)."""
        from .runtime.create import CreateOptions

        image_id = self.images.resolve(image)
        try:
            old = self.get(name)
        except NotFound:
            old = None
        if old is not None:
            if old.image_id == image_id and old.status == "running":
                return old.id, False
            if old.status in ("running", "paused", "restarting"):
                with suppress(DockyardError):
                    self.stop(old.id, timeout=stop_timeout)
            self.remove(old.id, force=True)
        new = self.run(image, CreateOptions(name=name), detach=True)
        return new.id, old is not None
