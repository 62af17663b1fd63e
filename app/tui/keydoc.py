"""Write docs/KEYS.md from the key table: ``python -m app.tui.keydoc [PATH]``."""

from __future__ import annotations

import sys

from . import keymap

HEADER = """\
# Keys of the dockyard app

Every binding has an id. To change a key, put the id in the `[keys]` table of the settings file
(`~/.config/dockyard/config.toml`, or the file named by `$DOCKYARD_CONFIG`); the value is one key or
several separated by commas, in Textual's key names (`ctrl+x`, `f5`, `shift+tab`, `question_mark`...):

```toml
theme = "dockyard-dark"      # or dockyard-light, dockyard-high-contrast (also switchable from ctrl+p)
confirm = true               # ask before removing and pruning
stop_timeout = 10            # seconds stop waits before it kills

[keys]
"container.stop" = "z"
"app.quit" = "q,ctrl+c"
```

Keys of the focused pane win over the keys that work everywhere: in the Images pane `d` removes the image,
in the Logs view `t` and `w` toggle timestamps and wrap, and `n` / `N` go to the next / previous match.
Inside a Terminal session every key goes to the container except the ones listed under Terminal pane.
`ctrl+p` opens the command palette, which offers every action below. A lone `escape` reaches the app 25 ms
after it is pressed (the time the app waits for the rest of an escape sequence; `ESCDELAY=MS` in the
environment sets another, as for curses programs).

"""


def render() -> str:
    return HEADER + keymap.markdown()


def main(argv: list[str]) -> int:
    path = argv[0] if argv else "docs/KEYS.md"
    with open(path, "w", encoding="utf-8") as f:
        f.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
