"""The engine reads an image's /etc/passwd and /etc/group as data to resolve ``--user``: a layer whose ``etc``
is a symlink to a path on the host must not make it read the host's files."""

from __future__ import annotations

import io
import tarfile


def _tar(entries: list[tarfile.TarInfo]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for ti in entries:
            tf.addfile(ti)
    return buf.getvalue()


def test_a_symlinked_etc_is_not_followed_to_the_host(cli, busybox, tmp_path) -> None:
    host_etc = tmp_path / "host-etc"
    host_etc.mkdir()
    (host_etc / "passwd").write_text("probe:x:4242:4242::/:/bin/sh\n")
    (host_etc / "group").write_text("probe:x:4242:\n")
    link = tarfile.TarInfo("etc")
    link.type = tarfile.SYMTYPE
    link.linkname = str(host_etc)  # absolute: inside the container it leads nowhere
    cli("import", "-", "linked:v1", input=_tar([link]))
    r = cli.fails("run", "--rm", "--network", "none", "-u", "probe", "linked:v1", "true")
    assert "unable to find user probe" in r.err, r.err
