"""launch(): a real PID 1 in new namespaces on an overlay root, checked from inside the container."""

from __future__ import annotations

import os
import resource
import signal
import stat
import subprocess
import threading
import uuid
from typing import Any

import pytest

from engine.errors import CommandNotFound, CommandNotInvokable, DockyardError, InvalidArgument, RuntimeFailure
from engine.runtime import console
from engine.runtime.launch import launch
from engine.runtime.spec import Mount
from tests.engine.runtime.conftest import Runner, children, read_all

pytestmark = [pytest.mark.slow, pytest.mark.root]


def test_command_is_pid_1_and_exit_code_propagates(runner: Runner) -> None:
    code, out = runner.sh("echo pid=$$; exit 3")
    assert (code, out) == (3, "pid=1\n")


def test_signal_death_is_reported_as_signal(runner: Runner) -> None:
    code, _ = runner.sh("kill -9 $$")  # PID 1 ignores signals from inside, except those it handles
    assert code == 0
    pid, r = runner.start(runner.spec(["sleep", "30"]))
    os.kill(pid, 9)
    assert runner.collect(pid, r)[0] == -9


def test_returned_pid_is_a_direct_child_in_its_own_pid_namespace(runner: Runner) -> None:
    seen: dict[str, Any] = {}

    def before_exec(pid: int) -> None:
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f)
        seen["nspid"] = status["NSpid"].split()
        seen["ppid"] = int(status["PPid"])

    pid, r = runner.start(runner.spec(["true"]), before_exec=before_exec)
    assert seen["nspid"] == [str(pid), "1"]
    assert seen["ppid"] == os.getpid()
    assert runner.collect(pid, r)[0] == 0


def test_hostname_env_and_working_directory(runner: Runner) -> None:
    spec = runner.spec(["sh", "-c", 'hostname; echo "$GREETING"; pwd'], process={"cwd": "/srv/app"})
    spec.process.env.append("GREETING=hello world")
    pid, r = runner.start(spec)
    assert runner.collect(pid, r) == (0, "box\nhello world\n/srv/app\n")
    assert os.path.isdir(os.path.join(runner.upper, "srv/app"))  # created like Docker does


def test_default_capabilities_and_no_new_privs(runner: Runner) -> None:
    code, out = runner.sh("grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status")
    fields = dict(line.split(":\t") for line in out.splitlines())
    assert code == 0
    assert fields["CapBnd"] == "00000000a80425fb"
    assert fields["CapEff"] == fields["CapPrm"] == "00000000a80425fb"
    assert fields["CapInh"] == fields["CapAmb"] == "0000000000000000"
    assert fields["NoNewPrivs"] == "1"
    assert fields["Seccomp"] == "2"


def test_non_root_user_has_no_effective_capabilities(runner: Runner) -> None:
    code, out = runner.sh(
        "id; grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status; echo $HOME", process={"user": "app"}
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "uid=1000(app) gid=1000(app) groups=10(wheel),50(staff)"
    assert "CapEff:\t0000000000000000" in lines and "CapPrm:\t0000000000000000" in lines
    assert "CapBnd:\t00000000a80425fb" in lines
    assert lines[-1] == "/home/app"


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("", "uid=0(root) gid=0(root) groups=10(wheel)"),
        ("1000:50", "uid=1000(app) gid=50(staff)"),
        ("4242", "uid=4242 gid=0(root)"),
        ("nobody:wheel", "uid=65534(nobody) gid=10(wheel)"),
    ],
)
def test_user_forms(runner: Runner, user: str, expected: str) -> None:
    assert runner.run(["id"], process={"user": user}) == (0, expected + "\n")


def test_unknown_user_fails_before_the_command_runs(runner: Runner) -> None:
    with pytest.raises(
        InvalidArgument, match="unable to find user nosuch: no matching entries in passwd file"
    ):
        runner.run(["id"], process={"user": "nosuch"})
    assert children() == set()


def test_numeric_ids_without_user_resolution(runner: Runner) -> None:
    assert runner.run(["id"], process={"uid": 7, "gid": 8, "additional_gids": [9]}) == (
        0,
        "uid=7 gid=8 groups=9\n",
    )


