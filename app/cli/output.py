"""Printing for the CLI: Docker-style aligned tables, ``--format json`` and Go templates (``--format``).

Templates are Go's text/template with Docker's functions (app/cli/gotemplate), loaded only when a command is
given one. A template that does not parse or fails while it runs prints Docker's message on stderr, nothing on
stdout, and the command exits with status 125.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any

    from .gotemplate import Template

# ``json`` and the template package are imported where templates and JSON are printed: each costs
# milliseconds, and ``start``, ``stop`` or ``rm`` print neither.


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


_COMPILED: dict[str, Template] = {}  # a command renders one template per row: parsed once per call


def _compiled(text: str) -> Template:
    """The parsed template (``\\t`` and ``\\n`` typed in the format are a tab and a newline, as Docker has
    them); a template that does not parse fails with Docker's message."""
    tmpl = _COMPILED.get(text)
    if tmpl is None:
        from .gotemplate import TemplateError, compile

        try:
            tmpl = compile(text.replace("\\t", "\t").replace("\\n", "\n"))
        except TemplateError as e:
            raise _failure(e) from None
        _COMPILED[text] = tmpl
    return tmpl


def _failure(e: Exception) -> Exception:
    from .formaterror import TemplateFailure

    return TemplateFailure(f"template parsing error: {e}")


def _execute(tmpl: Template, data: Any) -> str:
    from .gotemplate import TemplateError

    try:
        return tmpl.execute(data)
    except TemplateError as e:
        raise _failure(e) from None


def check_template(fmt: str) -> None:
    """Parse a ``--format`` template before the command starts its work (Docker's order)."""
    if fmt not in ("", "json", "table"):
        _compiled(fmt[5:].strip(" ") if fmt.startswith("table") else fmt)


def render_template(fmt: str, obj: dict[str, Any]) -> str:
    """One object through a ``--format`` template."""
    return _execute(_compiled(fmt), obj)


def _json_line(obj: Any) -> str:
    from .gotemplate.funcs import to_json

    return to_json(obj)


def _sorted_record(r: dict[str, Any]) -> dict[str, Any]:
    """A list row as Docker's formatter marshals it for ``{{json .}}``: keys in order, no methods."""
    return {k: r[k] for k in sorted(r) if not callable(r[k])}


def emit(
    fmt: str | None,
    headers: Sequence[str],
    fields: Sequence[str],
    records: Sequence[dict[str, Any]],
    out: Any = None,
) -> None:
    """Print records as a table (default), JSON lines (``json``), a template (``{{.ID}}\\t{{.Names}}``)
    or a table made by a template (``table {{.ID}}\\t{{.Names}}``: a header row of the columns' names, then
    the rows, aligned as Docker's tabwriter does). Nothing is printed unless every row renders."""
    out = out or sys.stdout
    if not fmt or fmt == "table":
        table(headers, [[_plain_cell(r.get(f, "")) for f in fields] for r in records], out)
        return
    if fmt == "json":
        out.write("".join(_json_line(_sorted_record(r)) + "\n" for r in records))
        return
    is_table = fmt.startswith("table")  # Docker's test: "tablexyz" is a table of "xyz"
    text = fmt[5:].strip(" ") if is_table else fmt
    tmpl = _compiled(text)
    rows = "".join(
        _execute(tmpl, {k: r[k] for k in sorted(r)}) + "\n" for r in records
    )  # {{json .}}: in order
    if not is_table:
        out.write(rows)
        return
    from .gotemplate.tabwriter import tabwrite

    out.write(tabwrite(_header_for(text, headers, fields, records) + "\n" + rows, minwidth=10, padding=3))


def _plain_cell(v: Any) -> Any:
    return "" if callable(v) else v


def _column_name(field: str) -> str:
    """A column's name in a header when the command does not name it: CreatedAt -> CREATED AT."""
    return "".join(
        f" {c}" if c.isupper() and i and not field[i - 1].isupper() else c for i, c in enumerate(field)
    ).upper()


def _header_record(
    headers: Sequence[str], fields: Sequence[str], records: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """What a table's header row is rendered from: each field's column name (the command's, else made from
    the field's name); a method (``.Label "k"``) gives its own name whatever its arguments."""
    names: dict[str, Any] = {}
    for r in records[:1]:
        for k, v in r.items():
            names[k] = _method_header(_column_name(k)) if callable(v) else _column_name(k)
    names.update(zip(fields, headers, strict=False))
    return names


def _method_header(name: str) -> Callable[..., str]:
    def header(*_: Any) -> str:
        return name

    return header


def _header_for(
    col: str, headers: Sequence[str], fields: Sequence[str], records: Sequence[dict[str, Any]] = ()
) -> str:
    """A ``table`` template's header row: the template rendered over the columns' names with Docker's
    header functions; what it wrote before a failure, as Docker prints it."""
    tmpl = _compiled(col)
    return tmpl.execute(_header_record(headers, fields, records), header=True, partial=True)


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
    """``inspect`` of several objects: a JSON array of those found, or a template per object. A template is
    parsed before any object is looked up; it is printed only if it renders for every object found."""
    tmpl = _compiled(fmt) if fmt and fmt != "json" else None
    docs: list[dict[str, Any]] = []
    status = for_each(names, lambda n: docs.append(get(n)))
    if tmpl is not None:
        text = "".join(_execute(tmpl, d) + "\n" for d in docs)
        sys.stdout.write(text)
    elif fmt == "json":  # Docker's compact array, with Go's HTML-safe escaping
        text = _json_line(docs).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        sys.stdout.write(text + "\n")
    else:
        print_json(docs)
    return status
