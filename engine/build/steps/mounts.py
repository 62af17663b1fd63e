"""``RUN --mount``: what a RUN step sees besides the image, only while it runs, never in its layer.

BuildKit's mount types, read as BuildKit reads them (a CSV list of ``key=value``; values expanded with the
stage's variables; a relative target is below the working directory):

- ``cache`` (``id``, ``sharing=shared|private|locked``, ``from``, ``source``, ``mode``, ``uid``, ``gid``,
  ``ro``): a directory kept under the engine root (engine.build.cachemounts), per id (default: the target);
- ``bind`` (``source``, ``from=STAGE|IMAGE|CONTEXT``, ``rw``): a path of the build context (default), of a
  named build context, of an earlier stage or of an image; read-only unless ``rw``, and then what the RUN
  writes there is thrown away (it works on a copy);
- ``tmpfs`` (``size``): an empty tmpfs;
- ``secret`` (``id``, ``target``/``dst``, ``env``, ``required``, ``mode``, ``uid``, ``gid``): a file (default
  ``/run/secrets/ID``) or an environment variable holding a ``build --secret``; a missing one is skipped
  unless ``required``;
- ``ssh`` is refused: there is no SSH agent to forward.

The step's cache key (:meth:`StepMounts.key_text`) holds every mount's definition and, for a bind, a digest
of the content it shows (so editing a bound file reruns the step, as BuildKit does); never the content of a
cache mount or of a secret. Mount points the image did not have are removed from the step's writable layer
after the run (as BuildKit's stub cleaner does), so a mount leaves nothing in the layer.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat

from engine.build.context import BuildContext
from engine.build.view import ImageView, clean_abs
from engine.errors import BuildError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from engine.build.cachemounts import CacheMount
    from engine.paths import Layout

__all__ = [
    "MOUNT_TYPES",
    "ContextSource",
    "ImageSource",
    "MountSource",
    "RunMount",
    "StepMounts",
    "export_view",
    "mount_origins",
    "parse_mounts",
]

MOUNT_TYPES = ("bind", "cache", "tmpfs", "secret", "ssh")
SECRETS_DIR = "/run/secrets"
SECRET_KIND = "dockyard-secret"  # the folders of secrets in /dev/shm: PID-dockyard-secret-HEX
_GO_TRUE = ("1", "t", "T", "true", "TRUE", "True")
_GO_FALSE = ("0", "f", "F", "false", "FALSE", "False")


class RunMount:
    """One ``--mount`` of a RUN, parsed and with its defaults filled in."""

    __slots__ = (
        "type",
        "target",
        "source",
        "origin",
        "cache_id",
        "sharing",
        "mode",
        "uid",
        "gid",
        "readonly",
        "size",
        "required",
        "env",
    )

    def __init__(self) -> None:
        self.type = "bind"
        self.target = ""
        self.source = ""
        self.origin = ""  # from=
        self.cache_id = ""
        self.sharing = ""
        self.mode: int | None = None
        self.uid: int | None = None
        self.gid: int | None = None
        self.readonly = True
        self.size: int | None = None
        self.required = False
        self.env: str | None = None

    def describe(self) -> dict[str, object]:
        """The definition as it goes into the step's cache key."""
        return {name: getattr(self, name) for name in self.__slots__}


def _go_bool(key: str, value: str) -> bool:
    if value in _GO_TRUE:
        return True
    if value in _GO_FALSE:
        return False
    raise BuildError(f"invalid value for {key}: {value!r} (want true or false)")


def _uint(key: str, value: str, base: int) -> int:
    digits = "01234567" if base == 8 else "0123456789"
    if not value or not all(c in digits for c in value) or len(value) > 11 or int(value, base) > 0xFFFFFFFF:
        raise BuildError(f"invalid value for {key}: {value!r}")
    return int(value, base)


