"""engine.lean.tools' stand-ins behave as contextlib's and functools' for what the engine uses."""

from __future__ import annotations

import pytest

from engine.lean import tools as lean
from tests.modules import loaded_after


def test_suppress_ignores_only_the_kinds_named() -> None:
    with lean.suppress(KeyError, ValueError):
        raise KeyError("x")
    with lean.suppress(OSError):
        raise FileNotFoundError("a subclass is suppressed too")
    with pytest.raises(TypeError), lean.suppress(KeyError):
        raise TypeError("not this one")
    with lean.suppress(KeyError):
        pass


def test_contextmanager_runs_set_up_and_tear_down() -> None:
    seen: list[str] = []

    @lean.contextmanager
    def held(name: str):  # type: ignore[no-untyped-def]
        seen.append(f"enter {name}")
        try:
            yield name.upper()
        finally:
            seen.append(f"exit {name}")

    with held("a") as value:
        assert value == "A"
    with pytest.raises(ValueError, match="inside"), held("b"):
        raise ValueError("inside")
    assert seen == ["enter a", "exit a", "enter b", "exit b"]
    assert held.__name__ == "held"


def test_contextmanager_can_swallow_or_replace_an_exception() -> None:
    @lean.contextmanager
    def swallowing():  # type: ignore[no-untyped-def]
        try:
            yield
        except KeyError:
            pass

    @lean.contextmanager
    def replacing():  # type: ignore[no-untyped-def]
        try:
            yield
        except KeyError as e:
            raise LookupError("replaced") from e

    with swallowing():
        raise KeyError("gone")
    with pytest.raises(LookupError, match="replaced"), replacing():
        raise KeyError("x")
    with pytest.raises(StopIteration), swallowing():
        raise StopIteration  # not confused with the generator's own end


def test_contextmanager_refuses_generators_that_misbehave() -> None:
    @lean.contextmanager
    def never():  # type: ignore[no-untyped-def]
        if False:
            yield

    @lean.contextmanager
    def twice():  # type: ignore[no-untyped-def]
        yield
        yield

    with pytest.raises(RuntimeError, match="didn't yield"), never():
        pass
    with pytest.raises(RuntimeError, match="didn't stop"), twice():
        pass


def test_cache_calls_once_per_arguments() -> None:
    calls: list[object] = []

    @lean.cache
    def f(*args: object, **kwargs: object) -> int:
        calls.append((args, kwargs))
        return len(calls)

    assert f(1) == f(1) == 1
    assert f(2) == 2
    assert f(1, a=1) == 3 and f(1, a=1) == 3
    assert f((1,), "a", 1) == 4  # no collision between keywords and look-alike positionals
    f.cache_clear()
    assert f(1) == 5


def test_importing_it_loads_neither_contextlib_nor_functools() -> None:
    loaded = loaded_after("import engine.lean.tools")
    assert "engine.lean.tools" in loaded
    assert not {"contextlib", "functools", "collections"} & loaded


def test_cached_property_computes_once_per_instance() -> None:
    class Box:
        made = 0

        @lean.cached_property
        def part(self) -> int:
            Box.made += 1
            return Box.made

    a, b = Box(), Box()
    assert (a.part, a.part, b.part) == (1, 1, 2)
    assert isinstance(Box.__dict__["part"], lean.cached_property)
