"""``pull``: an image from a registry into the store, byte for byte.

The manifest (the platform's, when the reference names an index), the config and every layer blob are kept
exactly as the registry holds them and verified against their digests; layers are unpacked while they
download, a few at a time. Layers already in the store (same ChainID and blob) are skipped. Nothing is
recorded until every layer is in place: a failed pull leaves no image behind, only complete layers (which
``system prune`` collects) and partial downloads that the next pull resumes.
"""

from __future__ import annotations

import contextlib
import math
import threading
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait

from engine.lean.record import record

from ..errors import InvalidArgument
from ..store import oci
from ..store.layers import chain_id
from ..store.streams import Verified, decompressed
from . import download, manifests
from .auth import Credentials, load_credentials
from .client import RegistryClient
from .errors import DigestMismatch, ManifestUnknown, RegistryError, Unauthorized
from .events import ProgressFn, Reporter
from .names import RemoteName, parse_remote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..store.imagestore import ImageStore, NewLayer

JOBS = 3  # parallel layer downloads (Docker's default max-concurrent-downloads)


@record
class PullResult:
    image_id: str
    name: str  # the local reference: "busybox:latest", or "busybox@sha256:..." for a digest pull
    digest: str  # what the reference resolved to on the registry (an index's digest for a multi-arch image)
    full_name: str  # "docker.io/library/busybox:latest", as Docker prints it last
    up_to_date: bool  # the store already had exactly this image under this name
    layers_downloaded: int = 0


def pull(
    store: ImageStore,
    ref: str,
    platform: str | None = None,
    progress: ProgressFn | None = None,
    credentials: Credentials | None = None,
    retries: int = 3,
    jobs: int = JOBS,
) -> PullResult:
    """Pull ``ref`` (``busybox``, ``127.0.0.1:5000/app:v1``, ``name@sha256:...``) for ``platform``
    (``os/arch[/variant]``, default linux/<this machine>)."""
    name = parse_remote(ref)
    want = manifests.parse_platform(platform)
    report = Reporter(progress)
    client = RegistryClient(
        name.registry,
        name.repository,
        ("pull",),
        credentials or load_credentials(name.registry),
        store.layout.root,
    )
    try:
        report("", f"{name.tag or name.digest}: Pulling from {name.repository}")
        top = _fetch_top(client, name)
        manifest = top
        if top.is_index:
            desc = manifests.choose(top, want)
            manifest = manifests.fetch(client, str(desc["digest"]), expected=str(desc["digest"]))
            if manifest.is_index:
                raise RegistryError(f"the index {top.digest} points to another index; not supported")
        layers = manifests.check_image(manifest)
        config_bytes = _fetch_config(store, client, manifest.doc["config"])
        config = _parse_config(config_bytes)
        if platform and not top.is_index:
            _check_platform(ref, want, config)
        diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
        if len(diff_ids) != len(layers):
            raise RegistryError(
                f"invalid image {manifest.digest}: {len(layers)} layers but {len(diff_ids)} diff_ids in its config"
            )
        tags = [] if name.digest else [name.local_tagged]
        local = name.local_tagged if not name.digest else f"{name.local}@{name.digest}"
        repo_digest = f"{name.local}@{top.digest}"
        image_id = manifests.sha256(config_bytes)
        if _up_to_date(store, image_id, manifest.digest, tags, repo_digest):
            for d in layers:
                report(str(d["digest"])[7:19], "Already exists")
            return PullResult(image_id, local, top.digest, name.full, True)
        with store.writing():
            download.sweep_stale(store.layout.tmp)
            new_layers, fetched = _fetch_layers(store, client, layers, diff_ids, report, retries, jobs)
            created = store.create(
                new_layers, config_bytes, tags, repo_digests=[repo_digest], manifest_bytes=manifest.data
            )
        return PullResult(created, local, top.digest, name.full, False, fetched)
    finally:
        client.close()


def list_tags(store: ImageStore, repository: str, credentials: Credentials | None = None) -> list[str]:
    """The tags of ``repository`` (a name without tag or digest) in its registry (``/v2/<name>/tags/list``,
    following its ``Link`` pages), sorted as Docker pulls them."""
    import json

    name = parse_remote(repository)
    client = RegistryClient(
        name.registry, name.repository, ("pull",), credentials or load_credentials(name.registry),
        store.layout.root,
    )  # fmt: skip
    tags: list[str] = []
    path = "/tags/list"
    try:
        for _page in range(1000):
            try:
                r = client.request("GET", path)
            except RegistryError as e:
                if e.status == 404:
                    raise _access_denied(ManifestUnknown, name, e) from None
                raise
            with r:
                link, body = r.header("Link"), r.body()
            try:
                doc = json.loads(body)
            except ValueError:
                raise RegistryError(f"the registry's tag list of {name.repository} is not JSON") from None
            tags += (
                [t for t in (doc.get("tags") or []) if isinstance(t, str)] if isinstance(doc, dict) else []
            )
            if not link.startswith("<"):
                break
            path = link[1 : link.index(">")]
            if path.startswith("/") and not path.startswith("/v2/"):
                path = "/v2" + path
    finally:
        client.close()
    return sorted(set(tags))