def parse_mount(value: str, workdir: str, expand: Callable[[str], str]) -> RunMount:
    """One ``--mount`` value (BuildKit's ``instructions.ParseMount`` rules and words)."""
    import csv  # only for a RUN with mounts

    try:
        fields = next(csv.reader([value]), [])
    except csv.Error as exc:
        raise BuildError(f"invalid --mount {value!r}: {exc}") from None
    m = RunMount()
    for field in fields:  # the type first: the other keys are checked against it
        key, sep, val = field.partition("=")
        if sep and key.lower() == "type":
            kind = expand(val).lower()
            if kind not in MOUNT_TYPES:
                raise BuildError(f"unsupported mount type {val!r} (use one of {', '.join(MOUNT_TYPES)})")
            m.type = kind
    ro_auto = True
    for field in fields:
        key, sep, val = field.partition("=")
        key = key.lower()
        if not sep:
            if key in ("readonly", "ro"):
                m.readonly, ro_auto = True, False
            elif key in ("readwrite", "rw"):
                m.readonly, ro_auto = False, False
            elif key == "required" and m.type in ("secret", "ssh"):
                m.required = True
            elif key == "required":
                raise BuildError(f"unexpected key 'required' for mount type '{m.type}'")
            else:
                raise BuildError(f"invalid field '{field}' must be a key=value pair")
            continue
        val = expand(val)
        if key == "type":
            continue
        if key == "from":
            m.origin = val
        elif key in ("source", "src"):
            m.source = val
        elif key in ("target", "dst", "destination"):
            m.target = val
        elif key in ("readonly", "ro"):
            m.readonly, ro_auto = _go_bool(key, val), False
        elif key in ("readwrite", "rw"):
            m.readonly, ro_auto = not _go_bool(key, val), False
        elif key == "required":
            if m.type not in ("secret", "ssh"):
                raise BuildError(f"unexpected key 'required' for mount type '{m.type}'")
            m.required = _go_bool(key, val)
        elif key == "size":
            if m.type != "tmpfs":
                raise BuildError(f"unexpected key 'size' for mount type '{m.type}'")
            from engine.errors import InvalidArgument
            from engine.units import parse_bytes

            try:
                m.size = parse_bytes(val)
            except InvalidArgument as exc:
                raise BuildError(str(exc)) from None
        elif key == "id":
            m.cache_id = val
        elif key == "sharing":
            if val.lower() not in ("shared", "private", "locked"):
                raise BuildError(f"unsupported sharing value {val!r} (use shared, private or locked)")
            m.sharing = val.lower()
        elif key == "mode":
            m.mode = _uint(key, val, 8)
        elif key == "uid":
            m.uid = _uint(key, val, 10)
        elif key == "gid":
            m.gid = _uint(key, val, 10)
        elif key == "env":
            m.env = val
        else:
            raise BuildError(f"unexpected key '{key}' in '{field}'")
    if ro_auto:
        m.readonly = m.type not in ("cache", "tmpfs")
    return _check(m, workdir)