def test_only_stdio_descriptors_reach_the_process(runner: Runner, tmp_path) -> None:
    leaked = os.open(str(tmp_path), os.O_RDONLY)  # an inheritable fd on a host directory
    os.set_inheritable(leaked, True)
    try:
        pid, r = runner.start(runner.spec(["sleep", "30"]))
    finally:
        os.close(leaked)
    try:
        assert sorted(os.listdir(f"/proc/{pid}/fd")) == ["0", "1", "2"]
    finally:
        os.kill(pid, 9)
        runner.collect(pid, r)


def test_writes_go_to_upper_and_lower_stays_untouched(runner: Runner) -> None:
    before = sorted(os.listdir(runner.lower))
    code, out = runner.sh("echo data > /made; rm /etc/group; cat /made")
    assert (code, out) == (0, "data\n")
    with open(os.path.join(runner.upper, "made")) as f:
        assert f.read() == "data\n"
    whiteout = os.lstat(os.path.join(runner.upper, "etc/group"))
    assert stat.S_ISCHR(whiteout.st_mode) and whiteout.st_rdev == 0
    assert sorted(os.listdir(runner.lower)) == before
    assert os.path.exists(os.path.join(runner.lower, "etc/group"))
    assert not os.path.exists(os.path.join(runner.lower, "made"))


def test_nothing_stays_mounted_on_the_host(runner: Runner) -> None:
    pid, r = runner.start(runner.spec(["sleep", "30"]))
    with open("/proc/self/mountinfo") as f:
        assert runner.rootfs not in f.read()  # even while the container runs
    with open(f"/proc/{pid}/mountinfo") as f:
        assert " / " in f.read()
    os.kill(pid, 9)
    runner.collect(pid, r)
    assert os.listdir(runner.rootfs) == []


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (["nosuch"], CommandNotFound, 'exec: "nosuch": executable file not found in $PATH'),
        (["/nosuch"], CommandNotFound, 'exec: "/nosuch": stat /nosuch: no such file or directory'),
        (["/etc"], CommandNotInvokable, 'exec: "/etc": permission denied'),
        (["/etc/passwd"], CommandNotInvokable, 'exec: "/etc/passwd": permission denied'),
    ],
)
def test_exec_errors(runner: Runner, args: list[str], error: type[DockyardError], message: str) -> None:
    with pytest.raises(error) as info:
        runner.run(args)
    assert info.value.message == message
    assert info.value.exit_code == (127 if error is CommandNotFound else 126)
    assert children() == set()


def test_exec_format_error_is_not_invokable(runner: Runner) -> None:
    runner.sh("printf 'not a program' > /bin/junk && chmod +x /bin/junk")
    with pytest.raises(CommandNotInvokable, match='exec: "junk": exec format error'):
        runner.run(["junk"])


def test_setup_failure_names_the_step_and_leaves_nothing(runner: Runner) -> None:
    spec = runner.spec(["true"])
    spec.lower_dirs = ["/nonexistent-layer"]
    with pytest.raises(RuntimeFailure, match=r"mount overlay on .*: no such file or directory \(ENOENT\)"):
        runner.start(spec)
    assert children() == set()


def test_bad_spec_is_refused_before_anything_starts(runner: Runner) -> None:
    with pytest.raises(InvalidArgument, match="unknown capability"):
        runner.start(runner.spec(["true"], process={"capabilities": ["CAP_NOPE"]}))
    with pytest.raises(InvalidArgument, match="bind source path does not exist"):
        runner.start(runner.spec(["true"], mounts=[Mount("/x", "bind", "/nonexistent-source")]))
    with pytest.raises(InvalidArgument, match="no command"):
        runner.start(runner.spec([]))
    assert children() == set()


def test_failing_before_exec_kills_the_process(runner: Runner) -> None:
    started = []

    def before_exec(pid: int) -> None:
        started.append(pid)
        raise OSError("network setup failed")

    with pytest.raises(OSError, match="network setup failed"):
        runner.start(runner.spec(["sleep", "30"]), before_exec=before_exec)
    assert started and not os.path.exists(f"/proc/{started[0]}")
    assert children() == set()


