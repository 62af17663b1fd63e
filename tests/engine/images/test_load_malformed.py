"""Malformed archives given to ``load`` and ``import`` end in one engine error naming what is wrong, never in a
traceback, and leave the engine root as it was: its blobs, layers, temporaries and images.

Every archive is made here, in memory: a small valid image (one layer, Docker's manifest.json and an OCI
layout, as ``save`` writes it), then spoiled one way per case. Each case is loaded through the engine's API
(the error is a DockyardError) and through the CLI (``Error: ...``, exit status 1 as Docker's ``load`` and
``import`` give, no traceback). Cases that lower a bound of ``engine.store.tar.limits`` run through the API
only (the bound is lowered in this process).
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import zstandard

from engine.errors import DigestMismatch, DockyardError, InvalidArgument, UnsafeArchive
from engine.store import oci
from engine.store.tar import limits
from tests.conftest import CLI, DOCKYARD

Members = dict[str, bytes]
TAG = "malformed:1"


# -- building archives ------------------------------------------------------------------------------------


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob_name(d: str) -> str:
    return "blobs/sha256/" + d.partition(":")[2]


def tar_of(entries: list[tuple[tarfile.TarInfo, bytes]], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for info, data in entries:
            tf.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buf.getvalue()


def file_entry(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = ""
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.mtime = 1_600_000_000
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data


def archive_of(members: Members, links: dict[str, str] | None = None, dirs: tuple[str, ...] = ()) -> bytes:
    entries = [file_entry(d, kind=tarfile.DIRTYPE) for d in dirs]
    entries += [file_entry(n, data) for n, data in members.items()]
    entries += [file_entry(n, kind=tarfile.SYMTYPE, link=t) for n, t in (links or {}).items()]
    return tar_of(entries)


LAYER = tar_of([file_entry("hello.txt", b"hello from a loaded layer\n")])

Edit = Callable[[Any], Any]


def image(
    *,
    layers: list[bytes] | None = None,
    layer_types: list[str] | None = None,
    diff_ids: list[str] | None = None,
    config: Edit | None = None,
    manifest: Edit | None = None,
    index: Edit | None = None,
    docker: Edit | None = None,
    oci_form: bool = True,
    docker_form: bool = True,
) -> Members:
    """A valid one-image archive as ``save`` writes it, each JSON file passed through its edit (which may
    return anything: another shape, or bytes to store as they are); digests and sizes follow the edits."""
    layers = [LAYER] if layers is None else layers
    layer_types = layer_types or [oci.MT_OCI_LAYER] * len(layers)
    members: Members = {}

    def put(value: Any) -> tuple[str, int]:
        data = value if isinstance(value, bytes) else json.dumps(value).encode()
        members[blob_name(digest(data))] = data
        return digest(data), len(data)

    layer_descs = []
    for data, mt in zip(layers, layer_types, strict=True):
        d, size = put(data)
        layer_descs.append({"mediaType": mt, "digest": d, "size": size})
    cfg: Any = {
        "architecture": oci.goarch(),
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": {"Cmd": ["/hello"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids or [digest(x) for x in layers]},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "test"}],
    }
    cfg = config(cfg) if config else cfg
    cfg_digest, cfg_size = put(cfg)
    man: Any = {
        "schemaVersion": 2,
        "mediaType": oci.MT_OCI_MANIFEST,
        "config": {"mediaType": oci.MT_OCI_CONFIG, "digest": cfg_digest, "size": cfg_size},
        "layers": layer_descs,
    }
    man = manifest(man) if manifest else man
    man_digest, man_size = put(man)
    if oci_form:
        idx: Any = {
            "schemaVersion": 2,
            "mediaType": oci.MT_OCI_INDEX,
            "manifests": [
                {
                    "mediaType": oci.MT_OCI_MANIFEST,
                    "digest": man_digest,
                    "size": man_size,
                    "annotations": {"io.containerd.image.name": TAG, oci.ANNOTATION_REF_NAME: "1"},
                }
            ],
        }
        idx = index(idx) if index else idx
        members["index.json"] = idx if isinstance(idx, bytes) else json.dumps(idx).encode()
        members["oci-layout"] = json.dumps(oci.OCI_LAYOUT).encode()
    if docker_form:
        dm: Any = [
            {
                "Config": blob_name(cfg_digest),
                "RepoTags": [TAG],
                "Layers": [blob_name(d["digest"]) for d in layer_descs],
            }
        ]
        dm = docker(dm) if docker else dm
        members["manifest.json"] = dm if isinstance(dm, bytes) else json.dumps(dm).encode()
    return members


def docker_only(**kw: Any) -> Members:
    return image(oci_form=False, **kw)


def oci_only(**kw: Any) -> Members:
    return image(docker_form=False, **kw)


def without(members: Members, *names: str) -> Members:
    return {n: d for n, d in members.items() if n not in names}


def replaced(members: Members, name: str, data: bytes) -> Members:
    return {**members, name: data}


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def header(
    name: bytes = b"f",
    *,
    size: int = 0,
    kind: bytes = tarfile.REGTYPE,
    size_field: bytes | None = None,
    uid_field: bytes | None = None,
    mtime_field: bytes | None = None,
    dev_fields: bytes | None = None,
    linkname: bytes = b"",
    good_checksum: bool = True,
) -> bytes:
    """One ustar header block, any field as raw bytes."""
    h = bytearray(512)
    h[0 : len(name)] = name
    h[100:108] = b"0000644\0"
    h[108:116] = uid_field or b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = size_field or f"{size:011o}\0".encode()
    h[136:148] = mtime_field or b"13000000000\0"
    h[156:157] = kind
    h[157 : 157 + len(linkname)] = linkname
    h[257:265] = b"ustar\x0000"
    if dev_fields:
        h[329:345] = dev_fields
    h[148:156] = b" " * 8
    checksum = sum(h) + (0 if good_checksum else 1)
    h[148:156] = f"{checksum:06o}\0 ".encode()
    return bytes(h)


def padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % 512)


def raw_tar(*parts: bytes) -> bytes:
    return b"".join(parts) + bytes(1024)


def pax(records: dict[str, str] | bytes, name: bytes = b"f", data: bytes = b"") -> bytes:
    """A PAX extended header (records, or raw record bytes) then a regular file."""
    if isinstance(records, dict):
        body = b""
        for k, v in records.items():
            rec = f" {k}={v}\n".encode()
            n = len(rec) + 1
            n += len(str(n + len(rec))) - 1
            rec = f"{n}{rec.decode()}".encode()
            body += rec
    else:
        body = records
    return (
        header(b"PaxHeaders/f", size=len(body), kind=tarfile.XHDTYPE)
        + padded(body)
        + header(name, size=len(data))
        + padded(data)
    )


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def zst(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def flip(data: bytes, at: int) -> bytes:
    b = bytearray(data)
    b[at] ^= 0xFF
    return bytes(b)


# -- the cases ---------------------------------------------------------------------------------------------


@dataclass
class Case:
    """A malformed archive, the error class it must raise, words its message must hold, and the bounds of
    ``limits`` to lower first (which keeps the case to the API)."""

    make: Callable[[], bytes]
    error: type[DockyardError] = InvalidArgument
    words: tuple[str, ...] = ()
    limits: dict[str, int] = field(default_factory=dict)


def A(
    members: Callable[[], Members], error: type[DockyardError] = InvalidArgument, *words: str, **lim: int
) -> Case:
    """A case made of archive members."""
    return Case(lambda: archive_of(members()), error, words, lim)


def R(
    make: Callable[[], bytes], error: type[DockyardError] = InvalidArgument, *words: str, **lim: int
) -> Case:
    """A case made of raw bytes."""
    return Case(make, error, words, lim)


def _with_layers(n: int) -> Members:
    """Docker's form with ``n`` layers (all the same file): refused for its depth before anything is read."""
    return docker_only(
        docker=lambda d: [{**d[0], "Layers": d[0]["Layers"] * n}], config=lambda c: _diff_ids(c, n)
    )