# -- manifest and config ---------------------------------------------------------------------------------


def distribution(store: ImageStore, ref: str, credentials: Credentials | None = None) -> dict[str, Any]:
    """What the registry has for ``ref`` without pulling it, as Docker's ``GET /distribution/{name}/json``
    answers: the top manifest's (or index's) descriptor and the platforms it serves (an index's, or the one
    a single manifest's config names)."""
    name = parse_remote(ref)
    client = RegistryClient(
        name.registry, name.repository, ("pull",), credentials or load_credentials(name.registry),
        store.layout.root,
    )  # fmt: skip
    try:
        top = _fetch_top(client, name)
        platforms: list[dict[str, Any]] = []
        if top.is_index:
            for desc in top.doc.get("manifests") or []:
                p = desc.get("platform") or {}
                if p.get("os") and p.get("architecture") and p.get("os") != "unknown":
                    platforms.append({k: p[k] for k in ("architecture", "os", "variant") if p.get(k)})
        else:
            manifests.check_image(top)
            config = _parse_config(_fetch_config(store, client, top.doc["config"]))
            platforms.append(
                {k: config[k] for k in ("architecture", "os", "variant") if isinstance(config.get(k), str)}
            )
        return {
            "Descriptor": {"mediaType": top.media_type, "digest": top.digest, "size": len(top.data)},
            "Platforms": platforms,
        }
    finally:
        client.close()


def _fetch_top(client: RegistryClient, name: RemoteName) -> manifests.Manifest:
    """The manifest or index the reference names, with Docker's wording for the usual failures."""
    try:
        return manifests.fetch(client, name.reference, expected=name.digest)
    except Unauthorized as e:
        if client.auth.credentials is not None:
            raise
        raise _access_denied(Unauthorized, name, e) from None
    except RegistryError as e:
        if e.status == 404 and e.code == "MANIFEST_UNKNOWN":
            raise ManifestUnknown(f"manifest for {_shown(name)} not found: {e}", e.status, e.code) from None
        if e.status == 404 and e.code in ("NAME_UNKNOWN", ""):
            raise _access_denied(ManifestUnknown, name, e) from None
        if e.code == "DENIED" or e.status == 403:
            raise _access_denied(Unauthorized, name, e) from None
        raise


def _access_denied(kind: type[RegistryError], name: RemoteName, e: RegistryError) -> RegistryError:
    """Docker's message when a repository is missing or closed to us (it cannot tell which)."""
    return kind(
        f"pull access denied for {name.local}, repository does not exist or may require 'dockyard login': {e}",
        e.status,
        e.code,
    )


def _shown(name: RemoteName) -> str:
    return f"{name.local}@{name.digest}" if name.digest else name.local_tagged


def _fetch_config(store: ImageStore, client: RegistryClient, desc: dict[str, Any]) -> bytes:
    digest = str(desc["digest"])
    if store.blobs.exists(digest):
        with contextlib.suppress(Exception):
            data = store.blobs.read(digest)
            if manifests.sha256(data) == digest:
                return data
    r = client.request("GET", f"/blobs/{digest}")
    data = r.body(limit=64 << 20)
    got = manifests.sha256(data)
    if got != digest:
        raise DigestMismatch(f"digest mismatch: config {digest} arrived as {got}")
    return data


def _parse_config(data: bytes) -> dict[str, Any]:
    import json

    try:
        doc = json.loads(data)
    except ValueError:
        raise RegistryError("the image config is not valid JSON") from None
    if not isinstance(doc, dict):
        raise RegistryError("the image config is not a JSON object")
    return doc


def _check_platform(ref: str, want: manifests.Platform, config: dict[str, Any]) -> None:
    have = manifests.Platform(
        str(config.get("os") or "linux"),
        str(config.get("architecture") or ""),
        str(config.get("variant") or ""),
    )
    if (
        have.os != want.os
        or have.architecture != want.architecture
        or (want.variant and have.variant != want.variant)
    ):
        raise InvalidArgument(
            f"image with reference {ref} was found but does not match the specified platform: "
            f"wanted {want}, actual: {have}"
        )


def _up_to_date(
    store: ImageStore, image_id: str, manifest_digest: str, tags: list[str], repo_digest: str
) -> bool:
    entry = store.catalog.get(image_id)
    if entry is None or entry.manifest != manifest_digest or repo_digest not in entry.repo_digests:
        return False
    current = store.catalog.tags()
    if any(current.get(t) != image_id for t in tags):
        return False
    return all(store.layers.exists(c) for c in entry.layers) and all(
        store.blobs.exists(b) for b in entry.layer_blobs
    )


# -- layers ------------------------------------------------------------------------------------------------


