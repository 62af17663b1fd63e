"""What every route module of the Engine API service shares: the engine, called in threads; Docker's JSON
replies and error bodies; query parameters read as Docker reads them; the multiplexed stream and JSON-lines
progress writers; a blocking iterator (logs, stats, events, progress) turned into an async one that stops
its thread when the client goes away."""

from __future__ import annotations

import asyncio
import contextlib
import json as _json
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiohttp import web

from engine import Conflict, Engine, InvalidArgument, NotFound

T = TypeVar("T")

__all__ = [
    "API_VERSION", "MIN_API_VERSION", "Api", "ApiError", "BodyReader", "JsonLines", "MuxWriter", "api_version",
    "bool_param", "dumps", "error_body", "filters_param", "frame", "int_param", "json_body", "status_of",
    "stream_response", "version_at_least", "vtuple",
]  # fmt: skip

#: The newest API version served, and the oldest a client may ask for (Docker 25's floor).
API_VERSION = "1.43"
MIN_API_VERSION = "1.24"

#: Threads for engine calls: a `wait` or a followed stream holds one for as long as it lasts, so there are
#: many (they cost nothing while idle); a client past them waits in the queue, the event loop never does.
MAX_THREADS = 256


class ApiError(Exception):
    """A refusal with Docker's status and message, raised by route code; the server turns it into
    ``{"message": ...}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def status_of(exc: BaseException) -> int:
    """Docker's HTTP status for an engine error."""
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, InvalidArgument):
        return 400
    return 500


def error_body(status: int, message: str) -> web.Response:
    return web.Response(
        status=status,
        body=_json.dumps({"message": message}).encode() + b"\n",
        content_type="application/json",
    )


def dumps(data: Any) -> bytes:
    return _json.dumps(data, separators=(",", ":")).encode()


class Api:
    """The engine and the ways the routes reach it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pool = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="dockyard-api")
        #: set when the server shuts down: every stream ends
        self.closing = threading.Event()

    # -- calling the engine -----------------------------------------------------------------
    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a thread of the pool: the event loop goes on meanwhile."""
        loop = asyncio.get_running_loop()
        if kwargs:
            return await loop.run_in_executor(self.pool, lambda: fn(*args, **kwargs))
        return await loop.run_in_executor(self.pool, fn, *args)

    async def iterate(self, produce: Callable[[Callable[[], bool]], Iterable[T]]) -> AsyncIterator[T]:
        """The items of ``produce(stopped)`` (a blocking iterator, run in a thread) as they come.

        ``stopped()`` turns true when the consumer is gone (the client disconnected, the response ended,
        the server is shutting down): a producer that waits for something to happen must look at it
        between waits and end. Once the async iterator is closed, the thread is stopped and joined."""

        def body(put: Callable[[Any], bool], stopped: Callable[[], bool]) -> None:
            it = iter(produce(stopped))
            try:
                for item in it:
                    if stopped() or not put(item):
                        break
            finally:
                close = getattr(it, "close", None)
                if close is not None:
                    with contextlib.suppress(Exception):
                        close()

        async for item in self._pump(body, 64):
            yield item

    async def written(self, write: Callable[[Any], object], chunk: int = 1 << 16) -> AsyncIterator[bytes]:
        """What ``write(out)`` (run in a thread) writes to the binary file ``out``, as it is written (a tar
        being made: export, archive, save). Once the consumer is gone, ``out.write`` raises BrokenPipeError
        and the thread ends."""

        def body(put: Callable[[Any], bool], stopped: Callable[[], bool]) -> None:
            out = _PumpFile(put, stopped, chunk)
            write(out)
            out.flush()

        async for data in self._pump(body, 16):
            yield data

    async def _pump(
        self, body: Callable[[Callable[[Any], bool], Callable[[], bool]], None], maxsize: int
    ) -> AsyncIterator[Any]:
        """What ``body(put, stopped)``, run in a thread, puts, as it comes. ``put`` waits while the queue
        is full (a slow client holds its producer, which then reads no further) and returns False once the
        consumer is gone; an exception of ``body`` is raised here."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=maxsize)
        stop = threading.Event()

        def stopped() -> bool:
            return stop.is_set() or self.closing.is_set()

        def send(kind: str, value: Any) -> bool:
            fut = asyncio.run_coroutine_threadsafe(queue.put((kind, value)), loop)
            while True:
                try:
                    fut.result(timeout=0.25)
                    return True
                except TimeoutError:
                    if stopped():
                        fut.cancel()
                        return False
                except Exception:  # the loop is closed
                    return False

        def run() -> None:
            try:
                body(lambda value: send("item", value), stopped)
            except BaseException as e:  # handed to the consumer, which raises it
                if not stopped():
                    send("error", e)
                return
            if not stopped():
                send("end", None)

        worker = loop.run_in_executor(self.pool, run)
        try:
            while True:
                kind, value = await queue.get()
                if kind == "end":
                    break
                if kind == "error":
                    raise value
                yield value
        finally:
            stop.set()
            while not queue.empty():  # free a producer blocked on a full queue
                queue.get_nowait()
            await asyncio.shield(worker)

    def body_reader(self, request: web.Request) -> BodyReader:
        """The request's body as a blocking binary file, for an engine call running in a thread (a tar to
        extract, a build context, an image archive to load)."""
        return BodyReader(request, asyncio.get_running_loop(), self.closing)

    # -- replies --------------------------------------------------------------------------
    @staticmethod
    def json(data: Any, status: int = 200) -> web.Response:
        return web.Response(status=status, body=dumps(data) + b"\n", content_type="application/json")

    @staticmethod
    def engine_error(exc: BaseException) -> web.Response:
        """Docker's reply for an engine error: its status and ``{"message": ...}``."""
        return error_body(status_of(exc), str(exc))

    @staticmethod
    def no_content() -> web.Response:
        return web.Response(status=204)