def _diff_ids(c: dict[str, Any], n: int) -> dict[str, Any]:
    c["rootfs"]["diff_ids"] = c["rootfs"]["diff_ids"] * n
    return c


def _oci_layers(n: int) -> Members:
    return oci_only(manifest=lambda m: {**m, "layers": m["layers"] * n}, config=lambda c: _diff_ids(c, n))


def _nested_indexes(levels: int) -> Members:
    """index.json -> index -> index -> ... -> the manifest."""
    members = oci_only()
    top = json.loads(members["index.json"])
    desc = top["manifests"][0]
    for _ in range(levels):
        inner = json.dumps({"schemaVersion": 2, "mediaType": oci.MT_OCI_INDEX, "manifests": [desc]}).encode()
        members[blob_name(digest(inner))] = inner
        desc = {"mediaType": oci.MT_OCI_INDEX, "digest": digest(inner), "size": len(inner)}
    top["manifests"] = [desc]
    members["index.json"] = json.dumps(top).encode()
    return members


def _foreign_platform() -> Members:
    members = oci_only()
    top = json.loads(members["index.json"])
    desc = dict(top["manifests"][0], platform={"architecture": "sparc", "os": "solaris"})
    inner = json.dumps({"schemaVersion": 2, "manifests": [desc]}).encode()
    members[blob_name(digest(inner))] = inner
    top["manifests"] = [{"mediaType": oci.MT_OCI_INDEX, "digest": digest(inner), "size": len(inner)}]
    members["index.json"] = json.dumps(top).encode()
    return members


def _tampered_manifest() -> Members:
    """The manifest's bytes changed after its digest was recorded."""
    members = oci_only()
    d = json.loads(members["index.json"])["manifests"][0]["digest"]
    members[blob_name(d)] = members[blob_name(d)].replace(b"{", b"{ ", 1)[:-1]
    return members


