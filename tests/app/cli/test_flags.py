"""The flag parser: Docker's (pflag's) rules for flags and arguments, its help layout and its error words."""

from __future__ import annotations

import pytest

from app.cli import flags
from app.cli.main import build_parser


def parse(*argv: str) -> flags.Namespace:
    return build_parser(argv[0] if argv else None).parse_args(list(argv))


def refused(capsys: pytest.CaptureFixture[str], *argv: str, status: int = 125) -> str:
    """The first line of the error for argv, after checking the status and the pointer to the help."""
    with pytest.raises(SystemExit) as e:
        parse(*argv)
    assert e.value.code == status
    err = capsys.readouterr().err
    message, _, hint = err.partition("\n")
    assert hint.startswith("See 'dockyard ") and "--help'" in hint, err
    return message


def shown_help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as e:
        parse(*argv)
    assert e.value.code == 0
    return capsys.readouterr().out


# -- flags ---------------------------------------------------------------------------------------------


def test_long_flags_take_their_value_after_a_space_or_an_equals_sign() -> None:
    assert parse("run", "--name", "web", "i").name == "web"
    assert parse("run", "--name=web", "i").name == "web"
    assert parse("run", "--name=", "i").name == ""
    assert parse("run", "--env=A=1", "i").env == ["A=1"]


def test_short_flags_take_their_value_apart_attached_or_after_an_equals_sign() -> None:
    for argv in (["-e", "A=1"], ["-eA=1"], ["-e=A=1"]):
        assert parse("run", *argv, "i").env == ["A=1"], argv


def test_short_booleans_combine_and_the_last_may_take_a_value() -> None:
    for group in ("-it", "-ti", "-dit"):
        a = parse("run", group, "i")
        assert a.interactive and a.tty and a.detach == ("d" in group)
    a = parse("run", "-dp", "8080:80", "i")
    assert a.detach and a.publish == ["8080:80"]
    a = parse("run", "-dp8080:80", "-itePATH=/x", "i")
    assert a.publish == ["8080:80"] and a.interactive and a.tty and a.env == ["PATH=/x"]


def test_a_flag_that_takes_a_value_takes_the_next_argument_whatever_it_looks_like() -> None:
    assert parse("run", "--stop-timeout", "-1", "i").stop_timeout == -1
    assert parse("run", "-e", "-x", "i").env == ["-x"]
    assert parse("run", "--name", "--", "i").name == "--"
    assert parse("stop", "-t", "-1", "c").time == -1


def test_booleans_take_a_value_only_after_an_equals_sign() -> None:
    assert parse("run", "--rm=true", "i").rm is True
    assert parse("run", "--rm=false", "i").rm is False
    assert parse("run", "-d=false", "i").detach is False
    for word in ("1", "t", "T", "TRUE", "True"):
        assert parse("rm", f"--force={word}", "c").force is True
    for word in ("0", "f", "F", "FALSE", "False"):
        assert parse("rm", f"--force={word}", "c").force is False
    a = parse("rm", "--force", "false")
    assert a.force is True and a.containers == ["false"]


def test_a_double_dash_ends_the_flags() -> None:
    assert parse("rm", "--", "-f").containers == ["-f"]
    a = parse("run", "--rm", "--", "i", "-x")
    assert a.rm and a.image == "i" and a.command == ["-x"]


def test_a_lone_dash_is_an_argument() -> None:
    assert parse("import", "-", "r").file == "-"


def test_flags_and_arguments_mix() -> None:
    a = parse("rm", "c1", "-f", "c2")
    assert a.force and a.containers == ["c1", "c2"]
    a = parse("stop", "c1", "c2", "-t", "3")
    assert a.time == 3 and a.containers == ["c1", "c2"]


def test_after_the_image_everything_is_the_command() -> None:
    a = parse("run", "--rm", "busybox", "ls", "-la")
    assert a.rm and a.image == "busybox" and a.command == ["ls", "-la"]
    a = parse("run", "busybox", "--rm", "-h", "--help")
    assert not a.rm and a.hostname == "" and a.command == ["--rm", "-h", "--help"]
    a = parse("run", "i", "--", "x")
    assert a.command == ["--", "x"]
    a = parse("exec", "-it", "c", "sh", "-c", "echo -n hi")
    assert a.interactive and a.tty and a.container == "c" and a.command == ["sh", "-c", "echo -n hi"]
    assert parse("exec", "c").command == []
    assert parse("create", "i").command == []


def test_every_name_of_a_flag_sets_its_dest() -> None:
    for name in ("-t", "--time", "--timeout"):
        assert parse("stop", name, "7", "c").time == 7
    assert parse("run", "--net", "none", "i").network == "none"
    assert parse("run", "--network", "none", "i").network == "none"
    a = parse("run", "--no-healthcheck", "--add-host", "h:1.2.3.4", "i")
    assert a.no_healthcheck and a.add_host == ["h:1.2.3.4"]


