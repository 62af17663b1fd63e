"""Printing for the CLI: Docker-style aligned tables, ``--format json`` and simple Go-template formats."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any

# ``json`` and ``re`` are imported where templates and JSON are printed: each costs milliseconds, and
# ``start``, ``stop`` or ``rm`` print neither.


def _field() -> re.Pattern[str]:
    """``{{.Field}}`` or ``{{json .Field}}`` in a Go-style template (``re`` keeps the compiled pattern)."""
    import re

    return re.compile(r"\{\{\s*(json\s+)?\.([\w.]*)\s*\}\}")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], out: Any = None, minwidth: int = 0) -> None:
    """Columns padded like Docker's tabwriter: each column as wide as its widest cell plus three spaces, and
    at least ``minwidth``; the last cell of a line is not padded."""
    out = out or sys.stdout
    rows = [[str(c) for c in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    widths = [max(w + 3, minwidth) for w in widths]
    lines = []
    for r in [list(headers), *rows]:
        cells = [c.ljust(widths[i]) if i < len(r) - 1 else c for i, c in enumerate(r)]
        lines.append("".join(cells).rstrip())
    out.write("\n".join(lines) + "\n")


def render_template(fmt: str, obj: dict[str, Any]) -> str:
    import json

    fmt = fmt.replace("\\t", "\t").replace("\\n", "\n")

    def sub(m: re.Match[str]) -> str:
        as_json, field = m.group(1), m.group(2)
        value: Any = obj
        for part in filter(None, field.split(".")):  # .State.Pid walks into nested objects
            value = value.get(part, "") if isinstance(value, dict) else ""
        if as_json:
            return json.dumps(value)
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return str(value)

    return _field().sub(sub, fmt)


def emit(
    fmt: str | None,
    headers: Sequence[str],
    fields: Sequence[str],
    records: Sequence[dict[str, Any]],
    out: Any = None,
) -> None:
    """Print records as a table (default), JSON lines (``json``) or a template (``{{.ID}}\\t{{.Names}}``)."""
    out = out or sys.stdout
    if not fmt or fmt == "table":
        table(headers, [[r.get(f, "") for f in fields] for r in records], out)
    elif fmt == "json":
        import json

        for r in records:
            out.write(json.dumps(r) + "\n")
    elif fmt.startswith("table "):
        tmpl = fmt[6:]
        cols = [c for c in tmpl.replace("\\t", "\t").split("\t")]
        hdr = [_header_for(c, headers, fields) for c in cols]
        table(hdr, [[render_template(c, r) for c in cols] for r in records], out)
    else:
        for r in records:
            out.write(render_template(fmt, r) + "\n")


def _header_for(col: str, headers: Sequence[str], fields: Sequence[str]) -> str:
    m = _field().search(col)
    if not m:
        return col
    f = m.group(2)
    if f in fields:
        return headers[list(fields).index(f)]
    return "".join(f" {c}" if c.isupper() and i else c for i, c in enumerate(f)).upper()


def print_json(obj: Any, out: Any = None) -> None:
    import json

    (out or sys.stdout).write(json.dumps(obj, indent=4) + "\n")


def truncate(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def write_archive(path: str | None, write: Callable[[Any], None]) -> None:
    """``-o FILE`` (written to a temporary file and renamed into place: a failure leaves no half file) or
    standard output, which must not be a terminal (Docker's refusal)."""
    import os
    import tempfile

    if path:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".dockyard-")
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        return
    if sys.stdout.isatty():
        from engine import InvalidArgument

        raise InvalidArgument("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    write(sys.stdout.buffer)


def confirmed(force: bool, warning: str) -> bool:
    """Docker's prune prompt: ``WARNING! ...  Are you sure you want to continue? [y/N]``. Skipped with
    ``-f``, and when standard input is not a terminal (scripts, CI), as Docker does."""
    if force or not sys.stdin.isatty():
        return True
    sys.stderr.write(f"WARNING! {warning}\nAre you sure you want to continue? [y/N] ")
    sys.stderr.flush()
    try:
        return input().strip().lower() in ("y", "yes")
    except EOFError:
        return False


def for_each(names: Iterable[str], do: Callable[[str], None]) -> int:
    """Docker's way with several arguments: act on each, report each failure on stderr and carry on; the
    exit status is 1 if any failed. ``do`` prints its own output."""
    from engine import DockyardError

    status = 0
    for name in names:
        try:
            do(name)
        except DockyardError as e:
            sys.stderr.write(f"Error: {e}\n")
            status = 1
    return status


def inspect_each(names: Iterable[str], get: Callable[[str], dict[str, Any]], fmt: str | None) -> int:
    """``inspect`` of several objects: a JSON array of those found (or a template per object)."""
    docs: list[dict[str, Any]] = []
    status = for_each(names, lambda n: docs.append(get(n)))
    if fmt:
        for d in docs:
            print(render_template(fmt, d))
    else:
        print_json(docs)
    return status
