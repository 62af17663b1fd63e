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
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from engine.lean import jsonio
from engine.store import oci

if TYPE_CHECKING:
    from collections.abc import Mapping

    from engine.store.imagestore import ImageStore, NewLayer

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
        from engine.store.imagestore import NewLayer

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
    ``image_id`` an image in the store that is exactly this state ("" when there is none).

    A step makes the next state with :meth:`copy` and changes it; :meth:`changes` is then what the step did
    to the config, in a form that costs the size of the step (one variable for an ``ENV`` line, not the
    whole environment), and :meth:`apply_changes` makes the same state again from the parent and that
    record. Steps replace the config's values, never change them in place, so a copy shares them."""

    __slots__ = (
        "key",
        "layers",
        "config",
        "history",
        "meta",
        "created",
        "image_id",
        "_parent_config",
        "_env",
        "_env_list_owned",
        "_env_changes",
    )

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
        self._parent_config: dict[str, Any] = {}
        self._env: _EnvIndex | None = None  # shared with copies; see _EnvIndex
        self._env_list_owned = False  # whether config["Env"] is a list this state made (and may change)
        self._env_changes: dict[str, str] = {}  # what set_env did since the copy

    @classmethod
    def scratch(cls, key_prefix: str) -> ImageState:
        return cls(
            key=chain_key(key_prefix, "FROM scratch"),
            meta={"architecture": oci.goarch(), "os": "linux"},
            created="1970-01-01T00:00:00Z",
        )

    @classmethod
    def from_image(cls, store: ImageStore, image_id: str, key_prefix: str) -> ImageState:
        """The state of an image in the store (a FROM line)."""
        full = store.config_of(image_id)
        entry = store.catalog.get(image_id)
        if entry is None:
            from engine.errors import ImageNotFound

            raise ImageNotFound(f"No such image: {image_id}")
        manifest = jsonio.loads(store.blobs.read(entry.manifest))
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
        """The next state: the same image, to be changed by one step (values are shared, not copied)."""
        out = ImageState(
            key=self.key,
            layers=list(self.layers),
            config=dict(self.config),
            history=list(self.history),
            meta=dict(self.meta),
            created=self.created,
            image_id=self.image_id,
        )
        out._parent_config = self.config
        out._env = self._env
        self._env_list_owned = False  # the copy shares the list now
        return out

    def changes(self) -> dict[str, Any]:
        """What was done to the config since :meth:`copy`: ``set`` (whole values), ``unset`` (keys gone),
        ``merge`` (per-key changes of mapping values such as Labels) and ``env`` (variables set)."""
        parent = self._parent_config
        whole: dict[str, Any] = {}
        merge: dict[str, Any] = {}
        env: dict[str, str] = {}
        for key, value in self.config.items():
            old = parent.get(key)
            if value is old:
                continue
            if key == "Env" and self._env_changes:  # only set_env changes Env
                env = self._env_changes
            elif isinstance(old, dict) and isinstance(value, dict) and old.keys() <= value.keys():
                merge[key] = {k: v for k, v in value.items() if k not in old or old[k] != v}
            elif key not in parent or old != value:
                whole[key] = value
        out: dict[str, Any] = {}
        if whole:
            out["set"] = whole
        if merge:
            out["merge"] = merge
        if env:
            out["env"] = env
        unset = [key for key in parent if key not in self.config]
        if unset:
            out["unset"] = unset
        return out

    def apply_changes(self, changes: dict[str, Any]) -> None:
        """Do to the config what :meth:`changes` recorded (on a fresh :meth:`copy` of the same parent)."""
        for key in changes.get("unset") or ():
            self.config.pop(key, None)
        self.config.update(changes.get("set") or {})
        for key, items in (changes.get("merge") or {}).items():
            self.config[key] = {**(self.config.get(key) or {}), **items}
        for name, value in (changes.get("env") or {}).items():
            self.set_env(name, value)

    @property
    def top_chain(self) -> str:
        return self.layers[-1].chain_id if self.layers else ""

    # -- the container config ---------------------------------------------------------------------------
    def _env_index(self) -> _EnvIndex:
        env = self.config.get("Env") or []
        if self._env is None or self._env.tip is not env:
            self._env = _EnvIndex(env)
        return self._env

    @property
    def env(self) -> dict[str, str]:
        """The config's Env as a dict (later entries win)."""
        return dict(self._env_index().values)

    def env_view(self) -> Mapping[str, str]:
        """The config's Env as a read-only mapping, without a copy: valid until this state or a copy of it
        changes Env (the builder reads it for one step)."""
        return MappingProxyType(self._env_index().values)

    def set_env(self, key: str, value: str) -> None:
        index = self._env_index()
        env = index.tip
        if not self._env_list_owned:  # the parent's list stays as it was: this state gets its own
            env = list(env)
            self._env_list_owned = True
        index.set(env, key, value)
        self.config["Env"] = env
        self._env_changes[key] = value

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


class _EnvIndex:
    """Name -> value and name -> position of one ``Env`` list (``tip``), for lookups and changes in O(1).

    States share one index along a build: a step's :meth:`ImageState.set_env` makes its own list and moves
    the index onto it, so each step pays for one list copy, never for the index. A state whose list is no
    longer the tip (the parent, after its copy changed Env) builds a fresh index when it next reads Env."""

    __slots__ = ("tip", "values", "positions")

    def __init__(self, env: list[str]) -> None:
        self.tip = env
        self.values: dict[str, str] = {}
        self.positions: dict[str, int] = {}
        for i, item in enumerate(env):
            key, _, value = item.partition("=")
            self.values[key] = value
            self.positions[key] = i

    def set(self, env: list[str], key: str, value: str) -> None:
        """Set ``key`` in ``env`` (the tip's list or a copy of it), which becomes the tip."""
        item = f"{key}={value}"
        at = self.positions.get(key)
        if at is None:
            self.positions[key] = len(env)
            env.append(item)
        else:
            env[at] = item
        self.values[key] = value
        self.tip = env
