"""``run -it`` and ``exec -it`` from a real terminal: the container's own /dev/pts, the caller's window size
from the start and after a resize (SIGWINCH), raw input, the exit code, and ctrl-p ctrl-q to detach."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time

from tests.conftest import DOCKYARD


class Terminal:
    """The real ``dockyard`` command on a pseudo-terminal of the given size."""

    def __init__(self, root: str, *args: str, rows: int = 30, cols: int = 100) -> None:
        self.master, slave = os.openpty()
        self.resize(rows, cols, fd=slave)
        self.proc = subprocess.Popen(
            [DOCKYARD, *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**os.environ, "DOCKYARD_ROOT": root},
            start_new_session=True,
        )
        os.close(slave)
        self.seen = b""

    def resize(self, rows: int, cols: int, fd: int | None = None) -> None:
        fcntl.ioctl(
            self.master if fd is None else fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0)
        )

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait_for(self, text: bytes, timeout: float) -> bool:
        """Read the terminal until ``text`` shows (True) or ``timeout`` passes (False)."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # EIO: the command has ended
                    chunk = b""
                if not chunk:
                    return text in self.seen
                if b"\x1b[6n" in chunk:  # the shell asks where the cursor is, as a terminal would answer
                    self.send(b"\x1b[1;1R")
                self.seen += chunk
        return True

    def expect(self, text: bytes, timeout: float = 15.0) -> None:
        assert self.wait_for(text, timeout), f"{text!r} never came; the terminal shows {self.seen[-400:]!r}"

    def wait(self, timeout: float = 15.0) -> int:
        code = self.proc.wait(timeout)
        os.close(self.master)
        return code


def test_run_it_gets_the_containers_own_terminal_sized_like_the_callers(root, busybox, cli) -> None:
    t = Terminal(root, "run", "--rm", "-it", busybox, "sh", rows=33, cols=101)
    t.expect(b"/ # ")
    t.send(b"tty; stty size; echo done-$((6*7))\r")
    t.expect(b"done-42")
    assert b"/dev/pts/0" in t.seen and b"33 101" in t.seen
    t.resize(40, 120)
    t.proc.send_signal(signal.SIGWINCH)
    for _ in range(30):  # the new size reaches the container's terminal a moment later
        t.send(b"stty size\r")
        if t.wait_for(b"40 120", 0.5):
            break
    t.expect(b"40 120", 0)
    t.send(b"exit 3\r")
    assert t.wait() == 3
    assert cli("ps", "-a", "-q").out.strip() == ""


def test_ctrl_p_ctrl_q_detaches_and_leaves_the_container_running(root, busybox, cli) -> None:
    t = Terminal(root, "run", "-it", "--name", "detachme", busybox, "sh")
    t.expect(b"/ # ")
    t.send(b"echo ready-$((1+1))\r")
    t.expect(b"ready-2")
    t.send(b"\x10\x11")
    t.expect(b"read escape sequence")
    assert t.wait() == 0
    try:
        assert cli("inspect", "-f", "{{.State.Status}}", "detachme").out.strip() == "running"
    finally:
        cli("rm", "-f", "detachme")


def test_exec_it_gets_a_terminal_inside_the_container(root, busybox, cli) -> None:
    cid = cli("run", "-d", busybox, "sleep", "60").out.strip()
    try:
        t = Terminal(
            root, "exec", "-it", cid, "sh", "-c", "tty; stty size; echo end-$((2*3))", rows=25, cols=77
        )
        t.expect(b"end-6")
        assert t.wait() == 0
        assert b"/dev/pts/" in t.seen and b"25 77" in t.seen and b"not a tty" not in t.seen
    finally:
        cli("rm", "-f", cid)
