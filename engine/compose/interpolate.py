"""Compose's variable interpolation: ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
``${VAR:?error}``, ``${VAR?error}``, ``${VAR:+replacement}``, ``${VAR+replacement}`` and ``$$`` for a
literal ``$``. Defaults and replacements are interpolated too (``${A:-${B}}``)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


class InterpolationError(ValueError):
    """A malformed ``${...}`` or a ``${VAR?error}`` whose variable is unset; the loader adds where."""


def _is_name_char(c: str, first: bool) -> bool:
    return c == "_" or ("a" <= c.lower() <= "z") or (not first and c.isdigit())


def interpolate(text: str, env: Mapping[str, str], unset: Callable[[str], None] | None = None) -> str:
    """``text`` with its variables replaced from ``env``. ``unset(name)`` is called for each variable that
    is read without a default and is not set (Compose warns and substitutes an empty string)."""
    if "$" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c != "$":
            j = text.find("$", i)
            j = n if j < 0 else j
            out.append(text[i:j])
            i = j
            continue
        nxt = text[i + 1] if i + 1 < n else ""
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            end = _closing(text, i + 2)
            if end < 0:
                raise InterpolationError(f'invalid interpolation format: "{text}"')
            out.append(_braced(text[i + 2 : end], text, env, unset))
            i = end + 1
        elif nxt and _is_name_char(nxt, True):
            j = i + 1
            while j < n and _is_name_char(text[j], False):
                j += 1
            out.append(_lookup(text[i + 1 : j], env, unset))
            i = j
        else:
            # a lone "$" (at the end, before a space, a digit, ...) is kept, as Compose does
            out.append("$")
            i += 1
    return "".join(out)


def _closing(text: str, start: int) -> int:
    """The index of the ``}`` that closes the ``${`` opened just before ``start``, or -1."""
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _lookup(name: str, env: Mapping[str, str], unset: Callable[[str], None] | None) -> str:
    value = env.get(name)
    if value is None:
        if unset is not None:
            unset(name)
        return ""
    return value


def _braced(inner: str, whole: str, env: Mapping[str, str], unset: Callable[[str], None] | None) -> str:
    j = 0
    while j < len(inner) and _is_name_char(inner[j], j == 0):
        j += 1
    name, rest = inner[:j], inner[j:]
    if not name:
        raise InterpolationError(f'invalid interpolation format: "{whole}"')
    if not rest:
        return _lookup(name, env, unset)
    for op in (":-", ":?", ":+", "-", "?", "+"):
        if rest.startswith(op):
            arg = rest[len(op) :]
            break
    else:
        raise InterpolationError(f'invalid interpolation format: "{whole}"')
    value = env.get(name)
    empty_counts = op.startswith(":")
    missing = value is None or (empty_counts and value == "")
    kind = op[-1]
    if kind == "-":
        return interpolate(arg, env, unset) if missing else str(value)
    if kind == "+":
        return "" if missing else interpolate(arg, env, unset)
    if missing:
        message = interpolate(arg, env, unset)
        raise InterpolationError(
            f"required variable {name} is missing a value" + (f": {message}" if message else "")
        )
    return str(value)


def interpolate_tree(
    data: Any,
    env: Mapping[str, str],
    path: tuple[str | int, ...] = (),
    unset: Callable[[str], None] | None = None,
    on_error: Callable[[tuple[str | int, ...], str], Exception] | None = None,
) -> Any:
    """Every string value of a decoded YAML document interpolated (keys are not). A failure is turned into
    the exception ``on_error(path, message)`` gives, so the caller can say which file, line and key."""
    if isinstance(data, str):
        try:
            return interpolate(data, env, unset)
        except InterpolationError as e:
            if on_error is None:
                raise
            raise on_error(path, str(e)) from None
    if isinstance(data, dict):
        return {k: interpolate_tree(v, env, (*path, k), unset, on_error) for k, v in data.items()}
    if isinstance(data, list):
        return [interpolate_tree(v, env, (*path, i), unset, on_error) for i, v in enumerate(data)]
    return data