def _check(m: RunMount, workdir: str) -> RunMount:
    if m.type == "ssh":
        raise BuildError(
            "RUN --mount=type=ssh is not supported: dockyard has no SSH agent to forward into a build "
            "(use a secret mount for a key, or fetch what needs SSH before the build)"
        )
    if m.type not in ("secret", "cache"):
        for name in ("mode", "uid", "gid"):
            if getattr(m, name) is not None:
                raise BuildError(f"{name} not allowed for {m.type!r} type mounts")
    if m.sharing and m.type != "cache":
        raise BuildError(f"invalid cache sharing set for {m.type} mount")
    if m.type == "secret":
        if m.origin:
            raise BuildError("secret mount should not have a from")
        if m.source and m.cache_id:
            raise BuildError("both source and id can't be set")
        secret_id = m.source or m.cache_id
        if not secret_id:
            if not m.target:
                raise BuildError("invalid secret mount: one of id, source or target is required")
            secret_id = posixpath.basename(m.target)
        m.cache_id, m.source = secret_id, ""
        if not m.target and m.env is None:
            m.target = f"{SECRETS_DIR}/{posixpath.basename(secret_id)}"
        m.readonly = True
    elif not m.target:
        raise BuildError(f"mount type {m.type} requires a target (target=PATH)")
    if m.target:
        if not m.target.startswith("/"):
            m.target = posixpath.join("/", workdir or "/", m.target)
        m.target = clean_abs(m.target)
        if m.target == "/":
            raise BuildError(
                "cannot mount over /: the target of a mount must be a directory or file below it"
            )
        if ":" in m.target:
            raise BuildError(f"a mount target may not contain ':' here: {m.target}")
    if m.type == "cache":
        m.cache_id = m.cache_id or m.target
        m.sharing = m.sharing or "shared"
        if m.mode is None:
            m.mode = 0o755
    elif m.type == "secret" and m.mode is None:
        m.mode = 0o400
    return m


def parse_mounts(values: list[str], workdir: str, expand: Callable[[str], str]) -> list[RunMount]:
    mounts = [parse_mount(v, workdir, expand) for v in values]
    seen: set[str] = set()
    for m in mounts:
        if m.target in seen:
            raise BuildError(f"two mounts have the same target: {m.target}")
        if m.target:
            seen.add(m.target)
    return mounts


def mount_origins(values: list[str]) -> list[str]:
    """The ``from=`` names of ``--mount`` values as written (for the plan: the stages and images a RUN
    needs; values with variables are the caller's to expand)."""
    out = []
    for value in values:
        for field in value.split(","):
            key, sep, val = field.strip().strip('"').partition("=")
            if sep and key.lower() == "from" and val:
                out.append(val)
    return out


# -- sources -----------------------------------------------------------------------------------------


class ContextSource:
    """A bind/cache source in a directory: the build context or a named ``--build-context``."""

    def __init__(self, context: BuildContext, name: str) -> None:
        self.context = context
        self.name = name


class ImageSource:
    """A bind/cache source in an earlier stage or an image: its merged layers and top ChainID."""

    def __init__(self, view: ImageView, chain_id: str, name: str) -> None:
        self.view = view
        self.chain_id = chain_id
        self.name = name


MountSource = ContextSource | ImageSource


def _context_rel(ctx: BuildContext, source: str) -> str:
    rel = posixpath.normpath("/" + (source or ".")).lstrip("/") or "."
    if rel == ".":
        return rel
    return ctx.resolve(rel, source, "RUN --mount")


def _context_digest(ctx: BuildContext, rel: str) -> str:
    """What a bind of context path ``rel`` shows, as a digest: names, types, modes, owners, contents and
    link targets of the path and everything visible below it (never modification times)."""
    h = hashlib.sha256()
    paths = [rel] + ([p for p in ctx.below(rel) if p != rel] if rel == "." or ctx.isdir(rel) else [])
    for path in paths:
        host = ctx.abspath(path)
        try:
            st = os.lstat(host)
        except FileNotFoundError:
            continue
        if stat.S_ISREG(st.st_mode):
            what = ctx.checksum(path, st)
        elif stat.S_ISLNK(st.st_mode):
            what = os.readlink(host)
        else:
            what = ""
        h.update(f"{path}\0{st.st_mode:o}\0{st.st_uid}:{st.st_gid}\0{what}\n".encode())
    return h.hexdigest()


def _image_path(view: ImageView, source: str, name: str) -> str:
    path = view.resolve(clean_abs(source or "/"))
    if path != "/" and view.stat(path) is None:
        raise BuildError(f"RUN --mount failed: {clean_abs(source)}: no such file or directory in {name}")
    return path


# -- copies ---------------------------------------------------------------------------------------------


