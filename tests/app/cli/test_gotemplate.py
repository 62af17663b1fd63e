"""The --format template engine (app/cli/gotemplate) against Go's text/template and Docker's CLI.

The expected texts are what Docker 28's client (Go 1.24) prints for the same templates over the same data,
and the examples of Go's text/template documentation and Docker's "Format command and log output" page.
"""

from __future__ import annotations

import pytest

from app.cli.gotemplate import TemplateError, compile
from app.cli.gotemplate.tabwriter import tabwrite

# Data shaped as Docker's decoded JSON: maps, lists, strings, numbers, booleans and null.
DATA = {
    "Name": "default",
    "ID": "4ce0b5f2a9d1c3e7",
    "Image": "ubuntu:latest",
    "Args": ["sh", "-c", "true"],
    "Endpoints": {"docker": {"Host": "unix:///var/run/docker.sock", "SkipTLSVerify": False}},
    "Config": {"Env": ["PATH=/bin", "A=<b&c>"], "Labels": {"com.example": "web", "tier": "front"}},
    "State": {"Status": "exited", "Running": False, "Pid": 0, "ExitCode": 3},
    "NetworkSettings": {"Networks": {"net2": {"IPAddress": "10.0.2.5"}, "net1": {"IPAddress": "10.0.1.5"}}},
    "Mounts": [{"Source": "/a"}, {"Source": "/b"}],
    "Empty": [],
    "Nothing": None,
    "Count": 42,
    "Ratio": 1.5,
    "Label": {"com.example": "web"}.get,
}


def render(text: str, data: object = DATA) -> str:
    return compile(text).execute(data)


