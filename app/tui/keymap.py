"""Every key binding of the app in one table, each with a stable id so users can remap it.

Widgets and screens build their ``BINDINGS`` from this table (``bindings("logs")``); the app applies the
user's overrides from the config file with ``App.set_keymap({id: keys})``. The help screen and docs/KEYS.md
are generated from the same table, so they cannot drift from what the keys really do.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True)
class Key:
    id: str  # stable id used in the config file's [keys] table
    keys: str  # default key(s), comma separated, Textual key names
    action: str
    description: str
    scope: str  # where the binding lives: app, containers, images, layers, logs, terminal, filter
    show: bool = True  # shown in the footer
    priority: bool = False


SCOPES: dict[str, str] = {
    "app": "Everywhere (acts on the selected container)",
    "containers": "Containers pane",
    "images": "Images pane",
    "volumes": "Volumes pane",
    "networks": "Networks pane",
    "layers": "Layers pane",
    "logs": "Logs view",
    "terminal": "Terminal pane",
    "events": "Events tab",
    "commands": "Command log",
    "projects": "Projects view (compose projects)",
}

KEYS: tuple[Key, ...] = (
    # -- everywhere ------------------------------------------------------------------------------
    Key("app.quit", "q", "quit", "Quit", "app"),
    Key("app.help", "question_mark", "help", "Help", "app"),
    Key("app.filter", "slash", "filter", "Filter", "app"),
    Key("app.focus_next", "tab", "focus_next_pane", "Next pane", "app", show=False),
    Key("app.focus_previous", "shift+tab", "focus_previous_pane", "Previous pane", "app", show=False),
    Key("app.pane_containers", "1", "jump(1)", "Containers pane", "app", show=False),
    Key("app.pane_images", "2", "jump(2)", "Images pane", "app", show=False),
    Key("app.pane_details", "3", "jump(3)", "Layers and details pane", "app", show=False),
    Key("app.previous_tab", "left_square_bracket", "tab(-1)", "Previous detail tab", "app", show=False),
    Key("app.next_tab", "right_square_bracket", "tab(1)", "Next detail tab", "app", show=False),
    Key("container.start", "s", "start", "Start", "app"),
    Key("container.stop", "x", "stop", "Stop", "app"),
    Key("container.restart", "r", "restart", "Restart", "app", show=False),
    Key("container.pause", "p", "pause", "Pause/unpause", "app", show=False),
    Key("container.rename", "n", "rename", "Rename", "app", show=False),
    Key("container.remove", "d", "remove", "Remove", "app"),
    Key("container.shell", "e", "shell", "Shell", "app"),
    Key("container.attach", "a", "attach", "Attach", "app", show=False),
    Key("container.logs", "l", "logs", "Logs", "app"),
    Key("container.inspect", "i", "inspect", "Inspect", "app", show=False),
    Key("container.wait", "w", "wait", "Wait for exit", "app", show=False),
    Key("container.commit", "c", "commit", "Commit to image", "app", show=False),
    Key("container.stats", "S", "stats", "Stats", "app", show=False),
    Key(
        "container.version",
        "v",
        "version",
        "Recreate from another version (rollback/upgrade)",
        "app",
        show=False,
    ),
    Key("container.copy_id", "y", "copy_id", "Copy the ID (clipboard)", "app", show=False),
    Key("container.copy_name", "Y", "copy_name", "Copy the name (clipboard)", "app", show=False),
    Key(
        "container.merged_logs",
        "M",
        "merged_logs",
        "Merged logs of the marked containers (or of the image's)",
        "app",
        show=False,
    ),
    Key("image.build", "b", "build", "Build", "app", show=False),
    Key("app.prune", "P", "prune", "Prune stopped containers / unused images", "app", show=False),
    Key("app.refresh", "ctrl+r", "reload", "Reload lists", "app", show=False),
    Key("app.context", "ctrl+e", "contexts", "Contexts: reopen on another engine", "app", show=False),
    Key("container.top", "T", "top", "Top: the container's processes", "app", show=False),
    Key("app.events", "E", "events", "Events: what changed, from any process", "app", show=False),
    Key("app.command_log", "h", "command_log", "Command log (as dockyard commands)", "app", show=False),
    Key("app.pane_volumes", "4", "lower('volumes')", "Volumes pane (in place of Images)", "app", show=False),
    Key(
        "app.pane_networks", "5", "lower('networks')", "Networks pane (in place of Images)", "app", show=False
    ),
    Key("container.networks", "N", "connect", "Connect/disconnect networks", "app", show=False),
    Key("app.disk_usage", "D", "disk_usage", "Disk usage (system df -v)", "app", show=False),
    Key("image.pull", "u", "pull", "Pull an image (and search a registry)", "app", show=False),
    Key("app.projects", "6", "projects", "Projects view: compose projects and drift", "app", show=False),
    # -- lists -----------------------------------------------------------------------------------
    Key("containers.mark", "space", "mark", "Mark row for a bulk action", "containers", show=False),
    Key("containers.mark_all", "ctrl+a", "mark_all", "Mark all rows", "containers", show=False),
    Key("images.run", "enter", "screen.run_image", "Run", "images"),
    Key("images.tag", "t", "screen.tag", "Tag", "images"),
    Key("images.remove", "d", "screen.remove_image", "Remove image", "images"),
    Key("images.mark", "space", "mark", "Mark row for a bulk action", "images", show=False),
    Key("images.layers", "L", "screen.layers", "Show layers", "images", show=False),
    Key("images.scale", "plus", "screen.scale", "Run replicas (scale)", "images", show=False),
    Key("volumes.create", "c", "screen.volume_create", "New volume", "volumes"),
    Key("volumes.remove", "d", "screen.volume_remove", "Remove volume", "volumes"),
    Key("volumes.prune", "P", "screen.volume_prune", "Prune unused volumes", "volumes"),
    Key("volumes.inspect", "enter", "screen.inspect", "Inspect", "volumes", show=False),
    Key("volumes.mark", "space", "mark", "Mark row for a bulk action", "volumes", show=False),
    Key("networks.create", "c", "screen.network_create", "New network", "networks"),
    Key("networks.remove", "d", "screen.network_remove", "Remove network", "networks"),
    Key("networks.prune", "P", "screen.network_prune", "Prune unused networks", "networks"),
    Key("networks.inspect", "enter", "screen.inspect", "Inspect", "networks", show=False),
    Key("networks.mark", "space", "mark", "Mark row for a bulk action", "networks", show=False),
    # -- layers ----------------------------------------------------------------------------------
    Key("layers.aggregate", "ctrl+a", "toggle_aggregate", "All layers / this layer", "layers"),
    Key("layers.changes_only", "ctrl+u", "toggle_changes_only", "Only changed files", "layers"),
    # -- logs ------------------------------------------------------------------------------------
    Key("logs.search", "slash", "search", "Search", "logs"),
    Key("logs.next", "n", "next_match", "Next match", "logs"),
    Key("logs.previous", "N", "previous_match", "Previous match", "logs"),
    Key("logs.follow", "f", "toggle_follow", "Follow/pause", "logs"),
    Key("logs.timestamps", "t", "toggle_timestamps", "Timestamps", "logs"),
    Key("logs.wrap", "w", "toggle_wrap", "Wrap", "logs"),
    Key("logs.filter", "ampersand", "filter_lines", "Filter lines", "logs"),
    Key("logs.filter_toggle", "F", "toggle_filter", "Filter off/on", "logs", show=False),
    Key("logs.select", "V", "select", "Select lines", "logs", show=False),
    Key("logs.copy", "y", "copy_lines", "Copy the selected lines", "logs", show=False),
    Key("logs.top", "g,home", "top", "First line", "logs", show=False),
    Key("logs.bottom", "G,end", "bottom", "Last line (follow)", "logs", show=False),
    # -- events and the command log --------------------------------------------------------------
    Key("events.type", "t", "cycle_type", "Type filter (cycles)", "events"),
    Key("commands.copy", "y,c", "copy", "Copy the selected command line", "commands"),
    # -- projects (compose) ----------------------------------------------------------------------
    Key("projects.up", "u", "up", "Up", "projects"),
    Key("projects.rebuild", "b", "rebuild", "Rebuild (up --build)", "projects"),
    Key("projects.restart", "r", "restart", "Restart", "projects"),
    Key("projects.stop", "x", "stop", "Stop", "projects"),
    Key("projects.start", "s", "start", "Start", "projects", show=False),
    Key("projects.down", "D", "down", "Down", "projects"),
    Key("projects.scale", "plus", "scale", "Scale", "projects"),
    Key("projects.pull", "p", "pull", "Pull the images", "projects", show=False),
    Key("projects.open", "o", "open", "Open file", "projects"),
    Key("projects.logs", "l", "logs", "Logs (merged, a colour per service)", "projects"),
    Key("projects.file", "F", "file", "The file beside the running state (drift)", "projects", show=False),
    Key("projects.progress", "g", "progress", "Progress of the last action", "projects", show=False),
    Key("projects.fold", "enter", "fold", "Fold/unfold a project", "projects", show=False),
    Key("projects.previous_tab", "left_square_bracket", "tab(-1)", "Previous tab", "projects", show=False),
    Key("projects.next_tab", "right_square_bracket", "tab(1)", "Next tab", "projects", show=False),
    Key("projects.back", "escape,1", "back", "Back", "projects"),
    Key("projects.help", "question_mark", "help", "Help", "projects", show=False),
    Key("projects.quit", "q", "quit", "Quit", "projects", show=False),
    # -- terminal --------------------------------------------------------------------------------
    Key(
        "terminal.leave",
        "ctrl+right_square_bracket",
        "leave",
        "Leave the terminal (session stays)",
        "terminal",
        priority=True,
    ),
    Key("terminal.next", "ctrl+pagedown", "next_session", "Next session", "terminal", priority=True),
    Key(
        "terminal.previous", "ctrl+pageup", "previous_session", "Previous session", "terminal", priority=True
    ),
)


def bindings(scope: str) -> list[BindingType]:
    """The Textual bindings of one scope, with their ids (so ``App.set_keymap`` can remap them)."""
    return [
        Binding(k.keys, k.action, k.description, show=k.show, id=k.id, priority=k.priority)
        for k in KEYS
        if k.scope == scope
    ]


def display(keys: str) -> str:
    """A key list as people write it: ``question_mark`` -> ``?``, ``ctrl+right_square_bracket`` -> ``ctrl+]``."""
    names = {
        "question_mark": "?",
        "slash": "/",
        "left_square_bracket": "[",
        "right_square_bracket": "]",
        "space": "space",
        "ampersand": "&",
    }
    out = []
    for key in keys.split(","):
        parts = [names.get(p, p) for p in key.strip().split("+")]
        out.append("+".join(parts))
    return ", ".join(out)


def effective(overrides: dict[str, str]) -> list[tuple[Key, str]]:
    """Each binding with the keys it has after the user's overrides."""
    return [(k, overrides.get(k.id, k.keys)) for k in KEYS]


def markdown(overrides: dict[str, str] | None = None) -> str:
    """The key table as Markdown (docs/KEYS.md and the help screen)."""
    overrides = overrides or {}
    lines = []
    for scope, title in SCOPES.items():
        lines += [f"### {title}", "", "| Key | Action | Id |", "|---|---|---|"]
        for k, keys in effective(overrides):
            if k.scope == scope:
                lines.append(f"| `{display(keys)}` | {k.description} | `{k.id}` |")
        lines.append("")
    return "\n".join(lines)
