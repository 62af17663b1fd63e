"""The compose file beside the running state: the file's text with each service's line marked by what
``up`` would do to it (``+`` create, ``~`` recreate, scale or start, ``✓`` in sync), and next to it each
service's containers as they run, the reasons of the drift and the orphans."""

from __future__ import annotations

import re

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from .projects_model import ProjectInfo, service_summary
from .projects_tree import DRIFT_STYLE, DRIFT_WORD

_KEY = re.compile(r"^(\s*)([A-Za-z0-9_.-]+)\s*:")
MARK = {"create": "+", "recreate": "~", "scale": "~", "start": "~", "pull": "+", "ok": "✓"}


def service_lines(text: str) -> dict[str, int]:
    """The line (0-based) of each service's key under the top-level ``services:``."""
    out: dict[str, int] = {}
    inside = False
    indent: int | None = None
    for n, line in enumerate(text.splitlines()):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _KEY.match(line)
        depth = len(line) - len(line.lstrip())
        if depth == 0:
            inside = bool(m) and m is not None and m.group(2) == "services"
            indent = None
            continue
        if inside and m is not None:
            if indent is None:
                indent = depth
            if depth == indent:
                out[m.group(2)] = n
    return out


def marked_file(text: str, info: ProjectInfo) -> Text:
    """The file with line numbers and a gutter mark on each service's line."""
    lines = text.splitlines()
    marks: dict[int, tuple[str, str]] = {}
    drift = info.drift
    for svc, n in service_lines(text).items():
        d = drift.service(svc) if drift is not None else None
        if d is not None:
            marks[n] = (MARK.get(d.action, "?"), DRIFT_STYLE.get(d.action, ""))
    width = len(str(len(lines)))
    out = Text(no_wrap=True, overflow="ellipsis")
    for n, line in enumerate(lines):
        mark, style = marks.get(n, (" ", ""))
        out.append(f"{n + 1:>{width}} ", style="dim")
        out.append(mark, style=f"bold {style}" if style else "")
        out.append(" ", style="dim")
        body = line.lstrip(" ")
        out.append(line[: len(line) - len(body)], style="dim")  # a span of its own (screenshots keep it)
        out.append(body + "\n", style=style if n in marks else "")
    return out


def running_state(info: ProjectInfo) -> str:
    """Each service as it runs and what ``up`` would do to it (Rich markup)."""
    drift = info.drift
    lines = []
    for svc, cs in info.services.items():
        d = drift.service(svc) if drift is not None else None
        status, health = service_summary(cs, d.want if d is not None else None)
        if d is not None:
            word = DRIFT_WORD.get(d.action, d.action)
            lines.append(f"[b]{escape(svc)}[/b] · {status} · [{DRIFT_STYLE.get(d.action, '')}]{word}[/]")
            lines += [f"[dim]│[/] {escape(r)}" for r in d.reasons]
        else:
            lines.append(f"[b]{escape(svc)}[/b] · {status} · [red]- orphan: not in the file[/]")
        if health:
            lines.append(f"[dim]│[/] health: {health}")
        for c in cs:
            lines.append(f"[dim]│ {escape(c.name)} · {c.status}[/]")
    if drift is not None and drift.orphans:
        lines.append("")
        lines.append(
            f"[red]orphans[/] (up warns, up --remove-orphans removes): {escape(', '.join(drift.orphans))}"
        )
    if drift is not None:
        lines.append("")
        lines.append(
            "[green]up would change nothing[/]"
            if drift.clean
            else "[yellow]up would change what is marked[/]"
        )
    return "\n".join(lines)


class ProjectFile(Horizontal):
    """The File tab: ``show(info, text)``; ``show(None)`` says there is no file to show."""

    DEFAULT_CSS = """
    ProjectFile { height: 1fr; }
    ProjectFile > #file-scroll { width: 3fr; height: 1fr; background: $surface; }
    ProjectFile > #state-scroll { width: 2fr; height: 1fr; border-left: solid $panel-lighten-2; padding: 0 1; }
    ProjectFile #file-text { width: auto; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="file-scroll"):
            yield Static("", id="file-text")
        with VerticalScroll(id="state-scroll"):
            yield Static("", id="file-state")

    def show(self, info: ProjectInfo | None, text: str = "", path: str = "") -> None:
        body = self.query_one("#file-text", Static)
        state = self.query_one("#file-state", Static)
        if info is None:
            body.update(Text("No project selected.", style="dim"))
            state.update("")
            return
        if not text:
            where = ", ".join(info.config_files) or "its containers carry no file name"
            body.update(
                Text(
                    f"{info.name}'s compose file is not open ({where}).\n"
                    "Press o to open it: the file is then shown here, beside what runs, with what up would "
                    "change marked.",
                    style="dim",
                )
            )
        else:
            head = Text(f"{path}\n", style="bold")
            head.append_text(marked_file(text, info))
            body.update(head)
        state.update(running_state(info))
