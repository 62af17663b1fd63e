"""What a build has to do before it does anything: the global ARGs, the stages, and which of them the
target needs.

- The ARGs before the first FROM (plus the predefined platform ARGs such as ``TARGETARCH``) take their
  values from the build arguments or their defaults; they are seen by FROM lines, and by a stage that
  declares them again (``ARG NAME`` without a value).
- The target is the stage named by ``--target``, else the last one. A stage needs the stage it is built
  FROM and the stages its ``COPY --from`` and ``RUN --mount from=`` name (by name or index); nothing else
  is built. A named build context (``--build-context NAME=DIR``) is no image: ``FROM NAME`` reads the
  directory, and a stage of that name is replaced by it.
- :meth:`BuildPlan.images` lists the images the needed stages use (FROM and ``COPY --from`` that are not
  stages), so the builder can refuse a missing one before the first step runs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping

from engine.build.expansion import expand_instruction
from engine.build.parser import Dockerfile, Instruction, Stage
from engine.build.words import expand
from engine.errors import BuildError
from engine.store import oci

__all__ = ["LAYER_INSTRUCTIONS", "MAX_DEPTH", "BuildPlan", "platform_args"]

MAX_DEPTH = 125
"""Layers of one image: Docker refuses more ("max depth exceeded"); overlayfs stacks no more."""

LAYER_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
"""The instructions whose step always adds a layer to the image."""


def platform_args() -> dict[str, str]:
    """The ARGs BuildKit predefines in the global scope (this machine builds for itself)."""
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


class BuildPlan:
    """The stages of ``df`` to build for ``target`` (None: the last stage), in order."""

    def __init__(
        self,
        df: Dockerfile,
        build_args: Mapping[str, str | None],
        target: str | None,
        contexts: Collection[str] = (),
    ) -> None:
        self.df = df
        self.contexts = frozenset(contexts)  # named build contexts: neither stages to build nor images
        self.used_args: set[str] = set()
        self.meta_values = self._meta_values(build_args)
        self.stages = df.stages()
        self.names = {stage.index: stage.name for stage in self.stages}
        self.target = self._target(target)
        needed: set[int] = set()
        self._need(self.target, needed)
        self.needed = [stage for stage in self.stages if stage.index in needed]

    def _meta_values(self, build_args: Mapping[str, str | None]) -> dict[str, str]:
        values = platform_args()
        for instr in self.df.meta_args():
            instr = expand_instruction(instr, values, self.df.escape)
            for name, default in instr.arg_pairs():
                given = build_args.get(name)
                if given is not None:
                    values[name] = given
                    self.used_args.add(name)
                elif default is not None:
                    values[name] = default
        return values

    def _target(self, name: str | None) -> Stage:
        if not name:
            return self.stages[-1]
        for stage in self.stages:
            if stage.name == name.lower():
                return stage
        raise BuildError(
            f'failed to reach build target {name} in Dockerfile: target stage "{name}" could not be found'
        )

    def _need(self, stage: Stage, needed: set[int]) -> None:
        if stage.index in needed:
            return
        needed.add(stage.index)
        if stage.name and stage.name in self.contexts:
            return  # the named context replaces the stage
        base = self.stage_ref(stage, self.base_name(stage), stage.from_instruction)
        if base is not None:
            self._need(base, needed)
        for instr in stage.instructions:
            for origin in _origins(instr):
                dep = self.stage_ref(stage, expand(origin, self.meta_values, self.df.escape), instr)
                if dep is not None:
                    self._need(dep, needed)

    def base_name(self, stage: Stage) -> str:
        """The stage's FROM name with the global ARGs expanded."""
        try:
            name = expand(stage.base, self.meta_values, self.df.escape)
        except BuildError as exc:
            raise stage.from_instruction.error(exc.message) from None
        if not name:
            raise stage.from_instruction.error(f"base name ({stage.base}) should not be blank")
        return name

    def stage_ref(self, current: Stage, name: str, instr: Instruction) -> Stage | None:
        """The earlier stage ``name`` refers to (a stage name, or an index), None when it names an image."""
        if name.isascii() and name.isdigit():
            index = int(name)
            if index >= current.index:
                raise instr.error(f"invalid from flag value {name}: refers to current or later build stage")
            return self.stages[index]
        lowered = name.lower()
        for stage in self.stages[: current.index]:
            if stage.name == lowered:
                return stage
        return None

    def images(self) -> Iterator[tuple[str, Instruction]]:
        """(image name, instruction) for every image the needed stages use."""
        for stage in self.needed:
            if stage.name and stage.name in self.contexts:
                continue
            base = self.base_name(stage)
            if (
                base.lower() != "scratch"
                and base not in self.contexts
                and self.stage_ref(stage, base, stage.from_instruction) is None
            ):
                yield base, stage.from_instruction
            for instr in stage.instructions:
                for origin in _origins(instr):
                    if (
                        "$" not in origin
                        and origin not in self.contexts
                        and self.stage_ref(stage, origin, instr) is None
                    ):
                        yield origin, instr

    def check_depth(self, base_image: Callable[[str, Instruction], tuple[int, list[str]]]) -> None:
        """Refuse, before any step runs, a build whose image would have more than MAX_DEPTH layers.

        A needed stage has the layers of its base (``base_image(name, from_instruction)`` gives an image's
        layer count and ONBUILD triggers; a stage used as a base has its own count; scratch has none), one
        more for each trigger of the base image that is a RUN, COPY or ADD, and one for each of its own
        RUN, COPY and ADD. (A WORKDIR that has to create its directory adds a layer too; the builder
        counts those as they come.) Raises the error at the instruction that would make one layer too
        many, in Docker's words."""
        depths: dict[int, int] = {}
        for stage in self.needed:
            if stage.name and stage.name in self.contexts:
                depths[stage.index] = 1
                continue
            name = self.base_name(stage)
            ref = self.stage_ref(stage, name, stage.from_instruction)
            if ref is not None:
                base = depths.get(ref.index, 0)
            elif name.lower() == "scratch":
                base = 0
            else:
                layers, triggers = base_image(name, stage.from_instruction)
                base = layers + sum(1 for t in triggers if _keyword(t) in LAYER_INSTRUCTIONS)
            steps = [instr for instr in stage.instructions if instr.keyword in LAYER_INSTRUCTIONS]
            total = base + len(steps)
            if total > MAX_DEPTH:
                at = stage.from_instruction if base > MAX_DEPTH else steps[MAX_DEPTH - base]
                raise at.error(
                    f"max depth exceeded: the image of this stage would have {total} layers ({base} from "
                    f"its base {name}, {len(steps)} made by RUN, COPY and ADD steps), more than the "
                    f"{MAX_DEPTH} an image may have; join RUN steps with && or use a multi-stage build"
                )
            depths[stage.index] = total


def _origins(instr: Instruction) -> list[str]:
    """The stages, images or contexts an instruction reads from: ``COPY --from`` and ``RUN --mount from=``."""
    if instr.keyword == "COPY":
        origin = instr.flag("from")
        return [origin] if origin else []
    if instr.keyword == "RUN":
        values = instr.flag_values("mount")
        if values:
            from engine.build.steps.mounts import mount_origins

            return mount_origins(values)
    return []


def _keyword(trigger: str) -> str:
    """The instruction of an ONBUILD trigger as the image stores it (``RUN echo hi`` -> ``RUN``)."""
    words = trigger.split(None, 1)
    return words[0].upper() if words else ""
