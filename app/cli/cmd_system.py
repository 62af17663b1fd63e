"""System commands: system df, system prune, system check, version, info."""

from __future__ import annotations

from . import flags, output
from .commands import engine, local_engine, service


def register(sub: flags.Commands) -> None:
    g = sub.add_parser("system", help="Manage dockyard")
    ss = g.add_subparsers(dest="system_command", metavar="COMMAND")
    p = ss.add_parser("df", help="Show disk usage")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("--format")
    p.set_defaults(handler=cmd_df)
    p = ss.add_parser("prune", help="Remove stopped containers, unused networks and dangling images")
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("--volumes", action="store_true", help="Prune anonymous volumes")
    p.add_argument(
        "--filter", action="append", default=[], help="Provide filter values (e.g. 'label=<key>=<value>')"
    )
    p.set_defaults(handler=cmd_prune)
    p = ss.add_parser(
        "check", help="Clean what crashes left and find damage in the root (--repair: mend or quarantine it)"
    )
    p.add_argument("--repair", action="store_true", help="Rebuild what can be rebuilt, quarantine the rest")
    p.set_defaults(handler=cmd_check)
    from . import cmd_events

    cmd_events.add_events(ss, "events")
    __import__("app.cli.cmd_service", fromlist=["register"]).register(ss)
    p = sub.add_parser("version", help="Show the dockyard version")
    p.add_argument("-f", "--format", help="Format output using a custom template ('json' for JSON)")
    p.set_defaults(handler=cmd_version)
    for parent in (sub, ss):
        p = parent.add_parser("info", help="Display system-wide information")
        p.add_argument("-f", "--format", help="Format output using a custom template ('json' for JSON)")
        p.set_defaults(handler=cmd_info)


