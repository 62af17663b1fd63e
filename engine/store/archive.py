"""``save`` and ``load``: image archives that Docker, Podman, skopeo and umoci understand.

``save`` writes an OCI image layout (``oci-layout``, ``index.json``, ``blobs/sha256/...``) plus Docker's
``manifest.json`` and ``repositories``, as ``docker save`` does since Docker 25. ``load`` reads that, Docker's
legacy format (``<id>.json``, ``<v1id>/layer.tar``, ``manifest.json``) and plain OCI archives (e.g. written by
skopeo), compressed or not. Loaded OCI images keep their original manifest, config and layer blobs byte for
byte.
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

from ..errors import ImageNotFound, InvalidArgument, StoreError
from . import oci, reference
from .layers import chain_id
from .streams import HashingReader, decompressed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any, BinaryIO

    from ..images import Images, NewLayer

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


def save(images: Images, names: list[str], out: IO[bytes]) -> None:
    if not names:
        raise InvalidArgument('"save" requires at least 1 argument')
    selected: list[tuple[str, list[str]]] = []  # (image id, tags to record)
    for n in names:
        image_id = images.resolve(n)
        tags: list[str] = []
        if not reference.looks_like_id(n) or n in images.store.tags():
            with contextlib.suppress(InvalidArgument):
                tags = [reference.parse(n).tagged]
        elif n:
            tags = images.store.tags_of(image_id)
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
                path = images.blobs.path(digest)
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
            entry = images.store.get(image_id)
            if entry is None:
                raise ImageNotFound(f"No such image: {image_id}")
            manifest_bytes = images.blobs.read(entry.manifest)
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
def _open_archive(images: Images, source: BinaryIO) -> Iterator[tarfile.TarFile]:
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
    path = os.path.join(images.layout.tmp, f"{os.getpid()}-load-{os.urandom(4).hex()}")
    try:
        with open(path, "wb") as f:
            shutil.copyfileobj(decompressed(source), f, 1 << 20)  # type: ignore[misc]
        try:
            tf = tarfile.open(path, mode="r:")
        except tarfile.TarError as e:
            raise InvalidArgument(f"invalid image archive: {e}") from None
        with tf:
            yield tf
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _read_member(tf: tarfile.TarFile, name: str) -> bytes:
    f = _member_stream(tf, name)
    return f.read()


def _member_stream(tf: tarfile.TarFile, name: str) -> IO[bytes]:
    name = os.path.normpath(name).lstrip("/")
    try:
        member = tf.getmember(name)
    except KeyError:
        raise InvalidArgument(f"invalid image archive: {name} is missing") from None
    # Follow symlinks inside the archive (legacy format links identical layers).
    seen = 0
    while member.issym() or member.islnk():
        seen += 1
        if seen > 16:
            raise InvalidArgument(f"invalid image archive: too many links at {name}")
        target = member.linkname
        if member.issym():
            target = os.path.normpath(os.path.join(os.path.dirname(member.name), target))
        try:
            member = tf.getmember(target.lstrip("/"))
        except KeyError:
            raise InvalidArgument(f"invalid image archive: {name} links to missing {target}") from None
    f = tf.extractfile(member)
    if f is None:
        raise InvalidArgument(f"invalid image archive: {name} is not a file")
    return f


def _layer_media_compressed(media_type: str) -> bool:
    return media_type.endswith(("+gzip", ".gzip", "+zstd"))


def _ingest_blob_layer(
    images: Images, tf: tarfile.TarFile, member: str, desc: dict[str, Any], parent: str | None, diff_id: str
) -> NewLayer:
    """Copy an OCI layer blob byte for byte and unpack it; verifies both its digest and its DiffID."""
    from ..images import NewLayer

    digest = desc["digest"]
    chain = chain_id(parent, diff_id)
    if images.layers.exists(chain) and images.blobs.exists(digest):
        return NewLayer(chain, digest, desc.get("mediaType", oci.MT_OCI_LAYER), desc.get("size", 0))
    stream = _member_stream(tf, member)
    with images.blobs.writer(expected=digest) as w:
        raw = HashingReader(stream, w)  # type: ignore[arg-type]
        rec = images.layers.unpack(decompressed(raw), parent)  # type: ignore[arg-type]
        raw.drain()
    if rec.diff_id != diff_id:
        raise StoreError(f"layer {digest} does not match its DiffID {diff_id} (got {rec.diff_id})")
    return NewLayer(rec.chain_id, digest, desc.get("mediaType", oci.MT_OCI_LAYER), w.size)


def _pick_manifest(tf: tarfile.TarFile, desc: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """Follow an index to the manifest for this machine's platform."""
    for _ in range(4):
        data = _read_member(tf, "blobs/sha256/" + desc["digest"].partition(":")[2])
        doc = json.loads(data)
        mt = doc.get("mediaType") or desc.get("mediaType", "")
        if mt in oci.INDEX_TYPES or ("manifests" in doc and "layers" not in doc):
            candidates = doc.get("manifests") or []
            arch = oci.goarch()
            chosen = None
            for m in candidates:
                p = m.get("platform") or {}
                if p.get("os", "linux") == "linux" and p.get("architecture", arch) == arch:
                    chosen = m
                    break
            if chosen is None:
                raise InvalidArgument(f"no image for linux/{arch} in the archive's index")
            desc = chosen
            continue
        return doc, data
    raise InvalidArgument("invalid image archive: nested indexes too deep")


