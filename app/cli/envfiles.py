"""The environment a command line gives a container: ``--env-file`` files and ``-e`` values, read as Docker's
CLI reads them (``run``, ``create``, ``exec``)."""

from __future__ import annotations

import os


def read_env_files(paths: list[str]) -> list[str]:
    """The variables of Docker's ``--env-file`` files: ``NAME=value`` lines, ``#`` comments and blank lines
    skipped, a bare ``NAME`` taking the caller's value (or nothing when the caller has none)."""
    from engine import InvalidArgument

    out = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise InvalidArgument(f"open {path}: {(e.strerror or str(e)).lower()}") from None
        lines = []
        for n, raw in enumerate(data.splitlines(), 1):
            try:
                lines.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise InvalidArgument(f"env file {path} contains invalid utf8 bytes at line {n}") from None
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if "=" not in line:
                line = f"{line}={os.environ.get(line, '')}" if line in os.environ else ""
                if not line:
                    continue
            out.append(line)
    return out


def env_values(values: list[str]) -> list[str]:
    """``-e`` values: ``NAME=value`` as given, a bare ``NAME`` with the caller's value (or none)."""
    out = []
    for v in values:
        if "=" not in v:
            if v in os.environ:
                out.append(f"{v}={os.environ[v]}")
            continue
        out.append(v)
    return out
