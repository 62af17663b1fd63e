"""The app's pure parts: the log index, key translation, settings, form parsing, key table, layer trees."""

from __future__ import annotations

import json
import os

import pytest

from app.tui import keymap
from app.tui.config import Config
from app.tui.forms import FormError, parse_build_args, parse_command, parse_env, parse_size, split_list
from app.tui.layer_model import ADDED, MODIFIED, REMOVED, from_diff
from app.tui.terminal_session import key_bytes
from engine.runtime.logindex import CUT, LogIndex, parse
from tests.modules import ROOT


def _write_log(path, lines, stream="stdout", mode="w"):
    with open(path, mode) as f:
        for text in lines:
            f.write(
                json.dumps({"log": text + "\n", "stream": stream, "time": "2024-01-01T12:00:00.5Z"}) + "\n"
            )


def test_index_reads_any_line(tmp_path):
    path = tmp_path / "c.log"
    _write_log(path, [f"line {i}" for i in range(50_000)])
    ix = LogIndex(str(path))
    assert ix.update() == 50_000
    assert ix.line(0).text == "line 0"
    assert ix.line(49_999).text == "line 49999"
    assert ix.line(31_337).text == "line 31337"
    assert ix.line(5).time == "2024-01-01T12:00:00.5Z"
    with pytest.raises(IndexError):
        ix.span(50_000)
    ix.close()


def test_index_follows_growth_and_truncation(tmp_path):
    path = tmp_path / "c.log"
    _write_log(path, ["a", "b"])
    ix = LogIndex(str(path))
    ix.update()
    assert ix.lines == 2
    _write_log(path, ["c"], stream="stderr", mode="a")
    with open(path, "a") as f:
        f.write('{"log":"half')  # a line still being written is not counted yet
    assert ix.update() == 1
    assert ix.line(2).stream == "stderr" and ix.line(2).text == "c"
    generation = ix.generation
    _write_log(path, ["fresh"])  # truncated and rewritten
    ix.update()
    assert ix.generation != generation
    assert ix.lines == 1 and ix.line(0).text == "fresh"


def test_long_lines_are_cut_before_parsing(tmp_path):
    path = tmp_path / "c.log"
    _write_log(path, ["x" * 200_000 + "END", "short"], stream="stderr")
    ix = LogIndex(str(path))
    ix.update()
    first = ix.line(0)
    assert first.cut and first.stream == "stderr" and first.time.startswith("2024")
    assert len(first.text) <= CUT and first.text.startswith("xxx")
    assert ix.line(1).text == "short" and not ix.line(1).cut


def test_cut_inside_an_escape_still_decodes():
    raw = json.dumps({"log": 'é"' * 5000, "stream": "stdout", "time": "t"}).encode()
    line = parse(raw[:CUT], raw[-200:])
    assert line.text.startswith('é"é"')


def test_search_both_ways_any_case(tmp_path):
    path = tmp_path / "c.log"
    _write_log(path, [f"row {i}" + (" Needle" if i in (10, 500, 9000) else "") for i in range(10_000)])
    ix = LogIndex(str(path))
    ix.update()
    assert ix.search("needle", 0) == 10
    assert ix.search("needle", 10) == 500
    assert ix.search("NEEDLE", 500) == 9000
    assert ix.search("needle", 9000) is None
    assert ix.search("needle", 9000, backwards=True) == 500
    assert ix.search("needle", 10, backwards=True) is None
    assert ix.search("stdout", 0) is None  # field names are not the text


def test_key_bytes():
    assert key_bytes("ctrl+c", "\x03") == b"\x03"
    assert key_bytes("up", None) == b"\x1b[A"
    assert key_bytes("up", None, application_cursor=True) == b"\x1bOA"
    assert key_bytes("enter", "\r") == b"\r"
    assert key_bytes("tab", "\t") == b"\t"
    assert key_bytes("f5", None) == b"\x1b[15~"
    assert key_bytes("backspace", "\x08") == b"\x7f"
    assert key_bytes("a", "a") == b"a"
    assert key_bytes("ctrl+right", None) == b"\x1b[1;5C"
    assert key_bytes("é", "é") == "é".encode()


