"""Wake a callback when a file changes (inotify through watchdog), at most ``rate`` times a second.

Used to tail a container's log: the callback scans the appended bytes. No polling: the thread sleeps on an
event that the watchdog observer sets; a flood of writes is folded into one wake-up per interval.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer


class _Handler(FileSystemEventHandler):
    def __init__(self, path: str, wake: threading.Event) -> None:
        self.path = path
        self.wake = wake

    def on_any_event(self, event: FileSystemEvent) -> None:
        src = event.src_path if isinstance(event.src_path, str) else event.src_path.decode()
        if src == self.path:
            self.wake.set()


class FileFollower:
    def __init__(self, path: str, callback: Callable[[], None], rate: float = 10.0) -> None:
        self.path = os.path.abspath(path)
        self.callback = callback
        self.interval = 1.0 / rate
        self._wake = threading.Event()
        self._stop = False
        self._observer = Observer()
        self._observer.daemon = True
        self._observer.schedule(_Handler(self.path, self._wake), os.path.dirname(self.path), recursive=False)
        self._thread = threading.Thread(target=self._run, name="dockyard-follow", daemon=True)

    def start(self) -> FileFollower:
        self._observer.start()
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._stop:
                return
            self._wake.clear()
            try:
                self.callback()
            except Exception:
                pass
            time.sleep(self.interval)

    def stop(self) -> None:
        self._stop = True
        self._wake.set()
        try:
            self._observer.stop()
        except Exception:
            pass