def _copy_entry(src: str, dest: str, st: os.stat_result, link: bool) -> None:
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        os.mkdir(dest, 0o700)
    elif stat.S_ISLNK(mode):
        os.symlink(os.readlink(src), dest)
    elif stat.S_ISREG(mode):
        if link:
            try:
                os.link(src, dest, follow_symlinks=False)
                return  # the same file, owner and mode included
            except OSError:
                pass
        import shutil

        shutil.copyfile(src, dest, follow_symlinks=False)
    elif stat.S_ISFIFO(mode):
        os.mkfifo(dest, 0o600)
    else:
        return  # devices and sockets are not copied
    os.lchown(dest, st.st_uid, st.st_gid)
    if not stat.S_ISLNK(mode):
        os.chmod(dest, stat.S_IMODE(mode))
    os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def _finish_dirs(dirs: list[tuple[str, os.stat_result]]) -> None:
    for path, st in reversed(dirs):  # children first: their entries changed the parents' times
        os.chmod(path, stat.S_IMODE(st.st_mode))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def copy_view(view: ImageView, path: str, dest: str, link: bool) -> None:
    """Make ``dest`` a copy of image path ``path`` (a directory tree or one file); ``link`` hard-links
    regular files instead of copying them where it can (for read-only use)."""
    st = view.stat(path)
    host = view.host_path(path)
    if st is None or host is None:
        os.mkdir(dest, 0o755)
        return
    _copy_entry(host, dest, st, link)
    if not stat.S_ISDIR(st.st_mode):
        return
    dirs = [(dest, st)]
    for rel, sub in view.walk(path):
        full = posixpath.join(path, rel)
        src = view.host_path(full)
        if src is None:
            continue
        target = os.path.join(dest, rel)
        _copy_entry(src, target, sub, link)
        if stat.S_ISDIR(sub.st_mode):
            dirs.append((target, sub))
    _finish_dirs(dirs)


def copy_context(ctx: BuildContext, rel: str, dest: str, link: bool) -> None:
    """Make ``dest`` a copy of what the context shows at ``rel`` (.dockerignore applied)."""
    top = ctx.abspath(rel)
    st = os.lstat(top)
    _copy_entry(top, dest, st, link)
    if not stat.S_ISDIR(st.st_mode):
        return
    dirs = [(dest, st)]
    start = 0 if rel == "." else len(rel) + 1
    for path in ctx.below(rel):
        if path == rel:
            continue
        host = ctx.abspath(path)
        try:
            sub = os.lstat(host)
        except FileNotFoundError:
            continue
        target = os.path.join(dest, path[start:])
        _copy_entry(host, target, sub, link)
        if stat.S_ISDIR(sub.st_mode):
            dirs.append((target, sub))
    _finish_dirs(dirs)


def export_view(view: ImageView, dest: str) -> None:
    """``build --output type=local``: the image's files written below directory ``dest``."""
    os.makedirs(dest, exist_ok=True)
    dirs = []
    for rel, st in view.walk("/"):
        src = view.host_path("/" + rel)
        if src is None:
            continue
        target = os.path.join(dest, rel)
        if os.path.lexists(target):
            if stat.S_ISDIR(st.st_mode) and os.path.isdir(target) and not os.path.islink(target):
                dirs.append((target, st))
                continue
            from engine.store.tmp import remove_tree

            remove_tree(target)
        _copy_entry(src, target, st, link=False)
        if stat.S_ISDIR(st.st_mode):
            dirs.append((target, st))
    _finish_dirs(dirs)


# -- one step's mounts ----------------------------------------------------------------------------------