def _layer_longer() -> Members:
    members = oci_only()
    members[blob_name(digest(LAYER))] += bytes(512)
    return members


def _good_archive() -> bytes:
    return archive_of(image())


def _layer_loop() -> bytes:
    members = docker_only(docker=lambda d: [{**d[0], "Layers": ["loop-a"]}])
    return archive_of(members, links={"loop-a": "loop-b", "loop-b": "loop-a"})


def _config_dir() -> bytes:
    members = docker_only(docker=lambda d: [{**d[0], "Config": "confdir"}])
    return archive_of(members, dirs=("confdir",))


def _truncated_member() -> bytes:
    data = _good_archive()
    at = data.index(b"hello from a loaded layer")
    return data[: at + 5]


def _member_with_long_header(kind: bytes, size: int) -> bytes:
    return raw_tar(header(b"././@LongLink", size=size, kind=kind) + padded(b"x" * size) + header(b"f"))


LAYER_ESCAPING = tar_of([file_entry("../../escaped.txt", b"out")])
LAYER_GARBAGE = os.urandom(2048)
LAYER_GZIP_CUT = gz(LAYER)[:-20]

LOAD_CASES: dict[str, Case] = {
    # the archive itself
    "empty file": R(lambda: b"", InvalidArgument, "empty"),
    "random bytes": R(lambda: os.urandom(4096), UnsafeArchive, "invalid archive", "tar header"),
    "a line of text": R(lambda: b"hello\n", UnsafeArchive, "truncated"),
    "a JSON document": R(lambda: b'{"schemaVersion": 2}' * 40, UnsafeArchive, "tar header"),
    "bad header checksum": R(lambda: flip(_good_archive(), 130), UnsafeArchive, "checksum"),
    "cut in a header": R(lambda: _good_archive()[:700], UnsafeArchive, "truncated"),
    "cut in a member": R(_truncated_member, UnsafeArchive, "truncated"),
    "truncated gzip": R(lambda: gz(_good_archive())[:-200], UnsafeArchive, "gzip"),
    "corrupt gzip": R(lambda: flip(gz(_good_archive()), 200), UnsafeArchive, "gzip"),
    "truncated zstd": R(lambda: zst(_good_archive())[:-100], UnsafeArchive, "truncated"),
    "GNU long name over 1 MiB": R(
        lambda: _member_with_long_header(tarfile.GNUTYPE_LONGNAME, (1 << 20) + 1), UnsafeArchive, "extended"
    ),
    "PAX header over 1 MiB": R(
        lambda: raw_tar(pax({"comment": "x" * (1 << 20)})), UnsafeArchive, "extended headers"
    ),
    "too many entries": A(image, UnsafeArchive, "entries", MAX_ENTRIES=3),
    "too many bytes": A(image, UnsafeArchive, "unpacks to more than", MAX_UNPACKED_BYTES=1000),
    "gzip bomb": R(
        lambda: gz(_good_archive() + bytes(1 << 20)), UnsafeArchive, "unpacks", MAX_UNPACKED_BYTES=1 << 19
    ),
    "neither manifest.json nor index.json": A(lambda: {"hello.txt": b"hi"}, InvalidArgument, "neither"),
    # Docker's manifest.json
    "manifest.json not JSON": A(
        lambda: docker_only(docker=lambda d: b"[{"), InvalidArgument, "manifest.json", "JSON"
    ),
    "manifest.json not UTF-8": A(lambda: docker_only(docker=lambda d: b'["\xff"]'), InvalidArgument, "JSON"),
    "manifest.json null": A(lambda: docker_only(docker=lambda d: None), InvalidArgument, "cannot be null"),
    "manifest.json an object": A(
        lambda: docker_only(docker=lambda d: d[0]), InvalidArgument, "must be an array"
    ),
    "manifest.json of strings": A(
        lambda: docker_only(docker=lambda d: ["x"]), InvalidArgument, "entry 0 must be an object"
    ),
    "manifest.json nested too deeply": A(
        lambda: docker_only(docker=lambda d: nested(100_000)), InvalidArgument, "manifest.json"
    ),
    "manifest.json nested beyond the bound": A(
        lambda: docker_only(docker=lambda d: nested(100)), InvalidArgument, "nested more than"
    ),
    "manifest.json too large": A(image, InvalidArgument, "larger than", MAX_JSON_BYTES=100),
    "entry without Config": A(
        lambda: docker_only(docker=lambda d: [{"Layers": d[0]["Layers"]}]),
        InvalidArgument,
        "entry 0 has no Config",
    ),
    "Config a number": A(
        lambda: docker_only(docker=lambda d: [{**d[0], "Config": 1.5}]),
        InvalidArgument,
        "Config must be a string",
    ),
    "Layers a string": A(
        lambda: docker_only(docker=lambda d: [{**d[0], "Layers": "layer.tar"}]),
        InvalidArgument,
        "Layers must be",
    ),
    "Layers holding a number": A(
        lambda: docker_only(docker=lambda d: [{**d[0], "Layers": [7]}]), InvalidArgument, "Layers[0]"
    ),
    "RepoTags a string": A(
        lambda: docker_only(docker=lambda d: [{**d[0], "RepoTags": TAG}]), InvalidArgument, "RepoTags must be"
    ),
    "RepoTags with a bad tag": A(
        lambda: docker_only(docker=lambda d: [{**d[0], "RepoTags": ["Not A Tag!"]}]),
        InvalidArgument,
        "invalid tag",
    ),
    "Config missing": A(
        lambda: docker_only(docker=lambda d: [{**d[0], "Config": "nowhere.json"}]), InvalidArgument, "missing"
    ),
    "Config a directory": R(_config_dir, InvalidArgument, "not a file"),
    "layer missing": A(
        lambda: docker_only(docker=lambda d: [{**d[0], "Layers": ["gone/layer.tar"]}]),
        InvalidArgument,
        "missing",
    ),
    "layer links in a loop": R(_layer_loop, InvalidArgument, "too many links"),
    "config not JSON": A(
        lambda: docker_only(config=lambda c: b"{not json"), InvalidArgument, "not valid JSON"
    ),
    "config an array": A(lambda: docker_only(config=lambda c: [c]), InvalidArgument, "must be an object"),
    "config without rootfs": A(
        lambda: docker_only(config=lambda c: {k: v for k, v in c.items() if k != "rootfs"}),
        InvalidArgument,
        "has no rootfs",
    ),
    "config without os": A(
        lambda: docker_only(config=lambda c: {k: v for k, v in c.items() if k != "os"}),
        InvalidArgument,
        "has no os",
    ),
    "diff_ids a string": A(
        lambda: docker_only(config=lambda c: {**c, "rootfs": {"type": "layers", "diff_ids": "x"}}),
        InvalidArgument,
        "diff_ids must be",
    ),
    "diff_ids not digests": A(
        lambda: docker_only(config=lambda c: {**c, "rootfs": {"type": "layers", "diff_ids": ["md5:00"]}}),
        InvalidArgument,
        "digest",
    ),
    "fewer diff_ids than layers": A(
        lambda: docker_only(config=lambda c: {**c, "rootfs": {"type": "layers", "diff_ids": []}}),
        InvalidArgument,
        "layers length mismatch",
    ),
    "a Windows image": A(
        lambda: docker_only(config=lambda c: {**c, "os": "windows"}), InvalidArgument, "cannot load windows"
    ),
    "config Env a string": A(
        lambda: docker_only(config=lambda c: {**c, "config": {"Env": "PATH=/bin"}}),
        InvalidArgument,
        "config.Env",
    ),
    "config Labels of numbers": A(
        lambda: docker_only(config=lambda c: {**c, "config": {"Labels": {"a": 1}}}),
        InvalidArgument,
        "Labels.a",
    ),
    "history an object": A(
        lambda: docker_only(config=lambda c: {**c, "history": {}}), InvalidArgument, "history"
    ),
    "created a number": A(
        lambda: docker_only(config=lambda c: {**c, "created": 12}), InvalidArgument, "created"
    ),
    "config nested too deeply": A(
        lambda: docker_only(config=lambda c: {**c, "x": json.loads(nested(500))}), InvalidArgument, "nested"
    ),
    "126 layers (Docker's form)": A(lambda: _with_layers(126), InvalidArgument, "max depth exceeded"),
    # the OCI layout
    "oci-layout missing": A(lambda: without(oci_only(), "oci-layout"), InvalidArgument, "oci-layout"),
    "oci-layout not JSON": A(
        lambda: replaced(oci_only(), "oci-layout", b"1.0.0"), InvalidArgument, "oci-layout"
    ),
    "oci-layout of another version": A(
        lambda: replaced(oci_only(), "oci-layout", b'{"imageLayoutVersion": "2.0.0"}'),
        InvalidArgument,
        "version",
    ),
    "index.json not JSON": A(lambda: oci_only(index=lambda i: b"\x00\x01"), InvalidArgument, "index.json"),
    "index.json an array": A(
        lambda: oci_only(index=lambda i: [i]), InvalidArgument, "index.json must be an object"
    ),
    "index.json without manifests": A(
        lambda: oci_only(index=lambda i: {"schemaVersion": 2}), InvalidArgument, "has no manifests"
    ),
    "index.json schemaVersion 1": A(
        lambda: oci_only(index=lambda i: {**i, "schemaVersion": 1}), InvalidArgument, "schemaVersion"
    ),
    "manifests an object": A(
        lambda: oci_only(index=lambda i: {**i, "manifests": i["manifests"][0]}),
        InvalidArgument,
        "manifests must be",
    ),
    "descriptor without digest": A(
        lambda: oci_only(
            index=lambda i: {**i, "manifests": [{"mediaType": oci.MT_OCI_MANIFEST, "size": 10}]}
        ),
        InvalidArgument,
        "manifests[0] has no digest",
    ),
    "descriptor a string": A(
        lambda: oci_only(index=lambda i: {**i, "manifests": ["sha256:00"]}), InvalidArgument, "manifests[0]"
    ),
    "descriptor size a string": A(
        lambda: oci_only(index=lambda i: {**i, "manifests": [{**i["manifests"][0], "size": "12"}]}),
        InvalidArgument,
        "size must be an integer",
    ),
    "descriptor size a float": A(
        lambda: oci_only(index=lambda i: {**i, "manifests": [{**i["manifests"][0], "size": 1e300}]}),
        InvalidArgument,
        "size must be an integer",
    ),
    "descriptor digest sha512": A(
        lambda: oci_only(
            index=lambda i: {**i, "manifests": [{**i["manifests"][0], "digest": "sha512:" + "0" * 128}]}
        ),
        InvalidArgument,
        "unsupported digest algorithm",
    ),
    "descriptor of a layer type": A(
        lambda: oci_only(
            index=lambda i: {**i, "manifests": [{**i["manifests"][0], "mediaType": oci.MT_OCI_LAYER}]}
        ),
        InvalidArgument,
        "unsupported manifest media type",
    ),
    "annotations an array": A(
        lambda: oci_only(index=lambda i: {**i, "manifests": [{**i["manifests"][0], "annotations": ["x"]}]}),
        InvalidArgument,
        "annotations",
    ),
    "platform without architecture": A(
        lambda: oci_only(
            index=lambda i: {**i, "manifests": [{**i["manifests"][0], "platform": {"os": "linux"}}]}
        ),
        InvalidArgument,
        "has no architecture",
    ),
    "manifest blob missing": A(
        lambda: oci_only(
            index=lambda i: {**i, "manifests": [{**i["manifests"][0], "digest": "sha256:" + "a" * 64}]}
        ),
        InvalidArgument,
        "missing",
    ),
    "manifest bytes not its digest": A(_tampered_manifest, DigestMismatch, "digest mismatch"),
    "manifest not JSON": A(
        lambda: oci_only(manifest=lambda m: b"\x89PNG"), InvalidArgument, "not valid JSON"
    ),
    "manifest without config": A(
        lambda: oci_only(manifest=lambda m: {k: v for k, v in m.items() if k != "config"}),
        InvalidArgument,
        "has no config",
    ),
    "manifest layers an object": A(
        lambda: oci_only(manifest=lambda m: {**m, "layers": {}}), InvalidArgument, "layers must be"
    ),
    "manifest layer a string": A(
        lambda: oci_only(manifest=lambda m: {**m, "layers": ["x"]}), InvalidArgument, "layers[0]"
    ),
    "config of an artifact": A(
        lambda: oci_only(
            manifest=lambda m: {**m, "config": {**m["config"], "mediaType": "application/vnd.x+json"}}
        ),
        InvalidArgument,
        "unsupported config media type",
    ),
    "layer of an unknown type": A(
        lambda: oci_only(layer_types=["application/x-unknown"]),
        InvalidArgument,
        "unsupported layer media type",
    ),
    "layer longer than its size": A(_layer_longer, DigestMismatch, "longer than"),
    "indexes nested too deeply": A(lambda: _nested_indexes(5), InvalidArgument, "nested too deeply"),
    "no image for this platform": A(_foreign_platform, InvalidArgument, "no image for linux"),
    "126 layers (OCI)": A(lambda: _oci_layers(126), InvalidArgument, "max depth exceeded"),
    # the layers' content
    "layer not a tar": A(lambda: oci_only(layers=[LAYER_GARBAGE]), UnsafeArchive, "tar header"),
    "layer escaping the root": A(
        lambda: oci_only(layers=[LAYER_ESCAPING]), UnsafeArchive, "leaves the destination"
    ),
    "layer truncated gzip": A(
        lambda: oci_only(
            layers=[LAYER_GZIP_CUT], layer_types=[oci.MT_OCI_LAYER_GZIP], diff_ids=[digest(LAYER)]
        ),
        UnsafeArchive,
        "gzip",
    ),
    "layer content not its DiffID": A(
        lambda: oci_only(diff_ids=["sha256:" + "b" * 64]), DigestMismatch, "DiffID"
    ),
    "layers together too large": A(image, UnsafeArchive, "unpacks to more than", MAX_UNPACKED_BYTES=5000),
}


