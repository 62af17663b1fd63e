"""The kernel's interfaces the engine calls directly, with nothing of the engine above them: system calls
through ctypes (``syscalls``), process facts from /proc (``procinfo``), inotify (``inotify``)."""
