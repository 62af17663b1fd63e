"""Where containers' cgroups go: the parent cgroup, chosen once for each engine root.

A container's cgroup is ``<anchor>/<parent name>/<container id>`` in each hierarchy it uses. The anchor is
a cgroup that exists already: by default the cgroup of the calling process, or the hierarchy's root for an
absolute parent such as ``/dockyard``. ``CgroupParent`` says both; ``CgroupParent.of`` reads a parent given
as text ("dockyard", "a/b", "/dockyard").

An engine root's parent is recorded once, when the root is made (``Engine``), in ``<root>/cgroup-parent``:
its name (``dockyard`` for the default root, ``dockyard-<hash>`` for any other) and the cgroups the process
that made the root ran in (its /proc/self/cgroup). Every process working on that root, whatever cgroup it
runs in itself, then finds all the root's containers below that same anchor (``parent_for_root``), and no
container is made outside the cgroup of the process that made its root. If that cgroup is gone (the machine
restarted, or the session that made the root has ended), none of the root's containers can be in it: the
next process that needs the parent records it again, below its own cgroup.

The parent's directories stay between containers (no mkdir and rmdir on every start); ``list_leftovers``
finds the container cgroups below a parent and ``remove_parent`` removes a parent once it is empty.
"""

from __future__ import annotations

import os
import posixpath

from engine.errors import InvalidArgument, RuntimeFailure
from engine.lean.record import record
from engine.paths import DEFAULT_ROOT, Layout
from engine.runtime.cgroups.detect import CgroupSystem, Hierarchy, detect

from ...lean.tools import suppress

#: The parent of the default engine root's containers.
DEFAULT_PARENT = "dockyard"
#: The file in a container's directory naming the cgroup path (below its root's parent) it was created with.
SUBPARENT_FILE = "cgroup-parent"


def is_relative_parent(path: str) -> bool:
    """A ``--cgroup-parent`` dockyard takes: relative, each level a plain name (no ``.``, ``..``, NUL), and
    no level that could be taken for a container's cgroup (64 hex digits)."""
    parts = path.split("/")
    return (
        not path.startswith("/")
        and all(p and p not in (".", "..") and "\0" not in p and not _is_id(p) for p in parts)
        and len(path) < 1024
    )


