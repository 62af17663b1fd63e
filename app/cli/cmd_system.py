"""System commands: system df, system prune, system check, version, info."""

from __future__ import annotations

from . import flags, output
from .commands import engine


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
    p.add_argument("--volumes", action="store_true")
    p.set_defaults(handler=cmd_prune)
    p = ss.add_parser(
        "check", help="Clean what crashes left and find damage in the root (--repair: mend or quarantine it)"
    )
    p.add_argument("--repair", action="store_true", help="Rebuild what can be rebuilt, quarantine the rest")
    p.set_defaults(handler=cmd_check)
    p = sub.add_parser("version", help="Show the dockyard version")
    p.set_defaults(handler=cmd_version)
    p = sub.add_parser("info", help="Display system-wide information")
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
    return 0


def cmd_prune(a: flags.Namespace) -> int:
    from engine.humanize import human_size

    images = (
        "all images without at least one container associated to them" if a.all else "all dangling images"
    )
    warning = f"This will remove:\n  - all stopped containers\n  - all unused networks\n  - {images}"
    if not output.confirmed(a.force, warning):
        return 0
    eng = engine()
    total = 0
    try:
        cr = eng.containers.prune()
        if cr.deleted:
            print("Deleted Containers:")
            print("\n".join(cr.deleted) + "\n")
        total += cr.reclaimed
    except ImportError:
        pass
    removed_networks = eng.networks.prune()
    if removed_networks:
        print("Deleted Networks:")
        print("\n".join(str(n) for n in removed_networks) + "\n")
    ir = eng.images.prune(all=a.all)
    if ir.deleted:
        print("Deleted Images:")
        print("\n".join(f"deleted: {d}" for d in ir.deleted) + "\n")
    total += ir.reclaimed
    print(f"Total reclaimed space: {human_size(total)}")
    return 0


def cmd_check(a: flags.Namespace) -> int:
    report = engine().check(repair=a.repair)
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


def cmd_version(a: flags.Namespace) -> int:
    from .main import VERSION

    print(f"dockyard version {VERSION}")
    return 0


def cmd_info(a: flags.Namespace) -> int:
    import platform

    eng = engine()
    ims = eng.images.list(all=True)
    print(f"Root: {eng.root}")
    print(f"Images: {len(ims)}")
    print("Storage Driver: overlay")
    print(f"Kernel Version: {platform.release()}")
    print(f"Architecture: {platform.machine()}")
    return 0
