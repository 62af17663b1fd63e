"""Image endpoints: ``/images/json``, ``/images/create`` (pull, or import of a tarball in the body),
``/images/{name}/json`` (the engine's ``image inspect``), ``/history``, ``/tag``, ``/push``, ``DELETE
/images/{name}``, ``/images/prune``, ``/images/{name}/get`` and ``/images/get`` (a ``save`` tar),
``/images/load``, ``/images/search``, and ``/commit`` (a container's changes as a new image).

Pull, push and load answer with Docker's JSON-lines progress as the work goes on. An error before the first
line is an HTTP error status (404, 400...); once lines have gone, it is the stream's last line
(``{"errorDetail": ..., "error": ...}``), as Docker's daemon does it."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from aiohttp import web

from engine import DockyardError, InvalidArgument

from ..api import (
    Api,
    ApiError,
    JsonLines,
    bool_param,
    filters_param,
    int_param,
    json_body,
    stream_response,
    version_at_least,
)

# -- helpers shared with routes/build.py -----------------------------------------------------------------


class BodyReader:
    """A request's body as a blocking file for the engine's threads: each ``read`` waits on the event loop
    for the next bytes (the body is streamed, never held whole)."""

    def __init__(self, request: web.Request, loop: asyncio.AbstractEventLoop) -> None:
        self.content = request.content
        self.loop = loop

    def read(self, size: int = -1, /) -> bytes:
        coro = self.content.read(size) if size >= 0 else self.content.read()
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False


class Gone(Exception):
    """Raised in an engine thread's progress callback once the client has gone: the work stops there."""


def from_callback(
    run: Callable[[Callable[[Any], None]], Any], stopped: Callable[[], bool]
) -> Iterator[tuple[bool, Any]]:
    """Run ``run(emit)`` (an engine call that reports through a callback) in a thread of its own and yield
    ``(True, event)`` for each ``emit(event)``, then ``(False, result)``; its exception is raised here. Once
    the consumer stops, the next ``emit`` raises ``Gone`` in the engine's thread, which is waited for."""
    events: queue.Queue[tuple[bool | None, Any]] = queue.Queue()

    def emit(event: Any) -> None:
        if stopped():
            raise Gone("the client has gone")
        events.put((True, event))

    def work() -> None:
        try:
            events.put((False, run(emit)))
        except BaseException as e:
            events.put((None, e))

    worker = threading.Thread(target=work, name="dockyard-api-job", daemon=True)
    worker.start()
    try:
        while True:
            try:
                kind, value = events.get(timeout=0.25)
            except queue.Empty:
                if stopped():
                    return
                continue
            if kind is None:
                raise value
            yield kind, value
            if kind is False:
                return
    finally:
        worker.join()


async def progress_reply(
    request: web.Request, api: Api, lines: AsyncIterator[dict[str, Any]]
) -> web.StreamResponse:
    """Docker's JSON-lines answer: the first line is awaited before the headers go (an error then is an
    HTTP error status), the others are written as they come; a later error is the stream's last line."""
    try:
        first = await anext(lines, None)
    except BaseException:
        await lines.aclose()  # type: ignore[attr-defined]
        raise
    resp = await stream_response(request)
    out = JsonLines(resp)
    try:
        if first is not None:
            await out.write(first)
        while True:
            try:
                doc = await anext(lines)
            except StopAsyncIteration:
                break
            except (asyncio.CancelledError, ConnectionError):
                raise
            except Exception as e:
                code = getattr(e, "code", None)  # a failed RUN's exit status, in Docker's errorDetail
                if isinstance(code, int):
                    await out.write(
                        {"errorDetail": {"code": code, "message": _message(e)}, "error": _message(e)}
                    )
                else:
                    await out.error(_message(e))
                break
            await out.write(doc)
    finally:
        await lines.aclose()  # type: ignore[attr-defined]
    await resp.write_eof()
    return resp


def _message(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, DockyardError) else f"{type(exc).__name__}: {exc}"


def registry_auth(request: web.Request, header: str = "X-Registry-Auth") -> dict[str, str] | None:
    """The credentials of ``X-Registry-Auth`` (base64url JSON: ``username``/``password``, or ``auth`` as
    ``user:password`` in base64), as the engine's ``auth_config``; None when it holds none."""
    raw = request.headers.get(header, "").strip()
    if not raw:
        return None
    import base64
    import binascii
    import json

    try:
        doc = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, binascii.Error):
        raise InvalidArgument(f"invalid {header} header: base64-encoded JSON expected") from None
    if not isinstance(doc, dict):
        return None
    user, password = str(doc.get("username") or ""), str(doc.get("password") or "")
    if not user and doc.get("auth"):
        try:
            user, _, password = base64.b64decode(str(doc["auth"])).decode().partition(":")
        except (ValueError, binascii.Error):
            raise InvalidArgument(f"invalid {header} header: its auth is not base64") from None
    if not user:
        return None
    return {"username": user, "password": password}


