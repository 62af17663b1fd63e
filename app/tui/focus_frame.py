"""The border of a pane that holds the focus somewhere inside it (the details tabs), in the focus colour.

A CSS ``:focus-within`` rule would do it, but Textual then restyles every widget inside the pane (all the
detail tabs' widgets) each time the focus moves in or out; this sets the pane's own inline styles only.
"""

from __future__ import annotations

from textual.widget import Widget

_SIDES = ("border_top", "border_right", "border_bottom", "border_left")


def frame(pane: Widget, focused: Widget | None) -> None:
    inside = focused is not None and pane in focused.ancestors
    if inside == getattr(pane, "_dockyard_framed", False):
        return
    pane._dockyard_framed = inside  # type: ignore[attr-defined]
    styles = pane.styles
    if inside:
        colour = pane.app.theme_variables.get("primary", "blue")
        styles.border = ("round", colour)
        styles.border_title_color = colour
        styles.border_title_style = "bold"
    else:
        for rule in (*_SIDES, "border_title_color", "border_title_style"):
            styles.clear_rule(rule)
        pane.refresh(layout=True)
