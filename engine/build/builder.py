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
   (engine.build.steps.run) with its mounts (engine.build.steps.mounts), COPY/ADD/WORKDIR write a layer
   (engine.build.steps.copy).

Named build contexts (``--build-context``) stand for images: ``FROM NAME`` makes a layer of the directory,
``COPY --from`` and ``RUN --mount from=`` read it. ``--output`` writes the final stage's files instead of
storing an image; ``--pull`` pulls the images the build uses before anything else.

The result is tagged at the end; a failed build makes no image and leaves no container. The image store's
garbage collector is held off (shared lock) for the whole build, so layers made by early steps cannot
vanish before the image that uses them exists. Everything is a generator: ``Builder.events()`` yields
:class:`~engine.build.events.BuildEvent` records and returns a :class:`~engine.build.events.BuildResult`.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import ChainMap
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any

from engine.build import events as ev
from engine.build.cache import BuildCache
from engine.build.context import BuildContext, ChecksumCache
from engine.build.expansion import expand_instruction
from engine.build.parser import Dockerfile, DockerfileError, Instruction, Stage, parse, parse_file
from engine.build.plan import MAX_DEPTH, BuildPlan
from engine.build.state import KEY_VERSION, ImageState, LayerRef, chain_key
from engine.build.steps import meta
from engine.build.steps.run import StepContainer, build_env, check_flags, command_for, history_text
from engine.build.view import ImageView
from engine.errors import BuildError, DockyardError, ImageNotFound, InvalidArgument
from engine.lean import jsonio
from engine.lean.record import replace
from engine.store import oci, reference

if TYPE_CHECKING:
    from typing import BinaryIO

    from engine.build.options import BuildOptions
    from engine.build.steps.mounts import MountSource, StepMounts
    from engine.paths import Layout
    from engine.store.imagestore import ImageStore

__all__ = ["PROXY_ARGS", "BuildStepError", "Builder"]

PROXY_ARGS = frozenset(
    name
    for base in ("HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY")
    for name in (base, base.lower())
)

Events = Generator[ev.BuildEvent, None, Any]


class BuildStepError(BuildError):
    """A step failed. The message names the Dockerfile line and the step; ``reason`` is the bare cause."""

    def __init__(self, instr: Instruction, label: str, reason: str, code: int | None = None) -> None:
        prefix = f"{instr.filename}:{instr.start_line}: "
        if reason.startswith(prefix):
            reason = reason[len(prefix) :]
        super().__init__(f"{prefix}{label}: {reason}", code)
        self.filename = instr.filename
        self.line = instr.start_line
        self.step = label
        self.reason = reason


class _StageRun:
    """A stage while it is being built: its state, the ARGs it declared, whether its cache chain missed,
    and the number of the step it is at (``name`` is what progress shows, "" in a single-stage build)."""

    def __init__(self, stage: Stage, name: str, state: ImageState, missed: bool, total: int) -> None:
        self.stage = stage
        self.name = name
        self.state = state
        self.flags = meta.StageFlags()
        self.args: dict[str, str | None] = {}
        self.missed = missed
        self.index = 1
        self.total = total


def _refuse_escaping_link(path: str, context_dir: str, shown: str) -> None:
    """Refuse a Dockerfile that is a symlink (or behind one, inside the context) to a file outside the
    context: a build must not read, nor print in a parse error, a file the context does not hold (a
    ``Dockerfile -> /etc/shadow``). A link that stays inside the context is followed; a ``-f`` file given
    outside the context is read as it is, when it is not itself such a link."""
    real = os.path.realpath(path)
    if real == os.path.abspath(path):
        return  # no symlink on the way
    root = os.path.realpath(context_dir)
    if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
        return
    inside = os.path.abspath(path).startswith(os.path.abspath(context_dir).rstrip(os.sep) + os.sep)
    if not inside and not os.path.islink(path):
        return  # a -f file elsewhere, reached through the caller's own symlinked directories
    raise BuildError(
        f"failed to read dockerfile: {shown} is a symbolic link to {real}, outside the build context "
        f"{context_dir}: refusing to read it"
    )


