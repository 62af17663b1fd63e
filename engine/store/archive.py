"""``save`` and ``load``: image archives that Docker, Podman, skopeo and umoci understand.

``save`` writes an OCI image layout (``oci-layout``, ``index.json``, ``blobs/sha256/...``) plus Docker's
``manifest.json`` and ``repositories``, as ``docker save`` does since Docker 25. ``load`` reads that, Docker's
legacy format (``<id>.json``, ``<v1id>/layer.tar``, ``manifest.json``) and plain OCI archives (e.g. written by
skopeo), compressed or not. Loaded OCI images keep their original manifest, config and layer blobs byte for
byte.

``load`` trusts nothing it reads: every index, manifest, config and layer blob must match its descriptor's
digest and size (a layer also its DiffID), hashed once as it is copied. Blobs and layers are staged in
``tmp/`` (``staging.py``) and enter the store only once the whole archive has checked out, so a refused
archive changes nothing.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tarfile
import time
from collections.abc import Callable, Iterator

from engine.lean.record import record

from ..errors import DigestMismatch, ImageNotFound, InvalidArgument, StoreError
from . import oci, reference
from .blobs import CHUNK, hex_of
from .layers import chain_id
from .streams import Verified, decompressed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any, BinaryIO

    from .imagestore import ImageStore, NewLayer
    from .layers import LayerRecord
    from .staging import Staging

ProgressFn = Callable[[str, int, int], None]


# -- save ------------------------------------------------------------------------


def _add_bytes(tf: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = int(mtime)
    ti.mode = 0o644
    tf.addfile(ti, io.BytesIO(data))


def _add_dir(tf: tarfile.TarFile, name: str, mtime: float) -> None:
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.DIRTYPE
    ti.mode = 0o755
    ti.mtime = int(mtime)
    tf.addfile(ti)


def save(store: ImageStore, names: list[str], out: IO[bytes]) -> None:
    if not names:
        raise InvalidArgument('"save" requires at least 1 argument')
    selected: list[tuple[str, list[str]]] = []  # (image id, tags to record)
    for n in names:
        image_id = store.resolve(n)
        tags: list[str] = []
        if not reference.looks_like_id(n) or n in store.catalog.tags():
            with contextlib.suppress(InvalidArgument):
                tags = [reference.parse(n).tagged]
        elif n:
            tags = store.catalog.tags_of(image_id)
        for i, (sid, stags) in enumerate(selected):
            if sid == image_id:
                selected[i] = (sid, sorted(set(stags) | set(tags)))
                break
        else:
            selected.append((image_id, tags))

    now = time.time()
    written: set[str] = set()
    index: dict[str, Any] = {"schemaVersion": 2, "mediaType": oci.MT_OCI_INDEX, "manifests": []}
    docker_manifest: list[dict[str, Any]] = []
    repositories: dict[str, dict[str, str]] = {}
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tf:
        _add_dir(tf, "blobs", now)
        _add_dir(tf, "blobs/sha256", now)

        def put_blob(digest: str) -> str:
            name = "blobs/sha256/" + digest.partition(":")[2]
            if digest not in written:
                path = store.blobs.path(digest)
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    raise StoreError(f"blob {digest} is missing from the store") from None
                ti = tarfile.TarInfo(name)
                ti.size = st.st_size
                ti.mtime = int(now)
                ti.mode = 0o644
                with open(path, "rb") as f:
                    tf.addfile(ti, f)
                written.add(digest)
            return name

        for image_id, tags in selected:
            entry = store.catalog.get(image_id)
            if entry is None:
                raise ImageNotFound(f"No such image: {image_id}")
            manifest_bytes = store.blobs.read(entry.manifest)
            manifest = json.loads(manifest_bytes)
            config_name = put_blob(manifest["config"]["digest"])
            layer_names = [put_blob(d["digest"]) for d in manifest["layers"]]
            put_blob(entry.manifest)
            desc = {
                "mediaType": manifest.get("mediaType", oci.MT_OCI_MANIFEST),
                "digest": entry.manifest,
                "size": len(manifest_bytes),
            }
            if tags:
                for t in tags:
                    ref = reference.parse(t)
                    d = dict(desc)
                    d["annotations"] = {
                        "io.containerd.image.name": ref.tagged,
                        oci.ANNOTATION_REF_NAME: ref.tag or "latest",
                    }
                    index["manifests"].append(d)
                    if layer_names:
                        repositories.setdefault(ref.name, {})[ref.tag or "latest"] = layer_names[
                            -1
                        ].rpartition("/")[2]
            else:
                index["manifests"].append(desc)
            docker_manifest.append({"Config": config_name, "RepoTags": tags or None, "Layers": layer_names})
        _add_bytes(tf, "index.json", json.dumps(index).encode(), now)
        _add_bytes(tf, "manifest.json", json.dumps(docker_manifest).encode(), now)
        _add_bytes(tf, "oci-layout", json.dumps(oci.OCI_LAYOUT).encode(), now)
        if repositories:
            _add_bytes(tf, "repositories", json.dumps(repositories).encode(), now)


# -- load ------------------------------------------------------------------------


@contextlib.contextmanager
def _open_archive(store: ImageStore, source: BinaryIO) -> Iterator[tarfile.TarFile]:
    """Open the archive for random access, spooling a non-seekable or compressed input to a temp file."""
    seekable = False
    with contextlib.suppress(AttributeError, OSError, io.UnsupportedOperation):
        seekable = source.seekable()
    head = b""
    if seekable:
        pos = source.tell()
        head = source.read(6)
        source.seek(pos)
    if seekable and not head.startswith((b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"BZh", b"\xfd7zXZ")):
        try:
            tf = tarfile.open(fileobj=source, mode="r:")
        except tarfile.TarError as e:
            raise InvalidArgument(f"invalid image archive: {e}") from None
        with tf:
            yield tf
        return
    path = os.path.join(store.layout.tmp, f"{os.getpid()}-load-{os.urandom(4).hex()}")
    try:
        with open(path, "wb") as f:
            shutil.copyfileobj(decompressed(source), f, 1 << 20)
        try:
            tf = tarfile.open(path, mode="r:")
        except tarfile.TarError as e:
            raise InvalidArgument(f"invalid image archive: {e}") from None
        with tf:
            yield tf
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


class _Archive:
    """The archive's files by name, however the archive spells it (``./index.json`` or ``index.json``)."""

    def __init__(self, tf: tarfile.TarFile) -> None:
        self.tf = tf
        self.members = {_norm(m.name): m for m in tf.getmembers()}  # a later entry replaces an earlier one

    def has(self, name: str) -> bool:
        return _norm(name) in self.members

    def open(self, name: str) -> IO[bytes]:
        member = self.members.get(_norm(name))
        if member is None:
            raise InvalidArgument(f"invalid image archive: {_norm(name)} is missing")
        # Follow links inside the archive (the legacy format links identical layers).
        for _ in range(16):
            if not (member.issym() or member.islnk()):
                f = self.tf.extractfile(member)
                if f is None:
                    raise InvalidArgument(f"invalid image archive: {_norm(name)} is not a file")
                return f
            target = member.linkname
            if member.issym():
                target = os.path.join(os.path.dirname(member.name), target)
            link = self.members.get(_norm(target))
            if link is None:
                raise InvalidArgument(
                    f"invalid image archive: {_norm(name)} links to missing {_norm(target)}"
                )
            member = link
        raise InvalidArgument(f"invalid image archive: too many links at {_norm(name)}")

    def read(self, name: str) -> bytes:
        return self.open(name).read()

    def blob(self, digest: str) -> IO[bytes]:
        return self.open("blobs/sha256/" + hex_of(digest))


