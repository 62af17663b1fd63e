"""``dockyard context``: Docker's contexts, named engines to work on (engine/context/ keeps them): the
``default`` one is the local engine root; others name a service at ``unix://``, ``tcp://`` (TLS) or
``ssh://USER@HOST`` (the system ssh client runs ``dockyard system dial-stdio`` there). ``--context NAME``
(``-c``) or ``$DOCKYARD_CONTEXT`` choose one for a single run, ``context use`` for every run after."""

from __future__ import annotations

import sys

from . import flags, output

TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine import Context, ContextStore


def register(sub: flags.Commands) -> None:
    g = sub.add_parser("context", help="Manage contexts")
    cs = g.add_subparsers(dest="context_command", metavar="COMMAND")

    def docker_flag(p: flags.Parser) -> None:
        p.add_argument(
            "--docker",
            metavar="host=ENDPOINT[,ca=FILE,cert=FILE,key=FILE,skip-tls-verify=BOOL]",
            help="set the docker endpoint (unix:///PATH, tcp://HOST:PORT with TLS, ssh://USER@HOST[:PORT])",
        )
        p.add_argument("--description", help="Description of the context")

    p = cs.add_parser("create", help="Create a context")
    p.add_argument("name", metavar="CONTEXT")
    docker_flag(p)
    p.add_argument("--from", dest="from_", metavar="CONTEXT", help="create context from a named context")
    p.set_defaults(handler=cmd_create)
    p = cs.add_parser("update", help="Update a context")
    p.add_argument("name", metavar="CONTEXT")
    docker_flag(p)
    p.set_defaults(handler=cmd_update)
    p = cs.add_parser("ls", aliases=["list"], help="List contexts")
    p.add_argument("--format", help="Format output: 'table', 'json' or a Go template")
    p.add_argument("-q", "--quiet", action="store_true", help="Only show context names")
    p.set_defaults(handler=cmd_ls)
    p = cs.add_parser("use", help="Set the current docker context")
    p.add_argument("name", metavar="CONTEXT")
    p.set_defaults(handler=cmd_use)
    p = cs.add_parser("rm", aliases=["remove"], help="Remove one or more contexts")
    p.add_argument("names", nargs="+", metavar="CONTEXT")
    p.add_argument("-f", "--force", action="store_true", help="Force the removal of a context in use")
    p.set_defaults(handler=cmd_rm)
    p = cs.add_parser("inspect", help="Display detailed information on one or more contexts")
    p.add_argument("names", nargs="*", metavar="CONTEXT")
    p.add_argument("-f", "--format", help="Format output using a custom template")
    p.set_defaults(handler=cmd_inspect)
    p = cs.add_parser("show", help="Print the name of the current context")
    p.set_defaults(handler=cmd_show)


def _endpoint(spec: str) -> dict[str, object]:
    """``--docker host=...,ca=...,cert=...,key=...,skip-tls-verify=true`` as the store's arguments."""
    from engine import InvalidArgument

    out: dict[str, object] = {}
    names = {"host": "host", "ca": "ca", "cert": "cert", "key": "key", "skip-tls-verify": "skip_tls_verify"}
    for part in spec.split(","):
        key, eq, value = part.partition("=")
        key = key.strip()
        if not eq or key not in names:
            raise InvalidArgument(
                f"unable to create docker endpoint config: unrecognized config key: {key or part!r} "
                "(host, ca, cert, key, skip-tls-verify)"
            )
        if key == "skip-tls-verify":
            if value.lower() not in ("true", "false", "1", "0"):
                raise InvalidArgument(f"invalid skip-tls-verify value {value!r}: true or false")
            out[names[key]] = value.lower() in ("true", "1")
        elif key in ("ca", "cert", "key"):
            import os

            out[names[key]] = os.path.abspath(os.path.expanduser(value)) if value else ""
        else:
            out[names[key]] = value
    if not out.get("host"):
        raise InvalidArgument("unable to create docker endpoint config: host is required (host=ENDPOINT)")
    return out


def _store() -> ContextStore:
    from engine import ContextStore

    return ContextStore()


def cmd_create(a: flags.Namespace) -> int:
    from engine import InvalidArgument

    store = _store()
    if a.docker and a.from_:
        raise InvalidArgument("--from and --docker cannot be used together: choose one")
    description = a.description
    if a.docker:
        ep = _endpoint(a.docker)
    else:
        source = store.get(a.from_ or store.current())
        if source.is_default:
            raise InvalidArgument(
                "the default context is this machine's engine root, which another context cannot name: "
                "give the endpoint with --docker host=unix:///PATH|tcp://HOST:PORT|ssh://USER@HOST"
            )
        e = source.endpoint
        ep = {"host": e.host, "ca": e.ca, "cert": e.cert, "key": e.key, "skip_tls_verify": e.skip_tls_verify}
        if description is None:
            description = source.description
    store.create(a.name, description=description or "", **ep)  # type: ignore[arg-type]
    print(a.name)
    sys.stderr.write(f'Successfully created context "{a.name}"\n')
    return 0


def cmd_update(a: flags.Namespace) -> int:
    store = _store()
    ep = _endpoint(a.docker) if a.docker else {}
    store.update(a.name, description=a.description, **ep)  # type: ignore[arg-type]
    print(a.name)
    sys.stderr.write(f'Successfully updated context "{a.name}"\n')
    return 0


def _row(c: Context, current: str) -> dict[str, object]:
    return {
        "Name": c.name,
        "Description": c.description,
        "DockerEndpoint": c.endpoint.host,
        "Current": c.name == current,
        "Error": "",
    }


def cmd_ls(a: flags.Namespace) -> int:
    store = _store()
    current = store.current()
    contexts = store.list()
    if a.quiet:
        for c in contexts:
            print(c.name)
        return 0
    rows = [_row(c, current) for c in contexts]
    if not a.format or a.format == "table":
        for r in rows:
            if r["Current"]:
                r["Name"] = f"{r['Name']} *"
    output.emit(
        a.format,
        ["NAME", "DESCRIPTION", "DOCKER ENDPOINT", "ERROR"],
        ["Name", "Description", "DockerEndpoint", "Error"],
        rows,
    )
    if current not in {c.name for c in contexts}:
        sys.stderr.write(f'Warning: the current context "{current}" does not exist\n')
    return 0


def cmd_use(a: flags.Namespace) -> int:
    import os

    _store().use(a.name)
    print(a.name)
    sys.stderr.write(f'Current context is now "{a.name}"\n')
    env = os.environ.get("DOCKYARD_CONTEXT")
    if env and env != a.name:
        sys.stderr.write(
            f'Warning: DOCKYARD_CONTEXT is set ({env}): it overrides the context set by "dockyard context '
            'use" until it is unset\n'
        )
    return 0


def cmd_rm(a: flags.Namespace) -> int:
    store = _store()

    def remove(name: str) -> None:
        store.remove(name, force=a.force)
        print(name)

    return output.for_each(a.names, remove)


def cmd_inspect(a: flags.Namespace) -> int:
    store = _store()
    names = a.names or [store.current()]
    return output.inspect_each(names, lambda n: store.get(n).inspect(), a.format)


def cmd_show(a: flags.Namespace) -> int:
    print(_store().current())
    return 0
