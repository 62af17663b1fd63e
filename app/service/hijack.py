"""A connection taken over for a container's streams (``attach``, ``exec start``), as Docker's daemon does.

A request with ``Connection: Upgrade`` and ``Upgrade: tcp`` is answered ``101 UPGRADED``; from then on the
socket carries the client's input one way and the container's output the other, raw with a terminal and in
Docker's multiplexed frames without one. The client may close its sending side (its input ended) and still
read the output; the server closes the connection when the output ends. A request without the upgrade gets
a ``200`` whose body is the output (no input).

The streams run in threads (the engine's sessions are blocking): one reads the output and hands it to the
event loop, waiting while the client is slow; one writes the input. Both end when the session does, when
the client goes away, or when the server shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import select
import socket
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .api import frame

RAW_STREAM = "application/vnd.docker.raw-stream"
MULTIPLEXED_STREAM = "application/vnd.docker.multiplexed-stream"

#: The pause between the 101's headers and the first output (see Stream.hold_until).
HEADERS_GAP = 0.02

#: How often a client whose input has ended is looked at for a hang-up (seconds).
HANGUP_POLL = 0.25

#: What a reader hands over: (stream id, data) pairs; stream 1 is stdout, 2 stderr.
Chunks = list[tuple[int, bytes]]


def wants_upgrade(request: web.Request) -> bool:
    conn = {t.strip().lower() for t in request.headers.get("Connection", "").split(",")}
    return "upgrade" in conn and request.headers.get("Upgrade", "").strip().lower() == "tcp"


class _Upgraded(asyncio.Protocol):
    """The protocol of an upgraded connection: input to a callback, output with flow control; the request
    handler it replaced still hears of the connection's end (its server's bookkeeping needs it)."""

    def __init__(self, transport: asyncio.Transport, replaced: Any) -> None:
        self.transport = transport
        self.replaced = replaced
        self.on_input: Callable[[bytes | None], None] = lambda data: None
        self.lost = asyncio.Event()
        self.writable = asyncio.Event()
        self.writable.set()

    def data_received(self, data: bytes) -> None:
        self.on_input(data)

    def eof_received(self) -> bool:
        self.on_input(None)  # the client's input ended: its side stays open for the output
        self._watch_hangup()
        return True

    def _watch_hangup(self) -> None:
        """Once the input has ended nothing is read any more: a client that closed its whole socket, not just
        its sending side, is found by the hang-up a unix socket then shows (TCP shows none: such a client
        is found when output is written)."""
        if self.lost.is_set():
            return
        sock = self.transport.get_extra_info("socket")
        if sock is None or sock.family != socket.AF_UNIX:
            return
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLHUP)
        if poller.poll(0):
            self.transport.abort()
            return
        asyncio.get_running_loop().call_later(HANGUP_POLL, self._watch_hangup)

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set()
        self.writable.set()
        self.on_input(None)
        with contextlib.suppress(Exception):
            self.replaced.connection_lost(exc)


class Stream:
    """The client's end of a session: ``write`` the output, input through ``on_input`` (upgraded only)."""

    def __init__(self, response: web.StreamResponse, upgraded: _Upgraded | None, tty: bool) -> None:
        self.response = response
        self.upgraded = upgraded
        self.tty = tty
        #: clients (docker-py, Python's http.client) read the 101's headers through a buffer and then take
        #: the bare socket: output sent hard on the headers' heels would stay in that buffer, lost
        self.hold_until = asyncio.get_running_loop().time() + HEADERS_GAP if upgraded is not None else 0.0
        self.pending: list[bytes | None] = []  # input that came before anyone listened
        if upgraded is not None:
            upgraded.on_input = self.pending.append

    @property
    def interactive(self) -> bool:
        return self.upgraded is not None

    def on_input(self, callback: Callable[[bytes | None], None]) -> None:
        """``callback(data)`` for each piece of input, ``callback(None)`` once it ends."""
        if self.upgraded is None:
            callback(None)
            return
        for item in self.pending:
            callback(item)
        self.pending = []
        self.upgraded.on_input = callback

    @property
    def gone(self) -> bool:
        return self.upgraded is not None and self.upgraded.lost.is_set()

    async def wait_gone(self) -> None:
        if self.upgraded is None:
            await asyncio.Event().wait()  # the handler is cancelled when the client goes away
        else:
            await self.upgraded.lost.wait()

    async def write(self, stream: int, data: bytes) -> None:
        """Output of ``stream`` (1 stdout, 2 stderr): raw with a terminal, else one multiplexed frame."""
        if not data:
            return
        payload = data if self.tty else frame(stream, data)
        up = self.upgraded
        if up is None:
            await self.response.write(payload)
            return
        if self.hold_until:
            await asyncio.sleep(max(0.0, self.hold_until - asyncio.get_running_loop().time()))
            self.hold_until = 0.0
        if up.lost.is_set():
            raise ConnectionResetError("the client went away")
        up.transport.write(payload)
        await up.writable.wait()
        if up.lost.is_set():
            raise ConnectionResetError("the client went away")


