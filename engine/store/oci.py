"""OCI and Docker media types, and builders for image configs and manifests."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from ..lean import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

OCI_LAYOUT = {"imageLayoutVersion": "1.0.0"}
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
MT_OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
MT_DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"

MANIFEST_TYPES = (MT_OCI_MANIFEST, MT_DOCKER_MANIFEST)
INDEX_TYPES = (MT_OCI_INDEX, MT_DOCKER_LIST)
CONFIG_TYPES = (MT_OCI_CONFIG, MT_DOCKER_CONFIG)
LAYER_TYPES = (
    MT_OCI_LAYER,
    MT_OCI_LAYER_GZIP,
    MT_OCI_LAYER_ZSTD,
    MT_DOCKER_LAYER,
    MT_DOCKER_LAYER_GZIP,
    # Layers that registries need not serve; in an archive they are there like any other.
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
)


def goarch() -> str:
    m = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}.get(m, m)


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(obj: Any) -> bytes:
    """Deterministic JSON bytes (what digests are computed over)."""
    return jsonio.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def new_config(
    diff_ids: list[str],
    history: list[dict[str, Any]],
    container_config: dict[str, Any] | None = None,
    created: str | None = None,
) -> dict[str, Any]:
    return {
        "architecture": goarch(),
        "os": "linux",
        "created": created or now_rfc3339(),
        "config": container_config or {},
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
        "history": history,
    }


def new_manifest(config_digest: str, config_size: int, layers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemaVersion": 2,
        "mediaType": MT_OCI_MANIFEST,
        "config": {"mediaType": MT_OCI_CONFIG, "digest": config_digest, "size": config_size},
        "layers": layers,
    }


def layer_descriptor(digest: str, size: int, media_type: str = MT_OCI_LAYER) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest, "size": size}
