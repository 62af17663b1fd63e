"""What the supervisor's loop waits on: descriptors, each registered with a value of the caller's.

What the loop needs of ``selectors.DefaultSelector``, on epoll itself (for start-up speed: selectors loads
collections).
"""

from __future__ import annotations

import select

from ...lean.tools import suppress

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
    from typing import Any


class Poller:
    """Waits for input on descriptors, each registered with a value of the caller's."""

    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._data: dict[int, Any] = {}

    def register(self, fd: int | socket.socket, data: Any) -> None:
        fd = fd if isinstance(fd, int) else fd.fileno()
        if fd in self._data:
            raise KeyError(f"descriptor {fd} is already registered")
        self._epoll.register(fd, select.EPOLLIN)
        self._data[fd] = data

    def unregister(self, fd: int | socket.socket) -> None:
        """Stop watching ``fd`` (KeyError if it was not registered)."""
        fd = fd if isinstance(fd, int) else fd.fileno()
        del self._data[fd]
        with suppress(OSError):
            self._epoll.unregister(fd)

    def select(self, timeout: float) -> list[tuple[int, Any]]:
        """(fd, value) of each descriptor with input or at end of stream; waits up to ``timeout`` seconds."""
        ready = self._epoll.poll(max(timeout, 0.0), max(len(self._data), 1))
        return [(fd, self._data[fd]) for fd, _events in ready if fd in self._data]
