"""A container's terminal, made inside the container (what runc's console socket does).

A process started with ``-t`` (PID 1, or ``exec -t``) opens the ptmx of the container's own devpts, takes
the new pty's other end as its stdio and controlling terminal, and sends the master over a unix socket to
whoever relays the terminal (the supervisor, or the exec caller). So the terminal is ``/dev/pts/N`` inside
the container: ``tty`` names it and ttyname() works, as with Docker; a host pty would have no name there.

    caller, child_end = socketpair()          # before the fork
    ... in the container: master, slave, name = open_pty(); send(child_end, master)
    master = receive(caller)                  # once the process has exec'd
"""

from __future__ import annotations

import fcntl
import os
import stat
import struct

from engine.kernel import syscalls

TIOCSWINSZ = 0x5414  # set the window size (termios.TIOCSWINSZ, without loading termios)
TIOCSPTLCK = 0x40045431  # unlock the pty's other end
TIOCGPTN = 0x80045430  # its number in the devpts instance
TIOCGPTPEER = 0x5441  # open it from the master, without a path lookup
PTMX = "/dev/pts/ptmx"  # the devpts instance's own multiplexer (/dev/ptmx links to it)
_PTMX_RDEV = os.makedev(5, 2)


def socketpair() -> tuple[int, int]:
    """(the caller's end, the child's end) of the socket the master comes back on; close-on-exec."""
    return syscalls.socketpair()


def open_pty(ptmx: str = PTMX, rows: int = 0, cols: int = 0) -> tuple[int, int, str]:
    """A new pty of the devpts instance ``ptmx`` belongs to: (master, slave, slave's path). Refuses anything
    but the ptmx device (a container could have put something else at the path)."""
    master = os.open(ptmx, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC | os.O_NOFOLLOW)
    slave = -1
    try:
        st = os.fstat(master)
        if not stat.S_ISCHR(st.st_mode) or st.st_rdev != _PTMX_RDEV:
            raise OSError(f"{ptmx} is not the pty multiplexer")
        fcntl.ioctl(master, TIOCSPTLCK, struct.pack("i", 0))
        number = struct.unpack("I", fcntl.ioctl(master, TIOCGPTN, struct.pack("I", 0)))[0]
        slave = fcntl.ioctl(master, TIOCGPTPEER, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
        if rows and cols:
            fcntl.ioctl(slave, TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    except BaseException:
        os.close(master)
        if slave >= 0:
            os.close(slave)
        raise
    return master, slave, f"{os.path.dirname(ptmx)}/{number}"


def send(sock_fd: int, master: int) -> None:
    """Hand ``master`` to the other end of ``sock_fd``."""
    syscalls.send_fds(sock_fd, b"M", [master])


def receive(sock_fd: int) -> int:
    """The master the container's process sent (it was sent before its exec, so it is waiting here)."""
    _data, fds = syscalls.receive_fds(sock_fd, 1)
    if not fds:
        raise OSError("the container's process sent no terminal")
    return fds[0]
