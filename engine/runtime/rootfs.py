"""The container's filesystem: overlay root, pivot_root, and every mount Docker puts in a container.

Two halves. ``plan_*`` functions run in the caller before anything is changed: they validate the spec (bad
input raises ``InvalidArgument``) and read host facts once (cgroup layout, host devices). The other functions
run in the forked container process, in its own mount namespace, in this order::

    make_rslave()                          host mount events may come in, none of ours goes out
    mount_overlay(...)                     on spec.rootfs, inside the new namespace only
    detach_binds(...)                      open_tree() clones of every bind source, taken while the host is
                                           still visible
    pivot(rootfs)                          pivot_root + detach the old root: from here on no host path
                                           can be resolved at all
    mount_dev(...), mount_sys(...), attach_mounts(...) (all but those under /proc), mount_proc(),
    attach_mounts(...) (under /proc), mask_paths(...), readonly_paths(...), mount_cgroups(...),
    make_root_readonly()

Everything after ``pivot`` uses plain paths: they resolve inside the container's root, so a hostile image
(``/etc/hostname -> /host/path``) can only redirect a mount to another place in its own tree. Bind sources
cross the boundary as detached mount trees (open_tree with OPEN_TREE_CLONE), attached with move_mount after
the pivot; /proc is mounted only once they are attached, so that no magic link (``/proc/self/fd/N``) can
lead a mount point into them. /proc, /dev and /sys themselves must not be symlinks in the image. This needs
Linux 5.12 (mount_setattr).
"""

from __future__ import annotations

import os
import stat

from engine.errors import InvalidArgument, RuntimeFailure
from engine.kernel import syscalls as sc
from engine.lean.record import record
from engine.lean.tools import cache
from engine.runtime.spec import ContainerSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

# mount option words -> (flags to set, flags to clear)
_FLAG_WORDS: dict[str, tuple[int, int]] = {
    "ro": (sc.MS_RDONLY, 0),
    "rw": (0, sc.MS_RDONLY),
    "nosuid": (sc.MS_NOSUID, 0),
    "suid": (0, sc.MS_NOSUID),
    "nodev": (sc.MS_NODEV, 0),
    "dev": (0, sc.MS_NODEV),
    "noexec": (sc.MS_NOEXEC, 0),
    "exec": (0, sc.MS_NOEXEC),
    "sync": (sc.MS_SYNCHRONOUS, 0),
    "async": (0, sc.MS_SYNCHRONOUS),
    "dirsync": (sc.MS_DIRSYNC, 0),
    "noatime": (sc.MS_NOATIME, 0),
    "atime": (0, sc.MS_NOATIME),
    "nodiratime": (sc.MS_NODIRATIME, 0),
    "diratime": (0, sc.MS_NODIRATIME),
    "relatime": (sc.MS_RELATIME, 0),
    "norelatime": (0, sc.MS_RELATIME),
    "strictatime": (sc.MS_STRICTATIME, 0),
    "nostrictatime": (0, sc.MS_STRICTATIME),
    "nosymfollow": (sc.MS_NOSYMFOLLOW, 0),
    "defaults": (0, 0),
}
_PROPAGATION: dict[str, int] = {
    "private": sc.MS_PRIVATE,
    "rprivate": sc.MS_PRIVATE,
    "slave": sc.MS_SLAVE,
    "rslave": sc.MS_SLAVE,
    "shared": sc.MS_SHARED,
    "rshared": sc.MS_SHARED,
    "unbindable": sc.MS_UNBINDABLE,
    "runbindable": sc.MS_UNBINDABLE,
}
# MS_* flag -> MOUNT_ATTR_* for binds set up with mount_setattr
_ATTRS = (
    (sc.MS_RDONLY, sc.MOUNT_ATTR_RDONLY),
    (sc.MS_NOSUID, sc.MOUNT_ATTR_NOSUID),
    (sc.MS_NODEV, sc.MOUNT_ATTR_NODEV),
    (sc.MS_NOEXEC, sc.MOUNT_ATTR_NOEXEC),
    (sc.MS_NOSYMFOLLOW, sc.MOUNT_ATTR_NOSYMFOLLOW),
)

