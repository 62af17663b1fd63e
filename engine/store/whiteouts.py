"""Deletion markers in layers: OCI whiteout names and their overlayfs equivalents.

An OCI layer tar marks a deleted path ``dir/NAME`` with an empty file ``dir/.wh.NAME`` and a directory whose
lower content is hidden ("opaque") with ``dir/.wh..wh..opq``. overlayfs expresses the same on disk: a
deletion is a character device 0/0 named ``NAME`` and an opaque directory carries the xattr
``trusted.overlay.opaque=y``. dockyard unpacks layers into the overlayfs form (so the directories can be
stacked as lowerdirs directly) and converts back when it writes a layer tar from a container's upper dir.
"""

from __future__ import annotations

import errno
import os
import stat

from engine.errors import UnsafeArchive

WHITEOUT_PREFIX = ".wh."
"""Prefix of an OCI whiteout file: ``.wh.NAME`` deletes ``NAME``."""

WHITEOUT_META_PREFIX = ".wh..wh."
"""Prefix of AUFS bookkeeping entries (``.wh..wh.plnk``, ``.wh..wh.aufs``); never part of the image."""

OPAQUE_MARKER = ".wh..wh..opq"
"""OCI marker file making its directory opaque (lower layers' content of it is hidden)."""

OVERLAY_XATTR_PREFIXES = ("trusted.overlay.", "user.overlay.")
"""overlayfs' private xattrs; never taken from an archive and never written into one."""

OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque"


def is_opaque_marker(name: str) -> bool:
    return name == OPAQUE_MARKER


def is_meta_name(name: str) -> bool:
    """True for AUFS bookkeeping names (``.wh..wh.*``) other than the opaque marker."""
    return name.startswith(WHITEOUT_META_PREFIX) and name != OPAQUE_MARKER


def whiteout_name(name: str) -> str:
    """The OCI whiteout file name that deletes ``name``."""
    return WHITEOUT_PREFIX + name


def whiteout_target(name: str) -> str:
    """The name deleted by the whiteout base name ``name`` (``.wh.foo`` -> ``foo``).

    Raises UnsafeArchive for names that would delete nothing or climb out of the directory
    (``.wh.``, ``.wh..``, ``.wh...``) or contain a slash.
    """
    if not name.startswith(WHITEOUT_PREFIX):
        raise ValueError(f"{name!r} is not a whiteout name")
    target = name[len(WHITEOUT_PREFIX) :]
    if target in ("", ".", "..") or "/" in target or "\0" in target:
        raise UnsafeArchive(f"invalid whiteout name {name!r}")
    return target


def is_overlay_xattr(name: str) -> bool:
    """True for overlayfs' private xattrs (``trusted.overlay.*``, ``user.overlay.*``)."""
    return name.startswith(OVERLAY_XATTR_PREFIXES)


def is_overlay_whiteout(st: os.stat_result) -> bool:
    """True when ``st`` (from lstat) is an overlayfs whiteout: a character device with number 0/0."""
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def make_overlay_whiteout(path: str, *, dir_fd: int | None = None) -> None:
    """Create an overlayfs whiteout (char device 0/0, mode 0, owned by root) at ``path``.

    ``path`` must not exist. Needs CAP_MKNOD (root).
    """
    try:
        os.mknod(path, stat.S_IFCHR, os.makedev(0, 0), dir_fd=dir_fd)
    except PermissionError as e:
        raise PermissionError(e.errno, "creating an overlay whiteout needs root (CAP_MKNOD)", path) from None
    if os.geteuid() == 0:
        os.chown(path, 0, 0, dir_fd=dir_fd, follow_symlinks=False)


def is_opaque_dir(path: str | int) -> bool:
    """True when the directory ``path`` (a path, not followed if a symlink, or an open fd) is overlay-opaque."""
    try:
        if isinstance(path, int):
            value = os.getxattr(path, OVERLAY_OPAQUE_XATTR)
        else:
            value = os.getxattr(path, OVERLAY_OPAQUE_XATTR, follow_symlinks=False)
    except OSError as e:
        if e.errno in (errno.ENODATA, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOENT, errno.EPERM):
            return False
        raise
    return value == b"y"


def set_opaque(path: str | int) -> None:
    """Mark the directory ``path`` (a path or an open directory fd) opaque for overlayfs. Needs root."""
    if isinstance(path, int):
        os.setxattr(path, OVERLAY_OPAQUE_XATTR, b"y")
    else:
        os.setxattr(path, OVERLAY_OPAQUE_XATTR, b"y", follow_symlinks=False)
