"""A root on a small tmpfs, filled to the last byte: every command that must write fails with one clear line
(no traceback), changes nothing that was there, leaves nothing half-made, and all works again once space is
freed."""

from __future__ import annotations

import errno
import os
import subprocess

import pytest

from tests.conftest import DOCKYARD, _cleanup_root


def _dy(root: str, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[str]:
    p = subprocess.run(
        [DOCKYARD, *args],
        env={**os.environ, "DOCKYARD_ROOT": root},
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    return subprocess.CompletedProcess(p.args, p.returncode, p.stdout.decode(), p.stderr.decode())


def _fill(path: str) -> None:
    """Write zeros to ``path`` until the file system has no byte left."""
    block = b"\0" * (1 << 16)
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                f.write(block)
            except OSError as e:
                assert e.errno == errno.ENOSPC
                break
    with open(path, "ab", buffering=0) as f:  # the last partial block
        try:
            while f.write(b"\0"):
                pass
        except OSError:
            pass


@pytest.fixture
def small_root(tmp_path, busybox_tar):  # type: ignore[no-untyped-def]
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mnt)], check=True)
    root = str(mnt / "root")
    try:
        p = _dy(root, "import", "--change", 'CMD ["sh"]', busybox_tar, "busybox:latest")
        assert p.returncode == 0, p.stderr
        p = _dy(
            root, "run", "--name", "before", "--network", "none", "busybox:latest", "sh", "-c", "echo x > /x"
        )
        assert p.returncode == 0, p.stderr
        ctx = tmp_path / "ctx"
        ctx.mkdir()
        (ctx / "Dockerfile").write_text("FROM busybox:latest\nRUN dd if=/dev/zero of=/big bs=1k count=64\n")
        p = _dy(root, "save", "-o", str(tmp_path / "bb.tar"), "busybox:latest")
        assert p.returncode == 0, p.stderr
        yield root, str(mnt / "filler"), str(ctx), str(tmp_path / "bb.tar")
    finally:
        _cleanup_root(root)
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_fails_each_command_cleanly_and_loses_nothing(small_root) -> None:  # type: ignore[no-untyped-def]
    root, filler, ctx, archive = small_root
    before_images = _dy(root, "images", "-q", "--no-trunc").stdout
    _fill(filler)
    attempts = {
        "run": ["run", "--name", "after", "--network", "none", "busybox:latest", "sh", "-c", "echo y > /y"],
        "create": ["create", "--network", "none", "busybox:latest"],
        "commit": ["commit", "before", "committed:v1"],
        "build": ["build", "-q", "-t", "built:v1", ctx],
        "load": ["load", "-i", archive],
        "tag": ["tag", "busybox:latest", "other:v1"],
        "volume": ["volume", "create", "vol1"],
    }
    refused = []
    for what, args in attempts.items():
        p = _dy(root, *args)
        assert "Traceback" not in p.stderr, f"{what}: {p.stderr}"
        if p.returncode != 0:
            refused.append(what)
            last = p.stderr.strip().splitlines()[-1]
            assert last.startswith("Error: ") and "no space left on device" in last.lower(), (
                f"{what}: {p.stderr}"
            )
            assert "unexpected" not in last, f"{what}: a full disk is not a bug: {last}"
    print("refused on a full disk:", refused)
    assert {"run", "create", "commit", "build", "load"} <= set(refused), refused
    assert set(before_images.split()) <= set(_dy(root, "images", "-q", "--no-trunc").stdout.split())
    check = _dy(root, "system", "check")
    assert check.returncode == 0 and check.stdout.strip().endswith("ok"), check.stdout + check.stderr
    assert os.listdir(os.path.join(root, "tmp")) == []
    assert _dy(root, "inspect", "before").returncode == 0
    for line in _dy(root, "ps", "-a", "--format", "{{.Names}} {{.Status}}").stdout.splitlines():
        assert "Dead" not in line, line

    os.unlink(filler)
    p = _dy(root, "start", "-a", "before")
    assert p.returncode == 0, p.stderr
    for what, args in attempts.items():
        if what == "run":
            _dy(root, "rm", "-f", "after")  # when its create got through before the disk filled
        p = _dy(root, *args)
        assert p.returncode == 0 or "already exists" in p.stderr, f"{what}: {p.stderr}"
    check = _dy(root, "system", "check")
    assert check.returncode == 0 and check.stdout.strip().endswith("ok"), check.stdout
