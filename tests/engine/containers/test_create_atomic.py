"""A create killed at any point leaves a whole container or nothing that the sweep does not remove; a stop
signal is checked before anything is written."""

from __future__ import annotations

import ctypes
import os
import select
import signal
import struct
import subprocess
import time

from engine.runtime.signals import parse_signal
from tests.conftest import DOCKYARD

_libc = ctypes.CDLL("libc.so.6", use_errno=True)
IN_CLOSE_WRITE, IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x8, 0x40, 0x80, 0x100, 0x200
IN_ISDIR = 0x40000000
_MASK = IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE


class TreeWatch:
    """inotify over a directory tree: each file created, written, renamed or removed is one event (directories
    made while watching are watched from when they are seen)."""

    def __init__(self, top: str) -> None:
        self.fd = _libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0, os.strerror(ctypes.get_errno())
        self.dirs: dict[int, str] = {}
        for path, _dirs, _files in os.walk(top):
            self._add(path)

    def _add(self, path: str) -> None:
        wd = _libc.inotify_add_watch(self.fd, os.fsencode(path), _MASK)
        if wd >= 0:
            self.dirs[wd] = path

    def events(self, timeout: float) -> int:
        """Wait up to ``timeout`` for events; how many came."""
        if not select.select([self.fd], [], [], timeout)[0]:
            return 0
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return 0
        count, at = 0, 0
        while at < len(data):
            wd, mask, _cookie, size = struct.unpack_from("iIII", data, at)
            name = data[at + 16 : at + 16 + size].rstrip(b"\0").decode()
            at += 16 + size
            if mask & (IN_CREATE | IN_MOVED_TO) and mask & IN_ISDIR and wd in self.dirs:
                self._add(os.path.join(self.dirs[wd], name))
            count += 1
        return count

    def close(self) -> None:
        os.close(self.fd)