_NOSUID_NODEV_NOEXEC = sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC

# (name, major, minor): the device nodes every container gets (mode 0666, char devices).
DEFAULT_DEVICES: tuple[tuple[str, int, int], ...] = (
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
)
DEV_SYMLINKS: tuple[tuple[str, str], ...] = (
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("core", "/proc/kcore"),
    ("ptmx", "pts/ptmx"),
)
# Standard mounts a user mount at the same place replaces.
REPLACEABLE = ("/dev/shm", "/dev/mqueue")
# /dev/shm's tmpfs options (Docker's 64 MiB; --shm-size sets another size).
SHM_OPTIONS = "mode=1777,size=65536k"


def shm_options(size: int) -> str | None:
    """The options of /dev/shm for ``--shm-size`` ``size`` bytes (0: the default; -1: no /dev/shm)."""
    if size < 0:
        return None
    return f"mode=1777,size={size}" if size else SHM_OPTIONS


def extra_devices(entries: Iterable[Sequence[int | str]]) -> list[Device]:
    """``--device`` nodes: (path below /dev, mode, rdev, uid, gid) as the spec holds them."""
    out = []
    for path, mode, rdev, uid, gid in entries:
        rel = os.path.normpath(str(path))
        if rel.startswith("..") or rel.startswith("/") or rel in ("pts", "shm", "mqueue"):
            raise InvalidArgument(f"invalid device path in the container: /dev/{path}")
        out.append(Device(rel, int(mode), int(rdev), int(uid), int(gid)))
    return out


def write_sysctls(sysctls: dict[str, str], proc_sys: int) -> None:
    """Write ``--sysctl`` settings (namespaced ones, checked at create) through ``proc_sys``, the container's
    /proc/sys opened before it was made read-only; after networking, so that eth0's settings exist."""
    for name, value in sysctls.items():
        path = name.replace(".", "/")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC | os.O_NOFOLLOW, dir_fd=proc_sys)
        except FileNotFoundError:
            raise RuntimeFailure(f"sysctl {name!r}: no such setting in the container's namespaces") from None
        try:
            os.write(fd, value.encode())
        except OSError as e:
            raise RuntimeFailure(f"sysctl {name}={value}: {os.strerror(e.errno or 0).lower()}") from None
        finally:
            os.close(fd)


@record(frozen=True)
class Device:
    path: str  # relative to /dev
    mode: int  # including S_IFCHR / S_IFBLK
    rdev: int
    uid: int = 0
    gid: int = 0


@record(frozen=True)
class MountPlan:
    """One mount, validated. ``bind`` mounts take their source from the host before the pivot."""

    destination: str
    bind: bool
    source: str = ""
    fstype: str = ""
    flags: int = 0  # mount(2) flags for filesystem mounts
    data: str = ""
    recursive: bool = True
    attrs: int = 0  # MOUNT_ATTR_* for binds
    propagation: int = 0
    source_is_dir: bool = True


@record(frozen=True)
class CgroupLayout:
    """How /sys/fs/cgroup looks on the host: one cgroup2 tree, or a tmpfs with v1 hierarchies."""

    unified: bool
    hierarchies: tuple[tuple[str, str, str], ...] = ()  # (directory, fstype, options) for v1
    links: tuple[tuple[str, str], ...] = ()  # (name, target) symlinks beside them


# ----------------------------------------------------------------------------------------- planning


def under_proc(path: str) -> bool:
    return path == "/proc" or path.startswith("/proc/")


def _depth(path: str) -> int:
    return len([p for p in path.split("/") if p])


def parse_options(options: Iterable[str]) -> tuple[int, list[str], bool | None, int]:
    """Split mount option words into (flags, data words, recursive or None, propagation)."""
    flags = 0
    data: list[str] = []
    recursive: bool | None = None
    propagation = 0
    for word in options:
        word = word.strip()
        if not word:
            continue
        if word in _FLAG_WORDS:
            set_, clear = _FLAG_WORDS[word]
            flags = (flags | set_) & ~clear
        elif word in _PROPAGATION:
            propagation = _PROPAGATION[word]
        elif word == "bind":
            recursive = False
        elif word == "rbind":
            recursive = True
        else:
            data.append(word)
    return flags, data, recursive, propagation


