"""Build the Layers tab's report in a worker: the image's layers with their instructions, dive's numbers
from the engine's layer analysis (efficiency, wasted bytes, a file tree per layer, computed when a layer is
chosen), and the selected container's writable layer (its ``diff``) on top."""

from __future__ import annotations

from engine import Container, EngineAPI, Image, ImageAnalysis

from .formatting import repo_tag
from .layer_model import FileNode, LayerReport, LayerRow, from_diff, from_file_tree


def _short(digest: str) -> str:
    return digest.partition(":")[2][:12] or digest[:12] or "<missing>"


def build_report(engine: EngineAPI, image: Image | None, container: Container | None) -> LayerReport:
    title = repo_tag(image.tags) if image and image.tags else (image.short_id if image else "")
    report = LayerReport(title)
    if image is not None:
        try:
            analysis = engine.images.analyze(image.id)
        except Exception as e:  # a layer directory vanished (image removed meanwhile) or cannot be read
            analysis = None
            report.note = f"layer analysis failed: {e}"
        if analysis is not None:
            report.efficiency = analysis.efficiency
            report.wasted = analysis.wasted_bytes
        for i, li in enumerate(image.layers):
            load = None
            if analysis is not None:

                def load(aggregated: bool, i: int = i, a: ImageAnalysis = analysis) -> FileNode:
                    return from_file_tree(a.tree(i, aggregated=aggregated))

            report.rows.append(LayerRow(_short(li.diff_id or li.chain_id), li.size, li.created_by, load=load))
        report.rows.reverse()  # newest on top, like docker history
    if container is not None:
        report.title = f"{container.name} on {title or container.image}"
        try:
            tree: FileNode | None = from_diff(engine.containers.diff(container.id))
            size = engine.containers.writable_size(container.id)
        except Exception as e:  # the container went away meanwhile
            tree, size = None, 0
            report.note = f"writable layer: {e}"
        report.rows.insert(0, LayerRow("writable", size, f"container {container.name}", tree, writable=True))
    return report
