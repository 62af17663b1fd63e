"""Generated archives fed to the readers of ``load`` and ``import``: whatever the bytes, the only exception is
a DockyardError.

The load reader is driven in memory: ``open_archive`` (indexing the tar, decompressing a compressed one into
a temporary file), ``plan_load`` (every JSON file read, checked and verified) and then each planned layer
read as staging reads it (verified against its digest and size, decompressed, its tar headers parsed and its
DiffID checked) without writing it anywhere. The import reader is ``extract_layer``, the layer unpacker
itself, into a scratch directory emptied after each example.

Inputs: random bytes; valid archives (Docker's and the OCI form, plain, gzip and zstd) with flipped bytes,
cut short, or with a slice left out; and valid archives whose manifest.json, index.json, manifest or
config is replaced by random JSON shaped like the real thing (its keys, media types, digests and member
names mixed with random values), digests fixed up or not.

The number of examples comes from the hypothesis profile (tests/fuzz/conftest.py): "ci" by default,
"fuzz" with ``HYPOTHESIS_PROFILE=fuzz`` (``make fuzz``).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import zstandard
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine.errors import DigestMismatch, DockyardError
from engine.store import archive, oci
from engine.store.streams import Verified, decompressed
from engine.store.tar import limits
from engine.store.tar.extract import extract_layer
from engine.store.tar.reader import TarStream, next_entry, padding
from tests.fuzz.conftest import fuzz_settings

PROFILE = settings(
    fuzz_settings,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


# -- valid archives to start from -------------------------------------------------------------------------


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _blob(d: str) -> str:
    return "blobs/sha256/" + d.partition(":")[2]


def _tar(members: dict[str, bytes], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_600_000_000
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


LAYER = _tar({"etc/motd": b"fuzzed\n", "bin/x": b"\x7fELF" + bytes(60)})
LAYER_GZ = gzip.compress(LAYER, mtime=0)


def _members(gzip_layer: bool = False, reshape: Callable[[str, Any], Any] | None = None) -> dict[str, bytes]:
    """One image as ``save`` writes it: an OCI layout and Docker's manifest.json. ``reshape(kind, doc)``
    may change each JSON document ("config", "manifest", "index", "layout", "docker") before it is written;
    the digests and sizes that name it follow."""
    layer = LAYER_GZ if gzip_layer else LAYER
    members: dict[str, bytes] = {}

    def json_bytes(kind: str, doc: Any) -> bytes:
        return json.dumps(reshape(kind, doc) if reshape else doc).encode()

    def put(doc: Any, kind: str = "") -> tuple[str, int]:
        data = doc if isinstance(doc, bytes) else json_bytes(kind, doc)
        members[_blob(_digest(data))] = data
        return _digest(data), len(data)

    layer_digest, layer_size = put(layer)
    config_digest, config_size = put(
        {
            "architecture": oci.goarch(),
            "os": "linux",
            "config": {"Cmd": ["/bin/x"]},
            "rootfs": {"type": "layers", "diff_ids": [_digest(LAYER)]},
            "history": [{"created_by": "fuzz"}],
        },
        "config",
    )
    layer_type = oci.MT_OCI_LAYER_GZIP if gzip_layer else oci.MT_OCI_LAYER
    manifest_digest, manifest_size = put(
        {
            "schemaVersion": 2,
            "mediaType": oci.MT_OCI_MANIFEST,
            "config": {"mediaType": oci.MT_OCI_CONFIG, "digest": config_digest, "size": config_size},
            "layers": [{"mediaType": layer_type, "digest": layer_digest, "size": layer_size}],
        },
        "manifest",
    )
    members["index.json"] = json_bytes(
        "index",
        {
            "schemaVersion": 2,
            "mediaType": oci.MT_OCI_INDEX,
            "manifests": [
                {
                    "mediaType": oci.MT_OCI_MANIFEST,
                    "digest": manifest_digest,
                    "size": manifest_size,
                    "annotations": {"io.containerd.image.name": "fuzz:1"},
                }
            ],
        },
    )
    members["oci-layout"] = json_bytes("layout", dict(oci.OCI_LAYOUT))
    members["manifest.json"] = json_bytes(
        "docker", [{"Config": _blob(config_digest), "RepoTags": ["fuzz:1"], "Layers": [_blob(layer_digest)]}]
    )
    return members


MEMBERS = _members()
DOCKER_MEMBERS = {k: v for k, v in MEMBERS.items() if k not in ("index.json", "oci-layout")}
SEEDS = [
    _tar(MEMBERS),
    _tar(DOCKER_MEMBERS, tarfile.GNU_FORMAT),
    _tar(_members(gzip_layer=True)),
    gzip.compress(_tar(MEMBERS), mtime=0),
    zstandard.ZstdCompressor().compress(_tar(DOCKER_MEMBERS)),
]
IMPORT_SEEDS = [
    LAYER,
    LAYER_GZ,
    _tar({"a/" * 20 + "deep": b"x", ".wh.gone": b"", "dir/.wh..wh..opq": b""}, tarfile.GNU_FORMAT),
    zstandard.ZstdCompressor().compress(LAYER),
]

# -- the readers ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scratch() -> Iterator[str]:
    """Where the readers write, in memory when the machine has /dev/shm (writing to a disk costs most of
    each example's time)."""
    import tempfile

    path = tempfile.mkdtemp(prefix="dockyard-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def read_load_archive(data: bytes, tmpdir: str) -> None:
    """What ``load`` reads of an archive, in memory: the index, every JSON file, every layer's tar."""
    with limits.sharing(limits.Budget()), archive.open_archive(tmpdir, io.BytesIO(data)) as arc:
        for image in archive.plan_load(arc):
            for layer in image.layers:
                _read_layer(arc, layer)


def _read_layer(arc: archive.Archive, layer: Any) -> None:
    """A layer read as staging reads it, its entries parsed and skipped instead of written."""
    raw = arc.open(layer.member)
    blob = Verified(raw, layer.digest or layer.diff_id, layer.size, "layer")
    stream = TarStream(decompressed(blob).read, hashlib.sha256(), limits.current())
    while (entry := next_entry(stream)) is not None:
        limits.current().entry(entry.name)
        stream.skip(entry.size + padding(entry.size))
    stream.drain()
    while blob.read(1 << 20):
        pass
    if layer.digest and "sha256:" + stream._hasher.hexdigest() != layer.diff_id:  # type: ignore[union-attr]
        raise DigestMismatch("DiffID")


def _refused_only_by_the_engine(call: Any, *args: Any) -> None:
    """Call; any exception but a DockyardError fails the test (``--hypothesis-show-statistics`` shows how
    far the examples got)."""
    try:
        call(*args)
    except DockyardError as e:
        event(f"refused: {type(e).__name__}")
    else:
        event("read through")


# -- strategies -------------------------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed with flipped bytes, cut short, or with a slice left out."""
    data = bytearray(draw(st.sampled_from(seeds)))
    how = draw(st.sampled_from(["flip", "truncate", "drop", "flip+truncate"]))
    if "flip" in how:
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(data) - 1))
            data[at] ^= draw(st.integers(1, 255))
    if how == "drop":
        start = draw(st.integers(0, len(data) - 1))
        del data[start : start + draw(st.integers(1, 2048))]
    if "truncate" in how:
        del data[draw(st.integers(0, len(data) - 1)) :]
    return bytes(data)


