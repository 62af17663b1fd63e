"""COPY and ADD (and the directory WORKDIR creates): plan which files land where, then write the layer.

Docker's rules, as the builder applies them here:

- Sources are relative to the context (a leading ``/`` or ``..`` cannot leave it) and may be patterns
  (Go's ``filepath.Match``). A directory source copies its *contents*. A symlink named as a source is
  followed (inside the context); symlinks inside copied directories stay symlinks. FIFOs stay FIFOs and
  device nodes keep their major and minor numbers (sockets are left out).
- The destination is relative to WORKDIR unless absolute. It is a directory when it ends in ``/`` (or is
  ``.``), when it already is one in the image, or when a directory is copied; several sources need a
  directory destination ending in ``/``. Symlinks on the way to it resolve inside the image.
- Owners: files from the context belong to 0:0, files from another stage or image (``--from``) keep
  theirs, ``--chown=user[:group]`` (names read from the image's /etc/passwd and /etc/group) sets them all.
  ``--chmod`` sets the mode of what is copied. Modification times are those of the sources.
- Directories that do not exist yet are created (mode 0755, the ``--chown`` owner, mtime
  SOURCE_DATE_EPOCH or 0, so that identical builds give identical layers); existing directories on the
  way go into the layer unchanged (as overlayfs' copy-up would), so the image keeps their metadata.
- ADD extracts local tar archives (plain, gzip, bzip2, xz; recognised by content, not by name) into the
  destination, keeping the archive's owners unless ``--chown``; remote URLs are refused (no network).
- ``COPY <<EOF /file`` writes a here-document.

:func:`plan_copy` computes the entries and the description the cache key is made of (contents, modes and
owners; never mtimes) without writing anything; :meth:`CopyPlan.write` makes the layer.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from engine.build import dockerignore
from engine.build.context import BuildContext, ChecksumCache, has_glob, match_component
from engine.build.parser import Instruction, heredoc_marker
from engine.build.state import LayerRef
from engine.build.tarstream import (
    BLOCKDEV,
    CHARDEV,
    DIR,
    FIFO,
    FILE,
    SYMLINK,
    LayerEntry,
    StreamReader,
    tar_chunks,
)
from engine.build.view import ImageView, clean_abs
from engine.errors import BuildError, DockyardError

if TYPE_CHECKING:
    from engine.store.imagestore import ImageStore

__all__ = [
    "ContextTree",
    "CopyPlan",
    "ImageTree",
    "SourceTree",
    "parse_chmod",
    "plan_copy",
    "plan_mkdir",
    "resolve_chown",
]

_URL_PREFIXES = ("http://", "https://", "git://", "git@", "ssh://", "ftp://")


# -- where sources come from --------------------------------------------------------------------------


class Found(NamedTuple):
    """A selected source: its path in the tree ("" for the root), lstat, and where it is on the host."""

    rel: str
    st: os.stat_result
    host: str


class SourceTree(Protocol):
    keep_owner: bool

    def select(self, pattern: str, keyword: str) -> list[Found]: ...

    def below(self, rel: str) -> Iterator[Found]: ...

    def checksum(self, found: Found) -> str: ...


class ContextTree:
    """The build context as a source (owners are not kept: files belong to 0:0 unless --chown)."""

    keep_owner = False

    def __init__(self, context: BuildContext) -> None:
        self.context = context

    def select(self, pattern: str, keyword: str) -> list[Found]:
        out = []
        for src in self.context.select(pattern, keyword):
            rel = "" if src.rel == "." else src.rel
            out.append(Found(rel, src.st, src.path))
        return out

    def below(self, rel: str) -> Iterator[Found]:
        start = len(rel) + 1 if rel else 0
        for path in self.context.below(rel or "."):
            host = self.context.abspath(path)
            try:
                st = os.lstat(host)
            except FileNotFoundError:
                continue
            yield Found(path[start:], st, host)

    def checksum(self, found: Found) -> str:
        return self.context.sums.file(found.host, found.st)


class ImageTree:
    """Another stage's result or an image as a source (``COPY --from``): owners are kept."""

    keep_owner = True

    def __init__(self, view: ImageView, sums: ChecksumCache, name: str) -> None:
        self.view = view
        self.sums = sums
        self.name = name

    def select(self, pattern: str, keyword: str) -> list[Found]:
        path = clean_abs(pattern)
        if not has_glob(path):
            resolved = self.view.resolve(path)
            st = self.view.stat(resolved)
            if st is None:
                raise BuildError(f"{keyword} failed: stat {path}: file does not exist in {self.name}")
            return [Found(resolved.lstrip("/"), st, self._host(resolved))]
        found: list[Found] = []
        parts = [p for p in path.split("/") if p]
        prefixes = [""]
        for i, part in enumerate(parts):
            nxt = []
            for prefix in prefixes:
                names = self.view.listdir("/" + prefix) if has_glob(part) else [part]
                for name in names:
                    if not match_component(part, name) and has_glob(part):
                        continue
                    cand = f"{prefix}/{name}" if prefix else name
                    if self.view.stat("/" + cand) is not None:
                        nxt.append(cand)
            prefixes = nxt
            if i == len(parts) - 1:
                for cand in sorted(prefixes):
                    st = self.view.stat("/" + cand)
                    if st is not None:
                        found.append(Found(cand, st, self._host("/" + cand)))
        if not found:
            raise BuildError(f"{keyword} failed: no source files were specified (nothing matches {pattern})")
        return found

    def _host(self, path: str) -> str:
        return self.view.host_path(path) or ""

    def below(self, rel: str) -> Iterator[Found]:
        for sub, st in self.view.walk("/" + rel):
            yield Found(sub, st, self._host(f"/{rel}/{sub}" if rel else "/" + sub))

    def checksum(self, found: Found) -> str:
        return self.sums.file(found.host, found.st)