def _long_name_tar() -> bytes:
    return tar_of([file_entry("d/" + "n" * 300, b"x")])


IMPORT_TAR = tar_of([file_entry("etc", kind=tarfile.DIRTYPE), file_entry("etc/motd", b"imported\n" * 200)])

IMPORT_CASES: dict[str, Case] = {
    "random bytes": R(lambda: os.urandom(4096), UnsafeArchive, "tar header"),
    "a line of text": R(lambda: b"hello world\n", UnsafeArchive, "truncated"),
    "a JSON document": R(lambda: json.dumps({"a": list(range(200))}).encode(), UnsafeArchive, "tar header"),
    "a zip file": R(lambda: b"PK\x03\x04" + os.urandom(600), UnsafeArchive, "tar header"),
    "bad header checksum": R(lambda: flip(IMPORT_TAR, 3), UnsafeArchive, "checksum"),
    "cut in a header": R(lambda: IMPORT_TAR[:1100], UnsafeArchive, "truncated"),
    "cut in a file": R(lambda: IMPORT_TAR[:2000], UnsafeArchive, "truncated"),
    "truncated gzip": R(lambda: gz(IMPORT_TAR)[:-30], UnsafeArchive, "gzip"),
    "gzip cut after its header": R(lambda: gz(IMPORT_TAR)[:12], UnsafeArchive, "gzip"),
    "corrupt gzip": R(lambda: flip(gz(IMPORT_TAR), 40), UnsafeArchive, "gzip"),
    "gzip of no tar": R(lambda: gz(os.urandom(3000)), UnsafeArchive, "tar header"),
    "truncated zstd": R(lambda: zst(IMPORT_TAR)[:-40], UnsafeArchive, "truncated"),
    "zstd of no tar": R(lambda: zst(b"not a tar " * 100), UnsafeArchive, "tar header"),
    "corrupt zstd": R(lambda: flip(zst(IMPORT_TAR), 30), UnsafeArchive, "zstd"),
    "truncated bzip2": R(lambda: bz2.compress(IMPORT_TAR)[:-30], UnsafeArchive, "bzip2"),
    "truncated xz": R(lambda: lzma.compress(IMPORT_TAR)[:-30], UnsafeArchive, "xz"),
    "a name over 255 bytes": R(_long_name_tar, UnsafeArchive, "file name too long"),
    "a path over 4095 bytes": R(
        lambda: tar_of([file_entry("a/" * 2100 + "f", b"x")]), UnsafeArchive, "longer than"
    ),
    "a path 600 levels deep": R(
        lambda: tar_of([file_entry("d/" * 600 + "f", b"x")]), UnsafeArchive, "levels deep"
    ),
    "a GNU long name over 1 MiB": R(
        lambda: _member_with_long_header(tarfile.GNUTYPE_LONGNAME, (1 << 20) + 1), UnsafeArchive, "extended"
    ),
    "a GNU long link over 1 MiB": R(
        lambda: _member_with_long_header(tarfile.GNUTYPE_LONGLINK, (1 << 20) + 512), UnsafeArchive, "extended"
    ),
    "a PAX header over 1 MiB": R(
        lambda: raw_tar(pax({"comment": "c" * (1 << 20)})), UnsafeArchive, "extended"
    ),
    "a symlink target over 4095 bytes": R(
        lambda: tar_of([file_entry("l", kind=tarfile.SYMTYPE, link="t" * 5000)]), UnsafeArchive, "link target"
    ),
    "a hardlink to a name over 255 bytes": R(
        lambda: tar_of([file_entry("l", kind=tarfile.LNKTYPE, link="t" * 300)]), UnsafeArchive, "too long"
    ),
    "a negative size": R(
        lambda: raw_tar(header(size_field=b"\xff" + b"\xff" * 10 + b"\x00")), UnsafeArchive, "negative size"
    ),
    "a size in bad octal": R(
        lambda: raw_tar(header(size_field=b"00000000x99\0")), UnsafeArchive, "tar header"
    ),
    "an owner beyond uid_t": R(lambda: raw_tar(pax({"uid": "99999999999"})), UnsafeArchive, "owner"),
    "an mtime beyond a timespec": R(lambda: raw_tar(pax({"mtime": "9" * 30})), UnsafeArchive, "mtime"),
    "a base-256 mtime beyond a timespec": R(
        lambda: raw_tar(header(mtime_field=b"\x80" + b"\xff" * 11)), UnsafeArchive, "mtime"
    ),
    "a device number beyond dev_t": R(
        lambda: raw_tar(header(kind=tarfile.CHRTYPE, dev_fields=b"\x80" + b"\xff" * 7 + b"0000000\0")),
        UnsafeArchive,
        "device number",
    ),
    "a device major beyond Linux's 12 bits": R(
        lambda: raw_tar(header(kind=tarfile.CHRTYPE, dev_fields=b"0010000\0" + b"0000001\0")),
        UnsafeArchive,
        "device number",
    ),
    "a PAX record of a bad length": R(lambda: raw_tar(pax(b"99 path=x\n")), UnsafeArchive, "PAX"),
    "a PAX size not a number": R(lambda: raw_tar(pax({"size": "ten"})), UnsafeArchive, "PAX size"),
    "a bad LIBARCHIVE xattr": R(
        lambda: raw_tar(pax({"LIBARCHIVE.xattr.user.x": "abcde"})), UnsafeArchive, "xattr"
    ),
    "a path leaving the root": R(
        lambda: tar_of([file_entry("../../x", b"x")]), UnsafeArchive, "leaves the destination"
    ),
    "a hardlink out of the root": R(
        lambda: tar_of([file_entry("l", kind=tarfile.LNKTYPE, link="../../etc/passwd")]),
        UnsafeArchive,
        "outside",
    ),
    "a hardlink to nothing": R(
        lambda: tar_of([file_entry("l", kind=tarfile.LNKTYPE, link="missing")]),
        UnsafeArchive,
        "does not exist",
    ),
    "a hardlink to a directory": R(
        lambda: tar_of(
            [file_entry("d", kind=tarfile.DIRTYPE), file_entry("l", kind=tarfile.LNKTYPE, link="d")]
        ),
        UnsafeArchive,
        "directory",
    ),
    "a write through a symlink": R(
        lambda: tar_of([file_entry("s", kind=tarfile.SYMTYPE, link="/etc"), file_entry("s/x", b"x")]),
        UnsafeArchive,
        "symbolic link",
    ),
    "a symlink to nothing": R(
        lambda: tar_of([file_entry("s", kind=tarfile.SYMTYPE, link="")]), UnsafeArchive, "invalid target"
    ),
    "a sparse file": R(lambda: raw_tar(header(kind=tarfile.GNUTYPE_SPARSE)), UnsafeArchive, "sparse"),
    "a sparse file in PAX": R(lambda: raw_tar(pax({"GNU.sparse.major": "1"})), UnsafeArchive, "sparse"),
    "an unknown entry type": R(
        lambda: raw_tar(header(kind=b"Z")), UnsafeArchive, "unsupported tar entry type"
    ),
    "a whiteout as a directory": R(lambda: tar_of([file_entry(".wh.d/f", b"x")]), UnsafeArchive, "whiteout"),
    "the root as a file": R(
        lambda: tar_of([file_entry("./", b"x")]), UnsafeArchive, "replace the destination"
    ),
    "too many entries": R(lambda: IMPORT_TAR, UnsafeArchive, "entries", MAX_ENTRIES=1),
    "too many bytes": R(lambda: IMPORT_TAR, UnsafeArchive, "unpacks to more than", MAX_UNPACKED_BYTES=1024),
    "a gzip bomb": R(
        lambda: gz(tar_of([file_entry("zeros", bytes(4 << 20))])),
        UnsafeArchive,
        "unpacks",
        MAX_UNPACKED_BYTES=1 << 20,
    ),
}