def _fetch_layers(
    store: ImageStore,
    client: RegistryClient,
    descs: list[dict[str, Any]],
    diff_ids: list[str],
    report: Reporter,
    retries: int,
    jobs: int,
) -> tuple[list[NewLayer], int]:
    """Every layer in the store (downloaded and unpacked in parallel); returns them and how many were fetched."""
    from ..store.imagestore import NewLayer

    chains: list[str] = []
    parent: str | None = None
    for d in diff_ids:
        parent = chain_id(parent, str(d))
        chains.append(parent)
    results: list[NewLayer | None] = [None] * len(descs)
    todo: list[int] = []
    for i, desc in enumerate(descs):
        digest, mt, size = (
            str(desc["digest"]),
            str(desc.get("mediaType") or oci.MT_OCI_LAYER),
            int(desc.get("size") or 0),
        )
        if store.layers.exists(chains[i]) and store.blobs.exists(digest):
            report(digest[7:19], "Already exists")
            results[i] = NewLayer(chains[i], digest, mt, store.blobs.size(digest))
        else:
            report(digest[7:19], "Pulling fs layer", 0, size)
            todo.append(i)
    if not todo:
        return [r for r in results if r is not None], 0
    cancel = threading.Event()
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="pull")
    futures: dict[Future[NewLayer], int] = {}
    try:
        for i in todo:
            parent_chain = chains[i - 1] if i else None
            f = pool.submit(
                _fetch_layer,
                store,
                client,
                descs[i],
                str(diff_ids[i]),
                parent_chain,
                report,
                retries,
                cancel,
            )
            futures[f] = i
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in done if f.exception() is not None]
        if failed:
            cancel.set()
            wait(pending)
            exc = _first_error([f for f in futures if f.done() and f.exception() is not None])
            raise exc
        for f, i in futures.items():
            results[i] = f.result()
    except BaseException:
        cancel.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [r for r in results if r is not None], len(todo)


def _first_error(failed: list[Future[NewLayer]]) -> BaseException:
    """The error worth showing: a real failure rather than the cancellations it caused."""
    errors = [f.exception() for f in failed]
    real = [e for e in errors if e is not None and not isinstance(e, download.Cancelled)]
    chosen = (real or errors)[0]
    assert chosen is not None
    return chosen


def _fetch_layer(
    store: ImageStore,
    client: RegistryClient,
    desc: dict[str, Any],
    diff_id: str,
    parent: str | None,
    report: Reporter,
    retries: int,
    cancel: threading.Event,
) -> NewLayer:
    """One layer: its blob downloaded (resuming a partial one) and verified, unpacked on the way."""
    from ..store.imagestore import NewLayer

    digest = str(desc["digest"])
    size = int(desc.get("size") or 0)
    mt = str(desc.get("mediaType") or oci.MT_OCI_LAYER)
    short = digest[7:19]
    chain = chain_id(parent, diff_id)
    if store.blobs.exists(digest):  # the blob is here (another image, or a concurrent pull, has it)
        if not store.layers.exists(chain):
            report(short, "Extracting", 0, size)
            with store.blobs.open(digest) as f:
                _unpack(store, Verified(f, digest, size, "layer"), diff_id, parent, mt)
        report(short, "Pull complete", size, size)
        return NewLayer(chain, digest, mt, size)

    def on_bytes(done: int, total: int) -> None:
        report.bytes(short, "Downloading", done, total)

    def on_retry(attempt: int, delay: float) -> None:
        seconds = math.ceil(delay)
        report(short, f"Retrying in {seconds} second{'s' if seconds != 1 else ''}")

    path = download.partial_path(store.layout.tmp, digest)
    with download.BlobDownload(client, digest, size, path, retries, cancel, on_bytes, on_retry) as dl:
        if store.blobs.exists(digest):  # a concurrent pull finished it while we waited for the lock
            dl.close()
            return _fetch_layer(store, client, desc, diff_id, parent, report, retries, cancel)
        if dl.kept:
            report(short, "Resuming", dl.kept, size)
        verified = Verified(dl, digest, size, "layer")
        try:
            if store.layers.exists(chain):
                verified.drain()  # only the blob is missing (for save and push): no unpacking
            else:
                _unpack(store, verified, diff_id, parent, mt)
        except DigestMismatch:
            dl.discard()
            raise
        dl.commit(store.blobs.path(digest))
    report(short, "Pull complete", size, size)
    return NewLayer(chain, digest, mt, size)


def _unpack(store: ImageStore, verified: Verified, diff_id: str, parent: str | None, media_type: str) -> None:
    """Unpack the layer from ``verified``; the DiffID and the blob digest are both checked before the layer
    directory is moved into place. When the stream breaks the unpacker (bad gzip, bad tar), the rest is read
    to tell a corrupt download (digest mismatch) from a corrupt image."""
    uncompressed: Any = decompressed(verified)
    if _compressed(media_type) or verified.digest != diff_id:
        uncompressed = Verified(uncompressed, diff_id, 0, "layer content (DiffID)")
    # (an uncompressed blob named by its DiffID is already checked byte for byte by ``verified``)
    try:
        store.layers.unpack(uncompressed, parent)
        verified.drain()
    except (DigestMismatch, download.Cancelled):
        raise
    except Exception:
        verified.blame()
        raise


def _compressed(media_type: str) -> bool:
    return media_type.endswith(("+gzip", ".gzip", "+zstd"))
