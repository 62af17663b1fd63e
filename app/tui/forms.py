"""Parsing what people type into the dialogs: sizes (``512m``), lists (``a=1, b=2``), commands (shell words)."""

from __future__ import annotations

import re
import shlex

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_FACTORS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


class FormError(ValueError):
    """A field holds something that cannot be used; the message names the field."""


def parse_size(text: str, field: str = "size") -> int | None:
    """``512m`` -> 536870912 (Docker's binary units); empty -> None."""
    if not text.strip():
        return None
    m = _SIZE.match(text)
    if not m:
        raise FormError(f"{field}: “{text}” is not a size (examples: 512m, 1g, 65536)")
    return int(float(m.group(1)) * _FACTORS[m.group(2).lower()])


def parse_float(text: str, field: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise FormError(f"{field}: “{text}” is not a number") from None
    if value <= 0:
        raise FormError(f"{field}: must be more than 0")
    return value


def split_list(text: str) -> list[str]:
    """Items separated by commas or spaces, shell quoting respected: ``A=1, "B=two words"``."""
    try:
        words = shlex.split(text.replace(",", " "))
    except ValueError as e:
        raise FormError(f"cannot read “{text}”: {e}") from None
    return [w for w in words if w]


def parse_command(text: str) -> list[str] | None:
    if not text.strip():
        return None
    try:
        return shlex.split(text)
    except ValueError as e:
        raise FormError(f"command: {e}") from None


def parse_env(text: str) -> list[str]:
    items = split_list(text)
    for item in items:
        if "=" not in item or item.startswith("="):
            raise FormError(f"environment: “{item}” should be NAME=value")
    return items


def parse_build_args(text: str) -> dict[str, str]:
    out = {}
    for item in split_list(text):
        name, sep, value = item.partition("=")
        if not name:
            raise FormError(f"build arguments: “{item}” should be NAME=value")
        out[name] = value if sep else ""
    return out
