"""``cp`` between a container and the host, ``export`` of a container's filesystem, ``commit`` of its
writable layer into a new image."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tarfile
import threading
from typing import cast

from ..errors import DockyardError, InvalidArgument, NotFound
from ..paths import Layout
from ..store.containers import ContainerStore
from .rootview import run_in_view, wait_view

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any, BinaryIO

    from ..store.imagestore import ImageStore


class _Counting:
    """A writable file that counts the bytes written through it."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.count = 0

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.count += len(data)
        return len(data)

    def flush(self) -> None:
        self.out.flush()


def _tar_path(src: str, arcname: str, out: IO[bytes], owner: tuple[int, int] | None = None) -> None:
    """A tar of ``src`` (file, directory or link, not followed) with its top entry named ``arcname``; with
    ``owner``, every entry is owned by that (uid, gid) instead of its own."""

    def own(ti: tarfile.TarInfo) -> tarfile.TarInfo:
        if owner is not None:
            ti.uid, ti.gid = owner
            ti.uname = ti.gname = ""
        return ti

    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tf:
        if arcname == ".":
            for name in sorted(os.listdir(src)):
                tf.add(os.path.join(src, name), arcname=name, recursive=True, filter=own)
        else:
            tf.add(src, arcname=arcname, recursive=True, filter=own)


def _in_view() -> None:
    """In the child, once inside the container's root: tarfile must not look owners' names up, which
    would run the C library's NSS, and the modules it loads, from the container's files (CVE-2019-14271)."""
    tarfile.pwd = tarfile.grp = None  # type: ignore[attr-defined]


def _source_in_view(cid: str, src: str, follow_link: bool) -> str:
    """In the child, inside the container's root: the path to archive for ``SRC`` (links on the way resolved
    inside the root; the last one followed only with ``follow_link``, as ``cp -L``)."""
    _in_view()
    clean = os.path.normpath(src)
    path = os.path.join(os.path.realpath(os.path.dirname(clean)), os.path.basename(clean))
    try:
        os.lstat(path)
        if follow_link and os.path.islink(path):
            path = os.path.realpath(path)
            os.lstat(path)
    except FileNotFoundError:
        raise NotFound(f"Could not find the file {src} in container {cid[:12]}") from None
    return path


def _check_kinds(src_is_dir: bool, dest_is_file: bool, asserts_dir: bool) -> None:
    """Docker's refusals: a directory over a file; a file to a missing DEST that ends in ``/``."""
    if src_is_dir and dest_is_file:
        raise InvalidArgument("cannot copy directory")
    if not src_is_dir and asserts_dir:
        raise InvalidArgument("no such directory")


def _absolute(path: str) -> str:
    return path if path.startswith("/") else "/" + path


