"""``save`` and ``load``: image archives that Docker, Podman, skopeo and umoci understand.

``save`` writes an OCI image layout (``oci-layout``, ``index.json``, ``blobs/sha256/...``) plus Docker's
``manifest.json`` and ``repositories``, as ``docker save`` does since Docker 25. ``load`` reads that, Docker's
legacy format (``<id>.json``, ``<v1id>/layer.tar``, ``manifest.json``) and plain OCI archives (e.g. written by
skopeo), compressed or not. Loaded OCI images keep their original manifest, config and layer blobs byte for
byte.

``load`` trusts nothing it reads. The archive is indexed first (its tar headers read with the layer reader's
bounds, ``tar/limits.py``: entries, unpacked bytes, header sizes); every JSON file of it is read within
bounds and checked against its shape (``validate.py``) and every image's depth (at most 125 layers) before
any layer is read; every index, manifest, config and layer blob must match its descriptor's digest and size
(a layer also its DiffID), hashed once as it is copied. Blobs and layers are staged in ``tmp/``
(``staging.py``) and enter the store only once the whole archive has checked out, so a refused archive
changes nothing. Whatever is wrong is one engine error naming the member and the field.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tarfile
import threading
import time
from collections.abc import Callable, Iterator

from engine.lean.record import record

from ..errors import DigestMismatch, ImageNotFound, InvalidArgument, StoreError, UnsafeArchive
from . import oci, reference, validate
from .blobs import CHUNK, hex_of
from .layers import chain_id
from .streams import Verified, decompressed
from .tar import limits
from .tar.reader import REGULAR, TarStream, next_entry, padding

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


def _add_chunks(
    tf: tarfile.TarFile, ti: tarfile.TarInfo, chunks: Iterator[bytes | bytearray | memoryview]
) -> None:
    """``tf.addfile`` of a member whose content comes as chunks (exactly ``ti.size`` bytes)."""
    header = ti.tobuf(tf.format, tf.encoding, tf.errors)
    stream: Any = tf.fileobj
    stream.write(header)
    # A plain "w|" stream buffers by joining bytes, quadratic in a large write: its buffer is handed on
    # first, then the chunks go straight to the file it writes to.
    direct = getattr(stream, "comptype", None) == "tar" and isinstance(getattr(stream, "buf", None), bytes)
    if direct:
        stream.fileobj.write(stream.buf)
        stream.buf = b""
    n = 0
    for chunk in chunks:
        n += len(chunk)
        if n > ti.size:
            raise StoreError(f"{ti.name} is longer than its size")
        if direct:
            stream.fileobj.write(chunk)
            stream.pos += len(chunk)
        else:
            for i in range(0, len(chunk), tarfile.RECORDSIZE):
                stream.write(chunk[i : i + tarfile.RECORDSIZE])
    if n != ti.size:
        raise StoreError(f"{ti.name} is shorter than its size")
    pad = -n % tarfile.BLOCKSIZE
    if pad:
        stream.write(tarfile.NUL * pad)
    tf.offset += len(header) + n + pad
    tf.members.append(ti)  # type: ignore[attr-defined]


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
        tags: list[str] = []  # an image named by its ID is saved without tags, as Docker's
        if not reference.looks_like_id(n) or n in store.catalog.tags():
            with contextlib.suppress(InvalidArgument):
                tags = [reference.parse(n).tagged]
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
                try:
                    size = store.blobs.size(digest)
                    f = store.blobs.open(digest)
                except FileNotFoundError:
                    raise StoreError(f"blob {digest} is missing from the store") from None
                ti = tarfile.TarInfo(name)
                ti.size = size
                ti.mtime = int(now)
                ti.mode = 0o644
                with f:
                    chunks = getattr(f, "chunks", None)
                    if chunks is None:
                        tf.addfile(ti, f)
                    else:  # rebuilt from its layer: written as it comes
                        _add_chunks(tf, ti, chunks())
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

_COMPRESSED = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"BZh", b"\xfd7zXZ")


@contextlib.contextmanager
def open_archive(tmpdir: str, source: BinaryIO) -> Iterator[Archive]:
    """The archive, indexed for reading its members by offset. A seekable uncompressed input (a file, or
    standard input redirected from one) is read where it is; any other is first decompressed into a
    temporary file in ``tmpdir`` (at most ``limits.MAX_UNPACKED_BYTES``), removed afterwards."""
    seekable = False
    with contextlib.suppress(AttributeError, OSError, ValueError):
        seekable = source.seekable()
    if seekable:
        pos = source.tell()
        head = source.read(6)
        source.seek(pos)
        if not head.startswith(_COMPRESSED):
            yield Archive(source)
            return
    path = os.path.join(tmpdir, f"{os.getpid()}-load-{os.urandom(4).hex()}")
    try:
        with open(path, "w+b") as f:
            _spool(source, f)
            f.seek(0)
            yield Archive(f)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _spool(source: BinaryIO, out: BinaryIO) -> None:
    """Copy ``source``, decompressed, to ``out``; refused beyond ``limits.MAX_UNPACKED_BYTES``."""
    total = 0
    try:
        reader = decompressed(source)
        while data := reader.read(CHUNK):
            total += len(data)
            if total > limits.MAX_UNPACKED_BYTES:
                raise UnsafeArchive(f"it unpacks to more than {limits.MAX_UNPACKED_BYTES} bytes")
            out.write(data)
    except UnsafeArchive as e:
        raise UnsafeArchive(f"invalid archive: {e}") from None


@record
class _Member:
    """One entry of the archive: where its content starts and how long it is."""

    name: str
    offset: int
    size: int
    type: bytes
    linkname: str


class Archive:
    """A tar archive in a seekable file, indexed once (its headers read with the layer reader's bounds, its
    content skipped): its members by name, however the archive spells it (``./index.json`` or
    ``index.json``; a later entry replaces an earlier one), each read later from its offset."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self._lock = threading.Lock()
        self._base = f.tell()
        self.members = self._index()

    def _index(self) -> dict[str, _Member]:
        f = self._f
        stream = TarStream(f.read, seek=lambda n: f.seek(n, os.SEEK_CUR))
        members: dict[str, _Member] = {}
        count = total = 0
        try:
            while (e := next_entry(stream)) is not None:
                count += 1
                total += e.size
                if count > limits.MAX_ENTRIES:
                    raise UnsafeArchive(f"it has more than {limits.MAX_ENTRIES} entries")
                if total > limits.MAX_UNPACKED_BYTES:
                    raise UnsafeArchive(f"it unpacks to more than {limits.MAX_UNPACKED_BYTES} bytes")
                members[_norm(e.name)] = _Member(e.name, stream.position, e.size, e.type, e.linkname)
                stream.skip(e.size + padding(e.size))
        except UnsafeArchive as err:
            raise UnsafeArchive(f"invalid archive: {err}") from None
        if stream.total == 0:
            raise InvalidArgument("invalid archive: the archive is empty")
        end = f.seek(0, os.SEEK_END) - self._base
        for m in members.values():
            if m.offset + m.size > end:
                raise UnsafeArchive(
                    f"invalid archive: {_norm(m.name)} is truncated ({m.offset + m.size - end} bytes missing)"
                )
        return members

    def _pread(self, offset: int, n: int) -> bytes:
        with self._lock:
            self._f.seek(self._base + offset)
            return self._f.read(n)

    def has(self, name: str) -> bool:
        return _norm(name) in self.members

    def member(self, name: str) -> _Member:
        """The regular file ``name`` names, links inside the archive followed (the legacy format links
        identical layers)."""
        member = self.members.get(_norm(name))
        if member is None:
            raise InvalidArgument(f"invalid archive: {_shown(_norm(name))} is missing")
        for _ in range(16):
            if member.type not in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                if member.type not in REGULAR:
                    raise InvalidArgument(f"invalid archive: {_shown(_norm(name))} is not a file")
                return member
            target = member.linkname
            if member.type == tarfile.SYMTYPE:
                target = os.path.join(os.path.dirname(member.name), target)
            link = self.members.get(_norm(target))
            if link is None:
                raise InvalidArgument(
                    f"invalid archive: {_shown(_norm(name))} links to missing {_shown(_norm(target))}"
                )
            member = link
        raise InvalidArgument(f"invalid archive: too many links at {_shown(_norm(name))}")

    def open(self, name: str) -> _Slice:
        return _Slice(self, self.member(name))

    def read_json(self, name: str, shape: validate.Shape) -> Any:
        """The JSON member ``name``, bounded and checked against ``shape``."""
        member = self.member(name)
        if member.size > limits.MAX_JSON_BYTES:
            raise InvalidArgument(
                f"invalid archive: {_norm(name)} is larger than {limits.MAX_JSON_BYTES} bytes"
            )
        return validate.load_checked(_Slice(self, member).read(), _norm(name), shape)


