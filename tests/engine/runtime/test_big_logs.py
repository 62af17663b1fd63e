"""Reading the end of a big log without reading the rest: ``logs --tail`` across rotated files and 16 KiB
pieces of long lines, ``--since``/``--until`` found by bisection, a pty's lines; the app's line index kept
beside the log (``<log>.idx``), ignored when missing, damaged or stale, and a big log's tail indexed before
the rest is counted."""

from __future__ import annotations

import json
import os
import re

import pytest

from engine import CreateOptions
from engine.runtime import logindex
from engine.runtime.logindex import INDEX_SUFFIX, LogIndex
from engine.runtime.logread import entries

pytestmark = pytest.mark.slow

_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) ")
# Short numbered lines on stdout and stderr, a 40,000-byte line (three 16 KiB pieces in the log), then more.
_MIXED = (
    'i=0; while [ $i -lt 400 ]; do echo "out $i"; [ $((i % 7)) -eq 0 ] && echo "err $i" >&2; i=$((i+1)); '
    "[ $((i % 100)) -eq 0 ] && usleep 30000; done; "
    "head -c 40000 /dev/zero | tr '\\0' x; echo; usleep 30000; echo 'after the long line'; echo bye >&2"
)


def _entries(text: str) -> list[tuple[str, str]]:
    """``logs -t`` output as (time, data) per log entry (a 16 KiB piece is an entry of its own)."""
    parts = _STAMP.split(text)
    return [(parts[i], parts[i + 1]) for i in range(1, len(parts), 2)]


def _log_path(cli, name: str) -> str:
    return json.loads(cli("inspect", name).out)[0]["LogPath"]


def test_tail_across_rotated_files_and_long_lines_split_in_16k_pieces(cli, busybox) -> None:
    cli(
        "run", "--name", "mixed", "--log-opt", "max-size=20k", "--log-opt", "max-file=4",
        busybox, "sh", "-c", _MIXED,
    )  # fmt: skip
    path = _log_path(cli, "mixed")
    assert os.path.exists(path + ".3")  # rotated: what is left spans four files
    whole = cli("logs", "-t", "mixed")
    every = _entries(whole.out) + _entries(whole.err)
    every.sort(key=lambda e: e[0])
    assert len({t for t, _ in every}) > 50
    for k in (1, 2, 3, 4, 5, 40, 150, 10_000):
        r = cli("logs", "-t", "--tail", str(k), "mixed")
        got = sorted(_entries(r.out) + _entries(r.err))
        assert got == sorted(every[-k:]), k
    plain = cli("logs", "--tail", "5", "mixed")
    # the long line's three pieces, the line after it (stdout), "bye" and the last "err" line (stderr)
    assert plain.out == "x" * 40000 + "\nafter the long line\n"
    assert plain.err == "bye\n"
    assert cli("logs", "--tail", "0", "mixed").out == ""


