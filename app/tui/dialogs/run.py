"""Run a container from an image: name, command, environment, ports, volumes, limits, network, restart
policy, and whether to stay detached or attach in the Terminal tab."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.widgets import Checkbox, Input, Select

from engine import CreateOptions

from ..forms import FormError, parse_command, parse_env, parse_float, parse_size, split_list
from .base import Dialog

RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")
NETWORKS = ("none", "bridge", "host")


@dataclass
class RunRequest:
    image: str
    options: CreateOptions
    detach: bool


class RunDialog(Dialog[RunRequest]):
    OK_LABEL = "Run"
    DEFAULT_CSS = """
    RunDialog #dialog-body { max-height: 20; }
    """

    def __init__(self, image: str) -> None:
        super().__init__()
        self.image = image
        self.TITLE_TEXT = f"Run a container from {image}"

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
            Select([(n, n) for n in NETWORKS], value="none", allow_blank=False, id="network", compact=True),
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

    def result(self) -> RunRequest:
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