async def open_stream(request: web.Request, tty: bool) -> Stream:
    """Answer the request for a stream: ``101`` and the raw connection when it asks for the upgrade, else a
    ``200`` with the output as its body. The response is returned by the handler when the session ends."""
    version = tuple(int(p) for p in str(request.get("api_version", "1.43")).split(".") if p.isdigit())
    content_type = MULTIPLEXED_STREAM if not tty and version >= (1, 42) else RAW_STREAM
    if not wants_upgrade(request):
        resp = web.StreamResponse(status=200)
        resp.content_type = content_type
        resp.force_close()
        await resp.prepare(request)
        return Stream(resp, None, tty)
    resp = web.StreamResponse(status=101, reason="UPGRADED")
    resp.headers["Content-Type"] = content_type
    resp.headers["Connection"] = "Upgrade"
    resp.headers["Upgrade"] = "tcp"
    resp.force_close()  # once the handler returns, the server closes the connection
    await resp.prepare(request)
    transport = request.transport
    if transport is None:
        raise ConnectionResetError("the client went away")
    replaced = request.protocol
    upgraded = _Upgraded(transport, replaced)
    stream = Stream(resp, upgraded, tty)
    early = getattr(replaced, "_message_tail", b"")  # input sent right behind the request
    if early:
        stream.pending.append(bytes(early))
        with contextlib.suppress(AttributeError):
            replaced._message_tail = b""
    transport.set_protocol(upgraded)
    transport.resume_reading()
    return stream


class DetachKeys:
    """Docker's detach sequence found in the input: ``feed`` returns what to pass on and whether the sequence
    was typed; a sequence cut between two reads is held back until the next one says which it is."""

    def __init__(self, keys: bytes) -> None:
        self.keys = keys
        self.held = b""

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        data, self.held = self.held + data, b""
        at = data.find(self.keys)
        if at >= 0:
            return data[:at], True
        for n in range(min(len(self.keys) - 1, len(data)), 0, -1):
            if data.endswith(self.keys[:n]):
                self.held = data[-n:]
                return data[:-n], False
        return data, False


def parse_detach_keys(spec: str) -> bytes:
    """Docker's ``detachKeys``: comma-separated single ASCII characters and ``ctrl-<key>`` (a letter or one
    of ``@ [ \\ ] ^ _``); empty means ctrl-p,ctrl-q."""
    from engine import InvalidArgument

    keys = b""
    for k in spec.split(","):
        k = k.strip()
        if (
            k.startswith("ctrl-")
            and len(k) == 6
            and ((k[5].isascii() and k[5].isalpha()) or k[5] in "@[\\]^_")
        ):
            keys += bytes([ord(k[5].upper()) - 64])
        elif len(k) == 1 and k.isascii():
            keys += k.encode()
        elif k:
            raise InvalidArgument(f"Invalid detach keys ({spec}) provided")
    return keys or b"\x10\x11"


class Source:
    """A blocking session the pump drives from its threads; ``finished`` once its output has ended."""

    finished = False

    def fds(self) -> list[int]:
        """What to wait on before ``read``."""
        raise NotImplementedError

    def read(self, ready: list[int]) -> Chunks | None:
        """Output now available (``ready``: those of ``fds()`` that are readable); None at the end."""
        raise NotImplementedError

    def write(self, data: bytes) -> None:
        """Input for the session."""

    def close_input(self) -> None:
        """The client's input ended."""


