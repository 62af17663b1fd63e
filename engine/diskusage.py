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
        details={"images": img_details, "containers": c_details},
    )
