"""Progress events of a build: one record per thing that happens, for the CLI and the TUI to render.

A build is a stream of :class:`BuildEvent`. Each step of the Dockerfile is a numbered vertex (``#3``, as
BuildKit numbers them) that starts (``step``), then either comes from the cache (``cached``) or runs
(``output`` lines of a RUN, then ``done`` with its duration), or fails (``error``). Build-wide events carry
vertex 0: ``info`` (exporting, naming), ``warning``, and the final ``result`` with the image ID. Watch mode
adds ``watch`` events (what changed, which container was replaced).

:attr:`BuildEvent.message` is the plain-text line for an event, in BuildKit's ``--progress plain`` style::

    #3 [2/5] RUN echo hi
    #3 0.104 hi
    #3 DONE 0.2s
    #4 [3/5] COPY app.py /app/
    #4 CACHED
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "CACHED",
    "DONE",
    "ERROR",
    "INFO",
    "OUTPUT",
    "RESULT",
    "STEP",
    "WARNING",
    "WATCH",
    "BuildEvent",
    "BuildResult",
]

STEP = "step"
CACHED = "cached"
OUTPUT = "output"
DONE = "done"
ERROR = "error"
INFO = "info"
WARNING = "warning"
RESULT = "result"
WATCH = "watch"


class BuildEvent:
    """One thing that happened during a build.

    ``vertex`` numbers the steps of the whole build from 1 (0 for build-wide events). ``stage`` is the
    stage's name when the Dockerfile has several stages; ``step``/``total`` place the step in its stage
    (``[2/5]``, FROM being 1). ``instruction`` is the instruction as written (continuation lines joined);
    ``line`` its line in the Dockerfile. ``text`` holds an output line (without its newline), a warning, an
    error or an info message; ``stream`` is ``stdout`` or ``stderr`` for output. ``elapsed`` is the time
    since the step started (output) or the step's duration (done, cached, error). The ``result`` event
    carries the ``image_id``, its ``tags`` and the labels of the steps that ran (``executed``) and that
    came from the cache (``cached``). Events are immutable.
    """

    __slots__ = _FIELDS = (
        "kind",
        "vertex",
        "stage",
        "step",
        "total",
        "instruction",
        "line",
        "text",
        "stream",
        "elapsed",
        "image_id",
        "tags",
        "executed",
        "cached",
    )

    kind: str
    vertex: int
    stage: str
    step: int
    total: int
    instruction: str
    line: int
    text: str
    stream: str
    elapsed: float
    image_id: str
    tags: tuple[str, ...]
    executed: tuple[str, ...]
    cached: tuple[str, ...]

    def __init__(
        self,
        kind: str,
        vertex: int = 0,
        stage: str = "",
        step: int = 0,
        total: int = 0,
        instruction: str = "",
        line: int = 0,
        text: str = "",
        stream: str = "",
        elapsed: float = 0.0,
        image_id: str = "",
        tags: tuple[str, ...] = (),
        executed: tuple[str, ...] = (),
        cached: tuple[str, ...] = (),
    ) -> None:
        values = (kind, vertex, stage, step, total, instruction, line, text, stream, elapsed, image_id, tags,
                  executed, cached)  # fmt: skip
        for name, value in zip(self._FIELDS, values, strict=True):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("BuildEvent is immutable")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BuildEvent) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{n}={getattr(self, n)!r}" for n in self._FIELDS if getattr(self, n) not in ("", 0, ())
        )
        return f"BuildEvent({shown})"

    @property
    def label(self) -> str:
        """``[2/5] RUN echo hi``, or ``[build 2/5] RUN echo hi`` in a multi-stage build."""
        where = f"{self.stage} " if self.stage else ""
        return f"[{where}{self.step}/{self.total}] {self.instruction}"

    @property
    def message(self) -> str:
        """The event as one line of plain progress output."""
        tag = f"#{self.vertex}"
        if self.kind == STEP:
            return f"{tag} {self.label}"
        if self.kind == CACHED:
            return f"{tag} CACHED"
        if self.kind == OUTPUT:
            return f"{tag} {self.elapsed:.3f} {self.text}"
        if self.kind == DONE:
            return f"{tag} DONE {self.elapsed:.1f}s"
        if self.kind == ERROR:
            return f"{tag} ERROR: {self.text}" if self.vertex else f"ERROR: {self.text}"
        if self.kind == WARNING:
            return f"WARNING: {self.text}"
        if self.kind == RESULT:
            return f"writing image {self.image_id} done"
        return self.text


class BuildResult(NamedTuple):
    """What a finished build made: the image, its tags, and which steps ran and which came from the cache
    (as their ``[n/m] INSTRUCTION`` labels)."""

    image_id: str
    tags: tuple[str, ...] = ()
    executed: tuple[str, ...] = ()
    cached: tuple[str, ...] = ()
