"""Sizes and durations as Docker's flags take them."""

from __future__ import annotations

import pytest

from engine.errors import InvalidArgument
from engine.units import parse_bytes, parse_duration, parse_time_arg


@pytest.mark.parametrize(
    "text, size",
    [
        ("512", 512),
        ("512m", 512 << 20),
        ("1g", 1 << 30),
        ("1.5k", 1536),
        ("64MB", 64 << 20),
        ("64 MiB", 64 << 20),
        ("2T", 2 << 40),
        (" 7b ", 7),
    ],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_bytes(text) == size


@pytest.mark.parametrize("text", ["", "m", "1x", "1.m", "-1m", "1mm", "1 m b"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid size"):
        parse_bytes(text)


@pytest.mark.parametrize(
    "text, seconds",
    [("10", 10), ("1.5", 1.5), ("10s", 10), ("1m30s", 90), ("250ms", 0.25), ("2h", 7200), ("3us", 3e-6)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "s", "10x", "1m 30s", "m1", "1.s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid duration"):
        parse_duration(text)


def test_times() -> None:
    assert parse_time_arg("2024-01-02") == 1704153600.0
    assert parse_time_arg("10m", now=1000.0) == 400.0
    assert parse_time_arg("1700000000") == 1700000000.0