def copy_from(layout: Layout, cid: str, src: str, dest: str, *, follow_link: bool = False) -> tuple[int, int]:
    """``cp CONTAINER:SRC DEST`` with Docker's rules for names and existing destinations. What is written is
    owned by the caller (Docker: the user who ran ``cp``). Returns Docker's figures for its summary: the size
    copied (a file's size, or the bytes of the archive for a directory) and the bytes of the archive."""
    from ..store.tar.extract import extract_layer

    src = _absolute(src)
    contents_only = src.endswith("/.")
    src_clean = os.path.normpath(src)
    if os.path.isdir(dest):
        into, arcname = dest, ("." if contents_only else os.path.basename(src_clean) or ".")
    else:
        parent = os.path.dirname(os.path.abspath(dest))
        if not os.path.isdir(parent):
            raise InvalidArgument(f'invalid output path: directory "{parent}" does not exist')
        into, arcname = parent, os.path.basename(os.path.abspath(dest))
        if contents_only:
            os.makedirs(dest)
            into, arcname = dest, "."
    owner = (os.getuid(), os.getgid())
    dest_is_file = os.path.lexists(dest) and not os.path.isdir(dest)
    asserts_dir = dest.endswith("/") and not os.path.lexists(dest)
    r, w = os.pipe2(os.O_CLOEXEC)

    def child(fd: int) -> None:
        path = _source_in_view(cid, src_clean, follow_link)
        _check_kinds(stat.S_ISDIR(os.lstat(path).st_mode), dest_is_file, asserts_dir)
        with os.fdopen(fd, "wb", closefd=True) as f:
            _tar_path(path, arcname, f, owner)

    pid = run_in_view(layout, cid, child, child_fd=w, parent_fd=r)
    os.close(w)
    error: BaseException | None = None
    result = None
    with os.fdopen(r, "rb") as f:
        try:
            result = extract_layer(f, into, overlay_whiteouts=False, interpret_whiteouts=False)
        except BaseException as e:
            error = e
    wait_view(pid)  # the child's reason (e.g. "Could not find the file") wins over the empty stream's
    if error is not None:
        raise error
    assert result is not None
    try:
        is_dir = stat.S_ISDIR(os.lstat(os.path.join(into, arcname)).st_mode)
    except OSError:
        is_dir = False
    return (result.tar_bytes if is_dir else result.bytes), result.tar_bytes


def get_archive(layout: Layout, cid: str, src: str, out: IO[bytes], *, follow_link: bool = False) -> int:
    """``cp CONTAINER:SRC -``: a tar of SRC written to ``out`` as Docker's archive API gives it (entries
    keep their owners in the container; the top one named after SRC). Returns the bytes written."""
    src = _absolute(src)
    contents_only = src.endswith("/.")
    src_clean = os.path.normpath(src)
    arcname = "." if contents_only else (os.path.basename(src_clean) or ".")
    r, w = os.pipe2(os.O_CLOEXEC)

    def child(fd: int) -> None:
        path = _source_in_view(cid, src_clean, follow_link)
        with os.fdopen(fd, "wb", closefd=True) as f:
            _tar_path(path, arcname, f)

    pid = run_in_view(layout, cid, child, child_fd=w, parent_fd=r)
    os.close(w)
    total = 0
    try:
        with os.fdopen(r, "rb") as f:
            while chunk := f.read(1 << 20):
                out.write(chunk)
                total += len(chunk)
        out.flush()
    finally:
        wait_view(pid)
    return total


#: Go's os.FileMode type bits, which Docker's path stat carries (its clients test ``Mode.IsDir()``).
_GO_MODE_BITS = (
    (stat.S_ISDIR, 1 << 31), (stat.S_ISLNK, 1 << 27), (stat.S_ISBLK, 1 << 26), (stat.S_ISFIFO, 1 << 25),
    (stat.S_ISSOCK, 1 << 24), (stat.S_ISCHR, (1 << 26) | (1 << 21)),
)  # fmt: skip


def go_file_mode(mode: int) -> int:
    """A Unix ``st_mode`` as Go's os.FileMode: the permission bits, setuid (1<<23), setgid (1<<22), sticky
    (1<<20) and the type bits."""
    out = mode & 0o777
    for flag, bit in ((stat.S_ISUID, 1 << 23), (stat.S_ISGID, 1 << 22), (stat.S_ISVTX, 1 << 20)):
        if mode & flag:
            out |= bit
    for test, bit in _GO_MODE_BITS:
        if test(mode):
            out |= bit
    return out