class _Slice:
    """A member's content, read forward from its offset in the archive."""

    def __init__(self, arc: Archive, member: _Member) -> None:
        self._arc = arc
        self._pos = member.offset
        self._end = member.offset + member.size
        self.name = _norm(member.name)

    def read(self, n: int = -1) -> bytes:
        left = self._end - self._pos
        if left <= 0:
            return b""
        if n < 0 or n > left:
            n = left
        data = self._arc._pread(self._pos, n)
        if len(data) != n:
            raise UnsafeArchive(f"invalid archive: {_shown(self.name)} is truncated")
        self._pos += n
        return data


def _norm(name: str) -> str:
    return os.path.normpath(name).lstrip("/")


def _shown(name: str) -> str:
    return name if len(name) <= 100 else name[:100] + "..."


def _blob_name(digest: str) -> str:
    return "blobs/sha256/" + hex_of(digest)


def _read_verified(raw: IO[bytes] | _Slice, digest: str, size: int, what: str) -> bytes:
    """All of ``raw``, refused (DigestMismatch) unless it hashes to ``digest`` and has ``size`` bytes."""
    reader = Verified(raw, digest, size, what)
    return b"".join(iter(lambda: reader.read(CHUNK), b""))


def _read_blob(arc: Archive, desc: dict[str, Any], what: str) -> bytes:
    """A JSON blob (index, manifest, config) of a checked descriptor, verified against it."""
    digest, size = desc["digest"], desc["size"]
    if size > limits.MAX_JSON_BYTES:
        raise InvalidArgument(
            f"invalid archive: {what} {digest} is larger than {limits.MAX_JSON_BYTES} bytes"
        )
    member = arc.member(_blob_name(digest))
    if member.size > limits.MAX_JSON_BYTES:
        raise InvalidArgument(
            f"invalid archive: {_blob_name(digest)} is larger than {limits.MAX_JSON_BYTES} bytes"
        )
    return _read_verified(_Slice(arc, member), digest, size, what)


