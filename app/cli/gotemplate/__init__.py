"""Go's text/template, with the functions Docker's CLI adds, for ``--format``.

``compile(text)`` parses a template once (a ``TemplateError`` with Go's message if it does not parse);
``Template.execute(data)`` renders it over Python data (dicts as Go maps, lists as slices, callables found
as fields as methods). Nothing here is imported unless a command is given a template.
"""

from __future__ import annotations

from .errors import TemplateError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .parse import Tree


class Template:
    def __init__(self, text: str, trees: dict[str, Tree], name: str) -> None:
        self.text = text
        self.trees = trees
        self.name = name

    def execute(self, data: Any, header: bool = False, partial: bool = False) -> str:
        """The text for ``data``. With ``header``, Docker's header functions (json, upper, split...
        leave a column's name as it is) stand in for Docker's own, as for a table's header row. With
        ``partial``, a failure gives what was written before it instead of raising (Docker's header row)."""
        from . import execute, funcs

        table = {**funcs.BUILTINS, **(funcs.HEADER if header else funcs.DOCKER)}
        out: list[str] = []
        try:
            execute.execute(self.trees, table, self.name, data, out)
        except TemplateError:
            if not partial:
                raise
        return "".join(out)


def compile(text: str, name: str = "") -> Template:  # noqa: A001 - the package's one entry point
    from . import funcs, parse

    try:
        trees = parse.parse(text, funcs.ALL_NAMES, name)
    except RecursionError:
        raise TemplateError(f"template: {name}:1: max expression depth exceeded") from None
    return Template(text, trees, name)


__all__ = ["Template", "TemplateError", "compile"]
