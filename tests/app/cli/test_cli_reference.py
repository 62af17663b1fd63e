"""docs/CLI.md, the reference of every Docker command and flag against dockyard's, and the refusals behind it.

Docker's side is the help of a Docker client kept in tests/data/docker_cli/; dockyard's side is its parsers,
app/cli/refused.py and docs/cli_notes.toml. The refusals are checked through the real command, each of them.
"""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.cli import flags, reference, refused

DOCKER = "/usr/local/bin/docker"


@pytest.fixture(scope="module")
def docker() -> dict[str, reference.DockerCommand]:
    return reference.load_docker()


@pytest.fixture(scope="module")
def ours() -> dict[str, flags.Parser]:
    return reference.our_commands()


def run_all(cli, cases: list[list[str]]) -> list:
    """Each argv through the real CLI, a few at a time."""
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda argv: cli(*argv, check=False), cases))


# -- the document ----------------------------------------------------------------------------------------


def test_docs_cli_md_is_what_the_code_makes_now() -> None:
    made = reference.render()
    assert reference.OUTPUT.read_text() == made, "docs/CLI.md is stale: run make docs"


def test_the_generator_checks_and_writes_the_document(tmp_path, monkeypatch, capsys) -> None:
    out = tmp_path / "CLI.md"
    monkeypatch.setattr(reference, "OUTPUT", out)
    out.write_text("old\n")
    assert reference.main(["--check"]) == 1
    assert "run make docs" in capsys.readouterr().err
    assert reference.main([]) == 0
    assert out.read_text() == reference.render()
    assert reference.main(["--check"]) == 0


def test_the_summary_counts_every_docker_flag_once(docker) -> None:
    text = reference.render()
    flags_all = sum(len(d.flags) for d in docker.values())
    entries = reference.compare(docker, reference.our_commands(), reference.load_notes())
    accepted = sum(r.status in (reference.SUPPORTED, reference.DIFFERS) for e in entries for r in e.rows)
    assert f"**{accepted} of {flags_all} Docker flags are accepted**" in text
    for d in docker.values():  # every command has its section, every flag its row
        assert f"docker {d.path}".rstrip() + "\n" in text
        section = text.split(f"docker {d.path}".rstrip() + "\n", 1)[1].split("\n#", 1)[0]
        for f in d.flags:
            assert f"`{f.label}`" in section, (d.path, f.label)


def test_each_flag_gets_a_status_from_the_parsers_the_table_and_the_notes() -> None:
    help_text = """Usage:  docker container run [OPTIONS] IMAGE

Run

Aliases:
  docker container run, docker run

Options:
  -a, --all           All
      --gpus string   GPUs
      --name string   Name
      --nosuch        Not done
      --log-driver string
                      Logging
"""
    d = reference.parse_help(help_text)
    p = flags.Parser("dockyard container run")
    p.add_argument("--all", action="store_true")
    p.add_argument("--name")
    p.add_argument("--log-driver")
    p.add_argument("--extra", help="Ours")
    ours = {"container run": p}
    notes = {"container run": {"--log-driver": "json-file only"}}
    (e,) = reference.compare({"container run": d}, ours, notes)
    assert e.status == reference.DIFFERS and e.why == "not as `docker run`" and e.ours == ["container run"]
    got = {r.label: (r.status, r.why) for r in e.rows}
    assert got == {
        "-a, --all": (reference.DIFFERS, "no `-a`"),
        "--gpus string": (reference.REFUSED, refused.FLAGS["container run"]["--gpus"]),
        "--name string": (reference.SUPPORTED, ""),
        "--nosuch": (reference.MISSING, ""),
        "--log-driver string": (reference.DIFFERS, "json-file only"),
    }
    assert [(r.label, r.text) for r in e.own] == [("--extra string", "Ours")]


# -- Docker's help -----------------------------------------------------------------------------------------