@record
class _Layer:
    """One layer of an image to load: the archive member with its blob and what the blob must be."""

    member: str
    digest: str  # the blob's; "" for Docker's form (a tar whose digest is its DiffID)
    size: int  # the blob's (0 for Docker's form)
    media_type: str
    diff_id: str


@record
class _Image:
    """An image of the archive, every JSON file of it read, verified and checked; its layers not yet read."""

    config: bytes
    layers: list[_Layer]
    tags: list[str]
    manifest: bytes | None = None


def plan_load(arc: Archive) -> list[_Image]:
    """The images of the archive (Docker's ``manifest.json`` form, an OCI layout, or both), with everything
    but their layers' content read and checked: the JSON files against their shapes, the JSON blobs against
    their digests, each layer's blob for presence and size, the number of layers."""
    docker: list[dict[str, Any]] | None = None
    repo_tags: dict[str, list[str]] = {}
    if arc.has("manifest.json"):
        docker = _docker_manifest(arc)
        for i, m in enumerate(docker):
            config_name = _norm(m["Config"]).rpartition("/")[2].removesuffix(".json")
            repo_tags[config_name] = _repo_tags(m, i)
    if arc.has("index.json") and (arc.has("oci-layout") or docker is None):
        return _plan_oci(arc, repo_tags)
    if docker is not None:
        images: dict[tuple[str, ...], _Image] = {}  # an image listed twice is read once
        for i, m in enumerate(docker):
            key = tuple(_norm(p) for p in [m["Config"], *(m.get("Layers") or [])])
            if key in images:
                _add_tags(images[key], _repo_tags(m, i))
            else:
                images[key] = _plan_docker(arc, m, i)
        return list(images.values())
    raise InvalidArgument(
        "invalid archive: neither manifest.json nor index.json found (not a docker save or OCI archive)"
    )


