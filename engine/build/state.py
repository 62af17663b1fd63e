"""The image a build stage is making, step by step: its layers, its config and its history.

Every step turns one :class:`ImageState` into the next. A state is identified by its cache ``key``: the
chain of everything that made it (the base image's ID, then each step's description), so two states with
the same key are the same image. Layers are referenced by :class:`LayerRef` (ChainID plus the blob that
carries them); nothing is written to the image store until the build needs an image (to run a container
for RUN, or at the end).
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import TYPE_CHECKING, Any, NamedTuple

from engine.store import oci

if TYPE_CHECKING:
    from engine.images import Images, NewLayer

__all__ = ["DEFAULT_SHELL", "KEY_VERSION", "ImageState", "LayerRef", "chain_key"]

DEFAULT_SHELL = ["/bin/sh", "-c"]
KEY_VERSION = "dockyard-build-1"


def chain_key(parent: str, description: str) -> str:
    """The cache key of a step: ``parent`` (the key of the state it starts from) plus what it does."""
    return "sha256:" + hashlib.sha256(f"{parent}\n{description}".encode()).hexdigest()


class LayerRef(NamedTuple):
    """A layer of an image being built: ChainID and DiffID, and the blob (digest, media type, size)."""

    chain_id: str
    diff_id: str
    blob: str
    media_type: str
    size: int

    def new_layer(self) -> NewLayer:
        from engine.images import NewLayer

        return NewLayer(self.chain_id, self.blob, self.media_type, self.size)

    def to_json(self) -> dict[str, Any]:
        return dict(self._asdict())

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LayerRef:
        return cls(
            chain_id=str(data["chain_id"]),
            diff_id=str(data["diff_id"]),
            blob=str(data["blob"]),
            media_type=str(data.get("media_type") or oci.MT_OCI_LAYER),
            size=int(data.get("size") or 0),
        )


class ImageState:
    """An image in the making. ``config`` is the container config (Env, Cmd, ...); ``meta`` the other
    top-level fields of the image config that a build keeps (architecture, os, variant, author);
    ``image_id`` an image in the store that is exactly this state ("" when there is none)."""

    __slots__ = ("key", "layers", "config", "history", "meta", "created", "image_id")

    def __init__(
        self,
        key: str,
        layers: list[LayerRef] | None = None,
        config: dict[str, Any] | None = None,
        history: list[dict[str, Any]] | None = None,
        meta: dict[str, Any] | None = None,
        created: str = "",
        image_id: str = "",
    ) -> None:
        self.key = key
        self.layers = layers if layers is not None else []
        self.config = config if config is not None else {}
        self.history = history if history is not None else []
        self.meta = meta if meta is not None else {}
        self.created = created
        self.image_id = image_id

    @classmethod
    def scratch(cls, key_prefix: str) -> ImageState:
        return cls(
            key=chain_key(key_prefix, "FROM scratch"),
            meta={"architecture": oci.goarch(), "os": "linux"},
            created="1970-01-01T00:00:00Z",
        )

    @classmethod
    def from_image(cls, images: Images, image_id: str, key_prefix: str) -> ImageState:
        """The state of an image in the store (a FROM line)."""
        full = images.config_of(image_id)
        entry = images.store.get(image_id)
        if entry is None:
            from engine.errors import ImageNotFound

            raise ImageNotFound(f"No such image: {image_id}")
        manifest = json.loads(images.blobs.read(entry.manifest))
        descriptors = manifest.get("layers") or []
        diff_ids = list((full.get("rootfs") or {}).get("diff_ids") or [])
        layers = []
        for i, chain in enumerate(entry.layers):
            desc = descriptors[i] if i < len(descriptors) else {}
            layers.append(
                LayerRef(
                    chain_id=chain,
                    diff_id=diff_ids[i] if i < len(diff_ids) else "",
                    blob=entry.layer_blobs[i] if i < len(entry.layer_blobs) else desc.get("digest", ""),
                    media_type=desc.get("mediaType", oci.MT_OCI_LAYER),
                    size=int(desc.get("size", 0)),
                )
            )
        meta = {k: full[k] for k in ("architecture", "os", "variant", "author") if full.get(k)}
        meta.setdefault("architecture", oci.goarch())
        meta.setdefault("os", "linux")
        return cls(
            key=chain_key(key_prefix, f"FROM {image_id}"),
            layers=layers,
            config=copy.deepcopy(full.get("config") or {}),
            history=list(full.get("history") or []),
            meta=meta,
            created=str(full.get("created") or ""),
            image_id=image_id,
        )

    def copy(self) -> ImageState:
        return ImageState(
            key=self.key,
            layers=list(self.layers),
            config=copy.deepcopy(self.config),
            history=list(self.history),
            meta=dict(self.meta),
            created=self.created,
            image_id=self.image_id,
        )

    @property
    def top_chain(self) -> str:
        return self.layers[-1].chain_id if self.layers else ""

    # -- the container config ---------------------------------------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        """The config's Env as a dict (later entries win)."""
        out: dict[str, str] = {}
        for item in self.config.get("Env") or []:
            key, _, value = item.partition("=")
            out[key] = value
        return out

    def set_env(self, key: str, value: str) -> None:
        env = list(self.config.get("Env") or [])
        for i, item in enumerate(env):
            if item.partition("=")[0] == key:
                env[i] = f"{key}={value}"
                break
        else:
            env.append(f"{key}={value}")
        self.config["Env"] = env

    @property
    def shell(self) -> list[str]:
        return list(self.config.get("Shell") or DEFAULT_SHELL)

    @property
    def workdir(self) -> str:
        return str(self.config.get("WorkingDir") or "/")

    @property
    def user(self) -> str:
        return str(self.config.get("User") or "")

    # -- writing ----------------------------------------------------------------------------------------
    def image_config(self) -> dict[str, Any]:
        """The full image config (what the image ID is the digest of)."""
        cfg = oci.new_config(
            [layer.diff_id for layer in self.layers],
            self.history,
            {k: v for k, v in self.config.items() if v not in (None, [], {}, "")},
            self.created or oci.now_rfc3339(),
        )
        for key, value in self.meta.items():
            cfg[key] = value
        return cfg
