"""The main screen: Containers and Images lists on the left, the detail tabs (Layers, Logs, Stats, Inspect,
Terminal) on the right, a filter bar and the key footer. Every container and image action lives here; the
engine calls themselves run in workers through the app's ``call`` (``AppServices``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static, TabbedContent, TabPane

from engine import Container, Image

from .. import keymap
from ..compositor import ChangeCompositor
from ..dialogs.build import BuildDialog
from ..dialogs.command_log import CommandLogScreen
from ..dialogs.commit import CommitDialog, CommitRequest
from ..dialogs.rename import RenameDialog
from ..dialogs.run import RunDialog, RunResult
from ..dialogs.scale import ScaleDialog
from ..dialogs.tag import TagDialog
from ..dialogs.version import VersionDialog
from ..engines import ACTION_FEATURES, supports_for, view_of
from ..focus_frame import frame
from ..formatting import repo_tag
from ..log_groups import copy_container, default_group, merged_source
from ..messages import ContainerSelected, DataLoaded, ImageSelected, StatsSampled
from ..widgets.containers_table import ContainersTable
from ..widgets.env_view import EnvView
from ..widgets.events_view import EventsView
from ..widgets.images_table import ImagesTable
from ..widgets.inspect_tree import InspectTree
from ..widgets.key_bar import KeyBar
from ..widgets.layers_pane import LayersPane
from ..widgets.log_view import LogView
from ..widgets.logs_pane import LogsPane
from ..widgets.networks_table import NetworksTable
from ..widgets.resource_table import ResourceTable
from ..widgets.stats_view import StatsView
from ..widgets.terminal import TerminalView
from ..widgets.terminal_pane import TerminalPane
from ..widgets.top_view import TopView
from ..widgets.volumes_table import VolumesTable
from .resources import ResourcePanes

if TYPE_CHECKING:
    from engine import LogIndex

    from ..services import AppServices

TABS = (
    "tab-layers",
    "tab-logs",
    "tab-stats",
    "tab-inspect",
    "tab-env",
    "tab-top",
    "tab-events",
    "tab-terminal",
)
HOSTBAR_MIN_WIDTH = 110  # columns below which the top bar leaves the host figures out
LIST_STATS_EVERY = 1.9  # seconds between updates of the list's CPU and MEM cells
SHELL = ["/bin/sh", "-c", "if [ -x /bin/bash ]; then exec /bin/bash; else exec /bin/sh; fi"]


class MainScreen(ResourcePanes, Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings("app")
    AUTO_FOCUS = "#containers"

    def __init__(self) -> None:
        super().__init__()
        self._compositor = ChangeCompositor()  # a change draws only the widgets it touches
        self.container: Container | None = None
        self.image: Image | None = None
        self.subject = "container"  # what the detail tabs show: the selected container or image
        self._details_timer: Timer | None = None
        self._shown: dict[str, Any] = {}  # tab -> what it shows now (to skip needless reloads)
        self.filter_target: Widget | None = None
        self.ready = False
        self._list_stats_at = 0.0
        self._hostbar: Static | None = None
        self._hostbar_text = ""  # what the host bar shows

    @property
    def dapp(self) -> AppServices:
        """The app, as the services it gives this screen (app/tui/services.py)."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar-row"):
            yield Static("dockyard", id="topbar")
            yield Static("", id="hostbar")
        with Horizontal(id="main"):
            with Vertical(id="lists"):
                yield ContainersTable(clock=self.dapp.clock, id="containers", classes="pane")
                yield ImagesTable(clock=self.dapp.clock, id="images", classes="pane")
                yield VolumesTable(clock=self.dapp.clock, id="volumes", classes="pane")
                yield NetworksTable(clock=self.dapp.clock, id="networks", classes="pane")
            with TabbedContent(id="details", classes="pane", initial="tab-layers"):
                with TabPane("Layers", id="tab-layers"):
                    yield LayersPane(id="layers")
                with TabPane("Logs", id="tab-logs"):
                    yield LogsPane(id="logs")
                with TabPane("Stats", id="tab-stats"):
                    yield StatsView(id="stats")
                with TabPane("Inspect", id="tab-inspect"):
                    yield InspectTree(id="inspect")
                with TabPane("Env", id="tab-env"):
                    yield EnvView(id="env")
                with TabPane("Top", id="tab-top"):
                    yield TopView(id="top")
                with TabPane("Events", id="tab-events"):
                    yield EventsView(clock=self.dapp.clock, id="events")
                with TabPane("Terminal", id="tab-terminal"):
                    yield TerminalPane(id="terminal")
        yield Input(placeholder="filter (enter: keep, escape: clear)", id="filter", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#details").border_title = "[3] Details"
        self.setup_lower()
        self.ready = True
        self.update_topbar()
        if self.dapp.snapshot_loaded:
            self.on_data_loaded(DataLoaded(self.dapp.snapshot))
            self.dapp.loaded.set()

    # -- widgets -------------------------------------------------------------------------------------------
    @property
    def containers(self) -> ContainersTable:
        return self.query_one(ContainersTable)

    @property
    def images(self) -> ImagesTable:
        return self.query_one(ImagesTable)

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#details", TabbedContent)

    def update_topbar(self) -> None:
        snap = self.dapp.snapshot
        running = sum(1 for c in snap.containers if c.running)
        self.query_one("#topbar", Static).update(
            f"[b]dockyard[/b]  [dim]{self.dapp.root_label}[/]  ·  {running} running / "
            f"{len(snap.containers)} containers  ·  {len(snap.images)} images"
        )
        self.update_hostbar()

    def update_hostbar(self) -> None:
        """The host figures (every 2 s): redrawn only when their text changed, laid out again only when it
        grew (the bar is as wide as its text; a shorter text is padded), so an idle app does little for them."""
        host = self.dapp.host
        if self._hostbar is None:
            self._hostbar = self.query_one("#hostbar", Static)
        bar = self._hostbar
        bar.display = host is not None and self.size.width >= HOSTBAR_MIN_WIDTH  # the counts come first
        text = host.text() if host is not None else ""
        if text and len(text) < len(self._hostbar_text):
            text = text.rjust(len(self._hostbar_text))  # the bar keeps its width: no layout for that
        if text != self._hostbar_text:
            bar.update(text, layout=len(text) != len(self._hostbar_text))
            self._hostbar_text = text

    def on_resize(self) -> None:
        if self.ready:
            self.update_topbar()

    # -- data ------------------------------------------------------------------------------------------------
    def on_data_loaded(self, message: DataLoaded) -> None:
        snap = message.snapshot
        self.images.users = snap.image_users
        self.containers.set_view(view_of(self.dapp.engine))  # several engines: each row's mark
        self.containers.show(snap.containers)
        self.images.show(snap.images)
        self.show_resources(snap)
        self.container = self.containers.current
        self.image = self.images.current
        self.update_topbar()
        self.schedule_details(force=False)

    def on_stats_sampled(self, message: StatsSampled) -> None:
        # the list's CPU/MEM cells every other second (a redraw of the lists costs more than the sampling);
        # the Stats tab, when shown, every second
        if message.at - self._list_stats_at >= LIST_STATS_EVERY or not message.records:
            self._list_stats_at = message.at
            self.containers.update_stats(message.records)
        if self.tabs.active == "tab-stats":
            self.query_one(StatsView).show(self.dapp.history)

    def on_container_selected(self, message: ContainerSelected) -> None:
        self.container = message.container
        self.engine_changed_with_row()
        if message.focused:
            self.subject = "container"
        if message.focused or self.subject == "container":
            self.schedule_details()

    def on_image_selected(self, message: ImageSelected) -> None:
        self.image = message.image
        if message.focused:
            self.subject = "image"
        if message.focused or self.subject == "image":
            self.schedule_details()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.tabbed_content.id == "details":
            self.schedule_details(delay=0)

    def schedule_details(self, delay: float = 0.15, force: bool = True) -> None:
        """Refresh the active detail tab a moment after the selection settles (cursor runs stay cheap)."""
        if self._details_timer is not None:
            self._details_timer.stop()
        if force:
            self._shown.pop(self.tabs.active, None)
        self._details_timer = self.set_timer(delay, self.refresh_details) if delay else None
        if not delay:
            self.refresh_details()

    def refresh_details(self) -> None:
        tab = self.tabs.active
        c = self.container if self.subject == "container" else None
        if tab == "tab-layers":
            self.show_layers()
        elif tab == "tab-logs":
            self.show_logs()
        elif tab == "tab-stats":
            stats = self.query_one(StatsView)
            stats.select(
                self.container.id if self.container else None, self.container.name if self.container else ""
            )
            stats.show(self.dapp.history)
        elif tab in ("tab-top", "tab-env"):
            self.show_top_env(tab)
        elif tab == "tab-inspect":
            if self.subject in ("volume", "network"):
                self.inspect_resource(self._shown)
            elif c is not None:
                key: tuple[str, ...] = ("c", c.id, c.status)
                if self._shown.get(tab) != key:
                    self._shown[tab] = key
                    self.dapp.call(
                        "Inspect", self.dapp.engine.containers.inspect, c.id, done=self._show_inspect(c.name)
                    )
            elif self.image is not None:
                im = self.image
                key = ("i", im.id)
                if self._shown.get(tab) != key:
                    self._shown[tab] = key
                    self.dapp.call(
                        "Inspect",
                        self.dapp.engine.images.inspect,
                        im.id,
                        done=self._show_inspect(repo_tag(im.tags)),
                    )

    def show_top_env(self, tab: str) -> None:
        """The Top tab follows the selected container; the Env tab the container or image in the details."""
        if tab == "tab-top":
            self.query_one(TopView).select(self.container)
            return
        env = self.query_one(EnvView)
        c = self.container if self.subject == "container" else None
        if c is not None:
            env.show("container", c.id, c.name, c.status)
        elif self.image is not None and self.subject in ("container", "image"):
            env.show("image", self.image.id, repo_tag(self.image.tags))
        else:
            env.clear()

    def _show_inspect(self, title: str) -> Callable[[Any], None]:
        """What to do with an inspect result: show it in the Inspect tab under ``title``."""
        return lambda data: self.query_one(InspectTree).show_json(title, data)

    def show_layers(self) -> None:
        c = self.container if self.subject == "container" else None
        im = self.image if c is None else self.dapp.image_by_id(c.image_id)
        key = (c.id if c else None, c.status if c else None, im.id if im else None)
        if self._shown.get("tab-layers") == key:
            return
        self._shown["tab-layers"] = key
        if im is None and c is None:
            self.query_one(LayersPane).show_report(None)
            return
        self.dapp.load_layers(im, c, lambda report: self._layers_loaded(key, report))

    def _layers_loaded(self, key: Any, report: Any) -> None:
        if self._shown.get("tab-layers") == key:
            self.query_one(LayersPane).show_report(report)

    def show_logs(self) -> None:
        c = self.container
        view = self.query_one(LogView)
        if c is None:
            self._shown.pop("tab-logs", None)
            view.close()
            return
        key = c.id
        if self._shown.get("tab-logs") == key:
            return
        self._shown["tab-logs"] = key
        wanted = view.wanted  # the log on screen or coming (merged logs opened from this row stay); a log
        if wanted == key or (isinstance(wanted, tuple) and wanted[1] == key):
            return
        view.wanted = key
        if view.resume(key):  # shown a moment ago is still open: only its new lines are read
            return

        def opened(index: LogIndex) -> None:
            if view.wanted == key:
                view.open(index, c.name, key=key)
            else:
                index.close()

        self.dapp.call("Logs", self.dapp.engine.containers.log_index, c.id, done=opened)

    def action_merged_logs(self) -> None:
        """The marked containers' logs (or those of the selected one's image's replicas) merged by time."""
        marked = self.containers.selection() if self.containers.marked else []
        title, members = default_group(marked, self.container, self.dapp.snapshot.containers)
        if not members:
            self.notify("Select a container first.", severity="warning")
            return
        self.show_merged_logs(title, members)

    def show_merged_logs(self, title: str, members: list[Container]) -> None:
        c = self.container or members[0]
        key = ("merged", c.id, tuple(m.id for m in members))
        self.subject = "container"
        self._shown["tab-logs"] = c.id
        view = self.query_one(LogView)
        view.wanted = key

        def opened(source: Any) -> None:
            if view.wanted == key:
                view.open(source, key=key)
            else:
                source.close()

        pairs = [(m.id, m.name) for m in members]
        self.dapp.call(
            "Merged logs", merged_source, self.dapp.engine.containers.log_index, title, pairs, done=opened
        )
        self.open_tab("tab-logs")

    def action_copy_id(self) -> None:
        copy_container(self, "id")

    def action_copy_name(self) -> None:
        copy_container(self, "name")

    # -- what the row's engine offers -----------------------------------------------------------------------
    def greyed_actions(self) -> dict[str, str]:
        """The actions the selected row's engine does not offer, with why (the key bar and the help show
        them dimmed; pressing one says why)."""
        cid = self.container.id if self.container is not None else None
        out = {}
        for action, feature in ACTION_FEATURES.items():
            why = supports_for(self.dapp.engine, cid, feature)
            if why:
                out[action] = f"{feature}: {why}"
        return out

    def refuse(self, action: str) -> bool:
        """Say why the row's engine cannot do ``action`` (True), or False when it can."""
        why = self.greyed_actions().get(action)
        if why is None:
            return False
        where = self.containers.engine_name(self.container.id) if self.container is not None else ""
        self.notify(why, title=f"Not on {where}" if where else "Not offered", severity="warning", timeout=8)
        return True

    def engine_changed_with_row(self) -> None:
        """The key bar follows what the selected row's engine offers."""
        greyed = self.greyed_actions()
        if greyed != getattr(self, "_greyed", {}):
            self._greyed = greyed
            self.refresh_bindings()

    # -- focus and panes ------------------------------------------------------------------------------------
    def on_descendant_focus(self, _event: events.DescendantFocus) -> None:
        frame(self.tabs, self.focused)  # the details' border shows when the focus is in them

    def on_descendant_blur(self, _event: events.DescendantBlur) -> None:
        frame(self.tabs, self.focused)

    def panes(self) -> list[Widget]:
        return [self.containers, self.lower_list(), self.details_focus_target()]

    def details_focus_target(self) -> Widget:
        tab = self.tabs.active
        if tab == "tab-logs":
            return self.query_one(LogView)
        if tab == "tab-stats":
            return self.query_one(StatsView)
        if tab == "tab-inspect":
            return self.query_one(InspectTree)
        if tab == "tab-env":
            return self.query_one(EnvView)
        if tab == "tab-top":
            return self.query_one("#top-table")
        if tab == "tab-events":
            return self.query_one("#events-table")
        if tab == "tab-terminal":
            term = self.query_one(TerminalPane)
            return term.active or term
        return self.query_one("#layers-table")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Inside a terminal session every key goes to the container: the lists' keys are not offered
        (the footer shows only how to leave)."""
        if isinstance(self.focused, TerminalView):
            return False
        return True

    def _pane_index(self) -> int:
        focused = self.focused
        if focused is None:
            return 0
        if focused is self.containers:
            return 0
        if focused is self.images or self.is_lower(focused):
            return 1
        return 2

    def action_focus_next_pane(self) -> None:
        self.panes()[(self._pane_index() + 1) % 3].focus()

    def action_focus_previous_pane(self) -> None:
        self.panes()[(self._pane_index() - 1) % 3].focus()

    def action_jump(self, n: int) -> None:
        if n == 2:
            self.show_lower("images", focus=False)
        self.panes()[max(1, min(3, n)) - 1].focus()

    def action_tab(self, step: int) -> None:
        """The next/previous detail tab; when the focus was in the details, it moves into the new tab (the
        widget that had it is hidden now), else it stays where it was."""
        i = TABS.index(self.tabs.active) if self.tabs.active in TABS else 0
        in_details = self.focused is not None and self._pane_index() == 2
        self.open_tab(TABS[(i + step) % len(TABS)], focus=in_details)

    def open_tab(self, tab: str, focus: bool = True) -> None:
        self.tabs.active = tab
        self.schedule_details(delay=0, force=False)
        if focus:
            self.call_after_refresh(self._focus_details)

    def _focus_details(self) -> None:
        """The focus into the active tab's widget; to the list when the tab has nothing to focus (an empty
        Terminal tab), so that keys keep working."""
        target = self.details_focus_target()
        (target if target.focusable else self.containers).focus()

    def on_terminal_pane_left(self, _message: TerminalPane.Left) -> None:
        self.containers.focus()

    def on_terminal_pane_session_ended(self, message: TerminalPane.SessionEnded) -> None:
        code = "" if message.code is None else f" (exit code {message.code})"
        self.notify(f"{message.title} ended{code}", title="Terminal")

    # -- filter --------------------------------------------------------------------------------------------------
    def action_filter(self) -> None:
        focused = self.focused
        if isinstance(focused, ResourceTable):
            target: Widget = focused
        elif focused is not None and any(isinstance(a, LayersPane) for a in focused.ancestors_with_self):
            target = self.query_one(LayersPane)
        elif focused is not None and any(isinstance(a, EventsView) for a in focused.ancestors_with_self):
            target = self.query_one(EventsView)
        else:
            target = self.containers
        self.filter_target = target
        box = self.query_one("#filter", Input)
        box.value = target.filter_text  # type: ignore[attr-defined]
        box.add_class("shown")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter" and self.filter_target is not None:
            self.filter_target.set_filter(event.value)  # type: ignore[attr-defined]
            self._title_filter(self.filter_target, event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.stop()
            self._close_filter()

    def _close_filter(self, clear: bool = False) -> None:
        box = self.query_one("#filter", Input)
        target = self.filter_target
        if clear and target is not None:
            target.set_filter("")  # type: ignore[attr-defined]
            self._title_filter(target, "")
        box.remove_class("shown")
        if target is not None:
            (target.query_one("FileTree") if isinstance(target, LayersPane) else target).focus()
        self.filter_target = None

    def _title_filter(self, target: Widget, text: str) -> None:
        if self.is_lower(target):
            self.update_lower_titles()
            return
        base = {"containers": "[1] Containers", "images": "[2] Images"}.get(target.id or "")
        if base:
            target.border_title = f"{base} [filter: {text}]" if text else base

    def key_escape(self) -> None:
        if self.query_one("#filter", Input).has_class("shown"):
            self._close_filter(clear=True)

    # -- the selection -------------------------------------------------------------------------------------------
    def selected_containers(self) -> list[Container]:
        if self.focused is self.containers or self.subject == "container":
            return list(self.containers.selection())
        return [self.container] if self.container else []

    def _need_container(self) -> Container | None:
        if self.container is None:
            self.notify("Select a container first.", severity="warning")
        return self.container

    # -- container actions -----------------------------------------------------------------------------------------
    def _each(self, label: str, fn: Any, *args: Any, done_text: str = "", doing: str = "") -> None:
        targets = self.selected_containers()
        if not targets:
            self.notify("Select a container first.", severity="warning")
            return
        for c in targets:
            self.call_on(c, f"{label} {c.name}", doing, fn, c.id, *args, done_text=done_text)
        self.containers.clear_marks()

    def call_on(
        self,
        c: Container,
        label: str,
        doing: str,
        fn: Any,
        *args: Any,
        done_text: str = "",
        then: Callable[[Any], None] | None = None,
        **kw: Any,
    ) -> None:
        """An engine call about ``c``; its row says ``doing`` ("Stopping…") until the call ends."""
        table = self.containers
        if doing:
            table.set_pending(c.id, doing)

        def ended(_result: Any = None) -> None:
            table.set_pending(c.id, None)

        def done(result: Any) -> None:
            ended()
            if done_text:
                self.notify(f"{done_text} {c.name}")
            if then is not None:
                then(result)

        self.dapp.call(label, fn, *args, done=done, failed=ended, **kw)

    def action_start(self) -> None:
        self._each("Start", self.dapp.engine.containers.start)

    def action_stop(self) -> None:
        self._each("Stop", self.dapp.engine.containers.stop, self.dapp.config.stop_timeout, doing="Stopping…")

    def action_restart(self) -> None:
        self._each(
            "Restart", self.dapp.engine.containers.restart, self.dapp.config.stop_timeout, doing="Restarting…"
        )

    def action_pause(self) -> None:
        for c in self.selected_containers():
            if c.status == "paused":
                self.dapp.call(f"Unpause {c.name}", self.dapp.engine.containers.unpause, c.id)
            else:
                self.dapp.call(f"Pause {c.name}", self.dapp.engine.containers.pause, c.id)
        self.containers.clear_marks()

    def action_rename(self) -> None:
        c = self._need_container()
        if c is None:
            return

        def renamed(name: str | None) -> None:
            if name and name != c.name:
                self.dapp.call(
                    f"Rename {c.name}",
                    self.dapp.engine.containers.rename,
                    c.id,
                    name,
                    done=lambda _r: self.notify(f"{c.name} is now {name}"),
                )

        self.app.push_screen(RenameDialog(c.name), renamed)

    def action_remove(self) -> None:
        if self.focused is self.images:
            self.action_remove_image()
            return
        targets = self.selected_containers()
        if not targets:
            self.notify("Select a container first.", severity="warning")
            return
        names = ", ".join(c.name for c in targets)
        running = [c for c in targets if c.running]

        def go() -> None:
            for c in targets:
                self.call_on(
                    c, f"Remove {c.name}", "Removing…", self.dapp.engine.containers.remove, c.id, force=True
                )
            self.containers.clear_marks()

        detail = (
            f"{names}\n\n"
            + (
                f"{len(running)} of them running: {'it' if len(running) == 1 else 'they'} will be killed first. "
                if running
                else ""
            )
            + "The writable layer is deleted; this cannot be undone."
        )
        self.dapp.confirm(f"Remove {len(targets)} container{'s' if len(targets) > 1 else ''}?", detail, go)

    def action_shell(self) -> None:
        c = self._need_container()
        if c is None:
            return
        title = f"{c.name}:sh"
        term = self.query_one(TerminalPane)
        existing = term.find(title)
        self.tabs.active = "tab-terminal"
        if existing is not None:
            term.show(existing)
            return
        self.dapp.open_shell(c, title, SHELL)

    def new_shell(self) -> None:
        """Open one more shell session in the selected container, even if it has one already."""
        c = self._need_container()
        if c is None:
            return
        self.tabs.active = "tab-terminal"
        self.dapp.open_shell(c, f"{c.name}:sh", ["/bin/sh"])

    def action_attach(self) -> None:
        c = self._need_container()
        if c is None:
            return
        self.tabs.active = "tab-terminal"
        self.dapp.open_attach(c, f"{c.name}:attach")

    def action_logs(self) -> None:
        if self._need_container() is not None:
            self.subject = "container"
            self.open_tab("tab-logs")

    def action_inspect(self) -> None:
        self.open_tab("tab-inspect")

    def action_stats(self) -> None:
        self.open_tab("tab-stats", focus=False)

    def action_top(self) -> None:
        if self._need_container() is not None:
            self.open_tab("tab-top")

    def action_events(self) -> None:
        self.open_tab("tab-events")

    def action_command_log(self) -> None:
        self.app.push_screen(CommandLogScreen(self.dapp.commands))

    def action_wait(self) -> None:
        c = self._need_container()
        if c is None:
            return
        self.notify(f"Waiting for {c.name} to exit…", title="Wait")
        self.dapp.call(
            f"Wait {c.name}",
            self.dapp.engine.containers.wait,
            c.id,
            done=lambda code: self.notify(
                f"{c.name} exited with code {code}",
                title="Wait",
                severity="information" if code == 0 else "warning",
            ),
        )

    def action_contexts(self) -> None:
        """ctrl+e: the contexts; the app reopens on the chosen one's engine (app/tui/contexts.py)."""
        from ..contexts import pick

        pick(self.dapp)

    def action_version(self) -> None:
        """Recreate the selected container from another version (tag) of its image's repository."""
        c = self._need_container()
        if c is None or self.refuse("version"):
            return
        current = c.image if ":" in c.image.rpartition("/")[2] else c.image + ":latest"
        repo = current.rpartition(":")[0]
        versions = sorted(
            {t for im in self.images.records.values() for t in im.tags if t.rpartition(":")[0] == repo}
            - {current}
        )
        if not versions:
            self.notify(f"No other version of {repo} is here: tag or pull one first.", severity="warning")
            return

        def chosen(version: str | None) -> None:
            if not version:
                return

            def go() -> None:
                self.call_on(
                    c,
                    f"Recreate {c.name}",
                    "Recreating…",
                    self.dapp.engine.containers.recreate,
                    c.id,
                    version,
                    then=lambda new: self.notify(
                        f"{new.name} now runs {new.image} ({new.short_id})", title="Recreate"
                    ),
                )

            self.dapp.confirm(
                f"Recreate {c.name} from {version}?",
                f"{c.name} ({c.image}) is stopped and replaced by a new container from {version}, with the same "
                "name, configuration, volumes and ports. Its writable layer is not carried over.",
                go,
                ok="Recreate",
            )

        self.app.push_screen(VersionDialog(c.name, c.image, versions), chosen)

    def action_commit(self) -> None:
        c = self._need_container()
        if c is None:
            return
        commit = self.dapp.engine.containers.commit

        def chosen(req: CommitRequest | None) -> None:
            if req is not None:
                self.dapp.call(
                    f"Commit {c.name}",
                    commit,
                    c.id,
                    req.repo_tag or None,
                    req.message,
                    done=lambda image_id: self.notify(f"New image {str(image_id)[:19]}", title="Commit"),
                )

        self.app.push_screen(CommitDialog(c.name), chosen)

    def action_build(self) -> None:
        engine = self.dapp.engine
        log = self.dapp.commands
        dialog = BuildDialog(log.tracking(engine.images.build), watcher=log.tracking(engine.watch_build))
        self.app.push_screen(dialog)

    def action_prune(self) -> None:
        """Prune what the focused list holds, saying first how many (and which) would go."""
        snap = self.dapp.snapshot
        fn: Callable[[], Any]
        if self.focused is self.images:
            users = snap.image_users
            doomed = [im.short_id for im in snap.images if not im.tags and not users.get(im.id)]
            what, fn, noun = "images", self.dapp.engine.images.prune, "dangling image"
        else:
            doomed = [c.name for c in snap.containers if c.status not in ("running", "paused", "restarting")]
            what, fn, noun = "containers", self.dapp.engine.containers.prune, "stopped container"
        if not doomed:
            self.notify(f"No {noun}s to prune.", title="Prune")
            return
        n = len(doomed)
        shown = ", ".join(doomed[:5]) + (f" and {n - 5} more" if n > 5 else "")
        self.dapp.confirm(
            f"Prune {n} {noun}{'s' if n != 1 else ''}?",
            f"{shown}.",
            lambda: self.dapp.call(f"Prune {what}", fn, done=self.dapp.pruned),
            ok="Prune",
        )

    def action_reload(self) -> None:
        self.dapp.reload()

    def action_help(self) -> None:
        self.dapp.action_help()

    async def action_quit(self) -> None:
        await self.app.action_quit()

    # -- image actions ---------------------------------------------------------------------------------------------
    def action_run_image(self) -> None:
        im = self.images.current
        if im is None:
            self.notify("Select an image first.", severity="warning")
            return
        name = im.tags[0] if im.tags else im.id

        def chosen(result: RunResult | None) -> None:
            if result is not None:
                self.dapp.container_started(result)

        snap = self.dapp.snapshot
        dialog = RunDialog(name, self.dapp.run_request, snap.networks, snap.default_network)
        self.app.push_screen(dialog, chosen)

    def action_tag(self) -> None:
        im = self.images.current
        if im is None:
            return

        def chosen(tag: str | None) -> None:
            if tag:
                self.dapp.call(
                    f"Tag {tag}",
                    self.dapp.engine.images.tag,
                    im.id,
                    tag,
                    done=lambda _r: self.notify(f"Tagged {tag}", title="Tag"),
                )

        self.app.push_screen(TagDialog(repo_tag(im.tags), list(im.tags)), chosen)

    def action_remove_image(self) -> None:
        targets = list(self.images.selection())
        if not targets:
            return
        names = ", ".join(repo_tag(i.tags) if i.tags else i.short_id for i in targets)

        def go() -> None:
            for im in targets:
                ref = im.tags[0] if im.tags else im.id  # a row's tag: untagged, the image goes with its last
                self.dapp.call(f"Remove {ref}", self.dapp.engine.images.remove, ref)
            self.images.clear_marks()

        self.dapp.confirm(f"Remove {len(targets)} image{'s' if len(targets) > 1 else ''}?", names, go)

    def action_scale(self) -> None:
        im = self.images.current
        if im is None:
            self.notify("Select an image first.", severity="warning")
            return
        ref = im.tags[0] if im.tags else im.id

        def chosen(answer: tuple[str, int] | None) -> None:
            if answer is None:
                return
            name, count = answer
            from engine import CreateOptions

            self.dapp.call(
                f"Scale {ref}",
                self.dapp.engine.containers.run_replicas,
                ref,
                count,
                CreateOptions(name=name or None, network=self.dapp.engine.default_network()),
                done=lambda made: self.notify(
                    f"{len(made)} replicas of {ref} share its {len(im.layers)} layer(s): "
                    + ", ".join(c.name for c in made),
                    title="Scale",
                ),
            )

        self.app.push_screen(ScaleDialog(ref), chosen)

    def action_projects(self) -> None:
        from .projects import open_projects

        open_projects(self.app)

    def action_layers(self) -> None:
        self.subject = "image"
        self.open_tab("tab-layers")
