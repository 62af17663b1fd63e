"""``push``: an image from the store to a registry, byte for byte.

The stored manifest, config and layer blobs are uploaded as they are, so the pushed manifest has the same
digest as the local one. Each blob is checked with ``HEAD`` first and skipped when the repository has it; a
blob another repository of the same registry has (known from the image's RepoDigests) is mounted instead of
uploaded; the rest is uploaded in parallel, in one ``PUT`` or, with ``chunk_size``, in ``PATCH`` chunks. The
manifest goes last, under the tag.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.parse
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

from engine.lean.record import field, record

from ..errors import ImageNotFound, InvalidArgument, StoreError
from ..store import oci
from .auth import Credentials, load_credentials
from .client import RegistryClient, Response
from .errors import RegistryError
from .events import ProgressFn, Reporter
from .names import DOCKER_HUB, RemoteName, parse_remote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

    from ..store.imagestore import ImageStore

JOBS = 3  # parallel uploads


@record
class PushResult:
    repository: str  # as Docker prints it: "127.0.0.1:5000/app" or "docker.io/library/app"
    tag: str
    digest: str  # the manifest's digest
    size: int  # the manifest's size in bytes
    pushed: list[str] = field(default_factory=list)  # blob digests uploaded
    existing: list[str] = field(default_factory=list)  # already in the repository
    mounted: list[str] = field(default_factory=list)  # mounted from another repository


def push(
    store: ImageStore,
    ref: str,
    progress: ProgressFn | None = None,
    credentials: Credentials | None = None,
    jobs: int = JOBS,
    chunk_size: int = 0,
) -> PushResult:
    """Push the local image ``ref`` (``127.0.0.1:5000/app:v1``) to its registry."""
    name = parse_remote(ref)
    if name.digest:
        raise InvalidArgument("cannot push a digest reference")
    try:
        image_id = store.resolve(name.local_tagged)
    except ImageNotFound:
        raise ImageNotFound(f"An image does not exist locally with the tag: {name.local}") from None
    entry = store.catalog.get(image_id)
    if entry is None:
        raise ImageNotFound(f"An image does not exist locally with the tag: {name.local}")
    manifest_bytes = store.blobs.read(entry.manifest)
    manifest = json.loads(manifest_bytes)
    media_type = str(manifest.get("mediaType") or oci.MT_OCI_MANIFEST)
    layers: list[dict[str, Any]] = list(manifest.get("layers") or [])
    config_desc: dict[str, Any] = manifest["config"]
    for d in [*layers, config_desc]:
        if not store.blobs.exists(str(d["digest"])):
            raise StoreError(
                f"blob {d['digest']} of {name.local_tagged} is missing from the store; pull or load the image again"
            )
    sources = _mount_sources(entry.repo_digests, name)
    client = RegistryClient(
        name.registry,
        name.repository,
        ("pull", "push"),
        credentials or load_credentials(name.registry),
        store.layout.root,
        extra_scopes=[f"repository:{s}:pull" for s in sources],
    )
    report = Reporter(progress)
    shown = f"{DOCKER_HUB}/{name.repository}" if name.is_docker_hub else name.local
    result = PushResult(shown, name.tag or "latest", "", len(manifest_bytes))
    try:
        report("", f"The push refers to repository [{shown}]")
        client.base()  # fail early (unreachable, TLS) before showing layers
        for d in layers:
            report(str(d["digest"])[7:19], "Preparing")
        blobs = [(str(d["digest"]), int(d.get("size") or 0), True) for d in layers]
        blobs.append((str(config_desc["digest"]), int(config_desc.get("size") or 0), False))
        _upload_all(store, client, blobs, sources, report, result, jobs, chunk_size)
        r = client.request(
            "PUT",
            f"/manifests/{urllib.parse.quote(result.tag)}",
            {"Content-Type": media_type, "Content-Length": str(len(manifest_bytes))},
            body=manifest_bytes,
            ok=(200, 201, 202),
        )
        announced = r.header("Docker-Content-Digest")
        r.body()
    finally:
        client.close()
    result.digest = entry.manifest
    if announced and announced != entry.manifest:
        raise RegistryError(
            f"the registry stored the manifest as {announced}, but it is {entry.manifest}: it was changed in transit"
        )
    store.add_repo_digest(image_id, f"{name.local}@{entry.manifest}")
    return result


def _mount_sources(repo_digests: list[str], name: RemoteName) -> list[str]:
    """Other repositories of the same registry this image came from or went to: blobs can be mounted from them."""
    out: list[str] = []
    for rd in repo_digests:
        try:
            other = parse_remote(rd)
        except InvalidArgument:
            continue
        if (
            other.registry == name.registry
            and other.repository != name.repository
            and other.repository not in out
        ):
            out.append(other.repository)
    return out[:3]


# -- blobs -------------------------------------------------------------------------------------------------


def _upload_all(
    store: ImageStore,
    client: RegistryClient,
    blobs: list[tuple[str, int, bool]],
    sources: list[str],
    report: Reporter,
    result: PushResult,
    jobs: int,
    chunk_size: int,
) -> None:
    cancel = threading.Event()
    lock = threading.Lock()
    seen: set[str] = set()

    def one(digest: str, size: int, shown: bool) -> None:
        short = digest[7:19] if shown else ""
        outcome = _upload(
            store,
            client,
            digest,
            size,
            sources,
            report if shown else Reporter(None),
            short,
            cancel,
            chunk_size,
        )
        with lock:
            getattr(result, outcome).append(digest)

    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="push")
    try:
        futures = []
        for digest, size, shown in blobs:
            if digest in seen:
                continue
            seen.add(digest)
            futures.append(pool.submit(one, digest, size, shown))
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        errors = [f.exception() for f in done if f.exception() is not None]
        if errors:
            cancel.set()
            wait(pending)
            real = [e for e in errors if not isinstance(e, _Cancelled)]
            raise (real or errors)[0]  # type: ignore[misc]
    except BaseException:
        cancel.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class _Cancelled(Exception):
    pass


def _upload(
    store: ImageStore,
    client: RegistryClient,
    digest: str,
    size: int,
    sources: list[str],
    report: Reporter,
    short: str,
    cancel: threading.Event,
    chunk_size: int,
) -> str:
    """One blob into the repository; returns "existing", "mounted" or "pushed"."""
    r = client.request("HEAD", f"/blobs/{digest}", ok=(200, 404))
    r.close()
    if r.status == 200:
        report(short, "Layer already exists", size, size)
        return "existing"
    location = ""
    for src in sources:
        query = urllib.parse.urlencode({"mount": digest, "from": src})
        r = client.request(
            "POST", f"/blobs/uploads/?{query}", {"Content-Length": "0"}, body=b"", ok=(201, 202)
        )
        location = _location(r)
        r.body()
        if r.status == 201:
            report(short, f"Mounted from {src}", size, size)
            return "mounted"
        break  # 202: the registry opened an ordinary upload instead; use it
    if not location:
        r = client.request("POST", "/blobs/uploads/", {"Content-Length": "0"}, body=b"", ok=(202,))
        location = _location(r)
        r.body()
    if not location:
        raise RegistryError(f"the registry opened an upload for {digest} without a Location")

    def on_bytes(done: int) -> None:
        if cancel.is_set():
            raise _Cancelled()
        report.bytes(short, "Pushing", done, size)

    with store.blobs.as_file(digest) as f:
        if chunk_size and size > chunk_size:
            offset = 0
            while offset < size:
                n = min(chunk_size, size - offset)
                body = _Section(f, offset, n, lambda done, base=offset: on_bytes(base + done))
                headers = {
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(n),
                    "Content-Range": f"{offset}-{offset + n - 1}",
                }
                r = client.request("PATCH", location, headers, body=body, ok=(202,))  # type: ignore[arg-type]
                location = _location(r) or location
                r.body()
                offset += n
            r = client.request(
                "PUT", _with_digest(location, digest), {"Content-Length": "0"}, body=b"", ok=(201,)
            )
        else:
            body = _Section(f, 0, size, on_bytes)
            headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
            r = client.request("PUT", _with_digest(location, digest), headers, body=body, ok=(201,))  # type: ignore[arg-type]
        r.body()
    report(short, "Pushed", size, size)
    return "pushed"


def _location(r: Response) -> str:
    """The upload URL a response points to, made absolute (registries may answer with a relative one)."""
    value = r.header("Location")
    return urllib.parse.urljoin(r.url, value) if value else ""


def _with_digest(location: str, digest: str) -> str:
    sep = "&" if "?" in location else "?"
    return f"{location}{sep}digest={urllib.parse.quote(digest)}"


class _Section:
    """``length`` bytes of ``f`` from ``offset``, as a seekable request body that reports its progress."""

    def __init__(self, f: BinaryIO, offset: int, length: int, on_bytes: Any) -> None:
        self.f = f
        self.offset = offset
        self.length = length
        self.pos = 0
        self.on_bytes = on_bytes

    def read(self, n: int = -1) -> bytes:
        left = self.length - self.pos
        if left <= 0:
            return b""
        n = left if n is None or n < 0 else min(n, left)
        data = os.pread(self.f.fileno(), n, self.offset + self.pos)
        if not data:
            raise StoreError("a blob in the store is shorter than its manifest says")
        self.pos += len(data)
        self.on_bytes(self.pos)
        return data

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, pos: int, whence: int = 0) -> int:
        self.pos = pos
        return pos
