"""resolve_user(): ``-u USER[:GROUP]`` from an image's /etc/passwd and /etc/group, read as data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.errors import InvalidArgument
from engine.runtime.users import resolve_user

PASSWD = """\
root:x:0:0:root:/root:/bin/sh
# a comment line, then a broken one
broken:x:notanumber:0::/:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
app:x:1000:1000:app user:/home/app:/bin/sh
short:x:1001:1001
1234:x:2000:2000::/home/numeric:/bin/sh
"""
GROUP = """\
root:x:0:
wheel:x:10:root,app
staff:x:50:app,short
app:x:1000:
audio:x:29:
"""


@pytest.fixture
def image(tmp_path: Path) -> str:
    etc = tmp_path / "rootfs" / "etc"
    etc.mkdir(parents=True)
    (etc / "passwd").write_text(PASSWD)
    (etc / "group").write_text(GROUP)
    return str(tmp_path / "rootfs")


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("", (0, 0, [10], "/root")),
        ("root", (0, 0, [10], "/root")),
        ("0", (0, 0, [10], "/root")),
        ("app", (1000, 1000, [10, 50], "/home/app")),
        ("1000", (1000, 1000, [10, 50], "/home/app")),
        ("app:staff", (1000, 50, [], "/home/app")),
        ("app:29", (1000, 29, [], "/home/app")),
        ("1000:4321", (1000, 4321, [], "/home/app")),
        ("4242", (4242, 0, [], "/")),
        ("4242:audio", (4242, 29, [], "/")),
        ("short", (1001, 1001, [50], "/")),
        ("1234", (2000, 2000, [], "/home/numeric")),  # a user named "1234"
        (":staff", (0, 50, [], "/root")),
    ],
)
def test_resolve(image: str, user: str, expected: tuple) -> None:
    assert resolve_user(image, user) == expected


def test_unknown_user(image: str) -> None:
    with pytest.raises(
        InvalidArgument, match="^unable to find user nosuch: no matching entries in passwd file$"
    ):
        resolve_user(image, "nosuch")


def test_unknown_group(image: str) -> None:
    with pytest.raises(
        InvalidArgument, match="^unable to find group nogroup: no matching entries in group file$"
    ):
        resolve_user(image, "app:nogroup")


def test_id_out_of_range(image: str) -> None:
    with pytest.raises(InvalidArgument, match="range 0-2147483647"):
        resolve_user(image, "4294967296")


def test_missing_files(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    root = str(tmp_path / "empty")
    assert resolve_user(root, "") == (0, 0, [], "/")
    assert resolve_user(root, "55:66") == (55, 66, [], "/")
    with pytest.raises(InvalidArgument, match="unable to find user root"):
        resolve_user(root, "root")


@pytest.mark.parametrize("link", ["/HOST/passwd", "../../../../../../../../HOST/passwd"])
def test_symlinked_passwd_cannot_reach_the_host(tmp_path: Path, link: str) -> None:
    host = tmp_path / "host"
    host.mkdir()
    (host / "passwd").write_text("evil:x:0:0::/:/bin/sh\n")
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    os.symlink(link.replace("HOST", str(host).lstrip("/")), rootfs / "etc" / "passwd")
    with pytest.raises(InvalidArgument, match="unable to find user evil"):
        resolve_user(str(rootfs), "evil")


def test_symlink_inside_the_image_is_followed(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    (rootfs / "usr").mkdir()
    (rootfs / "usr" / "passwd").write_text("svc:x:7:8::/srv:/bin/sh\n")
    os.symlink("/usr/passwd", rootfs / "etc" / "passwd")
    assert resolve_user(str(rootfs), "svc") == (7, 8, [], "/srv")


def test_fifo_or_directory_is_not_read(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    os.mkfifo(rootfs / "etc" / "passwd")  # reading it would block forever
    (rootfs / "etc" / "group").mkdir()
    assert resolve_user(str(rootfs), "3:4") == (3, 4, [], "/")
    with pytest.raises(InvalidArgument):
        resolve_user(str(rootfs), "someone")
