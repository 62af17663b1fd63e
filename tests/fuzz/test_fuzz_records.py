"""Every reader of a root's state files, fed damaged files: a valid record of the right kind with its fields
dropped, retyped or replaced, its JSON text truncated or with bytes flipped, and random JSON. The reader
returns a record or raises a DockyardError (CorruptRecord, naming the file); nothing else ever escapes.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import DockyardError
from engine.kernel.procinfo import boot_id
from engine.lean.record import asdict
from engine.model.config import ContainerConfig, ContainerState, MountConfig, RestartPolicy
from engine.model.network import Endpoint, Network
from engine.net.netstore import NetStore
from engine.paths import Layout
from engine.store.catalog import Catalog, ImageEntry
from engine.store.containers import ContainerStore
from engine.store.eventlog import read as read_events
from engine.store.layers import LayerRecord, LayerStore
from tests.fuzz.conftest import fuzz_settings

_ROOT = tempfile.mkdtemp(
    prefix="dockyard-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None
)  # in memory: fast writes
_LAYOUT = Layout(_ROOT)
_LAYOUT.ensure()
_CID = "c" * 64
_IMAGE = "sha256:" + "a" * 64
_CHAIN = "sha256:" + "b" * 64

_GOOD: dict[str, Any] = {
    "config": asdict(
        ContainerConfig(
            id=_CID,
            name="web",
            created="2026-01-01T00:00:00Z",
            image="busybox",
            image_id=_IMAGE,
            cmd=["sh"],
            env=["A=1"],
            labels={"k": "v"},
            restart_policy=RestartPolicy("always", 0),
            mounts=[MountConfig("volume", "/data", "v1")],
            healthcheck={"Test": ["CMD", "true"]},
            image_config={"Env": ["PATH=/bin"], "Entrypoint": None},
        )
    ),
    "state": asdict(ContainerState(status="running", pid=5, started_at="2026-01-01T00:00:00Z")),
    "names": {"web": _CID},
    "image": asdict(ImageEntry(_IMAGE, "sha256:" + "d" * 64, [_CHAIN], ["sha256:" + "e" * 64], tags=["a:b"])),
    "tags": {"busybox:latest": _IMAGE},
    "layer": asdict(LayerRecord(_CHAIN, _CHAIN, None, 10)),
    "network": asdict(
        Network("inner", "f" * 64, "2026-01-01T00:00:00Z", subnet="10.9.0.0/24", gateway="10.9.0.1")
    ),
    "endpoint": asdict(
        Endpoint(
            _CID, "web", "inner", "f" * 64, "10.9.0.2", 24, "10.9.0.1", "02:42:0a:09:00:02", "dyv", "eth0"
        )
    ),
    "event": {"type": "container", "action": "start", "id": _CID, "time": 1.5, "attributes": {"a": "b"}},
    "host": {"boot_id": boot_id(), "cleanup_after": 1.5, "stale_veths": ["dyv1"], "firewall": True},
}

_PATHS = {
    "config": os.path.join(_LAYOUT.containers, _CID, "config.json"),
    "state": os.path.join(_LAYOUT.containers, _CID, "state.json"),
    "names": os.path.join(_LAYOUT.containers, "names.json"),
    "image": os.path.join(_LAYOUT.images, _IMAGE[7:] + ".json"),
    "tags": os.path.join(_LAYOUT.images, "repositories.json"),
    "layer": os.path.join(_LAYOUT.layers, _CHAIN[7:], "layer.json"),
    "network": os.path.join(_LAYOUT.networks, "inner", "network.json"),
    "endpoint": os.path.join(_LAYOUT.networks, "inner", "endpoints", _CID + ".json"),
    "event": _LAYOUT.events,
    "host": os.path.join(_LAYOUT.networks, ".host.json"),
}
for _p in _PATHS.values():
    os.makedirs(os.path.dirname(_p), exist_ok=True)

_containers = ContainerStore(_LAYOUT)
_catalog = Catalog(_LAYOUT.images, _LAYOUT.lock("images"))
_layers = LayerStore(_LAYOUT.layers, _LAYOUT.tmp)
_networks = NetStore(_LAYOUT)

_READERS: dict[str, Callable[[], object]] = {
    "config": lambda: _containers.config(_CID),
    "state": lambda: _containers.read_state(_CID),
    "names": _containers.names,
    "image": lambda: _catalog.get(_IMAGE),
    "tags": _catalog.tags,
    "layer": lambda: _layers.get(_CHAIN),
    "network": lambda: [(n.prefixlen, n.name) for n in _networks.all()] + [_networks.load("inner")],
    "endpoint": lambda: [_networks.endpoint("inner", _CID), *_networks.endpoints("inner")],
    "event": lambda: [(e.type, e.time, dict(e.attributes)) for e in read_events(_LAYOUT, 0)[0]],
    "host": lambda: _host_state_use(_networks.host_state()),
}


def _host_state_use(state: dict[str, Any]) -> object:
    """What the janitor does with the host state: compare the due time, list the stale veths."""
    return (state.get("cleanup_after", 0) < 2.0, sorted(set(state.get("stale_veths", [])) | {"x"}))


def _value(r: random.Random, depth: int = 0) -> Any:
    """A random JSON value (objects and lists nest a few levels)."""
    kind = r.randrange(8 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return r.random() < 0.5
    if kind == 2:
        return r.randint(-(2**40), 2**40)
    if kind == 3:
        return r.choice([0.5, -1e308, 1e308, float("inf")])
    if kind in (4, 5):
        return "".join(r.choice("ab:/=\x00\u00e9 -.1") for _ in range(r.randrange(12)))
    if kind == 6:
        return [_value(r, depth + 1) for _ in range(r.randrange(4))]
    return {str(_value(r, 3)): _value(r, depth + 1) for _ in range(r.randrange(4))}


def _mutated(kind: str, r: random.Random) -> bytes:
    """A damaged version of a good record of ``kind``: a field replaced, dropped or wrapped, the whole
    document random, and (or) its text truncated or with bytes flipped."""
    doc = json.loads(json.dumps(_GOOD[kind]))
    how = r.choice(["field", "drop", "nest", "text", "random"])
    if how in ("field", "drop", "nest") and isinstance(doc, dict) and doc:
        key = r.choice(sorted(doc))
        if how == "field":
            doc[key] = _value(r)
        elif how == "drop":
            del doc[key]
        else:
            doc[key] = {"x": [doc[key], _value(r)]}
    elif how == "random":
        doc = _value(r)
    text = bytearray(json.dumps(doc).encode())
    if how == "text" or r.random() < 0.5:
        for _ in range(r.randrange(4)):
            if text:
                text[r.randrange(len(text))] = r.randrange(256)
        if r.random() < 0.5:
            del text[r.randrange(len(text) + 1) :]
    return bytes(text)


_SEEDS = st.integers(0, 2**64).map(random.Random)  # one draw: the batch is made from it


def _feed(kind: str, data: bytes) -> None:
    with open(_PATHS[kind], "wb") as f:
        f.write(data + b"\n" if kind == "event" else data)  # the event log: JSON lines
    try:
        _READERS[kind]()
    except DockyardError:
        pass
    except Exception as e:
        raise AssertionError(f"the {kind} reader raised {type(e).__name__}: {e} on {data!r}") from e


# Each example draws a seed and feeds the reader a batch of inputs made from it: hypothesis's own cost per
# example (~1 ms) would otherwise be most of the time. The profile's max_examples counts inputs.
BATCH = 250
_batches = settings(fuzz_settings, max_examples=max(1, fuzz_settings.max_examples // BATCH))


def _fuzz(kind: str, r: random.Random) -> None:
    for _ in range(BATCH):
        _feed(kind, _mutated(kind, r))


def _restore() -> None:
    for kind, doc in _GOOD.items():
        with open(_PATHS[kind], "w") as f:
            json.dump(doc, f)


_restore()


@pytest.fixture(autouse=True, scope="module")
def _remove_root() -> Iterator[None]:
    yield
    shutil.rmtree(_ROOT, ignore_errors=True)


@_batches
@given(_SEEDS)
def test_container_config_reader(r: random.Random) -> None:
    _fuzz("config", r)


@_batches
@given(_SEEDS)
def test_container_state_reader(r: random.Random) -> None:
    _fuzz("state", r)


@_batches
@given(_SEEDS)
def test_name_index_reader(r: random.Random) -> None:
    with open(_PATHS["config"], "w") as f:  # a good config to rebuild the index from
        json.dump(_GOOD["config"], f)
    for _ in range(BATCH):
        # A root from before the names/ index: whatever its names.json holds, the index is made from the
        # (good) config.
        shutil.rmtree(_containers.names_dir, ignore_errors=True)
        _feed("names", _mutated("names", r))
        assert _containers.names() == {"web": _CID}
        assert not os.path.exists(_PATHS["names"])


@_batches
@given(_SEEDS)
def test_image_record_reader(r: random.Random) -> None:
    _fuzz("image", r)


@_batches
@given(_SEEDS)
def test_tag_index_reader(r: random.Random) -> None:
    _fuzz("tags", r)


@_batches
@given(_SEEDS)
def test_layer_record_reader(r: random.Random) -> None:
    _fuzz("layer", r)


@_batches
@given(_SEEDS)
def test_network_record_reader(r: random.Random) -> None:
    _fuzz("network", r)


@_batches
@given(_SEEDS)
def test_endpoint_record_reader(r: random.Random) -> None:
    _fuzz("endpoint", r)


@_batches
@given(_SEEDS)
def test_event_log_reader(r: random.Random) -> None:
    _fuzz("event", r)


@_batches
@given(_SEEDS)
def test_host_state_reader(r: random.Random) -> None:
    _fuzz("host", r)