def test_a_flag_given_twice_keeps_the_last_value_or_every_value_of_a_list() -> None:
    assert parse("run", "--name", "a", "--name", "b", "i").name == "b"
    assert parse("run", "-e", "A=1", "--env", "B=2", "-eC=3", "i").env == ["A=1", "B=2", "C=3"]


def test_defaults_are_present_and_list_defaults_are_not_shared() -> None:
    p = build_parser("run")
    a = p.parse_args(["run", "-e", "A=1", "-v", "/a:/b", "i"])
    b = p.parse_args(["run", "i"])
    assert a.env == ["A=1"] and b.env == [] and b.volume == []
    assert b.name is None and b.restart == "no" and b.replicas == 0 and b.network is None and b.cpus is None
    assert b.rm is False and b.detach is False
    c = parse("ps")
    assert c.last == -1 and c.filter == [] and c.format is None and c.all is False
    assert parse("logs", "c").tail == "all"
    assert parse("commit", "c").pause is True


def test_typed_values() -> None:
    a = parse("run", "--cpus", "1.5", "-c", "512", "--pids-limit", "10", "i")
    assert a.cpus == 1.5 and a.cpu_shares == 512 and a.pids_limit == 10
    assert parse("build", "--progress", "plain", ".").progress == "plain"


def test_optional_and_repeated_arguments() -> None:
    assert parse("port", "c").private_port is None
    assert parse("port", "c", "80/tcp").private_port == "80/tcp"
    assert parse("stats").containers == []
    assert parse("stats", "a", "b").containers == ["a", "b"]
    assert parse("images").repository is None
    a = parse("commit", "c", "repo:tag")
    assert (a.container, a.repository) == ("c", "repo:tag")
    a = parse("rename", "old", "new")
    assert (a.container, a.new_name) == ("old", "new")


def test_the_namespace_carries_the_command_its_group_and_set_defaults() -> None:
    a = parse("stop", "c")
    assert a.command == "stop" and a.handler.__name__ == "cmd_stop" and a.root is None and a.version is False
    a = parse("run", "i", "true")
    assert a.command == ["true"] and a.docker_exit_codes is True  # run's own "command" wins, as before
    a = parse("container", "ls", "-a")
    assert (
        a.command == "container" and a.container_command == "ls" and a.all and a.handler.__name__ == "cmd_ps"
    )
    a = parse("container", "inspect", "c")
    assert a.type == "container" and a.names == ["c"]
    assert parse("inspect", "c").type is None
    assert parse("image", "list").image_command == "list"
    assert parse("network", "rm", "-f", "n").names == ["n"]
    assert parse("volume", "remove", "v").volume_command == "remove"
    assert parse("builder", "prune", "-af").all is True
    assert parse("system", "df").system_command == "df"
    a = parse("container")
    assert a.container_command is None and "handler" not in a


def test_the_parser_of_the_command_named() -> None:
    p = build_parser(None)
    assert p.parser_for(p.parse_args(["container"])).prog == "dockyard container"
    assert p.parser_for(p.parse_args(["image", "ls"])).prog == "dockyard image ls"
    assert p.parser_for(p.parse_args([])) is p
    assert p.parser_for(p.parse_args(["stop", "c"])).prog == "dockyard stop"


def test_global_options_come_before_the_command() -> None:
    a = build_parser("ps").parse_args(["--root", "/x", "ps", "-a"])
    assert a.root == "/x" and a.command == "ps" and a.all
    assert build_parser("ps").parse_args(["--root=/y", "ps"]).root == "/y"
    assert build_parser(None).parse_args(["-v"]).version is True
    a = build_parser("run").parse_args(["run", "-v", "/a:/b", "i"])
    assert a.version is False and a.volume == ["/a:/b"]
    assert build_parser(None).parse_args([]).command is None


# -- help ----------------------------------------------------------------------------------------------


