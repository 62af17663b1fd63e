"""Which containers a merged log shows, and copying a container's ID or name to the clipboard.

A merged log is opened on the marked containers, or, with none marked, on the replicas of the selected
container's image; the command palette offers every image and every label that two or more containers
share. Copies go through ``App.copy_to_clipboard`` (OSC 52: the terminal sets its clipboard, over SSH too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from engine import Container

if TYPE_CHECKING:
    from textual.app import SystemCommand

    from .screens.main import MainScreen


def default_group(
    marked: list[Container], current: Container | None, everyone: list[Container]
) -> tuple[str, list[Container]]:
    """(title, containers): the marked ones when two or more are, else the selected one's image's."""
    if len(marked) > 1:
        return f"{len(marked)} marked containers", marked
    if current is None:
        return "", []
    same = [c for c in everyone if c.image_id == current.image_id]
    return f"image {current.image}", same


def shared_groups(everyone: list[Container]) -> Iterable[tuple[str, list[Container]]]:
    """Every image and every label (key=value) two or more containers share, with those containers."""
    by_image: dict[str, list[Container]] = {}
    by_label: dict[str, list[Container]] = {}
    for c in everyone:
        by_image.setdefault(c.image, []).append(c)
        for key, value in c.labels.items():
            by_label.setdefault(f"{key}={value}", []).append(c)
    for image, members in sorted(by_image.items()):
        if len(members) > 1:
            yield f"image {image}", members
    for label, members in sorted(by_label.items()):
        if len(members) > 1:
            yield f"label {label}", members


def merged_commands(main: MainScreen, command: Callable[..., SystemCommand]) -> Iterable[SystemCommand]:
    """The palette's "Merged logs: ..." entries."""
    for title, members in shared_groups(main.dapp.snapshot.containers):
        names = ", ".join(c.name for c in members[:4]) + (" …" if len(members) > 4 else "")
        yield command(
            f"Merged logs: {title}",
            f"{len(members)} containers' logs interleaved by time ({names})",
            lambda t=title, m=members: main.show_merged_logs(t, m),
        )


def copy_container(main: MainScreen, what: str) -> None:
    """Copy the selected container's (or, in the Images pane, image's) ID or name."""
    text, label = "", ""
    if main.focused is main.images and main.images.current is not None:
        im: Any = main.images.current
        text = im.id if what == "id" else (im.tags[0] if im.tags else im.id)
        label = "image ID" if what == "id" else "image name"
    elif main.container is not None:
        c = main.container
        text, label = (c.id, "container ID") if what == "id" else (c.name, "container name")
    if not text:
        main.notify("Select a container first.", severity="warning")
        return
    main.app.copy_to_clipboard(text)
    main.notify(f"Copied the {label}: {text}", title="Clipboard")


def merged_source(log_index: Callable[[str], Any], title: str, members: list[tuple[str, str]]) -> Any:
    """Open the logs of ``members`` ((id, name) pairs; called in a worker) as one ``MergedLog``; containers
    whose log cannot be read (log driver none) are left out."""
    from engine import DockyardError

    from .log_sources import MergedLog

    parts = []
    for cid, name in members:
        try:
            parts.append((name, log_index(cid)))
        except DockyardError:
            continue
    if not parts:
        raise DockyardError("none of these containers has a log to read")
    return MergedLog(parts, title)
