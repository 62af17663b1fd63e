"""``cp`` between a container and the host, ``export`` of a container's filesystem, ``commit`` of its
writable layer into a new image."""

from __future__ import annotations

import contextlib
import os
import tarfile
import threading

from ..errors import InvalidArgument, NotFound
from ..paths import Layout
from ..store.containers import ContainerStore
from .rootview import run_in_view, wait_view

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any, BinaryIO

    from ..store.imagestore import ImageStore


def _tar_path(src: str, arcname: str, out: IO[bytes]) -> None:
    """A tar of ``src`` (file, directory or link, not followed) with its top entry named ``arcname``."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tf:
        if arcname == ".":
            for name in sorted(os.listdir(src)):
                tf.add(os.path.join(src, name), arcname=name, recursive=True)
        else:
            tf.add(src, arcname=arcname, recursive=True)


def copy_from(layout: Layout, cid: str, src: str, dest: str) -> None:
    """``cp CONTAINER:SRC DEST`` with Docker's rules for names and existing destinations."""
    from ..store.tar.extract import extract_layer

    if not src.startswith("/"):
        src = "/" + src
    contents_only = src.endswith("/.")
    src_clean = os.path.normpath(src)
    if os.path.isdir(dest):
        into, arcname = dest, ("." if contents_only else os.path.basename(src_clean) or ".")
    else:
        parent = os.path.dirname(os.path.abspath(dest))
        if not os.path.isdir(parent):
            raise InvalidArgument(f"destination directory {parent} does not exist")
        into, arcname = parent, os.path.basename(os.path.abspath(dest))
        if contents_only:
            os.makedirs(dest)
            into, arcname = dest, "."
    r, w = os.pipe2(os.O_CLOEXEC)

    def child(fd: int) -> None:
        nonlocal src_clean
        parent_real = os.path.realpath(os.path.dirname(src_clean))  # inside the container's root
        src_clean = os.path.join(parent_real, os.path.basename(src_clean))
        try:
            os.lstat(src_clean)
        except FileNotFoundError:
            raise NotFound(f"Could not find the file {src} in container {cid[:12]}") from None
        with os.fdopen(fd, "wb", closefd=True) as f:
            _tar_path(src_clean, arcname, f)

    pid = run_in_view(layout, cid, child, child_fd=w, parent_fd=r)
    os.close(w)
    error: BaseException | None = None
    with os.fdopen(r, "rb") as f:
        try:
            extract_layer(f, into, overlay_whiteouts=False, interpret_whiteouts=False)
        except BaseException as e:
            error = e
    wait_view(pid)  # the child's reason (e.g. "Could not find the file") wins over the empty stream's
    if error is not None:
        raise error


def copy_to(layout: Layout, cid: str, src: str, dest: str) -> None:
    """``cp SRC CONTAINER:DEST``: every path is resolved inside the container's root."""
    from ..store.tar.extract import extract_layer

    if not os.path.lexists(src):
        raise NotFound(f"lstat {src}: no such file or directory")
    if not dest.startswith("/"):
        dest = "/" + dest
    contents_only = src.endswith("/.")
    r, w = os.pipe2(os.O_CLOEXEC)

    def child(fd: int) -> None:
        # We are inside the container's root here: links in the destination resolve within it.
        target = os.path.realpath(os.path.normpath(dest))
        if os.path.isdir(target):
            into, rename_to = target, None
        else:
            parent = os.path.dirname(target)
            if not os.path.isdir(parent):
                raise NotFound(f"Could not find the file {os.path.dirname(dest)} in container {cid[:12]}")
            into, rename_to = parent, os.path.basename(target)
        with os.fdopen(fd, "rb") as f:
            if rename_to is None:
                extract_layer(f, into, overlay_whiteouts=False, interpret_whiteouts=False)
            else:
                staging = os.path.join(into, f".dockyard-cp-{os.getpid()}")
                os.mkdir(staging, 0o700)
                try:
                    extract_layer(f, staging, overlay_whiteouts=False, interpret_whiteouts=False)
                    names = os.listdir(staging)
                    if contents_only:
                        os.makedirs(target, exist_ok=True)
                        for n in names:
                            os.rename(os.path.join(staging, n), os.path.join(target, n))
                    else:
                        os.rename(os.path.join(staging, names[0]), target)
                finally:
                    import shutil

                    shutil.rmtree(staging, ignore_errors=True)

    pid = run_in_view(layout, cid, child, writable=True, child_fd=r, parent_fd=w)
    os.close(r)
    try:
        with os.fdopen(w, "wb") as f:
            with contextlib.suppress(BrokenPipeError):
                name = "." if contents_only else os.path.basename(os.path.normpath(src))
                if contents_only:
                    _tar_path(os.path.normpath(src), ".", f)
                else:
                    _tar_path(src, name, f)
    finally:
        wait_view(pid)