def test_help_in_dockers_layout(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert shown_help(capsys, "stop", "--help") == (
        "Usage:  dockyard stop [OPTIONS] CONTAINER [CONTAINER...]\n"
        "\n"
        "Stop one or more running containers\n"
        "\n"
        "Options:\n"
        "  -s, --signal string   Signal to send to the container\n"
        "  -t, --time int        Seconds to wait before killing the container\n"
    )


def test_help_anywhere_but_in_a_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (("stop", "-h"), ("stop", "c", "--help"), ("rm", "-fh"), ("stop", "--help=true")):
        assert shown_help(capsys, *argv).startswith(f"Usage:  dockyard {argv[0]} "), argv
    assert shown_help(capsys, "run", "--help").startswith(
        "Usage:  dockyard run [OPTIONS] IMAGE [COMMAND] [ARG...]\n"
    )
    assert parse("run", "-h", "box", "i").hostname == "box"
    assert parse("stop", "--help=false", "c").containers == ["c"]


def test_help_shows_value_kinds_defaults_and_hides_what_is_hidden(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    text = shown_help(capsys, "run", "--help")
    lines = text.splitlines()
    assert "  -e, --env list" in text and "      --cpus decimal" in text and "  -c, --cpu-shares int" in text
    assert any(line.startswith("      --rm ") for line in lines)
    assert '(default "no")' in text and "--help" not in text and "--timeout" not in text
    assert "-h, --hostname string" in text
    options = [line.split()[0] for line in lines[lines.index("Options:") + 1 :]]
    names = [o for o in options if o.startswith("--")] + [o for o in options if o.endswith(",")]
    assert len(names) == len(options)  # every row is a flag
    longs = [line.split("--")[1].split()[0] for line in lines[lines.index("Options:") + 1 :]]
    assert longs == sorted(longs)
    ps = shown_help(capsys, "ps", "-h")
    assert "  -n, --last int" in ps and "(default -1)" in ps
    pull = shown_help(capsys, "pull", "--help")
    assert (
        "--disable-content-trust" not in pull
        and "Usage:  dockyard pull [OPTIONS] NAME[:TAG|@DIGEST]\n" in pull
    )
    build = shown_help(capsys, "build", "--help")
    assert "  -t, --tag REF" in build and "Arguments:\n  CONTEXT" in build


def test_help_of_the_commands_and_of_a_group(capsys: pytest.CaptureFixture[str]) -> None:
    text = shown_help(capsys, "--help")
    assert text.startswith("Usage:  dockyard [OPTIONS] COMMAND\n\nA terminal container manager")
    lines = text.splitlines()
    assert lines.index("Management Commands:") < lines.index("Commands:") < lines.index("Options:")
    assert (
        "  container   Manage containers" in lines
        and "  run         Create and run a new container from an image" in lines
    )
    assert "  -v, --version            Print version information and quit" in lines
    assert lines[-1] == "Run 'dockyard COMMAND --help' for more information on a command."
    group = shown_help(capsys, "container", "--help")
    assert group.startswith("Usage:  dockyard container COMMAND\n\nManage containers\n\nCommands:\n")
    assert "  ls          List containers" in group.splitlines()
    assert group.endswith("Run 'dockyard container COMMAND --help' for more information on a command.\n")
    assert shown_help(capsys, "container", "stop", "-h").startswith(
        "Usage:  dockyard container stop [OPTIONS] CONTAINER"
    )


def test_long_help_wraps_at_the_terminal_width(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    lines = shown_help(capsys, "run", "--help").splitlines()
    assert all(
        len(line) <= 59 or len(line.split()) == 1 for line in lines
    )  # a word longer than the column stays
    rm = lines.index(next(line for line in lines if line.startswith("      --rm ")))
    column = lines[rm].index("Automatically")
    assert lines[rm + 1][:column].strip() == "" and lines[rm + 1][column] != " "


# -- errors --------------------------------------------------------------------------------------------


def test_unknown_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert refused(capsys, "ps", "--foo") == "unknown flag: --foo"
    assert refused(capsys, "ps", "--foo=1") == "unknown flag: --foo"
    assert refused(capsys, "ps", "-x") == "unknown shorthand flag: 'x' in -x"
    assert refused(capsys, "ps", "-axq") == "unknown shorthand flag: 'x' in -xq"
    assert refused(capsys, "run", "--foo", "busybox") == "unknown flag: --foo"
    assert refused(capsys, "ps", "---x") == "bad flag syntax: ---x"
    assert refused(capsys, "--bad", "ps") == "unknown flag: --bad"
    assert refused(capsys, "run", "--det", "i") == "unknown flag: --det"  # no abbreviations


def test_errors_name_the_command_and_point_to_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("container", "ls", "--foo")
    assert capsys.readouterr().err == "unknown flag: --foo\nSee 'dockyard container ls --help'.\n"


def test_flags_missing_their_value(capsys: pytest.CaptureFixture[str]) -> None:
    assert refused(capsys, "logs", "--tail") == "flag needs an argument: --tail"
    assert refused(capsys, "logs", "c", "-n") == "flag needs an argument: 'n' in -n"
    assert refused(capsys, "run", "-itp") == "flag needs an argument: 'p' in -p"
    assert refused(capsys, "--root") == "flag needs an argument: --root"


def test_values_of_the_wrong_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert refused(capsys, "stop", "-t", "x", "c") == (
        'invalid argument "x" for "-t, --time" flag: strconv.ParseInt: parsing "x": invalid syntax'
    )
    assert refused(capsys, "run", "--cpus", "x", "i") == (
        'invalid argument "x" for "--cpus" flag: strconv.ParseFloat: parsing "x": invalid syntax'
    )
    assert refused(capsys, "run", "--rm=maybe", "i") == (
        'invalid argument "maybe" for "--rm" flag: strconv.ParseBool: parsing "maybe": invalid syntax'
    )
    assert (
        refused(capsys, "build", "--progress", "fancy", ".")
        == 'invalid argument "fancy" for "--progress" flag'
    )
    assert refused(capsys, "inspect", "--type=x", "a") == 'invalid argument "x" for "--type" flag'


def test_the_wrong_number_of_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert refused(capsys, "run") == '"dockyard run" requires at least 1 argument.'
    assert refused(capsys, "stop") == '"dockyard stop" requires at least 1 argument.'
    assert refused(capsys, "rename", "a") == '"dockyard rename" requires exactly 2 arguments.'
    assert refused(capsys, "rename", "a", "b", "c") == '"dockyard rename" requires exactly 2 arguments.'
    assert refused(capsys, "logs") == '"dockyard logs" requires exactly 1 argument.'
    assert refused(capsys, "ps", "extra") == '"dockyard ps" accepts no arguments.'
    assert refused(capsys, "images", "a", "b") == '"dockyard images" requires at most 1 argument.'
    assert refused(capsys, "port", "a", "b", "c") == '"dockyard port" requires at most 2 arguments.'


def test_an_unknown_command_of_a_group(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        parse("container", "nosuch")
    assert e.value.code == 1
    assert capsys.readouterr().err == (
        "dockyard: 'container nosuch' is not a dockyard command.\nSee 'dockyard container --help'\n"
    )
    with pytest.raises(SystemExit) as e:
        build_parser(None).parse_args(["nosuch"])
    assert e.value.code == 1
    assert capsys.readouterr().err == "dockyard: 'nosuch' is not a dockyard command.\nSee 'dockyard --help'\n"


# -- the parser on its own -------------------------------------------------------------------------------


def test_a_parser_of_its_own() -> None:
    p = flags.Parser("tool")
    p.add_argument("-n", "--count", type=int, default=1)
    p.add_argument("--tag", action="append", default=["base"])
    p.add_argument("--mode", choices=["a", "b"], required=True)
    p.add_argument("--conv", type=lambda s: s.upper())
    p.add_argument("first")
    p.add_argument("rest", nargs="*")
    p.set_defaults(kind="x")
    a = p.parse_args(["--mode", "a", "--tag", "t", "one", "two", "-n3", "--conv=up", "three"])
    assert a == flags.Namespace(
        count=3, tag=["base", "t"], mode="a", conv="UP", first="one", rest=["two", "three"], kind="x"
    )
    assert "mode" in a and "other" not in a and repr(a).startswith("Namespace(count=3, ")
    assert p.parse_args(["--mode=b", "x"]).tag == ["base"]


def test_a_required_flag_and_a_failing_converter(capsys: pytest.CaptureFixture[str]) -> None:
    p = flags.Parser("tool")
    p.add_argument("--mode", required=True)

    def positive(text: str) -> int:
        if int(text) <= 0:
            raise ValueError("must be positive")
        return int(text)

    p.add_argument("--size", type=positive)
    with pytest.raises(SystemExit):
        p.parse_args([])
    assert capsys.readouterr().err == "required flag(s) \"mode\" not set\nSee 'tool --help'.\n"
    with pytest.raises(SystemExit):
        p.parse_args(["--mode", "m", "--size", "-2"])
    assert capsys.readouterr().err.startswith('invalid argument "-2" for "--size" flag: must be positive\n')


def test_mistakes_in_building_a_parser_are_refused() -> None:
    p = flags.Parser("tool")
    p.add_argument("-x", "--ex")
    with pytest.raises(ValueError):
        p.add_argument("-x")
    with pytest.raises(ValueError):
        p.add_argument("--y", nargs="+")
    with pytest.raises(ValueError):
        p.add_argument("-yy")
    with pytest.raises(ValueError):
        p.add_argument("--z", action="count")
    p.add_argument("cmd", nargs=flags.REMAINDER)
    with pytest.raises(ValueError):
        p.add_argument("after")
    with pytest.raises(ValueError):
        flags.Parser("tool").add_argument("-h")  # the help flag is there already
    with pytest.raises(ValueError):
        p.add_subparsers(dest="sub")
