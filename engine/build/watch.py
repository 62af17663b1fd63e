"""``build --watch``: rebuild when the build context changes, and optionally replace a running container.

:class:`ContextWatcher` follows the context directory with watchdog (inotify) and keeps only the changes a
build could see: paths .dockerignore does not exclude (re-read when the ignore file itself changes), the
Dockerfile and the ignore file. Changes are collected until the context has been quiet for ``debounce``
seconds, so an editor's save or a ``git checkout`` makes one rebuild, not fifty.

:class:`Watch` is the loop: build, report what changed and which steps re-ran (executed vs CACHED), replace
what follows a new image (``after``: the API replaces a container with it for ``--run``), wait for the next
change; until ``stop`` is set.
It is meant to run in a worker thread (the TUI) or in the CLI's main thread.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable

from engine.build import dockerignore
from engine.build import events as ev
from engine.build.builder import Builder
from engine.build.context import ChecksumCache
from engine.errors import BuildError, DockyardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine.build.options import BuildOptions
    from engine.paths import Layout
    from engine.store.imagestore import ImageStore

    AfterFn = Callable[[ev.BuildResult], str]  # a new image -> what was done with it (raises DockyardError)

__all__ = ["ContextWatcher", "Watch"]

_KINDS = frozenset({"created", "deleted", "modified", "moved", "closed", "attrib"})


class ContextWatcher:
    """Collects the context paths that changed (relative, ``/``-separated), .dockerignore applied."""

    def __init__(self, context_dir: str, dockerfile: str) -> None:
        self.root = os.path.abspath(context_dir)
        self.dockerfile = os.path.abspath(dockerfile)
        self.ignore_files = {
            os.path.join(self.root, dockerignore.IGNORE_FILE),
            self.dockerfile + dockerignore.IGNORE_FILE,
        }
        self.matcher = self._load_matcher()
        self.changed: set[str] = set()
        self.last_change = 0.0
        self.cond = threading.Condition()
        self.observer: object | None = None

    def _load_matcher(self) -> dockerignore.Matcher:
        try:
            return dockerignore.load(self.root, self.dockerfile)
        except BuildError:
            return dockerignore.Matcher()  # a broken ignore file: the next build reports it

    def start(self) -> None:
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.event_type not in _KINDS:
                    return
                if event.is_directory and event.event_type in ("modified", "attrib", "closed"):
                    return  # a directory's own timestamps: the files inside report their changes
                paths = [event.src_path, getattr(event, "dest_path", "") or ""]
                for raw in paths:
                    path = os.fsdecode(raw) if raw else ""
                    if path:
                        watcher.note(path)

        observer = Observer()
        observer.schedule(Handler(), self.root, recursive=True)
        df_dir = os.path.dirname(self.dockerfile)
        if df_dir != self.root and not df_dir.startswith(self.root + os.sep):
            observer.schedule(Handler(), df_dir, recursive=False)
        observer.daemon = True
        observer.start()
        self.observer = observer

    def stop(self) -> None:
        observer = self.observer
        self.observer = None
        if observer is not None:
            with contextlib.suppress(Exception):
                observer.stop()  # type: ignore[attr-defined]
                observer.join(timeout=5)  # type: ignore[attr-defined]

    def relevant(self, path: str) -> str | None:
        """The name to report for a changed host path, or None when the build cannot see it."""
        path = os.path.abspath(path)
        if path == self.dockerfile:
            return os.path.basename(path)
        if path in self.ignore_files:
            self.matcher = self._load_matcher()
            return os.path.basename(path)
        if not path.startswith(self.root + os.sep):
            return None
        rel = os.path.relpath(path, self.root).replace(os.sep, "/")
        if self.matcher.ignored(rel):
            return None
        return rel

    def note(self, path: str) -> None:
        rel = self.relevant(path)
        if rel is None:
            return
        with self.cond:
            self.changed.add(rel)
            self.last_change = time.monotonic()
            self.cond.notify_all()

    def wait(self, stop: threading.Event, debounce: float) -> list[str] | None:
        """Block until something changed and then stayed quiet for ``debounce`` seconds; returns the
        changed paths (sorted), or None once ``stop`` is set."""
        with self.cond:
            while not self.changed:
                if stop.is_set():
                    return None
                self.cond.wait(0.1)
            while True:
                if stop.is_set():
                    return None
                quiet = time.monotonic() - self.last_change
                if quiet >= debounce:
                    break
                self.cond.wait(debounce - quiet)
            changed = sorted(self.changed)
            self.changed.clear()
            return changed


class Watch:
    """The watch loop (see the module docstring)."""

    def __init__(
        self,
        layout: Layout,
        store: ImageStore,
        opts: BuildOptions,
        progress: Callable[[ev.BuildEvent], None] | None,
        after: AfterFn | None,
        stop: threading.Event,
        debounce: float = 0.3,
    ) -> None:
        self.layout = layout
        self.store = store
        self.opts = opts
        self.progress = progress or (lambda _e: None)
        self.after = after
        self.stop = stop
        self.debounce = debounce
        self.sums = ChecksumCache()  # file checksums kept from one build to the next
        self.last_image = ""

    def say(self, text: str) -> None:
        self.progress(ev.BuildEvent(ev.WATCH, text=text))

    def build_once(self) -> ev.BuildResult | None:
        try:
            builder = Builder(self.layout, self.store, self.opts, self.sums)
            gen = builder.events()
            while True:
                try:
                    event = next(gen)
                except StopIteration as done:
                    result: ev.BuildResult = done.value
                    return result
                self.progress(event)
                if self.stop.is_set():
                    gen.close()
                    return None
        except DockyardError as exc:
            self.progress(ev.BuildEvent(ev.ERROR, text=str(exc)))
            return None

    def after_build(self, result: ev.BuildResult | None, first: bool) -> None:
        if result is None:
            self.say("build failed; waiting for changes")
            return
        if not first:
            ran = ", ".join(result.executed) if result.executed else "none"
            self.say(
                f"rebuilt {result.image_id[7:19]}: {len(result.executed)} step(s) re-ran ({ran}), "
                f"{len(result.cached)} cached"
            )
        if self.after is not None and result.image_id != self.last_image:
            try:
                done = self.after(result)
            except DockyardError as exc:
                self.progress(ev.BuildEvent(ev.ERROR, text=str(exc)))
            else:
                if done:
                    self.say(done)
        self.last_image = result.image_id

    def run(self) -> None:
        builder = Builder(
            self.layout, self.store, self.opts, self.sums
        )  # checks the context and the Dockerfile exist
        watcher = ContextWatcher(builder.context_dir, builder.dockerfile_path)
        watcher.start()
        try:
            self.after_build(self.build_once(), first=True)
            self.say(f"watching {builder.context_dir} for changes")
            while not self.stop.is_set():
                changed = watcher.wait(self.stop, self.debounce)
                if changed is None:
                    break
                shown = ", ".join(changed[:10]) + (
                    f" and {len(changed) - 10} more" if len(changed) > 10 else ""
                )
                self.say(f"changed: {shown}")
                self.after_build(self.build_once(), first=False)
        finally:
            watcher.stop()
