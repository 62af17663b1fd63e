"""How records read on screen: ports, status colours, short commands (shared by the panes)."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from engine import Container


def ports_text(ports: list[dict[str, Any]]) -> str:
    """Docker's PORTS column: ``0.0.0.0:8080->80/tcp, 53/udp``."""
    parts = []
    for p in ports:
        proto = p.get("protocol", "tcp")
        host_port = p.get("host_port")
        if host_port:
            parts.append(f"{p.get('host_ip') or '0.0.0.0'}:{host_port}->{p.get('container_port')}/{proto}")
        else:
            parts.append(f"{p.get('container_port')}/{proto}")
    return ", ".join(parts)


STATUS_COLOUR = {  # theme variable giving each state's colour
    "running": "success",
    "paused": "warning",
    "restarting": "warning",
    "exited": "text-muted",
    "created": "secondary",
    "dead": "error",
    "removing": "error",
}

STATUS_ICON = {
    "running": "▶",
    "paused": "‖",
    "restarting": "↻",
    "exited": "■",
    "created": "○",
    "dead": "✖",
    "removing": "✖",
}


def status_cell(c: Container, now: float | None, theme: dict[str, str]) -> Text:
    """The STATUS cell: an icon and Docker's words, coloured by state (``theme``: the theme's variables)."""
    colour = STATUS_COLOUR.get(c.status, "foreground")
    if c.status == "exited" and c.exit_code not in (0, 137, 143):
        colour = "error"
    style = theme.get(colour, "")
    if c.status == "running":
        style = f"bold {style}"
    return Text(f"{STATUS_ICON.get(c.status, '?')} {c.status_text(now)}", style=style.strip())


def repo_tag(tags: list[str]) -> str:
    return tags[0] if tags else "<none>:<none>"


def solid(theme: dict[str, str], name: str, over: str = "surface") -> str:
    """A theme colour as an opaque ``#rrggbb`` (colours with alpha are blended over ``over``)."""
    from textual.color import Color

    try:
        colour = Color.parse(theme.get(name, ""))
    except Exception:
        return ""
    if colour.a < 1:
        try:
            colour = Color.parse(theme.get(over, "#000000")) + colour
        except Exception:
            colour = colour.with_alpha(1)
    return colour.hex6
