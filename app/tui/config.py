"""The app's settings file: theme, key overrides, confirmations. TOML, read with tomllib, written back here.

Location: ``$DOCKYARD_CONFIG`` or ``~/.config/dockyard/config.toml``. Example::

    theme = "dockyard-light"
    confirm = true          # ask before removing or pruning
    stop_timeout = 10       # seconds before stop kills

    engines = ["default", "podman"]  # contexts shown side by side in the Containers list

    [keys]
    "container.stop" = "z"  # ids from docs/KEYS.md, values are Textual key names (comma separated)
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field


def config_path() -> str:
    env = os.environ.get("DOCKYARD_CONFIG")
    if env:
        return env
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "dockyard", "config.toml")


@dataclass
class Config:
    theme: str = "dockyard-dark"
    confirm: bool = True
    stop_timeout: int = 10
    keys: dict[str, str] = field(default_factory=dict)
    engines: list[str] = field(default_factory=list)  # contexts shown side by side (two or more)
    path: str = ""
    problem: str = ""  # why the file could not be read, shown once as a notification

    @classmethod
    def load(cls, path: str | None = None) -> Config:
        path = path or config_path()
        cfg = cls(path=path)
        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except FileNotFoundError:
            return cfg
        except (OSError, tomllib.TOMLDecodeError) as e:
            cfg.problem = f"Settings file {path} ignored: {e}"
            return cfg
        if isinstance(data.get("theme"), str):
            cfg.theme = data["theme"]
        if isinstance(data.get("confirm"), bool):
            cfg.confirm = data["confirm"]
        if isinstance(data.get("stop_timeout"), int):
            cfg.stop_timeout = data["stop_timeout"]
        engines = data.get("engines")
        if isinstance(engines, list) and all(isinstance(e, str) for e in engines):
            cfg.engines = list(dict.fromkeys(engines))
        keys = data.get("keys")
        if isinstance(keys, dict):
            cfg.keys = {str(k): str(v) for k, v in keys.items() if isinstance(v, str)}
        return cfg

    def dumps(self) -> str:
        out = [
            "# dockyard app settings (see docs/KEYS.md for the key ids)",
            f"theme = {_quote(self.theme)}",
            f"confirm = {'true' if self.confirm else 'false'}",
            f"stop_timeout = {int(self.stop_timeout)}",
        ]
        if self.engines:
            out.append("engines = [" + ", ".join(_quote(e) for e in self.engines) + "]")
        if self.keys:
            out += ["", "[keys]"]
            out += [f"{_quote(k)} = {_quote(v)}" for k, v in sorted(self.keys.items())]
        return "\n".join(out) + "\n"

    def save(self) -> None:
        """Write atomically (temp file + rename) so a crash never leaves half a file."""
        path = self.path or config_path()
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(self.dumps())
        os.replace(tmp, path)


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
