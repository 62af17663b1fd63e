"""Run a container from an image: name, command, environment, ports, volumes, limits, network, restart
policy, and whether to stay detached or attach in the Terminal tab.

The network starts on the engine's default and offers the user networks too. On Run the dialog asks the
engine itself (in a worker): when the engine refuses (a port in use, a volume it cannot mount, a name taken),
the dialog stays open with the engine's words and everything typed, and nothing was made."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.widgets import Checkbox, Input, Select, Static

from engine import Container, CreateOptions, DockyardError

from ..forms import FormError, parse_command, parse_env, parse_float, parse_size, split_list
from .base import Dialog

RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")
BUILTIN_NETWORKS = ("bridge", "host", "none")


@dataclass
class RunRequest:
    image: str
    options: CreateOptions
    detach: bool


@dataclass
class RunResult:
    request: RunRequest
    container: Container


class RunDialog(Dialog[RunResult]):
    OK_LABEL = "Run"
    DEFAULT_CSS = """
    RunDialog #dialog-body { max-height: 20; }
    """

    def __init__(
        self,
        image: str,
        run: Callable[[RunRequest], Container],
        networks: Sequence[str] = (),
        default_network: str = "bridge",
    ) -> None:
        super().__init__()
        self.image = image
        self.run = run
        names = [*BUILTIN_NETWORKS, *sorted(n for n in networks if n not in BUILTIN_NETWORKS)]
        if default_network not in names:
            names.append(default_network)
        self.networks = names
        self.default_network = default_network
        self.TITLE_TEXT = f"Run a container from {image}"
        self.busy = False

    def fields(self) -> ComposeResult:
        def text(field_id: str, placeholder: str = "", value: str = "") -> Input:
            return Input(value, placeholder=placeholder, id=field_id, compact=True)

        yield self.row("Image", text("image", "busybox:latest", self.image))
        yield self.row("Name", text("name", "generated when empty"))
        yield self.row("Command", text("command", "the image's command when empty"))
        yield self.row("Environment", text("env", "NAME=value, OTHER=value"))
        yield self.row("Ports", text("ports", "8080:80, 127.0.0.1:5353:53/udp"))
        yield self.row("Volumes", text("volumes", "/host/dir:/data, myvolume:/cache:ro"))
        yield self.row("Memory", text("memory", "512m"))
        yield self.row("CPUs", text("cpus", "1.5"))
        yield self.row(
            "Network",
            Select(
                [(n + (" (default)" if n == self.default_network else ""), n) for n in self.networks],
                value=self.default_network,
                allow_blank=False,
                id="network",
                compact=True,
            ),
        )
        yield self.row(
            "Restart",
            Select(
                [(p, p) for p in RESTART_POLICIES], value="no", allow_blank=False, id="restart", compact=True
            ),
        )
        yield self.row("Detach", Checkbox("run in the background", value=True, id="detach", compact=True))

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value.strip()

    def submit(self) -> None:
        """Check the form, then ask the engine; the dialog closes only once the container runs."""
        if self.busy:
            return
        try:
            req = self.request()
        except FormError as e:
            self.show_error(str(e))
            return
        self.busy = True
        self.show_error("")
        self.query_one("#dialog-error", Static).update("[dim]Starting…[/]")
        self._start(req)

    @work(thread=True, exclusive=True, group="run-dialog")
    def _start(self, req: RunRequest) -> None:
        try:
            c = self.run(req)
        except DockyardError as e:
            self.app.call_from_thread(self._refused, str(e))
            return
        except Exception as e:  # noqa: BLE001 - shown in the form, never raised into the UI
            self.app.call_from_thread(self._refused, f"{type(e).__name__}: {e}")
            return
        self.app.call_from_thread(self.dismiss, RunResult(req, c))

    def _refused(self, error: str) -> None:
        self.busy = False
        self.show_error(error)

    def show_error(self, text: str) -> None:
        from rich.text import Text

        self.query_one("#dialog-error", Static).update(Text(text))  # the engine's words, never markup

    def result(self) -> RunResult:  # the dialog answers through ``submit``
        raise NotImplementedError

    def request(self) -> RunRequest:
        image = self.value("image")
        if not image:
            raise FormError("image: which image should the container run?")
        detach = self.query_one("#detach", Checkbox).value
        opts = CreateOptions(
            name=self.value("name") or None,
            command=parse_command(self.value("command")),
            env=parse_env(self.value("env")),
            ports=split_list(self.value("ports")),
            volumes=split_list(self.value("volumes")),
            memory=parse_size(self.value("memory"), "memory"),
            cpus=parse_float(self.value("cpus"), "CPUs"),
            network=str(self.query_one("#network", Select).value),
            restart=str(self.query_one("#restart", Select).value),
            tty=not detach,
            stdin_open=not detach,
        )
        return RunRequest(image, opts, detach)
