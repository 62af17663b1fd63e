"""The functions a template can call: Go's builtins and the ones Docker's CLI adds (cli/templates).

Each function is described by a ``Func``: its parameters' Go types (``value`` is Go's reflect.Value: any
value, a missing one included; ``any`` is interface{}; ``string``, ``int``, ``[]string``), whether the last
one is variadic, and whether a Go error may come back (raised here as ``FuncError``).
"""

from __future__ import annotations

from .gofmt import MISSING, go_type, sort_keys, sprint, sprintf, sprintln, to_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class FuncError(Exception):
    """A function's error result: the executor reports ``error calling NAME: MESSAGE``."""


class Func:
    __slots__ = ("fn", "params", "variadic", "builtin")

    def __init__(self, fn: Callable[..., Any], params: tuple[str, ...], variadic: bool = False) -> None:
        self.fn = fn
        self.params = params
        self.variadic = variadic
        self.builtin = True


# -- truth and comparison


def is_true(v: Any) -> tuple[bool, bool]:
    """Go's isTrue: (truth, whether the value has a truth at all)."""
    if v is MISSING or v is None:
        return False, True
    if isinstance(v, (bool, int, float, complex, str, list, tuple, dict)):
        return bool(v), True
    if callable(v):
        return True, True
    return True, True


def truth(v: Any) -> bool:
    return is_true(v)[0]


def _basic_kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, complex):
        return "complex"
    if isinstance(v, str):
        return "string"
    return "invalid"


def _valid(v: Any) -> bool:
    return v is not MISSING and v is not None


def _comparable(v: Any) -> bool:
    return not isinstance(v, (list, tuple, dict)) and not callable(v)


def eq(arg1: Any, *rest: Any) -> bool:
    if not rest:
        raise FuncError("missing argument for comparison")
    k1 = _basic_kind(arg1)
    for arg in rest:
        k2 = _basic_kind(arg)
        if k1 != k2:
            if _valid(arg1) and _valid(arg):
                raise FuncError("incompatible types for comparison")
            t = False
        elif k1 != "invalid":
            t = arg1 == arg
        else:
            n1, n2 = not _valid(arg1), not _valid(arg)
            if n1 or n2:
                t = n1 == n2
            elif type(arg1) is not type(arg) and not (
                isinstance(arg1, (list, tuple)) and isinstance(arg, (list, tuple))
            ):
                raise FuncError(
                    f"non-comparable types {to_text(arg1)}: {go_type(arg1)}, {to_text(arg)}: {go_type(arg)}"
                )
            elif not _comparable(arg):
                raise FuncError(f"non-comparable type {to_text(arg)}: {go_type(arg)}")
            else:
                t = arg1 is arg
        if t:
            return True
    return False


def ne(arg1: Any, arg2: Any) -> bool:
    return not eq(arg1, arg2)


def lt(arg1: Any, arg2: Any) -> bool:
    k1, k2 = _basic_kind(arg1), _basic_kind(arg2)
    if k1 == "invalid" or k2 == "invalid":
        raise FuncError("invalid type for comparison")
    if k1 != k2:
        raise FuncError("incompatible types for comparison")
    if k1 in ("bool", "complex"):
        raise FuncError("invalid type for comparison")
    return bool(arg1 < arg2)


def le(arg1: Any, arg2: Any) -> bool:
    return lt(arg1, arg2) or eq(arg1, arg2)


def gt(arg1: Any, arg2: Any) -> bool:
    return not le(arg1, arg2)


def ge(arg1: Any, arg2: Any) -> bool:
    return not lt(arg1, arg2)


def not_(arg: Any) -> bool:
    return not truth(arg)


# -- containers


def length(item: Any) -> int:
    if item is MISSING:
        raise FuncError("reflect: call of reflect.Value.Type on zero Value")
    if item is None:
        raise FuncError("len of nil pointer")
    if isinstance(item, str):
        return len(item.encode("utf-8", "surrogatepass"))
    if isinstance(item, (list, tuple, dict)):
        return len(item)
    raise FuncError(f"len of type {go_type(item)}")


def _index_arg(index: Any, cap: int) -> int:
    if index is MISSING or index is None:
        raise FuncError("cannot index slice/array with nil")
    if isinstance(index, bool) or not isinstance(index, int):
        raise FuncError(f"cannot index slice/array with type {go_type(index)}")
    if index < 0 or index > cap:
        raise FuncError(f"index out of range: {index}")
    return index