def _create_killed_after(root: str, events: int) -> bool:
    """Run ``dockyard create --rm --name half``, SIGKILL it once it has made ``events`` changes under the
    root; False if it finished first."""
    watch = TreeWatch(root)
    try:
        p = subprocess.Popen(
            [DOCKYARD, "create", "--rm", "--name", "half", "busybox", "true"],
            env={**os.environ, "DOCKYARD_ROOT": root},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seen = 0
        while seen < events and p.poll() is None:
            seen += watch.events(0.02)
        p.send_signal(signal.SIGKILL)
        return p.wait(timeout=30) == -signal.SIGKILL
    finally:
        watch.close()


def _on_disk(root: str) -> dict[str, object]:
    containers = os.path.join(root, "containers")
    index = os.path.join(containers, "names")
    return {
        "containers": sorted(n for n in os.listdir(containers) if n not in ("names", "ids")),
        "names": {n: os.readlink(os.path.join(index, n))[3:] for n in os.listdir(index)}
        if os.path.isdir(index)
        else {},
        "tmp": os.listdir(os.path.join(root, "tmp")),
    }


def _nothing_made(root: str) -> None:
    assert _on_disk(root) == {"containers": [], "names": {}, "tmp": []}


def test_a_create_killed_at_any_point_leaves_a_whole_container_or_a_swept_temporary(root, cli, busybox):
    kills = 0
    for events in range(1, 80):
        if not _create_killed_after(root, events):
            break  # it finished before making that many changes: every point was tried
        kills += 1
        listed = cli("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}").out.split()
        dirs = [n for n in os.listdir(os.path.join(root, "containers")) if len(n) == 64]
        assert dirs == listed[::2], f"killed after {events} changes: ps -a shows {listed}, on disk {dirs}"
        if listed:
            assert listed[1] == "half"
            cli("rm", "-f", "half")
        else:  # nothing was made: the name is free
            cli("create", "--name", "half", busybox, "true")
            cli("rm", "half")
        cli("system", "check")
        _nothing_made(root)
    assert kills > 5
    assert cli("ps", "-a", "--format", "{{.Names}}").out.split() == ["half"]  # the create that finished


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_the_sweep_removes_what_a_killed_create_left(root, cli, busybox):
    """A create killed while it wrote config.json in place left the directory with state.json and the
    config's temporary, invisible to ps -a and rm -f; one killed after reserving its name leaves the name
    without a container; any killed write leaves its temporary."""
    cid = cli("create", "--name", "whole", busybox, "true").out.strip()
    containers = os.path.join(root, "containers")
    pid = _dead_pid()
    half = os.path.join(containers, "ab" * 32)
    for d in ("", "upper", "work", "rootfs"):
        os.mkdir(os.path.join(half, d), 0o700)
    with open(os.path.join(half, "state.json"), "w") as f:
        f.write('{"status": "created"}\n')
    with open(os.path.join(half, f".tmp-{pid}-0123456789ab~"), "w") as f:
        f.write('{"id": "' + "ab" * 32 + '", "name": "ha')  # config.json, cut short
    with open(os.path.join(containers, f".tmp-{pid}-0123456789ab~"), "w") as f:
        f.write("{")  # a write in containers/, cut short
    with open(os.path.join(containers, cid, f".tmp-{pid}-ba9876543210~"), "w") as f:
        f.write("{")  # the whole container's state.json, cut short
    assert os.readlink(os.path.join(containers, "names", "whole")) == "../" + cid
    os.symlink("../" + "cd" * 32, os.path.join(containers, "names", "gone"))  # a create killed after it

    assert cli("ps", "-a", "-q", "--no-trunc").out.split() == [cid]
    cli("create", "--name", "gone", busybox, "true")  # a name without its container is free
    cli("rm", "gone")
    assert f"cleaned: {half}\n" in cli("system", "check").out
    assert _on_disk(root) == {"containers": [cid], "names": {"whole": cid}, "tmp": []}
    assert sorted(os.listdir(os.path.join(containers, cid))) == [
        "config.json",
        "rootfs",
        "state.json",
        "upper",
        "work",
    ]
    cli("rm", "whole")
    _nothing_made(root)


def test_a_stop_signal_that_is_no_signal_is_refused_before_anything_is_written(root, cli, busybox):
    for command in ("create", "run"):
        for bad in ("SIGFOO", "FOO", "0", "65", "-1", "SIG_IGN", "SIGRTMIN+31"):
            r = cli.fails(command, "--stop-signal", bad, busybox, "true", code=125)
            assert r.err.splitlines()[-1] == f"Error: Invalid signal: {bad}"
            _nothing_made(root)
    for good, number in (("SIGUSR1", 10), ("usr1", 10), ("10", 10), ("SIGRTMIN+3", 37), ("RTMAX", 64)):
        cid = cli("create", "--stop-signal", good, busybox, "true").out.strip()
        assert cli("inspect", "-f", "{{.Config.StopSignal}}", cid).out.strip() == good
        assert parse_signal(good) == number
        cli("rm", cid)


def test_an_images_stop_signal_is_checked_when_create_uses_it(root, cli, engine_, busybox_tar):
    with open(busybox_tar, "rb") as f:  # as a pulled or loaded image may come (import itself refuses it)
        engine_.images.store.import_tar(
            f, "badstop:latest", "", {"Cmd": ["sleep", "60"], "StopSignal": "SIGFOO"}
        )
    r = cli.fails("run", "-d", "badstop", code=125)
    assert r.err.splitlines()[-1] == "Error: Invalid signal: SIGFOO"
    _nothing_made(root)
    cli("run", "-d", "--name", "given", "--stop-signal", "SIGKILL", "badstop")  # the image's is not used
    assert cli.fails("stop", "-s", "SIGFOO", "given", code=1).err == "Error: Invalid signal: SIGFOO\n"
    assert cli("inspect", "-f", "{{.State.Status}}", "given").out.strip() == "running"
    started = time.monotonic()
    cli("stop", "given")  # sleep, as PID 1, ignores SIGTERM: only the stop signal ends it at once
    assert time.monotonic() - started < 5
    assert cli("inspect", "-f", "{{.State.ExitCode}}", "given").out.strip() == "137"
    cli("rm", "given")


def test_an_environment_variable_with_a_nul_is_refused_at_create(root, cli, busybox, tmp_path):
    env_file = tmp_path / "env.list"
    env_file.write_bytes(b"A=1\nB=x\x00y\n")
    r = cli.fails("create", "--env-file", str(env_file), "--network", "none", busybox, code=125)
    assert "invalid environment variable" in r.err
    _nothing_made(root)
