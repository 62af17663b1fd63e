"""Deterministic layer tars: sorted entries, numeric owners, whole-second mtimes, xattrs, hardlinks by inode,
overlayfs whiteouts and opaque directories turned back into their OCI form; the same tree, the same bytes."""

from __future__ import annotations

import errno
import os
import stat
import tarfile
from typing import BinaryIO

from engine.errors import InvalidArgument, NotFound
from engine.store import whiteouts as wh

from .compression import CHUNK
from .names import O_DIR, proc_path
from .reader import BLOCK, padding

# --------------------------------------------------------------------------------------------------------
# Writing


class _Writer:
    """Buffers headers and small files so that ``out`` sees few, large writes."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.pending = bytearray()
        self.big = bytearray(CHUNK)

    def write(self, data: bytes) -> None:
        self.pending += data
        if len(self.pending) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.out.write(self.pending)
            self.pending = bytearray()

    def file_data(self, fd: int, size: int) -> None:
        """Copy exactly ``size`` bytes of ``fd`` (zero-filled if the file shrank) plus the block padding."""
        remaining = size
        if size <= 64 * 1024:
            data = os.read(fd, size)
            while data and len(data) < size:
                more = os.read(fd, size - len(data))
                if not more:
                    break
                data += more
            self.pending += data
            remaining -= len(data)
        else:
            self.flush()
            view = memoryview(self.big)
            while remaining > 0:
                n = os.readv(fd, [view[: min(remaining, CHUNK)]])
                if n == 0:
                    break
                self.out.write(view[:n])
                remaining -= n
        if remaining > 0:
            self.pending += bytes(remaining)
        self.pending += bytes(padding(size))
        if len(self.pending) >= CHUNK:
            self.flush()

    def close(self) -> None:
        self.pending += bytes(2 * BLOCK)
        self.flush()


def _pax_record(key: bytes, value: bytes) -> bytes:
    """One ``"%d %s=%s\n"`` record; the length counts its own digits."""
    body = b" " + key + b"=" + value + b"\n"
    length = len(body) + len(str(len(body)))
    if len(str(length)) != len(str(len(body))):
        length = len(body) + len(str(length))
    return str(length).encode() + body


def _ustar(
    name: bytes,
    kind: bytes,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    link: bytes,
    dev: tuple[int, int],
) -> bytes:
    block = bytearray(BLOCK)
    block[0 : len(name)] = name
    block[100:108] = b"%07o\0" % mode
    block[108:116] = b"%07o\0" % uid
    block[116:124] = b"%07o\0" % gid
    block[124:136] = b"%011o\0" % size
    block[136:148] = b"%011o\0" % mtime
    block[148:156] = b"        "
    block[156:157] = kind
    block[157 : 157 + len(link)] = link
    block[257:265] = b"ustar\x0000"
    block[329:337] = b"%07o\0" % dev[0]
    block[337:345] = b"%07o\0" % dev[1]
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def _header(
    name: str,
    st: os.stat_result,
    kind: bytes,
    xattrs: dict[str, bytes],
    *,
    size: int = 0,
    linkname: str = "",
    dev: tuple[int, int] = (0, 0),
) -> bytes:
    return tar_header(
        name,
        kind,
        stat.S_IMODE(st.st_mode),
        st.st_uid,
        st.st_gid,
        st.st_mtime_ns // 1_000_000_000,
        size=size,
        linkname=linkname,
        xattrs=xattrs,
        dev=dev,
    )


def tar_header(
    name: str,
    kind: bytes,
    mode: int,
    uid: int,
    gid: int,
    mtime: int,
    *,
    size: int = 0,
    linkname: str = "",
    xattrs: dict[str, bytes] | None = None,
    dev: tuple[int, int] = (0, 0),
) -> bytes:
    """The header block(s) of one entry: a POSIX ustar block, preceded by a PAX extended header when a
    value does not fit (long or non-ASCII names, big numbers) or there are xattrs. Owners are numeric only
    and mtimes whole seconds, so equal trees give equal bytes (the builder writes its layers with it too)."""
    if kind == tarfile.DIRTYPE:
        name += "/"
    raw_name = name.encode("utf-8", "surrogateescape")
    raw_link = linkname.encode("utf-8", "surrogateescape")
    xattrs = xattrs or {}
    records: list[bytes] = []
    if len(raw_name) > 100 or not raw_name.isascii():
        records.append(_pax_record(b"path", raw_name))
        raw_name = raw_name[:100]
    if len(raw_link) > 100 or not raw_link.isascii():
        records.append(_pax_record(b"linkpath", raw_link))
        raw_link = raw_link[:100]
    if not 0 <= uid < 8**7:
        records.append(_pax_record(b"uid", b"%d" % uid))
        uid = 0
    if not 0 <= gid < 8**7:
        records.append(_pax_record(b"gid", b"%d" % gid))
        gid = 0
    if not 0 <= size < 8**11:
        records.append(_pax_record(b"size", b"%d" % size))
    if not 0 <= mtime < 8**11:
        records.append(_pax_record(b"mtime", b"%d" % mtime))
        mtime = 0
    for key in sorted(xattrs):
        records.append(_pax_record(b"SCHILY.xattr." + key.encode("utf-8", "surrogateescape"), xattrs[key]))
    block = _ustar(raw_name, kind, mode, uid, gid, size if size < 8**11 else 0, mtime, raw_link, dev)
    if not records:
        return block
    try:
        (name + linkname).encode("utf-8")
    except UnicodeEncodeError:
        records.insert(0, _pax_record(b"hdrcharset", b"BINARY"))
    data = b"".join(records)
    pax = _ustar(b"././@PaxHeader", tarfile.XHDTYPE, 0, 0, 0, len(data), 0, b"", (0, 0))
    return pax + data + bytes(padding(len(data))) + block


def _read_xattrs(target: int | str) -> dict[str, bytes]:
    try:
        if isinstance(target, int):
            names = os.listxattr(target)
        else:
            names = os.listxattr(target, follow_symlinks=False)
    except OSError as e:
        if e.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            return {}
        raise
    found: dict[str, bytes] = {}
    for key in names:
        if wh.is_overlay_xattr(key):
            continue
        try:
            if isinstance(target, int):
                found[key] = os.getxattr(target, key)
            else:
                found[key] = os.getxattr(target, key, follow_symlinks=False)
        except OSError as e:
            if e.errno != errno.ENODATA:
                raise
    return found


def _sorted_names(dfd: int) -> list[str]:
    return sorted(os.listdir(dfd), key=os.fsencode)


def _name_xattrs(dfd: int, name: str) -> dict[str, bytes]:
    """Xattrs of an entry that cannot be opened (a symlink, a device), read through /proc/self/fd."""
    try:
        return _read_xattrs(proc_path(dfd, name))
    except FileNotFoundError:
        return {}  # gone meanwhile, or no /proc in this mount namespace


def write_layer_tar(src_dir: str, out: BinaryIO, *, overlay_upper: bool = True) -> None:
    """Write the tree below ``src_dir`` to ``out`` as a deterministic PAX tar (the root itself excluded).

    With ``overlay_upper`` the tree is an overlayfs upper directory: whiteouts (char devices 0/0) become
    empty ``.wh.NAME`` files and an opaque directory is followed by a ``DIR/.wh..wh..opq`` entry. Symlinks
    are never followed and sockets are skipped.
    """
    _write_tree(src_dir, out, overlay_upper=overlay_upper, one_file_system=False)


def write_tree_tar(src_dir: str, out: BinaryIO, *, one_file_system: bool = True) -> None:
    """Write a full filesystem tree (an export, a rootfs) as a deterministic tar, with no whiteout
    conversion: device nodes, including 0/0 ones, are archived as devices.

    With ``one_file_system`` (the default) directories that are mount points of another filesystem
    (``/proc``, ``/sys``, volumes) are archived as empty directories, like ``docker export``.
    """
    _write_tree(src_dir, out, overlay_upper=False, one_file_system=one_file_system)


def _write_tree(src_dir: str, out: BinaryIO, *, overlay_upper: bool, one_file_system: bool) -> None:
    try:
        root_fd = os.open(src_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise NotFound(f"directory {src_dir!r} does not exist") from None
    root_dev = os.fstat(root_fd).st_dev
    writer = _Writer(out)
    links: dict[tuple[int, int], str] = {}
    stack: list[tuple[int, str, list[str]]] = [(root_fd, "", _sorted_names(root_fd)[::-1])]
    try:
        while stack:
            dfd, prefix, names = stack[-1]
            if not names:
                stack.pop()
                os.close(dfd)
                continue
            name = names.pop()
            rel = prefix + name
            try:
                st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            mode = st.st_mode
            if stat.S_ISDIR(mode):
                try:
                    cfd = os.open(name, O_DIR, dir_fd=dfd)
                except (FileNotFoundError, NotADirectoryError):
                    continue
                writer.write(_header(rel, st, tarfile.DIRTYPE, _read_xattrs(cfd)))
                if overlay_upper and wh.is_opaque_dir(cfd):
                    writer.write(_header(f"{rel}/{wh.OPAQUE_MARKER}", st, tarfile.REGTYPE, {}))
                if one_file_system and st.st_dev != root_dev:
                    os.close(cfd)  # a mount point: its content belongs to another filesystem
                    continue
                stack.append((cfd, rel + "/", _sorted_names(cfd)[::-1]))
                continue
            if overlay_upper and wh.is_overlay_whiteout(st):
                wname = prefix + wh.whiteout_name(name)
                writer.write(_header(wname, st, tarfile.REGTYPE, {}))
                continue
            if stat.S_ISSOCK(mode):
                continue
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1:
                first = links.get(key)
                if first is not None:
                    writer.write(_header(rel, st, tarfile.LNKTYPE, {}, linkname=first))
                    continue
            if stat.S_ISREG(mode):
                if not _write_file(writer, dfd, name, rel):
                    continue
            elif stat.S_ISLNK(mode):
                try:
                    target = os.readlink(name, dir_fd=dfd)
                except FileNotFoundError:
                    continue
                writer.write(_header(rel, st, tarfile.SYMTYPE, _name_xattrs(dfd, name), linkname=target))
            else:
                kind = {
                    stat.S_IFCHR: tarfile.CHRTYPE,
                    stat.S_IFBLK: tarfile.BLKTYPE,
                    stat.S_IFIFO: tarfile.FIFOTYPE,
                }[stat.S_IFMT(mode)]
                dev = (os.major(st.st_rdev), os.minor(st.st_rdev)) if kind != tarfile.FIFOTYPE else (0, 0)
                writer.write(_header(rel, st, kind, _name_xattrs(dfd, name), dev=dev))
            if st.st_nlink > 1:
                links[key] = rel
        writer.close()
    finally:
        for dfd, _prefix, _names in stack:
            os.close(dfd)


def _write_file(writer: _Writer, dfd: int, name: str, rel: str) -> bool:
    """Archive one regular file; False when it disappeared before it could be opened."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=dfd)
    except FileNotFoundError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InvalidArgument(f"{rel!r} changed while it was being archived")
        writer.write(_header(rel, st, tarfile.REGTYPE, _read_xattrs(fd), size=st.st_size))
        writer.file_data(fd, st.st_size)
    finally:
        os.close(fd)
    return True