def _norm(name: str) -> str:
    return os.path.normpath(name).lstrip("/")


def _json(data: bytes, what: str, kind: type = dict) -> Any:
    try:
        doc = json.loads(data)
    except ValueError:
        doc = None
    if not isinstance(doc, kind):
        raise InvalidArgument(f"invalid image archive: {what} is not a JSON {kind.__name__}")
    return doc


def _descriptor(desc: Any, what: str) -> tuple[str, int]:
    """The digest and size a descriptor gives (both required, as OCI requires them)."""
    digest = desc.get("digest") if isinstance(desc, dict) else None
    size = desc.get("size") if isinstance(desc, dict) else None
    if not isinstance(digest, str) or type(size) is not int or size <= 0:
        raise InvalidArgument(f"invalid image archive: a {what} descriptor has no valid digest and size")
    hex_of(digest)
    return digest, size


def _read_verified(raw: IO[bytes], digest: str, size: int, what: str) -> bytes:
    """All of ``raw``, refused (DigestMismatch) unless it hashes to ``digest`` and has ``size`` bytes."""
    reader = Verified(raw, digest, size, what)
    return b"".join(iter(lambda: reader.read(CHUNK), b""))


def _read_blob(arc: _Archive, desc: Any, what: str) -> bytes:
    digest, size = _descriptor(desc, what)
    return _read_verified(arc.blob(digest), digest, size, what)