def test_config_round_trip(tmp_path):
    path = str(tmp_path / "sub" / "config.toml")
    cfg = Config(path=path, theme="dockyard-light", confirm=False, keys={"container.stop": "z"})
    cfg.save()
    again = Config.load(path)
    assert (again.theme, again.confirm, again.keys) == ("dockyard-light", False, {"container.stop": "z"})
    with open(path, "w") as f:
        f.write("theme = [broken")
    bad = Config.load(path)
    assert bad.problem and bad.theme == "dockyard-dark"


def test_config_path_from_environment(tmp_path, monkeypatch):
    from app.tui.config import config_path

    monkeypatch.setenv("DOCKYARD_CONFIG", str(tmp_path / "x.toml"))
    assert config_path() == str(tmp_path / "x.toml")


def test_forms():
    assert parse_size("512m") == 512 * 1024**2
    assert parse_size("1g") == 1024**3
    assert parse_size("") is None
    with pytest.raises(FormError):
        parse_size("lots")
    assert split_list("8080:80, 9000:90") == ["8080:80", "9000:90"]
    assert parse_env('A=1, "B=two words"') == ["A=1", "B=two words"]
    with pytest.raises(FormError):
        parse_env("JUSTNAME")
    assert parse_command("sh -c 'echo hi'") == ["sh", "-c", "echo hi"]
    assert parse_build_args("V=1 X") == {"V": "1", "X": ""}


def test_key_table_ids_are_unique_and_documented():
    ids = [k.id for k in keymap.KEYS]
    assert len(ids) == len(set(ids))
    md = keymap.markdown({"container.stop": "z"})
    assert "| `z` | Stop | `container.stop` |" in md
    docs = os.path.join(ROOT, "docs", "KEYS.md")
    with open(docs) as f:
        assert keymap.markdown() in f.read(), "docs/KEYS.md is out of date: python -m app.tui.keydoc"


def test_required_keys_are_bound():
    keys = {k.action: k.keys for k in keymap.KEYS}
    for action, key in [
        ("start", "s"),
        ("stop", "x"),
        ("restart", "r"),
        ("pause", "p"),
        ("rename", "n"),
        ("remove", "d"),
        ("shell", "e"),
        ("attach", "a"),
        ("logs", "l"),
        ("inspect", "i"),
        ("wait", "w"),
        ("commit", "c"),
        ("build", "b"),
        ("screen.tag", "t"),
        ("screen.run_image", "enter"),
        ("filter", "slash"),
        ("help", "question_mark"),
        ("quit", "q"),
    ]:
        assert keys[action] == key


def test_tree_from_diff():
    tree = from_diff([("C", "/etc"), ("A", "/etc/new.conf"), ("D", "/tmp/old"), ("C", "/etc/hosts")])
    etc = tree.children["etc"]
    assert etc.kind == MODIFIED and etc.is_dir
    assert etc.children["new.conf"].kind == ADDED
    assert etc.children["hosts"].kind == MODIFIED
    assert tree.children["tmp"].children["old"].kind == REMOVED
    assert tree.count() == 5


def test_host_summary_reads_the_machine() -> None:
    import os

    from app.tui.hostinfo import example_host, read_host

    host = read_host()
    assert 0.0 <= host.cpu_percent <= 100.0
    assert 0 < host.memory_used < host.memory_total
    assert host.load == os.getloadavg() or all(x >= 0 for x in host.load)
    assert example_host().text() == "host  CPU 12%  MEM 3.17GiB/15.4GiB  load 0.42 0.36 0.30"


def test_host_feed_tells_the_app_only_what_changed() -> None:
    import threading

    from app.tui.feeds import HostFeed
    from app.tui.hostinfo import HostSummary, example_host

    changed = HostSummary(55.0, 3_400_000_000, 16_500_000_000, (0.42, 0.36, 0.30))
    readings: list[HostSummary | Exception] = [
        example_host(),
        example_host(),  # the same figures: the bar is not drawn again
        RuntimeError("no /proc"),  # a failed reading leaves the bar as it is
        changed,
    ]
    posted: list[HostSummary] = []
    done = threading.Event()

    def read() -> HostSummary:
        if not readings:
            done.set()
            return changed
        r = readings.pop(0)
        if isinstance(r, Exception):
            raise r
        return r

    feed = HostFeed(read, lambda m: posted.append(m.summary), interval=0.01)
    feed.start()
    assert done.wait(5)
    feed.stop()
    feed.join(5)
    assert not feed.is_alive()
    assert posted == [example_host(), changed]