# -- checking ----------------------------------------------------------------------------------------------


def state(root: str) -> tuple[list[str], ...]:
    """What a load or an import could change: blobs, layers, image records and tags, temporaries."""

    def listing(*parts: str) -> list[str]:
        path = os.path.join(root, *parts)
        return sorted(os.listdir(path)) if os.path.isdir(path) else []

    tags = os.path.join(root, "images", "repositories.json")
    return (
        listing("blobs", "sha256"),
        listing("layers"),
        listing("images"),
        [open(tags).read()] if os.path.exists(tags) else [],  # noqa: SIM115
        listing("tmp"),
    )


@pytest.fixture
def resident(engine_, root) -> str:
    """The root holds an image of its own, which every refused archive must leave in place."""
    engine_.images.import_(io.BytesIO(tar_of([file_entry("resident.txt", b"here\n")])), "resident:1")
    return root


def _refused_by_the_api(
    call: Callable[[], object], case: Case, root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in case.limits.items():
        monkeypatch.setattr(limits, name, value)
    before = state(root)
    with pytest.raises(DockyardError) as info:
        call()
    assert isinstance(info.value, case.error), f"{type(info.value).__name__}: {info.value}"
    for w in case.words:
        assert w in str(info.value), str(info.value)
    assert state(root) == before


def _refused_by_the_cli(cli: CLI, case: Case, root: str, *args: str) -> None:
    if case.limits:
        return  # the bound is lowered in this process only
    before = state(root)
    r = cli.fails(*args, code=1)
    assert "Traceback" not in r.err, r.err
    assert r.err.strip().splitlines()[-1].startswith("Error: "), r.err
    assert state(root) == before


@pytest.mark.parametrize("name", list(LOAD_CASES))
def test_malformed_load_archive_is_refused(name, engine_, resident, cli, tmp_path, monkeypatch) -> None:
    case = LOAD_CASES[name]
    path = tmp_path / "archive.tar"
    path.write_bytes(case.make())
    with open(path, "rb") as f:
        _refused_by_the_api(lambda: engine_.images.load(f), case, resident, monkeypatch)
    _refused_by_the_cli(cli, case, resident, "load", "-i", str(path))


@pytest.mark.parametrize("name", list(IMPORT_CASES))
def test_malformed_import_tar_is_refused(name, engine_, resident, cli, tmp_path, monkeypatch) -> None:
    case = IMPORT_CASES[name]
    path = tmp_path / "rootfs.tar"
    path.write_bytes(case.make())
    with open(path, "rb") as f:
        _refused_by_the_api(lambda: engine_.images.import_(f, "imported:1"), case, resident, monkeypatch)
    _refused_by_the_cli(cli, case, resident, "import", str(path), "imported:1")


def test_there_are_enough_cases() -> None:
    assert len(LOAD_CASES) >= 48 and len(IMPORT_CASES) >= 43


def test_import_refuses_an_over_long_repository_name(engine_, resident, cli, tmp_path, monkeypatch) -> None:
    case = Case(lambda: IMPORT_TAR, InvalidArgument, ("255 characters",))
    path = tmp_path / "rootfs.tar"
    path.write_bytes(IMPORT_TAR)
    name = "r" * 300 + ":1"
    with open(path, "rb") as f:
        _refused_by_the_api(lambda: engine_.images.import_(f, name), case, resident, monkeypatch)
    _refused_by_the_cli(cli, case, resident, "import", str(path), name)


def test_import_of_a_truncated_gzip_from_stdin(resident, cli) -> None:
    before = state(resident)
    r = cli.fails("import", "-", "imported:1", code=1, input=gz(IMPORT_TAR)[:-30])
    assert "Traceback" not in r.err and r.err.startswith("Error: "), r.err
    assert state(resident) == before


# -- what still loads --------------------------------------------------------------------------------------


def _loaded(cli: CLI) -> str:
    return cli("images", "--format", "{{.Repository}}:{{.Tag}}").out


@pytest.mark.parametrize("compress", [None, gz, zst])
def test_load_reads_the_archive_from_stdin(resident, cli, tmp_path, compress) -> None:
    """``dockyard load < image.tar``, no -i: standard input is a file, read where it is (or decompressed)."""
    data = archive_of(image())
    path = tmp_path / "image.tar"
    path.write_bytes(compress(data) if compress else data)
    with open(path, "rb") as f:
        p = subprocess.run(
            [DOCKYARD, "load"], stdin=f, capture_output=True, env={**os.environ, "DOCKYARD_ROOT": resident}
        )
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout.decode() == f"Loaded image: {TAG}\n"
    assert TAG in _loaded(cli)


def test_load_reads_a_pipe(resident, cli) -> None:
    r = cli("load", input=gz(archive_of(docker_only())))
    assert r.out == f"Loaded image: {TAG}\n"


def test_load_of_empty_stdin_is_an_error(resident, cli) -> None:
    r = cli.fails("load", code=1, input=b"")
    assert r.err.strip().endswith("Error: invalid archive: the archive is empty"), r.err


@pytest.mark.parametrize(
    "members",
    [
        pytest.param(lambda: oci_only(), id="oci"),
        pytest.param(lambda: docker_only(), id="docker"),
        pytest.param(
            lambda: oci_only(
                layers=[gz(LAYER)], layer_types=[oci.MT_OCI_LAYER_GZIP], diff_ids=[digest(LAYER)]
            ),
            id="gzip-layer",
        ),
        pytest.param(
            lambda: docker_only(
                docker=lambda d: [{**d[0], "Layers": None}], config=lambda c: _diff_ids(c, 0)
            ),
            id="no-layers",
        ),
        pytest.param(lambda: docker_only(docker=lambda d: []), id="empty-manifest"),
        pytest.param(lambda: _with_layers(3), id="shared-layer-files"),
    ],
)
def test_well_formed_archives_still_load(engine_, resident, members) -> None:
    loaded = engine_.images.load(io.BytesIO(archive_of(members())))
    assert loaded in ([TAG], [])
    if loaded:
        assert engine_.images.get(TAG).config["Cmd"] == ["/hello"]


def test_the_depth_bound_is_docker_s(engine_, resident) -> None:
    """125 layers stack; the 126th is refused (the depth is checked before any layer is read)."""
    with pytest.raises(InvalidArgument, match="max depth exceeded"):
        engine_.images.load(io.BytesIO(archive_of(_with_layers(limits.MAX_LAYERS + 1))))
    assert engine_.images.load(io.BytesIO(archive_of(_with_layers(limits.MAX_LAYERS)))) == [TAG]


def _listed_twice(m: dict[str, Any]) -> dict[str, Any]:
    second = dict(m["manifests"][0], annotations={"io.containerd.image.name": "malformed:2"})
    return {**m, "manifests": [*m["manifests"], second]}


@pytest.mark.parametrize(
    "members",
    [
        pytest.param(lambda: oci_only(index=_listed_twice), id="oci"),
        pytest.param(
            lambda: docker_only(docker=lambda d: [d[0], {**d[0], "RepoTags": ["malformed:2"]}]), id="docker"
        ),
    ],
)
def test_an_image_listed_once_per_tag_is_read_once(engine_, resident, members) -> None:
    """Docker lists an image once per tag: it is read once and gets every tag."""
    assert engine_.images.load(io.BytesIO(archive_of(members()))) == [TAG, "malformed:2"]
    assert engine_.images.get(TAG).id == engine_.images.get("malformed:2").id
