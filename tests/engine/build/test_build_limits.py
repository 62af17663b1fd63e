"""Hostile build input is refused before any step runs, with an error that says why: an image deeper than
Docker's 125 layers ("max depth exceeded"), a Dockerfile too big or with a line too long, a Dockerfile or a
.dockerignore that is a symlink to a file outside the build context (whose content must not show)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from engine import BuildOptions
from engine.build.events import STEP, BuildEvent
from engine.build.parser import parse, parse_file
from engine.build.plan import BuildPlan
from engine.errors import BuildError

from .buildutil import do_build, write

SECRET = "root:$6$not-for-your-eyes:19000:0:99999:7:::\n"


def build_events(engine: Any, ctx: Path, **kw: Any) -> tuple[list[BuildEvent], BuildError]:
    """The events of a build that fails, and its error."""
    events: list[BuildEvent] = []
    with pytest.raises(BuildError) as failed:
        for event in engine.images.build_stream(BuildOptions(str(ctx), **kw)):
            events.append(event)
    return events, failed.value


def assert_nothing_ran(engine: Any, events: list[BuildEvent]) -> None:
    assert [e for e in events if e.kind == STEP] == []
    assert engine.containers.list(all=True) == []


# -- layers -------------------------------------------------------------------------------------------------


def test_200_run_lines_are_refused_before_the_first_step(engine_: Any, busybox: str, tmp_path: Path) -> None:
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM busybox\n" + "RUN touch /x\n" * 200})
    started = time.monotonic()
    events, error = build_events(engine_, ctx, tags=["deep:1"])
    assert time.monotonic() - started < 1
    # busybox has one layer: the 125th RUN (line 126) would make the 126th
    assert str(error).startswith("Dockerfile:126: max depth exceeded: ")
    assert "201 layers (1 from its base busybox, 200 made by RUN, COPY and ADD steps)" in str(error)
    assert_nothing_ran(engine_, events)
    assert [im for im in engine_.images.list() if "deep:1" in im.tags] == []


def test_the_stages_a_stage_builds_on_count_and_copy_from_does_not(
    engine_: Any, busybox: str, tmp_path: Path
) -> None:
    ctx = write(
        tmp_path / "ctx",
        {
            "f.txt": "f\n",
            "Dockerfile": "FROM busybox AS base\n"
            + "COPY f.txt /f\n" * 100
            + "FROM base AS more\n"
            + "RUN true\n" * 25  # 126 layers
            + "FROM busybox\nCOPY --from=more /f /f\n",
        },
    )
    events, error = build_events(engine_, ctx)
    assert str(error).startswith("Dockerfile:127: max depth exceeded: ")
    assert "126 layers (101 from its base base, 25 made by RUN, COPY and ADD steps)" in str(error)
    assert_nothing_ran(engine_, events)
    # the stage that copies from it is not deeper for that, and without the extra RUN all is well
    plan = BuildPlan(parse((ctx / "Dockerfile").read_text().replace("RUN true\n", "", 1)), {}, None)
    plan.check_depth(lambda name, instr: (1, []))  # 125 layers: allowed


def test_onbuild_triggers_of_the_base_image_count(engine_: Any, busybox: str, tmp_path: Path) -> None:
    base = write(tmp_path / "base", {"Dockerfile": "FROM busybox\n" + "ONBUILD RUN true\n" * 30})
    do_build(engine_, base, tags=["triggers:1"])
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM triggers:1\n" + "RUN true\n" * 100})
    events, error = build_events(engine_, ctx)
    assert "max depth exceeded" in str(error) and "131 layers (31 from its base triggers:1" in str(error)
    assert_nothing_ran(engine_, events)


@pytest.mark.slow
def test_100_run_lines_on_busybox_build(engine_: Any, busybox: str, tmp_path: Path) -> None:
    ctx = write(
        tmp_path / "ctx",
        {"Dockerfile": "FROM busybox\n" + "".join(f"RUN echo {i} >> /n\n" for i in range(100))},
    )
    built = do_build(engine_, ctx, tags=["hundred:1"])
    assert len(built.ran("RUN")) == 100
    assert len(engine_.images.get("hundred:1").layers) == 101


@pytest.mark.slow
def test_a_workdir_layer_past_the_limit_is_refused_as_it_comes(engine_: Any, tmp_path: Path) -> None:
    """The plan counts RUN, COPY and ADD; a WORKDIR that makes its directory is found when it runs."""
    ctx = write(
        tmp_path / "ctx",
        {"f": "f\n", "Dockerfile": "FROM scratch\n" + "COPY f /f\n" * 125 + "WORKDIR /new\n"},
    )
    with pytest.raises(BuildError, match=r"^Dockerfile:127: \[127/127\] WORKDIR /new: max depth exceeded"):
        do_build(engine_, ctx)


# -- size --------------------------------------------------------------------------------------------------


def test_a_dockerfile_over_10_mib_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM busybox\n" + b"# padding padding padding padding\n" * 320_000)
    assert path.stat().st_size > 10 << 20
    started = time.monotonic()
    with pytest.raises(
        BuildError, match=r"^Dockerfile: the file is more than the 10 MiB a Dockerfile may have$"
    ):
        parse_file(path)
    with pytest.raises(BuildError, match="more than the 10 MiB"):
        parse(path.read_text())
    assert time.monotonic() - started < 2
    assert parse("FROM busybox\n" + "# padding\n" * 1_000_000).instructions[0].args == ["busybox"]  # 10 MB


def test_a_line_over_1_mib_is_refused_with_its_number() -> None:
    with pytest.raises(
        BuildError, match=r"^Dockerfile:3: dockerfile line greater than max allowed size of 1 MiB$"
    ):
        parse("FROM busybox\n\nLABEL a=" + "x" * (1 << 20) + "\n")
    long_line = "LABEL a=" + "x" * ((1 << 20) - 20) + "\n"
    assert parse("FROM busybox\n" + long_line).instructions[1].keyword == "LABEL"


# -- symlinks ------------------------------------------------------------------------------------------------


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "shadow"
    path.parent.mkdir()
    path.write_text(SECRET)
    return path


def test_a_dockerfile_linked_outside_the_context_is_refused(
    engine_: Any, tmp_path: Path, secret: Path
) -> None:
    ctx = write(tmp_path / "ctx", {"a.txt": "a\n"})
    (ctx / "Dockerfile").symlink_to(secret)
    events, error = build_events(engine_, ctx)
    assert str(error) == (
        f"failed to read dockerfile: Dockerfile is a symbolic link to {secret}, outside the build context "
        f"{ctx}: refusing to read it"
    )
    assert "not-for-your-eyes" not in str(error) and "root:" not in str(error)
    assert events == []
    os.unlink(ctx / "Dockerfile")
    (ctx / "Dockerfile").symlink_to("/etc/shadow")
    assert "refusing to read it" in str(build_events(engine_, ctx)[1])


def test_a_dash_f_file_that_links_outside_the_context_is_refused(
    engine_: Any, tmp_path: Path, secret: Path
) -> None:
    ctx = write(tmp_path / "ctx", {"a.txt": "a\n"})
    link = tmp_path / "elsewhere.Dockerfile"
    link.symlink_to(secret)
    for name in (str(link), "inner.Dockerfile"):
        if name == "inner.Dockerfile":
            (ctx / name).symlink_to(secret)
        _events, error = build_events(engine_, ctx, dockerfile=name)
        assert "is a symbolic link to" in str(error) and "not-for-your-eyes" not in str(error)
    # a directory of the context that links outside is no way round it
    (ctx / "sub").symlink_to(secret.parent)
    _events, error = build_events(engine_, ctx, dockerfile="sub/shadow")
    assert "outside the build context" in str(error) and "not-for-your-eyes" not in str(error)


def test_a_dockerfile_linked_inside_the_context_is_read(engine_: Any, busybox: str, tmp_path: Path) -> None:
    ctx = write(tmp_path / "ctx", {"docker/real.Dockerfile": "FROM busybox\nLABEL via=link\n"})
    (ctx / "Dockerfile").symlink_to("docker/real.Dockerfile")
    image_id = do_build(engine_, ctx, tags=["linked:1"]).image_id
    assert engine_.images.get(image_id).config["Labels"]["via"] == "link"
    # a -f file outside the context, not a link, is read as Docker reads it
    outside = write(tmp_path / "elsewhere", {"Dockerfile": "FROM busybox\nLABEL via=dash-f\n"})
    image_id = do_build(engine_, ctx, dockerfile=str(outside / "Dockerfile")).image_id
    assert engine_.images.get(image_id).config["Labels"]["via"] == "dash-f"


def test_a_dockerignore_linked_outside_the_context_is_refused(
    engine_: Any, busybox: str, tmp_path: Path, secret: Path
) -> None:
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM busybox\nCOPY a.txt /\n", "a.txt": "a\n"})
    (ctx / ".dockerignore").symlink_to(secret)
    _events, error = build_events(engine_, ctx)
    assert "refusing to read it" in str(error) and ".dockerignore" in str(error)
    assert "not-for-your-eyes" not in str(error)