def plan_mounts(spec: ContainerSpec) -> list[MountPlan]:
    """Validate spec.mounts and spec.etc_files into mounts in a safe order (parents before children).

    Unless the container is privileged, directories and file systems are mounted ``nodev`` (unless the
    mount asks for ``dev``): a device node the container makes there with CAP_MKNOD cannot be opened. A bind
    of a single device node (``-v /dev/null:/x``) stays usable."""
    plans: list[MountPlan] = []
    requests = [(m.destination, m.type, m.source, list(m.options)) for m in spec.mounts]
    requests += [(dest, "bind", src, ["bind"]) for dest, src in spec.etc_files.items()]
    for dest, fstype, source, options in requests:
        if not dest.startswith("/"):
            raise InvalidArgument(f"invalid mount config: mount path must be absolute: {dest}")
        dest = os.path.normpath(dest)
        if dest.startswith("//"):
            dest = dest[1:]
        flags, data, recursive, propagation = parse_options(options)
        nodev = not spec.privileged and "dev" not in options
        if fstype == "bind":
            if not source.startswith("/"):
                raise InvalidArgument(f'invalid mount config for type "bind": invalid mount path: {source}')
            try:
                st = os.stat(source)
            except OSError:
                raise InvalidArgument(
                    f'invalid mount config for type "bind": bind source path does not exist: {source}'
                ) from None
            attrs = 0
            for flag, attr in _ATTRS:
                if flags & flag:
                    attrs |= attr
            if nodev and stat.S_ISDIR(st.st_mode):
                attrs |= sc.MOUNT_ATTR_NODEV
            plans.append(
                MountPlan(
                    destination=dest,
                    bind=True,
                    source=source,
                    recursive=True if recursive is None else recursive,
                    attrs=attrs,
                    propagation=propagation,
                    source_is_dir=stat.S_ISDIR(st.st_mode),
                )
            )
        else:
            if not fstype:
                raise InvalidArgument(f"invalid mount config: no type for {dest}")
            plans.append(
                MountPlan(
                    destination=dest,
                    bind=False,
                    source=source or fstype,
                    fstype=fstype,
                    flags=flags | (sc.MS_NODEV if nodev else 0),
                    data=",".join(data),
                    propagation=propagation,
                )
            )
    plans.sort(key=lambda p: _depth(p.destination))
    return plans


_PLAIN_UPPER = "index=off,redirect_dir=off,metacopy=off"


def overlay_options(lower_dirs: Sequence[str], upper_dir: str, work_dir: str) -> str:
    def esc(path: str) -> str:
        return path.replace("\\", "\\\\").replace(":", "\\:").replace(",", "\\,")

    if not lower_dirs:
        raise InvalidArgument("a container needs at least one image layer")
    lower = ":".join(esc(d) for d in lower_dirs)
    # Full copies in the upper dir (no redirects, no metadata-only copies): diff, commit and export read it.
    return f"lowerdir={lower},upperdir={esc(upper_dir)},workdir={esc(work_dir)},{_PLAIN_UPPER}"


