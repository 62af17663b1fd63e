"""Safe streaming extraction of a layer below a directory (see engine/store/tar/__init__.py for the rules):
nothing is ever written outside the destination; whiteouts become overlayfs whiteouts, deletions, or plain
names."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
import tarfile
from collections.abc import Callable
from typing import BinaryIO

from engine.errors import InvalidArgument, NotFound, RuntimeFailure, UnsafeArchive
from engine.lean.record import record
from engine.store import whiteouts as wh

from . import limits
from .compression import Prefetcher, Readable, open_decompressed
from .names import O_DIR, Escape, clean_name, join_name, list_dir, proc_path
from .reader import REGULAR, Entry, TarStream, next_entry, padding
from .split import Recorder

_DIR_CACHE_SIZE = 64
_O_PATHDIR = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_O_NEWFILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@record
class ExtractResult:
    """What one extraction did."""

    entries: int = 0
    """Archive entries applied (files, directories, links, devices, whiteouts)."""
    bytes: int = 0
    """Bytes of regular-file content written."""
    tar_bytes: int = 0
    """Length of the uncompressed tar stream read."""
    whiteouts: int = 0
    """Whiteout and opaque-directory markers applied."""
    compression: str = "none"
    """Compression detected on the input: one of COMPRESSIONS."""
    diff_id: str | None = None
    """``sha256:<hex>`` of the uncompressed stream when ``compute_diff_id`` was asked for."""


# --------------------------------------------------------------------------------------------------------
# Extraction


class _Extractor:
    def __init__(self, dest: str, overlay_whiteouts: bool, interpret_whiteouts: bool = True) -> None:
        try:
            self.root_fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise NotFound(f"extraction destination {dest!r} does not exist") from None
        except NotADirectoryError:
            raise InvalidArgument(f"extraction destination {dest!r} is not a directory") from None
        self.dest = dest
        self.overlay = overlay_whiteouts
        self.interpret = interpret_whiteouts
        self.is_root = os.geteuid() == 0
        self.dirs: dict[str, int] = {}
        self.deferred: list[tuple[str, int, int]] = []
        # Paths this archive created, to tell them from lower content when an opaque marker empties a
        # directory (only needed when whiteouts are applied by deleting).
        self.written: set[str] | None = None if overlay_whiteouts else set()
        self.result = ExtractResult()
        self.split: Recorder | None = None

    def close(self) -> None:
        for fd in self.dirs.values():
            os.close(fd)
        self.dirs.clear()
        os.close(self.root_fd)

    # -- directory descriptors -------------------------------------------------------------------------

    def dirfd(self, rel: str, entry: str, create: bool = True) -> int | None:
        """An O_PATH descriptor of the directory ``rel``, reached without following any symlink.

        Missing directories are created (mode 0755) when ``create``, else None is returned. The descriptor
        stays valid until the next call (the cache may close it then).
        """
        if not rel:
            return self.root_fd
        cached = self.dirs.pop(rel, None)
        if cached is not None:
            self.dirs[rel] = cached
            return cached
        parts = rel.split("/")
        depth = len(parts) - 1
        fd = self.root_fd
        while depth > 0:
            found = self.dirs.get("/".join(parts[:depth]))
            if found is not None:
                fd = found
                break
            depth -= 1
        for i in range(depth, len(parts)):
            sub = "/".join(parts[: i + 1])
            name = parts[i]
            try:
                fd = os.open(name, _O_PATHDIR, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    return None
                try:
                    os.mkdir(name, 0o755, dir_fd=fd)
                except FileExistsError:
                    pass
                if self.written is not None:
                    self.written.add(sub)
                fd = self._open_dir_component(name, fd, sub, entry)
            except OSError as e:
                if e.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                fd = self._open_dir_component(name, fd, sub, entry)
            self.dirs[sub] = fd
        while len(self.dirs) > _DIR_CACHE_SIZE:
            oldest = next(iter(self.dirs))
            os.close(self.dirs.pop(oldest))
        return fd

    def _open_dir_component(self, name: str, pfd: int, rel: str, entry: str) -> int:
        try:
            return os.open(name, _O_PATHDIR, dir_fd=pfd)
        except OSError as e:
            if e.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
        st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            raise UnsafeArchive(
                f"refusing to extract {entry!r}: {rel!r} is a symbolic link and writing through it "
                "could leave the destination"
            )
        raise UnsafeArchive(f"cannot extract {entry!r}: {rel!r} is not a directory")

    def forget(self, rel: str) -> None:
        """Drop cached descriptors of ``rel`` and everything below it (it was removed or replaced)."""
        prefix = rel + "/"
        for key in [k for k in self.dirs if k == rel or k.startswith(prefix)]:
            os.close(self.dirs.pop(key))

    # -- removal ---------------------------------------------------------------------------------------

    def remove(self, pfd: int, name: str, rel: str) -> bool:
        """Remove ``name`` in ``pfd`` whatever it is (a directory with its content); False if absent."""
        try:
            st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        if self.split is not None:
            self.split.removed(rel)
        if stat.S_ISDIR(st.st_mode):
            self.forget(rel)
            shutil.rmtree(name, dir_fd=pfd)
        else:
            os.unlink(name, dir_fd=pfd)
        return True

    # -- one entry -------------------------------------------------------------------------------------

    def apply(self, e: Entry, stream: TarStream) -> None:
        try:
            rel = clean_name(e.name)
        except Escape:
            raise UnsafeArchive(f"refusing to extract {e.name!r}: the path leaves the destination") from None
        _check_path(rel, e.name)
        if not rel:
            if e.type != tarfile.DIRTYPE:
                raise UnsafeArchive(f"refusing to extract {e.name!r}: it would replace the destination")
            stream.skip(e.size + padding(e.size))  # like Docker, the root's own metadata is not applied
            return
        parent, _, base = rel.rpartition("/")
        if self.interpret and ".wh." in rel:
            if self._whiteout_entry(e, rel, parent, base, stream):
                return
        pfd = self.dirfd(parent, e.name)
        assert pfd is not None
        kind = e.type
        if kind in REGULAR:
            self._file(pfd, base, rel, e, stream)
        elif kind == tarfile.DIRTYPE:
            self._dir(pfd, base, rel, e)
        elif kind == tarfile.SYMTYPE:
            self._symlink(pfd, base, rel, e)
        elif kind == tarfile.LNKTYPE:
            self._hardlink(pfd, base, rel, e)
        elif kind in (tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE):
            self._node(pfd, base, rel, e)
        else:
            raise UnsafeArchive(f"refusing to extract {e.name!r}: unsupported tar entry type {kind!r}")
        if self.written is not None:
            self.written.add(rel)
        self.result.entries += 1

    def _whiteout_entry(self, e: Entry, rel: str, parent: str, base: str, stream: TarStream) -> bool:
        """Handle whiteout markers and AUFS metadata; True when the entry was consumed."""
        for part in parent.split("/"):
            if part.startswith(wh.WHITEOUT_META_PREFIX):
                stream.skip(e.size + padding(e.size))  # AUFS bookkeeping (.wh..wh.plnk/...)
                return True
            if part.startswith(wh.WHITEOUT_PREFIX):
                raise UnsafeArchive(f"refusing to extract {e.name!r}: a whiteout cannot be a directory")
        if not base.startswith(wh.WHITEOUT_PREFIX):
            return False
        stream.skip(e.size + padding(e.size))
        if wh.is_opaque_marker(base):
            self._opaque(parent, e)
        elif wh.is_meta_name(base):
            return True
        else:
            try:
                target = wh.whiteout_target(base)
            except UnsafeArchive:
                raise UnsafeArchive(f"refusing to extract {e.name!r}: invalid whiteout name") from None
            self._whiteout(parent, target, e)
        self.result.entries += 1
        self.result.whiteouts += 1
        return True

    def _whiteout(self, parent: str, target: str, e: Entry) -> None:
        target_rel = join_name(parent, target)
        if self.overlay:
            pfd = self.dirfd(parent, e.name)
            assert pfd is not None
            self.remove(pfd, target, target_rel)
            try:
                wh.make_overlay_whiteout(target, dir_fd=pfd)
            except PermissionError:
                raise RuntimeFailure(
                    f"cannot unpack whiteout {e.name!r}: overlay whiteouts are device nodes and need root"
                ) from None
            os.utime(target, ns=(e.mtime_ns, e.mtime_ns), dir_fd=pfd, follow_symlinks=False)
        else:
            found = self.dirfd(parent, e.name, create=False)
            if found is not None:
                self.remove(found, target, target_rel)

    def _opaque(self, parent: str, e: Entry) -> None:
        dfd = self.dirfd(parent, e.name)
        assert dfd is not None
        if self.overlay:
            fd = os.open(".", O_DIR, dir_fd=dfd)
            try:
                wh.set_opaque(fd)
            except PermissionError:
                raise RuntimeFailure(
                    f"cannot unpack opaque marker {e.name!r}: trusted.overlay xattrs need root"
                ) from None
            finally:
                os.close(fd)
            return
        assert self.written is not None
        self._clear_lower(dfd, parent)

    def _clear_lower(self, dfd: int, rel: str) -> None:
        """Remove what below ``rel`` was not written by this archive (an opaque directory's lower content)."""
        assert self.written is not None
        for name in list_dir(dfd):
            child = join_name(rel, name)
            if child not in self.written:
                self.remove(dfd, name, child)
                continue
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                cfd = os.open(name, _O_PATHDIR, dir_fd=dfd)
                try:
                    self._clear_lower(cfd, child)
                finally:
                    os.close(cfd)

    def _create(self, pfd: int, name: str, rel: str, make: Callable[[], None]) -> None:
        try:
            make()
        except FileExistsError:
            self.remove(pfd, name, rel)
            make()

    def _file(self, pfd: int, name: str, rel: str, e: Entry, stream: TarStream) -> None:
        stream.expect(e.size, repr(e.name))
        try:
            fd = os.open(name, _O_NEWFILE, 0o600, dir_fd=pfd)
        except FileExistsError:
            self.remove(pfd, name, rel)
            fd = os.open(name, _O_NEWFILE, 0o600, dir_fd=pfd)
        if self.split is not None:
            self.split.file(rel, e.size)
        try:
            stream.copy_to(fd, e.size)
            if self.is_root:
                os.fchown(fd, e.uid, e.gid)
            os.fchmod(fd, e.mode)
            self._xattrs(fd, e)
            os.utime(fd, ns=(e.mtime_ns, e.mtime_ns))
        finally:
            os.close(fd)
        stream.skip(padding(e.size))
        self.result.bytes += e.size

    def _dir(self, pfd: int, name: str, rel: str, e: Entry) -> None:
        try:
            os.mkdir(name, 0o700, dir_fd=pfd)
        except FileExistsError:
            st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode):
                self.remove(pfd, name, rel)
                os.mkdir(name, 0o700, dir_fd=pfd)
        if self.is_root:
            os.chown(name, e.uid, e.gid, dir_fd=pfd, follow_symlinks=False)
        if e.xattrs:
            fd = os.open(name, O_DIR, dir_fd=pfd)
            try:
                self._xattrs(fd, e)
            finally:
                os.close(fd)
        self.deferred.append((rel, e.mode, e.mtime_ns))

    def _symlink(self, pfd: int, name: str, rel: str, e: Entry) -> None:
        target = e.linkname  # kept verbatim: extraction never follows it
        if not target or "\0" in target:
            raise UnsafeArchive(f"refusing to extract symlink {e.name!r}: invalid target {target!r}")
        self._create(pfd, name, rel, lambda: os.symlink(target, name, dir_fd=pfd))
        if self.is_root:
            os.chown(name, e.uid, e.gid, dir_fd=pfd, follow_symlinks=False)
        self._path_xattrs(pfd, name, e)
        os.utime(name, ns=(e.mtime_ns, e.mtime_ns), dir_fd=pfd, follow_symlinks=False)

    def _hardlink(self, pfd: int, name: str, rel: str, e: Entry) -> None:
        try:
            target = clean_name(e.linkname)
        except Escape:
            target = ""
        if not target:
            raise UnsafeArchive(
                f"refusing to extract hardlink {e.name!r} -> {e.linkname!r}: it points outside the destination"
            )
        _check_path(target, e.name)
        if target == rel:
            return
        if target.startswith(rel + "/"):
            raise UnsafeArchive(f"cannot extract hardlink {e.name!r}: its target {e.linkname!r} is inside it")
        tparent, _, tname = target.rpartition("/")
        tfd = self.dirfd(tparent, e.name, create=False)
        if tfd is None:
            raise UnsafeArchive(
                f"cannot extract hardlink {e.name!r}: its target {e.linkname!r} does not exist"
            )
        tfd = os.dup(tfd)
        try:
            pfd2 = self.dirfd(rel.rpartition("/")[0], e.name)
            assert pfd2 is not None
            try:
                tst = os.stat(tname, dir_fd=tfd, follow_symlinks=False)
            except FileNotFoundError:
                raise UnsafeArchive(
                    f"cannot extract hardlink {e.name!r}: its target {e.linkname!r} does not exist"
                ) from None
            if stat.S_ISDIR(tst.st_mode):
                raise UnsafeArchive(
                    f"refusing to extract hardlink {e.name!r}: its target {e.linkname!r} is a directory"
                )
            try:
                os.link(tname, name, src_dir_fd=tfd, dst_dir_fd=pfd2, follow_symlinks=False)
            except FileExistsError:
                st = os.stat(name, dir_fd=pfd2, follow_symlinks=False)
                if (st.st_dev, st.st_ino) == (tst.st_dev, tst.st_ino):
                    return
                self.remove(pfd2, name, rel)
                os.link(tname, name, src_dir_fd=tfd, dst_dir_fd=pfd2, follow_symlinks=False)
        except OSError as err:
            if err.errno != errno.EMLINK:
                raise
            raise UnsafeArchive(
                f"cannot extract hardlink {e.name!r}: its target {e.linkname!r} has too many links"
            ) from None
        finally:
            os.close(tfd)

    def _node(self, pfd: int, name: str, rel: str, e: Entry) -> None:
        if e.type == tarfile.FIFOTYPE:
            fmt = stat.S_IFIFO
            device = 0
        else:
            if not self.is_root:
                raise UnsafeArchive(
                    f"cannot extract device node {e.name!r}: device nodes can only be created by root"
                )
            fmt = stat.S_IFCHR if e.type == tarfile.CHRTYPE else stat.S_IFBLK
            device = os.makedev(e.devmajor, e.devminor)
        self._create(pfd, name, rel, lambda: os.mknod(name, fmt | 0o600, device, dir_fd=pfd))
        if fmt == stat.S_IFIFO:
            # A FIFO opened for reading without blocking gives a descriptor to set everything through.
            fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=pfd)
            try:
                if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                    raise UnsafeArchive(f"{e.name!r} was replaced while it was being extracted")
                if self.is_root:
                    os.fchown(fd, e.uid, e.gid)
                os.fchmod(fd, e.mode)
                self._xattrs(fd, e)
                os.utime(fd, ns=(e.mtime_ns, e.mtime_ns))
            finally:
                os.close(fd)
            return
        # Device nodes are never opened (that can have side effects); they are set by name in their
        # directory, after checking that the name still is the node just made.
        st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
        if stat.S_IFMT(st.st_mode) != fmt or st.st_rdev != device:
            raise UnsafeArchive(f"{e.name!r} was replaced while it was being extracted")
        os.chown(name, e.uid, e.gid, dir_fd=pfd, follow_symlinks=False)
        os.chmod(name, e.mode, dir_fd=pfd)
        self._path_xattrs(pfd, name, e)
        os.utime(name, ns=(e.mtime_ns, e.mtime_ns), dir_fd=pfd, follow_symlinks=False)

    def _path_xattrs(self, pfd: int, name: str, e: Entry) -> None:
        """Set xattrs on an entry that cannot be opened (a symlink, a device), through /proc/self/fd."""
        if not e.xattrs:
            return
        try:
            self._xattrs(proc_path(pfd, name), e)
        except FileNotFoundError:
            if os.path.isdir("/proc/self/fd"):
                raise
            # No /proc in this mount namespace: attributes on symlinks and devices cannot be set safely.

    def _xattrs(self, target: int | str, e: Entry, follow: bool = False) -> None:
        for key, value in e.xattrs.items():
            if wh.is_overlay_xattr(key) or not key or "\0" in key:
                continue  # never trust overlayfs' own attributes from an archive; skip what no file can have
            try:
                if isinstance(target, int):
                    os.setxattr(target, key, value)
                else:
                    os.setxattr(target, key, value, follow_symlinks=follow)
            except OSError as err:
                # Like tar: an attribute the filesystem or our privileges cannot hold is skipped.
                if err.errno not in (
                    errno.ENOTSUP,
                    errno.EOPNOTSUPP,
                    errno.EPERM,
                    errno.EACCES,
                    errno.EINVAL,
                    errno.ERANGE,  # a name or value too long for the filesystem
                    errno.E2BIG,
                    errno.ENAMETOOLONG,
                ):
                    raise

    def finish(self) -> None:
        """Set directory modes and mtimes, now that their content is complete."""
        for rel, mode, mtime_ns in self.deferred:
            parent, _, name = rel.rpartition("/")
            try:
                pfd = self.dirfd(parent, rel, create=False)
            except UnsafeArchive:
                continue  # a parent was replaced by a symlink later in the archive
            if pfd is None:
                continue
            try:
                fd = os.open(name, O_DIR, dir_fd=pfd)
            except (FileNotFoundError, NotADirectoryError):
                continue  # removed or replaced later in the archive
            except OSError as e:
                if e.errno == errno.ELOOP:
                    continue
                raise
            try:
                os.fchmod(fd, mode)
                os.utime(fd, ns=(mtime_ns, mtime_ns))
            finally:
                os.close(fd)


