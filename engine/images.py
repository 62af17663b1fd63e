"""The image half of the engine API: ``engine.images.list/get/tag/remove/import_/save/load/prune/...``.

Shaped after docker-py's ``client.images``. Everything is read from and written to the store on disk, so any
number of processes can use it at once.
"""

from __future__ import annotations

import builtins
import os

from .errors import BuildError, Conflict, ImageNotFound, InvalidArgument, StoreError
from .lean.tools import suppress
from .paths import Layout
from .store import reference
from .store.imagestore import ImageStore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterator
    from typing import IO, Any, BinaryIO

    from .build.cache import CachePruneReport
    from .build.events import BuildEvent
    from .build.options import BuildOptions
    from .model.image import HistoryEntry, Image, RemovedImage
    from .model.reports import PruneReport
    from .registry.events import TransferEvent
    from .registry.pull import PullResult
    from .registry.push import PushResult
    from .store.analysis import ImageAnalysis, ScanCache
    from .store.catalog import ImageEntry

    ProgressFn = Callable[[str, int, int], None]  # (message, current, total)
    UsersFn = Callable[[str], builtins.list[tuple[str, bool]]]  # image id -> [(container id, running)]


def _short(image_id: str) -> str:
    return image_id.partition(":")[2][:12]


class Images:
    def __init__(self, layout: Layout, users: UsersFn | None = None) -> None:
        self.layout = layout
        self.store = ImageStore(layout, pins=lambda: _build_cache_pins(layout))
        self._users = users or (lambda _id: [])

    # -- reading -----------------------------------------------------------------
    def resolve(self, name: str) -> str:
        return self.store.resolve(name)

    def check_platform(self, platform: str, name: str | None = None) -> None:
        """``--platform`` of history, image inspect, rmi, save and push (``name``: the image's own platform,
        as dockyard keeps one per image) and of import and load (no ``name``: this machine's platform, the
        only one dockyard makes or loads). InvalidArgument in Docker's words when it is another."""
        from .runtime.createflags import check_platform, machine_platform, parse_platform

        if name is not None:
            check_platform(self.layout, name, self.resolve(name), platform)
            return
        want, have = parse_platform(platform), machine_platform()
        if want[:2] != have[:2] or (want[2] and want[2] != have[2]):
            shown = "/".join(p for p in want if p)
            raise InvalidArgument(
                f"no image for platform {shown}: dockyard makes and loads images for this machine's "
                f"platform only ({'/'.join(p for p in have if p)})"
            )

    def tagged_name(self, name: str) -> str:
        """``name`` as Docker shows it, with its tag (``busybox`` -> ``busybox:latest``); InvalidArgument for a
        name Docker would refuse."""
        return reference.parse(name).tagged

    def exists(self, name: str) -> bool:
        try:
            self.resolve(name)
            return True
        except ImageNotFound:
            return False

    def config_of(self, image_id: str) -> dict[str, Any]:
        return self.store.config_of(image_id)

    def _record(self, entry: ImageEntry, tags: builtins.list[str]) -> Image:
        from .model.image import Image, LayerInfo

        cfg = self.config_of(entry.id)
        history = list(cfg.get("history") or [])
        layered = [h for h in history if not h.get("empty_layer")]
        infos = []
        for i, chain in enumerate(entry.layers):
            try:
                lr = self.store.layers.get(chain)
            except StoreError:
                lr = None
            h = layered[i] if i < len(layered) else {}
            infos.append(
                LayerInfo(
                    chain_id=chain,
                    diff_id=lr.diff_id if lr else "",
                    size=lr.size if lr else 0,
                    path=self.store.layers.diff_path(chain),
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
        entry = self.store.catalog.get(image_id)
        if entry is None:
            raise ImageNotFound(f"No such image: {name}")
        return self._record(entry, self.store.catalog.tags_of(image_id))

    def family(self, name: str) -> set[str]:
        """The ID of the image ``name`` and of every image made on top of it (as far as their records name
        a parent: built, committed); empty when there is no such image (``ps --filter ancestor``)."""
        try:
            found = {self.resolve(name)}
        except (ImageNotFound, InvalidArgument):
            return set()
        parents = {e.id: e.parent for e in self.store.catalog.entries() if e.parent}
        grew = True
        while grew:
            more = {i for i, p in parents.items() if p in found and i not in found}
            found |= more
            grew = bool(more)
        return found

    def list(
        self, all: bool = False, filters: dict[str, builtins.list[str]] | None = None
    ) -> builtins.list[Image]:
        """Images, newest first. Without ``all``, untagged images that are parents of others are hidden.
        ``filters`` as ``docker images --filter`` (engine/filters.py: dangling, reference, before, since,
        label, until); an unknown key is InvalidArgument."""
        if filters:
            from .filters import select_images

            return select_images(self.list(all), filters, get=self.get)
        tags = self.store.catalog.tags()
        by_id: dict[str, builtins.list[str]] = {}
        for t, i in tags.items():
            by_id.setdefault(i, []).append(t)
        entries = self.store.catalog.entries()
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

    def damaged(self, since_list: bool = False) -> builtins.list[str]:
        """What is wrong with each image record that cannot be read (``list`` leaves those out); with
        ``since_list``, those the last ``list`` came across (no second reading)."""
        catalog = self.store.catalog
        return [str(e) for e in (catalog.damage_seen if since_list else catalog.damaged())]

    def history(self, name: str) -> builtins.list[HistoryEntry]:
        from .model.image import HistoryEntry

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

    def inspect(self, name: str, legacy: bool = False) -> dict[str, Any]:
        """The image as ``docker image inspect`` shows it. ``legacy`` adds what Docker showed before API 1.44:
        ``Container`` and ``ContainerConfig``, the container a commit was made of and its config (empty for
        other images, as Docker's are for imported and BuildKit-built ones)."""
        from .store import oci

        im = self.get(name)
        cfg = self.config_of(im.id)
        old: dict[str, Any] = {}
        if legacy:
            old = {
                "Container": str(cfg.get("container") or ""),
                "ContainerConfig": _docker_config(dict(cfg.get("container_config") or {})),
            }
        return {
            "Id": im.id,
            "RepoTags": im.tags,
            "RepoDigests": im.repo_digests,
            "Parent": im.parent,
            "Comment": (im.history[-1].get("comment", "") if im.history else ""),
            "Created": im.created,
            **old,
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
            "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},  # Go's zero time: never tagged since
            "Descriptor": {"mediaType": oci.MT_OCI_MANIFEST, "digest": im.manifest_digest},
        }

    def users(self, image_id: str) -> builtins.list[tuple[str, bool]]:
        return self._users(image_id)

    # -- writing -----------------------------------------------------------------
    def tag(self, source: str, target: str) -> None:
        self.store.tag(self.resolve(source), target)

    def untag(self, tag: str) -> None:
        ref = reference.parse(tag)
        catalog = self.store.catalog
        with catalog.lock():
            if ref.tagged not in catalog.tags():
                raise ImageNotFound(f"No such image: {ref.tagged}")
            catalog.remove_tag(ref.tagged)

    def import_(
        self,
        source: BinaryIO,
        ref: str | None = None,
        message: str = "",
        changes: dict[str, Any] | None = None,
    ) -> str:
        """A rootfs tarball (plain or compressed) becomes a one-layer image; returns its ID."""
        check_changes(changes)
        image_id = self.store.import_tar(source, ref, message, changes)
        self._event("import", image_id, ref or image_id)
        return image_id

    def remove(self, name: str, force: bool = False) -> RemovedImage:
        """``rmi``: untag, and delete the image when no tag and no container keeps it."""
        from .model.image import RemovedImage

        result = RemovedImage()
        image_id = self.resolve(name)
        catalog = self.store.catalog
        by_tag = not reference.looks_like_id(name) or name in catalog.tags()
        ref = None
        if by_tag:
            with suppress(InvalidArgument):
                ref = reference.parse(name)
        with self.store.collecting():
            tags = catalog.tags_of(image_id)
            users = self._users(image_id)
            running = [c for c, r in users if r]
            if ref is not None and ref.tagged in tags and len(tags) > 1:
                catalog.remove_tag(ref.tagged)
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
                catalog.remove_tag(t)
                result.untagged.append(t)
            if users:  # forced while stopped containers use it: keep it, untagged, like Docker
                return result
            self.store.delete(image_id)
            result.deleted.append(image_id)
            self.store.collect()
        return result

    def prune(
        self, all: bool = False, *, filters: dict[str, builtins.list[str]] | None = None
    ) -> PruneReport:
        """Remove dangling images (untagged), or with ``all`` every image no container uses. ``filters``:
        ``until``, ``label``, ``label!`` (what they spare: engine.filters.pruning), ``dangling=false`` (as
        ``all``)."""
        from .model.reports import PruneReport

        spares = None
        if filters:
            from .filters import IMAGE_PRUNE_KEYS, boolean, pruning

            spares = pruning(filters, IMAGE_PRUNE_KEYS)
            all = all or boolean(filters, "dangling") is False
        report = PruneReport()
        catalog = self.store.catalog
        with self.store.collecting():
            tagged = set(catalog.tags().values())
            before = self.store.size()
            for e in catalog.entries():
                if self._users(e.id):
                    continue
                if e.id in tagged and not all:
                    continue
                if spares is not None and self._spared(e.id, spares):
                    continue
                for t in catalog.tags_of(e.id):
                    catalog.remove_tag(t)
                    report.untagged.append(t)
                self.store.delete(e.id)
                report.deleted.append(e.id)
            self.store.collect()
            report.reclaimed = max(0, before - self.store.size())
        return report

    def _spared(self, image_id: str, spares: Callable[[float, dict[str, Any]], bool]) -> bool:
        from .humanize import parse_time

        try:
            cfg = self.config_of(image_id)
        except StoreError:
            return True
        labels = (cfg.get("config") or {}).get("Labels") or {}
        return spares(parse_time(str(cfg.get("created") or "")), labels if isinstance(labels, dict) else {})

    def prune_builds(
        self,
        all: bool = False,
        older_than: float | None = None,
        kinds: Collection[str] | None = None,
        keep_storage: int | None = None,
    ) -> CachePruneReport:
        """``docker builder prune``: drop build cache records (only those no image uses, unless ``all``;
        ``older_than`` seconds keeps newer ones), the layers only they kept and the unused ``RUN
        --mount=type=cache`` directories; ``kinds`` (``regular``, ``exec.cachemount``) limits what goes;
        ``keep_storage`` bytes of the newest records that would go are kept."""
        from .build.cache import BuildCache

        return BuildCache(self.layout).prune(
            self.store, all=all, older_than=older_than, kinds=kinds, keep_storage=keep_storage
        )

    def recover(self) -> builtins.list[str]:
        """Clean what a killed process left: temporaries, and layers/blobs no image references."""
        return self.store.recover()

    # -- layer insight ---------------------------------------------------------------
    def analyze(self, name: str) -> ImageAnalysis:
        """dive's view of an image: per-layer file trees (added/modified/removed), efficiency, wasted bytes."""
        from .store.analysis import analyze_image

        image = self.get(name)
        return analyze_image([li.path for li in image.layers], cache=_scan_cache())

    # -- archives ----------------------------------------------------------------
    def save(self, names: builtins.list[str], out: IO[bytes]) -> None:
        from . import faults
        from .store.archive import save

        if faults.ACTIVE:
            out = _FaultyOutput(out)  # type: ignore[assignment]  # a file-like stand-in
        save(self.store, names, out)
        for n in names:
            self._event("save", self.resolve(n), n)

    def load(self, source: BinaryIO, progress: ProgressFn | None = None) -> builtins.list[str]:
        from .store.archive import load

        loaded = load(self.store, source, progress)
        for n in loaded:
            self._event("load", self.resolve(n), n)
        return loaded

    def _event(self, action: str, image_id: str, name: str) -> None:
        """An image event in the root's event log (Docker's: the image's ID, its name as an attribute)."""
        from .store.eventlog import emit

        emit(self.layout, "image", action, image_id, {"name": name})

    def bootstrap(self, what: str, progress: ProgressFn | None = None) -> str:
        from .store.bootstrap import bootstrap

        return bootstrap(self.store, what, progress)

    def bootstrap_rootfs(self, what: str = "busybox") -> bytes:
        """The rootfs tarball ``bootstrap(what)`` imports (busybox only: deterministic, made from the host's
        static busybox), to give other tools the very same base image."""
        from .store.bootstrap import busybox_tar, find_static_busybox

        if what.partition(":")[0] != "busybox":
            raise InvalidArgument(f"only busybox's rootfs can be made without an image: {what}")
        return busybox_tar(find_static_busybox())

    def build_stream(self, options: BuildOptions) -> Iterator[BuildEvent]:
        """``docker build``, yielding progress events as they happen; the last one is the ``result``
        (``image_id``, ``tags``). A failed step raises BuildError (naming the Dockerfile line) after its
        ``error`` event. Closing the iterator early stops the build and removes its step container."""
        from .build.builder import Builder

        yield from Builder(self.layout, self.store, options).events()

    def build(self, options: BuildOptions, progress: Callable[[BuildEvent], None] | None = None) -> str:
        """``docker build``: an image from a Dockerfile and its context; returns the image ID. ``progress``
        gets every BuildEvent (``event.message`` is a printable line)."""
        image_id = ""
        for event in self.build_stream(options):
            if progress is not None:
                progress(event)
            if event.kind == "result":
                image_id = event.image_id
        if not image_id:
            raise BuildError("the build finished without an image")
        return image_id

    # -- registries --------------------------------------------------------------------
    def pull(
        self,
        repository: str,
        tag: str | None = None,
        platform: str | None = None,
        progress: Callable[[TransferEvent], None] | None = None,
        auth_config: dict[str, str] | None = None,
    ) -> PullResult:
        """``docker pull``: fetch an image from its registry.
        ``progress`` receives engine.registry.TransferEvent records (one per layer state change)."""
        from . import registry

        creds = None
        if auth_config:
            creds = registry.Credentials(auth_config["username"], auth_config["password"])
        ref = f"{repository}:{tag}" if tag else repository
        result = registry.pull(self.store, ref, platform=platform, progress=progress, credentials=creds)
        self._event("pull", result.image_id, result.name)
        return result

    def distribution(self, ref: str, auth_config: dict[str, str] | None = None) -> dict[str, Any]:
        """The registry's descriptor and platforms of ``ref``, without pulling it (Docker's distribution
        inspect, ``{"Descriptor": ..., "Platforms": [...]}``)."""
        from . import registry
        from .registry.pull import distribution

        creds = None
        if auth_config:
            creds = registry.Credentials(auth_config["username"], auth_config["password"])
        return distribution(self.store, ref, creds)

    def remote_tags(self, repository: str) -> builtins.list[str]:
        """The tags ``repository`` has in its registry (``pull --all-tags``)."""
        from .registry.pull import list_tags

        return list_tags(self.store, repository)

    def push(
        self,
        repository: str,
        tag: str | None = None,
        progress: Callable[[TransferEvent], None] | None = None,
        auth_config: dict[str, str] | None = None,
    ) -> PushResult:
        """``docker push``: upload a local image to its registry."""
        from . import registry

        creds = None
        if auth_config:
            creds = registry.Credentials(auth_config["username"], auth_config["password"])
        ref = f"{repository}:{tag}" if tag else repository
        result = registry.push(self.store, ref, progress=progress, credentials=creds)
        self._event("push", self.resolve(ref), ref)
        return result


def _build_cache_pins(layout: Layout) -> set[str]:
    """Layers the build cache still points at (the store keeps them until the cache is pruned)."""
    if not os.path.exists(layout.build_cache):
        return set()  # no build has run here (and SQLite need not be loaded)
    from .build.cache import pinned_layers

    return pinned_layers(layout.build_cache)


_SCAN_CACHE: ScanCache | None = None


def _scan_cache() -> ScanCache:
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


class _FaultyOutput:
    """``save``'s output with a fault-injection point at each write (engine.faults)."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out

    def write(self, data: bytes) -> int:
        from . import faults

        faults.point("save write")
        return self.out.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.out, name)


def parse_changes(changes: builtins.list[str]) -> dict[str, Any]:
    """``--change`` instructions of import and commit (the Engine API's ``changes``) as the image config keys
    they set: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, STOPSIGNAL, VOLUME."""
    import json

    cfg: dict[str, Any] = {}

    def cmdlist(v: str) -> builtins.list[str]:
        try:
            j = json.loads(v)
            if isinstance(j, builtins.list) and all(isinstance(x, str) for x in j):
                return j
        except ValueError:
            pass
        return ["/bin/sh", "-c", v]

    for ch in changes:
        kw, _, rest = ch.strip().partition(" ")
        kw = kw.upper()
        rest = rest.strip()
        if kw == "CMD":
            cfg["Cmd"] = cmdlist(rest)
        elif kw == "ENTRYPOINT":
            cfg["Entrypoint"] = cmdlist(rest)
        elif kw == "ENV":
            k, sep, v = rest.partition("=")
            if not sep:
                k, _, v = rest.partition(" ")
            cfg.setdefault("Env", []).append(f"{k}={v.strip()}")
        elif kw == "EXPOSE":
            for port in rest.split():
                cfg.setdefault("ExposedPorts", {})[port if "/" in port else port + "/tcp"] = {}
        elif kw == "LABEL":
            k, _, v = rest.partition("=")
            cfg.setdefault("Labels", {})[k.strip('"')] = v.strip('"')
        elif kw == "USER":
            cfg["User"] = rest
        elif kw == "WORKDIR":
            cfg["WorkingDir"] = rest
        elif kw == "STOPSIGNAL":
            cfg["StopSignal"] = rest
        elif kw == "VOLUME":
            for v in cmdlist(rest) if rest.startswith("[") else rest.split():
                cfg.setdefault("Volumes", {})[v] = {}
        else:
            raise InvalidArgument(f"{kw} is not a valid change command")
    return cfg


def check_changes(changes: dict[str, Any] | None) -> None:
    """``--change`` of import and commit: a stop signal must be one (as create checks it), before anything
    is read or written."""
    signal = (changes or {}).get("StopSignal")
    if signal:
        from .runtime.signals import parse_signal

        parse_signal(signal)
