"""The Projects view (key 6): compose projects as lazydocker shows them. On the left every project the
engine's containers name (Compose's labels; their file need not be open) and every file opened here (``o``),
with its services and each service's containers (replicas) under it, status and health at a glance, and
what ``up`` would do. On the right three tabs: the compose file beside the running state with the drift
marked, the project's (or a service's) merged logs in one colour per service, and the progress of the last
action, service by service.

Actions (up, rebuild, restart, stop, start, down, scale, pull) act on the project under the cursor, or on
the service (a container's row: its service); each runs in a worker through the app's ``call``, which puts
its ``dockyard compose ...`` line in the command log; Compose's progress lines come back as messages.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static, TabbedContent, TabPane

from .. import keymap
from ..dialogs.compose_open import ComposeOpenDialog
from ..dialogs.compose_scale import ComposeScaleDialog
from ..log_groups import merged_source
from ..widgets.key_bar import KeyBar
from ..widgets.logs_pane import LogsPane
from ..widgets.projects_file import ProjectFile
from ..widgets.projects_model import (
    ComposeAction,
    ProjectInfo,
    compose_action,
    default_file,
    group_projects,
    load_project,
    read_file,
    refresh,
    service_of,
)
from ..widgets.projects_progress import ProjectProgress
from ..widgets.projects_tree import ProjectsTree

if TYPE_CHECKING:
    from engine import ComposeDrift, ComposeModel

    from ..services import AppServices

TABS = ("ptab-file", "ptab-logs", "ptab-progress")


class ProgressStep(Message):
    """A progress line of the action under way (posted from its worker)."""

    def __init__(self, project: str, kind: str, name: str, action: str) -> None:
        super().__init__()
        self.project, self.kind, self.name, self.action = project, kind, name, action


class ProjectsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings("projects")
    AUTO_FOCUS = "#projects-tree"
    DEFAULT_CSS = """
    ProjectsScreen #projects-main { height: 1fr; }
    ProjectsScreen #projects-tree { width: 45%; min-width: 40; height: 1fr; scrollbar-size-vertical: 1; }
    ProjectsScreen #project-tabs { width: 1fr; height: 1fr; }
    ProjectsScreen #project-tabs > ContentSwitcher { height: 1fr; }
    ProjectsScreen #project-tabs TabPane { padding: 0; height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.opened: dict[str, ProjectInfo] = {}  # projects whose file is loaded, by name
        self.texts: dict[str, tuple[str, str]] = {}  # project -> (path, text) of its first file
        self.tried: set[str] = set()  # projects whose labelled file was looked for
        self.drifting: set[str] = set()  # projects whose drift is being read
        self.drift_again: set[str] = set()
        self.broken: set[str] = set()  # opened projects whose file could not be read again (F retries)
        self.busy: dict[str, ComposeAction] = {}  # project -> the action under way
        self.stale = True  # the lists changed while another screen was shown
        self._logs_key: object = None
        self._shown_file: tuple[Any, ...] = ()

    @property
    def dapp(self) -> AppServices:
        return self.app  # type: ignore[return-value]

    @property
    def ptree(self) -> ProjectsTree:
        return self.query_one(ProjectsTree)

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#project-tabs", TabbedContent)

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar-row"):
            yield Static("dockyard", id="projects-topbar")
        with Horizontal(id="projects-main"):
            yield ProjectsTree(id="projects-tree", classes="pane")
            with TabbedContent(id="project-tabs", classes="pane", initial="ptab-file"):
                with TabPane("File", id="ptab-file"):
                    yield ProjectFile(id="project-file")
                with TabPane("Logs", id="ptab-logs"):
                    yield LogsPane(id="project-logs")
                with TabPane("Progress", id="ptab-progress"):
                    yield ProjectProgress(id="project-progress")
        yield KeyBar()

    def on_mount(self) -> None:
        self.ptree.border_title = "[6] Projects"
        self.snapshot_changed()

    def on_screen_resume(self) -> None:
        if self.stale:
            self.snapshot_changed()

    # -- data ------------------------------------------------------------------------------------------
    def snapshot_changed(self) -> None:
        """The app's lists were read again (called by the app): the projects are grouped anew (no engine
        call), then the drift of each opened file is read again in a worker."""
        if not self.is_current:
            self.stale = True
            return
        self.stale = False
        projects = group_projects(self.dapp.snapshot.containers, self.opened)
        self.ptree.show(projects)
        running = sum(1 for p in projects if any(c.running for c in p.containers))
        self.query_one("#projects-topbar", Static).update(
            f"[b]dockyard[/b]  [dim]{self.dapp.root_label}[/]  ·  Projects: {len(projects)} "
            f"({running} running)  ·  [dim]o open a file · 1/escape back[/]"
        )
        for name in self.opened:
            if name not in self.broken:
                self._read_drift(name)
        self._selection_changed()

    def _read_drift(self, name: str) -> None:
        """The opened project's file read again and its drift (in a worker): the view follows edits."""
        if name in self.drifting:
            self.drift_again.add(name)
            return
        info = self.opened.get(name)
        if info is None or not info.config_files:
            return
        self.drifting.add(name)

        def done(result: tuple[ComposeModel, str, ComposeDrift]) -> None:
            self.drifting.discard(name)
            model, text, drift = result
            if name in self.opened:
                self.opened[name] = ProjectInfo(
                    name, list(model.config_files), model.working_dir, {}, model, drift
                )
                self.texts[name] = (model.config_files[0], text)
                self.ptree.show(group_projects(self.dapp.snapshot.containers, self.opened))
                self._show_file(force=True)
            if name in self.drift_again:
                self.drift_again.discard(name)
                self._read_drift(name)

        def failed(_error: str) -> None:
            self.drifting.discard(name)
            self.broken.add(name)

        from ..engines import local_engine

        engine = local_engine(self.dapp.engine)
        if engine is None:
            failed(f"compose: {self.dapp.engine.supports('compose')}")
            return
        self.dapp.call(f"Read {name}", refresh, engine, info, done=done, failed=failed)

    def _open_model(self, model: ComposeModel, text: str) -> None:
        info = ProjectInfo(model.name, list(model.config_files), model.working_dir, {}, model)
        self.opened[model.name] = info
        if model.config_files:
            self.texts[model.name] = (model.config_files[0], text)
        self.snapshot_changed()

    def _autoload(self, p: ProjectInfo) -> None:
        """A project found by its labels whose file is still where they say: loaded quietly (a file that
        cannot be loaded now leaves the project as its labels show it)."""
        if p.name in self.tried or p.name in self.opened or not p.config_files:
            return
        self.tried.add(p.name)
        files = list(p.config_files)
        if not all(os.path.isfile(f) for f in files):
            return

        def work() -> None:
            try:
                model = load_project(files, p.name, p.working_dir)
                text = read_file(files[0])
            except Exception:  # noqa: BLE001 - the project stays as its labels show it
                return
            self.app.call_from_thread(self._open_model, model, text)

        self.run_worker(work, thread=True, group="projects-load", exit_on_error=False)

    # -- the selection ---------------------------------------------------------------------------------
    def selected(self) -> tuple[ProjectInfo | None, list[str]]:
        """The project under the cursor and the services the row names (none: the whole project)."""
        key = self.ptree.current
        p = self.ptree.project_of(key)
        if p is None or key.startswith("p:"):
            return p, []
        return p, [key.split(":")[2]]

    def on_projects_tree_selected(self, _message: ProjectsTree.Selected) -> None:
        self._selection_changed()

    def _selection_changed(self) -> None:
        p, _services = self.selected()
        if p is not None and p.model is None:
            self._autoload(p)
        self._show_file()
        if self.tabs.active == "ptab-logs":
            self.show_logs()

    def _show_file(self, force: bool = False) -> None:
        p, _ = self.selected()
        path, text = self.texts.get(p.name, ("", "")) if p is not None else ("", "")
        key = (
            p.name if p else None,
            repr(p.drift) if p else None,
            [c.status for c in p.containers] if p else [],
        )
        if not force and key == self._shown_file:
            return
        self._shown_file = key
        self.query_one(ProjectFile).show(p, text, path)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.tabbed_content.id == "project-tabs" and self.tabs.active == "ptab-logs":
            self.show_logs()

    # -- logs ----------------------------------------------------------------------------------------------
    def show_logs(self) -> None:
        """The merged logs of the project's (or the service's) containers, one colour per service."""
        p, services = self.selected()
        view = self.query_one("#project-logs", LogsPane).view
        if p is None:
            return
        members = [c for s, cs in p.services.items() if not services or s in services for c in cs]
        key = ("project-logs", p.name, tuple(services), tuple(c.id for c in members))
        if key == self._logs_key:
            return
        self._logs_key = key
        if not members:
            view.close()
            return
        view.wanted = key
        order = list(p.services)
        colour = {c.id: order.index(s) for s, cs in p.services.items() for c in cs}
        title = f"{p.name} › {' '.join(services)}" if services else f"project {p.name}"

        def opened(source: Any) -> None:
            if view.wanted != key:
                source.close()
                return
            source.groups = [colour.get(cid, 0) for cid, _name in pairs]
            view.open(source, key=key)

        pairs = [(c.id, c.name) for c in members]
        self.dapp.call(
            "Logs", merged_source, self.dapp.engine.containers.log_index, title, pairs, done=opened
        )

    # -- actions -------------------------------------------------------------------------------------------
    def _run(self, verb: str, services: list[str] | None = None, scale: dict[str, int] | None = None) -> None:
        p, picked = self.selected()
        if p is None:
            self.notify("Select a project first (o opens a compose file).", severity="warning")
            return
        if p.name in self.busy:
            self.notify(f"{p.name}: {self.busy[p.name].label} is still running.", severity="warning")
            return
        from ..engines import local_engine

        engine = local_engine(self.dapp.engine)
        if engine is None:
            self.notify(f"compose: {self.dapp.engine.supports('compose')}", severity="warning")
            return
        action = ComposeAction(
            engine, verb, p.name, p.model, list(p.config_files), picked if services is None else services,
            dict(scale or {}), timeout=self.dapp.config.stop_timeout, progress=self._progress,
        )  # fmt: skip
        if action.needs_file() and p.model is None:
            self.notify(
                f"{p.name} was found by its containers' labels; its file is not open: press o to open it.",
                title=action.label,
                severity="warning",
            )
            return
        self.busy[p.name] = action
        affected = action.services or list(scale or {}) or list(p.services)
        self.query_one(ProjectProgress).begin(action.label, affected)
        tree = self.ptree
        for s in affected if action.services or scale else [""]:
            tree.pending[(p.name, s)] = action.label.split()[0]
        tree.show(tree.projects)

        def ended(error: str | None) -> None:
            self.busy.pop(p.name, None)
            for k in [k for k in tree.pending if k[0] == p.name]:
                del tree.pending[k]
            self.query_one(ProjectProgress).end(error)
            tree.show(tree.projects)
            if error is None:
                self.notify(f"{action.label}: done", title="Compose")
            self.dapp.reload()

        self.dapp.call(
            action.label,
            compose_action,
            action,
            done=lambda _r: ended(None),
            failed=lambda e: ended(e or "failed"),
        )

    def _progress(self, project: str, kind: str, name: str, action: str) -> None:
        """Compose's progress (in the worker's thread): on to the UI thread as a message."""
        self.post_message(ProgressStep(project, kind, name, action))

    def on_progress_step(self, message: ProgressStep) -> None:
        p = self.ptree.project_of(f"p:{message.project}") or self.opened.get(message.project)
        services = [*p.services, *p.file_services()] if p is not None else []
        if message.kind == "Service":
            service = message.name
        elif message.kind == "Image" and p is not None and p.model is not None:
            images = {(s.image or f"{p.name}-{k}"): k for k, s in p.model.services.items()}
            service = images.get(message.name, "")
        else:
            service = service_of(message.project, services, message.name)
        self.query_one(ProjectProgress).step(service, message.kind, message.name, message.action)
        if service:
            self.ptree.pending[(message.project, service)] = message.action
            self.ptree.show(self.ptree.projects)

    def action_up(self) -> None:
        self._run("up")

    def action_rebuild(self) -> None:
        self._run("rebuild")

    def action_restart(self) -> None:
        self._run("restart")

    def action_stop(self) -> None:
        self._run("stop")

    def action_start(self) -> None:
        self._run("start")

    def action_pull(self) -> None:
        self._run("pull")

    def action_down(self) -> None:
        p, _ = self.selected()
        if p is None:
            self.notify("Select a project first.", severity="warning")
            return
        n = len(p.containers)
        self.dapp.confirm(
            f"Down {p.name}?",
            f"Its {n} container{'s' if n != 1 else ''} are stopped and removed, and its networks removed "
            "(volumes are kept).",
            lambda: self._run("down", services=[]),
            ok="Down",
        )

    def action_scale(self) -> None:
        p, services = self.selected()
        if p is None or not services:
            self.notify("Select a service to scale.", severity="warning")
            return
        svc = services[0]
        current = len(p.services.get(svc, []))

        def chosen(n: int | None) -> None:
            if n is not None:
                self._run("scale", services=[svc], scale={svc: n})

        self.app.push_screen(ComposeScaleDialog(p.name, svc, current), chosen)

    def action_open(self) -> None:
        p, _ = self.selected()
        default = p.config_files[0] if p is not None and p.config_files else default_file(os.getcwd())

        def chosen(answer: tuple[str, bool] | None) -> None:
            if answer is None:
                return
            path, up = answer

            def loaded(result: tuple[ComposeModel, str]) -> None:
                model, text = result
                self._open_model(model, text)
                self.ptree.select_key(f"p:{model.name}")
                self.tabs.active = "ptab-progress" if up else "ptab-file"
                if up:
                    self._run("up", services=[])

            self.dapp.call(f"Open {path}", _load_with_text, path, done=loaded)

        self.app.push_screen(ComposeOpenDialog(default), chosen)

    def action_logs(self) -> None:
        self.tabs.active = "ptab-logs"
        self.show_logs()
        self.call_after_refresh(lambda: self.query_one("#project-logs", LogsPane).view.focus())

    def action_file(self) -> None:
        """The File tab, the file read again (it may have been edited since)."""
        self.tabs.active = "ptab-file"
        p, _ = self.selected()
        if p is not None and p.name in self.opened:
            self.broken.discard(p.name)
            self._read_drift(p.name)

    def action_progress(self) -> None:
        self.tabs.active = "ptab-progress"

    def action_fold(self) -> None:
        self.ptree.toggle()

    def action_tab(self, step: int) -> None:
        i = TABS.index(self.tabs.active) if self.tabs.active in TABS else 0
        self.tabs.active = TABS[(i + step) % len(TABS)]

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_help(self) -> None:
        self.dapp.action_help()

    async def action_quit(self) -> None:
        await self.app.action_quit()


def _load_with_text(path: str) -> tuple[Any, str]:
    """A compose file loaded, and its text (in a worker)."""
    return load_project([path]), read_file(path)


def open_projects(app: Any) -> None:
    """Show the Projects view (one for the app's life: the files opened in it stay open)."""
    if not app.is_screen_installed("projects"):
        app.install_screen(ProjectsScreen(), "projects")
    app.push_screen("projects")
