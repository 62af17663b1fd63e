"""What the app's terminal shows, as plain text (the compositor's lines, without colours)."""

from __future__ import annotations

from typing import Any


def screen_text(app: Any) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def shown_lines(app: Any, *words: str) -> list[str]:
    """The lines on screen that hold every one of ``words``."""
    return [line for line in screen_text(app).splitlines() if all(w in line for w in words)]


def widget_lines(app: Any, widget: Any, *words: str) -> list[str]:
    """The lines ``widget`` shows on screen (its region of the screen) that hold every one of ``words``."""
    region = widget.region
    lines = screen_text(app).splitlines()[region.y : region.bottom]
    return [
        line[region.x : region.right]
        for line in lines
        if all(w in line[region.x : region.right] for w in words)
    ]