def _check_options(opts: BuildOptions, layout: Layout) -> None:
    """Refuse what the build cannot do before anything is read or written."""
    from engine.build.options import NETWORKS, OUTPUT_TYPES

    if opts.network not in NETWORKS:
        from engine.net.netstore import NetStore

        if NetStore(layout).find(opts.network) is None:
            raise InvalidArgument(
                f"network mode {opts.network!r} not supported by the build: use none, default (no network, "
                "as dockyard builds have), host, or the name of a network of this engine"
            )
    if opts.run_options:
        from engine.build.options import RUN_OPTIONS

        unknown = sorted(set(opts.run_options) - RUN_OPTIONS)
        if unknown:
            raise InvalidArgument(f"not an option of a build's RUN steps: {', '.join(unknown)}")
        from engine.runtime.cgroups import Limits

        Limits(
            **{
                name: opts.run_options[name]
                for name in (
                    "memory",
                    "memory_swap",
                    "cpu_shares",
                    "cpu_period",
                    "cpu_quota",
                    "cpuset_cpus",
                    "cpuset_mems",
                )
                if opts.run_options.get(name) not in (None, "")
            }
        ).validate()
    if opts.platform is not None:
        here = f"linux/{oci.goarch()}"
        wanted = opts.platform.lower()
        if wanted != here and not wanted.startswith(here + "/"):
            raise InvalidArgument(
                f"platform {opts.platform} is not supported: dockyard runs build steps natively and builds "
                f"for this machine only ({here})"
            )
    if opts.output is not None:
        kind, dest = opts.output
        if kind not in OUTPUT_TYPES:
            raise InvalidArgument(f"output type {kind!r} is not supported: use local or tar")
        if not dest:
            raise InvalidArgument(f"output type {kind} needs a destination (dest=PATH)")
        if kind == "local" and dest == "-":
            raise InvalidArgument("output type local needs a directory, not -")
        if dest == "-" and opts.output_stream is None:
            raise InvalidArgument("output to - needs a stream to write to")


def _named_context(name: str, path: str) -> str:
    """A ``--build-context NAME=DIR``'s directory, or InvalidArgument for what dockyard cannot use."""
    if not name or any(c.isspace() for c in name) or name.startswith("-"):
        raise InvalidArgument(f"invalid build context name {name!r}")
    for prefix in ("docker-image://", "oci-layout://", "target:"):
        if path.startswith(prefix):
            raise InvalidArgument(
                f"build context {name}={path}: {prefix.rstrip(':/')} contexts are not supported; dockyard "
                "takes a local directory (for an image, use FROM or COPY --from with its name)"
            )
    if "://" in path or path.startswith("git@") or path.endswith(".git"):
        raise InvalidArgument(
            f"build context {name}={path}: remote contexts are not supported (dockyard builds do not "
            "download); give a local directory"
        )
    full = os.path.abspath(path)
    if not os.path.isdir(full):
        raise InvalidArgument(f"build context {name}={path}: no such directory")
    return full


