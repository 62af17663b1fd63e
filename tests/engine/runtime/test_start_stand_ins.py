"""The pieces the start path uses in place of json, socket and selectors behave as those did."""

from __future__ import annotations

import json
import os
import random
import socket
import time
from pathlib import Path

import pytest

from engine.kernel import syscalls
from engine.runtime import attachproto, logfile
from engine.runtime.supervisor.poller import Poller


def test_log_lines_are_what_json_dumps_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logfile, "rfc3339", lambda _t: "2024-01-01T12:00:00.123456789Z")
    writer = logfile.LogWriter(str(tmp_path / "log.json"))
    rnd = random.Random(7)
    pieces = [
        b"hi\n",
        b"",
        b"\xff\xfe not utf-8",
        "h\u00e9 \u2603 \U0001f600\n".encode(),
        b'"\\\t\x00\x1f\x7f',
    ]
    pieces += [bytes(rnd.randrange(256) for _ in range(rnd.randrange(64))) for _ in range(500)]
    for piece in pieces:
        for stream in ("stdout", "stderr"):
            expected = json.dumps(
                {"log": piece.decode("utf-8", "replace"), "stream": stream, "time": logfile.rfc3339(0)},
                ensure_ascii=False,
                separators=(",", ":"),
            )
            assert writer._emit(stream, piece) == expected.encode() + b"\n"
            entry = logfile.parse_line(expected.encode())
            assert entry is not None and entry.data == piece.decode("utf-8", "replace").encode()
    writer.close()
    assert logfile.parse_line(b"not json") is None


def test_descriptors_pass_over_a_socketpair() -> None:
    a, b = syscalls.socketpair()
    r, w = os.pipe()
    try:
        assert not os.get_inheritable(a) and not os.get_inheritable(b)
        syscalls.send_fds(a, b"G", [r, w])
        data, fds = syscalls.receive_fds(b, 8)
        assert data == b"G" and len(fds) == 2
        for sent, got in zip((r, w), fds, strict=True):
            assert os.fstat(sent).st_ino == os.fstat(got).st_ino
            assert not os.get_inheritable(got)
        os.write(fds[1], b"x")
        assert os.read(r, 1) == b"x"
        for fd in fds:
            os.close(fd)
        syscalls.send_fds(a, b"M", [])
        assert syscalls.receive_fds(b, 1) == (b"M", [])
        os.close(a)
        a = -1
        assert syscalls.receive_fds(b, 1) == (b"", [])
    finally:
        for fd in (a, b, r, w):
            if fd >= 0:
                os.close(fd)


def test_attach_socket_accepts_a_connection(tmp_path: Path) -> None:
    listener = attachproto.listen(str(tmp_path))
    client = attachproto.connect(str(tmp_path))
    conn = attachproto.accept(listener)
    try:
        assert (tmp_path / attachproto.SOCKET_NAME).stat().st_mode & 0o777 == 0o600
        assert conn.getblocking() and not os.get_inheritable(conn.fileno())
        client.sendall(attachproto.frame(attachproto.STDIN, b"in"))
        assert attachproto.Decoder().feed(conn.recv(64)) == [(attachproto.STDIN, b"in")]
        conn.sendall(b"out")
        assert client.recv(64) == b"out"
    finally:
        for s in (conn, client, listener):
            s.close()


def test_poller_reports_input_and_end_of_stream() -> None:
    poller = Poller()
    r, w = os.pipe()
    left, right = socket.socketpair()
    try:
        poller.register(r, "pipe")
        poller.register(left, "sock")
        with pytest.raises(KeyError):
            poller.register(r, "again")
        assert poller.select(0) == []
        started = time.monotonic()
        assert poller.select(-1) == []  # a negative timeout does not block
        assert poller.select(0.05) == [] and time.monotonic() - started >= 0.04
        os.write(w, b"x")
        right.sendall(b"y")
        assert sorted(poller.select(1), key=str) == sorted([(r, "pipe"), (left.fileno(), "sock")], key=str)
        os.read(r, 1)
        left.recv(1)
        os.close(w)
        w = -1
        assert poller.select(1) == [(r, "pipe")]  # the end of the stream counts as input
        poller.unregister(r)
        poller.unregister(left)
        with pytest.raises(KeyError):
            poller.unregister(r)
        assert poller.select(0) == []
    finally:
        for fd in (r, w):
            if fd >= 0:
                os.close(fd)
        left.close()
        right.close()