def _docker_manifest(arc: Archive) -> list[dict[str, Any]]:
    doc = arc.read_json("manifest.json", validate.Anything())
    if doc is None:
        raise InvalidArgument(
            "invalid archive: manifest.json: invalid manifest, manifest cannot be null (but can be [])"
        )
    return validate.check(doc, validate.DOCKER_MANIFEST, "manifest.json")


def _repo_tags(m: dict[str, Any], i: int) -> list[str]:
    tags = []
    for j, t in enumerate(m.get("RepoTags") or []):
        try:
            ref = reference.parse(t)
        except InvalidArgument as e:
            raise InvalidArgument(
                f"invalid archive: manifest.json: entry {i}: RepoTags[{j}]: invalid tag {_shown(t)!r}: {e}"
            ) from None
        if ref.digest:
            raise InvalidArgument(
                f"invalid archive: manifest.json: entry {i}: RepoTags[{j}]: invalid tag {t!r}"
            )
        tags.append(ref.tagged)
    return tags


def _plan_oci(arc: Archive, repo_tags: dict[str, list[str]]) -> list[_Image]:
    if not arc.has("oci-layout"):
        raise InvalidArgument("invalid archive: oci-layout is missing (an OCI image layout has one)")
    arc.read_json("oci-layout", validate.OCI_LAYOUT)
    index = arc.read_json("index.json", validate.INDEX)
    images: dict[str, _Image] = {}  # by the digest index.json names: Docker lists an image once per tag
    for k, desc in enumerate(index["manifests"]):
        seen = images.get(desc["digest"])
        if seen is not None:
            _add_tags(seen, _annotated_tags(desc.get("annotations") or {}))
            continue
        manifest_bytes, manifest, where = _pick_manifest(arc, desc, f"index.json: manifests[{k}]")
        layers = manifest["layers"]
        _check_depth(len(layers), where)
        config_desc = manifest["config"]
        config_bytes = _read_blob(arc, config_desc, "config")
        config = validate.load_checked(
            config_bytes, "config " + _blob_name(config_desc["digest"]), validate.IMAGE_CONFIG
        )
        diff_ids = _diff_ids(config, len(layers), where)
        planned = []
        for ld, diff_id in zip(layers, diff_ids, strict=True):
            digest, size = ld["digest"], ld["size"]
            member = _blob_name(digest)
            _check_size(arc.member(member).size, digest, size)
            planned.append(_Layer(member, digest, size, ld["mediaType"], diff_id))
        tags = list(repo_tags.get(hex_of(config_desc["digest"]), []))
        if not tags:
            tags = _annotated_tags(desc.get("annotations") or {})
        images[desc["digest"]] = _Image(config_bytes, planned, tags, manifest_bytes)
    return list(images.values())


def _add_tags(image: _Image, tags: list[str]) -> None:
    image.tags.extend(t for t in tags if t not in image.tags)


def _annotated_tags(ann: dict[str, str]) -> list[str]:
    """A full name, or an OCI ref.name that is a whole reference; a bare tag names no repo."""
    full = ann.get("io.containerd.image.name") or ""
    refname = ann.get(oci.ANNOTATION_REF_NAME) or ""
    for cand in (full, refname if (":" in refname or "/" in refname) else ""):
        if cand:
            with contextlib.suppress(InvalidArgument):
                return [reference.parse(cand).tagged]
    return []


def _pick_manifest(arc: Archive, desc: dict[str, Any], where: str) -> tuple[bytes, dict[str, Any], str]:
    """Follow an index to the manifest for this machine's platform; each one read is verified and checked.
    Returns the manifest's bytes, the manifest, and its name for errors ("manifest blobs/sha256/...")."""
    for _ in range(4):
        member = _blob_name(desc["digest"])
        what = "index" if desc["mediaType"] in oci.INDEX_TYPES else "manifest"
        data = _read_blob(arc, desc, what)
        doc = validate.read_json(data, f"{what} {member}")
        own_type = doc.get("mediaType") if isinstance(doc, dict) else None
        media_type = own_type if isinstance(own_type, str) else desc["mediaType"]
        if media_type in oci.INDEX_TYPES:
            where = f"index {member}"
            validate.check(doc, validate.NESTED_INDEX, where)
            desc = _for_this_platform(doc["manifests"], where)
            continue
        where = f"manifest {member}"
        if media_type not in oci.MANIFEST_TYPES:
            raise InvalidArgument(
                f"invalid archive: {where}: unsupported manifest media type {_shown(media_type)!r}"
            )
        return data, validate.check(doc, validate.MANIFEST, where), where
    raise InvalidArgument(f"invalid archive: {where}: indexes nested too deeply")