def cmd_df(a: flags.Namespace) -> int:
    from engine.humanize import human_size

    du = engine().df()

    def pct(part: int, total: int) -> str:
        return f"{human_size(part)} ({(100 * part // total) if total else 0}%)"

    rows = [
        {
            "Type": "Images",
            "TotalCount": du.images,
            "Active": du.images_active,
            "Size": human_size(du.images_size),
            "Reclaimable": pct(du.images_reclaimable, du.images_size),
        },
        {
            "Type": "Containers",
            "TotalCount": du.containers,
            "Active": du.containers_active,
            "Size": human_size(du.containers_size),
            "Reclaimable": pct(du.containers_reclaimable, du.containers_size),
        },
        {
            "Type": "Local Volumes",
            "TotalCount": du.volumes,
            "Active": du.volumes_active,
            "Size": human_size(du.volumes_size),
            "Reclaimable": pct(du.volumes_reclaimable, du.volumes_size),
        },
        {
            "Type": "Build Cache",
            "TotalCount": du.build_cache,
            "Active": du.build_cache_active,
            "Size": human_size(du.build_cache_size),
            "Reclaimable": human_size(du.build_cache_reclaimable),
        },
    ]
    output.emit(
        a.format,
        ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
        ["Type", "TotalCount", "Active", "Size", "Reclaimable"],
        rows,
    )
    if a.verbose:
        d = du.details
        print("\nImages space usage:\n")
        output.table(
            ["REPOSITORY", "TAG", "IMAGE ID", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"],
            [
                [
                    r["repository"],
                    r["tag"],
                    r["id"][7:19],
                    human_size(r["size"]),
                    human_size(r["shared"]),
                    human_size(r["unique"]),
                    r["containers"],
                ]
                for r in d.get("images", [])
            ],
        )
        print("\nContainers space usage:\n")
        output.table(
            ["CONTAINER ID", "IMAGE", "LOCAL VOLUMES", "SIZE", "STATUS", "NAMES"],
            [
                [r["id"][:12], r["image"], r.get("volumes", 0), human_size(r["size"]), r["status"], r["name"]]
                for r in d.get("containers", [])
            ],
        )
        print("\nLocal Volumes space usage:\n")
        output.table(
            ["VOLUME NAME", "LINKS", "SIZE"],
            [[v["name"], v["links"], human_size(v["size"])] for v in d.get("volumes", [])],
        )
        print("\nBuild cache usage: " + human_size(du.build_cache_size) + "\n")
        import time

        from engine.humanize import human_duration

        now = time.time()
        output.table(
            ["CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED", "USAGE", "SHARED"],
            [
                [
                    r["id"],
                    r["type"],
                    human_size(r["size"]),
                    human_duration(now - r["created"]) + " ago" if r.get("created") else "",
                    human_duration(now - r["last_used"]) + " ago" if r.get("last_used") else "",
                    1 if r.get("in_use") else 0,
                    "true" if r.get("shared") else "false",
                ]
                for r in d.get("build_cache", [])
            ],
        )
    return 0


def cmd_prune(a: flags.Namespace) -> int:
    from engine.humanize import human_size

    images = (
        "all images without at least one container associated to them" if a.all else "all dangling images"
    )
    volumes = "\n  - all anonymous volumes not used by at least one container" if a.volumes else ""
    warning = f"This will remove:\n  - all stopped containers\n  - all unused networks{volumes}\n  - {images}"
    from .cmd_ps import filters_of

    filters = filters_of(a.filter) or None
    if filters and a.volumes and "until" in filters:
        from engine import InvalidArgument

        raise InvalidArgument('The "until" filter is not supported with "--volumes"')
    if not output.confirmed(a.force, warning):
        return 0
    eng = engine()
    total = 0
    try:
        cr = eng.containers.prune(filters=filters)
        if cr.deleted:
            print("Deleted Containers:")
            print("\n".join(cr.deleted) + "\n")
        total += cr.reclaimed
    except ImportError:
        pass
    if a.volumes:
        removed_volumes = eng.volumes.prune(filters=filters)
        if removed_volumes:
            print("Deleted Volumes:")
            print("\n".join(removed_volumes) + "\n")
    removed_networks = eng.networks.prune(filters=filters)
    if removed_networks:
        print("Deleted Networks:")
        print("\n".join(str(n) for n in removed_networks) + "\n")
    ir = eng.images.prune(all=a.all, filters=filters)
    if ir.deleted:
        print("Deleted Images:")
        print(
            "\n".join([*(f"untagged: {t}" for t in ir.untagged), *(f"deleted: {d}" for d in ir.deleted)])
            + "\n"
        )
    total += ir.reclaimed
    print(f"Total reclaimed space: {human_size(total)}")
    return 0


def cmd_check(a: flags.Namespace) -> int:
    report = local_engine().check(repair=a.repair)
    for r in report.cleaned:
        print(f"cleaned: {r}")
    for f in report.findings:
        print(f"{f.kind}: {f.where}: {f.problem}")
        if f.repair:
            print(f"  repaired: {f.repair}")
    if report.quarantine:
        print(f"quarantine: {len(report.quarantine)} damaged files kept in {engine().root}/quarantine")
    if not report.ok:
        left = sum(1 for f in report.findings if not f.repair)
        print(f"{left} problems left; 'dockyard system check --repair' repairs what can be repaired")
        return 1
    print("ok")
    return 0


def _formatted(fmt: str, doc: dict[str, object]) -> None:
    if fmt == "json":
        import json

        print(json.dumps(doc))
    else:
        print(output.render_template(fmt, doc))


def cmd_version(a: flags.Namespace) -> int:
    from engine import version_document

    from .main import VERSION

    if not a.format:
        print(f"dockyard version {VERSION}")
        return 0
    server = version_document(VERSION)
    client = {
        k: server[k] for k in ("Version", "ApiVersion", "GitCommit", "GoVersion", "Os", "Arch", "BuildTime")
    }
    remote = service()
    if remote is not None:  # -H: the server is the service's own
        server = dict(remote.version)
    doc: dict[str, object] = {
        "Client": {"Platform": {"Name": "dockyard"}, **client, "DefaultAPIVersion": client["ApiVersion"],
                   "Context": "default"},
        "Server": server,
    }  # fmt: skip
    _formatted(a.format, doc)
    return 0


def info_doc() -> dict[str, object]:
    """``docker info``'s fields (``--format '{{json .}}'``), for this root and machine."""
    from .main import VERSION

    return engine().info(VERSION)


def cmd_info(a: flags.Namespace) -> int:
    from engine.humanize import format_bytes_binary

    doc = info_doc()
    if a.format:
        _formatted(a.format, doc)
        return 0
    print(f"Root: {doc['DockerRootDir']}")
    print(f"Containers: {doc['Containers']}")
    print(f" Running: {doc['ContainersRunning']}")
    print(f" Paused: {doc['ContainersPaused']}")
    print(f" Stopped: {doc['ContainersStopped']}")
    print(f"Images: {doc['Images']}")
    print(f"Storage Driver: {doc['Driver']}")
    print(f"Cgroup Version: {doc['CgroupVersion']}")
    print(f"Kernel Version: {doc['KernelVersion']}")
    print(f"Operating System: {doc['OperatingSystem']}")
    print(f"Architecture: {doc['Architecture']}")
    print(f"CPUs: {doc['NCPU']}")
    print(f"Total Memory: {format_bytes_binary(float(doc['MemTotal']))}")  # type: ignore[arg-type]
    return 0