# (template, expected output)
CASES = [
    # fields, chains, map keys
    ("{{.Name}}", "default"),
    ("{{.Endpoints.docker.Host}}", "unix:///var/run/docker.sock"),
    ("{{.State.Running}} {{.Name}}", "false default"),
    ("{{.Config.Labels.tier}}", "front"),
    ("{{.Missing}}", "<no value>"),
    ("{{.Endpoints.nope.deeper}}", "<no value>"),
    ("{{.Nothing}}", "<no value>"),
    ("{{$.Name}}", "default"),
    ("{{(.Name)}}", "default"),
    ('{{.Label "com.example"}}', "web"),
    # literals
    ('{{"\\"output\\""}}', '"output"'),
    ('{{`"output"`}}', '"output"'),
    ("{{'a'}}", "97"),
    ("{{0x10}} {{1e3}} {{1.0}} {{-3}} {{1_000}}", "16 1000 1 -3 1000"),
    ("{{true}} {{false}}", "true false"),
    ('{{"\\u00e9\\x41\\t"}}|', "éA\t|"),
    # Go's documentation: every one of these prints "output" in quotes
    ('{{printf "%q" "output"}}', '"output"'),
    ('{{"output" | printf "%q"}}', '"output"'),
    ('{{printf "%q" (print "out" "put")}}', '"output"'),
    ('{{"put" | printf "%s%s" "out" | printf "%q"}}', '"output"'),
    ('{{"output" | printf "%s" | printf "%q"}}', '"output"'),
    ('{{with "output"}}{{printf "%q" .}}{{end}}', '"output"'),
    ('{{with $x := "output" | printf "%q"}}{{$x}}{{end}}', '"output"'),
    ('{{with $x := "output"}}{{printf "%q" $x}}{{end}}', '"output"'),
    ('{{with $x := "output"}}{{$x | printf "%q"}}{{end}}', '"output"'),
    # whitespace trimming and comments
    ("{{23 -}} < {{- 45}}", "23<45"),
    ("a  {{- 3 -}}  b", "a3b"),
    ("a {{/* a comment */}} b", "a  b"),
    ("a\n{{- /* trimmed */ -}}\n b", "ab"),
    ("{{-3}}", "-3"),
    ("{{ .Name \n }}", "default"),
    # variables
    ("{{$x := 1}}{{$x = 2}}{{$x}}", "2"),
    ("{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}", "21"),
    ("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2"),
    ("{{with $x := .Name}}{{$x}}{{end}}", "default"),
    # range: lists, maps in key order, ints, else, break, continue
    ("{{range .Args}}[{{.}}]{{end}}", "[sh][-c][true]"),
    ("{{range $i, $e := .Args}}{{$i}}={{$e}} {{end}}", "0=sh 1=-c 2=true "),
    ("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}};{{end}}", "com.example:web;tier:front;"),
    ("{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", "10.0.1.5 10.0.2.5 "),
    ("{{range .Empty}}x{{else}}none{{end}}", "none"),
    ("{{range .Missing}}x{{else}}none{{end}}", "none"),
    ("{{range 3}}{{.}}{{end}}", "012"),
    ('{{range .Args}}{{if eq . "true"}}{{break}}{{end}}{{.}}{{end}}', "sh-c"),
    ("{{range $i, $e := .Args}}{{if eq $i 0}}{{continue}}{{end}}{{$e}}{{end}}", "-ctrue"),
    ("{{range $x, $y := .Endpoints}}{{$x}}{{end}}", "docker"),
    # if / else if / with
    ('{{if eq .State.Status "exited"}}stopped{{end}}', "stopped"),
    ("{{if .State.Running}}up{{else if .State.ExitCode}}failed{{else}}done{{end}}", "failed"),
    ('{{with ""}}a{{else with 0}}b{{else}}c{{end}}', "c"),
    ("{{with .Name}}{{.}}{{end}}", "default"),
    ("{{if .Empty}}y{{else}}n{{end}}{{if .Nothing}}y{{else}}n{{end}}{{if .Mounts}}y{{end}}", "nny"),
    ("{{if and .Name (eq .Count 42)}}yes{{end}}", "yes"),
    # define, template, block
    ('{{define "a"}}x{{.}}{{end}}{{template "a" 5}}', "x5"),
    ('{{define "T1"}}ONE{{end}}{{define "T2"}}TWO {{template "T1"}}{{end}}{{template "T2"}}', "TWO ONE"),
    ('{{block "b" .Name}}[{{.}}]{{end}}', "[default]"),
    ('{{define "a"}}x{{end}}', ""),
    # builtins
    ('{{len .Mounts}} {{len .Name}} {{len .Config.Labels}} {{len "é"}}', "2 7 2 2"),
    ('{{index .Config.Labels "tier"}}', "front"),
    ('{{index .Config.Labels "nope"}}|', "|"),
    ("{{index .Args 1}} {{index .Name 1}}", "-c 101"),
    ("{{slice .Name 1 3}} {{slice .Args 1}}", "ef [-c true]"),
    ('{{and 1 0 2}}|{{or 0 "" 3}}|{{or 0 ""}}|{{not ""}}', "0|3||true"),
    (
        '{{eq 1 2 1}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}',
        "true true true true true false",
    ),
    ("{{eq .Missing nil}}", "true"),
    ('{{print 1 2 "a" "b" 3 nil}}', "1 2ab3 <nil>"),
    ('{{println 1 "a"}}x', "1 a\nx"),
    ('{{print .Missing}}|{{printf "%v" .Missing}}|{{.Missing | print}}', "<nil>|<nil>|<nil>"),
    ('{{html "<a&\\"\'>"}}', "&lt;a&amp;&#34;&#39;&gt;"),
    ('{{js "<a&\\"\'=\\\\>"}}', "\\u003Ca\\u0026\\\"\\'\\u003D\\\\\\u003E"),
    ('{{urlquery "a b&c/é"}}', "a+b%26c%2F%C3%A9"),
    ('{{printf "%q" (.Label "com.example")}}', '"web"'),
    ('{{.Name | len}} {{.Name | printf "%s!"}}', "7 default!"),
    ("{{print (1) (2)}}", "1 2"),
    # printf and Go's way of printing values
    ('{{printf "%s-%d" .Name .Count}}', "default-42"),
    ('{{printf "%5s|%-4d|%q" "ab" 3 "x\\"y"}}', '   ab|3   |"x\\"y"'),
    (
        '{{printf "%q %x %X %o %b %e %g %8.3f|%-8s|%08d|%+d|%c|%U" "a" 255 "hi" 8 5 1234.5678 0.000001 3.14159'
        ' "ab" 42 5 65 65}}',
        '"a" ff 6869 10 101 1.234568e+03 1e-06    3.142|ab      |00000042|+5|A|U+0041',
    ),
    ('{{printf "%t %v %5t" true false true}}', "true false  true"),
    ('{{printf "%d %s"}}', "%!d(MISSING) %!s(MISSING)"),
    ('{{printf "%d" "x"}} {{printf "%s" 1}} {{printf "%z" 1}}', "%!d(string=x) %!s(int=1) %!z(int=1)"),
    ('{{printf "x" 1}}', "x%!(EXTRA int=1)"),
    ('{{printf "%6.2f%%" 12.3456}}', " 12.35%"),
    ('{{printf "%T %T %T %T" 1 "a" 1.5 true}}', "int string float64 bool"),
    (
        '{{printf "%x %X"  255 -255}}|{{printf "%08.3f|%-8.2f|%+.1e" 3.14159 2.5 12345.678}}',
        "ff -FF|0003.142|2.50    |+1.2e+04",
    ),
    ('{{printf "%3c|%-4q|%#v|%#x" 65 "a" "b" 255}}', '  A|"a" |"b"|0xff'),
    ('{{printf "%*d" 5 3}} {{printf "%[2]s %[1]s" "a" "b"}}', "    3 b a"),
    ('{{printf "%5.1f|%x|%q|%v|%s" 3.14159 "é" "é\\n" "é" nil}}', '  3.1|c3a9|"é\\n"|é|%!s(<nil>)'),
    (
        "{{print 1.0 1e6 1e21 0.00001 123456.0 1234567.0 -0.0 1.5}}",
        "1 1e+06 1e+21 1e-05 123456 1.234567e+06 -0 1.5",
    ),
    ("{{.Config.Labels}} {{.Args}} {{.Ratio}}", "map[com.example:web tier:front] [sh -c true] 1.5"),
    ("{{.Mounts}}", "[map[Source:/a] map[Source:/b]]"),
    # Docker's functions (docs.docker.com, "Format command and log output")
    ('{{join .Args " , "}}', "sh , -c , true"),
    ("{{json .Config.Env}}", '["PATH=/bin","A=<b&c>"]'),
    ("{{json .State}}", '{"Status":"exited","Running":false,"Pid":0,"ExitCode":3}'),
    ("{{json .Nothing}} {{json 1.5}} {{json 1e21}} {{json 3.0}}", "null 1.5 1e+21 3"),
    ('{{json "é\\u2028<"}}', '"é\\u2028<"'),
    ('{{lower .Image}} {{upper .Name}} {{upper "é"}}', "ubuntu:latest DEFAULT É"),
    ('{{split .Image ":"}}', "[ubuntu latest]"),
    ('{{split "a,b,,c" ","}}|{{join (split "a b" " ") "-"}}|{{len (split "" ",")}}', "[a b  c]|a-b|1"),
    ('{{title .Name}} {{title "hello wORLD-foo_bar x.y"}}', "Default Hello WORLD-Foo_bar X.Y"),
    ('{{pad .Name 1 2}}|{{pad "" 2 3}}', " default  |"),
    ('{{truncate .ID 3}} {{truncate "ab" 3}} {{truncate "abc" 3}}', "4ce ab abc"),
    ("{{range .Config.Env}}{{println .}}{{end}}", "PATH=/bin\nA=<b&c>\n"),
    ("{{range .Mounts}}{{println .Source}}{{end}}", "/a\n/b\n"),
]


