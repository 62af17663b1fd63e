"""Kubernetes quantities: memory in bytes (``64Mi``, ``1G``, ``1e3``) and CPUs (``500m``, ``1.5``)."""

from __future__ import annotations

from ..errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_BINARY = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60}
_DECIMAL = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "m": 10**-3}


def parse(value: Any) -> float:
    text = str(value).strip()
    for table in (_BINARY, _DECIMAL):
        for suffix, factor in table.items():
            if text.endswith(suffix) and text[: -len(suffix)]:
                try:
                    return float(text[: -len(suffix)]) * factor
                except ValueError:
                    break
    try:
        return float(text)
    except ValueError:
        raise InvalidArgument(f"quantities must match the regular expression: {text!r} is not one") from None


def memory_bytes(value: Any) -> int:
    return int(parse(value))


def cpus(value: Any) -> float:
    return parse(value)


def format_memory(n: int) -> str:
    for suffix in ("Gi", "Mi", "Ki"):
        if n and n % _BINARY[suffix] == 0:
            return f"{n // _BINARY[suffix]}{suffix}"
    return str(n)


def format_cpus(c: float) -> str:
    milli = round(c * 1000)
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"