def test_readonly_rootfs_refuses_writes_but_mounts_work(runner: Runner) -> None:
    code, out = runner.sh(
        "touch /x 2>&1; echo t > /scratch/t && cat /scratch/t",
        readonly_rootfs=True,
        mounts=[Mount("/scratch", "tmpfs", options=["size=1m", "mode=1777"])],
    )
    assert code == 0
    assert "Read-only file system" in out and out.endswith("t\n")


def test_bind_mounts_ro_and_rw(runner: Runner, tmp_path) -> None:
    ro, rw = tmp_path / "ro", tmp_path / "rw"
    ro.mkdir()
    rw.mkdir()
    (ro / "in").write_text("from host\n")
    code, out = runner.sh(
        "cat /data/in; (echo no > /data/out) 2>/dev/null || echo refused; echo yes > /out/file",
        mounts=[Mount("/data", "bind", str(ro), ["ro"]), Mount("/out", "bind", str(rw))],
    )
    assert (code, out) == (0, "from host\nrefused\n")
    assert (rw / "file").read_text() == "yes\n"
    assert not (ro / "out").exists()


def test_etc_file_symlink_cannot_escape_the_rootfs(runner: Runner, tmp_path) -> None:
    victim = f"/tmp/dockyard-victim-{uuid.uuid4().hex}"
    etc = os.path.join(runner.upper, "etc")
    os.makedirs(etc)
    os.symlink("../../../../../../.." + victim, os.path.join(etc, "hostname"))
    hostname_file = tmp_path / "hostname"
    hostname_file.write_text("box\n")
    code, out = runner.sh("cat /etc/hostname", etc_files={"/etc/hostname": str(hostname_file)})
    assert (code, out) == (0, "box\n")
    assert not os.path.exists(victim)  # the mount point was made inside the container
    assert os.path.exists(os.path.join(runner.upper, victim.lstrip("/")))


def test_rlimits_are_applied_and_capped(runner: Runner) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    code, out = runner.sh(
        "ulimit -n; ulimit -Hn",
        process={"rlimits": {"nofile": (100, 200), "RLIMIT_CORE": (0, 0)}},
    )
    assert (code, out) == (0, "100\n200\n")
    code, out = runner.sh("ulimit -Hn", process={"rlimits": {"nofile": (10**9, 10**9)}})
    assert (code, out) == (0, f"{hard}\n")  # never above what the engine itself has


def test_terminal_made_inside_the_container(runner: Runner) -> None:
    ours, theirs = console.socketpair()
    try:
        spec = runner.spec(
            ["sh", "-c", "tty; cut -d' ' -f6 /proc/self/stat; test -c /dev/console && echo con"]
        )
        try:
            pid = launch(spec, console_socket=theirs)
        finally:
            os.close(theirs)
        runner.track(pid)
        master = console.receive(ours)
    finally:
        os.close(ours)
    out = read_all(master)
    assert runner.wait(pid) == 0
    lines = out.splitlines()
    assert lines[0] == "/dev/pts/0"  # a terminal of the container's own devpts, as with Docker
    assert lines[1] == "1"  # session id: PID 1 leads its own session
    assert lines[2] == "con"


def test_joins_a_named_network_namespace(runner: Runner) -> None:
    name = f"dytest{uuid.uuid4().hex[:8]}"
    if subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode != 0:
        pytest.skip("cannot create a network namespace with ip netns")
    path = f"/run/netns/{name}"
    try:
        code, out = runner.sh("ls /sys/class/net; readlink /proc/self/ns/net", net_ns_path=path)
        assert code == 0
        assert out.splitlines() == ["lo", f"net:[{os.stat(path).st_ino}]"]
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def test_host_network_namespace_when_not_isolated(runner: Runner) -> None:
    code, out = runner.sh("readlink /proc/self/ns/net", namespaces=["mount", "pid", "uts", "ipc"])
    assert (code, out) == (0, os.readlink("/proc/self/ns/net") + "\n")


