"""The image half of the engine API: ``engine.images.list/get/tag/remove/import_/save/load/prune/...``.

Shaped after docker-py's ``client.images``. Everything is read from and written to the store on disk, so any
number of processes can use it at once.
"""

from __future__ import annotations

import builtins
import os

from .errors import Conflict, ImageNotFound, InvalidArgument, StoreError
from .fsutil import locked
from .lean import cached_property, contextmanager, suppress
from .paths import Layout
from .store import reference
from .store.blobs import BlobStore
from .store.images import ImageEntry, ImageStore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import IO, Any, BinaryIO

    from .records import HistoryEntry, Image, PruneReport, RemovedImage
    from .store.layers import LayerStore

    ProgressFn = Callable[[str, int, int], None]  # (message, current, total)
    UsersFn = Callable[[str], builtins.list[tuple[str, bool]]]  # image id -> [(container id, running)]


def _short(image_id: str) -> str:
    return image_id.partition(":")[2][:12]


class NewLayer:
    """A layer ready to go into a new image: its ChainID and the blob that carries it."""

    def __init__(self, chain_id: str, blob: str, media_type: str, size: int) -> None:
        self.chain_id = chain_id
        self.blob = blob
        self.media_type = media_type
        self.size = size


class Images:
    def __init__(self, layout: Layout, users: UsersFn | None = None) -> None:
        self.layout = layout
        self.blobs = BlobStore(layout.blobs, layout.tmp)
        self.store = ImageStore(layout.images, layout.lock("images"))
        self._users = users or (lambda _id: [])

    @cached_property
    def layers(self) -> LayerStore:
        from .store.layers import LayerStore

        return LayerStore(self.layout.layers, self.layout.tmp)

    # -- locking ---------------------------------------------------------------
    @contextmanager
    def writing(self) -> Iterator[None]:
        """Held (shared) while new blobs and layers are being added; garbage collection takes it exclusively."""
        with locked(self.layout.lock("gc"), shared=True):
            yield

    # -- reading -----------------------------------------------------------------
    def resolve(self, name: str) -> str:
        return self.store.resolve(name)

    def exists(self, name: str) -> bool:
        try:
            self.resolve(name)
            return True
        except ImageNotFound:
            return False

    def config_of(self, image_id: str) -> dict[str, Any]:
        from . import jsonio

        return dict(jsonio.loads(self.blobs.read(image_id)))

    def _record(self, entry: ImageEntry, tags: builtins.list[str]) -> Image:
        from .records import Image, LayerInfo

        cfg = self.config_of(entry.id)
        history = list(cfg.get("history") or [])
        layered = [h for h in history if not h.get("empty_layer")]
        infos = []
        for i, chain in enumerate(entry.layers):
            try:
                lr = self.layers.get(chain)
            except StoreError:
                lr = None
            h = layered[i] if i < len(layered) else {}
            infos.append(
                LayerInfo(
                    chain_id=chain,
                    diff_id=lr.diff_id if lr else "",
                    size=lr.size if lr else 0,
                    path=self.layers.diff_path(chain),
                    created_by=h.get("created_by", ""),
                    created=h.get("created", ""),
                    comment=h.get("comment", ""),
                )
            )
        return Image(
            id=entry.id,
            tags=tags,
            created=cfg.get("created", ""),
            size=sum(li.size for li in infos),
            layers=infos,
            config=dict(cfg.get("config") or {}),
            history=history,
            architecture=cfg.get("architecture", ""),
            os=cfg.get("os", "linux"),
            repo_digests=list(entry.repo_digests),
            parent=entry.parent,
            manifest_digest=entry.manifest,
        )

    def get(self, name: str) -> Image:
        image_id = self.resolve(name)
        entry = self.store.get(image_id)
        if entry is None:
            raise ImageNotFound(f"No such image: {name}")
        return self._record(entry, self.store.tags_of(image_id))

    def list(self, all: bool = False) -> builtins.list[Image]:
        """Images, newest first. Without ``all``, untagged images that are parents of others are hidden."""
        tags = self.store.tags()
        by_id: dict[str, builtins.list[str]] = {}
        for t, i in tags.items():
            by_id.setdefault(i, []).append(t)
        entries = self.store.entries()
        parents = {e.parent for e in entries if e.parent}
        out = []
        for e in entries:
            image_tags = sorted(by_id.get(e.id, []))
            if not all and not image_tags and e.id in parents:
                continue
            try:
                out.append(self._record(e, image_tags))
            except StoreError:
                continue
        out.sort(key=lambda im: im.created, reverse=True)
        return out

    def history(self, name: str) -> builtins.list[HistoryEntry]:
        from .records import HistoryEntry

        image = self.get(name)
        rows: builtins.list[HistoryEntry] = []
        li = 0
        for h in image.history:
            empty = bool(h.get("empty_layer"))
            size = 0
            if not empty and li < len(image.layers):
                size = image.layers[li].size
                li += 1
            rows.append(
                HistoryEntry(
                    id="<missing>",
                    created=h.get("created", ""),
                    created_by=h.get("created_by", ""),
                    size=size,
                    comment=h.get("comment", ""),
                    empty_layer=empty,
                )
            )
        rows.reverse()
        if rows:
            rows[0].id = image.id
        return rows

    def inspect(self, name: str) -> dict[str, Any]:
        """The image as ``docker image inspect`` shows it."""
        from .store import oci

        im = self.get(name)
        cfg = self.config_of(im.id)
        return {
            "Id": im.id,
            "RepoTags": im.tags,
            "RepoDigests": im.repo_digests,
            "Parent": im.parent,
            "Comment": (im.history[-1].get("comment", "") if im.history else ""),
            "Created": im.created,
            "DockerVersion": "",
            "Author": cfg.get("author", ""),
            "Config": _docker_config(im.config),
            "Architecture": im.architecture,
            "Variant": cfg.get("variant", ""),
            "Os": im.os,
            "Size": im.size,
            "GraphDriver": {
                "Name": "overlay2",
                "Data": {"LowerDir": ":".join(li.path for li in reversed(im.layers))},
            },
            "RootFS": {"Type": "layers", "Layers": [li.diff_id for li in im.layers]},
            "Metadata": {"LastTagTime": ""},
            "Descriptor": {"mediaType": oci.MT_OCI_MANIFEST, "digest": im.manifest_digest},
        }

    def users(self, image_id: str) -> builtins.list[tuple[str, bool]]:
        return self._users(image_id)

    # -- writing -----------------------------------------------------------------
    def tag(self, source: str, target: str) -> None:
        image_id = self.resolve(source)
        ref = reference.parse(target)
        if ref.digest:
            raise InvalidArgument("refusing to create a tag with a digest reference")
        with self.store.lock():
            if self.store.get(image_id) is None:
                raise ImageNotFound(f"No such image: {source}")
            self.store.set_tag(ref.tagged, image_id)

    def untag(self, tag: str) -> None:
        ref = reference.parse(tag)
        with self.store.lock():
            if ref.tagged not in self.store.tags():
                raise ImageNotFound(f"No such image: {ref.tagged}")
            self.store.remove_tag(ref.tagged)

    def create(
        self,
        layers: builtins.list[NewLayer],
        config: dict[str, Any] | bytes,
        tags: builtins.list[str] = (),  # type: ignore[assignment]
        parent: str = "",
        repo_digests: builtins.list[str] = (),  # type: ignore[assignment]
        manifest_bytes: bytes | None = None,
    ) -> str:
        """Record a new image over layers already in the store; returns its ID. Tags move to it.

        ``config`` as bytes is kept byte for byte (its digest is the image ID)."""
        from .store import oci

        parsed = [reference.parse(t) for t in tags]
        config_bytes = config if isinstance(config, bytes) else oci.canonical(config)
        config_id = self.blobs.put_bytes(config_bytes)
        if manifest_bytes is None:
            manifest = oci.new_manifest(
                config_id,
                len(config_bytes),
                [oci.layer_descriptor(x.blob, x.size, x.media_type) for x in layers],
            )
            manifest_bytes = oci.canonical(manifest)
        manifest_digest = self.blobs.put_bytes(manifest_bytes)
        entry = ImageEntry(
            id=config_id,
            manifest=manifest_digest,
            layers=[x.chain_id for x in layers],
            layer_blobs=[x.blob for x in layers],
            parent=parent,
            repo_digests=list(repo_digests),
        )
        with self.store.lock():
            old = self.store.get(config_id)
            if old is not None:
                entry.repo_digests = sorted(set(old.repo_digests) | set(entry.repo_digests))
                entry.added = old.added
                if old.parent and not entry.parent:
                    entry.parent = old.parent
            self.store.put(entry)
            for ref in parsed:
                self.store.set_tag(ref.tagged, config_id)
        return config_id

    def add_layer_from_tar(self, stream: BinaryIO, parent_chain: str | None) -> NewLayer:
        """Store an uncompressed (or compressed) layer tar: keep the uncompressed blob, unpack it once."""
        from .store import oci
        from .store.streams import decompressed

        with self.blobs.writer() as w:
            from .store.streams import HashingReader

            source = decompressed(stream)
            tee = HashingReader(source, w)  # type: ignore[arg-type]
            rec = self.layers.unpack(tee, parent_chain)  # type: ignore[arg-type]
        return NewLayer(rec.chain_id, w.digest, oci.MT_OCI_LAYER, w.size)

    def import_(
        self,
        source: BinaryIO,
        ref: str | None = None,
        message: str = "",
        changes: dict[str, Any] | None = None,
    ) -> str:
        """A rootfs tarball (plain or compressed) becomes a one-layer image; returns its ID."""
        from .store import oci

        if ref:
            reference.parse(ref)  # refuse a bad name before reading anything
        with self.writing():
            layer = self.add_layer_from_tar(source, None)
            diff_id = self.layers.get(layer.chain_id).diff_id
            created = oci.now_rfc3339()
            history = [{"created": created, "created_by": "", "comment": message or "Imported from tarball"}]
            config = oci.new_config([diff_id], history, dict(changes or {}), created)
            return self.create([layer], config, [ref] if ref else [])

    def remove(self, name: str, force: bool = False) -> RemovedImage:
        """``rmi``: untag, and delete the image when no tag and no container keeps it."""
        from .records import RemovedImage

        result = RemovedImage()
        image_id = self.resolve(name)
        by_tag = not reference.looks_like_id(name) or name in self.store.tags()
        ref = None
        if by_tag:
            with suppress(InvalidArgument):
                ref = reference.parse(name)
        with locked(self.layout.lock("gc")), self.store.lock():
            tags = self.store.tags_of(image_id)
            users = self._users(image_id)
            running = [c for c, r in users if r]
            if ref is not None and ref.tagged in tags and len(tags) > 1:
                self.store.remove_tag(ref.tagged)
                result.untagged.append(ref.tagged)
                return result
            if users and not force:
                cid, run = users[0]
                state = "running" if run else "stopped"
                if ref is not None and ref.tagged in tags:
                    raise Conflict(
                        f'conflict: unable to remove repository reference "{name}" (must force) - '
                        f"container {cid[:12]} is using its referenced image {_short(image_id)}"
                    )
                raise Conflict(
                    f"conflict: unable to delete {_short(image_id)} (must be forced) - image is being used "
                    f"by {state} container {cid[:12]}"
                )
            if running and force:
                raise Conflict(
                    f"conflict: unable to delete {_short(image_id)} (cannot be forced) - image is being used "
                    f"by running container {running[0][:12]}"
                )
            if ref is None and len(tags) > 1 and not force:
                raise Conflict(
                    f"conflict: unable to delete {_short(image_id)} (must be forced) - image is referenced in "
                    "multiple repositories"
                )
            for t in tags:
                self.store.remove_tag(t)
                result.untagged.append(t)
            if users:  # forced while stopped containers use it: keep it, untagged, like Docker
                return result
            children = [e.id for e in self.store.entries() if e.parent == image_id]
            for child in children:
                e = self.store.get(child)
                if e:
                    e.parent = ""
                    self.store.put(e)
            self.store.delete(image_id)
            result.deleted.append(image_id)
            self._collect()
        return result

    def prune(self, all: bool = False) -> PruneReport:
        """Remove dangling images (untagged), or with ``all`` every image no container uses."""
        from .records import PruneReport

        report = PruneReport()
        with locked(self.layout.lock("gc")), self.store.lock():
            tagged = set(self.store.tags().values())
            before = self._store_bytes()
            for e in self.store.entries():
                if self._users(e.id):
                    continue
                if e.id in tagged and not all:
                    continue
                for t in self.store.tags_of(e.id):
                    self.store.remove_tag(t)
                self.store.delete(e.id)
                report.deleted.append(e.id)
            self._collect()
            report.reclaimed = max(0, before - self._store_bytes())
        return report

    def _store_bytes(self) -> int:
        total = 0
        for chain in self.layers.all():
            with suppress(StoreError):
                total += self.layers.get(chain).size
        for b in self.blobs.all():
            with suppress(OSError):
                total += self.blobs.size(b)
        return total

    def _collect(self, extra_layers: set[str] | None = None) -> None:
        """Delete layers and blobs no image references (caller holds the gc and store locks)."""
        keep_layers: set[str] = set(extra_layers or ())
        keep_blobs: set[str] = set()
        for e in self.store.entries():
            keep_blobs.update([e.id, e.manifest, *e.layer_blobs])
            for chain in e.layers:
                c: str | None = chain
                while c and c not in keep_layers:
                    keep_layers.add(c)
                    try:
                        c = self.layers.get(c).parent
                    except StoreError:
                        c = None
        keep_layers |= self._pinned_layers()
        for chain in self.layers.all():
            if chain not in keep_layers:
                self.layers.remove(chain)
        for b in self.blobs.all():
            if b not in keep_blobs:
                self.blobs.delete(b)

    def _pinned_layers(self) -> set[str]:
        """Layers the build cache still points at (kept until the cache is pruned)."""
        if not os.path.exists(self.layout.build_cache):
            return set()  # no build has run here (and SQLite need not be loaded)
        from .build.cache import pinned_layers

        return pinned_layers(self.layout.build_cache)

    def recover(self) -> builtins.list[str]:
        """Clean what a killed process left: temporaries, and layers/blobs no image references."""
        from .store import tmp as tmpfiles

        removed = tmpfiles.sweep(self.layout.tmp)
        import fcntl

        fd = os.open(self.layout.lock("gc"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return removed  # somebody is writing right now: leave it to them
            with self.store.lock():
                self._collect()
        finally:
            os.close(fd)
        return removed

    # -- layer insight ---------------------------------------------------------------
    def analyze(self, name: str) -> Any:
        """dive's view of an image: per-layer file trees (added/modified/removed), efficiency, wasted bytes."""
        from .store.analysis import analyze_image

        image = self.get(name)
        return analyze_image([li.path for li in image.layers], cache=_scan_cache())

    # -- archives ----------------------------------------------------------------
    def save(self, names: builtins.list[str], out: IO[bytes]) -> None:
        from .store.archive import save

        save(self, names, out)

    def load(self, source: BinaryIO, progress: ProgressFn | None = None) -> builtins.list[str]:
        from .store.archive import load

        return load(self, source, progress)

    def bootstrap(self, what: str, progress: ProgressFn | None = None) -> str:
        from .store.bootstrap import bootstrap

        return bootstrap(self, what, progress)

    def build(
        self,
        context_dir: str,
        dockerfile: str | None = None,
        tags: builtins.list[str] | str = (),  # type: ignore[assignment]
        build_args: dict[str, str | None] | None = None,
        target: str | None = None,
        no_cache: bool = False,
        labels: dict[str, str] | None = None,
        progress: Callable[[Any], None] | None = None,
    ) -> str:
        """``docker build``: an image from a Dockerfile and its context; returns the image ID.
        ``progress`` receives engine.build.events.BuildEvent records (see engine.build.api)."""
        from .build.api import build
        from .engine import Engine

        engine = Engine(self.layout.root)
        return build(engine, context_dir, dockerfile, tags, build_args, target, no_cache, labels, progress)

    # -- registries --------------------------------------------------------------------
    def pull(
        self,
        repository: str,
        tag: str | None = None,
        platform: str | None = None,
        progress: Callable[[Any], None] | None = None,
        auth_config: dict[str, str] | None = None,
    ) -> Any:
        """``docker pull``: fetch an image from its registry; returns an engine.registry.PullResult.
        ``progress`` receives engine.registry.TransferEvent records (one per layer state change)."""
        from . import registry

        creds = None
        if auth_config:
            creds = registry.Credentials(auth_config["username"], auth_config["password"])
        ref = f"{repository}:{tag}" if tag else repository
        return registry.pull(self, ref, platform=platform, progress=progress, credentials=creds)

    def push(
        self,
        repository: str,
        tag: str | None = None,
        progress: Callable[[Any], None] | None = None,
        auth_config: dict[str, str] | None = None,
    ) -> Any:
        """``docker push``: upload a local image to its registry; returns an engine.registry.PushResult."""
        from . import registry

        creds = None
        if auth_config:
            creds = registry.Credentials(auth_config["username"], auth_config["password"])
        ref = f"{repository}:{tag}" if tag else repository
        return registry.push(self, ref, progress=progress, credentials=creds)


_SCAN_CACHE: Any = None


def _scan_cache() -> Any:
    """Scans of image layers (which never change), shared by every analysis in this process."""
    global _SCAN_CACHE
    if _SCAN_CACHE is None:
        from .store.analysis import ScanCache

        _SCAN_CACHE = ScanCache()
    return _SCAN_CACHE


def _docker_config(cfg: dict[str, Any]) -> dict[str, Any]:
    base: dict[str, Any] = {
        "Hostname": "",
        "Domainname": "",
        "User": "",
        "AttachStdin": False,
        "AttachStdout": False,
        "AttachStderr": False,
        "Tty": False,
        "OpenStdin": False,
        "StdinOnce": False,
        "Env": None,
        "Cmd": None,
        "Image": "",
        "Volumes": None,
        "WorkingDir": "",
        "Entrypoint": None,
        "OnBuild": None,
        "Labels": None,
    }
    base.update(cfg)
    return base