KEYS = [
    "Config", "Layers", "RepoTags", "LayerSources", "schemaVersion", "mediaType", "manifests", "digest",
    "size", "annotations", "platform", "architecture", "os", "config", "layers", "rootfs", "diff_ids", "type",
    "history", "created", "Env", "Cmd", "Labels", "imageLayoutVersion", "urls",
]  # fmt: skip
STRINGS = [
    *MEMBERS,
    *(_digest(v) for v in MEMBERS.values()),
    oci.MT_OCI_MANIFEST, oci.MT_OCI_INDEX, oci.MT_OCI_CONFIG, oci.MT_OCI_LAYER, oci.MT_DOCKER_LIST,
    "linux", oci.goarch(), "layers", "1.0.0", "fuzz:1", "../../etc/passwd", "/", "", "sha256:", "sha512:00",
]  # fmt: skip

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(STRINGS)
    | st.text(max_size=20)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=12,
)


def _like(doc: Any, draw: st.DrawFn) -> Any:
    """``doc`` with some of its values replaced by random JSON, keys dropped or added."""
    if isinstance(doc, dict):
        out = {}
        for k, v in doc.items():
            what = draw(st.sampled_from(["keep", "keep", "recurse", "replace", "drop"]))
            if what == "keep":
                out[k] = v
            elif what == "recurse":
                out[k] = _like(v, draw)
            elif what == "replace":
                out[k] = draw(JSON)
        if draw(st.booleans()):
            out[draw(st.sampled_from(KEYS))] = draw(JSON)
        return out
    if isinstance(doc, list):
        items = [_like(v, draw) if draw(st.booleans()) else v for v in doc]
        if draw(st.booleans()):
            items.append(draw(JSON))
        return items
    return draw(st.sampled_from([doc, doc, None])) if draw(st.booleans()) else draw(JSON)


@st.composite
def shaped_json(draw: st.DrawFn) -> bytes:
    """A valid archive with some of its JSON files reshaped, the digests that name them fixed up (a file
    left out of step with its digest is the mutations' business)."""
    kinds = draw(st.sets(st.sampled_from(["config", "manifest", "index", "layout", "docker"]), min_size=1))
    members = _members(
        gzip_layer=draw(st.booleans()),
        reshape=lambda kind, doc: (
            (_like(doc, draw) if draw(st.booleans()) else draw(JSON)) if kind in kinds else doc
        ),
    )
    if draw(st.booleans()):
        members = {k: v for k, v in members.items() if k not in ("index.json", "oci-layout")}
    return _tar(members)


RANDOM = st.binary(max_size=4096)
LOAD_INPUTS = st.one_of(RANDOM, mutated(SEEDS), shaped_json())
IMPORT_INPUTS = st.one_of(RANDOM, mutated(IMPORT_SEEDS))


# -- the tests --------------------------------------------------------------------------------------------


def test_the_seeds_load() -> None:
    """Unspoilt, every seed reads through without an error (so the mutations start from good archives)."""
    for seed in SEEDS:
        read_load_archive(seed, os.environ.get("TMPDIR", "/tmp"))


@PROFILE
@given(LOAD_INPUTS)
def test_load_reader_raises_only_engine_errors(scratch: str, data: bytes) -> None:
    _refused_only_by_the_engine(read_load_archive, data, scratch)
    assert not os.listdir(scratch)  # the decompressed copy of a compressed archive is gone


@PROFILE
@given(IMPORT_INPUTS)
def test_import_reader_raises_only_engine_errors(scratch: str, data: bytes) -> None:
    dest = os.path.join(scratch, "rootfs")
    os.mkdir(dest)
    try:
        _refused_only_by_the_engine(extract_layer, io.BytesIO(data), dest)
    finally:
        shutil.rmtree(dest)