def export(layout: Layout, cid: str, out: BinaryIO) -> None:
    """The container's whole filesystem (image layers + writable layer) as one flat tar."""
    from ..store.tar.writer import write_tree_tar

    r, w = os.pipe2(os.O_CLOEXEC)

    def child(fd: int) -> None:
        with os.fdopen(fd, "wb") as f:
            write_tree_tar("/", f)

    pid = run_in_view(layout, cid, child, live=False, child_fd=w, parent_fd=r)
    os.close(w)
    try:
        with os.fdopen(r, "rb") as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                out.write(chunk)
    finally:
        wait_view(pid)


def commit(
    layout: Layout,
    images: ImageStore,
    cid: str,
    repo_tag: str | None = None,
    message: str = "",
    author: str = "",
    changes: dict[str, Any] | None = None,
    pause: bool = True,
) -> str:
    """The container's writable layer becomes a new layer on top of its image: a new image."""
    import json

    from ..store import oci
    from ..store.tar.writer import write_layer_tar

    store = ContainerStore(layout)
    cfg = store.config(cid)
    st = store.state(cid)
    if repo_tag:
        from ..store import reference

        reference.parse(repo_tag)
    base_cfg = json.loads(images.blobs.read(cfg.image_id))
    entry = images.catalog.get(cfg.image_id)
    if entry is None:
        raise NotFound(f"No such image: {cfg.image_id}")
    frozen = None
    if pause and st.status == "running":
        from .cgroups import ContainerCgroup, parent_for_root

        with contextlib.suppress(Exception):
            frozen = ContainerCgroup.open(cid, parent_for_root(layout.root))
            frozen.freeze()
    try:
        with images.writing():
            r, w = os.pipe()
            errors: list[BaseException] = []

            def produce() -> None:
                try:
                    with os.fdopen(w, "wb") as f:
                        write_layer_tar(store.path(cid, "upper"), f, overlay_upper=True)
                except BaseException as e:  # noqa: BLE001
                    errors.append(e)

            t = threading.Thread(target=produce, daemon=True)
            t.start()
            with os.fdopen(r, "rb") as f:
                layer = images.add_layer_from_tar(f, entry.layers[-1] if entry.layers else None)
            t.join()
            if errors:
                raise errors[0]
    finally:
        if frozen is not None:
            with contextlib.suppress(Exception):
                frozen.thaw()
    diff_id = images.layers.get(layer.chain_id).diff_id
    container_cfg = dict(base_cfg.get("config") or {})
    if cfg.entrypoint is not None or cfg.cmd is not None:
        container_cfg["Cmd"] = cfg.cmd
        container_cfg["Entrypoint"] = cfg.entrypoint
    if cfg.env:
        from .specbuild import merge_env

        container_cfg["Env"] = merge_env(container_cfg.get("Env") or [], cfg.env)
    if cfg.labels:
        container_cfg["Labels"] = {**(container_cfg.get("Labels") or {}), **cfg.labels}
    for k, v in (changes or {}).items():
        if k == "Env":
            from .specbuild import merge_env

            container_cfg["Env"] = merge_env(container_cfg.get("Env") or [], v)
        elif isinstance(v, dict) and isinstance(container_cfg.get(k), dict):
            container_cfg[k] = {**container_cfg[k], **v}
        else:
            container_cfg[k] = v
    created = oci.now_rfc3339()
    history = list(base_cfg.get("history") or [])
    history.append(
        {
            "created": created,
            "created_by": " ".join(cfg.argv),
            "comment": message,
            **({"author": author} if author else {}),
        }
    )
    new_cfg = oci.new_config(
        [*base_cfg.get("rootfs", {}).get("diff_ids", []), diff_id], history, container_cfg, created
    )
    new_cfg["container"] = cid
    if author:
        new_cfg["author"] = author
    from ..store.imagestore import NewLayer

    layers = []
    manifest = json.loads(images.blobs.read(entry.manifest))
    parent_chain: list[str] = list(entry.layers)
    for chain, desc in zip(parent_chain, manifest.get("layers", []), strict=False):
        layers.append(
            NewLayer(chain, desc["digest"], desc.get("mediaType", oci.MT_OCI_LAYER), desc.get("size", 0))
        )
    layers.append(layer)
    image_id = images.create(layers, new_cfg, [repo_tag] if repo_tag else [], parent=cfg.image_id)
    from ..store.eventlog import emit

    emit(layout, "container", "commit", cid, {"image": image_id})
    return image_id
