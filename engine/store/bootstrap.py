"""Base images made on this machine, without a registry.

``busybox`` comes from the host's static busybox binary in about a second, offline. ``debian[:SUITE]`` is made
with debootstrap (minbase) from the Debian mirror the machine's apt is configured with: the base for bash.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Callable

from ..errors import InvalidArgument, RuntimeFailure
from . import tmp as tmpfiles

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .imagestore import ImageStore

ProgressFn = Callable[[str, int, int], None]

PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_PASSWD = """root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
"""
_GROUP = """root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
www-data:x:33:
operator:x:37:
users:x:100:
nogroup:x:65534:
"""


def find_static_busybox() -> str:
    for cand in ("/bin/busybox", "/usr/bin/busybox"):
        if os.path.exists(cand):
            with open(cand, "rb") as f:
                head = f.read(1 << 16)
            if b"ld-linux" not in head and b"/lib64/ld" not in head:
                return cand
    raise RuntimeFailure(
        "a static busybox is needed to bootstrap busybox:latest: install it with 'apt-get install busybox-static'"
    )


def busybox_tar(busybox: str) -> bytes:
    """A deterministic rootfs tarball: the static busybox, its applet links and a minimal /etc."""
    mtime = int(os.stat(busybox).st_mtime)
    listing = subprocess.run([busybox, "--list-full"], capture_output=True, text=True, check=True).stdout
    links = sorted({p.strip() for p in listing.split() if p.strip() and p.strip() != "bin/busybox"})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:

        def add_dir(name: str, mode: int = 0o755) -> None:
            ti = tarfile.TarInfo(name)
            ti.type = tarfile.DIRTYPE
            ti.mode = mode
            ti.mtime = mtime
            tf.addfile(ti)

        def add_file(name: str, data: bytes, mode: int = 0o644) -> None:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = mode
            ti.mtime = mtime
            tf.addfile(ti, io.BytesIO(data))

        dirs = [
            "bin",
            "dev",
            "etc",
            "home",
            "proc",
            "root",
            "sys",
            "usr",
            "usr/bin",
            "usr/sbin",
            "sbin",
            "var",
            "var/www",
            "var/spool",
            "var/spool/mail",
            "mnt",
            "opt",
            "run",
        ]
        dirs += sorted({os.path.dirname(x) for x in links if os.path.dirname(x)} - set(dirs))
        for d in sorted(set(dirs)):
            add_dir(d, 0o700 if d == "root" else 0o755)
        add_dir("tmp", 0o1777)
        add_dir("var/tmp", 0o1777)
        with open(busybox, "rb") as f:
            add_file("bin/busybox", f.read(), 0o755)
        for link in links:
            ti = tarfile.TarInfo(link)
            ti.type = tarfile.LNKTYPE
            ti.linkname = "bin/busybox"
            ti.mtime = mtime
            ti.mode = 0o755
            tf.addfile(ti)
        add_file("etc/passwd", _PASSWD.encode())
        add_file("etc/group", _GROUP.encode())
        add_file("etc/shadow", b"root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n", 0o640)
        add_file(
            "etc/os-release", b'NAME="BusyBox"\nID=busybox\nPRETTY_NAME="BusyBox (dockyard bootstrap)"\n'
        )
    return buf.getvalue()


def debian_mirror() -> str:
    """The Debian mirror apt on this machine uses."""
    candidates = []
    for path in ("/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"):
        try:
            text = open(path).read()
        except OSError:
            continue
        candidates += re.findall(r"^URIs:\s*(\S+)", text, re.M)
        candidates += re.findall(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+\s+main", text, re.M)
    for c in candidates:
        if "security" not in c:
            return c
    if candidates:
        return candidates[0]
    raise RuntimeFailure("no Debian mirror configured in /etc/apt; cannot bootstrap debian")


def bootstrap(store: ImageStore, what: str, progress: ProgressFn | None = None) -> str:
    name, _, tag = what.partition(":")
    say = progress or (lambda _m, _c, _t: None)
    if name == "busybox":
        say("Reading the host's static busybox", 0, 2)
        data = busybox_tar(find_static_busybox())
        say("Importing busybox:" + (tag or "latest"), 1, 2)
        image_id = store.import_tar(
            io.BytesIO(data),
            f"busybox:{tag or 'latest'}",
            message="bootstrapped from the host's busybox-static",
            changes={"Cmd": ["sh"], "Env": [PATH_ENV]},
        )
        say("Done", 2, 2)
        return image_id
    if name == "debian":
        return _debian(store, tag or "bookworm", say)
    raise InvalidArgument(f"unknown bootstrap image {what!r}: choose busybox or debian[:SUITE]")


def _debian(store: ImageStore, suite: str, say: ProgressFn) -> str:
    if not re.match(r"^[a-z]+$", suite):
        raise InvalidArgument(f"invalid Debian suite {suite!r}")
    if shutil.which("debootstrap") is None:
        raise RuntimeFailure("debootstrap is not installed: 'apt-get install debootstrap'")
    mirror = debian_mirror()
    work = tmpfiles.make_dir(store.layout.tmp, "debootstrap")
    target = os.path.join(work, "rootfs")
    try:
        say(f"debootstrap {suite} from {mirror}", 0, 0)
        proc = subprocess.Popen(
            ["debootstrap", "--variant=minbase", suite, target, mirror],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            line = line.rstrip()
            lines.append(line)
            if line.startswith("I: "):
                say(line[3:], 0, 0)
        if proc.wait() != 0:
            raise RuntimeFailure("debootstrap failed:\n" + "\n".join(lines[-15:]))
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            p = os.path.join(target, junk)
            for n in os.listdir(p) if os.path.isdir(p) else []:
                fp = os.path.join(p, n)
                if os.path.isfile(fp) and n != "lock":
                    os.unlink(fp)
        say("Importing the root filesystem", 0, 0)
        tar = subprocess.Popen(
            ["tar", "-C", target, "--numeric-owner", "--xattrs", "--xattrs-include=*", "-cf", "-", "."],
            stdout=subprocess.PIPE,
        )
        assert tar.stdout is not None
        image_id = store.import_tar(
            tar.stdout,  # type: ignore[arg-type]
            f"debian:{suite}",
            message=f"debootstrap --variant=minbase {suite}",
            changes={"Cmd": ["bash"], "Env": [PATH_ENV]},
        )
        if tar.wait() != 0:
            raise RuntimeFailure("tar of the debootstrap tree failed")
        say("Done", 1, 1)
        return image_id
    finally:
        tmpfiles.remove_tree(work)