def _for_this_platform(candidates: list[dict[str, Any]], member: str) -> dict[str, Any]:
    arch = oci.goarch()
    for m in candidates:
        p = m.get("platform") or {}
        if (
            m["mediaType"] in oci.MANIFEST_TYPES + oci.INDEX_TYPES
            and p.get("os", "linux") == "linux"
            and p.get("architecture", arch) == arch
        ):
            return m
    raise InvalidArgument(f"invalid archive: {member}: no image for linux/{arch} in this index")


def _check_depth(layers: int, where: str) -> None:
    if layers > limits.MAX_LAYERS:
        raise InvalidArgument(
            f"invalid archive: {where}: max depth exceeded ({layers} layers, more than the "
            f"{limits.MAX_LAYERS} overlayfs can stack)"
        )


def _diff_ids(config: dict[str, Any], layers: int, where: str) -> list[str]:
    """The config's DiffIDs, one per layer; the config must be of a Linux image (Docker's words)."""
    if config["os"] != "linux":
        raise InvalidArgument(f"cannot load {_shown(config['os'])} image on linux")
    diff_ids: list[str] = config["rootfs"]["diff_ids"]
    if len(diff_ids) != layers:
        raise InvalidArgument(
            f"invalid archive: {where}: invalid manifest, layers length mismatch: "
            f"expected {layers}, got {len(diff_ids)}"
        )
    return diff_ids


def _check_size(actual: int, digest: str, size: int) -> None:
    """A layer blob whose member has not its descriptor's size is refused before it is unpacked."""
    if actual > size:
        raise DigestMismatch(f"digest mismatch: layer {digest} is longer than its {size} bytes")
    if actual < size:
        raise DigestMismatch(f"digest mismatch: layer {digest} is shorter than its {size} bytes")


def _plan_docker(arc: Archive, m: dict[str, Any], i: int) -> _Image:
    """An image of Docker's manifest.json form."""
    where = f"manifest.json: entry {i}"
    layers = m.get("Layers") or []
    _check_depth(len(layers), where)
    config_bytes = _read_config(arc, m["Config"])
    config = validate.load_checked(
        config_bytes, "config " + _shown(_norm(m["Config"])), validate.IMAGE_CONFIG
    )
    diff_ids = _diff_ids(config, len(layers), where)
    planned = []
    for path, diff_id in zip(layers, diff_ids, strict=True):
        arc.member(path)  # there, and a file
        planned.append(_Layer(path, "", 0, oci.MT_OCI_LAYER, diff_id))
    return _Image(config_bytes, planned, _repo_tags(m, i))


def _read_config(arc: Archive, path: str) -> bytes:
    """The config of Docker's manifest.json form; when it is named by a digest (``<hex>.json``,
    ``blobs/sha256/<hex>``), its content must hash to it."""
    member = arc.member(path)
    if member.size > limits.MAX_JSON_BYTES:
        raise InvalidArgument(f"invalid archive: {_norm(path)} is larger than {limits.MAX_JSON_BYTES} bytes")
    name = os.path.basename(_norm(path)).removesuffix(".json")
    if len(name) == 64 and all(c in "0123456789abcdef" for c in name):
        return _read_verified(_Slice(arc, member), "sha256:" + name, 0, "config")
    return _Slice(arc, member).read()


