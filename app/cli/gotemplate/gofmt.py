"""Go's fmt for template values: ``print``/``printf``/``println`` and the way an action prints its value.

Values are Python's: None is Go's nil, a dict a map (printed with sorted keys, as Go does), a list a slice,
int, float, str and bool Go's int, float64, string and bool. ``MISSING`` is what Go calls an invalid value
(a key not in a map), printed as ``<no value>``.
"""

from __future__ import annotations

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class _Missing:
    """Go's zero reflect.Value: the result of a missing map key."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<no value>"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def go_type(v: Any) -> str:
    """The Go type of a value, as fmt's %T and the template's errors name it."""
    if v is None or v is MISSING:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (list, tuple)):
        return "[]string" if v and all(isinstance(x, str) for x in v) else "[]interface {}"
    if isinstance(v, dict):
        if v and all(isinstance(x, str) for x in v.values()):
            return "map[string]string"
        return "map[string]interface {}"
    if callable(v):
        return "func"
    return type(v).__name__


def sort_keys(d: dict[Any, Any]) -> list[Any]:
    """Go's order for a map's keys (fmtsort): numbers by value, strings by bytes, mixed kinds by kind."""

    def key(k: Any) -> tuple[int, Any]:
        if isinstance(k, bool):
            return (0, k)
        if isinstance(k, (int, float)):
            return (1, k)
        if isinstance(k, str):
            return (2, k.encode("utf-8", "surrogatepass"))
        return (3, str(k))

    try:
        return sorted(d, key=key)
    except TypeError:
        return list(d)


# -- numbers


def _shortest_digits(f: float) -> tuple[str, int]:
    """The shortest decimal digits that read back as ``f`` (abs), and the decimal point's place."""
    r = repr(abs(f))
    if "e" in r:
        mant, _, e = r.partition("e")
        exp = int(e)
    else:
        mant, exp = r, 0
    whole, _, frac = mant.partition(".")
    if frac == "0":
        frac = ""
    digits = (whole + frac).lstrip("0")
    point = len(whole) + exp
    if whole.strip("0") == "":  # 0.000123 -> digits 123, point -3
        stripped = frac.lstrip("0")
        point = exp - (len(frac) - len(stripped))
        digits = stripped
    digits = digits.rstrip("0") or "0"
    return digits, point


def _exp_text(e: int) -> str:
    return f"e{'-' if e < 0 else '+'}{abs(e):02d}"


