"""The build entry points the rest of dockyard calls: ``build``, ``build_stream`` and ``watch``.

    from engine import Engine
    from engine.build.api import build
    image_id = build(Engine(), "./app", tags=["app:dev"], progress=lambda e: print(e.message))

``build_stream`` yields the :class:`~engine.build.events.BuildEvent` records as they happen (the last one is
the ``result``); ``build`` drives it, hands every event to ``progress`` and returns the image ID; ``watch``
rebuilds whenever the context changes until its ``stop`` event is set (engine.build.watch).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from engine.build.builder import Builder, BuildOptions
from engine.build.context import ChecksumCache
from engine.build.events import RESULT, BuildEvent
from engine.errors import BuildError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading

    from engine.engine import Engine

__all__ = ["ProgressCallback", "build", "build_stream", "options", "watch"]

ProgressCallback = Callable[[BuildEvent], None]


def options(
    context_dir: str,
    dockerfile: str | None = None,
    tags: Iterable[str] | str = (),
    build_args: Mapping[str, str | None] | None = None,
    target: str | None = None,
    no_cache: bool = False,
    labels: Mapping[str, str] | None = None,
    sums: ChecksumCache | None = None,
) -> BuildOptions:
    """The keyword arguments of build/watch as a BuildOptions record."""
    return BuildOptions(
        context_dir=context_dir,
        dockerfile=dockerfile or None,
        tags=[tags] if isinstance(tags, str) else [t for t in tags if t],
        build_args=dict(build_args or {}),
        target=target or None,
        no_cache=no_cache,
        labels=dict(labels or {}),
        sums=sums,
    )


def build_stream(
    engine: Engine,
    context_dir: str,
    dockerfile: str | None = None,
    tags: Iterable[str] | str = (),
    build_args: Mapping[str, str | None] | None = None,
    target: str | None = None,
    no_cache: bool = False,
    labels: Mapping[str, str] | None = None,
) -> Iterator[BuildEvent]:
    """Build, yielding progress events; the last event is the ``result`` (``image_id``, ``tags``).

    Errors are raised (a BuildError naming the Dockerfile line for a failed step), after an ``error``
    event for a failed step. Closing the iterator early stops the build and removes its step container.
    """
    opts = options(context_dir, dockerfile, tags, build_args, target, no_cache, labels)
    yield from Builder(engine, opts).events()


def run_build(engine: Engine, opts: BuildOptions, progress: ProgressCallback | None = None) -> str:
    """Drive one build to its end; returns the image ID."""
    image_id = ""
    for event in Builder(engine, opts).events():
        if progress is not None:
            progress(event)
        if event.kind == RESULT:
            image_id = event.image_id
    if not image_id:
        raise BuildError("the build finished without an image")
    return image_id


def build(
    engine: Engine,
    context_dir: str,
    dockerfile: str | None = None,
    tags: Iterable[str] | str = (),
    build_args: Mapping[str, str | None] | None = None,
    target: str | None = None,
    no_cache: bool = False,
    labels: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
) -> str:
    """Build an image from ``context_dir`` (Dockerfile at ``dockerfile``, default ``Dockerfile`` in the
    context); returns its ID. ``progress`` gets every BuildEvent (``event.message`` is a printable line)."""
    opts = options(context_dir, dockerfile, tags, build_args, target, no_cache, labels)
    return run_build(engine, opts, progress)


def watch(
    engine: Engine,
    context_dir: str,
    dockerfile: str | None = None,
    tags: Iterable[str] | str = (),
    build_args: Mapping[str, str | None] | None = None,
    target: str | None = None,
    no_cache: bool = False,
    labels: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
    run_name: str | None = None,
    stop: threading.Event | None = None,
    debounce: float = 0.3,
    stop_timeout: int = 10,
) -> None:
    """Build, then rebuild each time the context (as .dockerignore lets the build see it) or the Dockerfile
    changes, until ``stop`` is set. With ``run_name``, each new image also replaces the container of that
    name (stop, remove, run detached with the image's command). Build errors are reported through
    ``progress`` and the watch goes on."""
    import threading

    from engine.build.watch import Watch

    opts = options(context_dir, dockerfile, tags, build_args, target, no_cache, labels, ChecksumCache())
    Watch(engine, opts, progress, run_name, stop or threading.Event(), debounce, stop_timeout).run()
