"""Several engines side by side: ``EngineSet`` shows the containers of every engine the user added (contexts
marked in the ctrl+e picker, or the settings' ``engines = [...]``) as one list, each row marked with its
engine, and sends each action on a row to that row's own engine.

It is an ``EngineAPI`` itself, so the app's code is the same for one engine or several: a container's calls
are routed by its ID to the engine that listed it; the other lists (images, volumes, networks), runs and
builds are the first engine's. Each engine is listed in its own thread with a deadline, so an engine that
stops answering costs the app nothing: its rows stay, marked unreachable, until it answers again (the feed
asks every two seconds). Each engine's events mark only that engine to be listed again, so an event of one
engine reloads only its own rows; the Events tab holds every engine's events (event_history.read_backlog)."""

from __future__ import annotations

import builtins
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from engine import Container, DockyardError, EngineAPI, PruneReport

from .feeds import EventFeed, Post, _safe
from .messages import EngineChanged

TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine import (
        AttachAPI,
        BuildEvent,
        BuildOptions,
        ContainerConfig,
        CreateOptions,
        DiskUsage,
        Engine,
        Event,
        ExecProcessAPI,
        ExecPtyAPI,
        ImagesAPI,
        LogIndex,
        NetworksAPI,
        SearchResult,
        StatsRecord,
        TopResult,
        VolumesAPI,
    )

#: The app's actions that need a feature an engine may not offer (engine/interface.py's FEATURES).
ACTION_FEATURES = {"version": "recreate"}

DEADLINE = 2.0  # seconds an engine's listing may take before its rows are shown as unreachable
PROBE_EVERY = 2.0  # seconds between tries of an engine that does not answer


class Unreachable(DockyardError):
    """A row's engine does not answer: its actions are refused at once rather than left to hang."""


@dataclass(frozen=True)
class SetView:
    """What the Containers list marks, as of the last listing: each container's engine, the engines that do
    not answer (with why), and the engines' names in order."""

    owner: dict[str, str] = field(default_factory=dict)
    down: dict[str, str] = field(default_factory=dict)
    names: tuple[str, ...] = ()


