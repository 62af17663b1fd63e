"""The build driver: a Dockerfile and a context in, an image out, as a stream of progress events.

:class:`Builder` parses the Dockerfile, works out which stages the target needs (FROM and ``COPY --from``
dependencies), checks that every base image exists before anything is built, then runs the stages in
order, one step per instruction. Each step

1. expands the instruction with the stage's variables (ENV wins over ARG; ARGs before the first FROM are
   seen by FROM lines only, and inside a stage once re-declared),
2. describes itself (expanded instruction, RUN's command and build arguments, COPY's file checksums) and
   chains that onto the cache key of the state it starts from,
3. takes its result from the build cache when the key is known and no step of the stage has missed
   before (``CACHED``), or else executes: metadata steps change the config, RUN runs a container
   (engine.build.steps.run), COPY/ADD/WORKDIR write a layer (engine.build.steps.copy).

The result is tagged at the end; a failed build makes no image and leaves no container. The image store's
garbage collector is held off (shared lock) for the whole build, so layers made by early steps cannot
vanish before the image that uses them exists. Everything is a generator: ``Builder.events()`` yields
:class:`~engine.build.events.BuildEvent` records and returns a :class:`~engine.build.events.BuildResult`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from engine.build import events as ev
from engine.build.cache import BuildCache
from engine.build.context import BuildContext, ChecksumCache
from engine.build.parser import Dockerfile, DockerfileError, Instruction, Stage, parse, parse_file
from engine.build.state import KEY_VERSION, ImageState, LayerRef, chain_key
from engine.build.steps import meta
from engine.build.view import ImageView
from engine.build.words import expand, expand_instruction
from engine.errors import BuildError, DockyardError, ImageNotFound
from engine.store import oci

if TYPE_CHECKING:
    from engine.engine import Engine

__all__ = ["PROXY_ARGS", "BuildOptions", "BuildStepError", "Builder"]

PROXY_ARGS = frozenset(
    name
    for base in ("HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY")
    for name in (base, base.lower())
)

Events = Generator[ev.BuildEvent, None, Any]


class BuildStepError(BuildError):
    """A step failed. The message names the Dockerfile line and the step; ``reason`` is the bare cause."""

    def __init__(self, instr: Instruction, label: str, reason: str) -> None:
        prefix = f"{instr.filename}:{instr.start_line}: "
        if reason.startswith(prefix):
            reason = reason[len(prefix) :]
        super().__init__(f"{prefix}{label}: {reason}")
        self.filename = instr.filename
        self.line = instr.start_line
        self.step = label
        self.reason = reason


@dataclass
class BuildOptions:
    """What a build is asked to do (the ``docker build`` flags)."""

    context_dir: str
    dockerfile: str | None = None
    tags: list[str] = field(default_factory=list)
    build_args: dict[str, str | None] = field(default_factory=dict)
    target: str | None = None
    no_cache: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    sums: ChecksumCache | None = None  # checksums kept between builds (watch mode)


@dataclass
class _StageRun:
    """A stage while it is being built."""

    stage: Stage
    name: str  # what progress shows ("" in a single-stage build)
    state: ImageState
    flags: meta.StageFlags = field(default_factory=meta.StageFlags)
    args: dict[str, str | None] = field(default_factory=dict)
    missed: bool = False
    index: int = 1
    total: int = 1


def _platform_args() -> dict[str, str]:
    arch = oci.goarch()
    return {
        "TARGETPLATFORM": f"linux/{arch}",
        "TARGETOS": "linux",
        "TARGETARCH": arch,
        "TARGETVARIANT": "",
        "BUILDPLATFORM": f"linux/{arch}",
        "BUILDOS": "linux",
        "BUILDARCH": arch,
        "BUILDVARIANT": "",
    }


def _rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _one_line(text: str) -> str:
    return " ".join(text.split())


class Builder:
    """One build. ``events()`` runs it."""

    def __init__(self, engine: Engine, opts: BuildOptions) -> None:
        self.engine = engine
        self.images = engine.images
        self.opts = opts
        self.context_dir = os.path.abspath(opts.context_dir)
        if not os.path.isdir(self.context_dir):
            raise BuildError(f"unable to prepare context: path {opts.context_dir!r} not found")
        self.dockerfile_path = self._find_dockerfile(opts.dockerfile)
        for tag in opts.tags:
            from engine.store import reference

            reference.parse(tag)  # a bad tag is refused before anything is built
        self.sums = opts.sums or ChecksumCache()
        self._context: BuildContext | None = None
        self.cache = BuildCache(engine.layout)
        self.vertex = 0
        self.executed: list[str] = []
        self.cached: list[str] = []
        self.used_args: set[str] = set()
        epoch = opts.build_args.get("SOURCE_DATE_EPOCH")
        try:
            self.epoch: int | None = int(epoch) if epoch not in (None, "") else None
        except ValueError:
            raise BuildError(f"invalid SOURCE_DATE_EPOCH: {epoch!r}") from None
        self.key_prefix = KEY_VERSION + (f" epoch={self.epoch}" if self.epoch is not None else "")
        self.results: dict[int, ImageState] = {}
        self.missed: dict[int, bool] = {}  # stage index -> whether its cache chain missed
        self.stage_names: dict[int, str | None] = {}

    # -- inputs -----------------------------------------------------------------------------------------
    def _find_dockerfile(self, name: str | None) -> str:
        if not name:
            path = os.path.join(self.context_dir, "Dockerfile")
        elif os.path.isabs(name):
            path = name
        elif os.path.exists(os.path.join(self.context_dir, name)):
            path = os.path.join(self.context_dir, name)
        else:
            path = os.path.abspath(name)
        if not os.path.isfile(path):
            shown = name or "Dockerfile"
            raise BuildError(f"failed to read dockerfile: open {shown}: no such file or directory")
        return path

    @property
    def context(self) -> BuildContext:
        if self._context is None:
            self._context = BuildContext(self.context_dir, self.dockerfile_path, self.sums)
        return self._context

    def _now(self) -> str:
        return _rfc3339(self.epoch if self.epoch is not None else time.time())

    # -- planning ---------------------------------------------------------------------------------------
    def _meta_values(self, df: Dockerfile) -> dict[str, str]:
        values: dict[str, str] = dict(_platform_args())
        for instr in df.meta_args():
            instr = expand_instruction(instr, values, df.escape)
            for name, default in instr.arg_pairs():
                given = self.opts.build_args.get(name)
                if name in self.opts.build_args and given is not None:
                    values[name] = given
                    self.used_args.add(name)
                elif default is not None:
                    values[name] = default
                elif name in values:
                    pass
                else:
                    values.pop(name, None)
        return values

    def _plan(self, df: Dockerfile, meta_values: dict[str, str]) -> tuple[list[Stage], Stage, list[Stage]]:
        stages = df.stages()
        target = stages[-1]
        if self.opts.target:
            wanted = self.opts.target.lower()
            for stage in stages:
                if stage.name == wanted:
                    target = stage
                    break
            else:
                raise BuildError(
                    f'failed to reach build target {self.opts.target} in Dockerfile: target stage "{self.opts.target}" could not be found'
                )
        needed: set[int] = set()

        def need(stage: Stage) -> None:
            if stage.index in needed:
                return
            needed.add(stage.index)
            base = self._stage_ref(stages, stage, self._from_name(stage, meta_values, df.escape))
            if base is not None:
                need(base)
            for instr in stage.instructions:
                if instr.keyword == "COPY":
                    ref = instr.flag("from")
                    if ref:
                        dep = self._stage_ref(stages, stage, expand(ref, meta_values, df.escape))
                        if dep is not None:
                            need(dep)

        need(target)
        return stages, target, [s for s in stages if s.index in needed]

    def _from_name(self, stage: Stage, meta_values: dict[str, str], escape: str) -> str:
        try:
            name = expand(stage.base, meta_values, escape)
        except BuildError as exc:
            raise stage.from_instruction.error(exc.message) from None
        if not name:
            raise stage.from_instruction.error("base name (" + stage.base + ") should not be blank")
        return name

    @staticmethod
    def _stage_ref(stages: list[Stage], current: Stage, name: str) -> Stage | None:
        """The earlier stage ``name`` refers to (a stage name, or an index for COPY --from), else None."""
        if name.isdigit():
            index = int(name)
            if index >= current.index:
                raise current.from_instruction.error(
                    f"invalid from flag value {name}: refers to current or later build stage"
                )
            return stages[index]
        lowered = name.lower()
        for stage in stages:
            if stage.index >= current.index:
                break
            if stage.name == lowered:
                return stage
        return None

    def _check_image(self, name: str, instr: Instruction) -> str:
        try:
            return self.images.resolve(name)
        except ImageNotFound:
            what = f"FROM {name}" if instr.keyword == "FROM" else f"{instr.keyword} --from={name}"
            raise instr.error(
                f"{what}: no such image in this engine (dockyard does not pull: bootstrap, import or load it first)"
            ) from None

    # -- running ----------------------------------------------------------------------------------------
    def events(self) -> Events:
        """Run the build, yielding progress events; returns the BuildResult."""
        started = time.monotonic()
        df = parse_file(self.dockerfile_path)
        df.filename = os.path.basename(self.dockerfile_path)
        yield ev.BuildEvent(ev.INFO, text=f"[internal] load build definition from {df.filename}")
        for warning in df.warnings:
            yield ev.BuildEvent(ev.WARNING, text=warning)
        meta_values = self._meta_values(df)
        stages, target, needed = self._plan(df, meta_values)
        self.stage_names = {stage.index: stage.name for stage in stages}
        for stage in needed:  # every base image and --from image must exist before anything is built
            base = self._from_name(stage, meta_values, df.escape)
            if base.lower() != "scratch" and self._stage_ref(stages, stage, base) is None:
                self._check_image(base, stage.from_instruction)
            for instr in stage.instructions:
                origin = instr.flag("from") if instr.keyword == "COPY" else None
                if origin and "$" not in origin and self._stage_ref(stages, stage, origin) is None:
                    self._check_image(origin, instr)
        multi = len(stages) > 1
        with self.images.writing():
            try:
                for stage in needed:
                    state = yield from self._run_stage(df, stages, stage, meta_values, multi)
                    self.results[stage.index] = state
                final = self.results[target.index]
                image_id = yield from self._export(final)
            finally:
                self.cache.flush()
        unused = sorted(
            name
            for name in self.opts.build_args
            if name not in self.used_args and name not in PROXY_ARGS and name != "SOURCE_DATE_EPOCH"
        )
        if unused:
            yield ev.BuildEvent(
                ev.WARNING, text=f"One or more build-args [{' '.join(unused)}] were not consumed"
            )
        result = ev.BuildResult(image_id, list(self.opts.tags), list(self.executed), list(self.cached))
        yield ev.BuildEvent(
            ev.RESULT,
            image_id=image_id,
            tags=tuple(self.opts.tags),
            executed=tuple(self.executed),
            cached=tuple(self.cached),
            elapsed=time.monotonic() - started,
        )
        return result

    def _export(self, state: ImageState) -> Generator[ev.BuildEvent, None, str]:
        yield ev.BuildEvent(ev.INFO, text="exporting to image")
        if self.opts.labels:
            state = state.copy()
            labels = dict(state.config.get("Labels") or {})
            labels.update(self.opts.labels)
            state.config["Labels"] = labels
        if not state.created:
            state.created = self._now()
        image_id = self.images.create(
            [layer.new_layer() for layer in state.layers], state.image_config(), list(self.opts.tags)
        )
        for tag in self.opts.tags:
            yield ev.BuildEvent(ev.INFO, text=f"naming to {tag} done")
        return image_id

    def _base_state(self, stages: list[Stage], stage: Stage, name: str) -> tuple[ImageState, bool]:
        """The state a stage starts from, and whether its cache chain has already missed."""
        ref = self._stage_ref(stages, stage, name)
        if ref is not None:
            return self.results[ref.index].copy(), self.missed.get(ref.index, False)
        if name.lower() == "scratch":
            return ImageState.scratch(self.key_prefix), False
        image_id = self._check_image(name, stage.from_instruction)
        return ImageState.from_image(self.images, image_id, self.key_prefix), False

    def _run_stage(
        self, df: Dockerfile, stages: list[Stage], stage: Stage, meta_values: dict[str, str], multi: bool
    ) -> Generator[ev.BuildEvent, None, ImageState]:
        base_name = self._from_name(stage, meta_values, df.escape)
        state, missed = self._base_state(stages, stage, base_name)
        triggers = self._triggers(state, stage, df)
        if triggers:
            state.config.pop("OnBuild", None)
            state.key = chain_key(state.key, "onbuild triggers consumed")
            state.image_id = ""
        run = _StageRun(
            stage=stage,
            name=(stage.name or f"stage-{stage.index}") if multi else "",
            state=state,
            missed=missed,
            total=1 + len(triggers) + len(stage.instructions),
        )
        self.vertex += 1
        from_text = f"FROM {base_name}" + (f" AS {stage.name}" if stage.name else "")
        yield ev.BuildEvent(
            ev.STEP, self.vertex, run.name, 1, run.total, from_text, stage.from_instruction.start_line
        )
        yield ev.BuildEvent(
            ev.DONE, self.vertex, run.name, 1, run.total, from_text, stage.from_instruction.start_line
        )
        for instr in [*triggers, *stage.instructions]:
            run.index += 1
            yield from self._step(df, run, instr, meta_values)
        self.missed[stage.index] = run.missed
        return run.state

    def _triggers(self, state: ImageState, stage: Stage, df: Dockerfile) -> list[Instruction]:
        out: list[Instruction] = []
        for text in state.config.get("OnBuild") or []:
            try:
                parsed = parse("FROM scratch\n" + str(text), df.filename)
            except DockerfileError as exc:
                raise stage.from_instruction.error(
                    f"invalid ONBUILD trigger {text!r}: {exc.reason}"
                ) from None
            for instr in parsed.instructions[1:]:
                out.append(
                    dataclasses.replace(
                        instr,
                        filename=df.filename,
                        start_line=stage.from_instruction.start_line,
                        end_line=stage.from_instruction.start_line,
                    )
                )
        return out

    # -- one step -----------------------------------------------------------------------------------------
    def _expansion_env(self, run: _StageRun) -> dict[str, str]:
        env = {k: v for k, v in run.args.items() if v is not None}
        env.update(run.state.env)
        return env

    def _step(
        self, df: Dockerfile, run: _StageRun, instr: Instruction, meta_values: dict[str, str]
    ) -> Events:
        self.vertex += 1
        vertex = self.vertex
        text = _one_line(instr.original) if instr.original else instr.keyword
        label = f"[{run.name + ' ' if run.name else ''}{run.index}/{run.total}] {text}"

        def event(kind: str, **kw: Any) -> ev.BuildEvent:
            return ev.BuildEvent(kind, vertex, run.name, run.index, run.total, text, instr.start_line, **kw)

        yield event(ev.STEP)
        started = time.monotonic()
        try:
            expanded = expand_instruction(instr, self._expansion_env(run), df.escape)
            if instr.keyword == "ARG":
                self._declare_args(run, expanded, meta_values)
            hit = yield from self._execute(run, expanded, event, started)
        except DockyardError as exc:
            error = BuildStepError(instr, label, exc.message)
            yield event(ev.ERROR, text=error.reason, elapsed=time.monotonic() - started)
            raise error from None
        if hit:
            self.cached.append(label)
            yield event(ev.CACHED, elapsed=time.monotonic() - started)
        else:
            self.executed.append(label)
            yield event(ev.DONE, elapsed=time.monotonic() - started)

    def _declare_args(self, run: _StageRun, instr: Instruction, meta_values: dict[str, str]) -> None:
        for name, default in instr.arg_pairs():
            given = self.opts.build_args.get(name)
            if name in self.opts.build_args and given is not None:
                value: str | None = given
            elif default is not None:
                value = default
            else:
                value = meta_values.get(name)
            run.args[name] = value
            self.used_args.add(name)

    def _execute(
        self, run: _StageRun, instr: Instruction, event: Any, started: float
    ) -> Generator[ev.BuildEvent, None, bool]:
        """Run one expanded instruction on ``run.state``; returns True when it came from the cache."""
        kw = instr.keyword
        state = run.state
        if kw == "RUN":
            return (yield from self._run(run, instr, event, started))
        if kw in ("COPY", "ADD"):
            return self._copy(run, instr)
        if kw not in meta.META_INSTRUCTIONS:
            raise BuildError(f"unknown instruction: {kw}")
        after = state.copy()
        created_by = meta.apply(instr, after, run.flags)
        description = kw + " " + json.dumps([instr.args, instr.flags, instr.json])
        plan = None
        if kw == "WORKDIR":
            from engine.build.steps.copy import plan_mkdir

            plan = plan_mkdir(self._view(state), after.workdir, self.epoch or 0)
        key = chain_key(state.key, description)
        if self._lookup(run, key):
            return True
        layer = None
        if plan is not None:
            layer = plan.write(self.images, state.top_chain, self.engine.layout.tmp)
        self._commit(run, key, after, created_by, layer)
        return False

    # -- the cache ----------------------------------------------------------------------------------------
    def _lookup(self, run: _StageRun, key: str) -> bool:
        """Take the step's result from the cache if possible; True on a hit."""
        if self.opts.no_cache or run.missed:
            run.missed = True
            return False
        entry = self.cache.get(key)
        if entry is None or not self._usable(entry):
            run.missed = True
            return False
        state = run.state.copy()
        state.key = key
        state.image_id = ""
        if entry.get("layer"):
            state.layers.append(LayerRef.from_json(entry["layer"]))
        state.config = dict(entry.get("config") or {})
        history = entry.get("history")
        if history:
            state.history.append(dict(history))
            state.created = str(history.get("created") or state.created)
        if entry.get("author"):
            state.meta["author"] = entry["author"]
        run.state = state
        return True

    def _usable(self, entry: dict[str, Any]) -> bool:
        layer = entry.get("layer")
        if not layer:
            return True
        try:
            ref = LayerRef.from_json(layer)
        except (KeyError, TypeError, ValueError):
            return False
        if not self.images.layers.exists(ref.chain_id):
            return False
        return self.images.blobs.exists(ref.blob) or self._restore_blob(ref)

    def _restore_blob(self, ref: LayerRef) -> bool:
        """Re-make a layer blob the garbage collector removed, from the unpacked layer; True when the
        bytes come out identical (the blob of a build-made layer is its uncompressed tar)."""
        if ref.blob != ref.diff_id:
            return False
        from engine.store.layertar import write_layer_tar

        try:
            with self.images.blobs.writer(expected=ref.blob) as w:
                write_layer_tar(self.images.layers.diff_path(ref.chain_id), w, overlay_upper=True)  # type: ignore[arg-type]
        except DockyardError:
            return False
        return True

    def _commit(
        self, run: _StageRun, key: str, after: ImageState, created_by: str, layer: LayerRef | None
    ) -> None:
        """Make ``after`` (plus ``layer``) the stage's state and remember it under ``key``."""
        history: dict[str, Any] = {
            "created": self._now(),
            "created_by": created_by,
            "comment": "dockyard build",
        }
        if layer is None:
            history["empty_layer"] = True
        else:
            after.layers.append(layer)
        after.history.append(history)
        after.created = history["created"]
        after.key = key
        after.image_id = ""
        run.state = after
        self.cache.put(
            key,
            {
                "chain_id": after.top_chain,
                "layer": layer.to_json() if layer else None,
                "config": after.config,
                "history": history,
                "author": after.meta.get("author", ""),
            },
        )

    # -- RUN --------------------------------------------------------------------------------------------
    def _run(
        self, run: _StageRun, instr: Instruction, event: Any, started: float
    ) -> Generator[ev.BuildEvent, None, bool]:
        from engine.build.steps.run import StepContainer, command_for

        state = run.state
        for flag in instr.flags:
            name, _, value = flag[2:].partition("=")
            if name == "network" and value in ("none", ""):
                continue
            if name == "network":
                raise BuildError(
                    f"RUN --network={value} is not supported: dockyard builds have no network access"
                )
            raise BuildError(f"RUN --{name} is not supported by dockyard")
        cmd = command_for(instr, state)
        env_now = state.env
        declared = sorted(
            f"{k}={v}"
            for k, v in run.args.items()
            if v is not None and k not in env_now and k not in PROXY_ARGS
        )
        proxies = [
            f"{k}={v}"
            for k, v in self.opts.build_args.items()
            if k in PROXY_ARGS and v is not None and k not in env_now
        ]
        created_by = (
            "RUN " + (f"|{len(declared)} {' '.join(declared)} " if declared else "") + " ".join(cmd.argv)
        )
        key = chain_key(state.key, created_by + ("\0script\0" + cmd.script if cmd.script else ""))
        if self._lookup(run, key):
            return True
        for name in (p.partition("=")[0] for p in proxies):
            self.used_args.add(name)
        image_id, temporary = self._image_for(state)
        try:
            with StepContainer(self.engine, image_id, state, cmd, declared + proxies) as container:
                for stream, line in container.output():
                    yield event(ev.OUTPUT, text=line, stream=stream, elapsed=time.monotonic() - started)
                container.check()
                layer = container.commit(state.top_chain, self.epoch)
        finally:
            if temporary:
                with self.images.store.lock():
                    self.images.store.delete(image_id)
        self._commit(run, key, state.copy(), created_by, layer)
        return False

    def _image_for(self, state: ImageState) -> tuple[str, bool]:
        """An image in the store with the state's layers (to run a container on); True when it is a
        temporary one made for this step (removed afterwards)."""
        if state.image_id and self.images.store.get(state.image_id) is not None:
            return state.image_id, False
        config = oci.new_config(
            [layer.diff_id for layer in state.layers],
            [],
            {"Labels": {"dockyard.build.step": secrets.token_hex(8)}},
            self._now(),
        )
        image_id = self.images.create([layer.new_layer() for layer in state.layers], config, [])
        return image_id, True

    # -- COPY / ADD ---------------------------------------------------------------------------------------
    def _view(self, state: ImageState) -> ImageView:
        return ImageView([self.images.layers.diff_path(layer.chain_id) for layer in reversed(state.layers)])

    def _copy(self, run: _StageRun, instr: Instruction) -> bool:
        from engine.build.steps.copy import ContextTree, CopyRequest, ImageTree, plan_copy

        state = run.state
        source: Any
        origin = instr.flag("from")
        if origin:
            if instr.keyword == "ADD":
                raise BuildError("ADD does not support --from (use COPY --from)")
            ref = self._stage_ref_by_name(run, origin)
            if ref is not None:
                source = ImageTree(self._view(ref), self.sums, f"stage {origin}")
            else:
                image_id = self._check_image(origin, instr)
                other = ImageState.from_image(self.images, image_id, self.key_prefix)
                source = ImageTree(self._view(other), self.sums, origin)
        else:
            source = ContextTree(self.context)
        view = self._view(state)
        plan = plan_copy(CopyRequest(instr, state.workdir, view, source, self.epoch))
        key = chain_key(state.key, plan.description)
        if self._lookup(run, key):
            return True
        layer = plan.write(self.images, state.top_chain, self.engine.layout.tmp)
        self._commit(run, key, state.copy(), plan.created_by, layer)
        return False

    def _stage_ref_by_name(self, run: _StageRun, name: str) -> ImageState | None:
        stages_done = {index: state for index, state in self.results.items()}
        if name.isdigit():
            index = int(name)
            if index >= run.stage.index or index not in stages_done:
                raise BuildError(f"invalid from flag value {name}: refers to current or later build stage")
            return stages_done[index]
        lowered = name.lower()
        for index, state in sorted(stages_done.items()):
            if self.stage_names.get(index) == lowered and index < run.stage.index:
                return state
        return None


def iter_build(engine: Engine, opts: BuildOptions) -> Iterator[ev.BuildEvent]:
    """The events of a build (the result is the last event, of kind ``result``)."""
    builder = Builder(engine, opts)
    yield from builder.events()
