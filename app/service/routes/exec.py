"""Exec and attach: ``POST /containers/{id}/exec``, ``/exec/{id}/start`` (the connection taken over, see
hijack.py), ``/exec/{id}/resize``, ``GET /exec/{id}/json``; ``POST /containers/{id}/attach`` (and the
same over a WebSocket at ``/containers/{id}/attach/ws``).

Exec instances live in the service (as in Docker's daemon): made by create, run once by start, kept for
inspect until many more have ended. A client attached to a container that is not running waits for its
start, and ``start_attached`` (which the start route calls) hands it the first byte of the output.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import select
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from engine import CommandNotFound, CommandNotInvokable, Conflict, DockyardError, InvalidArgument, NotFound
from engine.humanize import parse_time

from ..api import Api, ApiError, bool_param, int_param, json_body
from ..hijack import Chunks, Pump, Source, Stream, open_stream, parse_detach_keys

if TYPE_CHECKING:
    from engine import AttachSession, ExecProcess, ExecPty

#: Ended exec instances kept for inspect; past this the oldest go.
KEEP_ENDED = 512


# -- exec instances ------------------------------------------------------------------------------
@dataclass
class ExecInstance:
    id: str
    container_id: str
    cmd: list[str]
    env: list[str]
    workdir: str
    user: str
    privileged: bool
    tty: bool
    stdin: bool
    stdout: bool
    stderr: bool
    detach_keys: str
    console_size: tuple[int, int] | None
    running: bool = False
    started: bool = False
    exit_code: int | None = None
    pid: int = 0
    pty: ExecPty | None = None
    ended_at: float = 0.0
    #: set once start has made the process (or failed to): a resize that came first waits for it
    launched: asyncio.Event = field(default_factory=asyncio.Event)

    def inspect(self) -> dict[str, Any]:
        return {
            "ID": self.id,
            "Running": self.running,
            "ExitCode": self.exit_code,
            "ProcessConfig": {
                "tty": self.tty,
                "entrypoint": self.cmd[0],
                "arguments": self.cmd[1:],
                "privileged": self.privileged,
                "user": self.user,
            },
            "OpenStdin": self.stdin,
            "OpenStderr": self.stderr,
            "OpenStdout": self.stdout,
            "CanRemove": False,
            "ContainerID": self.container_id,
            "DetachKeys": self.detach_keys,
            "Pid": self.pid,
        }

    def ended(self, code: int) -> None:
        self.exit_code = code
        self.running = False
        self.pty = None
        self.ended_at = time.time()


@dataclass
class _Pending:
    """A client attached to a container that is not running: the socket its start will get."""

    session: AttachSession
    fd: int
    before: str = ""  # the container's StartedAt when the client came: a later one is the start it waited for
    started: asyncio.Event = field(default_factory=asyncio.Event)
    taken: bool = False


@dataclass
class _State:
    execs: dict[str, ExecInstance] = field(default_factory=dict)
    pending: dict[str, list[_Pending]] = field(default_factory=dict)

    def add(self, ex: ExecInstance) -> None:
        self.execs[ex.id] = ex
        ended = [e for e in self.execs.values() if e.exit_code is not None]
        if len(ended) > KEEP_ENDED:
            for e in sorted(ended, key=lambda e: e.ended_at)[: len(ended) - KEEP_ENDED]:
                del self.execs[e.id]


_STATES: weakref.WeakKeyDictionary[Api, _State] = weakref.WeakKeyDictionary()


def _state(api: Api) -> _State:
    st = _STATES.get(api)
    if st is None:
        st = _STATES[api] = _State()
    return st


def exec_ids(api: Api, container_id: str) -> list[str] | None:
    """The IDs of the container's exec instances still running, as Docker's inspect lists them (``ExecIDs``;
    None when there are none)."""
    ids = [e.id for e in _state(api).execs.values() if e.container_id == container_id and e.exit_code is None]
    return ids or None


def _find(api: Api, exec_id: str) -> ExecInstance:
    execs = _state(api).execs
    ex = execs.get(exec_id)
    if ex is None:
        matches = [e for i, e in execs.items() if exec_id and i.startswith(exec_id)]
        if len(matches) == 1:
            return matches[0]
        raise ApiError(404, f"No such exec instance: {exec_id}")
    return ex


async def start_attached(api: Api, ref: str) -> bool:
    """Start the container, handing the socket of the first client waiting to attach (``docker run``,
    ``start -a``) to it, so that client gets the output from its first byte. False if it was running."""
    cid = await api.call(api.engine.containers.resolve, ref)
    waiting = [p for p in _state(api).pending.get(cid, []) if not p.taken]
    if not waiting:
        return await api.call(api.engine.containers.start, cid)
    p = waiting[0]
    p.taken = True
    try:
        started = await api.call(api.engine.containers.start, cid, p.fd)
    except BaseException:
        p.taken = False
        raise
    with contextlib.suppress(OSError):
        os.close(p.fd)
    p.fd = -1
    p.started.set()
    return started


# -- the sessions ------------------------------------------------------------------------------------
class AttachSource(Source):
    """A container's stdio through its supervisor's attach socket."""

    def __init__(self, session: AttachSession, stdout: bool, stderr: bool, stdin_once: bool) -> None:
        self.session = session
        self.want = {1: stdout, 2: stderr}
        self.stdin_once = stdin_once

    def fds(self) -> list[int]:
        return [self.session.fileno()]

    def read(self, ready: list[int]) -> Chunks | None:
        chunks = self.session.read()
        if not chunks:
            return None
        return [(k, d) for k, d in chunks if self.want.get(k) and d]

    def write(self, data: bytes) -> None:
        self.session.send_stdin(data)

    def close_input(self) -> None:
        if self.stdin_once:  # as Docker: the container's stdin ends with its one client's
            self.session.close_stdin()


class ExecSource(Source):
    """An exec'd process: its output pipes (or terminal) until it ends, its stdin pipe (or terminal)."""

    def __init__(self, pid: int, outputs: dict[int, int], stdin_fd: int | None) -> None:
        self.pidfd = os.pidfd_open(pid)
        self.outputs = outputs  # fd -> stream id, while they are read
        self.owned = set(outputs) | ({stdin_fd} if stdin_fd is not None else set())
        self.stdin_fd = stdin_fd
        self.exited = False
        for fd in outputs:
            os.set_blocking(fd, False)

    def fds(self) -> list[int]:
        return [*self.outputs, self.pidfd] if not self.exited else list(self.outputs)

    def _read(self, fd: int) -> bytes:
        """What ``fd`` has (b"" for nothing yet, or at its end, when it is read no more)."""
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return b""
        except OSError:  # EIO: the terminal's other side is closed
            data = b""
        if not data:
            self.outputs.pop(fd, None)
        return data

    def read(self, ready: list[int]) -> Chunks | None:
        out: Chunks = []
        for fd in ready:
            stream = self.outputs.get(fd)
            if stream is not None:
                data = self._read(fd)
                if data:
                    out.append((stream, data))
        if self.pidfd in ready and not self.exited:
            self.exited = True
            out.extend(self._drain())
        if self.exited:
            self.finished = True
        return out

    def _drain(self) -> Chunks:
        """The process ended: what is left in its outputs (a child it left may hold them open: that is not
        waited for, as Docker's does not wait for it)."""
        out: Chunks = []
        deadline = time.monotonic() + 0.5
        while self.outputs and time.monotonic() < deadline:
            ready, _, _ = select.select(list(self.outputs), [], [], 0.05)
            if not ready:
                break
            for fd in ready:
                stream = self.outputs.get(fd)
                data = self._read(fd) if stream is not None else b""
                if data and stream is not None:
                    out.append((stream, data))
        self.outputs = {}
        return out

    def write(self, data: bytes) -> None:
        if self.stdin_fd is not None:
            os.write(self.stdin_fd, data)

    def close_input(self) -> None:
        fd, self.stdin_fd = self.stdin_fd, None
        if fd is not None:
            self.owned.discard(fd)
            with contextlib.suppress(OSError):
                os.close(fd)

    def close(self) -> None:
        self.outputs = {}
        self.stdin_fd = None
        for fd in [*self.owned, self.pidfd]:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.owned = set()