def _rfc3339(seconds: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _one_line(text: str) -> str:
    return " ".join(text.split())


class Builder:
    """One build. ``events()`` runs it."""

    def __init__(
        self, layout: Layout, store: ImageStore, opts: BuildOptions, sums: ChecksumCache | None = None
    ) -> None:
        self.layout = layout
        self.store = store
        self.opts = opts
        self.dockerfile_text = opts.dockerfile_text
        self.streamed: str | None = None  # the temporary directory a streamed context was unpacked into
        _check_options(opts, layout)
        for tag in opts.tags:
            reference.parse(tag)  # a bad tag is refused before anything is built
        self.contexts = {name: _named_context(name, path) for name, path in opts.build_contexts.items()}
        if opts.context_stream is not None:
            from engine.build.streamed import unpack

            self.streamed, text = unpack(opts.context_stream, layout.tmp)
            if text is not None:
                self.dockerfile_text = text
            self.context_dir = self.streamed
        else:
            self.context_dir = os.path.abspath(opts.context_dir)
        try:
            if not os.path.isdir(self.context_dir):
                raise BuildError(f"unable to prepare context: path {opts.context_dir!r} not found")
            if self.dockerfile_text is None:
                self.dockerfile_path = self._find_dockerfile(opts.dockerfile)
            else:
                self.dockerfile_path = ""  # no file: the text was given
        except BaseException:
            self._remove_streamed()
            raise
        self.sums = sums or ChecksumCache()  # kept from one build to the next by a watch
        self._context: BuildContext | None = None
        self.cache = BuildCache(layout)
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
        self._named_contexts: dict[str, BuildContext] = {}
        self.escape = "\\"
        self.missed: dict[int, bool] = {}  # stage index -> whether its cache chain missed
        self.plan: BuildPlan | None = None
        self._cache_chains: set[str] | None = None  # the layers of the cache_from images (cache_from_only)

    # -- inputs -----------------------------------------------------------------------------------------
    def _find_dockerfile(self, name: str | None) -> str:
        if not name:
            path = os.path.join(self.context_dir, "Dockerfile")
        elif self.streamed is not None:
            # a streamed context (standard input, the Engine API's body) names a file inside it, never one
            # of the machine the build runs on
            path = os.path.normpath(os.path.join(self.context_dir, name.lstrip("/")))
            if not path.startswith(self.context_dir.rstrip(os.sep) + os.sep):
                raise BuildError(f"failed to read dockerfile: {name} is outside the build context")
        elif os.path.isabs(name):
            path = name
        elif os.path.lexists(os.path.join(self.context_dir, name)):
            path = os.path.join(self.context_dir, name)
        else:
            path = os.path.abspath(name)
        shown = name or "Dockerfile"
        _refuse_escaping_link(path, self.context_dir, shown)
        if not os.path.isfile(path):
            raise BuildError(f"failed to read dockerfile: open {shown}: no such file or directory")
        return path

    @property
    def context(self) -> BuildContext:
        if self._context is None:
            self._context = BuildContext(self.context_dir, self.dockerfile_path or None, self.sums)
        return self._context

    def _now(self) -> str:
        return _rfc3339(self.epoch if self.epoch is not None else time.time())

    def _base_layers(self, name: str, instr: Instruction) -> tuple[int, list[str]]:
        """A base image's layer count and ONBUILD triggers (for the plan's depth check)."""
        if name in self.contexts:
            return 1, []
        image_id = self._check_image(name, instr)
        entry = self.store.catalog.get(image_id)
        config = self.store.config_of(image_id).get("config") or {}
        return (len(entry.layers) if entry else 0), [str(t) for t in config.get("OnBuild") or []]

    def _check_image(self, name: str, instr: Instruction) -> str:
        try:
            return self.store.resolve(name)
        except ImageNotFound:
            what = f"FROM {name}" if instr.keyword == "FROM" else f"{instr.keyword} --from={name}"
            raise instr.error(
                f"{what}: no such image in this engine (dockyard does not pull: bootstrap, import or load it first)"
            ) from None

    # -- running ----------------------------------------------------------------------------------------
    def events(self) -> Events:
        """Run the build, yielding progress events; returns the BuildResult."""
        try:
            return (yield from self._events())
        finally:
            self._remove_streamed()

    def _remove_streamed(self) -> None:
        if self.streamed is not None:
            from engine.store.tmp import remove_tree

            remove_tree(self.streamed)
            self.streamed = None

    def _events(self) -> Events:
        started = time.monotonic()
        if self.dockerfile_text is not None:
            df = parse(self.dockerfile_text, "Dockerfile")
        else:
            df = parse_file(self.dockerfile_path)
            df.filename = os.path.basename(self.dockerfile_path)
        self.escape = df.escape
        yield ev.BuildEvent(ev.INFO, text=f"[internal] load build definition from {df.filename}")
        for warning in df.warnings:
            yield ev.BuildEvent(ev.WARNING, text=warning)
        if self.opts.cache_from and not self.opts.cache_from_only:
            yield ev.BuildEvent(
                ev.WARNING,
                text="--cache-from "
                + ", ".join(self.opts.cache_from)
                + ": not imported; dockyard uses the build cache of its engine root, which every build "
                "on this root shares",
            )
        plan = self.plan = BuildPlan(df, self.opts.build_args, self.opts.target, set(self.contexts))
        self.used_args |= plan.used_args
        if self.opts.pull:
            yield from self._pull(plan)
        for name, instr in plan.images():  # every image must exist before anything is built
            self._check_image(name, instr)
        plan.check_depth(self._base_layers)  # and the image must not be deeper than Docker allows
        with self.store.writing():
            try:
                for stage in plan.needed:
                    state = yield from self._run_stage(df, plan, stage)
                    self.results[stage.index] = state
                final = self.results[plan.target.index]
                if self.opts.output is not None:
                    image_id = yield from self._export_files(final)
                else:
                    image_id = yield from self._export(final)
            finally:
                self.cache.flush()
                self.cache.close()
        yield from self._cache_warnings()
        unused = sorted(
            name
            for name in self.opts.build_args
            if name not in self.used_args and name not in PROXY_ARGS and name != "SOURCE_DATE_EPOCH"
        )
        if unused:
            yield ev.BuildEvent(
                ev.WARNING, text=f"One or more build-args [{' '.join(unused)}] were not consumed"
            )
        result = ev.BuildResult(image_id, tuple(self.opts.tags), tuple(self.executed), tuple(self.cached))
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
        config = oci.canonical(state.image_config())
        image_id = "sha256:" + hashlib.sha256(config).hexdigest()
        tags = self.store.catalog.tags()
        known = self.store.catalog.get(image_id) is not None
        if not known or any(tags.get(reference.parse(t).tagged) != image_id for t in self.opts.tags):
            image_id = self.store.create(
                [layer.new_layer() for layer in state.layers], config, list(self.opts.tags)
            )
        for tag in self.opts.tags:
            yield ev.BuildEvent(ev.INFO, text=f"naming to {tag} done")
        return image_id

    def _base_state(self, plan: BuildPlan, stage: Stage, name: str) -> tuple[ImageState, bool]:
        """The state a stage starts from, and whether its cache chain has already missed."""
        ref = plan.stage_ref(stage, name, stage.from_instruction)
        if ref is not None:
            return self.results[ref.index].copy(), self.missed.get(ref.index, False)
        if name in self.contexts:
            return self._context_state(name), False
        if name.lower() == "scratch":
            return ImageState.scratch(self.key_prefix), False
        image_id = self._check_image(name, stage.from_instruction)
        return ImageState.from_image(self.store, image_id, self.key_prefix), False

    def _run_stage(
        self, df: Dockerfile, plan: BuildPlan, stage: Stage
    ) -> Generator[ev.BuildEvent, None, ImageState]:
        if stage.name and stage.name in self.contexts:  # a named context replaces the stage, as BuildKit's
            self.vertex += 1
            text = f"[context {stage.name}] load from {self.contexts[stage.name]}"
            yield ev.BuildEvent(
                ev.STEP, self.vertex, stage.name, 1, 1, text, stage.from_instruction.start_line
            )
            state = self._context_state(stage.name)
            yield ev.BuildEvent(
                ev.DONE, self.vertex, stage.name, 1, 1, text, stage.from_instruction.start_line
            )
            return state
        base_name = plan.base_name(stage)
        state, missed = self._base_state(plan, stage, base_name)
        multi = len(plan.stages) > 1
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
            yield from self._step(df, run, instr, plan.meta_values)
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
                    replace(
                        instr,
                        filename=df.filename,
                        start_line=stage.from_instruction.start_line,
                        end_line=stage.from_instruction.start_line,
                    )
                )
        return out

    # -- one step -----------------------------------------------------------------------------------------
    def _expansion_env(self, run: _StageRun) -> Mapping[str, str]:
        """What a step's words expand with: the stage's ENV, then its ARGs (without a copy of the ENV)."""
        return ChainMap(run.state.env_view(), {k: v for k, v in run.args.items() if v is not None})  # type: ignore[arg-type]

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
            error = BuildStepError(instr, label, exc.message, getattr(exc, "code", None))
            yield event(ev.ERROR, text=error.reason, elapsed=time.monotonic() - started)
            raise error from None
        yield from self._cache_warnings()
        if hit:
            self.cached.append(label)
            yield event(ev.CACHED, elapsed=time.monotonic() - started)
        else:
            self.executed.append(label)
            yield event(ev.DONE, elapsed=time.monotonic() - started)

    def _cache_warnings(self) -> Events:
        while self.cache.warnings:
            yield ev.BuildEvent(ev.WARNING, text=self.cache.warnings.pop(0))

    def _declare_args(self, run: _StageRun, instr: Instruction, meta_values: dict[str, str]) -> None:
        """ARG in a stage: the build argument's value, else the default, else the global ARG's value."""
        for name, default in instr.arg_pairs():
            given = self.opts.build_args.get(name)
            run.args[name] = (
                given if given is not None else default if default is not None else meta_values.get(name)
            )
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
        description = kw + " " + jsonio.dumps([instr.args, instr.flags, instr.json])
        plan = None
        if kw == "WORKDIR":
            from engine.build.steps.copy import plan_mkdir

            plan = plan_mkdir(self._view(state), after.workdir, after.user, self.epoch or 0)
        key = chain_key(state.key, description)
        if self._lookup(run, key, made=after):
            return True
        layer = None
        if plan is not None:
            layer = plan.write(self.store, state.top_chain, self.layout.tmp)
        self._commit(run, key, after, created_by, layer)
        return False

    # -- the cache ----------------------------------------------------------------------------------------
    def _lookup(self, run: _StageRun, key: str, made: ImageState | None = None) -> bool:
        """Take the step's result from the cache if possible; True on a hit. ``made`` is the step's state
        when the step has already worked out its config (the metadata instructions): the cache then only
        adds the layer and the history entry."""
        if self.opts.no_cache or run.missed:
            run.missed = True
            return False
        entry = self.cache.get(key)
        if entry is None or not self._usable(entry) or not self._on_cache_sources(entry, run.state):
            run.missed = True
            return False
        try:
            layer = LayerRef.from_json(entry["layer"]) if entry.get("layer") else None
            history = dict(entry["history"]) if entry.get("history") else None
            state = made if made is not None else run.state.copy()
            if made is None:
                state.apply_changes(entry.get("changes") or {})
        except (AttributeError, KeyError, TypeError, ValueError):
            self.cache.warnings.append(f"a damaged build cache record was ignored ({key})")
            run.missed = True
            return False
        state.key = key
        state.image_id = ""
        if layer is not None:
            state.layers.append(layer)
        if history:
            state.history.append(history)
            state.created = str(history.get("created") or state.created)
        if entry.get("author"):
            state.meta["author"] = entry["author"]
        run.state = state
        return True

    def _on_cache_sources(self, entry: dict[str, Any], state: ImageState) -> bool:
        """``cache_from_only`` (the classic builder's cache-from): whether the step's result (its layer, or the
        state it leaves unchanged) lies on the layers of one of the cache_from images."""
        if not self.opts.cache_from_only:
            return True
        if self._cache_chains is None:
            self._cache_chains = set()
            for name in self.opts.cache_from:
                try:
                    found = self.store.catalog.get(self.store.resolve(name))
                except DockyardError:
                    continue  # as Docker's: a cache source that is no image is passed over
                if found is not None:
                    self._cache_chains.update(found.layers)
        layer = entry.get("layer")
        chain = str(layer.get("chain_id", "")) if isinstance(layer, dict) else state.top_chain
        if not self._cache_chains:
            return False
        return not chain or chain in self._cache_chains

    def _usable(self, entry: dict[str, Any]) -> bool:
        layer = entry.get("layer")
        if not layer:
            return True
        try:
            ref = LayerRef.from_json(layer)
        except (KeyError, TypeError, ValueError):
            return False
        if not self.store.layers.exists(ref.chain_id):
            return False
        return self.store.blobs.exists(ref.blob) or self._restore_blob(ref)

    def _restore_blob(self, ref: LayerRef) -> bool:
        """Re-make a layer blob the garbage collector removed, from the unpacked layer; True when the
        bytes come out identical (the blob of a build-made layer is its uncompressed tar)."""
        if ref.blob != ref.diff_id:
            return False
        from engine.store.tar.writer import write_layer_tar

        try:
            with self.store.blobs.writer(expected=ref.blob) as w:
                write_layer_tar(self.store.layers.diff_path(ref.chain_id), w, overlay_upper=True)  # type: ignore[arg-type]
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
            if len(after.layers) >= MAX_DEPTH:  # the plan counted RUN, COPY and ADD; WORKDIR may add more
                raise BuildError(
                    f"max depth exceeded: this step would make layer {len(after.layers) + 1} of the image, "
                    f"more than the {MAX_DEPTH} an image may have"
                )
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
                "changes": after.changes(),
                "history": history,
                "author": after.meta.get("author", ""),
            },
        )

    # -- RUN --------------------------------------------------------------------------------------------
    def _run(
        self, run: _StageRun, instr: Instruction, event: Any, started: float
    ) -> Generator[ev.BuildEvent, None, bool]:
        state = run.state
        network = check_flags(instr, self.opts.network)
        cmd = command_for(instr, state)
        declared, proxies = build_env(run.args, state.env_view(), self.opts.build_args, PROXY_ARGS)
        created_by = history_text(cmd, declared)
        description = created_by + ("\0script\0" + cmd.script if cmd.script else "")
        mounts = self._mounts(run, instr)
        if mounts is not None:
            description += "\0mounts\0" + mounts.key_text()
        if network != "none":
            description += "\0network\0" + network
        key = chain_key(state.key, description)
        if self._lookup(run, key):
            return True
        image_id, temporary = self._image_for(state)
        try:
            if mounts is not None:
                mounts.prepare()
            with StepContainer(
                self.layout,
                self.store,
                image_id,
                state,
                cmd,
                declared + proxies + (mounts.env if mounts else []),
                network=network,
                options=self.opts.run_options,
                volumes=mounts.volumes if mounts else (),
                tmpfs=mounts.tmpfs if mounts else (),
            ) as container:
                for stream, line in container.output():
                    yield event(ev.OUTPUT, text=line, stream=stream, elapsed=time.monotonic() - started)
                container.check()
                if mounts is not None:
                    mounts.clean_stubs(container.upper)
                layer = container.commit(state.top_chain, self.epoch)
        finally:
            if mounts is not None:
                mounts.close()
            if temporary:
                with self.store.catalog.lock():
                    self.store.catalog.delete(image_id)
        self._commit(run, key, state.copy(), created_by, layer)
        return False

    def _mounts(self, run: _StageRun, instr: Instruction) -> StepMounts | None:
        """The step's ``--mount``s, parsed and with their sources found; None without any."""
        values = instr.flag_values("mount")
        if not values:
            return None
        from engine.build.steps.mounts import ContextSource, StepMounts, parse_mounts
        from engine.build.words import expand

        env = self._expansion_env(run)
        mounts = parse_mounts(values, run.state.workdir, lambda word: expand(word, env, self.escape))
        sources: dict[str, MountSource] = {}
        for m in mounts:
            if m.origin and m.origin not in sources:
                sources[m.origin] = self._mount_source(run, m.origin, instr)
        return StepMounts(
            self.layout,
            mounts,
            sources,
            ContextSource(self.context, "context"),
            self.opts.secrets,
            self._view(run.state),
        )

    def _mount_source(self, run: _StageRun, name: str, instr: Instruction) -> MountSource:
        """What ``--mount from=NAME`` names: an earlier stage, a named build context or an image."""
        from engine.build.steps.mounts import ContextSource, ImageSource

        assert self.plan is not None
        stage = self.plan.stage_ref(run.stage, name, instr)
        if stage is not None:
            if stage.index not in self.results:
                raise BuildError(f"RUN --mount from={name}: stage {name} was not built")
            done = self.results[stage.index]
            return ImageSource(self._view(done), done.top_chain, f"stage {name}")
        if name in self.contexts:
            return ContextSource(self._named(name), name)
        image_id = self._check_image(name, instr)
        other = ImageState.from_image(self.store, image_id, self.key_prefix)
        return ImageSource(self._view(other), other.top_chain, name)

    # -- named contexts -------------------------------------------------------------------------------------
    def _named(self, name: str) -> BuildContext:
        found = self._named_contexts.get(name)
        if found is None:
            found = self._named_contexts[name] = BuildContext(self.contexts[name], None, self.sums)
        return found

    def _context_state(self, name: str) -> ImageState:
        """A named context used as an image (``FROM NAME``, or a stage it replaces): its files in one layer
        on scratch, owned by 0:0 as COPY from a context makes them."""
        from engine.build.steps.copy import ContextTree, CopyRequest, plan_copy

        scratch = ImageState.scratch(self.key_prefix)
        instr = Instruction(keyword="COPY", args=[".", "/"], filename="Dockerfile")
        plan = plan_copy(
            CopyRequest(instr, "/", self._view(scratch), ContextTree(self._named(name)), self.epoch)
        )
        key = chain_key(scratch.key, "context\0" + plan.description)
        state = scratch.copy()
        entry = None if self.opts.no_cache else self.cache.get(key)
        layer = None
        if entry is not None and entry.get("layer") and self._usable(entry):
            try:
                layer = LayerRef.from_json(entry["layer"])
            except (KeyError, TypeError, ValueError):
                layer = None
        if layer is None:
            layer = plan.write(self.store, "", self.layout.tmp)
            self.cache.put(key, {"chain_id": layer.chain_id, "layer": layer.to_json(), "changes": {}})
        history = {"created": self._now(), "created_by": f"context {name}", "comment": "dockyard build"}
        state.layers.append(layer)
        state.history.append(history)
        state.key = key
        state.image_id = ""
        return state

    # -- --pull and --output ----------------------------------------------------------------------------------
    def _pull(self, plan: BuildPlan) -> Events:
        from engine.registry import pull
        from engine.store.eventlog import emit

        seen: set[str] = set()
        for name, _instr in plan.images():
            if name in seen or name in self.contexts:
                continue
            seen.add(name)
            yield ev.BuildEvent(ev.INFO, text=f"pulling {name}")
            result = pull(self.store, name)
            emit(self.layout, "image", "pull", result.image_id, {"name": result.name})
            yield ev.BuildEvent(ev.INFO, text=f"pulled {result.name} ({result.image_id[:19]})")

    def _export_files(self, state: ImageState) -> Generator[ev.BuildEvent, None, str]:
        """``--output``: the final stage's files to a directory or a tar; no image is stored."""
        from engine.build.steps.mounts import export_view

        assert self.opts.output is not None
        kind, dest = self.opts.output
        view = self._view(state)
        if self.opts.tags:
            yield ev.BuildEvent(
                ev.WARNING, text=f"--output type={kind}: no image is stored, so no tag is set"
            )
        yield ev.BuildEvent(ev.INFO, text=f"exporting to {kind} {dest}")
        if kind == "local":
            export_view(view, dest)
        elif dest == "-":
            assert self.opts.output_stream is not None
            _write_view_tar(view, self.opts.output_stream)
        else:
            with open(dest, "wb") as out:
                _write_view_tar(view, out)
        if not state.created:
            state.created = self._now()
        config = oci.canonical(state.image_config())
        return "sha256:" + hashlib.sha256(config).hexdigest()

    def _image_for(self, state: ImageState) -> tuple[str, bool]:
        """An image in the store with the state's layers (to run a container on); True when it is a
        temporary one made for this step (removed afterwards)."""
        if state.image_id and self.store.catalog.get(state.image_id) is not None:
            return state.image_id, False
        import secrets

        config = oci.new_config(
            [layer.diff_id for layer in state.layers],
            [],
            {"Labels": {"dockyard.build.step": secrets.token_hex(8)}},
            self._now(),
        )
        image_id = self.store.create([layer.new_layer() for layer in state.layers], config, [])
        return image_id, True

    # -- COPY / ADD ---------------------------------------------------------------------------------------
    def _view(self, state: ImageState) -> ImageView:
        return ImageView([self.store.layers.diff_path(layer.chain_id) for layer in reversed(state.layers)])

    def _copy(self, run: _StageRun, instr: Instruction) -> bool:
        from engine.build.steps.copy import ContextTree, CopyRequest, ImageTree, plan_copy

        state = run.state
        source: Any
        origin = instr.flag("from")
        if origin:
            if instr.keyword == "ADD":
                raise BuildError("ADD does not support --from (use COPY --from)")
            assert self.plan is not None
            stage = self.plan.stage_ref(run.stage, origin, instr)
            if stage is not None:
                if stage.index not in self.results:
                    raise BuildError(f"COPY --from={origin}: stage {origin} was not built")
                source = ImageTree(self._view(self.results[stage.index]), self.sums, f"stage {origin}")
            elif origin in self.contexts:
                source = ContextTree(self._named(origin))
            else:
                image_id = self._check_image(origin, instr)
                other = ImageState.from_image(self.store, image_id, self.key_prefix)
                source = ImageTree(self._view(other), self.sums, origin)
        else:
            source = ContextTree(self.context)
        view = self._view(state)
        plan = plan_copy(CopyRequest(instr, state.workdir, view, source, self.epoch))
        key = chain_key(state.key, plan.description)
        if self._lookup(run, key):
            return True
        layer = plan.write(self.store, state.top_chain, self.layout.tmp)
        self._commit(run, key, state.copy(), plan.created_by, layer)
        return False


def _write_view_tar(view: ImageView, out: BinaryIO) -> None:
    """The files of ``view`` as a plain tar on ``out`` (owners, modes and times kept; sorted)."""
    import tarfile

    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for rel, st in view.walk("/"):
            host = view.host_path("/" + rel)
            if host is None:
                continue
            info = tar.gettarinfo(host, arcname=rel)
            info.uid, info.gid, info.uname, info.gname = st.st_uid, st.st_gid, "", ""
            if info.isreg():
                with open(host, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