class EngineSet:
    """The engines ``members`` (name -> engine, in the order shown) as one engine."""

    def __init__(self, members: dict[str, EngineAPI], deadline: float = DEADLINE) -> None:
        if not members:
            raise ValueError("an engine set needs an engine")
        self.members = dict(members)
        self.primary = next(iter(self.members))
        self.deadline = deadline
        self.rows: dict[str, list[Container]] = {name: [] for name in self.members}
        self.dirty: set[str] = set(self.members)  # engines to list again at the next reload
        self.down: dict[str, str] = {}  # engine -> why it does not answer
        self.view = SetView(names=tuple(self.members))
        self._lock = threading.Lock()
        self._listing: dict[str, float] = {}  # a listing still running (a slow engine): since when
        self._answers: dict[str, list[Container] | BaseException] = {}
        self._containers = SetContainers(self)

    # -- EngineAPI -------------------------------------------------------------------------------------------
    @property
    def root(self) -> str:
        return " + ".join(self.members)

    @property
    def first(self) -> EngineAPI:
        return self.members[self.primary]

    @property
    def containers(self) -> SetContainers:
        return self._containers

    @property
    def images(self) -> ImagesAPI:
        return self.first.images

    @property
    def networks(self) -> NetworksAPI:
        return self.first.networks

    @property
    def volumes(self) -> VolumesAPI:
        return self.first.volumes

    def supports(self, feature: str) -> str | None:
        return self.first.supports(feature)

    def event_offset(self) -> int:
        return self.first.event_offset()

    def events(
        self,
        since_offset: int | None = None,
        timeout: float | None = None,
        filters: dict[str, builtins.list[str]] | None = None,
        since: float | None = None,
        until: float | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> Iterator[Event]:
        """The first engine's events (the Events tab's history; the feeds follow each engine's own)."""
        return self.first.events(since_offset, timeout, filters, since, until, stop)

    def default_network(self) -> str:
        return self.first.default_network()

    def df(self) -> DiskUsage:
        return self.first.df()

    def search(self, term: str, limit: int = 25) -> builtins.list[SearchResult]:
        return self.first.search(term, limit)

    def info(self, version: str) -> dict[str, Any]:
        return self.first.info(version)

    def watch_build(
        self,
        options: BuildOptions,
        progress: Callable[[BuildEvent], None] | None = None,
        run_name: str | None = None,
        stop: Any = None,
    ) -> None:
        self.first.watch_build(options, progress, run_name, stop)

    # -- which engine ----------------------------------------------------------------------------------------
    def name_of(self, ref: str) -> str:
        """The engine that listed the container ``ref`` (its ID, a prefix of it, or its name); the first
        engine for one no list has shown."""
        owner = self.view.owner
        if ref in owner:
            return owner[ref]
        for name, rows in self.rows.items():
            if any(c.name == ref or c.id.startswith(ref) for c in rows):
                return name
        return self.primary

    def engine_of(self, ref: str) -> EngineAPI:
        name = self.name_of(ref)
        why = self.down.get(name)
        if why is not None:
            raise Unreachable(f"the engine {name} does not answer ({why}): try again when it is back")
        return self.members[name]

    def supports_for(self, ref: str | None, feature: str) -> str | None:
        """Why the engine of the container ``ref`` (None: the first engine) cannot do ``feature``, or None."""
        return self.members[self.name_of(ref) if ref else self.primary].supports(feature)

    def claim(self, event: Any, name: str) -> None:
        """An event of the engine ``name``: the container it names is that engine's (a container made since
        the last listing is read from its own engine, and its row marked so)."""
        kind = getattr(event, "type", None)
        cid = getattr(event, "id", "") if kind == "container" else ""
        if kind == "network":
            cid = str((getattr(event, "attributes", None) or {}).get("container", ""))
        if cid and self.view.owner.get(cid) != name:
            with self._lock:
                view = self.view
                self.view = SetView({**view.owner, cid: name}, view.down, view.names)

    def touch(self, name: str | None = None) -> None:
        """List ``name`` (None: every engine) again at the next reload."""
        with self._lock:
            self.dirty |= {name} if name else set(self.members)

    # -- listing ---------------------------------------------------------------------------------------------
    def list_containers(self, all: bool, filters: dict[str, builtins.list[str]] | None) -> list[Container]:
        """Every engine's containers, in the engines' order. Only the engines whose events said something
        changed (and those that did not answer) are asked again, each in its own thread; one that has not
        answered within the deadline keeps its last rows, marked unreachable."""
        if filters or not all:
            return [c for eng in self._reachable() for c in eng.containers.list(all, filters)]
        with self._lock:
            wanted = (self.dirty | set(self.down)) & set(self.members)
            self.dirty.clear()
        for name in wanted:
            self._start_listing(name)
        end = time.monotonic() + self.deadline
        # an engine that did not answer last time is not waited for: its listing's answer comes when it does
        waited = [name for name in wanted if name not in self.down]
        while time.monotonic() < end and any(name in self._listing for name in waited):
            time.sleep(0.01)
        with self._lock:
            for name in self.members:
                answer = self._answers.pop(name, None)
                if isinstance(answer, BaseException):
                    self.down[name] = _why(answer)
                elif answer is not None:
                    self.rows[name] = answer
                    self.down.pop(name, None)
                elif name in self._listing and name in wanted:
                    self.down[name] = f"no answer in {self.deadline:g} s"
            owner = {c.id: name for name, rows in self.rows.items() for c in rows}
            self.view = SetView(owner, dict(self.down), tuple(self.members))
            return [c for name in self.members for c in self.rows[name]]

    def _start_listing(self, name: str) -> None:
        with self._lock:
            if name in self._listing:
                return  # still waiting for the last one: asking again would only pile up
            engine = self.members[name]
            self._listing[name] = time.monotonic()

            def listing() -> None:
                try:
                    answer: list[Container] | BaseException = engine.containers.list(all=True)
                except Exception as e:  # noqa: BLE001 - shown as the engine's reason for being unreachable
                    answer = e
                with self._lock:
                    self._answers[name] = answer
                    self._listing.pop(name, None)
                    if name in self.down:
                        self.dirty.add(name)  # back (or failing faster): the next reload takes its rows

        threading.Thread(target=listing, name=f"dockyard-list-{name}", daemon=True).start()

    def poll(self) -> bool:
        """Ask each service among the engines for its containers in the background (the local engine's
        events say all); True when the lists should be read again: a service's rows changed, it stopped
        answering (no answer within the deadline) or it is back."""
        now = time.monotonic()
        for name, eng in self.members.items():
            if getattr(eng, "client", None) is not None:
                self._start_listing(name)
        changed = False
        with self._lock:
            for name, since in self._listing.items():
                if now - since > self.deadline and name not in self.down:
                    self.down[name] = f"no answer in {self.deadline:g} s"
                    changed = True
            for name, answer in self._answers.items():
                if isinstance(answer, BaseException):
                    changed = changed or name not in self.down
                elif name in self.down or answer != self.rows[name]:
                    changed = True
        return changed

    def _reachable(self) -> list[EngineAPI]:
        return [eng for name, eng in self.members.items() if name not in self.down]

    def close(self) -> None:
        """Close the connections of the services among the engines."""
        for eng in self.members.values():
            closer = getattr(getattr(eng, "client", None), "close", None)
            if callable(closer):
                closer()


def _why(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text if len(text) <= 80 else text[:79] + "…"


class SetContainers:
    """``ContainersAPI`` over the set: a container's calls go to its own engine; new containers are made on
    the first engine."""

    def __init__(self, engines: EngineSet) -> None:
        self.engines = engines

    def _of(self, ref: str) -> Any:
        return self.engines.engine_of(ref).containers

    def list(
        self, all: bool = False, filters: dict[str, builtins.list[str]] | None = None
    ) -> builtins.list[Container]:
        return self.engines.list_containers(all, filters)

    def get(self, ref: str) -> Container:
        c: Container = self._of(ref).get(ref)
        return c

    def resolve(self, ref: str) -> str:
        return str(self._of(ref).resolve(ref))

    def inspect(self, ref: str, size: bool = False) -> dict[str, Any]:
        return dict(self._of(ref).inspect(ref, size))

    def config(self, ref: str) -> ContainerConfig:
        return self.engines.engine_of(ref).containers.config(ref)

    def logs(
        self,
        ref: str,
        follow_: bool = False,
        tail: int | None = None,
        since: float | None = None,
        until: float | None = None,
        stdout: bool = True,
        stderr: bool = True,
    ) -> Iterator[Any]:
        return self.engines.engine_of(ref).containers.logs(ref, follow_, tail, since, until, stdout, stderr)

    def log_index(self, ref: str) -> LogIndex:
        return self.engines.engine_of(ref).containers.log_index(ref)

    def create(self, image: str, opts: CreateOptions | None = None) -> Container:
        return self.engines.first.containers.create(image, opts)

    def run(self, image: str, opts: CreateOptions | None = None, detach: bool = True) -> Container:
        return self.engines.first.containers.run(image, opts, detach)

    def run_replicas(
        self, image: str, replicas: int, opts: CreateOptions | None = None
    ) -> builtins.list[Container]:
        return self.engines.first.containers.run_replicas(image, replicas, opts)

    def recreate(self, ref: str, image: str) -> Container:
        return self.engines.engine_of(ref).containers.recreate(ref, image)

    def start(self, ref: str) -> bool:
        return self.engines.engine_of(ref).containers.start(ref)

    def stop(self, ref: str, timeout: int | None = None, signal: str | None = None) -> bool:
        return self.engines.engine_of(ref).containers.stop(ref, timeout, signal)

    def restart(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None:
        self.engines.engine_of(ref).containers.restart(ref, timeout, signal)

    def kill(self, ref: str, signal: str | None = None) -> None:
        self.engines.engine_of(ref).containers.kill(ref, signal)

    def pause(self, ref: str) -> None:
        self.engines.engine_of(ref).containers.pause(ref)

    def unpause(self, ref: str) -> None:
        self.engines.engine_of(ref).containers.unpause(ref)

    def rename(self, ref: str, new_name: str) -> None:
        self.engines.engine_of(ref).containers.rename(ref, new_name)

    def remove(self, ref: str, force: bool = False, volumes: bool = False) -> None:
        self.engines.engine_of(ref).containers.remove(ref, force, volumes)

    def wait(self, ref: str, timeout: float | None = None) -> int:
        return self.engines.engine_of(ref).containers.wait(ref, timeout)

    def prune(self, *, filters: dict[str, builtins.list[str]] | None = None) -> PruneReport:
        """Every engine that answers prunes its stopped containers (the list showed them all)."""
        report = PruneReport()
        for eng in self.engines._reachable():
            part = eng.containers.prune(filters=filters)
            report.deleted += part.deleted
            report.reclaimed += part.reclaimed
        return report

    def top(self, ref: str, ps_args: str | None = None) -> TopResult:
        return self.engines.engine_of(ref).containers.top(ref, ps_args)

    def diff(self, ref: str) -> builtins.list[tuple[str, str]]:
        return self.engines.engine_of(ref).containers.diff(ref)

    def writable_size(self, ref: str) -> int:
        return self.engines.engine_of(ref).containers.writable_size(ref)

    def commit(
        self,
        ref: str,
        repo_tag: str | None = None,
        message: str = "",
        author: str = "",
        changes: dict[str, Any] | None = None,
        pause: bool = True,
    ) -> str:
        return self.engines.engine_of(ref).containers.commit(ref, repo_tag, message, author, changes, pause)

    def export(self, ref: str, out: Any) -> None:
        self.engines.engine_of(ref).containers.export(ref, out)

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
    ) -> ExecPtyAPI:
        return self.engines.engine_of(ref).containers.exec_pty(
            ref, cmd, env=env, workdir=workdir, user=user, privileged=privileged, rows=rows, cols=cols
        )

    def attach(self, ref: str) -> AttachAPI:
        return self.engines.engine_of(ref).containers.attach(ref)

    def stats_reader(self, refs: builtins.list[str] | None = None) -> SetStatsReader:
        return SetStatsReader(self.engines, refs)

    def stats(
        self, refs: builtins.list[str] | None = None, interval: float = 1.0, first: float | None = None
    ) -> Iterator[builtins.list[StatsRecord]]:
        """The first engine's figures (the app samples each engine through ``stats_reader``)."""
        return self.engines.first.containers.stats(refs, interval, first)

    def exec_run(self, ref: str, cmd: builtins.list[str], **kw: Any) -> ExecProcessAPI:
        return self.engines.engine_of(ref).containers.exec_run(ref, cmd, **kw)

    def update(self, ref: str, **kw: Any) -> builtins.list[str]:
        return self.engines.engine_of(ref).containers.update(ref, **kw)

    def get_archive(self, ref: str, src: str, out: Any, *, follow_link: bool = False) -> int:
        return self.engines.engine_of(ref).containers.get_archive(ref, src, out, follow_link=follow_link)

    def put_archive(self, ref: str, dest: str, stream: Any, *, archive: bool = False) -> int:
        return self.engines.engine_of(ref).containers.put_archive(ref, dest, stream, archive=archive)

    def copy_from(self, ref: str, src: str, dest: str, *, follow_link: bool = False) -> tuple[int, int]:
        return self.engines.engine_of(ref).containers.copy_from(ref, src, dest, follow_link=follow_link)

    def copy_to(
        self, ref: str, src: str, dest: str, *, archive: bool = False, follow_link: bool = False
    ) -> int:
        return self.engines.engine_of(ref).containers.copy_to(
            ref, src, dest, archive=archive, follow_link=follow_link
        )


class SetStatsReader:
    """Each answering engine's own stats reader, for its containers among ``refs`` (None: all)."""

    def __init__(self, engines: EngineSet, refs: builtins.list[str] | None) -> None:
        self.readers: dict[str, Any] = {}
        for name, eng in engines.members.items():
            if name in engines.down:
                continue
            mine = None if refs is None else [r for r in refs if engines.name_of(r) == name]
            if mine is not None and not mine:
                continue
            self.readers[name] = eng.containers.stats_reader(mine)

    @property
    def sampler(self) -> dict[str, Any]:
        return {name: r.sampler for name, r in self.readers.items()}

    @sampler.setter
    def sampler(self, value: Any) -> None:
        for name, s in (value or {}).items():
            if name in self.readers:
                self.readers[name].sampler = s

    def refresh(self) -> None:
        for r in self.readers.values():
            r.refresh()

    def sample(self) -> builtins.list[StatsRecord]:
        out: builtins.list[StatsRecord] = []
        for r in self.readers.values():
            try:
                out += r.sample()
            except Exception:  # noqa: BLE001 - one engine's failure leaves the others' figures
                r.refresh()
        return out

    def running(self) -> bool:
        return any(r.running() for r in self.readers.values())


class EngineSetFeed(EventFeed):
    """One event feed per engine of the set (an event marks only its engine to be listed again), and every
    two seconds a look at each service (``EngineSet.poll``): a reload when one stopped answering or is back."""

    def __init__(self, engines: EngineSet, post: Post) -> None:
        super().__init__(engines, post)
        self.engines = engines
        self.feeds = [EventFeed(eng, self._poster(name)) for name, eng in engines.members.items()]

    def _poster(self, name: str) -> Post:
        def post(message: Any) -> object:
            self.engines.touch(name)
            event = getattr(message, "event", None)
            if event is not None:
                self.engines.claim(event, name)
            return self.post(message)

        return post

    def run(self) -> None:
        for feed in self.feeds:
            feed.start()
        while not self.stopped.wait(PROBE_EVERY):
            if self.engines.poll() and not _safe(self.post, EngineChanged(set())):
                return

    def stop(self) -> None:
        super().stop()
        for feed in self.feeds:
            feed.stop()


def event_feed(engine: EngineAPI, post: Post) -> EventFeed:
    """The event feed for the app's engine: one per engine of a set."""
    if isinstance(engine, EngineSet):
        return EngineSetFeed(engine, post)
    return EventFeed(engine, post)


def members_of(shown: EngineAPI) -> dict[str, EngineAPI]:
    """The engines the app shows: a set's, by context name; else the one engine (named "")."""
    return dict(shown.members) if isinstance(shown, EngineSet) else {"": shown}


def local_engine(shown: EngineAPI) -> Engine | None:
    """The engine on this machine the app shows (a set's first engine), for what only it offers (compose
    projects); None for a service."""
    from engine import Engine

    first = next(iter(members_of(shown).values()))
    return first if isinstance(first, Engine) else None


def view_of(shown: EngineAPI) -> SetView | None:
    """What the Containers list marks (None: one engine, no marks)."""
    return shown.view if isinstance(shown, EngineSet) and len(shown.members) > 1 else None


def supports_for(shown: EngineAPI, ref: str | None, feature: str) -> str | None:
    """Why the engine of the container ``ref`` cannot do ``feature``, or None when it can."""
    if isinstance(shown, EngineSet):
        return shown.supports_for(ref, feature)
    return shown.supports(feature)


if TYPE_CHECKING:

    def _a_set_is_an_engine(engines: EngineSet) -> EngineAPI:
        return engines  # the type checker holds EngineSet to the protocol