class TerminalSource(ExecSource):
    """An exec'd process on a terminal (a copy of its master, which carries both ways; its input does not
    end with the client's)."""

    def close_input(self) -> None:
        pass

    def close(self) -> None:
        for fd in self.owned:  # the copy shares the master's flags: a detached holder reads it blocking
            with contextlib.suppress(OSError):
                os.set_blocking(fd, True)
        super().close()


# -- exec ------------------------------------------------------------------------------------------------
def _console_size(value: Any) -> tuple[int, int] | None:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and v >= 0 for v in value):
        return (value[0], value[1]) if value[0] and value[1] else None
    if value is None:
        return None
    raise InvalidArgument("ConsoleSize must be [height, width]")


def _str_list(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument(f"{what} must be a list of strings")
    return list(value)


async def _body(request: web.Request) -> dict[str, Any]:
    """The JSON object of the request, its keys matched without regard to case (as Go decodes them)."""
    body = await json_body(request, {})
    if not isinstance(body, dict):
        raise InvalidArgument("the body must be a JSON object")
    return {str(k).lower(): v for k, v in body.items()}


def routes(api: Api) -> list[web.RouteDef]:
    engine = api.engine
    state = _state(api)

    async def exec_create(request: web.Request) -> web.Response:
        ref = request.match_info["id"]
        body = await _body(request)
        container = await api.call(engine.containers.get, ref)
        cmd = _str_list(body.get("cmd"), "Cmd")
        if container.status == "paused":
            raise ApiError(409, f"Container {container.id} is paused, unpause the container before exec")
        if container.status == "restarting":
            raise ApiError(
                409, f"Container {container.id} is restarting, wait until the container is running"
            )
        if container.status != "running":
            raise ApiError(409, f"Container {container.id} is not running")
        if not cmd:
            raise InvalidArgument("No exec command specified")
        keys = str(body.get("detachkeys") or "")
        if keys:
            parse_detach_keys(keys)
        ex = ExecInstance(
            id=secrets.token_hex(32),
            container_id=container.id,
            cmd=cmd,
            env=_str_list(body.get("env"), "Env"),
            workdir=str(body.get("workingdir") or ""),
            user=str(body.get("user") or ""),
            privileged=bool(body.get("privileged")),
            tty=bool(body.get("tty")),
            stdin=bool(body.get("attachstdin")),
            stdout=bool(body.get("attachstdout")),
            stderr=bool(body.get("attachstderr")),
            detach_keys=keys,
            console_size=_console_size(body.get("consolesize")),
        )
        if ex.workdir and not ex.workdir.startswith("/"):
            raise InvalidArgument(
                f"the working directory '{ex.workdir}' is invalid, it needs to be an absolute path"
            )
        state.add(ex)
        return api.json({"Id": ex.id}, status=201)

    async def exec_inspect(request: web.Request) -> web.Response:
        return api.json(_find(api, request.match_info["id"]).inspect())

    async def exec_resize(request: web.Request) -> web.Response:
        ex = _find(api, request.match_info["id"])
        h = int_param(request, "h", 0) or 0
        w = int_param(request, "w", 0) or 0
        if h < 0 or w < 0:
            raise InvalidArgument("height and width must be positive")
        if ex.started and not ex.launched.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ex.launched.wait(), timeout=10)
        if not ex.running:
            raise ApiError(409, f"Exec {ex.id} is not running, so it can not be resized.")
        if ex.pty is not None and h and w:
            await api.call(ex.pty.resize, h, w)
        return web.Response(status=200)

    def reap(ex: ExecInstance, proc: ExecProcess) -> None:
        """Wait for a process nobody streams any more and record how it ended (in a thread of its own)."""

        def run() -> None:
            code = proc.wait()
            api_loop.call_soon_threadsafe(ex.ended, code)

        api_loop = asyncio.get_running_loop()
        threading.Thread(target=run, name="dockyard-api-reap", daemon=True).start()

    def launch_detached(ex: ExecInstance) -> ExecProcess:
        """``Detach``: the process with no client (its output is dropped; a terminal is kept open for it)."""
        if ex.tty:
            rows, cols = ex.console_size or (24, 80)
            pty = engine.containers.exec_pty(
                ex.container_id, ex.cmd, env=ex.env, workdir=ex.workdir, user=ex.user,
                privileged=ex.privileged, rows=rows, cols=cols,
            )  # fmt: skip
            ex.pty = pty
            pty.release()
            return pty
        return engine.containers.exec_run(
            ex.container_id, ex.cmd, env=ex.env, workdir=ex.workdir, user=ex.user, privileged=ex.privileged
        )

    def launch(ex: ExecInstance) -> tuple[ExecProcess, ExecSource]:
        """Start the process (in a thread): with a terminal, or with pipes for what is attached."""
        if ex.tty:
            rows, cols = ex.console_size or (24, 80)
            pty = engine.containers.exec_pty(
                ex.container_id, ex.cmd, env=ex.env, workdir=ex.workdir, user=ex.user,
                privileged=ex.privileged, rows=rows, cols=cols,
            )  # fmt: skip
            ex.pty = pty
            master = os.dup(pty.master)  # the session's copy; the ExecPty keeps its own
            return pty, TerminalSource(pty.pid, {master: 1}, master)
        ends: list[int] = []  # the child's ends, closed here once it has them
        mine: list[int] = []
        fds: dict[str, int | None] = {"stdin": None, "stdout": None, "stderr": None}
        outputs: dict[int, int] = {}
        stdin_w = None
        try:
            if ex.stdin:
                r, stdin_w = os.pipe2(os.O_CLOEXEC)
                fds["stdin"] = r
                ends.append(r)
                mine.append(stdin_w)
            for name, sid, wanted in (("stdout", 1, ex.stdout), ("stderr", 2, ex.stderr)):
                if wanted:
                    r, w = os.pipe2(os.O_CLOEXEC)
                    fds[name] = w
                    ends.append(w)
                    mine.append(r)
                    outputs[r] = sid
            proc = engine.containers.exec_run(
                ex.container_id, ex.cmd, env=ex.env, workdir=ex.workdir, user=ex.user,
                privileged=ex.privileged, stdin=fds["stdin"], stdout=fds["stdout"], stderr=fds["stderr"],
            )  # fmt: skip
        except BaseException:
            for fd in mine:
                with contextlib.suppress(OSError):
                    os.close(fd)
            raise
        finally:
            for fd in ends:
                with contextlib.suppress(OSError):
                    os.close(fd)
        return proc, ExecSource(proc.pid, outputs, stdin_w)

    async def exec_start(request: web.Request) -> web.StreamResponse:
        ex = _find(api, request.match_info["id"])
        body = await _body(request)
        if ex.running:
            raise ApiError(409, f"Error: Exec command {ex.id} is already running")
        if ex.started:
            raise ApiError(409, f"Error: Exec command {ex.id} has already run")
        size = _console_size(body.get("consolesize"))
        if size:
            ex.console_size = size
        ex.started = True
        if body.get("detach"):
            try:
                proc = await api.call(launch_detached, ex)
            except (CommandNotFound, CommandNotInvokable) as e:
                ex.ended(e.exit_code)
                raise ApiError(400 if isinstance(e, CommandNotInvokable) else 404, str(e)) from None
            except Conflict:
                ex.started = False
                raise
            ex.running, ex.pid = True, proc.pid
            reap(ex, proc)
            return web.Response(status=200)

        container = await api.call(engine.containers.get, ex.container_id)
        if container.status != "running":  # said before the connection is taken over
            ex.started = False
            raise ApiError(409, f"Container {container.id} is not running")
        # As Docker's: the connection first, then the process (whose output may follow at once). The output
        # is framed unless the start (not the create) asked for a terminal, as Docker's does.
        stream = await open_stream(request, bool(body.get("tty")))
        launching = asyncio.ensure_future(api.call(launch, ex))
        try:
            proc, source = await asyncio.shield(launching)
        except asyncio.CancelledError:  # the client went away meanwhile: the process goes when it comes
            launching.add_done_callback(lambda f: abandon(ex, f))
            raise
        except DockyardError as e:  # a command, a user or a working directory that is not there...
            ex.ended(126)  # as Docker's daemon: 126 for an exec that could not start, whatever the cause
            with contextlib.suppress(ConnectionError):  # the message in the stream, the code in inspect
                await stream.write(2, f"{e}\r\n".encode() if ex.tty else f"{e}\n".encode())
            return stream.response
        finally:
            ex.launched.set()
        ex.running, ex.pid = True, proc.pid
        pty = ex.pty
        keys = parse_detach_keys(ex.detach_keys) if ex.tty and ex.stdin else None
        pump = Pump(stream, source, stdin=ex.stdin, detach_keys=keys, closing=api.closing)
        outcome = "gone"
        try:
            outcome = await pump.run()
        finally:
            pump.close()
            source.close()
            if outcome == "ended":
                ex.ended(await api.call(proc.wait))
                if pty is not None:
                    await api.call(pty.close)
            else:  # detached, or the client went away: a terminal's process goes on, a piped one is ended
                await _leave(ex, proc)
                reap(ex, proc)
        return stream.response

    def abandon(ex: ExecInstance, launched: asyncio.Future[tuple[ExecProcess, ExecSource]]) -> None:
        if launched.cancelled() or launched.exception() is not None:
            return
        proc, source = launched.result()
        source.close()
        ex.running, ex.pid = True, proc.pid
        asyncio.ensure_future(_leave(ex, proc)).add_done_callback(lambda _: reap(ex, proc))

    async def _leave(ex: ExecInstance, proc: ExecProcess) -> None:
        pty = ex.pty
        if pty is not None:
            await asyncio.get_running_loop().run_in_executor(None, pty.release)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, 9)

    # -- attach ---------------------------------------------------------------------------------------
    async def attach(request: web.Request) -> web.StreamResponse:
        ref = request.match_info["id"]
        cfg = await api.call(engine.containers.config, ref)
        container = await api.call(engine.containers.get, ref)
        keys_spec = request.query.get("detachKeys", "")
        keys = parse_detach_keys(keys_spec)
        logs = bool_param(request, "logs")
        follow = bool_param(request, "stream")
        want_in = bool_param(request, "stdin") and cfg.open_stdin
        want_out = bool_param(request, "stdout")
        want_err = bool_param(request, "stderr")
        if container.status == "restarting":
            raise ApiError(409, "You cannot attach to a restarting container, wait until it is running")
        if container.status == "paused" and follow:
            raise ApiError(409, "You cannot attach to a paused container, unpause it first")
        session: AttachSession | None = None
        pending: _Pending | None = None
        if follow:
            if container.status == "running":
                session = await api.call(engine.containers.attach, container.id)
            else:  # it is waited for: its start (start_attached) hands it the socket
                pair = await api.call(engine.containers.attach_socket)
                session = pair[0]
                pending = _Pending(*pair, before=container.started_at)
                state.pending.setdefault(container.id, []).append(pending)
        try:
            stream = await open_stream(request, cfg.tty)
            if logs:
                entries = api.iterate(
                    lambda stopped: engine.containers.logs(container.id, stdout=want_out, stderr=want_err)
                )
                async for e in entries:
                    await stream.write(1 if e.stream == "stdout" else 2, e.data)
            if session is None:
                return stream.response
            if pending is not None:
                session, missed = await _wait_start(container.id, pending, stream)
                if missed is not None:
                    since, until = missed  # another client's start: what was written before this one came
                    entries = api.iterate(
                        lambda stopped: engine.containers.logs(
                            container.id, since=since, until=until, stdout=want_out, stderr=want_err
                        )
                    )
                    async for e in entries:
                        await stream.write(1 if e.stream == "stdout" else 2, e.data)
                if session is None:
                    return stream.response
            source = AttachSource(session, want_out, want_err, cfg.stdin_once)
            pump = Pump(
                stream, source, stdin=want_in, detach_keys=keys if cfg.tty else None, closing=api.closing
            )
            try:
                await pump.run()
            finally:
                pump.close()
            return stream.response
        finally:
            if pending is not None:
                _drop_pending(container.id, pending)
            if session is not None:
                session.close()

    def _drop_pending(cid: str, p: _Pending) -> None:
        waiting = state.pending.get(cid, [])
        with contextlib.suppress(ValueError):
            waiting.remove(p)
        if not waiting:
            state.pending.pop(cid, None)
        if p.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(p.fd)
            p.fd = -1

    async def _wait_start(
        cid: str, p: _Pending, stream: Stream
    ) -> tuple[AttachSession | None, tuple[float, float | None] | None]:
        """Until the container starts: by ``start_attached`` (the session sees its first byte), or some other
        way, another client's ``start_attached`` among them: then a new session connects if it still runs,
        and the second item is the span of its log (since its start; until now, or its end when it has
        ended) to send first, written before this client was served. (None, None) if the client went away
        first or the container was removed."""
        while True:
            if stream.gone:
                return None, None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(p.started.wait(), timeout=0.2)
            if p.started.is_set():
                return p.session, None
            if p.taken:
                continue
            with contextlib.suppress(NotFound):
                c = await api.call(engine.containers.get, cid)
                if p.taken or not c.started_at or c.started_at == p.before:
                    continue  # not started yet
                _drop_pending(cid, p)
                p.session.close()
                since = parse_time(c.started_at)
                if c.status != "running":
                    return None, (since, None)  # it ran and ended meanwhile: its whole output
                now = time.time()
                return await api.call(engine.containers.attach, cid), (since, now)
            return None, None  # removed meanwhile

    async def attach_ws(request: web.Request) -> web.StreamResponse:
        """The attach over a WebSocket: binary messages both ways, the output raw (as Docker's)."""
        ref = request.match_info["id"]
        cfg = await api.call(engine.containers.config, ref)
        container = await api.call(engine.containers.get, ref)
        want_in = bool_param(request, "stdin") and cfg.open_stdin
        want_out = bool_param(request, "stdout")
        want_err = bool_param(request, "stderr")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        session: AttachSession | None = None
        try:
            if bool_param(request, "logs"):
                async for e in api.iterate(
                    lambda stopped: engine.containers.logs(container.id, stdout=want_out, stderr=want_err)
                ):
                    await ws.send_bytes(e.data)
            if not bool_param(request, "stream") or container.status != "running":
                return ws
            session = await api.call(engine.containers.attach, container.id)
            source = AttachSource(session, want_out, want_err, cfg.stdin_once)
            stream = _WsStream(ws)
            pump = Pump(stream, source, stdin=want_in, detach_keys=None, closing=api.closing)  # type: ignore[arg-type]
            reader = asyncio.ensure_future(stream.read_input())
            try:
                await pump.run()
            finally:
                reader.cancel()
                pump.close()
            return ws
        finally:
            if session is not None:
                session.close()
            await ws.close()

    return [
        web.post("/containers/{id}/exec", exec_create),
        web.post("/exec/{id}/start", exec_start),
        web.post("/exec/{id}/resize", exec_resize),
        web.get("/exec/{id}/json", exec_inspect),
        web.post("/containers/{id}/attach", attach),
        web.get("/containers/{id}/attach/ws", attach_ws),
    ]


class _WsStream:
    """A WebSocket in the place of an upgraded connection."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.tty = True
        self.callback: Any = None
        self.done = asyncio.Event()

    @property
    def gone(self) -> bool:
        return self.ws.closed

    def on_input(self, callback: Any) -> None:
        self.callback = callback

    async def wait_gone(self) -> None:
        await self.done.wait()

    async def write(self, stream: int, data: bytes) -> None:
        if data:
            await self.ws.send_bytes(data)

    async def read_input(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type == web.WSMsgType.BINARY and self.callback is not None:
                    self.callback(msg.data)
                elif msg.type == web.WSMsgType.TEXT and self.callback is not None:
                    self.callback(msg.data.encode())
        finally:
            self.done.set()