@pytest.mark.parametrize(("text", "want"), CASES, ids=[c[0][:40] for c in CASES])
def test_renders_as_go_and_docker(text: str, want: str) -> None:
    assert render(text) == want


def test_a_template_is_compiled_once_and_run_on_many_rows() -> None:
    t = compile("{{.ID}}\t{{.Names}}")
    assert [t.execute({"ID": i, "Names": f"n{i}"}) for i in range(3)] == ["0\tn0", "1\tn1", "2\tn2"]


# (template, Go's error message) for templates that do not parse
PARSE_ERRORS = [
    ("{{foo}}", 'template: :1: function "foo" not defined'),
    ("{{.Name", "template: :1: unclosed action"),
    ("{{end}}", "template: :1: unexpected {{end}}"),
    ("{{else}}", "template: :1: unexpected {{else}}"),
    ("{{if}}{{end}}", "template: :1: missing value for if"),
    ("{{range}}{{end}}", "template: :1: missing value for range"),
    ("{{with}}", "template: :1: missing value for with"),
    ("{{if 1}}", "template: :1: unexpected EOF"),
    ("{{if 1}}{{else}}{{else}}{{end}}", "template: :1: expected end; found {{else}}"),
    ("{{break}}", "template: :1: {{break}} outside {{range}}"),
    ("{{$x}}", 'template: :1: undefined variable "$x"'),
    ("{{if $x := .Name}}{{$x}}{{end}}{{$x}}", 'template: :1: undefined variable "$x"'),
    ('{{printf "%d" | 3}}', "template: :1: non executable command in pipeline stage 2"),
    ('{{"a".b}}', 'template: :1: unexpected . after term "\\"a\\""'),
    (
        '{{define "a"}}{{end}}{{define "a"}}x{{end}}{{define "a"}}y{{end}}',
        'template: :1: template: multiple definition of template "a"',
    ),
    ("{{'ab'}}", "template: :1: malformed character constant: 'ab'"),
    ("{{08}}", 'template: :1: integer overflow: "08"'),
    ("{{1e}}", 'template: :1: illegal number syntax: "1e"'),
    ('{{"\\z"}}', "template: :1: invalid syntax"),
    ("{{/* c */ }}", "template: :1: comment ends before closing delimiter"),
    ("{{.Name}", "template: :1: bad character U+007D '}'"),
    ('{{"abc}}', "template: :1: unterminated quoted string"),
    ("{{`abc}}", "template: :1: unterminated raw quoted string"),
    ("{{)}}", "template: :1: unexpected right paren"),
    ("{{(}}", "template: :1: unclosed left paren"),
    ("{{#}}", 'template: :1: unexpected "#" in command'),
    ("{{.a-b}}", "template: :1: bad character U+002D '-'"),
    ("{{$x=1}}", "template: :1: bad character U+003D '='"),
    ('{{"a"=1}}', 'template: :1: unexpected "=" in operand'),
    ("{{$x := 1}}{{$x,$y := 2}}", "template: :1: too many declarations in command"),
    ("{{ -}}", "template: :1: missing value for command"),
    ("{{- -}}", 'template: :1: illegal number syntax: "-"'),
    ("a\nb\n{{end}}", "template: :3: unexpected {{end}}"),
]


