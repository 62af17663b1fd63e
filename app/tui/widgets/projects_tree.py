"""The Projects list: each compose project, its services under it and each service's containers (its
replicas) under the service, with status, health and what ``up`` would do at a glance. A row's key says
what it is: ``p:PROJECT``, ``s:PROJECT:SERVICE`` or ``c:PROJECT:SERVICE:ID``; the list is rebuilt only when
a cell changed, the cursor staying on the same key."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from .projects_model import ProjectInfo, service_summary

DRIFT_STYLE = {
    "create": "cyan",
    "recreate": "yellow",
    "scale": "yellow",
    "start": "yellow",
    "pull": "cyan",
    "ok": "green",
}
DRIFT_WORD = {
    "create": "+ create",
    "recreate": "~ recreate",
    "scale": "~ scale",
    "start": "~ start",
    "pull": "+ pull",
    "ok": "✓ in sync",
}


def _health(text: str) -> Text:
    style = "green" if text == "healthy" else "red" if "unhealthy" in text else "yellow"
    return Text(text, style=style if text else "")


def _status(text: str) -> Text:
    if "running" in text:
        return Text(text, style="green")
    if text in ("not created",):
        return Text(text, style="dim")
    return Text(text, style="yellow" if "paused" in text or "restarting" in text else "red")


class ProjectsTree(DataTable[Any]):
    """The projects, services and containers (``show``); ``current`` is the key under the cursor."""

    class Selected(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self.rows_shown: list[tuple[str, tuple[Any, ...]]] = []
        self.pending: dict[tuple[str, str], str] = {}  # (project, service or "") -> the step under way
        self.collapsed: set[str] = set()  # projects whose services are hidden
        self.projects: list[ProjectInfo] = []

    def on_mount(self) -> None:
        for key, label in (("name", "NAME"), ("status", "STATUS"), ("health", "HEALTH"), ("up", "UP WOULD")):
            self.add_column(label, key=key)

    @property
    def current(self) -> str:
        if not self.rows_shown or self.cursor_row >= len(self.rows_shown) or self.cursor_row < 0:
            return ""
        return self.rows_shown[self.cursor_row][0]

    def project_of(self, key: str) -> ProjectInfo | None:
        name = key.split(":")[1] if ":" in key else ""
        return next((p for p in self.projects if p.name == name), None)

    def _rows(self, projects: list[ProjectInfo]) -> list[tuple[str, tuple[Any, ...]]]:
        rows: list[tuple[str, tuple[Any, ...]]] = []
        for p in projects:
            fold = "▸" if p.name in self.collapsed else "▾"
            drift = p.drift
            if drift is None:
                up = Text("file not open" if p.model is None else "…", style="dim")
            elif drift.clean and not drift.orphans:
                up = Text(DRIFT_WORD["ok"], style="green")
            else:
                changes = sum(1 for s in drift.services if not s.clean)
                words = [f"{changes} service{'s' if changes != 1 else ''}"] if changes else []
                words += [f"{len(drift.orphans)} orphan{'s' if len(drift.orphans) != 1 else ''}"] * bool(
                    drift.orphans
                )
                up = Text("~ " + ", ".join(words), style="yellow")
            doing = self.pending.get((p.name, ""))
            status = Text(f"{doing}…", style="bold cyan") if doing else _status(p.status)
            health = [c.health for c in p.containers if c.health]
            bad = sum(1 for h in health if h == "unhealthy")
            htext = (
                f"{bad} unhealthy"
                if bad
                else ("healthy" if health and all(h == "healthy" for h in health) else "")
            )
            rows.append((f"p:{p.name}", (Text(f"{fold} {p.name}", style="bold"), status, _health(htext), up)))
            if p.name in self.collapsed:
                continue
            known = set(p.file_services())
            for svc, cs in p.services.items():
                d = drift.service(svc) if drift is not None else None
                st, he = service_summary(cs, d.want if d is not None else None)
                doing = self.pending.get((p.name, svc))
                if d is not None:
                    word = Text(DRIFT_WORD.get(d.action, d.action), style=DRIFT_STYLE.get(d.action, ""))
                elif p.model is not None and svc not in known:
                    word = Text("- orphan", style="red")
                else:
                    word = Text("")
                status = Text(f"{doing}…", style="bold cyan") if doing else _status(st)
                last = svc == list(p.services)[-1]
                name = Text.assemble(("└ " if last else "├ ", "dim"), svc)
                rows.append((f"s:{p.name}:{svc}", (name, status, _health(he), word)))
                for i, c in enumerate(cs):
                    text = c.status + (f" ({c.exit_code})" if c.status == "exited" else "")
                    branch = "└ " if i == len(cs) - 1 else "├ "
                    name = Text.assemble(
                        ("  " if last else "│ ", "" if last else "dim"), (branch, "dim"), (c.name, "dim")
                    )
                    rows.append((f"c:{p.name}:{svc}:{c.id}", (name, _status(text), _health(c.health), "")))
        return rows

    def show(self, projects: list[ProjectInfo]) -> None:
        self.projects = projects
        rows = self._rows(projects)
        if [(k, tuple(map(str, cells))) for k, cells in rows] == [
            (k, tuple(map(str, cells))) for k, cells in self.rows_shown
        ]:
            return
        key = self.current
        self.rows_shown = rows
        self.clear()
        for k, cells in rows:
            self.add_row(*cells, key=k)
        keys = [k for k, _ in rows]
        if key in keys:
            self.move_cursor(row=keys.index(key))
        elif key:  # the row went (a container removed): its service's or project's row
            parent = ":".join(key.split(":")[1:3])
            for prefix in (f"s:{parent}", f"p:{key.split(':')[1]}"):
                if prefix in keys:
                    self.move_cursor(row=keys.index(prefix))
                    break

    def select_key(self, key: str) -> None:
        try:
            self.move_cursor(row=self.get_row_index(key))
        except RowDoesNotExist:
            pass

    def toggle(self) -> None:
        key = self.current
        if key.startswith("p:"):
            name = key[2:]
            self.collapsed ^= {name}
            self.show(self.projects)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Selected(self.current))
