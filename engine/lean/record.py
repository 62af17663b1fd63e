"""Plain data records: typed fields, an ``__init__``, equality and a repr, and nothing else.

The engine's records are declared as with dataclasses::

    @record
    class RestartPolicy:
        name: str = "no"
        max_retries: int = 0

but ``dataclasses`` costs every command line call ~6 ms to import (it loads ``inspect``) and ~0.5 ms per
class to generate code, which is a tenth of a ``dockyard create``. ``record`` builds nothing per class: the
methods are shared and read the field list the decorator stores. Type checkers see a dataclass
(``dataclass_transform``). Supported: defaults, ``field(default_factory=..., repr=False)``, ``frozen=True``
(immutable and hashable), inheritance, ``fields``/``asdict``/``replace``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, dataclass_transform

    T = TypeVar("T")
else:

    def dataclass_transform(**_kw):
        return lambda f: f


_MISSING = object()


class Field:
    """One declared field: its name, its default (or a factory for one) and whether repr shows it."""

    __slots__ = ("name", "default", "factory", "repr")

    def __init__(self, default: Any = _MISSING, factory: Any = None, repr: bool = True) -> None:
        self.name = ""
        self.default = default
        self.factory = factory
        self.repr = repr

    def __repr__(self) -> str:
        return f"Field({self.name!r})"


def field(
    *, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None, repr: bool = True
) -> Any:
    """A field with a per-instance default (``default_factory``) or hidden from the repr."""
    return Field(default, default_factory, repr)


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen record."""


class _Plan:
    """What a keyword-only construction needs, worked out once per class: the plain defaults (a dict to
    copy), the fields made by a factory, the required ones and every name."""

    __slots__ = ("defaults", "factories", "required", "names")

    def __init__(self, flds: tuple[Field, ...]) -> None:
        self.defaults = {f.name: f.default for f in flds if f.factory is None and f.default is not _MISSING}
        self.factories = tuple((f.name, f.factory) for f in flds if f.factory is not None)
        self.required = tuple(f.name for f in flds if f.factory is None and f.default is _MISSING)
        self.names = frozenset(f.name for f in flds)


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    if not args:  # by keywords only (how records are read back from JSON): one dict update, no loop per field
        plan: _Plan = type(self).__record_plan__
        if kwargs.keys() - plan.names:
            unknown = next(k for k in kwargs if k not in plan.names)
            raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument '{unknown}'")
        for name in plan.required:
            if name not in kwargs:
                raise TypeError(f"{type(self).__name__}() missing required argument: '{name}'")
        values = dict(plan.defaults)
        for name, factory in plan.factories:
            if name not in kwargs:
                values[name] = factory()
        values.update(kwargs)
        self.__dict__.update(values)
        post = getattr(self, "__post_init__", None)
        if post is not None:
            post()
        return
    flds: tuple[Field, ...] = self.__record_fields__
    if len(args) > len(flds):
        raise TypeError(
            f"{type(self).__name__}() takes {len(flds)} positional arguments but {len(args)} were given"
        )
    setter = object.__setattr__
    for i, f in enumerate(flds):
        if i < len(args):
            if f.name in kwargs:
                raise TypeError(f"{type(self).__name__}() got multiple values for argument '{f.name}'")
            value = args[i]
        elif f.name in kwargs:
            value = kwargs.pop(f.name)
        elif f.factory is not None:
            value = f.factory()
        elif f.default is not _MISSING:
            value = f.default
        else:
            raise TypeError(f"{type(self).__name__}() missing required argument: '{f.name}'")
        setter(self, f.name, value)
    if kwargs:  # what is left names no field
        raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument '{next(iter(kwargs))}'")
    post = getattr(self, "__post_init__", None)
    if post is not None:
        post()


def _values(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, f.name) for f in self.__record_fields__)


def _eq(self: Any, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _repr(self: Any) -> str:
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in self.__record_fields__ if f.repr)
    return f"{type(self).__qualname__}({shown})"


def _hash(self: Any) -> int:
    return hash(_values(self))


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field '{name}'")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field '{name}'")


def _declare(cls: type, frozen: bool) -> type:
    flds: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for f in getattr(base, "__record_fields__", ()):
            flds[f.name] = f
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = cls.__dict__.get(name, _MISSING)
        f = value if isinstance(value, Field) else Field(value)
        f.name = name
        if isinstance(value, Field):
            if f.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
        flds[name] = f
    seen_default = False
    for f in flds.values():
        has_default = f.factory is not None or f.default is not _MISSING
        if seen_default and not has_default:
            raise TypeError(f"non-default field '{f.name}' follows a default one in {cls.__name__}")
        seen_default = seen_default or has_default
    cls.__record_fields__ = tuple(flds.values())  # type: ignore[attr-defined]
    cls.__record_plan__ = _Plan(cls.__record_fields__)  # type: ignore[attr-defined]
    cls.__init__ = _init  # type: ignore[misc]
    if "__repr__" not in cls.__dict__:
        cls.__repr__ = _repr  # type: ignore[assignment]
    if "__eq__" not in cls.__dict__:
        cls.__eq__ = _eq  # type: ignore[assignment]
    if frozen:
        cls.__setattr__ = _frozen_setattr  # type: ignore[assignment]
        cls.__delattr__ = _frozen_delattr  # type: ignore[assignment]
        cls.__hash__ = _hash  # type: ignore[assignment]
    elif "__hash__" not in cls.__dict__:
        cls.__hash__ = None  # type: ignore[assignment]  # mutable and compared by value, as dataclasses do
    return cls


@dataclass_transform(field_specifiers=(field,))
def record(cls: Any = None, /, *, frozen: bool = False) -> Any:
    """Make ``cls`` a record (``@record`` or ``@record(frozen=True)``)."""
    if cls is None:
        return lambda c: _declare(c, frozen)
    return _declare(cls, frozen)


def fields(obj: Any) -> tuple[Field, ...]:
    """The fields of a record class or instance, in declaration order."""
    return obj.__record_fields__


def asdict(obj: Any) -> Any:
    """A record as a dict of plain values (records inside lists, tuples and dicts converted too)."""
    if hasattr(obj, "__record_fields__") and not isinstance(obj, type):
        return {f.name: asdict(getattr(obj, f.name)) for f in obj.__record_fields__}
    if isinstance(obj, list):
        return [asdict(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(asdict(v) for v in obj)
    if isinstance(obj, dict):
        return {asdict(k): asdict(v) for k, v in obj.items()}
    return obj


def replace(obj: T, **changes: Any) -> T:
    """A copy of the record ``obj`` with some fields changed."""
    values = {f.name: getattr(obj, f.name) for f in obj.__record_fields__}  # type: ignore[attr-defined]
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field '{sorted(unknown)[0]}'")
    values.update(changes)
    return type(obj)(**values)
