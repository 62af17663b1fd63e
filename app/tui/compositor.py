"""The main screen's compositor: Textual's, drawing only the widgets that a change touches.

To draw a change, Textual's compositor asks every widget whose clip (its container's region) overlaps the
changed lines for its lines, even one lying elsewhere in that container: a figure changing in one row of a
list made the key bar, the other lists and every widget of the shown detail tab go through their line
caches again, several times a second while the app idles. Here a widget is asked only when the part of it
on screen overlaps the change (what it would have drawn elsewhere is not shown anyway).
"""

from __future__ import annotations

from collections.abc import Iterable

from textual._compositor import Compositor
from textual.geometry import Region
from textual.strip import Strip


class ChangeCompositor(Compositor):
    def _get_renders(self, crop: Region | None = None) -> Iterable[tuple[Region, Region, list[Strip]]]:
        if crop is None:
            yield from super()._get_renders(crop)
            return
        overlaps = crop.overlaps
        for widget, (region, clip) in self.visible_widgets.items():
            x, y, width, height = region.intersection(clip)
            if not (width and height and overlaps(Region(x, y, width, height))):
                continue
            yield region, clip, widget.render_lines(Region(x - region.x, y - region.y, width, height))
