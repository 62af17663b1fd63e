"""RUN: execute a command in a real container on the image built so far, and keep what it changed.

The step container is an ordinary dockyard container (overlay over the image's layers, namespaces,
cgroups, no network unless the build has ``--network host``, the step's ``--mount``s as volumes and tmpfs
mounts: engine.build.steps.mounts) created from a trimmed config: the stage's Env, WORKDIR and USER only, plus the
build arguments in scope as extra environment (never written into the image). Its output is read through
an attach socket handed to the supervisor before the process starts, so nothing is lost. On exit 0 the
container's writable layer becomes the step's layer (``write_layer_tar`` of the upper directory; an
unchanged filesystem gives an empty layer, as with Docker); on any other exit the step fails with Docker's
message. The container is always removed.

Command forms: the exec form runs as written; the shell form runs ``SHELL + [command]``; with
here-documents the shell gets the command line followed by their bodies (the shell does the redirection),
and a lone ``RUN <<EOF`` whose body starts with ``#!`` runs the body as a script file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Iterator, Mapping

from engine.build.parser import Instruction, heredoc_marker
from engine.build.state import ImageState, LayerRef
from engine.errors import BuildError, DockyardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from engine.paths import Layout
    from engine.store.imagestore import ImageStore

__all__ = ["RunCommand", "StepContainer", "build_env", "check_flags", "command_for", "history_text"]

SCRIPT_DIR = "/dev/pipes"


class RunCommand:
    """The argv of a RUN, and the script file a shebang here-document needs (host dir to mount)."""

    def __init__(self, argv: list[str], script: str | None = None) -> None:
        self.argv = argv
        self.script = script

    @property
    def text(self) -> str:
        """The command as ``docker history`` and error messages show it."""
        return " ".join(self.argv) if self.script is None else f"{' '.join(self.argv)} <<{self.script[:40]!r}"


def command_for(instr: Instruction, state: ImageState) -> RunCommand:
    if instr.json:
        return RunCommand(list(instr.args))
    line = instr.args[0] if instr.args else ""
    heredocs = instr.heredocs
    if not heredocs:
        return RunCommand([*state.shell, line])
    words = line.split()
    if len(heredocs) == 1 and len(words) == 1 and heredoc_marker(words[0]) is not None:
        body = heredocs[0].content
        if body.startswith("#!"):
            return RunCommand([f"{SCRIPT_DIR}/{heredocs[0].name}"], script=body)
        return RunCommand([*state.shell, body])
    script = line + "\n" + "".join(h.content + h.name + "\n" for h in heredocs)
    return RunCommand([*state.shell, script])


def check_flags(instr: Instruction, build_network: str = "none") -> str:
    """RUN's flags; returns the step's network: ``none``, ``host`` when the build has ``--network host``, or
    the network the build names (the classic builder's ``--network NETWORK``: the step joins it).

    ``--network=default`` is the build's network; ``--network=host`` needs the build's ``--network host``
    (BuildKit needs the ``network.host`` entitlement); ``--security=sandbox`` is what every step has.
    ``--mount`` is read by engine.build.steps.mounts."""
    network = "none" if build_network in ("none", "default", "") else build_network
    for flag in instr.flags:
        name, _, value = flag[2:].partition("=")
        if name == "mount":
            continue
        if name == "network":
            if value in ("none", ""):
                network = "none"
            elif value == "default":
                pass
            elif value == "host" and build_network == "host":
                network = "host"
            elif value == "host":
                raise BuildError(
                    "RUN --network=host needs the host network to be allowed for the build: "
                    "build --network host"
                )
            else:
                raise BuildError(f"RUN --network={value} is not supported: use none, default or host")
            continue
        if name == "security":
            if value == "sandbox":
                continue
            raise BuildError(
                f"RUN --security={value} is not supported: dockyard runs build steps with the default "
                "confinement only"
            )
        raise BuildError(f"RUN --{name} is not supported by dockyard")
    return network


def build_env(
    args: Mapping[str, str | None],
    env: Mapping[str, str],
    build_args: Mapping[str, str | None],
    proxy_names: Collection[str],
) -> tuple[list[str], list[str]]:
    """The extra environment of a RUN: the stage's ARGs that have a value and that no ENV overrides
    (sorted ``K=V``, shown in the history), and the proxy build arguments (never shown)."""
    declared = sorted(
        f"{k}={v}" for k, v in args.items() if v is not None and k not in env and k not in proxy_names
    )
    proxies = [
        f"{k}={v}" for k, v in build_args.items() if k in proxy_names and v is not None and k not in env
    ]
    return declared, proxies


def history_text(cmd: RunCommand, declared: list[str]) -> str:
    """``RUN /bin/sh -c echo hi``, or ``RUN |1 V=x /bin/sh -c ...`` when build arguments are in effect."""
    prefix = f"|{len(declared)} {' '.join(declared)} " if declared else ""
    return "RUN " + prefix + " ".join(cmd.argv)


class StepContainer:
    """The container of one RUN step. Use as a context manager: it is removed on the way out."""

    def __init__(
        self,
        layout: Layout,
        store: ImageStore,
        image_id: str,
        state: ImageState,
        cmd: RunCommand,
        env: list[str],
        network: str = "none",
        options: Mapping[str, Any] | None = None,
        volumes: Collection[str] = (),
        tmpfs: Collection[str] = (),
    ) -> None:
        from engine.runtime import create as create_mod
        from engine.runtime.create import CreateOptions

        self.layout = layout
        self.store = store
        self.cmd = cmd
        self.exit_code: int | None = None
        self.script_dir: str | None = None
        volumes = list(volumes)
        if cmd.script is not None:
            import tempfile  # here: a cached step never runs (its imports cost ~2 ms)

            self.script_dir = tempfile.mkdtemp(prefix=f"{os.getpid()}-run-", dir=layout.tmp)
            path = os.path.join(self.script_dir, os.path.basename(cmd.argv[0]))
            with open(path, "w") as f:
                f.write(cmd.script)
            os.chmod(path, 0o755)
            volumes.append(f"{self.script_dir}:{SCRIPT_DIR}:ro")
        image_cfg = {
            "Env": list(state.config.get("Env") or []),
            "WorkingDir": state.workdir,
            "User": state.user,
        }
        opts = CreateOptions(
            command=list(cmd.argv),
            entrypoint=[],
            env=env,
            working_dir=state.workdir,
            user=state.user,
            network=network,
            volumes=volumes,
            tmpfs=list(tmpfs),
            healthcheck={"Test": ["NONE"]},
            labels={"dockyard.build": "true"},
            **dict(options or {}),  # limits and options of the build's (BuildOptions.run_options)
        )
        try:
            self.id = create_mod.create(layout, image_id, image_id, image_cfg, opts)
        except BaseException:
            self._remove_script()
            raise

    def __enter__(self) -> StepContainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        from engine.runtime.remove import remove_stopped
        from engine.runtime.stop import stop

        with contextlib.suppress(DockyardError, OSError):
            stop(self.layout, self.id, timeout=0, sig="KILL")  # only when the build was stopped early
        with contextlib.suppress(DockyardError, OSError):
            remove_stopped(self.layout, self.id)
        self._remove_script()

    def _remove_script(self) -> None:
        if self.script_dir:
            import shutil

            shutil.rmtree(self.script_dir, ignore_errors=True)
            self.script_dir = None

    def output(self) -> Iterator[tuple[str, str]]:
        """Start the container and yield its output as (stream, line) until it exits; sets ``exit_code``."""
        from engine.runtime.attach import AttachSession
        from engine.runtime.start import start
        from engine.runtime.wait import wait

        session, fd = AttachSession.pair()
        try:
            try:
                start(self.layout, self.id, fd)
            except DockyardError as exc:
                raise BuildError(f"The command '{self.cmd.text}' could not be run: {exc}") from None
            finally:
                os.close(fd)
            partial = {"stdout": b"", "stderr": b""}
            for stream, data in session.output():
                buf = partial[stream] + data
                *lines, partial[stream] = buf.split(b"\n")
                for line in lines:
                    yield stream, line.decode("utf-8", "replace").rstrip("\r")
            for stream, rest in partial.items():
                if rest:
                    yield stream, rest.decode("utf-8", "replace").rstrip("\r")
            self.exit_code = session.exit_code
        finally:
            session.close()
        if self.exit_code is None:
            self.exit_code = wait(self.layout, self.id)

    def check(self) -> None:
        if self.exit_code:
            raise BuildError(
                f"The command '{self.cmd.text}' returned a non-zero code: {self.exit_code}", self.exit_code
            )

    @property
    def upper(self) -> str:
        """The container's writable layer (a plain directory once the container has exited)."""
        from engine.store.containers import ContainerStore

        return ContainerStore(self.layout).path(self.id, "upper")

    def commit(self, parent_chain: str, epoch: int | None) -> LayerRef:
        """The container's writable layer as a new layer on top of ``parent_chain``."""
        from engine.store.containers import ContainerStore
        from engine.store.tar.writer import write_layer_tar

        store = self.store
        upper = ContainerStore(self.layout).path(self.id, "upper")
        if not os.path.isdir(upper):
            os.makedirs(upper, exist_ok=True)
        if epoch is not None:
            clamp_mtimes(upper, epoch)
        r, w = os.pipe2(os.O_CLOEXEC)
        errors: list[BaseException] = []

        def produce() -> None:
            try:
                with os.fdopen(w, "wb") as out:
                    write_layer_tar(upper, out, overlay_upper=True)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                errors.append(exc)

        import threading

        writer = threading.Thread(target=produce, name="dockyard-run-commit", daemon=True)
        writer.start()
        try:
            with os.fdopen(r, "rb") as src:
                layer = store.add_layer_from_tar(src, parent_chain or None)
        finally:
            writer.join()
        if errors:
            raise errors[0]
        diff_id = store.layers.get(layer.chain_id).diff_id
        return LayerRef(layer.chain_id, diff_id, layer.blob, layer.media_type, layer.size)


def clamp_mtimes(top: str, epoch: int) -> None:
    """Set every modification time newer than ``epoch`` below ``top`` to ``epoch`` (SOURCE_DATE_EPOCH)."""
    for dirpath, dirnames, filenames in os.walk(top, topdown=False):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            with contextlib.suppress(OSError):
                st = os.lstat(path)
                if st.st_mtime > epoch:
                    os.utime(path, (epoch, epoch), follow_symlinks=False)
