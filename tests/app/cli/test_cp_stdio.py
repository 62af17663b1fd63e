"""``cp`` through the real CLI: tar streams on standard input and output, owners, -L, -q and Docker's
refusals."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import tarfile

from tests.conftest import DOCKYARD


def _tar(members: dict[str, bytes], uid: int = 0, gid: int = 0, dirs: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for d in dirs:
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode, ti.uid, ti.gid = tarfile.DIRTYPE, 0o755, uid, gid
            tf.addfile(ti)
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.uid, ti.gid = len(data), 0o640, uid, gid
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def _running(cli, name: str) -> None:
    cli("run", "-d", "--name", name, "busybox", "sleep", "1000")


def test_cp_to_stdout_writes_a_tar_of_the_path(cli, busybox, tmp_path):
    _running(cli, "src")
    cli("exec", "src", "sh", "-c", "mkdir -p /d/sub && echo hello > /d/sub/f && chown 1234:5678 /d/sub/f")
    r = subprocess.run(
        [DOCKYARD, "cp", "src:/d/sub/f", "-"],
        capture_output=True,
        env={**os.environ, "DOCKYARD_ROOT": cli.root},
        cwd=tmp_path,
        check=True,
    )
    assert not (tmp_path / "-").exists()  # no file named "-"
    with tarfile.open(fileobj=io.BytesIO(r.stdout)) as tf:
        (m,) = tf.getmembers()
        assert (m.name, m.uid, m.gid) == ("f", 1234, 5678)  # the container's owners, as Docker's archive
        assert tf.extractfile(m).read() == b"hello\n"  # type: ignore[union-attr]
    r = subprocess.run(
        [DOCKYARD, "cp", "src:/d", "-"],
        capture_output=True,
        env={**os.environ, "DOCKYARD_ROOT": cli.root},
        check=True,
    )
    with tarfile.open(fileobj=io.BytesIO(r.stdout)) as tf:
        assert sorted(tf.getnames()) == ["d", "d/sub", "d/sub/f"]
    assert "Could not find the file /nope" in cli.fails("cp", "src:/nope", "-").err


def test_cp_from_stdin_extracts_into_a_directory(cli, busybox):
    _running(cli, "dst")
    data = _tar({"top/a.txt": b"A", "top/b.txt": b"BB"}, uid=77, gid=88, dirs=("top",))
    cli("cp", "-", "dst:/tmp", input=data)
    out = cli("exec", "dst", "sh", "-c", "cat /tmp/top/a.txt /tmp/top/b.txt; stat -c '%u:%g' /tmp/top/b.txt")
    # without -a the copies belong to root in the container (Docker's documented rule)
    assert out.out == "ABB0:0\n"
    cli("cp", "-a", "-", "dst:/opt", input=data)
    assert cli("exec", "dst", "stat", "-c", "%u:%g %a", "/opt/top/a.txt").out == "77:88 640\n"
    # a compressed archive is read too
    import gzip

    cli("exec", "dst", "mkdir", "/srv")
    cli("cp", "-", "dst:/srv", input=gzip.compress(_tar({"z": b"zipped"})))
    assert cli("exec", "dst", "cat", "/srv/z").out == "zipped"
    # the destination must be a directory
    r = cli.fails("cp", "-", "dst:/etc/passwd", input=data, code=1)
    assert 'destination "dst:/etc/passwd" must be a directory' in r.err
    r = cli.fails("cp", "-", "dst:/missing", input=data, code=1)
    assert 'destination "dst:/missing" must be a directory' in r.err
    assert "Error processing tar file" in cli.fails("cp", "-", "dst:/tmp", input=b"not a tar" * 100).err


def test_cp_owners_and_follow_link(cli, busybox, tmp_path):
    _running(cli, "own")
    cli("exec", "own", "sh", "-c", "echo in > /f && chown 1234:5678 /f && ln -s /f /link")
    # copies on the host belong to the user who ran cp
    cli("cp", "own:/f", str(tmp_path / "f"))
    st = os.stat(tmp_path / "f")
    assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())
    # a link is copied as a link; -L copies what it points to, under the link's name
    cli("cp", "own:/link", str(tmp_path / "plain"))
    assert os.readlink(tmp_path / "plain") == "/f"
    cli("cp", "-L", "own:/link", str(tmp_path / "followed"))
    assert (tmp_path / "followed").read_text() == "in\n"
    assert not os.path.islink(tmp_path / "followed")

    host = tmp_path / "host.txt"
    host.write_text("from host")
    os.chown(host, 4321, 8765)
    cli("cp", str(host), "own:/tmp/")
    assert cli("exec", "own", "stat", "-c", "%u:%g", "/tmp/host.txt").out == "0:0\n"
    cli("cp", "-a", str(host), "own:/tmp/kept.txt")
    assert cli("exec", "own", "stat", "-c", "%u:%g", "/tmp/kept.txt").out == "4321:8765\n"
    os.symlink(host, tmp_path / "hostlink")
    cli("cp", "-L", str(tmp_path / "hostlink"), "own:/tmp/")
    assert cli("exec", "own", "cat", "/tmp/hostlink").out == "from host"


def test_cp_refusals_in_dockers_words(cli, busybox, tmp_path):
    cli(
        "run",
        "-d",
        "--name",
        "ro",
        "--read-only",
        "-v",
        "/data",
        "-v",
        "rov:/rodata:ro",
        "busybox",
        "sleep",
        "1000",
    )
    f = tmp_path / "f"
    f.write_text("x")
    assert "container rootfs is marked read-only" in cli.fails("cp", str(f), "ro:/etc/", code=1).err
    assert "mounted volume is marked read-only" in cli.fails("cp", str(f), "ro:/rodata/", code=1).err
    assert "container rootfs is marked read-only" in cli.fails("cp", "-", "ro:/", input=_tar({"a": b"1"})).err
    cli("cp", str(f), "ro:/data/")  # a writable volume takes it
    assert cli("exec", "ro", "cat", "/data/f").out == "x"
    # a stopped read-only container is refused too (its view would be writable)
    cli("stop", "-t", "0", "ro")
    assert "container rootfs is marked read-only" in cli.fails("cp", str(f), "ro:/etc/").err

    _running(cli, "c2")
    assert "copying between containers is not supported" in cli.fails("cp", "ro:/etc", "c2:/tmp").err
    assert "must specify at least one container source" in cli.fails("cp", str(f), str(tmp_path / "g")).err
    r = cli.fails("cp", "c2:/etc/passwd", str(tmp_path / "no" / "such"), code=1)
    assert f'invalid output path: directory "{tmp_path / "no"}" does not exist' in r.err
    assert "no such directory" in cli.fails("cp", str(f), "c2:/newdir/").err
    assert "cannot copy directory" in cli.fails("cp", "c2:/etc", str(f)).err


def test_cp_summary_on_a_terminal_and_quiet(cli, busybox, tmp_path):
    _running(cli, "tt")
    f = tmp_path / "five"
    f.write_text("12345")
    env = {**os.environ, "DOCKYARD_ROOT": cli.root}

    def on_terminal(*args: str) -> str:
        master, slave = pty.openpty()
        try:
            p = subprocess.run([DOCKYARD, *args], stdout=slave, stderr=subprocess.PIPE, env=env, timeout=60)
        finally:
            os.close(slave)
            os.close(master)
        assert p.returncode == 0, p.stderr
        return p.stderr.decode()

    err = on_terminal("cp", str(f), "tt:/tmp/")
    assert err.startswith("Successfully copied 5B (transferred ") and err.endswith(" to tt:/tmp/\n")
    assert on_terminal("cp", "-q", str(f), "tt:/tmp/") == ""
    err = on_terminal("cp", "tt:/tmp/five", str(tmp_path / "back"))
    assert err.startswith("Successfully copied 5B") and err.endswith(f" to {tmp_path / 'back'}\n")
    assert cli("cp", str(f), "tt:/tmp/").err == ""  # no terminal: no summary
