"""The terminal driver: Textual's Linux driver, with a lone Escape handed on once ``ESCDELAY`` has passed.

A terminal sends the Escape key as one ESC byte, and every other special key as a sequence beginning with
ESC; an ESC with nothing after it within ``ESCDELAY`` is the Escape key. Textual's input thread waits for
input a tenth of a second at a time and only then looks whether a pending ESC has waited long enough, so
Escape (which closes the filter and the dialogs) reached the app ~100 ms after the key, whatever
``ESCDELAY`` said. Here, after input that ends in ESC, the thread waits only ``ESCDELAY`` before it looks;
otherwise a tenth of a second as before (an idle app wakes no more often).
"""

from __future__ import annotations

import codecs
import os
import selectors
import time

from textual import constants
from textual.drivers.linux_driver import LinuxDriver

IDLE_WAIT = 0.1  # seconds the input thread waits for input when no ESC is pending
ESC = "\x1b"


class PromptEscapeDriver(LinuxDriver):
    def run_input_thread(self) -> None:
        """Read the terminal, turn what comes into events for the app, until the driver stops."""
        from textual._xterm_parser import XTermParser

        parser = XTermParser(self._debug)
        decode = codecs.getincrementaldecoder("utf-8")(errors="replace").decode
        fd = self.fileno
        escape_until = 0.0  # while an ESC may be pending: look again after ESCDELAY, not IDLE_WAIT
        with selectors.SelectSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            try:
                while not self.exit_event.is_set():
                    pending = time.monotonic() < escape_until
                    if selector.select(constants.ESCAPE_DELAY if pending else IDLE_WAIT):
                        text = decode(os.read(fd, 4096))
                        if not text:  # the input is closed (a pipe)
                            break
                        for event in parser.feed(text):
                            self.process_message(event)
                        if text.endswith(ESC):
                            escape_until = time.monotonic() + 2 * constants.ESCAPE_DELAY
                    for event in parser.tick():  # an ESC that waited ESCDELAY becomes the Escape key
                        self.process_message(event)
            finally:
                try:  # the parser's end (what is left is dropped: the app closes)
                    for _event in parser.feed(""):
                        pass
                except Exception:  # noqa: BLE001 - the input ended mid-sequence
                    pass
