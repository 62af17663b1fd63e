"""The dockyard app: owns the engine, the settings, the background feeds and the data the panes show.

Every engine call runs in a worker thread (``call``); results and errors come back to the UI thread, errors
as notifications (the app never leaves the screen because an operation failed). Lists are reloaded when
the engine's event log says something changed (any process's change), coalesced so a burst of events costs
one reload.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.driver import Driver
from textual.screen import Screen

from engine import AttachAPI, Container, DockyardError, EngineAPI, ExecPtyAPI, Image, PruneReport
from themes import DEFAULT_THEME, THEMES

from . import keymap
from .command_log import CommandLog
from .config import Config
from .dialogs.confirm import ConfirmDialog
from .dialogs.run import RunRequest, RunResult
from .engines import event_feed
from .event_history import EventHistory, read_backlog
from .feeds import EventFeed, HostFeed, StatsFeed
from .hostinfo import HostSummary, read_host
from .layer_loader import build_report
from .listing import ListReader
from .log_groups import merged_commands
from .messages import DataLoaded, EngineChanged, HostSampled, Snapshot, StatsSampled
from .screens.help import HelpScreen
from .screens.main import LIST_STATS_EVERY, MainScreen
from .stats_history import StatsHistory, small_move
from .terminal_session import AttachBackend, PtyBackend, TerminalSession
from .widgets.terminal import TerminalView
from .widgets.terminal_pane import TerminalPane

HOST_EVERY = 2.0  # seconds between readings of the host figures in the top bar
RELOAD_EVERY = 0.05  # seconds: events make the lists be read at most this often
IDLE_STATS_EVERY = 4.0  # seconds between stats passes while no figure on screen moves

THEME_DEFAULTS = {
    "layer-added": "green",
    "layer-modified": "yellow",
    "layer-removed": "red",
    "log-stderr": "red",
    "log-match": "black on yellow",
}


class DockyardApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "dockyard"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "quit", "Quit", show=False, priority=True)]

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver for this terminal; on Linux one that hands a lone Escape on after ``ESCDELAY``."""
        from textual.drivers.linux_driver import LinuxDriver

        from .driver import PromptEscapeDriver

        chosen = super().get_driver_class()
        return PromptEscapeDriver if chosen is LinuxDriver else chosen

    def __init__(
        self,
        engine: EngineAPI,
        config: Config | None = None,
        clock: Callable[[], float] = time.time,
        feeds: bool = True,
        host: Callable[[], HostSummary] = read_host,
    ) -> None:
        self.engine = engine
        self.config = config or Config()
        self.clock = clock
        self.reloads = 0  # how many times the lists were asked for (tests check the clock asks none)
        self.read_host = host
        self.host: HostSummary | None = None  # the top bar's host figures, once read
        self.use_feeds = feeds
        self.snapshot = Snapshot()
        self.snapshot_loaded = False
        self.root_label = engine.root  # shown in the top bar
        self.context_name = ""  # the context the engine is (contexts.py; "" or default: the local root)
        self.history = StatsHistory()
        self._stats_moving = True  # the selected container's figures moved at the last pass (Stats tab pace)
        self._list_moving = True  # a figure of a row on screen moved at the last pass
        self.commands = CommandLog(lambda: self.snapshot)  # each action as a dockyard command line
        self.event_history = EventHistory()  # the Events tab's events
        self._reload_lock = threading.Lock()
        self._reload_running = False
        self._reload_again = False
        self._reload_timer: Any = None
        self._reloaded_at = 0.0  # when an event last made the lists be read (monotonic)
        self.lists = ListReader()  # reads only the containers events named, after the first time
        self._first_done = False  # _first_shown ran
        self.event_feed: EventFeed | None = None
        self.stats_feed: StatsFeed | None = None
        self.host_feed: HostFeed | None = None
        self.loaded = threading.Event()  # the first lists are on screen (benchmarks and tests wait on it)
        super().__init__()
        # Nothing slides: the tab bar's underline and scrolls jump. Each frame of a 0.3 s slide cost the main
        # thread ~2 ms that the next key waited behind (a tab switch took ~30 ms more at 1000 containers).
        self.animation_level = "none"
        for theme in THEMES.values():
            self.register_theme(theme)
        self.theme = self.config.theme if self.config.theme in self.available_themes else DEFAULT_THEME

    # -- set-up ------------------------------------------------------------------------------------------------
    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_DEFAULTS)

    def get_default_screen(self) -> Screen[Any]:
        return MainScreen()

    @property
    def main(self) -> MainScreen:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        raise LookupError("main screen")

    def _ready_main(self) -> MainScreen | None:
        """The main screen once its panes exist (feeds may report before the first frame)."""
        try:
            main = self.main
        except LookupError:
            return None
        return main if main.ready else None

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        if self.config.keys:
            self.set_keymap(self.config.keys)
        if self.config.problem:
            self.notify(self.config.problem, severity="warning", timeout=8)
        self.reload()
        self.call("Events", read_backlog, self.engine, done=self.event_history.add)
        if self.use_feeds:
            self.event_feed = event_feed(self.engine, self.post_message)  # one per engine side by side
            self.event_feed.start()
            self.stats_feed = StatsFeed(
                self.engine, self.post_message, wanted=self._stats_wanted, pace=self._stats_pace
            )  # started once the first lists are on screen (_first_shown): it reads the rows shown
            self.set_timer(3.0, self._first_shown)  # (or in a moment, whatever happens)
            self.host_feed = HostFeed(self.read_host, self.post_message, HOST_EVERY)
            self.host_feed.start()
            self._stand_by()
        else:
            self._sample_host()  # once: without feeds nothing follows the machine
        self.set_interval(1, self._tick)

    def _first_shown(self) -> None:
        """Once the first lists are drawn: the stats feed starts (before, it read every running container's
        figures while the first screen was being made, for rows not yet there), and what that screen made,
        which lives as long as the app, is left out of the garbage collector's full passes (a fifth of a
        second and more with a thousand containers' rows, keys waiting)."""
        if self._first_done:
            return
        self._first_done = True
        if self.stats_feed is not None and self.stats_feed.ident is None:  # not started yet
            self.stats_feed.start()
        import gc

        gc.freeze()

    def _stand_by(self) -> None:
        """Each local engine shown keeps its supervisor process running while the app is open: a start from
        the app is then one connection to it, not a new interpreter (made here, in the background)."""
        from .engines import members_of

        for eng in members_of(self.engine).values():
            standby = getattr(eng.containers, "standby", None)
            if standby is not None:
                threading.Thread(
                    target=_quietly, args=(standby,), name="supervisor standby", daemon=True
                ).start()

    def _stats_wanted(self) -> set[str] | None:
        """The containers whose figures are shown (called in the stats feed's thread, which only reads the
        table): the rows on screen and the selected one."""
        main = self._ready_main()
        if main is None:
            return None
        shown = main.containers.visible_ids()
        if main.container is not None:
            shown.add(main.container.id)
        return shown

    def _stats_pace(self) -> float:
        """A pass a second while the Stats tab shows the graphs of a container whose figures move, else as
        often as the list shows figures; while no figure on screen moves (idle containers), every four
        seconds: the graphs of an idle container gain a point every four seconds."""
        main = self._ready_main()
        if main is None or (main.tabs.active == "tab-stats" and self._stats_moving):
            return 1.0
        if self._list_moving:
            return LIST_STATS_EVERY
        return IDLE_STATS_EVERY  # no figure on screen moved at the last pass: read them less often

    def on_unmount(self) -> None:
        for feed in (self.event_feed, self.stats_feed, self.host_feed):
            if feed is not None:
                feed.stop()
        import gc

        gc.unfreeze()  # what on_data_loaded froze can go (another app may follow in this process: tests)

    def _tick(self) -> None:
        """Durations in the lists ("Exited (0) 3 seconds ago", an image's CREATED) age: every second, the
        cells whose words changed are redrawn from what is loaded (the engine is not asked)."""
        main = self._ready_main()
        if main is None:
            return
        now = self.clock()
        with contextlib.suppress(NoMatches):
            main.containers.refresh_ages(now)
            main.images.refresh_ages(now)
            main.refresh_resource_ages(now)

    def _theme_changed(self, theme: Any) -> None:
        name = getattr(theme, "name", str(theme))
        if name != self.config.theme:
            self.config.theme = name
            try:
                self.config.save()
            except OSError as e:
                self.notify(f"Could not save the settings: {e}", severity="warning")

    # -- engine calls ------------------------------------------------------------------------------------------
    def call(
        self,
        label: str,
        fn: Callable[..., Any],
        *args: Any,
        done: Callable[[Any], None] | None = None,
        failed: Callable[[str], None] | None = None,
        **kw: Any,
    ) -> None:
        """Run ``fn(*args, **kw)`` in a worker thread; ``done(result)`` runs on the UI thread afterwards."""
        fn = self.commands.track(fn, args, kw, label)  # an action goes into the command log

        def work() -> None:
            try:
                result = fn(*args, **kw)
            except DockyardError as e:
                self._report(label, str(e), failed)
                return
            except Exception as e:  # an unexpected failure is shown too, never raised into the UI
                self._report(label, f"{type(e).__name__}: {e}", failed)
                return
            if done is not None:
                self.call_from_thread(done, result)

        self.run_worker(work, name=label, group="engine", thread=True, exit_on_error=False)

    def readable(self, text: str) -> str:
        """``text`` with the full IDs the engine's messages carry replaced by what the lists show: a
        container's name, an image's tag (or its short ID)."""
        import re

        names = {c.id: c.name for c in self.snapshot.containers}
        names.update(
            {im.id.partition(":")[2]: (im.tags[0] if im.tags else im.short_id) for im in self.snapshot.images}
        )

        def name(m: re.Match[str]) -> str:
            hexid = m.group(2)
            return names.get(hexid) or (m.group(1) or "") + hexid[:12]

        return re.sub(r"(sha256:)?\b([0-9a-f]{64})\b", name, text)

    def _report(self, label: str, error: str, failed: Callable[[str], None] | None) -> None:
        def show() -> None:
            error_text = self.readable(error)
            self.notify(error_text, title=f"{self.readable(label)} failed", severity="error", timeout=8)
            if failed is not None:
                failed(error_text)

        try:
            self.call_from_thread(show)
        except RuntimeError:
            pass

    def reload(self, everything: bool = True) -> None:
        """Re-read the lists in a worker (one at a time; a request during a reload runs once more after it);
        unless ``everything``, only the containers events named since the last reload (app/tui/listing.py)."""
        self.reloads += 1
        if everything:
            self.lists.everything()
        with self._reload_lock:
            if self._reload_running:
                self._reload_again = True
                return
            self._reload_running = True
        self.run_worker(self._reload_work, name="reload", group="reload", thread=True, exit_on_error=False)

    def _reload_work(self) -> None:
        while True:
            snap = Snapshot()
            try:
                snap = self.lists.read(self.engine)
            except Exception as e:
                self._report("Reload", str(e), None)
            try:
                self.post_message(DataLoaded(snap))
            except RuntimeError:
                return
            with self._reload_lock:
                if not self._reload_again:
                    self._reload_running = False
                    return
                self._reload_again = False

    def on_data_loaded(self, message: DataLoaded) -> None:
        self.snapshot = message.snapshot
        self.snapshot_loaded = True
        main = self._ready_main()
        if main is not None:
            with contextlib.suppress(NoMatches):  # its panes are gone: the app is closing
                main.on_data_loaded(message)
            if not self.loaded.is_set():
                self.call_after_refresh(self._first_shown)
            self.loaded.set()
        stack = self.screen_stack
        follower = getattr(stack[-1], "snapshot_changed", None) if stack else None  # another view (Projects)
        if callable(follower):
            follower()

    def on_engine_changed(self, message: EngineChanged) -> None:
        if message.event is not None:
            self.event_history.add([message.event])
        if "container" in message.kinds and self.stats_feed is not None:
            self.stats_feed.changed()
        self.lists.note(message.event)
        if self._reload_timer is None:
            # at most one reload per 50 ms: an event after a quiet spell is read at once (a start shows at
            # once), those that follow within the 50 ms wait for its end, together
            wait = RELOAD_EVERY - (time.monotonic() - self._reloaded_at)
            if wait <= 0:
                self._reload_soon()
            else:
                self._reload_timer = self.set_timer(wait, self._reload_soon)

    def _reload_soon(self) -> None:
        self._reload_timer = None
        self._reloaded_at = time.monotonic()
        self.reload(everything=False)

    @work(thread=True, exclusive=True, group="host")
    def _sample_host(self) -> None:
        try:
            summary = self.read_host()
        except Exception:  # noqa: BLE001 - the top bar goes without host figures
            return
        self.post_message(HostSampled(summary))

    def on_host_sampled(self, message: HostSampled) -> None:
        self.host = message.summary
        main = self._ready_main()
        if main is not None:
            main.update_hostbar()

    def on_stats_sampled(self, message: StatsSampled) -> None:
        main = self._ready_main()
        before = self.history.latest
        self.history.add(message.records, message.at)
        moved = set()
        for r in message.records:
            was = before.get(r.id)
            if not small_move((was.cpu_percent, was.memory_usage) if was is not None else None, r):
                moved.add(r.id)
        self._list_moving = bool(moved)
        self._stats_moving = main is not None and main.container is not None and main.container.id in moved
        if main is not None:
            with contextlib.suppress(NoMatches):  # its panes are gone: the app is closing
                main.on_stats_sampled(message)

    def image_by_id(self, image_id: str) -> Image | None:
        for im in self.snapshot.images:
            if im.id == image_id:
                return im
        return None

    def load_layers(
        self, image: Image | None, container: Container | None, done: Callable[[Any], None]
    ) -> None:
        self.call("Layers", build_report, self.engine, image, container, done=done)

    def pruned(self, report: PruneReport) -> None:
        from engine.humanize import human_size

        self.notify(
            f"Removed {len(report.deleted)} · reclaimed {human_size(report.reclaimed)}", title="Prune"
        )

    def confirm(self, question: str, detail: str, go: Callable[[], None], ok: str = "Remove") -> None:
        """Ask first unless the settings say not to."""
        if not self.config.confirm:
            go()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                go()

        self.push_screen(ConfirmDialog(question, detail, ok), answered)

    async def action_quit(self) -> None:
        """Quit; while shells or attached sessions are open in the Terminal tab, ask first (quitting ends
        them), whatever the ``confirm`` setting says."""
        live = self.live_sessions()
        if not live or isinstance(self.screen, ConfirmDialog):
            self.exit()
            return
        names = ", ".join(live[:3]) + (f" and {len(live) - 3} more" if len(live) > 3 else "")
        what = "session" if len(live) == 1 else "sessions"

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(
            ConfirmDialog(f"Quit and end {len(live)} terminal {what}?", f"Open: {names}.", ok="Quit"),
            answered,
        )

    def live_sessions(self) -> list[str]:
        """The titles of the Terminal tab's sessions that have not ended."""
        main = self._ready_main()
        if main is None:
            return []
        try:
            pane = main.query_one(TerminalPane)
        except NoMatches:
            return []
        return [v.session.title for v in pane.views if not v.session.ended]

    # -- containers ------------------------------------------------------------------------------------------------
    def run_request(self, req: RunRequest) -> Container:
        """Create and start what the Run dialog asks for (called in the dialog's worker thread)."""
        return self.commands.track(self._run_request, [req])(req)

    def _run_request(self, req: RunRequest) -> Container:
        return self.engine.containers.run(req.image, req.options)

    def container_started(self, result: RunResult) -> None:
        c = result.container
        self.notify(f"Started {c.name} ({c.short_id})", title="Run")
        if not result.request.detach:
            self.main.tabs.active = "tab-terminal"
            self.open_attach(c, f"{c.name}:attach")

    def open_shell(self, c: Container, title: str, argv: list[str]) -> None:
        pane = self.main.query_one(TerminalPane)
        rows, cols = self._terminal_size()

        def started(pty: ExecPtyAPI) -> None:
            session = TerminalSession(title, PtyBackend(pty), cols, rows)
            self.run_worker(pane.add_session(session), exit_on_error=False)

        self.call(
            f"Shell in {c.name}",
            self.engine.containers.exec_pty,
            c.id,
            argv,
            env=["TERM=xterm-256color"],
            rows=rows,
            cols=cols,
            done=started,
        )

    def open_attach(self, c: Container, title: str) -> None:
        pane = self.main.query_one(TerminalPane)
        rows, cols = self._terminal_size()

        def started(att: AttachAPI) -> None:
            session = TerminalSession(title, AttachBackend(att), cols, rows, line_mode=not c.tty)
            session.resize(rows, cols)
            self.run_worker(pane.add_session(session), exit_on_error=False)

        self.call(f"Attach {c.name}", self.engine.containers.attach, c.id, done=started)

    def _terminal_size(self) -> tuple[int, int]:
        """Rows and columns a session will have in the Terminal tab (the tab may not be laid out yet)."""
        region = self.main.query_one("#details").content_region
        return max(5, region.height - 4), max(20, region.width)

    async def close_terminal(self) -> None:
        pane = self.main.query_one(TerminalPane)
        view = pane.active
        if view is not None:
            await pane.close_session(view)

    # -- keys, help, palette --------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # inside a terminal session ctrl+p and ctrl+q belong to the container's programs
        if action in ("command_palette", "quit") and isinstance(self.focused, TerminalView):
            return False
        return True

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            main = self._ready_main()
            greyed = main.greyed_actions() if main is not None else {}  # the selected row's engine's gaps
            self.push_screen(HelpScreen(self.config.keys, greyed))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        main = self.main if isinstance(screen, MainScreen) else None
        if main is None:
            return
        for k in keymap.KEYS:
            if k.scope not in ("app", "images") or k.action.startswith(("jump", "tab", "focus_")):
                continue
            action = k.action.removeprefix("screen.")
            method = getattr(main, f"action_{action}", None)
            if method is None:
                continue
            keys = keymap.display(self.config.keys.get(k.id, k.keys))
            yield SystemCommand(k.description, f"key: {keys}", method)
        for tab, title in (
            ("tab-layers", "Layers"),
            ("tab-logs", "Logs"),
            ("tab-stats", "Stats"),
            ("tab-inspect", "Inspect"),
            ("tab-terminal", "Terminal"),
            ("tab-top", "Top"),
            ("tab-env", "Env"),
            ("tab-events", "Events"),
        ):
            yield SystemCommand(f"Show {title}", f"open the {title} tab", lambda t=tab: main.open_tab(t))
        yield from merged_commands(main, SystemCommand)
        yield SystemCommand(
            "Prune stopped containers",
            "remove every container that is not running",
            lambda: self.confirm(
                "Prune stopped containers?",
                "Every stopped container is removed.",
                lambda: self.call("Prune containers", self.engine.containers.prune, done=self.pruned),
                ok="Prune",
            ),
        )
        yield SystemCommand(
            "Prune unused images",
            "remove dangling images no container uses",
            lambda: self.confirm(
                "Prune unused images?",
                "Dangling images are deleted.",
                lambda: self.call("Prune images", self.engine.images.prune, done=self.pruned),
                ok="Prune",
            ),
        )
        yield SystemCommand(
            "New shell session",
            "open another shell in the selected container",
            main.new_shell,
        )
        yield SystemCommand("Close terminal session", "end the shown terminal session", self.close_terminal)
        confirm_state = "on" if self.config.confirm else "off"
        yield SystemCommand(
            f"Confirmations: {confirm_state}", "ask before removing and pruning (toggle)", self.toggle_confirm
        )
        for name in THEMES:
            yield SystemCommand(
                f"Theme: {name}",
                "switch the colour theme (remembered)",
                lambda n=name: setattr(self, "theme", n),
            )

    def toggle_confirm(self) -> None:
        self.config.confirm = not self.config.confirm
        try:
            self.config.save()
        except OSError as e:
            self.notify(f"Could not save the settings: {e}", severity="warning")
        self.notify(f"Confirmations are {'on' if self.config.confirm else 'off'}.")


if TYPE_CHECKING:
    from .services import AppServices

    def _gives_the_screen_its_services(app: DockyardApp) -> AppServices:
        return app  # the type checker holds DockyardApp to app/tui/services.py's protocol


def _quietly(fn: Callable[[], object]) -> None:
    """``fn()``, whatever it raises ignored (work done ahead of need: what needs it does it again)."""
    with contextlib.suppress(Exception):
        fn()