def _unpack(stage: Staging, raw: Verified, stream: Any, parent: str | None, member: str) -> LayerRecord:
    """Unpack a layer into the staging area and read its blob to the end (which verifies it). When the
    stream breaks the unpacker (a bad gzip or tar), the blob's digest mismatch, if any, is the error;
    else the unpacker's, naming the layer's member."""
    try:
        rec = stage.layers.unpack(stream, parent)
    except DigestMismatch:
        raise
    except UnsafeArchive as e:
        raw.blame()
        raise UnsafeArchive(f"invalid archive: layer {_shown(_norm(member))}: {e}") from None
    except Exception:
        raw.blame()
        raise
    raw.drain()
    return rec


def _stage_layer(arc: Archive, stage: Staging, layer: _Layer, parent: str | None) -> NewLayer:
    """Unpack one layer into the staging area, checked against its digest, size and DiffID. An OCI blob is
    kept byte for byte; a layer of Docker's form is kept uncompressed (its blob's digest is its DiffID)."""
    from .imagestore import NewLayer

    if not layer.digest:
        rec, size = _stage_once(arc, stage, layer, parent, layer.diff_id, 0, True)
        return NewLayer(rec.chain_id, layer.diff_id, oci.MT_OCI_LAYER, size)
    chain = chain_id(parent, layer.diff_id)
    if layer.digest == layer.diff_id and not stage.has_blob(layer.digest):  # an uncompressed blob
        _stage_once(arc, stage, layer, parent, layer.digest, layer.size, False)
    elif not (stage.has_layer(chain) and stage.has_blob(layer.digest)):
        with stage.blobs.receive(arc.open(layer.member), layer.digest, layer.size, "layer") as raw:
            rec = _unpack(stage, raw, decompressed(raw), parent, layer.member)
            if rec.diff_id != layer.diff_id:
                raise DigestMismatch(
                    f"digest mismatch: layer content (DiffID) {layer.diff_id} arrived as {rec.diff_id}"
                )
    return NewLayer(chain, layer.digest, layer.media_type, layer.size)


def _stage_once(
    arc: Archive, stage: Staging, layer: _Layer, parent: str | None, digest: str, size: int, unzip: bool
) -> tuple[LayerRecord, int]:
    """Unpack a layer whose blob is its uncompressed tar without writing the blob: when the layer's tar-split
    record was made, a recipe stands for it; else (a name twice in the tar...) the blob is read again from
    the archive and kept. Returns the layer and the blob's size."""
    source: Any = arc.open(layer.member)
    raw = Verified(decompressed(source) if unzip else source, digest, size, "layer")
    rec = _unpack(stage, raw, raw, parent, layer.member)
    if stage.recipe(digest, rec.chain_id, raw.count):
        return rec, raw.count
    source = arc.open(layer.member)
    with stage.blobs.receive(decompressed(source) if unzip else source, digest, size, "layer") as again:
        again.drain()
    return rec, again.count


def _stage_image(arc: Archive, stage: Staging, image: _Image, progress: ProgressFn | None) -> list[NewLayer]:
    new_layers: list[NewLayer] = []
    parent: str | None = None
    total = len(image.layers)
    for i, layer in enumerate(image.layers):
        if progress:
            label = layer.digest[7:19] if layer.digest else f"{i + 1}/{total}"
            progress(f"Loading layer {label}", i, total)
        nl = _stage_layer(arc, stage, layer, parent)
        new_layers.append(nl)
        parent = nl.chain_id
    return new_layers


def load(store: ImageStore, source: BinaryIO, progress: ProgressFn | None = None) -> list[str]:
    """Load every image in the archive; returns what was loaded (tags, or IDs of untagged images).

    The archive is indexed and every JSON file of it checked before any layer is read; then every blob is
    verified, and every layer unpacked, in a staging area; only then does anything enter the store, so a
    refused archive changes nothing. All the layers together count against the bounds of ``limits``."""
    from .staging import Staging

    loaded: list[str] = []
    with store.writing(), open_archive(store.layout.tmp, source) as arc, limits.sharing(limits.Budget()):
        images = plan_load(arc)
        stage = Staging(store)
        try:
            staged = [(image, _stage_image(arc, stage, image, progress)) for image in images]
            stage.commit()
            for image, layers in staged:
                image_id = store.create(layers, image.config, image.tags, manifest_bytes=image.manifest)
                loaded.extend(image.tags or [image_id])
        finally:
            stage.discard()
    if progress:
        progress("Loaded", 1, 1)
    return loaded