def _is_id(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


@record(frozen=True)
class CgroupParent:
    """A parent cgroup: ``name`` (one level or more) below an anchor cgroup in each hierarchy.

    ``anchors`` maps a hierarchy (``Hierarchy.key``) to the cgroup path the parent is made below; a
    hierarchy it does not name, or every one when it is None, uses the calling process's own cgroup.
    ``at_root``: the parent starts at each hierarchy's root (an absolute parent).
    """

    name: str
    anchors: dict[str, str] | None = None
    at_root: bool = False
    #: The engine root whose containers go below this parent (``parent_for_root``): a container made with
    #: ``--cgroup-parent`` records the path it asked for in its directory there (``SUBPARENT_FILE``).
    root: str | None = None

    def for_container(self, container_id: str) -> CgroupParent:
        """The parent of one container: this one, or the path below it that the container was created
        with (``--cgroup-parent``)."""
        if not self.root:
            return self
        try:
            with open(os.path.join(self.root, "containers", container_id, SUBPARENT_FILE), "rb") as f:
                sub = f.read().decode("utf-8", "replace").strip()
        except OSError:
            return self
        if not sub or not is_relative_parent(sub):
            return self
        return CgroupParent(f"{self.name}/{sub}", self.anchors, self.at_root)

    @classmethod
    def of(cls, parent: str | CgroupParent | None) -> CgroupParent:
        """A parent given as text: relative ("dockyard", "a/b") below the caller's own cgroup, absolute
        ("/dockyard") from the root; None is ``DEFAULT_PARENT``. InvalidArgument for "", "." or ".."."""
        if isinstance(parent, CgroupParent):
            return parent
        text = parent or DEFAULT_PARENT
        parts = [p for p in text.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts) or "\0" in text:
            raise InvalidArgument(f"invalid cgroup parent {text!r}")
        return cls("/".join(parts), at_root=text.startswith("/"))

    def __str__(self) -> str:
        return ("/" if self.at_root else "") + self.name

    def anchor(self, h: Hierarchy) -> str:
        """The existing cgroup the parent is made below, in hierarchy ``h``."""
        if self.at_root:
            return "/"
        if self.anchors is not None:
            recorded = self.anchors.get(h.key)
            if recorded is not None:
                return recorded
        return h.own

    def path(self, h: Hierarchy) -> str:
        """The parent's cgroup path in hierarchy ``h``."""
        return posixpath.join(self.anchor(h), self.name)

    def dir(self, h: Hierarchy) -> str:
        """The parent's directory in hierarchy ``h``."""
        return h.dir_for(self.path(h))

    def levels(self, h: Hierarchy, leaf: str) -> list[str]:
        """The directories from just below the anchor down to cgroup ``leaf`` (a path below the parent),
        top first: what has to exist for ``leaf`` to."""
        anchor = posixpath.normpath(self.anchor(h))
        out = []
        path = anchor
        for part in posixpath.relpath(leaf, anchor).split("/"):
            path = posixpath.join(path, part)
            out.append(h.dir_for(path))
        return out


# --- the parent of an engine root ----------------------------------------------------------------------


def parent_for_root(root: str) -> CgroupParent:
    """The parent of the containers of engine root ``root``, as recorded when the root was made.

    Engines with different roots must not share a parent, or one's recovery pass would remove the other's
    containers. A root without a record (or with one whose anchor is gone) gets one now, below the calling
    process's cgroups; where the root does not exist, nothing is written.
    """
    root = os.path.abspath(root)
    found = _parent_for_root(root)
    return CgroupParent(found.name, found.anchors, found.at_root, root)


def _parent_for_root(root: str) -> CgroupParent:
    path = Layout(root).cgroup_parent
    recorded = _read(path)
    if recorded is not None and not _gone(recorded):
        return recorded
    with suppress(OSError):
        with open("/proc/self/cgroup", encoding="utf-8") as f:
            text = f"{_name_for(root)}\n{f.read()}"
        made = _parse(text)
        if made is not None and os.path.isdir(root):
            return _write(path, text, replace=recorded is not None) or made
        if made is not None:
            return made
    return CgroupParent(_name_for(root))


def _name_for(root: str) -> str:
    """``dockyard`` for the default root, ``dockyard-<CRC-32 of the root's path>`` for any other.
    (CRC-32 names them well enough; hashlib would load OpenSSL.)"""
    import zlib

    if root == DEFAULT_ROOT:
        return DEFAULT_PARENT
    return f"{DEFAULT_PARENT}-{zlib.crc32(root.encode()):08x}"


def _parse(text: str) -> CgroupParent | None:
    """A record: the parent's name on the first line, then the /proc/self/cgroup of the process that made
    it ("<id>:<controllers>:<path>" lines). None if it is not one."""
    name, _, rest = text.partition("\n")
    anchors: dict[str, str] = {}
    for line in rest.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hid, controllers, cgroup = parts
        if hid == "0" and controllers == "":
            anchors[""] = cgroup
            continue
        for c in controllers.split(","):
            if c and not c.startswith("name="):
                anchors[c] = cgroup  # each controller names its hierarchy (see Hierarchy.key)
    try:
        parent = CgroupParent.of(name.strip())
    except InvalidArgument:
        return None
    if parent.at_root or not anchors:
        return None
    return CgroupParent(parent.name, anchors)


def _read(path: str) -> CgroupParent | None:
    try:
        with open(path, encoding="utf-8") as f:
            return _parse(f.read())
    except (OSError, UnicodeDecodeError):
        return None


def _gone(parent: CgroupParent) -> bool:
    """True if the cgroup the parent was recorded below no longer exists in a hierarchy containers use."""
    try:
        system = detect()
    except RuntimeFailure:
        return False
    for h in system.container_hierarchies():
        anchor = parent.anchors.get(h.key) if parent.anchors is not None else None
        if anchor is None or (anchor != "/" and not os.path.isdir(h.dir_for(anchor))):
            return True
    return False


def _write(path: str, text: str, replace: bool) -> CgroupParent | None:
    """Record ``text`` at ``path`` (atomically; a record another process made meanwhile wins unless
    ``replace``) and return the record that is there now; None if it cannot be written."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, text.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        if replace:
            os.replace(tmp, path)
        else:
            with suppress(FileExistsError):
                os.link(tmp, path)
    except OSError:
        return None
    finally:
        with suppress(OSError):
            os.unlink(tmp)
    return _read(path)


# --- what is below a parent --------------------------------------------------------------------------------


def _parent_dirs(parent: str | CgroupParent | None, system: CgroupSystem) -> list[str]:
    p = CgroupParent.of(parent)
    return [p.dir(h) for h in system.container_hierarchies()]


def list_leftovers(parent: str | CgroupParent | None = None, system: CgroupSystem | None = None) -> list[str]:
    """The container ids that have a cgroup below ``parent`` in any hierarchy (directly, or below the
    paths containers were created with ``--cgroup-parent``)."""
    return sorted({cid for cid, _sub in list_leftovers_at(parent, system)})


def list_leftovers_at(
    parent: str | CgroupParent | None = None, system: CgroupSystem | None = None
) -> set[tuple[str, str]]:
    """(container id, the path below ``parent`` its cgroup is in, "" for directly) of every container
    cgroup below ``parent``; a directory whose name is no container id and that has cgroups below it is a
    ``--cgroup-parent`` level."""
    found: set[tuple[str, str]] = set()

    def scan(d: str, sub: str, depth: int) -> None:
        with suppress(FileNotFoundError, NotADirectoryError, PermissionError):
            with os.scandir(d) as it:
                for e in it:
                    if not e.is_dir(follow_symlinks=False):
                        continue
                    if _is_id(e.name) or depth >= 16 or not _has_subdirs(e.path):
                        found.add((e.name, sub))
                    else:
                        scan(e.path, f"{sub}/{e.name}" if sub else e.name, depth + 1)

    for d in _parent_dirs(parent, system or detect()):
        scan(d, "", 0)
    return found


def _has_subdirs(path: str) -> bool:
    with suppress(OSError):
        with os.scandir(path) as it:
            return any(e.is_dir(follow_symlinks=False) for e in it)
    return False


def _remove_sublevels(d: str, depth: int = 0) -> None:
    """rmdir the empty ``--cgroup-parent`` levels below a parent directory, deepest first."""
    with suppress(OSError):
        with os.scandir(d) as it:
            subs = [e.path for e in it if e.is_dir(follow_symlinks=False) and not _is_id(e.name)]
        for sub in subs:
            if depth < 16:
                _remove_sublevels(sub, depth + 1)
            with suppress(OSError):
                os.rmdir(sub)


def remove_parent(parent: str | CgroupParent | None = None, system: CgroupSystem | None = None) -> None:
    """Remove the parent's directories where they are empty: the ``--cgroup-parent`` levels below it, every
    level of a relative parent's name (never its anchor), the last level of an absolute one."""
    p = CgroupParent.of(parent)
    depth = 1 if p.at_root else len(p.name.split("/"))
    for d in _parent_dirs(p, system or detect()):
        _remove_sublevels(d)
        for _ in range(depth):
            try:
                os.rmdir(d)
            except OSError:
                break
            d = os.path.dirname(d)
