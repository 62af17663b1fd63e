"""``system df``: what images, containers and volumes cost on disk, and what could be reclaimed."""

from __future__ import annotations

from collections import Counter

from .model.reports import DiskUsage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .containers import Containers
    from .images import Images
    from .volumes import Volumes


def disk_usage(image_api: Images, container_api: Containers, volume_api: Volumes) -> DiskUsage:
    images = image_api.list(all=True)
    containers = container_api.list(all=True)
    used_by: Counter[str] = Counter(c.image_id for c in containers)
    layer_users: Counter[str] = Counter()
    for im in images:
        for li in im.layers:
            layer_users[li.chain_id] += 1
    layer_size = {li.chain_id: li.size for im in images for li in im.layers}
    total = sum(layer_size.values())
    active_layers = {li.chain_id for im in images if used_by[im.id] for li in im.layers}
    reclaimable = total - sum(layer_size[c] for c in active_layers)
    img_details: list[dict[str, Any]] = []
    for im in images:
        shared = sum(li.size for li in im.layers if layer_users[li.chain_id] > 1)
        name, _, tag = im.tags[0].rpartition(":") if im.tags else ("<none>", "", "<none>")
        img_details.append(
            {
                "repository": name,
                "tag": tag,
                "id": im.id,
                "size": im.size,
                "shared": shared,
                "unique": im.size - shared,
                "containers": used_by[im.id],
            }
        )
    c_details: list[dict[str, Any]] = []
    c_size = c_reclaim = 0
    for c in containers:
        size = container_api.writable_size(c.id)
        c_size += size
        if not c.running:
            c_reclaim += size
        c_details.append(
            {"id": c.id, "image": c.image, "size": size, "status": c.status_text(), "name": c.name}
        )
    vols = volume_api.list()
    v_size = sum(getattr(v, "size", 0) for v in vols)
    cache = build_cache_usage(image_api, {li.chain_id for im in images for li in im.layers})
    unshared = [r for r in cache if not r["shared"]]
    return DiskUsage(
        images=len(images),
        images_active=sum(1 for im in images if used_by[im.id]),
        images_size=total,
        images_reclaimable=reclaimable,
        containers=len(containers),
        containers_active=sum(1 for c in containers if c.running),
        containers_size=c_size,
        containers_reclaimable=c_reclaim,
        volumes=len(vols),
        volumes_active=sum(1 for v in vols if getattr(v, "in_use", False)),
        volumes_size=v_size,
        volumes_reclaimable=sum(getattr(v, "size", 0) for v in vols if not getattr(v, "in_use", False)),
        build_cache=len(cache),
        build_cache_active=sum(1 for r in cache if r["shared"] or r["in_use"]),
        build_cache_size=sum(r["size"] for r in unshared),
        build_cache_reclaimable=sum(r["size"] for r in unshared if not r["in_use"]),
        details={
            "images": img_details,
            "containers": c_details,
            "volumes": [
                {
                    "name": v.name,
                    "links": len(container_api.list(all=True, filters={"volume": [v.name]}))
                    if v.in_use
                    else 0,
                    "size": v.size,
                }
                for v in vols
            ],
            "build_cache": cache,
        },
    )


def build_cache_usage(image_api: Images, image_layers: set[str]) -> list[dict[str, Any]]:
    """The build cache as ``system df -v`` lists it: one row per cached step (its layer's size; ``shared``
    when an image uses that layer) and per ``RUN --mount=type=cache`` directory (``in_use`` while a build
    holds it)."""
    import os

    from .build import cachemounts

    rows: list[dict[str, Any]] = []
    if os.path.exists(image_api.layout.build_cache):
        from .build.cache import BuildCache
        from .errors import StoreError

        cache = BuildCache(image_api.layout)
        try:
            entries = cache.entries()
        finally:
            cache.close()
        counted: set[str] = set()
        for key, entry in sorted(entries.items(), key=lambda kv: float(kv[1].get("created") or 0)):
            chain = str(entry.get("chain_id") or "") if entry.get("layer") else ""  # ENV, CMD...: none
            size = 0
            if chain and chain not in counted and image_api.store.layers.exists(chain):
                counted.add(chain)  # a layer two steps made alike is kept (and counted) once
                try:
                    size = image_api.store.layers.get(chain).size
                except StoreError:
                    size = 0
            rows.append(
                {
                    "id": key.rpartition(":")[2][:12],
                    "type": "regular",
                    "description": str((entry.get("history") or {}).get("created_by") or ""),
                    "size": size,
                    "created": float(entry.get("created") or 0),
                    "last_used": float(entry.get("created") or 0),
                    "shared": bool(chain) and chain in image_layers,
                    "in_use": False,
                }
            )
    for mount in cachemounts.listing(image_api.layout.root):
        rows.append({**mount, "type": "exec.cachemount", "shared": False})
    return rows