def format_float(f: float, verb: str = "g", prec: int = -1) -> str:
    """strconv.FormatFloat(f, verb, prec, 64): shortest when prec is -1, Go's two-digit exponents."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, f) < 0 else ""
    if verb in "eE":
        if prec < 0:
            digits, point = _shortest_digits(f)
            if digits == "0":
                point = 1
            mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
            text = mant + _exp_text(point - 1)
        else:
            text = _fix_exp(f"{abs(f):.{prec}e}")
        return sign + (text.upper() if verb == "E" else text)
    if verb in "fF":
        if prec < 0:
            digits, point = _shortest_digits(f)
            if digits == "0":
                return sign + "0"
            if point <= 0:
                return sign + "0." + "0" * -point + digits
            if point >= len(digits):
                return sign + digits + "0" * (point - len(digits))
            return sign + digits[:point] + "." + digits[point:]
        return sign + f"{abs(f):.{prec}f}"
    # g / G
    if prec < 0:
        digits, point = _shortest_digits(f)
        exp = point - 1 if digits != "0" else 0
        if exp < -4 or exp >= 6:
            mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
            text = mant + _exp_text(exp)
        else:
            text = format_float(abs(f), "f", -1)
        return sign + (text.upper() if verb == "G" else text)
    text = _fix_exp(f"{abs(f):.{prec if prec else 1}g}")
    return sign + (text.upper() if verb == "G" else text)


def _fix_exp(text: str) -> str:
    """Python writes e+5 as e+05 already; make sure of two digits at least."""
    if "e" not in text:
        return text
    mant, _, e = text.partition("e")
    return mant + _exp_text(int(e))


# -- quoting


def quote(s: str, ascii_only: bool = False) -> str:
    """strconv.Quote (QuoteToASCII with ``ascii_only``)."""
    out = ['"']
    for c in s:
        o = ord(c)
        if c == '"' or c == "\\":
            out.append("\\" + c)
        elif c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\\ufffd" if ascii_only else "\ufffd")
        elif o < 0x80 and c.isprintable():
            out.append(c)
        elif not ascii_only and c.isprintable():
            out.append(c)
        elif o < 0x80:
            out.append(f"\\x{o:02x}")
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out)


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _quote_rune(r: int, ascii_only: bool = False) -> str:
    if r > 0x10FFFF or 0xD800 <= r <= 0xDFFF or r < 0:
        r = 0xFFFD
    c = chr(r)
    if c == "'":
        return "'\\''"
    if c == '"':
        return "'\"'"
    return "'" + quote(c, ascii_only)[1:-1] + "'"


# -- printing values


def to_text(v: Any) -> str:
    """A value as an action prints it (fmt's %v; ``<no value>`` for a missing one)."""
    if v is MISSING:
        return "<no value>"
    if isinstance(v, str):
        return v
    return format_value(v, "v", _Spec())


class _Spec:
    __slots__ = ("minus", "plus", "sharp", "space", "zero", "width", "prec")

    def __init__(self) -> None:
        self.minus = self.plus = self.sharp = self.space = self.zero = False
        self.width: int | None = None
        self.prec: int | None = None


def _pad(s: str, spec: _Spec, zero_ok: bool = True) -> str:
    if spec.width is None or len(s) >= spec.width:
        return s
    fill = spec.width - len(s)
    if spec.minus:
        return s + " " * fill
    if spec.zero and zero_ok:
        if s[:1] in "+-":
            return s[0] + "0" * fill + s[1:]
        return "0" * fill + s
    return " " * fill + s


def _bad(verb: str, v: Any) -> str:
    if v is None or v is MISSING:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({go_type(v)}={format_value(v, 'v', _Spec())})"


def format_value(v: Any, verb: str, spec: _Spec) -> str:
    """One operand of Sprintf, padded: Go's printArg/printValue for the kinds template data has."""
    if verb == "T":
        return _pad(go_type(v), spec, False)
    if v is None or v is MISSING:
        if verb == "v":
            return _pad("<nil>", spec, False)
        return _bad(verb, v)
    if isinstance(v, bool):
        if verb in "vt":
            return _pad("true" if v else "false", spec, False)
        return _bad(verb, v)
    if isinstance(v, int):
        return _format_int(v, verb, spec)
    if isinstance(v, float):
        return _format_float_verb(v, verb, spec)
    if isinstance(v, str):
        return _format_str(v, verb, spec)
    if isinstance(v, (list, tuple)):
        inner = _Spec()
        inner.plus, inner.sharp, inner.space, inner.zero = spec.plus, spec.sharp, spec.space, spec.zero
        inner.width, inner.prec, inner.minus = spec.width, spec.prec, spec.minus
        return "[" + " ".join(format_value(x, verb, inner) for x in v) + "]"
    if isinstance(v, dict):
        parts = [f"{format_value(k, verb, spec)}:{format_value(v[k], verb, spec)}" for k in sort_keys(v)]
        return "map[" + " ".join(parts) + "]"
    if callable(v):
        if verb in "vp":
            return _pad(f"0x{id(v):x}", spec, False)
        return _bad(verb, v)
    return _format_str(str(v), verb, spec)


def _format_int(n: int, verb: str, spec: _Spec) -> str:
    if verb in "vd":
        body = str(abs(n))
    elif verb == "b":
        body = format(abs(n), "b")
    elif verb == "o":
        body = format(abs(n), "o")
        if spec.sharp and body != "0":
            body = "0" + body
    elif verb == "O":
        body = "0o" + format(abs(n), "o")
    elif verb in "xX":
        body = format(abs(n), verb)
        if spec.sharp:
            body = ("0x" if verb == "x" else "0X") + body
    elif verb == "c":
        return _pad(chr(n) if 0 <= n <= 0x10FFFF and not 0xD800 <= n <= 0xDFFF else "\ufffd", spec, False)
    elif verb == "q":
        return _pad(_quote_rune(n, spec.plus), spec, False)
    elif verb == "U":
        text = f"U+{n:04X}" if n >= 0 else f"U+{n & 0xFFFFFFFFFFFFFFFF:X}"
        if spec.sharp and 0 <= n <= 0x10FFFF and chr(n).isprintable():
            text += f" '{chr(n)}'"
        return _pad(text, spec, False)
    elif verb in "eEfFgG":
        return _bad(verb, n)
    else:
        return _bad(verb, n)
    if spec.prec is not None:
        if spec.prec == 0 and n == 0:
            body = ""
        else:
            digits = body.lstrip("0xXob") if verb in "xXob" and spec.sharp else body
            prefix = body[: len(body) - len(digits)]
            body = prefix + digits.rjust(spec.prec, "0")
    sign = "-" if n < 0 else ("+" if spec.plus else (" " if spec.space else ""))
    text = sign + body
    if spec.zero and spec.prec is None and not spec.minus and spec.width and len(text) < spec.width:
        return sign + body.rjust(spec.width - len(sign), "0")
    return _pad(text, spec, False)


def _format_float_verb(f: float, verb: str, spec: _Spec) -> str:
    if verb not in "vbeEfFgGxX":
        return _bad(verb, f)
    v = "g" if verb == "v" else verb
    if v in "xXb":
        text = f.hex() if v != "b" else format_float(f, "e", -1)
    else:
        default = 6 if v in "eEfF" else -1
        text = format_float(f, v, default if spec.prec is None else spec.prec)
    if spec.sharp and "." not in text and v in "eEfFgG" and not math.isinf(f) and not math.isnan(f):
        m, e, rest = text.partition("e" if "e" in text else "E")
        text = m + "." + (e + rest if e else "")
    if text[0] not in "+-":
        if spec.plus:
            text = "+" + text
        elif spec.space:
            text = " " + text
    if math.isinf(f) or math.isnan(f):
        if text.startswith("+") and not spec.plus:
            text = text[1:]
        return _pad(text, spec, False)
    if spec.zero and not spec.minus and spec.width and len(text) < spec.width:
        sign = text[0] if text[0] in "+- " else ""
        return sign + text[len(sign) :].rjust(spec.width - len(sign), "0")
    return _pad(text, spec, False)


def _format_str(s: str, verb: str, spec: _Spec) -> str:
    if spec.prec is not None and verb in "vsq":
        s = s[: spec.prec]
    if verb == "v" and spec.sharp:
        return _pad(quote(s), spec)
    if verb in "vs":
        return _pad(s, spec)
    if verb == "q":
        if spec.sharp and "`" not in s and all(c == "\t" or c.isprintable() for c in s):
            return _pad("`" + s + "`", spec)
        return _pad(quote(s, spec.plus), spec)
    if verb in "xX":
        data = s.encode("utf-8", "replace")
        if spec.prec is not None:
            data = data[: spec.prec]
        hexed = [format(b, "02x" if verb == "x" else "02X") for b in data]
        if spec.sharp:
            hexed = [("0x" if verb == "x" else "0X") + h for h in hexed]
            return _pad((" " if spec.space else "").join(hexed), spec)
        return _pad((" " if spec.space else "").join(hexed), spec)
    return _bad(verb, s)


# -- Sprint, Sprintln, Sprintf


def sprint(args: list[Any]) -> str:
    """fmt.Sprint: a space between operands when neither is a string."""
    out = []
    for i, a in enumerate(args):
        if i > 0 and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(to_text(a) if a is not None else "<nil>")
    return "".join(out)


def sprintln(args: list[Any]) -> str:
    return " ".join(to_text(a) if a is not None else "<nil>" for a in args) + "\n"


def sprintf(fmt: str, args: list[Any]) -> str:
    """fmt.Sprintf with Go's flags, width, precision, ``*`` and ``[n]`` argument indexes, and its
    ``%!verb(...)`` notes for a missing, extra or ill-typed operand."""
    out: list[str] = []
    argn = 0
    reordered = False
    i, n = 0, len(fmt)
    while i < n:
        j = fmt.find("%", i)
        if j < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:j])
        i = j + 1
        spec = _Spec()
        while i < n and fmt[i] in "+-# 0":
            c = fmt[i]
            if c == "+":
                spec.plus = True
            elif c == "-":
                spec.minus = True
                spec.zero = False
            elif c == "#":
                spec.sharp = True
            elif c == " ":
                spec.space = True
            elif c == "0":
                spec.zero = not spec.minus
            i += 1
        # argument index, width
        i, argn, reordered, ok = _arg_index(fmt, i, argn, len(args), reordered)
        if i < n and fmt[i] == "*":
            i += 1
            if argn < len(args) and isinstance(args[argn], int) and not isinstance(args[argn], bool):
                spec.width = args[argn]
                if abs(spec.width) > _TOO_LARGE:
                    out.append("%!(BADWIDTH)")
                    spec.width = 0
                if spec.width < 0:
                    spec.minus, spec.width = True, -spec.width
                    spec.zero = False
            else:
                out.append("%!(BADWIDTH)")
            argn += 1
            reordered = False
        else:
            start = i
            while i < n and fmt[i].isdigit() and fmt[i] < "\x80":
                i += 1
            if i > start:
                spec.width = int(fmt[start:i])
                if spec.width > _TOO_LARGE:
                    out.append("%!(BADWIDTH)")
                    spec.width = None
        if i < n and fmt[i] == ".":
            i += 1
            i, argn, reordered, ok = _arg_index(fmt, i, argn, len(args), reordered)
            if i < n and fmt[i] == "*":
                i += 1
                if argn < len(args) and isinstance(args[argn], int) and not isinstance(args[argn], bool):
                    spec.prec = args[argn]
                    if spec.prec > _TOO_LARGE:
                        out.append("%!(BADPREC)")
                    if spec.prec < 0 or spec.prec > _TOO_LARGE:
                        spec.prec = None
                else:
                    out.append("%!(BADPREC)")
                argn += 1
                reordered = False
            else:
                start = i
                while i < n and fmt[i].isdigit() and fmt[i] < "\x80":
                    i += 1
                spec.prec = int(fmt[start:i]) if i > start else 0
                if spec.prec > _TOO_LARGE:
                    out.append("%!(BADPREC)")
                    spec.prec = None
        if not reordered:
            i, argn, reordered, ok = _arg_index(fmt, i, argn, len(args), reordered)
        if i >= n:
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            out.append("%")
            continue
        if not ok:
            out.append(f"%!{verb}(BADINDEX)")
            continue
        if argn >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[argn]
        argn += 1
        if verb == "w":
            verb = "v"
        out.append(format_value(arg, verb, spec))
    if not reordered and argn < len(args):
        extra = ", ".join("<nil>" if a is None else f"{go_type(a)}={to_text(a)}" for a in args[argn:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


_TOO_LARGE = 1_000_000  # Go's fmt refuses widths and precisions beyond a million


def _arg_index(fmt: str, i: int, argn: int, nargs: int, reordered: bool) -> tuple[int, int, bool, bool]:
    """``[n]`` before a width, precision or verb: use operand n (1-based) next."""
    if i >= len(fmt) or fmt[i] != "[":
        return i, argn, reordered, True
    close = fmt.find("]", i)
    if close < 0:
        return i + 1, argn, True, False
    text = fmt[i + 1 : close]
    if not text.isdigit() or not text.isascii() or not 0 < int(text) <= nargs:
        return close + 1, argn, True, False
    return close + 1, int(text) - 1, True, True
