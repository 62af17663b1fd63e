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

from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class BuildEvent:
    """One thing that happened during a build.

    ``vertex`` numbers the steps of the whole build from 1 (0 for build-wide events). ``stage`` is the
    stage's name when the Dockerfile has several stages; ``index``/``total`` place the step in its stage
    (``[2/5]``, FROM being 1). ``instruction`` is the instruction as written after the keyword's variables
    were expanded; ``line`` its line in the Dockerfile. ``text`` holds an output line (without its newline),
    a warning, an error or an info message; ``stream`` is ``stdout`` or ``stderr`` for output. ``elapsed``
    is the time since the step started (output) or the step's duration (done, cached, error).
    """

    kind: str
    vertex: int = 0
    stage: str = ""
    index: int = 0
    total: int = 0
    instruction: str = ""
    line: int = 0
    text: str = ""
    stream: str = ""
    elapsed: float = 0.0
    image_id: str = ""
    tags: tuple[str, ...] = ()
    executed: tuple[str, ...] = ()
    cached: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``[2/5] RUN echo hi``, or ``[build 2/5] RUN echo hi`` in a multi-stage build."""
        where = f"{self.stage} " if self.stage else ""
        return f"[{where}{self.index}/{self.total}] {self.instruction}"

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


@dataclass
class BuildResult:
    """What a finished build made: the image, its tags, and which steps ran and which came from the cache
    (as their ``[n/m] INSTRUCTION`` labels)."""

    image_id: str
    tags: list[str] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
