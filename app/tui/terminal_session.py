"""A shell or attachment in a container, emulated with pyte: bytes in, a screen of styled cells out.

A ``TerminalSession`` owns a backend (a pty from ``exec_pty`` or an attach connection), a pyte screen, and a
reader thread that feeds the screen and calls ``on_output`` (the widget posts itself a redraw). Keys are
turned into the bytes a terminal would send (``key_bytes``). Closing the session ends the shell.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import pyte

if TYPE_CHECKING:
    from engine import AttachAPI, ExecPtyAPI

APP_CURSOR = 1 << 5  # DECCKM (private mode 1) as pyte stores it


class Backend(Protocol):
    def read(self) -> bytes: ...  # blocks; b"" when the other end is gone
    def write(self, data: bytes) -> None: ...
    def resize(self, rows: int, cols: int) -> None: ...
    def close(self) -> None: ...
    def exit_code(self) -> int | None: ...


class PtyBackend:
    """A process on a pseudo-terminal (the engine's ``ExecPty``: ``master`` fd, ``resize``, ``wait``, ``close``)."""

    def __init__(self, pty: ExecPtyAPI) -> None:
        self.pty = pty
        self.fd: int = pty.master

    def read(self) -> bytes:
        try:
            return os.read(self.fd, 65536)
        except OSError:
            return b""

    def write(self, data: bytes) -> None:
        with contextlib.suppress(OSError):
            os.write(self.fd, data)

    def resize(self, rows: int, cols: int) -> None:
        with contextlib.suppress(Exception):
            self.pty.resize(rows, cols)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.pty.close()

    def exit_code(self) -> int | None:
        try:
            return self.pty.wait()
        except Exception:
            return None


class AttachBackend:
    """The container's own stdio through the engine's ``AttachSession``."""

    def __init__(self, session: AttachAPI) -> None:
        self.session = session
        self._chunks = session.output()

    def read(self) -> bytes:
        try:
            while True:
                _stream, data = next(self._chunks)
                if data:
                    return bytes(data)
        except Exception:  # StopIteration when the container ends, OSError when the socket closes
            return b""

    def write(self, data: bytes) -> None:
        with contextlib.suppress(Exception):
            self.session.send_stdin(data)

    def resize(self, rows: int, cols: int) -> None:
        with contextlib.suppress(Exception):
            self.session.resize(rows, cols)

    def close_stdin(self) -> None:
        with contextlib.suppress(Exception):
            self.session.close_stdin()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.session.close()

    def exit_code(self) -> int | None:
        return self.session.exit_code


class TerminalSession:
    def __init__(
        self, title: str, backend: Backend, cols: int = 80, rows: int = 24, line_mode: bool = False
    ) -> None:
        self.title = title
        self.backend = backend
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        # a container without a tty gets no terminal driver: edit the line here, echo it, send it on enter
        self.line_mode = line_mode
        self._line = bytearray()
        if line_mode:
            self.screen.set_mode(pyte.modes.LNM)
        self.lock = threading.Lock()
        self.ended = False
        self.code: int | None = None
        self.on_output: Callable[[], None] = lambda: None
        self.on_exit: Callable[[TerminalSession], object] = lambda s: None  # result ignored
        self._answers: list[str] = []
        # pyte answers device queries (cursor position, attributes) through write_process_input
        self.screen.write_process_input = self._answers.append  # type: ignore[method-assign,assignment]
        self._thread = threading.Thread(target=self._pump, name=f"dockyard-term-{title}", daemon=True)

    def start(self) -> TerminalSession:
        self._thread.start()
        return self

    def _pump(self) -> None:
        while True:
            data = self.backend.read()
            if not data:
                break
            with self.lock:
                try:
                    self.stream.feed(data)
                except Exception:
                    pass
                answer = "".join(map(str, self._answers)).encode()
                self._answers.clear()
            if answer:
                self.backend.write(answer)
            self.on_output()
        self.ended = True
        self.code = self.backend.exit_code()
        self.on_exit(self)

    def write(self, data: bytes) -> None:
        if self.ended:
            return
        if not self.line_mode:
            self.backend.write(data)
            return
        echo = bytearray()
        for byte in data:
            if byte in (0x0D, 0x0A):
                self.backend.write(bytes(self._line) + b"\n")
                self._line.clear()
                echo += b"\r\n"
            elif byte in (0x7F, 0x08):
                if self._line:
                    self._line.pop()
                    echo += b"\x08 \x08"
            elif byte == 0x04 and not self._line:  # ctrl+d on an empty line: end of input
                closer = getattr(self.backend, "close_stdin", None)
                if closer is not None:
                    closer()
            elif byte >= 0x20:
                self._line.append(byte)
                echo.append(byte)
        if echo:
            with self.lock:
                self.stream.feed(bytes(echo))
            self.on_output()

    def resize(self, rows: int, cols: int) -> None:
        rows, cols = max(2, rows), max(10, cols)
        with self.lock:
            if (self.screen.lines, self.screen.columns) == (rows, cols):
                return
            self.screen.resize(rows, cols)
        self.backend.resize(rows, cols)

    def close(self) -> None:
        self.backend.close()

    @property
    def application_cursor(self) -> bool:
        return APP_CURSOR in self.screen.mode


_SPECIAL = {
    "enter": b"\r",
    "tab": b"\t",
    "shift+tab": b"\x1b[Z",
    "backspace": b"\x7f",
    "ctrl+h": b"\x08",
    "escape": b"\x1b",
    "home": b"\x1b[H",
    "end": b"\x1b[F",
    "pageup": b"\x1b[5~",
    "pagedown": b"\x1b[6~",
    "insert": b"\x1b[2~",
    "delete": b"\x1b[3~",
    "f1": b"\x1bOP",
    "f2": b"\x1bOQ",
    "f3": b"\x1bOR",
    "f4": b"\x1bOS",
    "f5": b"\x1b[15~",
    "f6": b"\x1b[17~",
    "f7": b"\x1b[18~",
    "f8": b"\x1b[19~",
    "f9": b"\x1b[20~",
    "f10": b"\x1b[21~",
    "f11": b"\x1b[23~",
    "f12": b"\x1b[24~",
    "ctrl+space": b"\x00",
    "ctrl+at": b"\x00",
}
_ARROWS = {"up": b"A", "down": b"B", "right": b"C", "left": b"D"}


def key_bytes(key: str, character: str | None, application_cursor: bool = False) -> bytes:
    """What a VT100-style terminal sends for a Textual key (``ctrl+c`` -> ``\\x03``, ``up`` -> ``\\x1b[A``)."""
    if key in _ARROWS:
        return (b"\x1bO" if application_cursor else b"\x1b[") + _ARROWS[key]
    for mod, code in (("shift+", b"2"), ("alt+", b"3"), ("ctrl+", b"5")):
        if key.startswith(mod) and key[len(mod) :] in _ARROWS:
            return b"\x1b[1;" + code + _ARROWS[key[len(mod) :]]
    if key in _SPECIAL:
        return _SPECIAL[key]
    if key.startswith("ctrl+") and len(key) == 6 and key[5].isalpha():
        return bytes([ord(key[5].lower()) - 96])
    if key.startswith("alt+") and character:
        return b"\x1b" + character.encode()
    if character:
        return character.encode("utf-8", "surrogateescape")
    return b""