def _pick_manifest(arc: _Archive, desc: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """Follow an index to the manifest for this machine's platform; each one read is verified."""
    for _ in range(4):
        desc_type = desc.get("mediaType") if isinstance(desc, dict) else None
        what = "index" if desc_type in oci.INDEX_TYPES else "manifest"
        data = _read_blob(arc, desc, what)
        doc = _json(data, f"{what} {desc['digest']}")
        mt = doc.get("mediaType") or desc_type or ""
        if mt in oci.INDEX_TYPES or ("manifests" in doc and "layers" not in doc):
            candidates = doc.get("manifests") or []
            arch = oci.goarch()
            chosen = None
            for m in candidates:
                p = (m.get("platform") if isinstance(m, dict) else None) or {}
                if p.get("os", "linux") == "linux" and p.get("architecture", arch) == arch:
                    chosen = m
                    break
            if chosen is None:
                raise InvalidArgument(f"no image for linux/{arch} in the archive's index")
            desc = chosen
            continue
        return doc, data
    raise InvalidArgument("invalid image archive: nested indexes too deep")


def _diff_ids(config: dict[str, Any], layers: int) -> list[str]:
    rootfs = config.get("rootfs")
    diff_ids = (rootfs.get("diff_ids") if isinstance(rootfs, dict) else None) or []
    if (
        not isinstance(diff_ids, list)
        or len(diff_ids) != layers
        or not all(isinstance(d, str) for d in diff_ids)
    ):
        raise InvalidArgument("invalid image: the config's diff_ids do not match the layers")
    return diff_ids


def _unpack(stage: Staging, raw: Verified, stream: Any, parent: str | None) -> LayerRecord:
    """Unpack a layer into the staging area and read its blob to the end (which verifies it). When the
    stream breaks the unpacker (a bad gzip or tar), the blob's digest mismatch, if any, is the error."""
    try:
        rec = stage.layers.unpack(stream, parent)
    except DigestMismatch:
        raise
    except Exception:
        raw.blame()
        raise
    raw.drain()
    return rec


def _stage_blob_layer(arc: _Archive, stage: Staging, desc: Any, parent: str | None, diff_id: str) -> NewLayer:
    """An OCI layer blob, kept byte for byte and unpacked; checked against its digest, size and DiffID."""
    from .imagestore import NewLayer

    digest, size = _descriptor(desc, "layer")
    chain = chain_id(parent, diff_id)
    if not (stage.has_layer(chain) and stage.has_blob(digest)):
        with stage.blobs.receive(arc.blob(digest), digest, size, "layer") as raw:
            rec = _unpack(stage, raw, decompressed(raw), parent)
            if rec.diff_id != diff_id:
                raise DigestMismatch(
                    f"digest mismatch: layer content (DiffID) {diff_id} arrived as {rec.diff_id}"
                )
    return NewLayer(chain, digest, str(desc.get("mediaType") or oci.MT_OCI_LAYER), size)


def _stage_tar_layer(arc: _Archive, stage: Staging, path: str, parent: str | None, diff_id: str) -> NewLayer:
    """A layer of Docker's manifest.json form, kept uncompressed: its blob's digest is its DiffID."""
    from .imagestore import NewLayer

    with stage.blobs.receive(decompressed(arc.open(path)), diff_id, 0, "layer") as raw:
        rec = _unpack(stage, raw, raw, parent)
    return NewLayer(rec.chain_id, diff_id, oci.MT_OCI_LAYER, raw.count)


@record
class _Staged:
    """An image whose blobs and layers are verified and staged, to be recorded once all of them are."""

    layers: list[NewLayer]
    config: bytes
    tags: list[str]
    manifest: bytes | None = None


def _stage_oci(
    arc: _Archive, stage: Staging, repo_tags: dict[str, list[str]], progress: ProgressFn | None
) -> list[_Staged]:
    staged: list[_Staged] = []
    manifests = _json(arc.read("index.json"), "index.json").get("manifests") or []
    for desc in manifests:
        manifest, manifest_bytes = _pick_manifest(arc, desc)
        layers = manifest.get("layers")
        if not isinstance(layers, list):
            raise InvalidArgument(f"invalid image archive: manifest {desc['digest']} lists no layers")
        config_digest, _ = _descriptor(manifest.get("config"), "config")
        config_bytes = _read_blob(arc, manifest["config"], "config")
        diff_ids = _diff_ids(_json(config_bytes, f"config {config_digest}"), len(layers))
        new_layers = []
        parent: str | None = None
        for i, (ld, did) in enumerate(zip(layers, diff_ids, strict=True)):
            if progress:
                progress(f"Loading layer {_descriptor(ld, 'layer')[0][7:19]}", i, len(diff_ids))
            nl = _stage_blob_layer(arc, stage, ld, parent, did)
            new_layers.append(nl)
            parent = nl.chain_id
        tags = list(repo_tags.get(hex_of(config_digest), []))
        ann = desc.get("annotations") or {}
        full = ann.get("io.containerd.image.name") or ""
        refname = ann.get(oci.ANNOTATION_REF_NAME) or ""
        if not tags:
            # A full name, or an OCI ref.name that is a whole reference; a bare tag names no repo.
            for cand in (full, refname if (":" in refname or "/" in refname) else ""):
                if cand:
                    with contextlib.suppress(InvalidArgument):
                        tags.append(reference.parse(cand).tagged)
                        break
        staged.append(_Staged(new_layers, config_bytes, tags, manifest_bytes))
    return staged


def _read_config(arc: _Archive, path: str) -> bytes:
    """The config of Docker's manifest.json form; when it is named by a digest (``<hex>.json``,
    ``blobs/sha256/<hex>``), its content must hash to it."""
    name = os.path.basename(_norm(path)).removesuffix(".json")
    if len(name) == 64 and all(c in "0123456789abcdef" for c in name):
        return _read_verified(arc.open(path), "sha256:" + name, 0, "config")
    return arc.read(path)


def _stage_docker(
    arc: _Archive, stage: Staging, docker_manifest: list[Any], progress: ProgressFn | None
) -> list[_Staged]:
    staged: list[_Staged] = []
    for m in docker_manifest:
        config_bytes = _read_config(arc, m["Config"])
        layers = list(m.get("Layers") or [])
        diff_ids = _diff_ids(_json(config_bytes, m["Config"]), len(layers))
        new_layers = []
        parent: str | None = None
        for i, (lpath, did) in enumerate(zip(layers, diff_ids, strict=True)):
            if progress:
                progress(f"Loading layer {i + 1}/{len(layers)}", i, len(layers))
            nl = _stage_tar_layer(arc, stage, lpath, parent, did)
            new_layers.append(nl)
            parent = nl.chain_id
        tags = [reference.parse(t).tagged for t in (m.get("RepoTags") or [])]
        staged.append(_Staged(new_layers, config_bytes, tags))
    return staged


def _docker_entry(m: Any) -> bool:
    """Whether a manifest.json entry has the shape Docker writes."""
    if not isinstance(m, dict) or not isinstance(m.get("Config"), str):
        return False
    layers = m.get("Layers") or []
    return isinstance(layers, list) and all(isinstance(x, str) for x in layers)


def _stage_images(arc: _Archive, stage: Staging, progress: ProgressFn | None) -> list[_Staged]:
    docker_manifest: list[Any] = []
    repo_tags: dict[str, list[str]] = {}
    if arc.has("manifest.json"):
        docker_manifest = _json(arc.read("manifest.json"), "manifest.json", list)
        for m in docker_manifest:
            if not _docker_entry(m):
                raise InvalidArgument("invalid image archive: manifest.json is not a list of images")
            cfg = _norm(m["Config"]).rpartition("/")[2].removesuffix(".json")
            repo_tags[cfg] = [reference.parse(t).tagged for t in (m.get("RepoTags") or [])]
    if arc.has("index.json"):
        return _stage_oci(arc, stage, repo_tags, progress)
    if docker_manifest:
        return _stage_docker(arc, stage, docker_manifest, progress)
    raise InvalidArgument(
        "invalid image archive: neither manifest.json nor index.json found (not a docker save or OCI archive)"
    )


def load(store: ImageStore, source: BinaryIO, progress: ProgressFn | None = None) -> list[str]:
    """Load every image in the archive; returns what was loaded (tags, or IDs of untagged store).

    Every blob is verified, and every layer unpacked, in a staging area first; only then does anything enter
    the store, so a refused archive changes nothing."""
    from .staging import Staging

    loaded: list[str] = []
    with store.writing(), _open_archive(store, source) as tf:
        stage = Staging(store)
        try:
            try:
                staged = _stage_images(_Archive(tf), stage, progress)
            except tarfile.TarError as e:  # a truncated or damaged archive
                raise InvalidArgument(f"invalid image archive: {e}") from None
            stage.commit()
            for im in staged:
                image_id = store.create(im.layers, im.config, im.tags, manifest_bytes=im.manifest)
                loaded.extend(im.tags or [image_id])
        finally:
            stage.discard()
    if progress:
        progress("Loaded", 1, 1)
    return loaded