class Pump:
    """Runs a session between ``source`` and ``stream`` until the output ends (``"ended"``), the detach keys
    are typed (``"detached"``) or the client goes away (``"gone"``)."""

    def __init__(
        self,
        stream: Stream,
        source: Source,
        *,
        stdin: bool,
        detach_keys: bytes | None,
        closing: threading.Event,
    ) -> None:
        self.stream = stream
        self.source = source
        self.stdin = stdin
        self.detach = DetachKeys(detach_keys) if detach_keys else None
        self.closing = closing
        self.wake_r, self.wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self.stopped = threading.Event()
        self.inputs: queue.Queue[bytes | None] = queue.Queue()

    def stop(self) -> None:
        """Wake and end the threads (safe to call more than once, from anywhere)."""
        if not self.stopped.is_set():
            self.stopped.set()
            self.inputs.put(None)
            with contextlib.suppress(OSError):
                os.write(self.wake_w, b"x")

    async def run(self) -> str:
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[str] = loop.create_future()

        def finish(result: str) -> None:
            if not outcome.done():
                outcome.set_result(result)

        def on_input(data: bytes | None) -> None:
            if data is None:
                if self.stdin:
                    self.inputs.put(b"")
                return
            if not self.stdin:
                return
            if self.detach is not None:
                data, detached = self.detach.feed(data)
                if data:
                    self.inputs.put(data)
                if detached:
                    finish("detached")
                return
            self.inputs.put(data)

        def output() -> None:
            result = "gone"
            try:
                result = self._output(loop)
            finally:
                with contextlib.suppress(RuntimeError):  # the loop is closed
                    loop.call_soon_threadsafe(finish, result)

        threads = [threading.Thread(target=output, name="dockyard-api-out", daemon=True)]
        if self.stdin:
            threads.append(threading.Thread(target=self._input, name="dockyard-api-in", daemon=True))
        for t in threads:
            t.start()
        self.stream.on_input(on_input)
        gone = asyncio.ensure_future(self.stream.wait_gone())
        try:
            waiters: list[asyncio.Future[Any]] = [outcome, gone]
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            result = outcome.result() if outcome.done() else "gone"
        finally:
            gone.cancel()
            self.stop()
        if result == "ended":  # all the output was handed over: the thread is ending
            await loop.run_in_executor(None, threads[0].join, 5.0)
        return result

    def close(self) -> None:
        self.stop()
        for fd in (self.wake_r, self.wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _output(self, loop: asyncio.AbstractEventLoop) -> str:
        """Hand the output over until it ends (``"ended"``) or the session is given up (``"gone"``)."""
        while not self.stopped.is_set() and not self.closing.is_set():
            fds = self.source.fds()
            try:
                ready, _, _ = select.select([*fds, self.wake_r], [], [], 1.0)
            except InterruptedError:
                continue
            if self.wake_r in ready or self.stopped.is_set():
                break
            chunks = self.source.read(ready) if ready else []
            if chunks is None:
                return "ended"
            for stream, data in chunks:
                if not self._hand_over(loop, stream, data):
                    return "gone"
            if self.source.finished:
                return "ended"
        return "gone"

    def _hand_over(self, loop: asyncio.AbstractEventLoop, stream: int, data: bytes) -> bool:
        """Give ``data`` to the event loop and wait until the client took it (a slow client slows the
        session, as a terminal does); False once the client or the session is gone."""
        try:
            fut = asyncio.run_coroutine_threadsafe(self.stream.write(stream, data), loop)
        except RuntimeError:  # the loop is closed
            return False
        while True:
            try:
                fut.result(timeout=0.5)
                return True
            except TimeoutError:
                if self.stopped.is_set() or self.closing.is_set():
                    fut.cancel()
                    return False
            except Exception:  # the client went away
                return False

    def _input(self) -> None:
        while True:
            data = self.inputs.get()
            if data is None or self.stopped.is_set():
                return
            try:
                if data == b"":
                    self.source.close_input()
                    return
                self.source.write(data)
            except OSError:
                return