def test_since_and_until_near_the_end_read_only_the_lines_asked_for(cli, busybox) -> None:
    cli(
        "run", "--name", "timed", "--log-opt", "max-size=20k", "--log-opt", "max-file=5",
        busybox, "sh", "-c", _MIXED,
    )  # fmt: skip
    whole = cli("logs", "-t", "timed")
    every = sorted(_entries(whole.out) + _entries(whole.err))
    times = [t for t, _ in every]
    for k in (len(every) - 1, len(every) - 3, len(every) - 60, len(every) // 2, 0):
        since = times[k]
        r = cli("logs", "-t", "--since", since, "timed")
        assert sorted(_entries(r.out) + _entries(r.err)) == [e for e in every if e[0] >= since], k
        until = times[min(k + 5, len(times) - 1)]
        r = cli("logs", "-t", "--since", since, "--until", until, "timed")
        assert sorted(_entries(r.out) + _entries(r.err)) == [e for e in every if since <= e[0] <= until], k
    r = cli("logs", "--since", "2000-01-01T00:00:00Z", "--until", times[3], "timed")
    assert (r.out + r.err).count("\n") == sum(1 for t, d in every if t <= times[3] and d.endswith("\n"))
    assert cli("logs", "--since", "2999-01-01T00:00:00Z", "timed").out == ""


def test_a_pty_containers_tail(cli, busybox) -> None:
    cli(
        "run",
        "-t",
        "--name",
        "tty",
        busybox,
        "sh",
        "-c",
        "i=0; while [ $i -lt 3000 ]; do echo row $i; i=$((i+1)); done",
    )
    r = cli("logs", "--tail", "3", "tty")
    assert r.out == "row 2997\r\nrow 2998\r\nrow 2999\r\n" and r.err == ""
    r = cli("logs", "-t", "--tail", "1", "tty")
    assert _STAMP.match(r.out) and r.out.endswith(" row 2999\r\n")


# -- the app's line index, kept beside the log ------------------------------------------------------------
def _lines(path: str) -> list[str]:
    return [e.data.decode().rstrip("\n") for e in entries(path)]


def _index_lines(index: LogIndex) -> list[str]:
    return [index.line(n).text for n in range(index.lines)]


def test_the_index_kept_beside_the_log_is_used_and_a_damaged_or_stale_one_is_not(engine_, busybox) -> None:
    engine_.containers.run(
        busybox,
        CreateOptions(
            name="many", network="none",
            command=["sh", "-c", "i=0; while [ $i -lt 5000 ]; do echo \"line $i\"; i=$((i+1)); done"],
        ),
    )  # fmt: skip
    engine_.containers.wait("many")
    path = engine_.containers.inspect("many")["LogPath"]
    want = _lines(path)
    assert len(want) == 5000
    index = engine_.containers.log_index("many")
    index.update()
    assert _index_lines(index) == want
    index.close()  # writes the index file
    saved = path + INDEX_SUFFIX
    assert os.path.getsize(saved) > 0
    good = open(saved, "rb").read()

    again = LogIndex(path)
    again.update(budget=0)  # nothing left to scan: all of it came from the index file
    assert again.lines == 5000 and again.line(4999).text == "line 4999" and again.line(0).text == "line 0"
    again.close()

    for damaged in (good[: len(good) // 2], good[:-1], good[:40] + bytes([good[40] ^ 0xFF]) + good[41:], b""):
        with open(saved, "wb") as f:
            f.write(damaged)
        index = LogIndex(path)
        index.update()
        assert _index_lines(index) == want
        index.close()

    # stale: the log was rewritten in place (same file, other lines) after the index was written
    with open(saved, "wb") as f:
        f.write(good)
    with open(path, "r+b") as f:
        head = f.read()
        f.seek(0)
        f.truncate()
        f.write(head.replace(b'"line ', b'"LINE ')[: len(head) // 2 + 7000])
    want = _lines(path)
    index = LogIndex(path)
    index.update()
    assert _index_lines(index) == want and want[-1].startswith("LINE ")
    index.close()


def test_a_big_logs_tail_is_indexed_first_and_the_rest_comes_in_above_it(
    engine_, busybox, monkeypatch
) -> None:
    monkeypatch.setattr(logindex, "WINDOW_MIN", 20_000)  # "big": small numbers, the same code
    monkeypatch.setattr(logindex, "WINDOW", 8_000)
    monkeypatch.setattr(logindex, "READ", 1 << 16)

    engine_.containers.run(
        busybox,
        CreateOptions(
            name="big", network="none",
            command=["sh", "-c", "i=0; while [ $i -lt 20000 ]; do echo \"line $i\"; i=$((i+1)); done"],
        ),
    )  # fmt: skip
    engine_.containers.wait("big")
    path = engine_.containers.inspect("big")["LogPath"]
    want = _lines(path)
    index = LogIndex(path)
    index.update(budget=1 << 20)
    assert 0 < index.lines < 1000 and index.counting > 0  # only the tail
    assert index.line(index.lines - 1).text == "line 19999"
    shown = index.lines
    top = index.anchor(3)
    assert index.line(3).text == want[-shown + 3]
    generation = index.generation
    while index.counting:
        index.update(budget=50_000)
    assert index.generation > generation  # lines came in above those shown
    assert index.lines == 20000 and _index_lines(index) == want
    assert index.line(index.row_of(top)).text == want[-shown + 3]
    index.close()
    # half counted, then closed: the next reader goes on from what the first one counted
    os.unlink(path + INDEX_SUFFIX)
    index = LogIndex(path)
    index.update(budget=1 << 20)
    index.update(budget=100_000)
    index.close()
    index = LogIndex(path)
    index.update(budget=1 << 20)
    while index.counting:
        index.update(budget=50_000)
    assert _index_lines(index) == want
    index.close()
