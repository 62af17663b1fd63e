"""``suppress``, ``contextmanager``, ``cache`` and ``cached_property`` without ``contextlib`` or ``functools``.

Those modules import ``collections``, ``types`` and ``functools``' own dependencies: ~4 ms on every CLI call
and in every container's supervisor, for three small helpers. The engine's start-up path uses these instead;
they behave as the standard ones do for what the engine needs, and type checkers see the standard ones.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextlib import contextmanager as contextmanager
    from contextlib import suppress as suppress
    from functools import cache as cache
    from functools import cached_property as cached_property
else:

    class suppress:
        """``with suppress(E1, E2): ...`` ignores those exceptions, as ``contextlib.suppress``."""

        __slots__ = ("_kinds",)

        def __init__(self, *kinds):
            self._kinds = kinds

        def __enter__(self):
            return None

        def __exit__(self, kind, _value, _tb):
            return kind is not None and issubclass(kind, self._kinds)

    class _GeneratorContext:
        __slots__ = ("_gen",)

        def __init__(self, gen):
            self._gen = gen

        def __enter__(self):
            try:
                return next(self._gen)
            except StopIteration:
                raise RuntimeError("generator didn't yield") from None

        def __exit__(self, kind, value, _tb):
            if kind is None:
                try:
                    next(self._gen)
                except StopIteration:
                    return False
                raise RuntimeError("generator didn't stop")
            if value is None:
                value = kind()
            try:
                self._gen.throw(value)
            except StopIteration as stop:
                return stop is not value  # the generator caught it and ended: suppressed
            except RuntimeError as e:
                if e is value or (isinstance(value, StopIteration) and e.__cause__ is value):
                    return False
                raise
            except BaseException as e:
                if e is not value:
                    raise
                return False
            raise RuntimeError("generator didn't stop after throw()")

    def contextmanager(fn):
        """A generator function yielding once becomes a context manager, as ``contextlib.contextmanager``."""

        def context(*args, **kwargs):
            return _GeneratorContext(fn(*args, **kwargs))

        context.__name__ = fn.__name__
        context.__qualname__ = fn.__qualname__
        context.__doc__ = fn.__doc__
        context.__wrapped__ = fn
        return context

    _KEYWORDS = object()  # separates positional from keyword arguments in a cache key

    def cache(fn):
        """Remember ``fn``'s result for each set of arguments, as ``functools.cache``."""
        results = {}

        def cached(*args, **kwargs):
            key = (*args, _KEYWORDS, *kwargs.items()) if kwargs else args
            try:
                return results[key]
            except KeyError:
                pass
            value = results[key] = fn(*args, **kwargs)
            return value

        cached.__name__ = fn.__name__
        cached.__qualname__ = fn.__qualname__
        cached.__doc__ = fn.__doc__
        cached.__wrapped__ = fn
        cached.cache_clear = results.clear
        return cached

    class cached_property:
        """Computed on first access, then stored on the instance, as ``functools.cached_property``."""

        def __init__(self, fn):
            self.fn = fn
            self.name = fn.__name__
            self.__doc__ = fn.__doc__

        def __set_name__(self, _owner, name):
            self.name = name

        def __get__(self, instance, _owner=None):
            if instance is None:
                return self
            value = instance.__dict__[self.name] = self.fn(instance)
            return value
