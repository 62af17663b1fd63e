"""A tiny inotify watcher (ctypes) so that following a log wakes on writes instead of sleeping in a loop."""

from __future__ import annotations

import ctypes
import os
import select

_libc = ctypes.CDLL("libc.so.6", use_errno=True)
IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000


class Watcher:
    def __init__(
        self, path: str, mask: int = IN_MODIFY | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF
    ) -> None:
        self.fd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.wd = _libc.inotify_add_watch(self.fd, os.fsencode(path), mask)

    def wait(self, timeout: float) -> bool:
        """Wait for a change (or the timeout); drains pending events. True if something happened."""
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            while os.read(self.fd, 65536):
                pass
        except BlockingIOError:
            pass
        return True

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