def index(item: Any, *indexes: Any) -> Any:
    if item is MISSING or item is None:
        raise FuncError("index of untyped nil")
    for ix in indexes:
        if item is None or item is MISSING:
            raise FuncError("index of nil pointer")
        if isinstance(item, (list, tuple, str)):
            seq: Any = item.encode("utf-8", "surrogatepass") if isinstance(item, str) else item
            x = _index_arg(ix, len(seq))
            if x == len(seq):
                raise FuncError(f"index out of range: {x}")
            item = seq[x]
        elif isinstance(item, dict):
            if ix is MISSING or ix is None:
                raise FuncError("value is nil; should be of type string")
            if not isinstance(ix, str):
                raise FuncError(f"value has type {go_type(ix)}; should be string")
            if ix in item:
                item = item[ix]
            else:
                # the zero value of the map's element type: "" for string maps (labels, options)
                item = "" if all(isinstance(v, str) for v in item.values()) else None
        else:
            raise FuncError(f"can't index item of type {go_type(item)}")
    return item


def slice_(item: Any, *indexes: Any) -> Any:
    if item is MISSING or item is None:
        raise FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise FuncError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise FuncError("cannot 3-index slice a string")
        seq: Any = item.encode("utf-8", "surrogatepass")
    elif isinstance(item, (list, tuple)):
        seq = item
    else:
        raise FuncError(f"can't slice item of type {go_type(item)}")
    idx = [0, len(seq), len(seq)]
    for i, ix in enumerate(indexes):
        idx[i] = _index_arg(ix, len(seq))
    if idx[0] > idx[1]:
        raise FuncError(f"invalid slice index: {idx[0]} > {idx[1]}")
    if len(indexes) == 3 and idx[1] > idx[2]:
        raise FuncError(f"invalid slice index: {idx[1]} > {idx[2]}")
    part = seq[idx[0] : idx[1]]
    if isinstance(item, str):
        return part.decode("utf-8", "replace")
    return list(part)


# -- escaping


def _eval_args(args: tuple[Any, ...]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(["<no value>" if a is None or a is MISSING else a for a in args])


def html(*args: Any) -> str:
    s = _eval_args(args)
    out = []
    for c in s:
        out.append(_HTML.get(c, c))
    return "".join(out)


_HTML = {"&": "&amp;", "'": "&#39;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "\0": "\ufffd"}


def js(*args: Any) -> str:
    s = _eval_args(args)
    out = []
    for c in s:
        if c in _JS:
            out.append(_JS[c])
        elif c < " ":
            out.append(f"\\u00{ord(c):02X}")
        elif c >= "\x80" and not c.isprintable():
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return "".join(out)


_JS = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "<": "\\u003C",
    ">": "\\u003E",
    "&": "\\u0026",
    "=": "\\u003D",
}


def urlquery(*args: Any) -> str:
    s = _eval_args(args)
    out = []
    for b in s.encode("utf-8", "replace"):
        c = chr(b)
        if c.isascii() and (c.isalnum() or c in "-_.~"):
            out.append(c)
        elif c == " ":
            out.append("+")
        else:
            out.append(f"%{b:02X}")
    return "".join(out)


# -- Docker's functions


def to_json(v: Any) -> str:
    """Docker's ``json``: Go's encoding/json without HTML escaping, compact, no newline."""
    try:
        return _json(v)
    except ValueError:
        return ""  # Go's encoder writes nothing for NaN or Inf; Docker prints what it wrote


def _json(v: Any) -> str:
    import json

    if v is None or v is MISSING:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _json_float(v)
    if isinstance(v, str):
        if any("\ud800" <= c <= "\udfff" for c in v):
            v = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in v)
        return json.dumps(v, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_json(x) for x in v) + "]"
    if isinstance(v, dict):
        parts = [f"{_json(str(k))}:{_json(x)}" for k, x in v.items() if not callable(x)]
        return "{" + ",".join(parts) + "}"
    if callable(v):
        raise ValueError("json: unsupported type")
    return _json(str(v))


def _json_float(f: float) -> str:
    import math

    from .gofmt import format_float

    if math.isnan(f) or math.isinf(f):
        raise ValueError("json: unsupported value")
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        text = format_float(f, "e", -1)
        if text[-4:-2] == "e-" and text[-2] == "0":
            text = text[:-2] + text[-1]
        return text
    return format_float(f, "f", -1)


