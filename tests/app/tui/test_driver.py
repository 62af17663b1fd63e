"""The app's terminal driver (app/tui/driver.py) reading a real pseudo-terminal: keys, the special keys'
escape sequences and a lone Escape come out as the keys they are."""

from __future__ import annotations

import os
import pty
import queue
import threading
import tty
from typing import Any

from textual import events

from app.tui.driver import PromptEscapeDriver


class _Reading(PromptEscapeDriver):
    """The driver's input thread alone, on ``fd``, its events collected (no app, no terminal set-up)."""

    def __init__(self, fd: int) -> None:  # (LinuxDriver's own takes over stdin and the stop signals)
        self._debug = False
        self.fileno = fd
        self.exit_event = threading.Event()
        self.got: queue.Queue[Any] = queue.Queue()

    def process_message(self, message: Any) -> None:
        self.got.put(message)


def _keys(driver: _Reading, n: int) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        event = driver.got.get(timeout=10)
        if isinstance(event, events.Key):
            out.append(event.key)
    return out


def test_keys_sequences_and_a_lone_escape_come_out_as_keys() -> None:
    master, slave = pty.openpty()
    tty.setraw(slave)  # as the app's terminal: every byte as it comes
    driver = _Reading(slave)
    thread = threading.Thread(target=driver.run_input_thread, daemon=True)
    thread.start()
    try:
        os.write(master, b"a")
        assert _keys(driver, 1) == ["a"]
        os.write(master, b"\x1b[A")  # up, one sequence
        assert _keys(driver, 1) == ["up"]
        os.write(master, b"\x1b")  # Escape, nothing after it
        assert _keys(driver, 1) == ["escape"]
        os.write(master, b"x\x1b")  # a key and then Escape in one read
        assert _keys(driver, 2) == ["x", "escape"]
        os.write(master, b"\x1b[B\x1b[A")  # two sequences in one read
        assert _keys(driver, 2) == ["down", "up"]
        os.write(master, "é".encode())
        assert _keys(driver, 1) == ["é"]
    finally:
        driver.exit_event.set()
        thread.join(timeout=5)
        os.close(master)
        os.close(slave)
    assert not thread.is_alive()