def test_the_help_parser_reads_usage_aliases_options_and_wrapped_text(docker) -> None:
    run = docker["container run"]
    assert run.usage == "docker container run [OPTIONS] IMAGE [COMMAND] [ARG...]"
    assert run.summary == "Create and run a new container from an image"
    assert run.aliases == ("run",)
    by = {f.long: f for f in run.flags}
    assert by["--attach"].names == ("-a", "--attach") and by["--attach"].kind == "list"
    assert by["--gpus"].kind == "gpu-request" and by["--detach"].kind == ""
    assert by["--cgroupns"].text.startswith("Cgroup namespace to use (host|private) 'host':")
    assert "default-cgroupns-mode option on the daemon (default)" in by["--cgroupns"].text
    build = docker["image build"]  # after a deprecation notice
    assert build.aliases == ("build", "builder build") and "--isolation" in {f.long for f in build.flags}
    assert docker["container cp"].usage.count("\n") == 1  # two usage lines
    top = docker[""]
    assert {"-H", "--host"} <= {n for f in top.flags for n in f.names}  # Global Options
    assert {"container", "run", "swarm", "search"} <= set(top.commands)
    assert docker["trust key"].commands == ["generate", "load"]


def test_the_captured_help_covers_every_command_docker_lists(docker) -> None:
    forms = {f: d.path for d in docker.values() for f in d.forms}
    for d in docker.values():
        for c in d.commands:
            assert f"{d.path} {c}".strip() in forms, f"no help captured for 'docker {d.path} {c}'"
    assert reference.docker_version().startswith("Docker version ")


@pytest.mark.skipif(not os.access(DOCKER, os.X_OK), reason="no Docker client on this machine")
def test_the_captured_help_is_what_the_docker_client_prints(tmp_path) -> None:
    reference.capture(DOCKER, tmp_path)
    names = sorted(os.listdir(tmp_path))
    assert names == sorted(os.listdir(reference.DATA))
    _, mismatch, errors = filecmp.cmpfiles(tmp_path, reference.DATA, names, shallow=False)
    assert not mismatch and not errors, "run python -m app.cli.reference --capture, then make docs"


# -- the tables --------------------------------------------------------------------------------------------


def test_the_refused_table_names_dockers_commands_and_flags_as_dockers_help_does(docker) -> None:
    for path in refused.COMMANDS:
        assert path in docker, f"refused.COMMANDS: 'docker {path}' is no Docker command"
    for path, table in refused.FLAGS.items():
        assert path in docker, f"refused.FLAGS: 'docker {path}' is no Docker command (use its own name)"
        assert refused.command_reason(path) is None, f"refused.FLAGS: 'docker {path}' is refused as a whole"
        spelled = {", ".join(f.names) for f in docker[path].flags}
        for names, why in table.items():
            assert names in spelled, (
                f"refused.FLAGS[{path!r}]: {names!r} is not how Docker's help names a flag"
            )
            assert why.strip() and not why.endswith("."), why  # it ends the line: no full stop


def test_the_aliases_are_dockers(docker) -> None:
    want = {a: d.path for d in docker.values() if refused.command_reason(d.path) is None for a in d.aliases}
    assert refused.ALIASES == want


def test_no_flag_or_command_is_both_accepted_and_refused(docker, ours) -> None:
    both = []
    for path, table in refused.FLAGS.items():
        for form in docker[path].forms:
            if form in ours:
                taken = reference.accepted(ours[form])
                both += [
                    f"dockyard {form} {n}".replace("  ", " ")
                    for ns in table
                    for n in ns.split(", ")
                    if n in taken
                ]
    for path in refused.COMMANDS:
        both += [f"dockyard {form}" for form in docker[path].forms if form in ours]
    assert not both, f"accepted, and refused in app/cli/refused.py (remove them there): {both}"


def test_the_notes_are_about_commands_and_flags_dockyard_accepts(docker, ours) -> None:
    for path, notes in reference.load_notes().items():
        assert path in docker, f"docs/cli_notes.toml: 'docker {path}' is no Docker command (use its own name)"
        forms = [f for f in docker[path].forms if f in ours]
        assert forms, f"docs/cli_notes.toml: dockyard has no 'docker {path}'"
        for flag, note in notes.items():
            assert note.strip(), (path, flag)
            if flag:
                assert any(flag in reference.accepted(ours[f]) for f in forms), (
                    f"docs/cli_notes.toml: dockyard {forms[0]} does not accept {flag}"
                )


