"""Image references: the hand-written grammar accepts exactly what Docker's regular expressions accept."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InvalidArgument
from engine.store import reference

# distribution/reference's grammar, as Docker writes it (Go's \w is ASCII)
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_DOMAIN = (
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)"
)
_NAME = re.compile(rf"(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*\Z")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")

_pieces = st.text(alphabet="abzAZ09.-_:/é", max_size=14)


@settings(max_examples=3000)
@given(_pieces)
def test_names_and_tags_as_the_regular_expressions(s: str) -> None:
    assert reference._is_name(s) == bool(_NAME.match(s))
    assert reference._is_tag(s) == bool(_TAG.match(s))


@pytest.mark.parametrize(
    "text, name, tag",
    [
        ("busybox", "busybox", "latest"),
        ("busybox:1.36", "busybox", "1.36"),
        ("docker.io/library/debian:bookworm", "debian", "bookworm"),
        ("localhost:5000/team/app:v1", "localhost:5000/team/app", "v1"),
        ("my-registry.example:443/a__b/c--d.e:V_1-2", "my-registry.example:443/a__b/c--d.e", "V_1-2"),
    ],
)
def test_parse(text: str, name: str, tag: str) -> None:
    ref = reference.parse(text)
    assert (ref.name, ref.tag) == (name, tag)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " busybox",
        "Busybox",
        "a//b",
        "a:",
        "a:-x",
        "a@sha256:abc",
        "a_-b",
        "-a",
        "a" * 256,
        "a:" + "t" * 129,
    ],
)
def test_malformed_references_are_refused(text: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid reference format"):
        reference.parse(text)


def test_digests_and_ids() -> None:
    digest = "sha256:" + "ab" * 32
    assert reference.parse(f"busybox@{digest}").digest == digest
    assert reference.looks_like_id("sha256:0af1")
    assert reference.looks_like_id("0af1")
    assert not reference.looks_like_id("0AF1")
    assert not reference.looks_like_id("f" * 65)
