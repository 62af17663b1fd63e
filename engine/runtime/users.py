"""Resolve ``-u USER[:GROUP]`` against an image's /etc/passwd and /etc/group, read as plain data.

Never through NSS (``pwd.getpwnam`` would load the host's or, worse, the image's libraries). The files are
opened with openat2(RESOLVE_IN_ROOT) under the root directory, so an image whose /etc/passwd is a symlink
to a host path (``/etc/passwd -> /host/etc/shadow``, ``../../..``) still reads inside the image. Only regular
files are read, at most 4 MiB of each.

Rules, as Docker's: ``name``, ``uid``, ``name:group``, ``uid:gid``, ``:group``; a numeric id need not exist
in the files (uid 1000 alone gives gid 0 and home /); an empty user means root; when the user is found and no
group is given, the groups that list the user as a member are its additional groups.
"""

from __future__ import annotations

import os
import stat

from engine.errors import InvalidArgument
from engine.kernel import syscalls

MAX_ID = 2**31 - 1
_MAX_FILE = 4 << 20


def _read_in_root(rootfs: str, path: str) -> str | None:
    """The text of ``path`` resolved inside ``rootfs``, or None if it is missing or not a regular file."""
    root_fd = os.open(rootfs, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
        resolve = syscalls.RESOLVE_IN_ROOT | syscalls.RESOLVE_NO_MAGICLINKS
        try:
            fd = syscalls.openat2(root_fd, path.lstrip("/"), flags, 0, resolve)
        except OSError:
            return None
    finally:
        os.close(root_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks = []
        size = 0
        while size < _MAX_FILE:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)[:_MAX_FILE].decode("utf-8", "replace")
    finally:
        os.close(fd)


def _entries(text: str | None, fields: int) -> list[list[str]]:
    if not text:
        return []
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        parts += [""] * (fields - len(parts))
        rows.append(parts)
    return rows


def _as_id(text: str) -> int | None:
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    if value > MAX_ID:
        raise InvalidArgument(f"uids and gids must be in range 0-{MAX_ID}")
    return value


def _id_field(text: str) -> int | None:
    try:
        value = int(text)
    except ValueError:
        return None
    return value if 0 <= value <= MAX_ID else None


def resolve_user(rootfs: str, user: str) -> tuple[int, int, list[int], str]:
    """Return (uid, gid, additional gids, home) for ``user`` in the image rooted at ``rootfs``."""
    user_arg, _, group_arg = (user or "").partition(":")
    uid_arg = _as_id(user_arg) if user_arg else 0
    gid_arg = _as_id(group_arg) if group_arg else None

    uid, gid, home = 0, 0, "/"
    matched_name: str | None = None
    passwd = _entries(_read_in_root(rootfs, "/etc/passwd"), 7)
    for name, _pw, uid_s, gid_s, _gecos, home_s, *_rest in passwd:
        entry_uid = _id_field(uid_s)
        if entry_uid is None:
            continue
        if (user_arg and name == user_arg) or (uid_arg is not None and entry_uid == uid_arg):
            uid, matched_name, home = entry_uid, name, home_s or "/"
            gid = _id_field(gid_s) or 0
            break
    else:
        if uid_arg is None:
            raise InvalidArgument(f"unable to find user {user_arg}: no matching entries in passwd file")
        uid = uid_arg

    groups: list[int] = []
    group_rows = _entries(_read_in_root(rootfs, "/etc/group"), 4) if (group_arg or matched_name) else []
    if group_arg:
        for name, _pw, gid_s, *_members in group_rows:
            entry_gid = _id_field(gid_s)
            if entry_gid is not None and (name == group_arg or entry_gid == gid_arg):
                gid = entry_gid
                break
        else:
            if gid_arg is None:
                raise InvalidArgument(f"unable to find group {group_arg}: no matching entries in group file")
            gid = gid_arg
    elif matched_name is not None:
        for _name, _pw, gid_s, members, *_rest in group_rows:
            entry_gid = _id_field(gid_s)
            if entry_gid is not None and matched_name in members.split(",") and entry_gid not in groups:
                groups.append(entry_gid)
    return uid, gid, groups, home