# -- the refusals through the real command -----------------------------------------------------------------


def test_every_refused_flag_exits_125_with_its_reason(cli, root, docker, ours) -> None:
    cases, wanted = [], []
    for path, table in refused.FLAGS.items():
        forms = [f for f in docker[path].forms if f in ours] if path else [""]
        for names, why in table.items():
            for name in names.split(", "):
                for form in forms:
                    if path and name in reference.accepted(ours[form]):
                        continue  # the parser's flag wins (the next test says to take it out of the table)
                    # a global flag comes before a command; another command's flag after its own
                    argv = [name, "ps"] if not path else [*form.split(), name, "x"]
                    cases.append(argv)
                    where = f"dockyard {form}".strip()
                    wanted.append(f"dockyard: '{name}' is not supported: {why}\nSee '{where} --help'.\n")
    assert len(cases) > 50
    for argv, want, r in zip(cases, wanted, run_all(cli, cases), strict=True):
        assert (r.code, r.err, r.out) == (125, want, ""), argv
    assert os.listdir(root) == []  # refused before anything was made


def test_a_refused_flag_says_so_in_every_spelling(cli) -> None:
    why = refused.FLAGS["container run"]["--gpus"]
    for argv in (["--gpus=all"], ["--gpus", "all"], ["-d", "--gpus", "all"]):
        r = cli.fails("run", *argv, "busybox", "true", code=125)
        assert r.err == f"dockyard: '--gpus' is not supported: {why}\nSee 'dockyard run --help'.\n"


def test_every_refused_command_exits_125_with_its_reason(cli, root, docker) -> None:
    cases, wanted = [], []
    for path, why in refused.COMMANDS.items():
        parent = " ".join(path.split()[:-1])
        where = f"dockyard {parent}".strip()
        for form in docker[path].forms:
            cases.append(form.split())
            wanted.append(f"dockyard: '{form}' is not supported: {why}\nSee '{where} --help'.\n")
        for sub in docker[path].commands[:2]:  # its commands, with their flags, get the same answer
            cases.append([*path.split(), sub, "--help"])
            wanted.append(f"dockyard: '{path}' is not supported: {why}\nSee '{where} --help'.\n")
    for argv, want, r in zip(cases, wanted, run_all(cli, cases), strict=True):
        assert (r.code, r.err, r.out) == (125, want, ""), argv
    assert os.listdir(root) == []


def test_what_is_neither_accepted_nor_refused_keeps_dockers_unknown_words(cli) -> None:
    r = cli.fails("run", "--no-such-flag", "busybox", code=125)
    assert r.err == "unknown flag: --no-such-flag\nSee 'dockyard run --help'.\n"
    r = cli.fails("ps", "-Z", code=125)
    assert r.err == "unknown shorthand flag: 'Z' in -Z\nSee 'dockyard ps --help'.\n"
    r = cli.fails("nosuch", code=1)
    assert r.err == "dockyard: 'nosuch' is not a dockyard command.\nSee 'dockyard --help'\n"
    r = cli.fails("volume", "nosuch", code=1)
    assert r.err == "dockyard: 'volume nosuch' is not a dockyard command.\nSee 'dockyard volume --help'\n"


def test_the_refused_table_is_read_only_on_the_error_path() -> None:
    code = (
        "import sys\n"
        "from app.cli import main\n"
        "main.build_parser('run').parse_args(['run', '--rm', '-e', 'A=1', 'busybox', 'true'])\n"
        "main.build_parser('ps').parse_args(['ps', '-a'])\n"
        "print('app.cli.refused' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "False\n"


def test_the_data_files_are_named_after_their_commands() -> None:
    for f in Path(reference.DATA).glob("docker*.txt"):
        assert reference.file_name(reference.parse_help(f.read_text()).path) == f.name