def _mountinfo() -> list[tuple[str, str, str]]:
    """(mount point, fstype, super options) of the caller's mounts."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields = left.split()
            rest = right.split()
            if len(fields) < 5 or len(rest) < 3:
                continue
            point = fields[4].replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")
            out.append((point, rest[0], rest[2]))
    return out


@cache
def cgroup_layout() -> CgroupLayout | None:
    """Read once how the host mounts cgroups; None if /sys/fs/cgroup holds no cgroup filesystem."""
    base = "/sys/fs/cgroup"
    try:
        with open("/proc/cgroups") as f:
            controllers = {line.split()[0] for line in f if line.strip() and not line.startswith("#")}
    except OSError:
        controllers = set()
    hierarchies = []
    for point, fstype, opts in _mountinfo():
        if point == base and fstype == "cgroup2":
            return CgroupLayout(unified=True)
        if os.path.dirname(point) == base and fstype in ("cgroup", "cgroup2"):
            name = os.path.basename(point)
            if fstype == "cgroup2":
                continue  # a hybrid machine's controller-less tree: containers have no cgroup there
            else:
                words = [w for w in opts.split(",") if w in controllers or w.startswith("name=")]
                hierarchies.append((name, "cgroup", ",".join(words)))
    if not hierarchies:
        return None
    links = []
    try:
        for entry in os.scandir(base):
            if entry.is_symlink():
                links.append((entry.name, os.readlink(entry.path)))
    except OSError:
        pass
    return CgroupLayout(unified=False, hierarchies=tuple(hierarchies), links=tuple(links))


def default_devices() -> list[Device]:
    return [Device(name, stat.S_IFCHR | 0o666, os.makedev(ma, mi)) for name, ma, mi in DEFAULT_DEVICES]


@cache
def host_devices() -> tuple[Device, ...]:
    """Every device node under the host's /dev (for privileged containers), read once."""
    found: list[Device] = []
    skip = {"pts", "shm", "mqueue", "ptmx", "console"}

    def walk(directory: str, prefix: str) -> None:
        try:
            entries = list(os.scandir(directory))
        except OSError:
            return
        for entry in entries:
            if not prefix and entry.name in skip:
                continue
            rel = prefix + entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                walk(entry.path, rel + "/")
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                found.append(Device(rel, st.st_mode, st.st_rdev, st.st_uid, st.st_gid))

    walk("/dev", "")
    names = {d.path for d in found}
    return tuple(found + [d for d in default_devices() if d.path not in names])


# ---------------------------------------------------------- in the container process, before pivot


def make_rslave() -> None:
    sc.mount(None, "/", None, sc.MS_REC | sc.MS_SLAVE)


def mount_overlay(
    options: str, lower_dirs: Sequence[str], upper: str, work: str, target: str, nodev: bool = False
) -> None:
    """Mount the overlay on ``target``; past the one-page limit of mount(2), use fsconfig's lowerdir+.
    ``nodev``: device nodes in the image or made by the container cannot be opened (see ``mount_dev``)."""
    if len(options) < 4000:
        sc.mount("overlay", target, "overlay", sc.MS_NODEV if nodev else 0, options)
        return
    fd = sc.fsopen("overlay")
    try:
        for d in lower_dirs:
            sc.fsconfig(fd, sc.FSCONFIG_SET_STRING, "lowerdir+", d)
        sc.fsconfig(fd, sc.FSCONFIG_SET_STRING, "upperdir", upper)
        sc.fsconfig(fd, sc.FSCONFIG_SET_STRING, "workdir", work)
        for opt in _PLAIN_UPPER.split(","):
            key, _, value = opt.partition("=")
            sc.fsconfig(fd, sc.FSCONFIG_SET_STRING, key, value)
        sc.fsconfig(fd, sc.FSCONFIG_CMD_CREATE)
        mfd = sc.fsmount(fd, attr_flags=sc.MOUNT_ATTR_NODEV if nodev else 0)
    finally:
        os.close(fd)
    try:
        sc.move_mount(mfd, "", sc.AT_FDCWD, target, sc.MOVE_MOUNT_F_EMPTY_PATH)
    finally:
        os.close(mfd)


def detach_binds(plans: Sequence[MountPlan]) -> list[int]:
    """A detached clone of each bind source, with its attributes applied (-1 for non-bind mounts)."""
    fds = []
    for plan in plans:
        if not plan.bind:
            fds.append(-1)
            continue
        flags = sc.OPEN_TREE_CLONE | sc.OPEN_TREE_CLOEXEC | (sc.AT_RECURSIVE if plan.recursive else 0)
        fd = sc.open_tree(sc.AT_FDCWD, plan.source, flags)
        fds.append(fd)
        if plan.attrs or plan.propagation:
            sc.mount_setattr(
                fd,
                "",
                sc.AT_EMPTY_PATH | (sc.AT_RECURSIVE if plan.recursive else 0),
                plan.attrs,
                0,
                plan.propagation,
            )
    return fds