def _check_path(rel: str, name: str) -> None:
    """Refuse a cleaned path that no filesystem takes (a component longer than NAME_MAX) or that is too deep
    to remove again."""
    parts = rel.split("/")
    shown = name if len(name) <= 80 else name[:80] + "..."
    if len(parts) > limits.MAX_PATH_DEPTH:
        raise UnsafeArchive(
            f"refusing to extract {shown!r}: the path is more than {limits.MAX_PATH_DEPTH} levels deep"
        )
    for part in parts:
        if len(part) > limits.MAX_COMPONENT_BYTES // 4 and (
            len(part.encode("utf-8", "surrogateescape")) > limits.MAX_COMPONENT_BYTES
        ):
            raise UnsafeArchive(
                f"refusing to extract {shown!r}: file name too long (more than {limits.MAX_COMPONENT_BYTES} bytes)"
            )


def extract_layer(
    fileobj: Readable | BinaryIO,
    dest: str,
    *,
    overlay_whiteouts: bool = True,
    interpret_whiteouts: bool = True,
    compute_diff_id: bool = False,
    split: Recorder | None = None,
) -> ExtractResult:
    """Extract the tar stream ``fileobj`` (plain or compressed) below the existing directory ``dest``.

    The stream is read forward only. With ``overlay_whiteouts`` OCI whiteouts become overlayfs ones (a
    char device 0/0 for ``.wh.NAME``, ``trusted.overlay.opaque=y`` for ``.wh..wh..opq``); without, they
    delete from ``dest`` (an opaque marker removes what this archive did not write in its directory).
    ``interpret_whiteouts=False`` is for ordinary archives (``docker cp``, ``ADD``): ``.wh.`` names are
    then plain names, extracted as they are.
    ``compute_diff_id`` hashes the uncompressed stream (including anything after the end-of-archive
    marker, which is read to the end). Raises UnsafeArchive on an entry that would leave ``dest`` or is
    malformed, or when the archive goes beyond a bound of ``limits`` (its entries and unpacked bytes, counted
    against ``limits.current()``, the lengths and depth of its names); what was extracted before stays in
    place. ``split`` records the uncompressed stream (``split.Recorder``) so that it can be regenerated
    from ``dest``.
    """
    x = _Extractor(dest, overlay_whiteouts, interpret_whiteouts)
    prefetch: Prefetcher | None = None
    budget = limits.current()
    try:
        reader, compression = open_decompressed(fileobj)
        read = reader.read
        prefetch = Prefetcher(read) if compression != "none" else None
        hasher = hashlib.sha256() if compute_diff_id else None
        stream = TarStream(prefetch.read if prefetch else read, hasher, budget)
        if split is not None and compression == "none":
            stream.split = x.split = split
        elif split is not None:
            split.broken = True
        while (entry := next_entry(stream)) is not None:
            budget.entry(entry.name)
            x.apply(entry, stream)
        x.finish()
        stream.drain()
    finally:
        x.close()
        if prefetch is not None:
            prefetch.close()
    result = x.result
    result.tar_bytes = stream.total
    result.compression = compression
    if hasher is not None:
        result.diff_id = "sha256:" + hasher.hexdigest()
    return result