def test_privileged_gets_everything(runner: Runner) -> None:
    code, out = runner.sh(
        "grep -E '^(CapBnd|Seccomp):' /proc/self/status; wc -c < /proc/timer_list; "
        "mkdir /m && mount -t tmpfs x /m && echo mounted; grep ' /sys ' /proc/mounts",
        privileged=True,
    )
    bounding = subprocess.run(["grep", "CapBnd", "/proc/self/status"], capture_output=True, text=True).stdout
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == bounding.strip() and lines[1] == "Seccomp:\t0"
    assert int(lines[2]) > 0  # not masked
    assert lines[3] == "mounted"
    assert lines[4].split()[3].startswith("rw")


def test_launch_needs_a_mount_namespace(runner: Runner) -> None:
    with pytest.raises(InvalidArgument, match="mount namespace"):
        runner.start(runner.spec(["true"], namespaces=["pid"]))


def test_many_layers_past_the_mount_option_limit(runner: Runner, tmp_path) -> None:
    layers = []
    for i in range(40):
        layer = tmp_path / f"layer-{'x' * 80}-{i:02d}"
        layer.mkdir()
        (layer / f"f{i}").write_text(str(i))
        layers.append(str(layer))
    spec = runner.spec(["sh", "-c", "cat /f0 /f39"])
    spec.lower_dirs = [*layers, runner.lower]
    pid, r = runner.start(spec)
    assert runner.collect(pid, r) == (0, "039")


def test_output_larger_than_a_pipe(runner: Runner) -> None:
    pid, r = runner.start(runner.spec(["sh", "-c", "head -c 300000 /dev/zero"]))
    out = read_all(r)
    assert runner.wait(pid) == 0 and len(out) == 300000


def test_env_without_path_uses_docker_default(runner: Runner) -> None:
    spec = runner.spec(["env"])
    spec.process.env = ["ONLY=this"]
    pid, r = runner.start(spec)
    assert runner.collect(pid, r) == (0, "ONLY=this\n")  # found via the default PATH, env left as given


def test_launch_from_a_thread_with_blocked_signals(runner: Runner) -> None:
    result: dict[str, tuple[int, str]] = {}
    blocked = {signal.SIGTERM, signal.SIGUSR1}

    def worker() -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
        result["out"] = runner.run(["grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"])

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    # Python ignores SIGPIPE and SIGXFSZ and this thread blocks two signals: none of it reaches the container
    assert result["out"] == (0, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n")


def test_concurrent_launches_from_threads(tmp_path, busybox_lower: str) -> None:
    runners = [Runner(str(tmp_path / f"c{i}"), busybox_lower) for i in range(4)]
    results: dict[int, list[tuple[int, str]]] = {}

    def worker(i: int) -> None:
        results[i] = [runners[i].sh(f"echo $$ {i}") for _ in range(5)]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for r in runners:
            r.close()
    assert results == {i: [(0, f"1 {i}\n")] * 5 for i in range(4)}
    assert os.readlink("/proc/self/ns/pid_for_children") == os.readlink("/proc/self/ns/pid")


def test_proc_as_a_symlink_in_the_image_is_refused(runner: Runner) -> None:
    os.symlink("/", os.path.join(runner.upper, "proc"))  # in the upper layer, over the image's /proc
    with pytest.raises(RuntimeFailure, match="cannot mount on /proc: it is a symlink in the image"):
        runner.run(["true"])
    assert children() == set()


def test_image_symlinks_into_proc_fd_cannot_reach_bind_sources(runner: Runner, tmp_path) -> None:
    # While volumes are being attached their host sources are open in the container process; an image
    # whose mount points are symlinks to /proc/self/fd/N must not get to write into them.
    volume = tmp_path / "volume"
    volume.mkdir()
    for n in range(3, 12):
        os.symlink(f"/proc/self/fd/{n}", os.path.join(runner.upper, f"evil{n}"))
        mounts = [Mount(f"/evil{n}/pwned", "tmpfs"), Mount("/deeper/vol", "bind", str(volume))]
        try:
            runner.run(["true"], mounts=mounts)
        except RuntimeFailure:
            pass
    assert os.listdir(volume) == []
