"""Unpacked layers, keyed by ChainID: ``layers/<chain-hex>/diff`` plus ``layer.json``.

Each layer is unpacked once (overlay whiteouts on disk) and shared by every image and container that stands
on it. A layer directory appears atomically: it is unpacked in ``tmp/`` and renamed into place.
"""

from __future__ import annotations

import os

from engine.lean.record import asdict, record

from .. import faults
from ..errors import CorruptRecord, StoreError
from ..fsutil import atomic_write_json, read_json
from ..lean import jsonio
from . import tmp as tmpfiles

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO


def chain_id(parent_chain: str | None, diff_id: str) -> str:
    import hashlib

    if not parent_chain:
        return diff_id
    return "sha256:" + hashlib.sha256(f"{parent_chain} {diff_id}".encode()).hexdigest()


@record
class LayerRecord:
    chain_id: str
    diff_id: str
    parent: str | None
    size: int  # bytes of regular files in this layer's diff


class LayerStore:
    def __init__(self, directory: str, tmpdir: str) -> None:
        self.dir = directory
        self.tmpdir = tmpdir

    def _dir(self, chain: str) -> str:
        return os.path.join(self.dir, chain.partition(":")[2])

    def diff_path(self, chain: str) -> str:
        return os.path.join(self._dir(chain), "diff")

    def split_path(self, chain: str) -> str:
        """The record of the layer's tar (``tar/split.py``), there when the tar can be regenerated."""
        from .tar.split import TAR_SPLIT

        return os.path.join(self._dir(chain), TAR_SPLIT)

    def exists(self, chain: str) -> bool:
        return os.path.exists(os.path.join(self._dir(chain), "layer.json"))

    def get(self, chain: str) -> LayerRecord:
        path = os.path.join(self._dir(chain), "layer.json")
        d = read_json(path)
        if d is None:
            raise StoreError(f"layer {chain} is missing from the store")
        from engine.model.shape import problems_of

        problem = problems_of(LayerRecord, d)
        if problem is None and d["chain_id"] != chain:
            problem = f"it describes layer {d['chain_id'][:19]!r}, not the one its directory names"
        if problem:
            raise CorruptRecord(path, problem)
        return LayerRecord(d["chain_id"], d["diff_id"], d["parent"], d["size"])

    def unpack(self, tar_stream: BinaryIO, parent: str | None) -> LayerRecord:
        """Unpack an uncompressed layer tar stream on top of ``parent``; returns the (maybe existing) layer."""
        from .streams import HashingReader
        from .tar.extract import extract_layer
        from .tar.split import TAR_SPLIT, Recorder, complete

        work = tmpfiles.make_dir(self.tmpdir, "layer")
        try:
            diff = os.path.join(work, "diff")
            os.mkdir(diff, 0o755)
            reader = HashingReader(tar_stream)
            split = Recorder()
            result = extract_layer(reader, diff, split=split)
            reader.drain()
            diff_id = reader.digest
            chain = chain_id(parent, diff_id)
            if self.exists(chain):
                return self.get(chain)
            rec = LayerRecord(chain, diff_id, parent, int(getattr(result, "bytes", 0)))
            if split.total == reader.count and complete(split, diff):
                with open(os.path.join(work, TAR_SPLIT), "wb") as f:
                    f.write(split.finish(diff_id))
            atomic_write_json(os.path.join(work, "layer.json"), asdict(rec))
            faults.point("layer")
            try:
                os.rename(work, self._dir(chain))
            except OSError:
                if self.exists(chain):  # another process won the race with the same content
                    return self.get(chain)
                raise
            work = ""
            return rec
        finally:
            if work:
                tmpfiles.remove_tree(work)

    def all(self) -> list[str]:
        try:
            return ["sha256:" + n for n in os.listdir(self.dir) if len(n) == 64]
        except FileNotFoundError:
            return []

    def remove(self, chain: str) -> None:
        """Remove a layer: renamed out of the way first so a crash never leaves a half-deleted layer in place."""
        src = self._dir(chain)
        if not os.path.exists(src):
            return
        dead = os.path.join(self.tmpdir, f"{os.getpid()}-dead-{chain[7:19]}-{os.urandom(3).hex()}")
        os.rename(src, dead)
        tmpfiles.remove_tree(dead)

    def describe(self, chain: str) -> str:
        return jsonio.dumps(asdict(self.get(chain)))
