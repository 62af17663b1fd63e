"""engine.lean.record: the engine's records behave as dataclasses do for everything the engine uses."""

from __future__ import annotations

import pytest

from engine.lean.record import FrozenInstanceError, asdict, field, fields, record, replace


@record
class Policy:
    name: str = "no"
    retries: int = 0


@record
class Config:
    id: str
    tags: list[str] = field(default_factory=list)
    policy: Policy = field(default_factory=Policy)
    secret: str = field(default="", repr=False)


@record
class Labelled(Config):
    label: str = ""


@record(frozen=True)
class Ref:
    repo: str
    tag: str = "latest"


def test_defaults_factories_and_keywords() -> None:
    a, b = Config("x"), Config(id="y", tags=["t"])
    assert (a.id, a.tags, a.policy, a.secret) == ("x", [], Policy(), "")
    assert a.tags is not Config("z").tags  # a fresh list for each record
    assert b.tags == ["t"] and [f.name for f in fields(Config)] == ["id", "tags", "policy", "secret"]


def test_errors_like_dataclasses() -> None:
    with pytest.raises(TypeError, match="missing required argument: 'id'"):
        Config()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        Config("x", nope=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values"):
        Config("x", id="y")  # type: ignore[misc]
    with pytest.raises(TypeError, match="non-default field"):

        @record
        class Bad:
            a: int = 1
            b: int  # type: ignore[misc]


def test_equality_repr_asdict_replace() -> None:
    c = Config("x", ["a"], Policy("always", 3), secret="s")
    assert c == Config("x", ["a"], Policy("always", 3), secret="s") and c != Config("y")
    assert repr(c) == "Config(id='x', tags=['a'], policy=Policy(name='always', retries=3))"
    assert asdict(c) == {"id": "x", "tags": ["a"], "policy": {"name": "always", "retries": 3}, "secret": "s"}
    d = replace(c, id="z")
    assert d.id == "z" and d.policy == c.policy and c.id == "x"
    with pytest.raises(TypeError):
        hash(c)  # mutable records are not hashable, as with dataclasses


def test_inheritance_adds_fields_after_the_parents() -> None:
    lab = Labelled("x", label="l")
    assert [f.name for f in fields(lab)] == ["id", "tags", "policy", "secret", "label"]
    assert lab.label == "l" and lab != Config("x")


def test_frozen_records_are_immutable_and_hashable() -> None:
    r = Ref("busybox")
    assert {r: 1}[Ref("busybox", "latest")] == 1
    with pytest.raises(FrozenInstanceError):
        r.tag = "other"  # type: ignore[misc]
    assert replace(r, tag="1.36") == Ref("busybox", "1.36")
