"""Entry names made safe: cleaned lexically (a leading ``/`` dropped, a ``..`` that climbs out refused) and
the small helpers that open what they name through /proc file descriptors."""

from __future__ import annotations

import os

O_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

# --------------------------------------------------------------------------------------------------------
# Paths


class Escape(Exception):
    pass


def clean_name(name: str) -> str:
    """``name`` as a relative path without ``.``, ``..`` or empty parts; "" for the root.

    A leading ``/`` is dropped (the path is taken inside the destination); a ``..`` climbing above the
    root raises Escape.
    """
    if "\0" in name:
        raise Escape
    parts: list[str] = []
    for part in name.split("/"):
        if part == "" or part == ".":
            continue
        if part == "..":
            if not parts:
                raise Escape
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def proc_path(fd: int, name: str | None = None) -> str:
    return f"/proc/self/fd/{fd}" if name is None else f"/proc/self/fd/{fd}/{name}"


def list_dir(dfd: int) -> list[str]:
    """The names in the directory ``dfd`` (an O_PATH descriptor is fine)."""
    fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=dfd)
    try:
        return os.listdir(fd)
    finally:
        os.close(fd)


def join_name(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name