# -- flags ----------------------------------------------------------------------------------------------


def parse_chmod(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not all(c in "01234567" for c in value):  # int(value, 8) would also take "+7", " 7", "7_7", "٧"
        raise BuildError(f"invalid chmod parameter: {value!r} (use an octal mode like 0755)")
    mode = int(value, 8) if len(value) <= 12 else 1 << 36
    if mode > 0o7777:
        raise BuildError(f"invalid chmod parameter: {value!r}")
    return mode


def _is_id(text: str) -> bool:
    """A numeric uid or gid: ASCII digits (str.isdigit also takes "²", which int() refuses)."""
    return text.isascii() and text.isdigit()


def _id(text: str) -> int:
    """A numeric uid or gid, in the kernel's range (BuildKit reads them as 32-bit numbers)."""
    value = int(text) if len(text.lstrip("0")) <= 10 else 1 << 32
    if value > 0xFFFFFFFE:
        raise BuildError(f"invalid --chown value {text}: a uid or gid is at most 4294967294")
    return value


def resolve_chown(value: str | None, view: ImageView) -> tuple[int, int] | None:
    """``--chown`` as (uid, gid): numbers are taken as they are (``1000`` means 1000:1000), names are read
    from the destination image's /etc/passwd and /etc/group."""
    if not value:
        return None
    user, sep, group = value.partition(":")
    if _is_id(user) and (not sep or _is_id(group)):
        uid = _id(user)
        return uid, _id(group) if sep else uid
    try:
        if sep:
            return view.resolve_user(value)
        try:
            return view.resolve_user(f"{user}:{user}")
        except BuildError:
            return view.resolve_user(user)
    except BuildError as exc:
        raise BuildError(f"unable to convert uid/gid chown string to host mapping: {exc}") from None


# -- archives (ADD) -------------------------------------------------------------------------------------


def _is_tar(head: bytes) -> bool:
    return len(head) >= 262 and head[257:262] == b"ustar"


def is_archive(path: str) -> bool:
    """Whether the file is a tar archive, plain or compressed (recognised by content)."""
    import bz2
    import gzip
    import lzma

    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return False
    opener: Callable[[str], object] | None = None
    if head[:2] == b"\x1f\x8b":
        opener = gzip.open
    elif head[:3] == b"BZh":
        opener = bz2.open
    elif head[:6] == b"\xfd7zXZ\x00":
        opener = lzma.open
    if opener is None:
        return _is_tar(head)
    try:
        with opener(path) as f:  # type: ignore[attr-defined]
            return _is_tar(f.read(512))
    except (OSError, EOFError, lzma.LZMAError):
        return False


# -- planning ---------------------------------------------------------------------------------------------


class _Archive(NamedTuple):
    host: str
    dest: str  # image directory (absolute)
    digest: str


class CopyPlan:
    """What a COPY/ADD/WORKDIR step will write: ``entries`` by path, ``archives`` to extract, directories
    to make sure of. ``description`` feeds the cache key; ``created_by`` is the history text
    (``COPY file:<sha256> in /dst ``)."""

    def __init__(
        self,
        view: ImageView | None = None,
        owner: tuple[int, int] = (0, 0),
        chmod: int | None = None,
        dir_mtime: int = 0,
    ) -> None:
        self.entries: dict[str, LayerEntry] = {}
        self.archives: list[_Archive] = []
        self.ensure_dirs: set[str] = set()
        self.description = ""
        self.created_by = ""
        self.view = view
        self.owner = owner
        self.chmod = chmod
        self.keep_archive_owner = True
        self.dir_mtime = dir_mtime

    @property
    def empty(self) -> bool:
        return not self.entries and not self.archives and not self.ensure_dirs

    def write(self, store: ImageStore, parent_chain: str | None, tmpdir: str) -> LayerRef:
        """Write the layer into the store; returns it."""
        import shutil
        import tempfile

        entries = dict(self.entries)
        work: list[str] = []
        try:
            for archive in self.archives:
                target = tempfile.mkdtemp(prefix=f"{os.getpid()}-add-", dir=tmpdir)
                work.append(target)
                self._extract(archive, target, entries)
            self._add_parents(entries)
            stream: Any = StreamReader(tar_chunks(entries.values()))
            layer = store.add_layer_from_tar(stream, parent_chain or None)
        finally:
            for path in work:
                shutil.rmtree(path, ignore_errors=True)
        diff_id = store.layers.get(layer.chain_id).diff_id
        return LayerRef(layer.chain_id, diff_id, layer.blob, layer.media_type, layer.size)

    def _extract(self, archive: _Archive, target: str, entries: dict[str, LayerEntry]) -> None:
        from engine.store.tar.extract import extract_layer

        try:
            with open(archive.host, "rb") as f:
                extract_layer(f, target, overlay_whiteouts=False, interpret_whiteouts=False)
        except DockyardError as exc:
            raise BuildError(f"ADD failed: cannot extract {os.path.basename(archive.host)}: {exc}") from None
        for dirpath, dirnames, filenames in os.walk(target):
            dirnames.sort()
            for name in sorted(dirnames + filenames):
                host = os.path.join(dirpath, name)
                sub = os.path.relpath(host, target)
                if any(part.startswith(".wh.") for part in sub.split("/")):
                    raise BuildError(f"ADD failed: {sub}: whiteout names are not allowed in an archive")
                st = os.lstat(host)
                entry = _entry_for(
                    posixpath.join(archive.dest, sub).lstrip("/"),
                    st,
                    host,
                    self.owner if not self.keep_archive_owner else (st.st_uid, st.st_gid),
                    self.chmod,
                    None,
                )
                if entry is not None:
                    entries[entry.path] = entry
        self.ensure_dirs.add(archive.dest)

    def _add_parents(self, entries: dict[str, LayerEntry]) -> None:
        """Every parent directory of what is written: as it is in the image, or new."""
        wanted: set[str] = set()
        for path in entries:
            parts = path.split("/")
            wanted.update("/".join(parts[:i]) for i in range(1, len(parts)))
        for directory in self.ensure_dirs:
            parts = [p for p in directory.split("/") if p]
            wanted.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        for path in sorted(wanted):
            if path and path not in entries:
                entries[path] = self._dir_entry(path)

    def _dir_entry(self, path: str) -> LayerEntry:
        view = self.view
        st = view.stat("/" + path) if view is not None else None
        if st is not None and stat.S_ISDIR(st.st_mode):
            return LayerEntry(
                path,
                DIR,
                stat.S_IMODE(st.st_mode),
                st.st_uid,
                st.st_gid,
                int(st.st_mtime),
                xattrs=view.xattrs("/" + path) if view is not None else {},
            )
        if st is not None:
            raise BuildError(f"cannot copy to /{path}: it is not a directory in the image")
        return LayerEntry(path, DIR, 0o755, self.owner[0], self.owner[1], self.dir_mtime)


_NODES = {stat.S_IFIFO: FIFO, stat.S_IFCHR: CHARDEV, stat.S_IFBLK: BLOCKDEV}


def _entry_for(
    path: str,
    st: os.stat_result,
    host: str,
    owner: tuple[int, int],
    chmod: int | None,
    digest: Callable[[], str] | None,
    epoch: int | None = None,
) -> LayerEntry | None:
    mode = st.st_mode
    mtime = int(st.st_mtime)
    if epoch is not None:
        mtime = min(mtime, epoch)
    perm = stat.S_IMODE(mode)
    if stat.S_ISDIR(mode):
        return LayerEntry(path, DIR, chmod if chmod is not None else perm, owner[0], owner[1], mtime)
    if stat.S_ISREG(mode):
        return LayerEntry(
            path,
            FILE,
            chmod if chmod is not None else perm,
            owner[0],
            owner[1],
            mtime,
            size=st.st_size,
            source=host,
            digest=digest() if digest else "",
        )
    if stat.S_ISLNK(mode):
        return LayerEntry(path, SYMLINK, 0o777, owner[0], owner[1], mtime, linkname=os.readlink(host))
    # FIFOs and device nodes are copied as what they are (never opened: reading a FIFO would block).
    node = _NODES.get(stat.S_IFMT(mode))
    if node is None:
        return None  # sockets are not copied, as in Docker
    dev = (os.major(st.st_rdev), os.minor(st.st_rdev)) if node != FIFO else (0, 0)
    return LayerEntry(path, node, chmod if chmod is not None else perm, owner[0], owner[1], mtime, dev=dev)


class CopyRequest(NamedTuple):
    """Everything :func:`plan_copy` needs: the expanded instruction and where things come from/go to."""

    instr: Instruction
    workdir: str
    view: ImageView
    source: SourceTree
    epoch: int | None = None


def _fail_multiple(keyword: str) -> BuildError:
    return BuildError(
        f"When using {keyword} with more than one source file, the destination must be a directory and end with a /"
    )


def plan_copy(req: CopyRequest) -> CopyPlan:
    """Plan a COPY or ADD: the layer entries and the description of everything that decides them."""
    instr = req.instr
    keyword = instr.keyword
    view = req.view
    if instr.flag("parents") is not None and instr.bool_flag("parents"):
        raise BuildError(f"{keyword} --parents is not supported")
    if instr.flag("checksum"):
        raise BuildError("ADD --checksum needs a remote source, and dockyard builds have no network access")
    chmod = parse_chmod(instr.flag("chmod"))
    chown = resolve_chown(instr.flag("chown"), view)
    excludes = dockerignore.Matcher(instr.flag_values("exclude"), source="--exclude")
    plan = CopyPlan(view=view, chmod=chmod, owner=chown or (0, 0), dir_mtime=req.epoch or 0)
    plan.keep_archive_owner = chown is None

    *sources, dest_written = instr.args
    heredocs = {h.name: h for h in instr.heredocs}
    dest = dest_written if dest_written.startswith("/") else posixpath.join(req.workdir or "/", dest_written)
    wants_dir = dest_written.endswith("/") or dest_written in (".", "..") or dest_written.endswith("/.")
    dest_path = view.resolve(clean_abs(dest))
    dest_is_dir = wants_dir or view.is_dir(dest_path)

    selected: list[tuple[str, Found | None]] = []  # (source word, found) ; found None = here-document
    for word in sources:
        marker = heredoc_marker(word) if heredocs else None
        if marker is not None and marker.name in heredocs:
            selected.append((word, None))
            continue
        if word.startswith(_URL_PREFIXES) or "://" in word:
            raise BuildError(
                f"{keyword} failed: {word}: remote sources are not supported (dockyard builds have no network access)"
            )
        for match in req.source.select(word, keyword):
            selected.append((word, match))
    if len(selected) > 1 and not dest_written.endswith("/") and not view.is_dir(dest_path):
        raise _fail_multiple(keyword)
    if len(selected) > 1 or any(f is not None and stat.S_ISDIR(f.st.st_mode) for _, f in selected):
        dest_is_dir = True

    sums: list[str] = []
    kinds: set[str] = set()
    placed_dirs: dict[str, str] = {}

    def owner_of(st: os.stat_result) -> tuple[int, int]:
        if chown is not None:
            return chown
        if req.source.keep_owner:
            return st.st_uid, st.st_gid
        return 0, 0

    def place_dir(image_path: str) -> tuple[str, bool]:
        """Where a copied directory lands; True when an image symlink to a directory already stands there."""
        st = view.stat(image_path)
        if st is not None and stat.S_ISLNK(st.st_mode):
            resolved = view.resolve(image_path)
            if view.is_dir(resolved):
                return resolved, True
        return image_path, False

    def add(path: str, found: Found) -> None:
        st = found.st
        entry = _entry_for(
            path.lstrip("/"),
            st,
            found.host,
            owner_of(st),
            chmod,
            (lambda: req.source.checksum(found)),
            req.epoch,
        )
        if entry is None:
            return
        plan.entries[entry.path] = entry
        sums.append(entry.describe())

    def place_parents(rel: str, top: Found) -> str | None:
        """A path .dockerignore re-includes (``!``) below a directory it excludes: the directories on the way
        are made, as Docker's context tar has them made when it is unpacked. None below one --exclude
        leaves out."""
        missing = []
        while rel and rel not in placed_dirs:
            missing.append(rel)
            rel = rel.rpartition("/")[0]
        base = placed_dirs.get(rel)
        for d in reversed(missing):
            if base is None or (excludes and excludes.ignored(d)):
                return None
            host = os.path.join(top.host, d)
            try:
                st = os.lstat(host)
            except OSError:
                return None
            target, linked = place_dir(posixpath.join(base, d.rpartition("/")[2]))
            placed_dirs[d] = base = target
            if not linked:
                add(target, Found(d, st, host))
        return base

    for word, picked in selected:
        if picked is None:
            doc = heredocs[heredoc_marker(word).name]  # type: ignore[union-attr]
            target = posixpath.join(dest_path, doc.name) if dest_is_dir else dest_path
            data = doc.content.encode()
            entry = LayerEntry(
                target.lstrip("/"),
                FILE,
                chmod if chmod is not None else 0o644,
                plan.owner[0],
                plan.owner[1],
                req.epoch or 0,
                size=len(data),
                data=data,
                digest=hashlib.sha256(data).hexdigest(),
            )
            plan.entries[entry.path] = entry
            sums.append(entry.describe())
            kinds.add("file")
            continue
        found = picked
        st = found.st
        if stat.S_ISDIR(st.st_mode):
            kinds.add("dir")
            root, linked = place_dir(dest_path)
            if not linked and root != "/" and view.stat(root) is None:
                add(root, found)  # a new destination directory takes the source directory's metadata
            else:
                plan.ensure_dirs.add(root)
            placed_dirs.clear()
            placed_dirs[""] = root
            for sub in req.source.below(found.rel):
                parent_rel, _, name = sub.rel.rpartition("/")
                if excludes and excludes.ignored(sub.rel):
                    continue
                parent = placed_dirs.get(parent_rel)
                if parent is None:
                    parent = place_parents(parent_rel, found)
                if parent is None:
                    continue  # below a directory COPY --exclude leaves out
                target = posixpath.join(parent, name)
                if stat.S_ISDIR(sub.st.st_mode):
                    target, linked = place_dir(target)
                    placed_dirs[sub.rel] = target
                    if linked:
                        continue
                add(target, sub)
            continue
        name = posixpath.basename(found.rel) or "file"
        if excludes and excludes.ignored(name):
            continue
        target = posixpath.join(dest_path, name) if dest_is_dir else dest_path
        if dest_is_dir:
            plan.ensure_dirs.add(dest_path)
        if (
            keyword == "ADD"
            and stat.S_ISREG(st.st_mode)
            and instr.flag("unpack") != "false"
            and is_archive(found.host)
        ):
            digest = req.source.checksum(found)
            plan.archives.append(_Archive(found.host, dest_path, digest))
            sums.append(f"{dest_path}\0archive\0{digest}\0{plan.owner if chown else 'keep'}\0{chmod}")
            kinds.add("archive")
            continue
        kinds.add("file")
        add(target, found)

    if not selected:
        raise BuildError(f"{keyword} failed: no source files were specified")
    content = hashlib.sha256("\n".join(sums).encode()).hexdigest()
    kind = "multi" if len(selected) > 1 else ("dir" if "dir" in kinds else "file")
    plan.created_by = f"{keyword} {kind}:{content} in {dest_written} "
    plan.description = "\n".join(
        [
            f"{keyword} dest={dest_path} dir={dest_is_dir} chown={plan.owner if chown else ''} chmod={chmod}",
            *sorted(e.describe() for e in plan.entries.values()),
            *sorted(s for s in sums if "\0archive\0" in s),
            *sorted(plan.ensure_dirs),
        ]
    )
    return plan


def plan_mkdir(view: ImageView, path: str, user: str, mtime: int) -> CopyPlan | None:
    """WORKDIR: the layer that creates directory ``path`` (resolved in the image) and its missing parents,
    owned by the stage's USER as BuildKit does; None when it exists."""
    resolved = view.resolve(path)
    st = view.stat(resolved)
    if st is not None:
        if not stat.S_ISDIR(st.st_mode):
            raise BuildError(f"WORKDIR {path}: it is not a directory in the image")
        return None
    owner = view.resolve_user(user) if user else (0, 0)
    plan = CopyPlan(view=view, owner=owner, dir_mtime=mtime)
    plan.ensure_dirs.add(resolved)
    plan.description = f"mkdir {resolved} {owner[0]}:{owner[1]}"
    return plan