def split(s: str, sep: str) -> list[str]:
    if sep == "":
        return list(s)
    return s.split(sep)


def join(elems: list[str], sep: str) -> str:
    return sep.join(elems)


def _one(c: str, up: str) -> str:
    return up if len(up) == 1 else c


def title(s: str) -> str:
    out = []
    prev = " "
    for c in s:
        out.append(_one(c, c.title()) if _is_separator(prev) else c)
        prev = c
    return "".join(out)


def _is_separator(c: str) -> bool:
    if c <= "\x7f":
        return not (c.isalnum() or c == "_")
    if c.isalpha() or c.isdecimal():
        return False
    return c.isspace()


def lower(s: str) -> str:
    return "".join(_one(c, c.lower()) for c in s)


def upper(s: str) -> str:
    return "".join(_one(c, c.upper()) for c in s)


def pad(source: str, prefix: int, suffix: int) -> str:
    if source == "":
        return source
    if prefix < 0 or suffix < 0:
        raise FuncError("strings: negative Repeat count")
    if prefix + suffix > _MAX_PAD:
        raise FuncError("strings: Repeat output length overflow")
    return " " * prefix + source + " " * suffix


_MAX_PAD = 1 << 24  # more would exhaust memory long before Go's own overflow check


def truncate(source: str, n: int) -> str:
    data = source.encode("utf-8", "surrogatepass")
    if len(data) < n:
        return source
    if n < 0:
        raise FuncError(f"runtime error: slice bounds out of range [:{n}]")
    return data[:n].decode("utf-8", "replace")


def _printf(fmt: str, *args: Any) -> str:
    return sprintf(fmt, list(args))


def _print(*args: Any) -> str:
    return sprint(list(args))


def _println(*args: Any) -> str:
    return sprintln(list(args))


def _and(*_: Any) -> Any:  # and/or short-circuit: the executor evaluates them; the entry gives the arity
    raise AssertionError("and is evaluated by the executor")


def _call(fn: Any, *args: Any) -> Any:
    raise AssertionError("call is evaluated by the executor")


BUILTINS: dict[str, Func] = {
    "and": Func(_and, ("value", "value"), True),
    "call": Func(_call, ("value", "value"), True),
    "html": Func(html, ("any",), True),
    "index": Func(index, ("value", "value"), True),
    "slice": Func(slice_, ("value", "value"), True),
    "js": Func(js, ("any",), True),
    "len": Func(length, ("value",)),
    "not": Func(not_, ("value",)),
    "or": Func(_and, ("value", "value"), True),
    "print": Func(_print, ("any",), True),
    "printf": Func(_printf, ("string", "any"), True),
    "println": Func(_println, ("any",), True),
    "urlquery": Func(urlquery, ("any",), True),
    "eq": Func(eq, ("value", "value"), True),
    "ge": Func(ge, ("value", "value")),
    "gt": Func(gt, ("value", "value")),
    "le": Func(le, ("value", "value")),
    "lt": Func(lt, ("value", "value")),
    "ne": Func(ne, ("value", "value")),
}

DOCKER: dict[str, Func] = {
    "json": Func(to_json, ("any",)),
    "split": Func(split, ("string", "string")),
    "join": Func(join, ("[]string", "string")),
    "title": Func(title, ("string",)),
    "lower": Func(lower, ("string",)),
    "upper": Func(upper, ("string",)),
    "pad": Func(pad, ("string", "int", "int")),
    "truncate": Func(truncate, ("string", "int")),
}


def _same(v: str, *_: Any) -> str:
    return v


# What a table's header row is made with: Docker's HeaderFunctions keep the column's name as it is.
HEADER: dict[str, Func] = {
    **DOCKER,
    "json": Func(_same, ("string",)),
    "split": Func(_same, ("string", "string")),
    "join": Func(_same, ("string", "string")),
    "title": Func(_same, ("string",)),
    "lower": Func(_same, ("string",)),
    "upper": Func(_same, ("string",)),
    "truncate": Func(_same, ("string", "int")),
}

ALL_NAMES = frozenset(BUILTINS) | frozenset(DOCKER)

__all__ = ["BUILTINS", "DOCKER", "HEADER", "Func", "FuncError", "is_true", "sort_keys", "truth"]
