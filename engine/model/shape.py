"""Is a decoded state file shaped like the record it should hold? Checked before a record is made from it.

A record file that is valid JSON can still be damage: a flipped byte turns ``"tty": false`` into
``"tty": 0``, a truncation inside a list leaves a list of the wrong things. ``check`` reads the record's own
field annotations (``str``, ``int``, ``bool``, ``float``, ``list[...]``, ``dict[...]``, ``X | None``,
another record) and says what does not fit, so a damaged file becomes one clear error naming the field
instead of a ``TypeError`` deep inside whoever used the value. Unknown keys are ignored (older and newer
versions of a record read each other); missing keys take the field's default, and a field without one is
required.
"""

from __future__ import annotations

from engine.lean.record import fields

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_SCALARS: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "Any": (object,),
    "object": (object,),
}


def _annotations(cls: type) -> dict[str, str]:
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        out.update(getattr(klass, "__annotations__", {}))
    return out


def _fits(value: Any, annotation: str, records: dict[str, type]) -> str | None:
    """None when ``value`` fits ``annotation``, else what is wrong."""
    options = [a.strip() for a in _split_union(annotation)]
    if value is None:
        return None if "None" in options or "Any" in options else "null where a value is required"
    problems = []
    for option in options:
        if option == "None":
            continue
        problem = _fits_one(value, option, records)
        if problem is None:
            return None
        problems.append(problem)
    return problems[0] if problems else "unexpected value"


def _split_union(annotation: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(annotation):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(annotation[start:i])
            start = i + 1
    parts.append(annotation[start:])
    return parts


def _fits_one(value: Any, annotation: str, records: dict[str, type]) -> str | None:
    if annotation in _SCALARS:
        kinds = _SCALARS[annotation]
        if annotation in ("int", "float") and isinstance(value, bool):
            return f"{type(value).__name__} where {annotation} is expected"
        return None if isinstance(value, kinds) else f"{_kind(value)} where {annotation} is expected"
    head, _, inner = annotation.partition("[")
    inner = inner[:-1] if inner.endswith("]") else inner
    if head in ("list", "tuple"):
        if not isinstance(value, list):
            return f"{_kind(value)} where a list is expected"
        for i, item in enumerate(value):
            problem = _fits(item, inner, records) if inner else None
            if problem:
                return f"item {i}: {problem}"
        return None
    if head == "dict":
        if not isinstance(value, dict):
            return f"{_kind(value)} where an object is expected"
        value_type = _split_top(inner)[1] if inner else "Any"
        for k, v in value.items():
            problem = _fits(v, value_type, records)
            if problem:
                return f"{k!r}: {problem}"
        return None
    if annotation in records:
        return problems_of(records[annotation], value, records)
    return None  # a type this checker does not know: taken as it is


def _split_top(inner: str) -> tuple[str, str]:
    depth = 0
    for i, ch in enumerate(inner):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "," and depth == 0:
            return inner[:i].strip(), inner[i + 1 :].strip()
    return inner.strip(), "Any"


def _kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


def problems_of(cls: type, d: Any, records: dict[str, type] | None = None) -> str | None:
    """What makes ``d`` unfit to be a ``cls`` (None when it fits). ``records`` names the record classes
    fields may hold (``{"RestartPolicy": RestartPolicy}``)."""
    if not isinstance(d, dict):
        return f"{_kind(d)} where an object is expected"
    for name, required, annotation, kinds in _plan(cls):
        if name not in d:
            if required:
                return f"{name!r} is missing"
            continue
        value = d[name]
        # The common cases at once: a plain value of a scalar field, a list of strings, a dict of strings.
        if kinds is not None and type(value) in kinds:
            continue
        if annotation == "list[str]" and type(value) is list and all(type(v) is str for v in value):
            continue
        if (
            annotation == "dict[str, str]"
            and type(value) is dict
            and all(type(v) is str for v in value.values())
        ):
            continue
        problem = _fits(value, annotation, records or {})
        if problem:
            return f"{name!r}: {problem}"
    return None


_PLANS: dict[type, list[tuple[str, bool, str, tuple[type, ...] | None]]] = {}


def _plan(cls: type) -> list[tuple[str, bool, str, tuple[type, ...] | None]]:
    """Per field of ``cls``: its name, whether it is required, its annotation and, for a scalar field, the
    exact types that fit it at once (worked out once per class)."""
    plan = _PLANS.get(cls)
    if plan is None:
        annotations = _annotations(cls)
        missing = _missing()
        plan = []
        for f in fields(cls):
            annotation = annotations.get(f.name, "Any")
            options = [a.strip() for a in _split_union(annotation)]
            fast: tuple[type, ...] | None = None
            if all(o in ("str", "int", "bool", "None") for o in options):
                fast = tuple({"str": str, "int": int, "bool": bool, "None": type(None)}[o] for o in options)
            plan.append((f.name, f.default is missing and f.factory is None, annotation, fast))
        _PLANS[cls] = plan
    return plan


def _missing() -> object:
    from engine.lean import record as _record

    return _record._MISSING


def check(cls: type, d: Any, records: dict[str, type] | None = None) -> None:
    """Raise ValueError saying what is wrong when ``d`` does not fit ``cls``."""
    problem = problems_of(cls, d, records)
    if problem:
        raise ValueError(problem)
