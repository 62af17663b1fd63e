"""Relaying a terminal to a container: raw mode, window size, ctrl-p ctrl-q to detach."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import sys
import termios

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal
    from collections.abc import Callable
    from typing import Any

    from engine import AttachAPI
else:
    import _signal as signal  # the C module: signal.py loads enum (``run`` pays for it)

DETACH_KEYS = b"\x10\x11"  # ctrl-p ctrl-q


def window_size(fd: int) -> tuple[int, int]:
    try:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
        return rows, cols
    except OSError:
        return 24, 80


class raw_mode:  # noqa: N801 - used as a function: ``with raw_mode(fd):``
    """The terminal ``fd`` in raw mode for the ``with`` block (nothing when ``fd`` is not a terminal); a class,
    not contextlib.contextmanager, which the command line does not load."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.old: list[Any] | None = None

    def __enter__(self) -> None:
        if self.fd < 0 or not os.isatty(self.fd):
            return
        import tty

        self.old = termios.tcgetattr(self.fd)
        tty.setraw(self.fd)

    def __exit__(self, *exc: object) -> None:
        if self.old is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.old)


def relay_session(
    session: AttachAPI, interactive: bool, tty_mode: bool, detach_keys: bytes = DETACH_KEYS
) -> int | None:
    """Pump stdin to the session and its output to stdout/stderr. Returns the exit code, None on detach."""
    import gc

    gc.freeze()  # what was made so far stays (and costs no collection at once) ...
    gc.enable()  # ... and a session can last for hours (see app/cli/main.py's entry)
    out = sys.stdout.buffer
    err = sys.stderr.buffer
    stdin_fd = sys.stdin.fileno() if interactive else -1
    if tty_mode and interactive and os.isatty(stdin_fd):
        session.resize(*window_size(stdin_fd))
        prev = signal.signal(signal.SIGWINCH, lambda *_: session.resize(*window_size(stdin_fd)))
    else:
        prev = None
    detached = False
    pending = b""
    try:
        with raw_mode(stdin_fd if (tty_mode and interactive) else -1):
            fds = [session.fileno()] + ([stdin_fd] if interactive else [])
            while True:
                try:
                    ready, _, _ = select.select(fds, [], [])
                except InterruptedError:
                    continue
                if stdin_fd in ready:
                    data = os.read(stdin_fd, 65536)
                    if not data:
                        session.close_stdin()
                        fds.remove(stdin_fd)
                    else:
                        if tty_mode:
                            data = pending + data
                            pending = b""
                            if detach_keys in data:
                                session.send_stdin(data[: data.index(detach_keys)])
                                detached = True
                                break
                            if data.endswith(detach_keys[:1]):
                                pending, data = data[-1:], data[:-1]
                        if data:
                            session.send_stdin(data)
                if session.fileno() in ready:
                    chunk = session.read()
                    if not chunk:
                        break
                    for kind, data in chunk:
                        if kind == 1:
                            out.write(data)
                            out.flush()
                        elif kind == 2:
                            err.write(data)
                            err.flush()
    finally:
        if prev is not None:
            signal.signal(signal.SIGWINCH, prev)
    if detached:
        sys.stderr.write("\r\nread escape sequence\r\n")
        return None
    return session.exit_code


def relay_pty(
    master: int, wait_exit: Callable[[], int], stdin: bool = True, detach_keys: bytes | None = None
) -> int | None:
    """Relay the terminal to a pty master (exec -t) until the process ends; returns its exit code. Without
    ``stdin`` (exec -t without -i) the input is not read. With ``detach_keys``, typing them ends the relay
    and returns None (the process runs on)."""
    stdin_fd = sys.stdin.fileno()
    out = sys.stdout.buffer

    def resize(*_: object) -> None:
        rows, cols = window_size(stdin_fd)
        try:
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        except OSError:
            pass

    resize()
    try:
        prev = signal.signal(signal.SIGWINCH, resize)
    except ValueError:  # not the main thread (the app's terminal pane): it resizes itself
        prev = None
    fds = [master, stdin_fd] if stdin else [master]
    pending = b""
    try:
        with raw_mode(stdin_fd if stdin else -1):
            while True:
                try:
                    ready, _, _ = select.select(fds, [], [])
                except InterruptedError:
                    continue
                if master in ready:
                    try:
                        data = os.read(master, 65536)
                    except OSError:
                        data = b""
                    if not data:
                        break
                    out.write(data)
                    out.flush()
                if stdin_fd in ready:
                    data = os.read(stdin_fd, 65536)
                    if not data:
                        fds.remove(stdin_fd)
                        continue
                    if detach_keys:
                        data, pending = pending + data, b""
                        if detach_keys in data:
                            os.write(master, data[: data.index(detach_keys)])
                            sys.stderr.write("\r\nread escape sequence\r\n")
                            return None
                        for n in range(len(detach_keys) - 1, 0, -1):  # a sequence cut between reads
                            if data.endswith(detach_keys[:n]):
                                data, pending = data[:-n], data[-n:]
                                break
                    if data:
                        os.write(master, data)
    finally:
        if prev is not None:
            signal.signal(signal.SIGWINCH, prev)
    return wait_exit()


# The signals passed on to the container (Docker's --sig-proxy: all it can catch but those of its own
# terminal and children): HUP INT QUIT USR1 USR2 ALRM TERM.
PROXIED_SIGNALS = (1, 2, 3, 10, 12, 14, 15)


def proxy_signals(ref: str) -> Callable[[], None]:
    """``--sig-proxy`` (the default without a terminal): the signals this process receives go to the
    container ``ref`` instead. Returns what puts the previous handlers back."""

    def forward(signum: int, _frame: object) -> None:
        from engine import DockyardError

        from .commands import engine

        try:
            engine().containers.kill(ref, str(signum))
        except DockyardError:
            pass  # it stopped meanwhile: its end ends the session

    previous = {sig: signal.signal(sig, forward) for sig in PROXIED_SIGNALS}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