def stat_path(layout: Layout, cid: str, path: str) -> dict[str, Any]:
    """Docker's stat of a path in the container (``HEAD /containers/{id}/archive``): ``name``, ``size``,
    ``mode`` (Go's FileMode), ``mtime`` (RFC 3339) and ``linkTarget`` (a link's target resolved inside the
    container). Links on the way are resolved inside the container's root."""
    from ..humanize import rfc3339
    from ..lean import jsonio

    path = _absolute(path)
    r, w = os.pipe2(os.O_CLOEXEC)

    def child(fd: int) -> None:
        full = _source_in_view(cid, path, False)
        st = os.lstat(full)
        link = os.path.realpath(full) if stat.S_ISLNK(st.st_mode) else ""
        doc = {
            "name": os.path.basename(os.path.normpath(path)) or "/",
            "size": st.st_size,
            "mode": go_file_mode(st.st_mode),
            "mtime": rfc3339(st.st_mtime),
            "linkTarget": link,
        }
        with os.fdopen(fd, "wb", closefd=True) as f:
            f.write(jsonio.dumps(doc).encode())

    pid = run_in_view(layout, cid, child, child_fd=w, parent_fd=r)
    os.close(w)
    try:
        with os.fdopen(r, "rb") as f:
            data = f.read(1 << 20)
    finally:
        wait_view(pid)
    doc: dict[str, Any] = jsonio.loads(data)
    return doc


def check_writable(layout: Layout, cid: str, dest: str) -> None:
    """Docker's refusals of a copy into a container: a path on a read-only mount, or outside every mount of
    a container whose root filesystem is read-only."""
    cfg = ContainerStore(layout).config(cid)
    path = os.path.normpath(_absolute(dest))
    on = None
    for m in cfg.mounts:
        top = os.path.normpath(m.destination)
        if (path == top or path.startswith(top.rstrip("/") + "/")) and (
            on is None or len(top) > len(os.path.normpath(on.destination))
        ):
            on = m
    if on is not None:
        if on.read_only or "ro" in on.options:
            raise InvalidArgument("mounted volume is marked read-only")
        return
    if cfg.read_only:
        raise InvalidArgument("container rootfs is marked read-only")


