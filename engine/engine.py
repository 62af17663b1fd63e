"""The engine: one object over one root on disk. ``Engine(root).images`` / ``.containers`` / ``.volumes``.

There is no daemon: every process that makes an Engine works on the same state under the root, with file
locks keeping concurrent callers safe.
"""

from __future__ import annotations

import os

from .lean.tools import cached_property
from .paths import Layout, resolve_root

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Iterator
    from typing import Any

    from .build.events import BuildEvent, BuildResult
    from .build.options import BuildOptions
    from .containers import Containers
    from .images import Images
    from .model.reports import CheckReport, DiskUsage
    from .networks import Networks
    from .registry.search import SearchResult
    from .store.eventlog import Event
    from .volumes import Volumes


class Engine:
    def __init__(self, root: str | None = None) -> None:
        self.root = resolve_root(root)
        self.layout = Layout(self.root)
        self.layout.ensure()
        if not os.path.exists(self.layout.cgroup_parent):  # a new root: its containers' cgroups go below ours
            from .runtime.cgroups import parent_for_root

            parent_for_root(self.root)

    @cached_property
    def images(self) -> Images:
        from .images import Images as _Images  # imported on first use: container commands do not need it

        return _Images(self.layout, users=self._image_users)

    @cached_property
    def containers(self) -> Containers:
        from .containers import Containers as _Containers

        return _Containers(self.layout, self.images)

    @cached_property
    def volumes(self) -> Volumes:
        from .volumes import Volumes as _Volumes

        return _Volumes(self.layout)

    def _image_users(self, image_id: str) -> list[tuple[str, bool]]:
        return self.containers.users_of_image(image_id)

    def recover(self) -> list[str]:
        """Clean what crashed processes left behind (temporaries, orphaned layers, dead containers)."""
        from .runtime.reconcile import sweep

        removed = self.images.recover()
        removed += sweep(self.layout)  # half-made containers, unfinished writes, stale names
        removed += self.containers.reconcile_all()
        return removed

    def check(self, repair: bool = False) -> CheckReport:
        """``system check``: clean what crashed processes left (as :meth:`recover`), and find every kind of
        damage in the root (garbled or missing records, blobs that do not match their digest, missing layers,
        dangling tags, leftover mounts); with ``repair``, rebuild what the whole records allow and move the
        rest into ``ROOT/quarantine/`` (nothing is deleted)."""
        from .check import check

        report = check(self.layout, repair)
        report.cleaned = self.recover()
        return report

    def discard(self) -> None:
        """Remove the root and all it holds, as ``podman system reset`` does: every container (stopped by
        force), the root's cgroup parent and its idle bridges and firewall rules, then the files."""
        import shutil

        from .net import sweep_root
        from .runtime.cgroups import parent_for_root, remove_parent
        from .runtime.supervisor.spawning import quit_supervisor

        for c in self.containers.list(all=True):
            self.containers.remove(c.id, force=True)
        quit_supervisor(self.root)
        self.recover()
        sweep_root(self.layout)
        remove_parent(parent_for_root(self.root))
        shutil.rmtree(self.root, ignore_errors=True)

    def events(
        self,
        since_offset: int | None = None,
        timeout: float | None = None,
        filters: dict[str, list[str]] | None = None,
        since: float | None = None,
        until: float | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> Iterator[Event]:
        """Follow what changes under this root, whichever process changes it: Event records as they are
        appended, from ``since_offset`` (see :meth:`event_offset`; default: from now on), until ``timeout``
        seconds have passed (default: for ever). ``since``/``until`` (seconds since the epoch, as
        ``docker events --since/--until``): the events of the log from that time on (read from its start),
        and an end at that time (past events only when it has passed). ``filters`` as ``docker events
        --filter`` (engine.filters.event_matches: ``type``, ``event``, ``container``, ``image``,
        ``network``, ``volume``, ``label``...): several values of one key are alternatives, several keys
        must all match; an unknown key is InvalidArgument, before anything is read. ``stop``: asked between waits
        (at least twice a second); following ends once it returns true (a reader that has gone away)."""
        import os
        import time

        from .kernel.inotify import Watcher
        from .store.eventlog import end_offset, read

        matches = None
        if filters:
            from .filters import EVENT_KEYS, event_matches, validate

            validate(filters, EVENT_KEYS)
            matches = event_matches
        layout = self.layout
        if since_offset is None:
            since_offset = 0 if since is not None or until is not None else end_offset(layout)
        offset = since_offset
        if not os.path.exists(layout.events):
            open(layout.events, "ab").close()
        deadline = None if timeout is None else time.monotonic() + timeout
        with Watcher(layout.events) as w:
            while True:
                wait = 0.5  # how long until the end, taken before reading: what came before it is read
                if deadline is not None:
                    wait = min(wait, deadline - time.monotonic())
                if until is not None:
                    wait = min(wait, until - time.time())
                events, offset = read(layout, offset)
                for e in events:
                    if (since is not None and e.time < since) or (until is not None and e.time > until):
                        continue
                    if matches is None or matches(e, filters):  # type: ignore[arg-type]
                        yield e
                if wait <= 0 or (stop is not None and stop()):
                    return
                w.wait(wait)

    def supports(self, feature: str) -> str | None:
        """None: the engine on this machine offers every feature of engine/interface.py's FEATURES."""
        return None

    def event_offset(self) -> int:
        """Where the event log ends now: pass it to :meth:`events` to see only what happens next."""
        from .store.eventlog import end_offset

        return end_offset(self.layout)

    def default_network(self) -> str:
        """The network a container joins when none is named (``bridge``, unless configured otherwise)."""
        from .net.defaults import default_network

        return default_network(self.layout)

    def watch_build(
        self,
        options: BuildOptions,
        progress: Callable[[BuildEvent], None] | None = None,
        run_name: str | None = None,
        stop: threading.Event | None = None,
        debounce: float = 0.3,
        stop_timeout: int = 10,
    ) -> None:
        """``build --watch``: build, then rebuild each time the context (as .dockerignore lets the build see
        it) or the Dockerfile changes, until ``stop`` is set. With ``run_name``, each new image also replaces
        the container of that name (``containers.replace``). Errors are reported through ``progress`` as
        ``error`` events and the watch goes on."""
        import threading

        from .build.watch import Watch
        from .errors import DockyardError

        after = None
        if run_name:
            name = run_name

            def after(result: BuildResult) -> str:
                image = result.tags[0] if result.tags else result.image_id
                try:
                    cid, replaced = self.containers.replace(name, image, stop_timeout)
                except DockyardError as exc:
                    raise DockyardError(f"cannot run {name}: {exc}") from None
                verb = "replaced" if replaced else "started"
                return f"{verb} container {name} ({cid[:12]}) from {result.image_id[7:19]}"

        images = self.images
        Watch(self.layout, images.store, options, progress, after, stop or threading.Event(), debounce).run()

    # -- registries ------------------------------------------------------------------------------------------
    def login(self, username: str, password: str, registry: str | None = None) -> str:
        """``docker login``: check the credentials against the registry, then store them; returns the
        registry they were stored for. Raises Unauthorized when the registry refuses them."""
        from .registry import login

        return login(registry, username, password, root=self.root)

    def logout(self, registry: str | None = None) -> tuple[str, bool]:
        """``docker logout``: forget the stored credentials; returns (the name they were filed under, as
        Docker shows it, whether there were any)."""
        from .registry import logout
        from .registry.names import auth_key

        server, had = logout(registry)
        return auth_key(server), had

    def search(self, term: str, limit: int = 25) -> list[SearchResult]:
        """``docker search``: repositories matching ``term`` on Docker Hub, or on the registry the term names
        first (``127.0.0.1:5000/app``: that registry's catalog, when it lists one); a registry with no way to
        search it raises RegistryError saying so."""
        from .registry.search import search

        return search(term, limit, self.root)

    def info(self, version: str) -> dict[str, Any]:
        """Docker's info document for this root and machine (``docker info --format '{{json .}}'``, the
        Engine API's ``GET /info``); ``version`` is dockyard's, shown as the server's."""
        from .runtime.sysinfo import info_document

        states = [c.status for c in self.containers.list(all=True)]
        return info_document(self.root, states, len(self.images.list(all=True)), version)

    def df(self) -> DiskUsage:
        from .diskusage import disk_usage

        return disk_usage(self.images, self.containers, self.volumes)

    @cached_property
    def networks(self) -> Networks:
        from .networks import Networks as _Networks

        return _Networks(self.layout)