def load(images: Images, source: BinaryIO, progress: ProgressFn | None = None) -> list[str]:
    """Load every image in the archive; returns what was loaded (tags, or IDs of untagged images)."""
    loaded: list[str] = []
    with images.writing(), _open_archive(images, source) as tf:
        names = set(tf.getnames())
        repo_tags: dict[str, list[str]] = {}
        docker_manifest: list[dict[str, Any]] = []
        if "manifest.json" in names:
            docker_manifest = json.loads(_read_member(tf, "manifest.json")) or []
            for m in docker_manifest:
                cfg = os.path.normpath(m.get("Config", ""))
                repo_tags[cfg.rpartition("/")[2].removesuffix(".json")] = list(m.get("RepoTags") or [])
        if "index.json" in names:
            index = json.loads(_read_member(tf, "index.json"))
            for desc in index.get("manifests", []):
                manifest, manifest_bytes = _pick_manifest(tf, desc)
                config_desc = manifest["config"]
                config_bytes = _read_member(tf, "blobs/sha256/" + config_desc["digest"].partition(":")[2])
                config = json.loads(config_bytes)
                diff_ids = list(config.get("rootfs", {}).get("diff_ids", []))
                if len(diff_ids) != len(manifest.get("layers", [])):
                    raise InvalidArgument("invalid image: the config's diff_ids do not match the layers")
                new_layers = []
                parent: str | None = None
                for i, (ld, did) in enumerate(zip(manifest["layers"], diff_ids, strict=True)):
                    if progress:
                        progress(f"Loading layer {ld['digest'][7:19]}", i, len(diff_ids))
                    nl = _ingest_blob_layer(images, tf, "blobs/sha256/" + ld["digest"][7:], ld, parent, did)
                    new_layers.append(nl)
                    parent = nl.chain_id
                cfg_digest = images.blobs.put_bytes(config_bytes)
                tags = list(repo_tags.get(cfg_digest.partition(":")[2], []))
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
                image_id = images.create(new_layers, config_bytes, tags, manifest_bytes=manifest_bytes)
                loaded.extend(tags or [image_id])
        elif docker_manifest:
            for m in docker_manifest:
                config_bytes = _read_member(tf, m["Config"])
                config = json.loads(config_bytes)
                diff_ids = list(config.get("rootfs", {}).get("diff_ids", []))
                layers = list(m.get("Layers") or [])
                if len(diff_ids) != len(layers):
                    raise InvalidArgument("invalid image: the config's diff_ids do not match the layers")
                new_layers = []
                parent = None
                for i, (lpath, did) in enumerate(zip(layers, diff_ids, strict=True)):
                    if progress:
                        progress(f"Loading layer {i + 1}/{len(layers)}", i, len(layers))
                    nl = images.add_layer_from_tar(_member_stream(tf, lpath), parent)  # type: ignore[arg-type]
                    if images.layers.get(nl.chain_id).diff_id != did:
                        raise StoreError(f"layer {lpath} does not match its DiffID {did}")
                    new_layers.append(nl)
                    parent = nl.chain_id
                tags = [reference.parse(t).tagged for t in (m.get("RepoTags") or [])]
                image_id = images.create(new_layers, config_bytes, tags)
                loaded.extend(tags or [image_id])
        else:
            raise InvalidArgument(
                "invalid image archive: neither manifest.json nor index.json found (not a docker save or OCI archive)"
            )
    if progress:
        progress("Loaded", 1, 1)
    return loaded
