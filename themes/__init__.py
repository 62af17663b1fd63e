"""dockyard's colour themes for the app: Textual ``Theme`` objects, registered when the app starts.

``THEMES`` maps each theme's name to its definition; ``DEFAULT_THEME`` is the one used until the user picks
another (from the command palette; the choice is remembered in the config file).
"""

from __future__ import annotations

from textual.theme import Theme

from .dark import DARK
from .high_contrast import HIGH_CONTRAST
from .light import LIGHT

THEMES: dict[str, Theme] = {t.name: t for t in (DARK, LIGHT, HIGH_CONTRAST)}
DEFAULT_THEME = DARK.name

__all__ = ["DEFAULT_THEME", "THEMES"]