class _PumpFile:
    """A binary file whose writes go, in chunks, to a pump's consumer; BrokenPipeError once it is gone."""

    def __init__(self, put: Callable[[Any], bool], stopped: Callable[[], bool], chunk: int) -> None:
        self.put, self.stopped, self.chunk = put, stopped, chunk
        self.buf = bytearray()

    def write(self, data: bytes) -> int:
        if self.stopped():
            raise BrokenPipeError("the client went away")
        self.buf += data
        if len(self.buf) >= self.chunk:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self.buf:
            if not self.put(bytes(self.buf)):
                raise BrokenPipeError("the client went away")
            self.buf.clear()


def vtuple(v: str) -> tuple[int, ...]:
    """An API version as numbers, to compare; (-1,) when it is not one."""
    try:
        return tuple(int(p) for p in v.split("."))
    except ValueError:
        return (-1,)


def api_version(request: web.Request) -> str:
    """The API version of this request: the path's, else the newest served."""
    return str(request.get("api_version", API_VERSION))


def version_at_least(request: web.Request, v: str) -> bool:
    return vtuple(api_version(request)) >= vtuple(v)


class BodyReader:
    """A request body read from a thread: ``read(n)`` waits on the event loop for the next bytes."""

    def __init__(
        self, request: web.Request, loop: asyncio.AbstractEventLoop, closing: threading.Event
    ) -> None:
        self.content = request.content
        self.loop = loop
        self.closing = closing
        self.total = 0

    def read(self, n: int = -1) -> bytes:
        if self.closing.is_set():
            raise BrokenPipeError("the server is shutting down")
        if n is None or n < 0:
            coro = self.content.read(-1)
        else:
            coro = self.content.read(n)
        data: bytes = asyncio.run_coroutine_threadsafe(coro, self.loop).result()
        self.total += len(data)
        return data

    def readable(self) -> bool:
        return True


# -- query parameters, read as Docker reads them ---------------------------------------------------
def bool_param(request: web.Request, name: str, default: bool = False) -> bool:
    """Docker's boolean query value: absent → ``default``; "", "0", "false", "no" (any case) → False."""
    if name not in request.query:
        return default
    value = request.query[name].strip().lower()
    return value not in ("", "0", "false", "no", "off")


def int_param(request: web.Request, name: str, default: int | None = None) -> int | None:
    """An integer query value; InvalidArgument (400) if it is not one."""
    value = request.query.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidArgument(f"invalid value for {name}: {value!r}: not an integer") from None


def filters_param(request: web.Request, name: str = "filters") -> dict[str, list[str]]:
    """Docker's JSON ``filters`` query value (``{"key": ["v"]}`` or the older ``{"key": {"v": true}}``)
    as the engine's filters: key → values."""
    raw = request.query.get(name, "")
    if not raw:
        return {}
    try:
        doc = _json.loads(raw)
    except ValueError:
        raise InvalidArgument(f"invalid filter: {raw!r} is not JSON") from None
    if not isinstance(doc, dict):
        raise InvalidArgument(f"invalid filter: {raw!r} is not a JSON object")
    out: dict[str, list[str]] = {}
    for key, values in doc.items():
        if isinstance(values, dict):
            out[key] = [str(v) for v, on in values.items() if on]
        elif isinstance(values, list):
            out[key] = [str(v) for v in values]
        elif isinstance(values, str):
            out[key] = [values]
        else:
            raise InvalidArgument(f"invalid filter: the values of {key!r} are not a list")
    return out


async def json_body(request: web.Request, default: Any = None) -> Any:
    """The request's JSON body (``default`` when empty); InvalidArgument (400) when it does not parse."""
    data = await request.read()
    if not data.strip():
        return default
    try:
        return _json.loads(data)
    except ValueError as e:
        raise InvalidArgument(f"invalid JSON body: {e}") from None


# -- streams ------------------------------------------------------------------------------------------
STDIN, STDOUT, STDERR = 0, 1, 2
STREAM_IDS = {"stdin": STDIN, "stdout": STDOUT, "stderr": STDERR}


def frame(stream: int, data: bytes) -> bytes:
    """One frame of Docker's multiplexed stream: stream id, three zero bytes, the big-endian length."""
    return bytes((stream, 0, 0, 0)) + len(data).to_bytes(4, "big") + data


class MuxWriter:
    """Writes a container's output to a response: framed (Docker's multiplexed stream) unless the
    container has a TTY, when it is the raw bytes."""

    def __init__(self, response: web.StreamResponse, tty: bool) -> None:
        self.response = response
        self.tty = tty

    async def write(self, stream: int | str, data: bytes) -> None:
        if not data:
            return
        if self.tty:
            await self.response.write(data)
            return
        sid = STREAM_IDS.get(stream, STDOUT) if isinstance(stream, str) else stream
        await self.response.write(frame(sid, data))


async def stream_response(
    request: web.Request, content_type: str = "application/json", status: int = 200
) -> web.StreamResponse:
    """A response sent as it is written (chunked), its headers already on their way."""
    resp = web.StreamResponse(status=status)
    resp.content_type = content_type
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    return resp


class JsonLines:
    """Writes JSON documents one per line (pull, push, build, load progress; events; stats)."""

    def __init__(self, response: web.StreamResponse) -> None:
        self.response = response

    async def write(self, doc: Any) -> None:
        await self.response.write(dumps(doc) + b"\n")

    async def error(self, message: str) -> None:
        """The error of a stream already begun, as Docker's progress reports it."""
        await self.write({"errorDetail": {"message": message}, "error": message})
