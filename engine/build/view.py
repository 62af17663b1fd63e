"""Reading an image's files without mounting it: the merged view of its unpacked layer directories.

The builder needs to look inside images and earlier stages: where a COPY destination lands (following the
image's symlinks, which must resolve inside the image, never on the host), the metadata of the directories a
new layer writes into, the files ``COPY --from`` takes, and /etc/passwd and /etc/group to resolve
``--chown`` names. :class:`ImageView` answers those from the layer directories (overlay whiteouts on disk),
top-most layer first, the way overlayfs would show them.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterator, Sequence

from engine.errors import BuildError, InvalidArgument
from engine.store import whiteouts as wh
from engine.store.changes import LowerView

__all__ = ["ImageView", "clean_abs"]

_MAX_LINKS = 255


def clean_abs(path: str) -> str:
    """``path`` as a clean absolute path (``..`` cannot climb above ``/``)."""
    out = posixpath.normpath("/" + path)
    return "/" + out.lstrip("/")


class ImageView(LowerView):
    """The merged file tree of layer directories given top-most first (an empty list is ``scratch``)."""

    def __init__(self, dirs_top_first: Sequence[str]) -> None:
        super().__init__(dirs_top_first)

    # -- lookups ----------------------------------------------------------------------------------------
    def stat(self, path: str) -> os.stat_result | None:
        """lstat of the absolute image path ``path`` (symlinks in it are not followed); None if absent."""
        rel = clean_abs(path).lstrip("/")
        if not rel:
            return os.stat(self.top_first[0]) if self.top_first else None
        return self.lookup(rel)

    def host_path(self, path: str) -> str | None:
        """Where the top-most copy of image path ``path`` lies on the host (to read it), or None."""
        rel = clean_abs(path).lstrip("/")
        if not rel:
            return self.top_first[0] if self.top_first else None
        if self.lookup(rel) is None:
            return None
        for layer in self._dir_layers(posixpath.dirname(rel)):
            candidate = os.path.join(layer, rel)
            if os.path.lexists(candidate):
                return candidate
        return None

    def listdir(self, path: str) -> list[str]:
        """Names in the image directory ``path``, sorted ([] when it is not a directory)."""
        return self.children(clean_abs(path).lstrip("/"))

    def resolve(self, path: str, follow_last: bool = True) -> str:
        """The image path ``path`` with every symlink in it resolved inside the image (like openat2's
        RESOLVE_IN_ROOT: ``..`` and absolute targets stop at the image's root). A missing component ends the
        resolution: the rest is appended as written."""
        pending = [p for p in clean_abs(path).split("/") if p]
        done: list[str] = []
        links = 0
        while pending:
            name = pending.pop(0)
            if name in ("", "."):
                continue
            if name == "..":
                if done:
                    done.pop()
                continue
            candidate = "/".join([*done, name])
            st = self.lookup(candidate)
            if st is not None and stat.S_ISLNK(st.st_mode) and (pending or follow_last):
                links += 1
                if links > _MAX_LINKS:
                    raise BuildError(f"too many levels of symbolic links in {path}")
                host = self.host_path("/" + candidate)
                target = os.readlink(host) if host else ""
                if target.startswith("/"):
                    done = []
                pending = [p for p in target.split("/") if p] + pending
                continue
            done.append(name)
            if st is None:
                done.extend(p for p in pending if p not in ("", "."))
                return clean_abs("/".join(done))
        return "/" + "/".join(done)

    def is_dir(self, path: str) -> bool:
        st = self.stat(path)
        return st is not None and stat.S_ISDIR(st.st_mode)

    def walk(self, path: str) -> Iterator[tuple[str, os.stat_result]]:
        """Every path below the image directory ``path`` (relative to it, parents first, sorted) with its
        lstat. Symlinks are not followed."""
        base = clean_abs(path)

        def visit(rel: str) -> Iterator[tuple[str, os.stat_result]]:
            for name in self.listdir(posixpath.join(base, rel) if rel else base):
                child = f"{rel}/{name}" if rel else name
                st = self.stat(posixpath.join(base, child))
                if st is None or wh.is_overlay_whiteout(st):
                    continue
                yield child, st
                if stat.S_ISDIR(st.st_mode):
                    yield from visit(child)

        yield from visit("")

    def read(self, path: str, limit: int = 4 << 20) -> bytes | None:
        """The content of the regular file at image path ``path`` (symlinks resolved in the image)."""
        real = self.resolve(path)
        st = self.stat(real)
        if st is None or not stat.S_ISREG(st.st_mode):
            return None
        host = self.host_path(real)
        if host is None:
            return None
        with open(host, "rb") as f:
            return f.read(limit)

    def xattrs(self, path: str) -> dict[str, bytes]:
        """The extended attributes of the top-most copy of ``path`` (never overlayfs' own)."""
        host = self.host_path(path)
        if host is None:
            return {}
        try:
            names = os.listxattr(host, follow_symlinks=False)
        except OSError:
            return {}
        out: dict[str, bytes] = {}
        for name in names:
            if wh.is_overlay_xattr(name):
                continue
            try:
                out[name] = os.getxattr(host, name, follow_symlinks=False)
            except OSError:
                continue
        return out

    # -- users ------------------------------------------------------------------------------------------
    def resolve_user(self, user: str) -> tuple[int, int]:
        """(uid, gid) for ``user[:group]`` from the image's /etc/passwd and /etc/group, read as data."""
        import tempfile

        from engine.runtime.users import resolve_user

        with tempfile.TemporaryDirectory(prefix="dockyard-users-") as tmp:
            os.mkdir(os.path.join(tmp, "etc"))
            for name in ("passwd", "group"):
                data = self.read(f"/etc/{name}") or b""
                with open(os.path.join(tmp, "etc", name), "wb") as f:
                    f.write(data)
            try:
                uid, gid, _groups, _home = resolve_user(tmp, user)
            except InvalidArgument as exc:
                raise BuildError(str(exc)) from None
        return uid, gid
