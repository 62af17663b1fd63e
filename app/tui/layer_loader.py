"""Build the Layers tab's report in a worker: the image's layers with their instructions, the engine's
dive-style analysis when it has one (per-layer file trees, efficiency, wasted bytes), and the selected
container's writable layer (``diff``) on top."""

from __future__ import annotations

from typing import Any

from engine import Container, Engine, Image

from .formatting import repo_tag
from .layer_model import LayerReport, LayerRow, from_analysis, from_diff


def _short(digest: str) -> str:
    return digest.partition(":")[2][:12] or digest[:12] or "<missing>"


def analyze(engine: Engine, image: Image) -> Any:
    """The engine's analysis of an image, or None when this engine has none."""
    try:
        from engine.store import analysis  # type: ignore[attr-defined]
    except ImportError:
        return None
    for name in ("analyze_image", "analyze", "analyse"):
        fn = getattr(analysis, name, None)
        if fn is None:
            continue
        for args in ((engine, image), (image,), (engine.images, image), (image.layers,)):
            try:
                return fn(*args)
            except TypeError:
                continue
    return None


def build_report(engine: Engine, image: Image | None, container: Container | None) -> LayerReport:
    commands = [(_short(li.diff_id or li.chain_id), li.size, li.created_by) for li in image.layers] if image else []
    title = repo_tag(image.tags) if image and image.tags else (image.short_id if image else "")
    report: LayerReport
    result = analyze(engine, image) if image is not None else None
    if result is not None:
        report = from_analysis(title, result, commands)
    else:
        report = LayerReport(title)
        report.rows = [LayerRow(d, s, c) for d, s, c in reversed(commands)]
        if image is not None:
            report.note = "File trees per layer need the engine's layer analysis."
    if container is not None:
        report.title = f"{container.name} on {title or container.image}"
        try:
            tree = from_diff(engine.containers.diff(container.id))
            size = engine.containers.writable_size(container.id)
        except Exception as e:  # the container went away meanwhile, or the engine cannot diff yet
            tree, size = None, 0
            report.note = f"writable layer: {e}"
        report.rows.insert(0, LayerRow("writable", size, f"container {container.name}", tree, writable=True))
    return report