@pytest.mark.parametrize(("text", "message"), PARSE_ERRORS, ids=[c[0][:40] for c in PARSE_ERRORS])
def test_parse_errors_in_gos_words(text: str, message: str) -> None:
    with pytest.raises(TemplateError) as e:
        compile(text)
    assert str(e.value) == message


# (template, Go's error message) for templates that fail while they run
EXEC_ERRORS = [
    ("{{nil}}", 'template: :1:2: executing "" at <nil>: nil is not a command'),
    ('{{template "x"}}', 'template: :1:11: executing "" at <{{template "x"}}>: template "x" not defined'),
    ("{{len 3}}", 'template: :1:2: executing "" at <len 3>: error calling len: len of type int'),
    ("{{ 3|len}}", 'template: :1:5: executing "" at <len>: error calling len: len of type int'),
    ("{{1 2}}", 'template: :1:2: executing "" at <1>: can\'t give argument to non-function 1'),
    ("{{$ 1}}", 'template: :1:2: executing "" at <$>: can\'t give argument to non-function $'),
    (
        "{{printf}}",
        'template: :1:2: executing "" at <printf>: wrong number of args for printf: want at least 1 got 0',
    ),
    ("{{printf 1}}", 'template: :1:9: executing "" at <1>: expected string; found 1'),
    ("{{not 1 2}}", 'template: :1:2: executing "" at <not>: wrong number of args for not: want 1 got 2'),
    (
        "{{call .Name}}",
        'template: :1:2: executing "" at <call .Name>: error calling call: non-function .Name of type string',
    ),
    (
        "{{index .Args 99}}",
        'template: :1:2: executing "" at <index .Args 99>: error calling index: index out of range: 99',
    ),
    (
        "{{index .Endpoints 1}}",
        'template: :1:2: executing "" at <index .Endpoints 1>: error calling index: value has type int; should be string',
    ),
    (
        "{{index .Missing 1}}",
        'template: :1:2: executing "" at <index .Missing 1>: error calling index: index of untyped nil',
    ),
    (
        "{{slice .Name 3 1}}",
        'template: :1:2: executing "" at <slice .Name 3 1>: error calling slice: invalid slice index: 3 > 1',
    ),
    (
        '{{eq 1 "a"}}',
        'template: :1:2: executing "" at <eq 1 "a">: error calling eq: incompatible types for comparison',
    ),
    (
        "{{eq .Name}}",
        'template: :1:2: executing "" at <eq .Name>: error calling eq: missing argument for comparison',
    ),
    (
        "{{lt 1 1.5}}",
        'template: :1:2: executing "" at <lt 1 1.5>: error calling lt: incompatible types for comparison',
    ),
    (
        "{{lt true false}}",
        'template: :1:2: executing "" at <lt true false>: error calling lt: invalid type for comparison',
    ),
    (
        "{{len .Missing}}",
        'template: :1:2: executing "" at <len .Missing>: error calling len: '
        "reflect: call of reflect.Value.Type on zero Value",
    ),
    ('{{range "ab"}}{{.}}{{end}}', 'template: :1:8: executing "" at <"ab">: range can\'t iterate over ab'),
    (
        "{{range $i, $e := 3}}{{end}}",
        'template: :1:18: executing "" at <3>: can\'t use 3 to iterate over more than one variable',
    ),
    ("{{(1).b}}", 'template: :1:3: executing "" at <1>: can\'t evaluate field b in type int'),
    ("{{(.Name).Foo}}", 'template: :1:3: executing "" at <.Name>: can\'t evaluate field Foo in type string'),
    (
        "{{.Nothing.X}}",
        'template: :1:10: executing "" at <.Nothing.X>: nil pointer evaluating interface {}.X',
    ),
    ("{{.Name 1}}", 'template: :1:2: executing "" at <.Name>: Name is not a method but has arguments'),
    ("{{.Label}}", 'template: :1:2: executing "" at <.Label>: wrong number of args for Label: want 1 got 0'),
    (
        '{{printf "%d" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" | len 1 2 3 4 5 6 7 8 9}}',
        'template: :1:53: executing "" at <len>: wrong number of args for len: want 1 got 10',
    ),
    ("a\n  {{nil}}", 'template: :2:4: executing "" at <nil>: nil is not a command'),
    (
        '{{define "t"}}{{nil}}{{end}}{{template "t"}}',
        'template: :1:16: executing "t" at <nil>: nil is not a command',
    ),
]