def _extract_at(
    cid: str, dest: str, f: IO[bytes], rename_contents: bool | None, src_is_dir: bool | None = None
) -> None:
    """In the child, inside the container's root: extract the tar ``f`` at ``dest`` (links on the way
    resolved inside the root). ``rename_contents`` None: ``dest`` must be a directory, extracted into; else
    a missing ``dest`` is the new name of the archive's single top entry (True: a directory made of the
    archive's entries, for SRC/.)."""
    from ..store.tar.extract import extract_layer  # loaded by the caller, before the fork

    target = os.path.realpath(os.path.normpath(dest))
    if src_is_dir is not None:
        exists = os.path.lexists(target)
        _check_kinds(src_is_dir, exists and not os.path.isdir(target), dest.endswith("/") and not exists)
    if os.path.isdir(target):
        extract_layer(f, target, overlay_whiteouts=False, interpret_whiteouts=False)
        return
    parent = os.path.dirname(target)
    if not os.path.isdir(parent):
        raise NotFound(f"Could not find the file {os.path.dirname(dest)} in container {cid[:12]}")
    staging = os.path.join(parent, f".dockyard-cp-{os.getpid()}")
    os.mkdir(staging, 0o700)
    try:
        extract_layer(f, staging, overlay_whiteouts=False, interpret_whiteouts=False)
        names = os.listdir(staging)
        if rename_contents:
            os.makedirs(target, exist_ok=True)
            for n in names:
                os.rename(os.path.join(staging, n), os.path.join(target, n))
        elif names:
            os.rename(os.path.join(staging, names[0]), target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def copy_to(
    layout: Layout, cid: str, src: str, dest: str, *, archive: bool = False, follow_link: bool = False
) -> int:
    """``cp SRC CONTAINER:DEST``: every path is resolved inside the container's root. The copies are owned
    by root in the container (Docker's documented rule), or keep their owners on the host with
    ``archive`` (``-a``); ``follow_link`` (``-L``) copies what a link SRC points to, under the link's name.
    Returns the bytes of the archive sent."""
    from ..store.tar import extract  # noqa: F401 - the child cannot import once inside the container

    if not os.path.lexists(src):
        raise NotFound(f"lstat {src}: no such file or directory")
    dest = _absolute(dest)
    check_writable(layout, cid, dest)
    contents_only = src.endswith("/.")
    name = "." if contents_only else os.path.basename(os.path.normpath(src))
    path = os.path.normpath(src)
    if follow_link and not contents_only and os.path.islink(path):
        path = os.path.realpath(path)
        if not os.path.exists(path):
            raise NotFound(f"lstat {path}: no such file or directory")
    src_is_dir = stat.S_ISDIR(os.lstat(path).st_mode)
    r, w = os.pipe2(os.O_CLOEXEC)

    def child(fd: int) -> None:
        with os.fdopen(fd, "rb") as f:
            _extract_at(cid, dest, f, contents_only, src_is_dir)

    pid = run_in_view(layout, cid, child, writable=True, child_fd=r, parent_fd=w)
    os.close(r)
    counted = None
    try:
        with os.fdopen(w, "wb") as f:
            counted = _Counting(f)
            with contextlib.suppress(BrokenPipeError):
                _tar_path(path, name, cast("IO[bytes]", counted), None if archive else (0, 0))
    finally:
        wait_view(pid)
    return counted.count if counted else 0


def put_archive(
    layout: Layout, cid: str, ref: str, dest: str, stream: IO[bytes], *, archive: bool = False
) -> int:
    """``cp - CONTAINER:DEST``: the tar read from ``stream`` (plain or compressed) is extracted into the
    directory DEST. Its entries are made owned by root in the container unless ``archive`` (``-a``) keeps
    the owners the archive gives. Returns the bytes of the archive sent on."""
    from ..store.tar import extract  # noqa: F401 - the child cannot import once inside the container

    dest = _absolute(dest)
    check_writable(layout, cid, dest)
    r, w = os.pipe2(os.O_CLOEXEC)

    def child(fd: int) -> None:
        target = os.path.realpath(os.path.normpath(dest))
        if not os.path.isdir(target):
            raise InvalidArgument(f'destination "{ref}:{dest}" must be a directory')
        with os.fdopen(fd, "rb") as f:
            _extract_at(cid, dest, f, None)

    pid = run_in_view(layout, cid, child, writable=True, child_fd=r, parent_fd=w)
    os.close(r)
    counted = None
    try:
        with os.fdopen(w, "wb") as f:
            counted = _Counting(f)
            with contextlib.suppress(BrokenPipeError):
                if archive:
                    while chunk := stream.read(1 << 20):
                        counted.write(chunk)
                else:
                    _owned_by(stream, cast("IO[bytes]", counted), 0, 0)
    finally:
        wait_view(pid)
    return counted.count if counted else 0


def _owned_by(stream: IO[bytes], out: IO[bytes], uid: int, gid: int) -> None:
    """The tar ``stream`` (plain or compressed) written to ``out`` as a plain tar whose entries are owned by
    ``uid``:``gid``."""
    from ..store.tar.compression import open_decompressed

    reader, _ = open_decompressed(stream)
    try:
        src = tarfile.open(fileobj=cast("IO[bytes]", reader), mode="r|")
    except tarfile.ReadError as e:
        if "empty" in str(e):
            return  # nothing to extract, as an empty archive
        raise InvalidArgument(f"Error processing tar file: {e}") from None
    try:
        with src, tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as dst:
            for ti in src:
                ti.uid, ti.gid, ti.uname, ti.gname = uid, gid, "", ""
                ti.pax_headers = {
                    k: v for k, v in ti.pax_headers.items() if k not in ("uid", "gid", "uname", "gname")
                }
                dst.addfile(ti, src.extractfile(ti) if ti.isreg() else None)
    except tarfile.TarError as e:
        raise InvalidArgument(f"Error processing tar file: {e}") from None


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
    with contextlib.suppress(DockyardError, OSError):  # the container's config, as Docker's images keep it
        from .inspect import inspect as inspect_container

        new_cfg["container_config"] = inspect_container(layout, store, cid)["Config"]
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
