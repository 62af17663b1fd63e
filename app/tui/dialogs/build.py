"""Build an image from a Dockerfile: context directory, Dockerfile, tag, build arguments, and the build's
progress streamed into the dialog while it runs (in a worker; the app stays usable).

With "watch" ticked, the dialog keeps rebuilding each time the context changes (``build --watch``), and
with a container name, each new image replaces that container (``--run``); closing the dialog stops it."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, RichLog, Static

from ..forms import FormError, parse_build_args
from .base import Dialog

TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine import BuildEvent, BuildOptions

    BuildFn = Callable[[BuildOptions, Callable[[BuildEvent], None]], str]  # Images.build
    WatchFn = Callable[..., None]  # Engine.watch_build(options, progress, run_name, stop)


class BuildDialog(ModalScreen[str]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close", show=False)]
    DEFAULT_CSS = (
        Dialog.DEFAULT_CSS.replace("Dialog", "BuildDialog")
        + """
    BuildDialog #build-log { height: 10; border: round $panel; background: $background; }
    """
    )

    class Line(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Finished(Message):
        def __init__(self, image_id: str, error: str) -> None:
            super().__init__()
            self.image_id = image_id
            self.error = error

    def __init__(self, builder: BuildFn | None, context: str = "", watcher: WatchFn | None = None) -> None:
        super().__init__()
        self.builder = builder
        self.watcher = watcher
        self.context = context or os.getcwd()
        self.running = False
        self.stop_watching = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Build an image", id="dialog-title")
            with VerticalScroll(id="dialog-body"):
                yield Dialog.row("Context", Input(self.context, id="context", compact=True))
                yield Dialog.row("Dockerfile", Input(placeholder="Dockerfile", id="dockerfile", compact=True))
                yield Dialog.row("Tag", Input(placeholder="myimage:latest", id="tag", compact=True))
                yield Dialog.row(
                    "Build args", Input(placeholder="NAME=value, OTHER=value", id="args", compact=True)
                )
                if self.watcher is not None:
                    yield Dialog.row(
                        "Watch",
                        Checkbox("rebuild when the context changes", id="watch", compact=True),
                    )
                    yield Dialog.row(
                        "Run as",
                        Input(
                            placeholder="with watch: a container name to run each new image",
                            id="run-as",
                            compact=True,
                        ),
                    )
            yield RichLog(id="build-log", wrap=True, markup=False)
            yield Static("" if self.builder else "This engine cannot build images yet.", id="dialog-error")
            with Horizontal(id="dialog-buttons"):
                yield Button("Close", id="cancel", compact=True)
                yield Button("Build", id="ok", variant="primary", compact=True, disabled=self.builder is None)

    def on_mount(self) -> None:
        self.query_one("#context", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.start()
        else:
            self.action_close()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.start()

    def action_close(self) -> None:
        if self.watching:
            self.stop_watching.set()
            self.notify("Stopped watching the build context.")
        elif self.running:
            self.notify("The build goes on in the background; its result will be shown when it ends.")
        self.dismiss(None)

    @property
    def watching(self) -> bool:
        try:
            return self.running and self.query_one("#watch", Checkbox).value
        except Exception:  # noqa: BLE001 - no watch toggle (no watcher given)
            return False

    def start(self) -> None:
        if self.builder is None or self.running:
            return
        try:
            args = parse_build_args(self.query_one("#args", Input).value)
        except FormError as e:
            self.query_one("#dialog-error", Static).update(str(e))
            return
        context = os.path.abspath(os.path.expanduser(self.query_one("#context", Input).value.strip() or "."))
        if not os.path.isdir(context):
            self.query_one("#dialog-error", Static).update(f"context: {context} is not a directory")
            return
        self.query_one("#dialog-error", Static).update("")
        self.running = True
        self.query_one("#ok", Button).disabled = True
        self.query_one("#build-log", RichLog).clear()
        dockerfile = self.query_one("#dockerfile", Input).value.strip()
        tag = self.query_one("#tag", Input).value.strip()
        if self.watching:
            self.query_one("#watch", Checkbox).disabled = True
            self._watch(context, dockerfile, tag, args, self.query_one("#run-as", Input).value.strip())
        else:
            self._build(context, dockerfile, tag, args)

    @work(thread=True, exclusive=True, group="build")
    def _watch(self, context: str, dockerfile: str, tag: str, args: dict[str, str], run_as: str) -> None:
        from engine import BuildOptions

        assert self.watcher is not None
        options = BuildOptions(
            context, dockerfile=dockerfile or None, tags=[tag] if tag else [], build_args=args
        )

        def show(event: BuildEvent) -> None:
            self.post_message(self.Line(event.message))

        try:
            self.watcher(options, show, run_as or None, self.stop_watching)
        except Exception as e:  # every failure is shown, the app stays up
            self.post_message(self.Finished("", str(e) or type(e).__name__))
            return
        self.post_message(self.Finished("", ""))

    @work(thread=True, exclusive=True, group="build")
    def _build(self, context: str, dockerfile: str, tag: str, args: dict[str, str]) -> None:
        from engine import BuildOptions

        assert self.builder is not None
        options = BuildOptions(
            context, dockerfile=dockerfile or None, tags=[tag] if tag else [], build_args=args
        )

        def show(event: BuildEvent) -> None:
            self.post_message(self.Line(event.message))

        try:
            result = self.builder(options, show)
        except Exception as e:  # every failure is shown, the app stays up
            self.post_message(self.Finished("", str(e) or type(e).__name__))
            return
        self.post_message(self.Finished(result, ""))

    def on_build_dialog_line(self, message: Line) -> None:
        self.query_one("#build-log", RichLog).write(message.text)

    def on_build_dialog_finished(self, message: Finished) -> None:
        self.running = False
        self.query_one("#ok", Button).disabled = False
        log = self.query_one("#build-log", RichLog)
        if not message.error and not message.image_id:  # a watch that was stopped
            return
        if message.error:
            log.write(f"ERROR: {message.error}")
            self.query_one("#dialog-error", Static).update(message.error)
            self.app.notify(message.error, title="Build failed", severity="error")
        else:
            log.write(f"Successfully built {message.image_id}")
            self.app.notify(f"Built {message.image_id[:19]}", title="Build")