@pytest.mark.parametrize(("text", "message"), EXEC_ERRORS, ids=[c[0][:40] for c in EXEC_ERRORS])
def test_execution_errors_in_gos_words(text: str, message: str) -> None:
    t = compile(text)
    with pytest.raises(TemplateError) as e:
        t.execute(DATA)
    assert str(e.value) == message


def test_header_functions_keep_a_columns_name() -> None:
    """A table's header row runs the same template over the columns' names with Docker's header functions:
    json, upper, truncate... leave the name as it is; pad still pads."""
    t = compile("{{json .Name}}\t{{upper .Image}}\t{{truncate .ID 2}}\t{{pad .Name 1 1}}")
    names = {"Name": "NAME", "Image": "IMAGE", "ID": "CONTAINER ID"}
    assert t.execute(names, header=True) == "NAME\tIMAGE\tCONTAINER ID\t NAME "


def test_a_failing_header_keeps_what_it_wrote() -> None:
    t = compile("{{.A}}|{{nil}}|")
    assert t.execute({"A": "x"}, partial=True) == "x|"


# Docker's tabwriter (minwidth 10, padding 3): the texts Docker printed for these tables
TABLES = [
    ("NAME\t<no value>\ndefault\ttrue\n", "NAME      <no value>\ndefault   true\n"),
    ("NAME|x\t|\ndefault|true\t|\n", "NAME|x         |\ndefault|true   |\n"),
    (
        "a\tbb\tc\nNAME\t\t<no value>\tx\na\tbb\tc\ndefault\t\ttrue\tx\n",
        "a         bb        c\nNAME                <no value>   x\na         bb        c\ndefault             true      x\n",
    ),
    ("NAME\n\n<no value>\tb\ndefault\n\ntrue\tb\n", "NAME\n\n<no value>   b\ndefault\n\ntrue      b\n"),
    ("NAME\t\ndefault\t\n", "NAME      \ndefault   \n"),
]


@pytest.mark.parametrize(("text", "want"), TABLES)
def test_tables_align_as_dockers_tabwriter(text: str, want: str) -> None:
    assert tabwrite(text) == want