class StepMounts:
    """The mounts of one RUN: their cache key text, then (on a cache miss) the host side of each one as
    container volumes, tmpfs mounts and environment, and the clean-up afterwards."""

    def __init__(
        self,
        layout: Layout,
        mounts: list[RunMount],
        sources: Mapping[str, MountSource],
        default: ContextSource,
        secrets: Mapping[str, bytes],
        view: ImageView,
    ) -> None:
        self.layout = layout
        self.mounts = mounts
        self.sources = sources  # from= name -> source
        self.default = default
        self.secrets = secrets
        self.view = view
        self.volumes: list[str] = []
        self.tmpfs: list[str] = []
        self.env: list[str] = []
        self._held: list[CacheMount] = []
        self._tmp: list[str] = []
        self._stubs: list[str] = []

    def _source(self, m: RunMount) -> MountSource:
        if not m.origin:
            return self.default
        found = self.sources.get(m.origin)
        if found is None:
            raise BuildError(f"RUN --mount from={m.origin}: no such stage, build context or image")
        return found

    # -- the key ------------------------------------------------------------------------------------------
    def key_text(self) -> str:
        from engine.lean import jsonio

        parts = []
        for m in self.mounts:
            item = m.describe()
            if m.type == "bind" or (m.type == "cache" and m.origin):
                src = self._source(m)
                if isinstance(src, ContextSource):
                    item["content"] = _context_digest(src.context, _context_rel(src.context, m.source))
                else:
                    item["content"] = f"{src.chain_id} {_image_path(src.view, m.source, src.name)}"
            parts.append(item)
        return jsonio.dumps(parts)

    # -- the run ------------------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Make the host side of every mount: volumes (``HOST:TARGET[:ro]``), tmpfs and environment."""
        try:
            for m in self.mounts:
                if m.type == "bind":
                    self._prepare_bind(m)
                elif m.type == "cache":
                    self._prepare_cache(m)
                elif m.type == "tmpfs":
                    self._prepare_tmpfs(m)
                else:
                    self._prepare_secret(m)
        except BaseException:
            self.close()
            raise
        self._stubs = self._missing_targets()

    def _tmpdir(self, kind: str) -> str:
        from engine.store.tmp import make_dir

        os.makedirs(self.layout.tmp, exist_ok=True)
        path = make_dir(self.layout.tmp, kind, 0o700)
        self._tmp.append(path)
        return path

    def _prepare_tmpfs(self, m: RunMount) -> None:
        opts = "rw,nosuid,nodev" + (f",size={m.size}" if m.size else "")
        self.tmpfs.append(f"{m.target}:{opts}")

    def _prepare_bind(self, m: RunMount) -> None:
        src = self._source(m)
        mode = ":ro" if m.readonly else ""
        if isinstance(src, ContextSource):
            rel = _context_rel(src.context, m.source)
            if m.readonly and not src.context.matcher:
                self.volumes.append(f"{src.context.abspath(rel)}:{m.target}{mode}")  # nothing to hide
                return
            host = os.path.join(self._tmpdir("bind"), "src")
            copy_context(src.context, rel, host, link=m.readonly)
        else:
            path = _image_path(src.view, m.source, src.name)
            host = os.path.join(self._tmpdir("bind"), "src")
            copy_view(src.view, path, host, link=m.readonly)
        self.volumes.append(f"{host}:{m.target}{mode}")

    def _prepare_cache(self, m: RunMount) -> None:
        from engine.build.cachemounts import acquire

        seed = None
        if m.origin:
            src = self._source(m)

            def seed(dest: str) -> None:
                if isinstance(src, ContextSource):
                    copy_context(src.context, _context_rel(src.context, m.source), dest, link=False)
                else:
                    copy_view(src.view, _image_path(src.view, m.source, src.name), dest, link=False)

        held = acquire(self.layout.root, m.cache_id, m.sharing, m.mode or 0o755, m.uid or 0, m.gid or 0, seed)
        self._held.append(held)
        self.volumes.append(f"{held.data}:{m.target}" + (":ro" if m.readonly else ""))

    def _prepare_secret(self, m: RunMount) -> None:
        value = self.secrets.get(m.cache_id)
        if value is None:
            if m.required:
                raise BuildError(
                    f"secret {m.cache_id}: not found (give it with build --secret id={m.cache_id},...)"
                )
            return
        if m.env is not None:
            try:
                text = value.decode()
            except UnicodeDecodeError:
                raise BuildError(
                    f"secret {m.cache_id} is not UTF-8 text: it cannot be an environment variable"
                ) from None
            if "\0" in text:
                raise BuildError(
                    f"secret {m.cache_id} holds a NUL byte: it cannot be an environment variable"
                )
            self.env.append(f"{m.env}={text}")
        if not m.target:
            return
        base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        if base is not None:  # in memory, as BuildKit's tmpfs: a secret never touches the disk
            from engine.store.tmp import make_dir

            _sweep_secrets(base)
            folder = make_dir(base, SECRET_KIND, 0o700)
            self._tmp.append(folder)
        else:
            folder = self._tmpdir("secret")
        host = os.path.join(folder, "secret")
        fd = os.open(host, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(value)
        os.chown(host, m.uid or 0, m.gid or 0)
        os.chmod(host, m.mode if m.mode is not None else 0o400)
        self.volumes.append(f"{host}:{m.target}:ro")

    # -- mount points ---------------------------------------------------------------------------------------
    def _missing_targets(self) -> list[str]:
        """The image paths the runtime will create as mount points (targets and their missing parents),
        deepest first."""
        out: list[str] = []
        for m in self.mounts:
            if not m.target:
                continue
            path = self.view.resolve(m.target)
            while path != "/" and self.view.stat(path) is None:
                if path not in out:
                    out.append(path)
                path = posixpath.dirname(path)
        return sorted(out, key=lambda p: -p.count("/"))

    def clean_stubs(self, upper: str) -> None:
        """Remove from the writable layer ``upper`` the mount points made for this step, when they are
        still empty; then the directories copied up only to hold them, when unchanged."""
        parents: set[str] = set()
        for path in self._stubs:
            host = os.path.join(upper, path.lstrip("/"))
            try:
                st = os.lstat(host)
            except FileNotFoundError:
                continue
            try:
                if stat.S_ISDIR(st.st_mode):
                    os.rmdir(host)  # fails when the RUN put something there
                elif stat.S_ISREG(st.st_mode) and st.st_size == 0:
                    os.unlink(host)
                else:
                    continue
            except OSError:
                continue
            parents.add(posixpath.dirname(path))
        for path in sorted(parents - set(self._stubs), key=lambda p: -p.count("/")):
            self._drop_copied_up(upper, path)

    def _drop_copied_up(self, upper: str, path: str) -> None:
        while path != "/":
            host = os.path.join(upper, path.lstrip("/"))
            lower = self.view.stat(path)
            try:
                st = os.lstat(host)
                if (
                    lower is None
                    or not stat.S_ISDIR(st.st_mode)
                    or os.listdir(host)
                    or (st.st_mode, st.st_uid, st.st_gid) != (lower.st_mode, lower.st_uid, lower.st_gid)
                    or any(not n.startswith("trusted.overlay.") for n in os.listxattr(host))
                    or _opaque(host)
                ):
                    return
                os.rmdir(host)
            except OSError:
                return
            path = posixpath.dirname(path)

    def close(self) -> None:
        from engine.store.tmp import remove_tree

        for held in self._held:
            held.release()
        self._held = []
        for path in self._tmp:
            remove_tree(path)
        self._tmp = []


def _sweep_secrets(base: str) -> None:
    """Remove the secret folders (``PID-dockyard-secret-HEX``) that builds killed mid-step left in ``base``."""
    from engine.store.tmp import remove_tree

    for name in os.listdir(base):
        pid, sep, rest = name.partition("-")
        if not (sep and pid.isdigit() and rest.startswith(SECRET_KIND + "-")) or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            remove_tree(os.path.join(base, name))
        except PermissionError:
            pass


def _opaque(path: str) -> bool:
    try:
        return os.getxattr(path, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
    except OSError:
        return False