def _bar(current: int, total: int) -> str:
    """Docker's progress bar: ``[=====>      ]  1.2MB/3.4MB``."""
    from engine.humanize import human_size

    width = 50
    filled = min(width, width * current // total) if total else 0
    arrow = "=" * max(0, filled - 1) + (">" if filled < width and filled else "=" if filled else "")
    return f"[{arrow}{' ' * (width - len(arrow))}] {human_size(current):>8}/{human_size(total)}"


def transfer_line(ev: Any) -> dict[str, Any]:
    """A pull or push event (engine TransferEvent) as Docker's progress line."""
    if not ev.id:
        head, sep, rest = ev.status.partition(": ")
        if sep and rest.startswith("Pulling from "):
            return {"status": rest, "id": head}
        return {"status": ev.status}
    doc: dict[str, Any] = {"status": ev.status, "progressDetail": {}, "id": ev.id}
    if ev.total and ev.status in ("Downloading", "Extracting", "Pushing"):  # only these carry counts
        doc["progressDetail"] = {"current": ev.current, "total": ev.total}
        doc["progress"] = _bar(ev.current, ev.total)
    return doc


# -- the routes ------------------------------------------------------------------------------------------


def routes(api: Api) -> list[web.RouteDef]:
    images = api.engine.images

    async def list_(request: web.Request) -> web.Response:
        everything = bool_param(request, "all")
        filters = filters_param(request)
        old = not version_at_least(request, "1.44")

        def run() -> list[dict[str, Any]]:
            return [_summary(im, old) for im in images.list(all=everything, filters=filters or None)]

        return api.json(await api.call(run))

    async def inspect(request: web.Request) -> web.Response:
        # below API 1.44, Container and ContainerConfig too (docker-compose 1.x reads ContainerConfig)
        legacy = not version_at_least(request, "1.44")
        return api.json(await api.call(images.inspect, request.match_info["name"], legacy))

    async def history(request: web.Request) -> web.Response:
        name = request.match_info["name"]

        def run() -> list[dict[str, Any]]:
            from engine.humanize import parse_time

            tags = images.get(name).tags
            rows = images.history(name)
            return [
                {
                    "Id": h.id,
                    "Created": int(parse_time(h.created)),
                    "CreatedBy": h.created_by,
                    "Tags": list(tags) if i == 0 and tags else None,
                    "Size": h.size,
                    "Comment": h.comment,
                }
                for i, h in enumerate(rows)
            ]

        return api.json(await api.call(run))

    async def tag(request: web.Request) -> web.Response:
        repo = request.query.get("repo", "")
        if not repo:
            raise InvalidArgument("repository name must have at least one component")
        version = request.query.get("tag", "")
        target = f"{repo}:{version}" if version else repo
        await api.call(images.tag, request.match_info["name"], target)
        return web.Response(status=201)

    async def remove(request: web.Request) -> web.Response:
        force = bool_param(request, "force")
        result = await api.call(images.remove, request.match_info["name"], force)
        return api.json([{"Untagged": t} for t in result.untagged] + [{"Deleted": d} for d in result.deleted])

    async def prune(request: web.Request) -> web.Response:
        filters = filters_param(request)
        report = await api.call(lambda: images.prune(filters=filters or None))
        return api.json(
            {
                "ImagesDeleted": [{"Untagged": t} for t in report.untagged]
                + [{"Deleted": d} for d in report.deleted]
                or None,
                "SpaceReclaimed": report.reclaimed,
            }
        )

    async def create(request: web.Request) -> web.StreamResponse:
        if request.query.get("fromSrc"):
            return await _import(request)
        ref = request.query.get("fromImage", "")
        if not ref:
            raise InvalidArgument("fromImage or fromSrc is required")
        version = request.query.get("tag", "")
        last = ref.rpartition("/")[2]
        if version and ("@" in ref or ":" in last):
            raise InvalidArgument(f"invalid reference: {ref} already names a tag or digest")
        if version:
            ref = f"{ref}@{version}" if version.startswith("sha256:") else f"{ref}:{version}"
        every_tag = not version and "@" not in ref and ":" not in last
        platform = request.query.get("platform") or None
        auth = registry_auth(request)

        def produce(stopped: Callable[[], bool]) -> Iterator[dict[str, Any]]:
            refs = [f"{ref}:{t}" for t in images.remote_tags(ref)] if every_tag else [ref]
            newer = False
            result: Any = None
            for one in refs:

                def job(emit: Callable[[Any], None], one: str = one) -> Any:
                    return images.pull(one, platform=platform, progress=emit, auth_config=auth)

                # "TAG: Pulling from REPO" waits for what follows: a reference the registry does not
                # have is then an HTTP error (404), as Docker's, not an error line after it
                pending = None
                for is_event, value in from_callback(job, stopped):
                    line = transfer_line(value) if is_event else None
                    if line is not None and not value.id and line["status"].startswith("Pulling from "):
                        pending = line
                        continue
                    if pending is not None:
                        yield pending
                        pending = None
                    if line is not None:
                        yield line
                    else:
                        result = value
                        yield {"status": f"Digest: {result.digest}"}
                        newer = newer or not result.up_to_date
            if result is None:
                return
            shown = ref if every_tag else result.name
            state = "Downloaded newer image for" if newer else "Image is up to date for"
            yield {"status": f"Status: {state} {shown}"}

        return await progress_reply(request, api, api.iterate(produce))

    async def _import(request: web.Request) -> web.StreamResponse:
        source = request.query["fromSrc"]
        if source != "-":
            raise ApiError(
                400, "importing from a URL is not supported: send the tarball in the body (fromSrc=-)"
            )
        changes = _changes(request)
        repo, version = request.query.get("repo", ""), request.query.get("tag", "")
        ref = (f"{repo}:{version}" if version else repo) or None
        message = request.query.get("message", "")
        body = BodyReader(request, asyncio.get_running_loop())

        def produce(stopped: Callable[[], bool]) -> Iterator[dict[str, Any]]:
            if ref:
                images.tagged_name(ref)  # a bad name is refused before the body is read
            yield {"status": images.import_(body, ref, message, changes)}  # type: ignore[arg-type]

        return await progress_reply(request, api, api.iterate(produce))

    async def push(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        version = request.query.get("tag") or None
        platform = request.query.get("platform", "")
        auth = registry_auth(request)

        def produce(stopped: Callable[[], bool]) -> Iterator[dict[str, Any]]:
            if platform:
                images.check_platform(platform, f"{name}:{version}" if version else name)
            job = from_callback(
                lambda emit: images.push(name, version, progress=emit, auth_config=auth), stopped
            )
            for is_event, value in job:
                if is_event:
                    yield transfer_line(value)
                    continue
                yield {"status": f"{value.tag}: digest: {value.digest} size: {value.size}"}
                yield {
                    "progressDetail": {},
                    "aux": {"Tag": value.tag, "Digest": value.digest, "Size": value.size},
                }

        return await progress_reply(request, api, api.iterate(produce))

    async def save_one(request: web.Request) -> web.StreamResponse:
        return await _save(request, [request.match_info["name"]])

    async def save_many(request: web.Request) -> web.StreamResponse:
        names = [n for value in request.query.getall("names", []) for n in value.split(",") if n]
        if not names:
            raise InvalidArgument('"save" requires at least 1 argument')
        return await _save(request, names)

    async def _save(request: web.Request, names: list[str]) -> web.StreamResponse:
        def produce(stopped: Callable[[], bool]) -> Iterator[bytes]:
            for n in names:
                images.resolve(n)  # a missing image is a 404 before any byte
            yield b""

            def job(emit: Callable[[Any], None]) -> None:
                images.save(names, _Chunks(emit))  # type: ignore[arg-type]  # a writable stand-in

            for is_chunk, value in from_callback(job, stopped):
                if is_chunk:
                    yield value

        chunks = api.iterate(produce)
        try:
            await anext(chunks)
        except BaseException:
            await chunks.aclose()  # type: ignore[attr-defined]
            raise
        resp = await stream_response(request, "application/x-tar")
        try:
            async for chunk in chunks:
                await resp.write(chunk)
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]
        await resp.write_eof()
        return resp

    async def load(request: web.Request) -> web.StreamResponse:
        body = BodyReader(request, asyncio.get_running_loop())

        def produce(stopped: Callable[[], bool]) -> Iterator[dict[str, Any]]:
            # Docker's daemon answers 200 and puts a bad archive's error in the stream (docker-py's
            # images.load raises ImageLoadError from it)
            try:
                loaded = images.load(body)  # type: ignore[arg-type]
            except DockyardError as e:
                yield {"errorDetail": {"message": str(e)}, "error": str(e)}
                return
            for name in loaded:
                what = "Loaded image ID" if name.startswith("sha256:") else "Loaded image"
                yield {"stream": f"{what}: {name}\n"}

        return await progress_reply(request, api, api.iterate(produce))

    async def search(request: web.Request) -> web.Response:
        term = request.query.get("term", "")
        if not term:
            raise InvalidArgument("a search term is required")
        limit = int_param(request, "limit", 25) or 25
        filters = filters_param(request)
        results = await api.call(api.engine.search, term, limit)
        out = []
        for r in results:
            if not _search_match(r, filters):
                continue
            out.append(
                {
                    "name": r.name,
                    "description": r.description,
                    "star_count": r.stars,
                    "is_official": r.official,
                    "is_automated": r.automated,
                }
            )
        return api.json(out)

    async def commit(request: web.Request) -> web.Response:
        q = request.query
        container = q.get("container", "")
        if not container:
            raise InvalidArgument("the container to commit is required (container=)")
        changes = _changes(request)
        if await json_body(request, None):
            raise ApiError(
                400,
                "a container configuration in the body is not supported: give changes to dockyard commit -c",
            )
        repo, version = q.get("repo", ""), q.get("tag", "")
        ref = (f"{repo}:{version}" if version else repo) or None
        pause = bool_param(request, "pause", True)
        comment, author = q.get("comment", ""), q.get("author", "")
        image_id = await api.call(
            lambda: api.engine.containers.commit(container, ref, comment, author, changes, pause)
        )
        return api.json({"Id": image_id}, status=201)

    async def distribution(request: web.Request) -> web.Response:
        auth = registry_auth(request)
        return api.json(await api.call(images.distribution, request.match_info["name"], auth))

    name = "{name:.+}"
    return [
        web.get(f"/distribution/{name}/json", distribution),
        web.post("/commit", commit),
        web.get("/images/json", list_),
        web.post("/images/create", create),
        web.post("/images/load", load),
        web.post("/images/prune", prune),
        web.get("/images/search", search),
        web.get("/images/get", save_many),
        web.get(f"/images/{name}/json", inspect),
        web.get(f"/images/{name}/history", history),
        web.get(f"/images/{name}/get", save_one),
        web.post(f"/images/{name}/tag", tag),
        web.post(f"/images/{name}/push", push),
        web.delete(f"/images/{name}", remove),
    ]


def _changes(request: web.Request) -> dict[str, Any] | None:
    """``changes`` of commit and import (each a Dockerfile instruction, repeated or one per line) as the image
    config they set; a bad one is refused (400) before anything is read or written."""
    from engine import parse_changes

    given = [line for c in request.query.getall("changes", []) for line in c.splitlines() if line.strip()]
    return parse_changes(given) if given else None


class _Chunks:
    """``save``'s output: each write handed on as a chunk of the response."""

    def __init__(self, emit: Callable[[bytes], None]) -> None:
        self.emit = emit

    def write(self, data: bytes) -> int:
        if data:
            self.emit(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def _summary(im: Any, old: bool) -> dict[str, Any]:
    """An image as ``GET /images/json`` lists it (Docker's ImageSummary); ``old``: API versions before 1.44,
    which name an untagged image ``<none>:<none>`` and still have VirtualSize."""
    from engine.humanize import parse_time

    doc: dict[str, Any] = {
        "Containers": -1,
        "Created": int(parse_time(im.created)),
        "Id": im.id,
        "Labels": dict(im.config.get("Labels") or {}),
        "ParentId": im.parent,
        "RepoDigests": list(im.repo_digests),
        "RepoTags": list(im.tags),
        "SharedSize": -1,
        "Size": im.size,
    }
    if old:
        doc["VirtualSize"] = im.size
        if not im.tags:
            doc["RepoTags"] = ["<none>:<none>"]
            doc["RepoDigests"] = doc["RepoDigests"] or ["<none>@<none>"]
    return doc


def _search_match(r: Any, filters: dict[str, list[str]]) -> bool:
    """``docker search --filter``: is-official, is-automated, stars (at least)."""
    for key, values in filters.items():
        for v in values:
            if key == "stars":
                if not v.isdigit():
                    raise InvalidArgument(f"invalid filter 'stars={v}'")
                if r.stars < int(v):
                    return False
            elif key in ("is-official", "is-automated"):
                want = v.lower() in ("1", "true")
                if (r.official if key == "is-official" else r.automated) != want:
                    return False
            else:
                raise InvalidArgument(f"invalid filter '{key}'")
    return True