def clone_from_namespace(ns_path: str, path: str) -> int:
    """A detached clone of ``path`` as the mount namespace at ``ns_path`` shows it (another container's
    /dev/shm for --ipc container:X); the caller's own namespace is entered again before this returns."""
    own = os.open("/proc/self/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    try:
        other = os.open(ns_path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            sc.setns(other, sc.CLONE_NEWNS)
            try:
                flags = sc.OPEN_TREE_CLONE | sc.OPEN_TREE_CLOEXEC | sc.AT_RECURSIVE
                return sc.open_tree(sc.AT_FDCWD, path, flags)
            finally:
                sc.setns(own, sc.CLONE_NEWNS)
        finally:
            os.close(other)
    finally:
        os.close(own)


def attach_shm(fd: int) -> None:
    """Put the detached /dev/shm ``fd`` (clone_from_namespace) in place."""
    os.mkdir("/dev/shm", 0o1777)
    sc.move_mount(fd, "", sc.AT_FDCWD, "/dev/shm", sc.MOVE_MOUNT_F_EMPTY_PATH)
    os.close(fd)


def pivot(rootfs: str) -> None:
    """Make ``rootfs`` the root and drop every host mount from this namespace."""
    os.chdir(rootfs)
    sc.pivot_root(".", ".")
    sc.umount2(".", sc.MNT_DETACH)
    os.chdir("/")


# ----------------------------------------------------------- in the container process, after pivot


def _plain_dir(path: str) -> None:
    """Create mount point ``path`` as a directory; refuse a symlink there (like runc for /proc and /sys)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        os.makedirs(path, 0o755, exist_ok=True)
        return
    if stat.S_ISLNK(st.st_mode):
        raise RuntimeFailure(f"cannot mount on {path}: it is a symlink in the image")
    if not stat.S_ISDIR(st.st_mode):
        raise RuntimeFailure(f"cannot mount on {path}: not a directory in the image")


def _mount_point(path: str, is_dir: bool) -> None:
    if is_dir:
        if not os.path.isdir(path):
            os.makedirs(path, 0o755, exist_ok=True)
        return
    if os.path.exists(path):
        return
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        os.makedirs(parent, 0o755, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))


def mount_proc() -> None:
    _plain_dir("/proc")
    sc.mount("proc", "/proc", "proc", _NOSUID_NODEV_NOEXEC)


def mount_dev(
    devices: Sequence[Device], skip: Iterable[str] = (), nodev: bool = False, shm: str | None = SHM_OPTIONS
) -> None:
    """A fresh /dev: tmpfs, device nodes, devpts (new instance), shm, mqueue, symlinks.

    ``nodev`` (every container but a privileged one): each of ``devices`` is bound onto itself, then /dev
    itself becomes ``nodev``, so that only those nodes open. Docker gets the same from its devices cgroup
    (CAP_MKNOD is in its default set); mount flags do it on cgroup v1 and v2 alike."""
    skipped = set(skip)
    _plain_dir("/dev")
    sc.mount("tmpfs", "/dev", "tmpfs", sc.MS_NOSUID | sc.MS_STRICTATIME, "mode=755,size=65536k")
    for dev in devices:
        path = "/dev/" + dev.path
        if "/" in dev.path:
            os.makedirs(os.path.dirname(path), 0o755, exist_ok=True)
        os.mknod(path, dev.mode, dev.rdev)
        if dev.uid or dev.gid:
            os.chown(path, dev.uid, dev.gid)
        if nodev:
            sc.mount(path, path, None, sc.MS_BIND)
    os.mkdir("/dev/pts", 0o755)
    sc.mount(
        "devpts",
        "/dev/pts",
        "devpts",
        sc.MS_NOSUID | sc.MS_NOEXEC,
        "newinstance,ptmxmode=0666,mode=0620,gid=5",
    )
    if "/dev/shm" not in skipped and shm is not None:  # None: --ipc none
        os.mkdir("/dev/shm", 0o1777)
        sc.mount("shm", "/dev/shm", "tmpfs", _NOSUID_NODEV_NOEXEC, shm)
    if "/dev/mqueue" not in skipped:
        os.mkdir("/dev/mqueue", 0o755)
        sc.mount("mqueue", "/dev/mqueue", "mqueue", _NOSUID_NODEV_NOEXEC)
    for name, target in DEV_SYMLINKS:
        os.symlink(target, "/dev/" + name)
    if nodev:
        sc.mount_setattr(sc.AT_FDCWD, "/dev", 0, sc.MOUNT_ATTR_NODEV)  # /dev alone: not what is mounted below


def bind_console(pts: str) -> None:
    """/dev/console is the container's terminal (a bind of its ``/dev/pts/N``), as with Docker."""
    os.close(os.open("/dev/console", os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o620))
    sc.mount(pts, "/dev/console", None, sc.MS_BIND)


def mount_sys(readonly: bool) -> None:
    _plain_dir("/sys")
    sc.mount("sysfs", "/sys", "sysfs", _NOSUID_NODEV_NOEXEC | (sc.MS_RDONLY if readonly else 0))


def mount_cgroups(layout: CgroupLayout | None, readonly: bool) -> None:
    """/sys/fs/cgroup as the host lays it out; inside a cgroup namespace each tree starts at its root."""
    if layout is None:
        return
    base = "/sys/fs/cgroup"
    ro = sc.MS_RDONLY if readonly else 0
    if layout.unified:
        sc.mount("cgroup2", base, "cgroup2", _NOSUID_NODEV_NOEXEC | ro)
        return
    sc.mount("tmpfs", base, "tmpfs", _NOSUID_NODEV_NOEXEC, "mode=755")
    for name, fstype, options in layout.hierarchies:
        path = f"{base}/{name}"
        os.mkdir(path, 0o555)
        sc.mount("cgroup", path, fstype, _NOSUID_NODEV_NOEXEC | ro, options or None)
    for name, target in layout.links:
        os.symlink(target, f"{base}/{name}")
    if readonly:
        sc.mount_setattr(sc.AT_FDCWD, base, 0, sc.MOUNT_ATTR_RDONLY)


def attach_mounts(plans: Sequence[MountPlan], fds: Sequence[int]) -> None:
    """Attach the user's mounts, in order, inside the container's root."""
    for plan, fd in zip(plans, fds, strict=True):
        dest = plan.destination
        if plan.bind:
            _mount_point(dest, plan.source_is_dir)
            sc.move_mount(fd, "", sc.AT_FDCWD, dest, sc.MOVE_MOUNT_F_EMPTY_PATH | sc.MOVE_MOUNT_T_SYMLINKS)
            os.close(fd)
        else:
            _mount_point(dest, True)
            sc.mount(plan.source, dest, plan.fstype, plan.flags, plan.data or None)
            if plan.propagation:
                sc.mount(None, dest, None, plan.propagation)


def mask_paths(paths: Iterable[str]) -> None:
    """Hide ``paths``: /dev/null over files (checked to be char 1:3), an empty read-only tmpfs over dirs."""
    null_checked = False
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            sc.mount("tmpfs", path, "tmpfs", sc.MS_RDONLY, "size=0")
            continue
        if not null_checked:
            null = os.stat("/dev/null")
            if not stat.S_ISCHR(null.st_mode) or null.st_rdev != os.makedev(1, 3):
                raise RuntimeFailure("/dev/null in the container is not the null device (char 1:3)")
            null_checked = True
        sc.mount("/dev/null", path, None, sc.MS_BIND)


def readonly_paths(paths: Iterable[str]) -> None:
    """Make ``paths`` (and what is mounted below them) read-only."""
    for path in paths:
        try:
            sc.mount(path, path, None, sc.MS_BIND | sc.MS_REC)
        except FileNotFoundError:
            continue
        sc.mount_setattr(sc.AT_FDCWD, path, sc.AT_RECURSIVE, sc.MOUNT_ATTR_RDONLY)


def make_root_readonly() -> None:
    sc.mount_setattr(sc.AT_FDCWD, "/", 0, sc.MOUNT_ATTR_RDONLY)
