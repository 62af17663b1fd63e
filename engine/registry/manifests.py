"""Manifests on the wire: fetch one (verified against its digest), follow an image index to this machine's
platform, and check what a manifest asks of the store."""

from __future__ import annotations

import hashlib
import json

from engine.lean.record import record

from ..errors import InvalidArgument
from ..store import oci
from .client import RegistryClient
from .errors import DigestMismatch, RegistryError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ACCEPT = ", ".join((oci.MT_OCI_INDEX, oci.MT_DOCKER_LIST, oci.MT_OCI_MANIFEST, oci.MT_DOCKER_MANIFEST))
SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
LAYER_TYPES = (
    oci.MT_OCI_LAYER,
    oci.MT_OCI_LAYER_GZIP,
    oci.MT_OCI_LAYER_ZSTD,
    oci.MT_DOCKER_LAYER,
    oci.MT_DOCKER_LAYER_GZIP,
)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@record(frozen=True)
class Manifest:
    data: bytes  # exactly as the registry sent it (its digest names it)
    digest: str
    media_type: str
    doc: dict[str, Any]

    @property
    def is_index(self) -> bool:
        return self.media_type in oci.INDEX_TYPES or ("manifests" in self.doc and "layers" not in self.doc)


def fetch(client: RegistryClient, ref: str, expected: str | None = None) -> Manifest:
    """GET a manifest or index by tag or digest; its bytes must hash to ``expected`` (or to the
    ``Docker-Content-Digest`` the registry announces)."""
    r = client.request("GET", f"/manifests/{ref}", {"Accept": ACCEPT})
    announced = r.header("Docker-Content-Digest")
    content_type = r.header("Content-Type").split(";")[0].strip()
    data = r.body()
    digest = sha256(data)
    want = expected or (announced if announced.startswith("sha256:") else "")
    if want and want != digest:
        raise DigestMismatch(f"digest mismatch: manifest {ref} should be {want}, got {digest}")
    try:
        doc = json.loads(data)
    except ValueError:
        raise RegistryError(f"the manifest for {ref} is not valid JSON") from None
    if not isinstance(doc, dict):
        raise RegistryError(f"the manifest for {ref} is not a JSON object")
    media_type = str(doc.get("mediaType") or content_type)
    if media_type in SCHEMA1 or doc.get("schemaVersion") == 1:
        raise RegistryError(
            "this image uses the Docker image manifest version 2, schema 1 format, which is not supported: "
            "push it again with a current tool"
        )
    if media_type not in oci.INDEX_TYPES and media_type not in oci.MANIFEST_TYPES:
        if "manifests" in doc:
            media_type = oci.MT_OCI_INDEX
        elif "layers" in doc and "config" in doc:
            media_type = oci.MT_OCI_MANIFEST
        else:
            raise RegistryError(f"unsupported manifest media type {media_type!r}")
    return Manifest(data, digest, media_type, doc)


@record(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


def parse_platform(value: str | None) -> Platform:
    """``linux/arm64/v8`` -> Platform; None -> this machine's (linux/<arch>)."""
    if not value:
        return Platform("linux", oci.goarch())
    parts = value.strip().lower().split("/")
    if len(parts) == 1 and parts[0] != "linux":
        parts = ["linux", parts[0]]
    if len(parts) not in (2, 3) or not all(parts):
        raise InvalidArgument(f'"{value}": invalid platform: expected os/arch[/variant]')
    arch = {"x86_64": "amd64", "aarch64": "arm64", "armhf": "arm", "i386": "386"}.get(parts[1], parts[1])
    return Platform(parts[0], arch, parts[2] if len(parts) == 3 else "")


def _variant_ok(want: Platform, have: str) -> bool:
    if not want.variant:
        return True
    if want.variant == have:
        return True
    return want.architecture == "arm64" and {want.variant, have} <= {"v8", ""}


def choose(index: Manifest, want: Platform) -> dict[str, Any]:
    """The descriptor in an image index for ``want`` (exact variant preferred)."""
    candidates: list[dict[str, Any]] = []
    for m in index.doc.get("manifests") or []:
        if not isinstance(m, dict):
            continue
        p = m.get("platform") or {}
        if p.get("os") != want.os or p.get("architecture") != want.architecture:
            continue
        if not _variant_ok(want, str(p.get("variant") or "")):
            continue
        candidates.append(m)
    if not candidates:
        raise RegistryError(f"no matching manifest for {want} in the manifest list entries")
    exact = [m for m in candidates if str((m.get("platform") or {}).get("variant") or "") == want.variant]
    return (exact or candidates)[0]


def check_image(manifest: Manifest) -> list[dict[str, Any]]:
    """The layer descriptors of an image manifest, refused (before anything is written) when dockyard cannot
    store them."""
    layers = manifest.doc.get("layers")
    config = manifest.doc.get("config")
    if not isinstance(layers, list) or not isinstance(config, dict) or not config.get("digest"):
        raise RegistryError(f"the manifest {manifest.digest} has no config or layers")
    for d in layers:
        if not isinstance(d, dict) or not str(d.get("digest", "")).startswith("sha256:"):
            raise RegistryError(f"the manifest {manifest.digest} lists a layer without a sha256 digest")
        mt = str(d.get("mediaType") or "")
        if mt not in LAYER_TYPES:
            if "foreign" in mt or "nondistributable" in mt:
                raise RegistryError(
                    f"layer {d['digest']} is a foreign layer ({mt}), which dockyard cannot fetch"
                )
            raise RegistryError(f"layer {d['digest']} has an unsupported media type {mt!r}")
    return layers
