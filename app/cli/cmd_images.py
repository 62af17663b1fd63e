"""Image commands: images, tag, rmi, history, image inspect, import, save, load, image prune, image bootstrap."""

from __future__ import annotations

import sys

from . import flags, output
from .commands import engine, local_engine
from .progress import progress

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO


def _group(sub: flags.Commands, name: str, help: str) -> flags.Commands:
    g = sub.add_parser(name, help=help)
    return g.add_subparsers(dest=name + "_command", metavar="COMMAND")


def register(sub: flags.Commands) -> None:
    image = _group(sub, "image", "Manage images")

    for parent, name in ((sub, "images"), (image, "ls"), (image, "list")):
        p = parent.add_parser(name, help="List images")
        p.add_argument("-a", "--all", action="store_true", help="Show all images (intermediate too)")
        p.add_argument("-q", "--quiet", action="store_true", help="Only show image IDs")
        p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
        p.add_argument("--digests", action="store_true", help="Show digests")
        p.add_argument(
            "-f", "--filter", action="append", default=[], help="Filter output based on conditions provided"
        )
        p.add_argument("--format", help="'json', 'table' or a Go-style template")
        p.add_argument("repository", nargs="?", metavar="REPOSITORY[:TAG]")
        p.set_defaults(handler=cmd_images)

    for parent, name in ((sub, "tag"), (image, "tag")):
        p = parent.add_parser(name, help="Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE")
        p.add_argument("source", metavar="SOURCE_IMAGE[:TAG]")
        p.add_argument("target", metavar="TARGET_IMAGE[:TAG]")
        p.set_defaults(handler=cmd_tag)

    for parent, name in ((sub, "rmi"), (image, "rm"), (image, "remove")):
        p = parent.add_parser(name, help="Remove one or more images")
        p.add_argument("-f", "--force", action="store_true")
        p.add_argument("--no-prune", action="store_true", help="Do not delete untagged parents")
        p.add_argument("--platform", default="", help="Only the image of this platform (os[/arch[/variant]])")
        p.add_argument("images", nargs="+", metavar="IMAGE")
        p.set_defaults(handler=cmd_rmi)

    for parent, name in ((sub, "history"), (image, "history")):
        p = parent.add_parser(name, help="Show the history of an image")
        p.add_argument("--no-trunc", action="store_true")
        p.add_argument("-q", "--quiet", action="store_true")
        p.add_argument("-H", "--human", action="store_true", default=True)
        p.add_argument("--format")
        p.add_argument("--platform", default="", help="Only the image of this platform (os[/arch[/variant]])")
        p.add_argument("image")
        p.set_defaults(handler=cmd_history)

    p = image.add_parser("inspect", help="Display detailed information on one or more images")
    p.add_argument("-f", "--format")
    p.add_argument("--platform", default="", help="Inspect the image of this platform (os[/arch[/variant]])")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.set_defaults(handler=cmd_image_inspect)

    for parent, name in ((sub, "import"), (image, "import")):
        p = parent.add_parser(name, help="Import a rootfs tarball to create an image")
        p.add_argument("-m", "--message", default="")
        p.add_argument("-c", "--change", action="append", default=[], help="Dockerfile instruction")
        p.add_argument("--platform", default="", help="Platform of the image (this machine's only)")
        p.add_argument("file", metavar="FILE|-", help="Tarball path, or - for standard input")
        p.add_argument("reference", nargs="?", metavar="REPOSITORY[:TAG]")
        p.set_defaults(handler=cmd_import)

    for parent, name in ((sub, "save"), (image, "save")):
        p = parent.add_parser(name, help="Save one or more images to a tar archive")
        p.add_argument("-o", "--output", help="Write to a file instead of standard output")
        p.add_argument("--platform", default="", help="Only the image of this platform (os[/arch[/variant]])")
        p.add_argument("images", nargs="+", metavar="IMAGE")
        p.set_defaults(handler=cmd_save)

    for parent, name in ((sub, "load"), (image, "load")):
        p = parent.add_parser(name, help="Load images from a tar archive (docker save or OCI)")
        p.add_argument("-i", "--input", help="Read from a file instead of standard input")
        p.add_argument("-q", "--quiet", action="store_true")
        p.add_argument(
            "--platform", default="", help="Load the images of this platform (this machine's only)"
        )
        p.set_defaults(handler=cmd_load)

    p = image.add_parser("prune", help="Remove unused images")
    p.add_argument("-a", "--all", action="store_true", help="Remove all images not used by a container")
    p.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")
    p.add_argument(
        "--filter", action="append", default=[], help="Provide filter values (e.g. 'until=<timestamp>')"
    )
    p.set_defaults(handler=cmd_image_prune)

    from . import cmd_registry

    cmd_registry.add_pull(image)
    cmd_registry.add_push(image)

    p = image.add_parser("bootstrap", help="Make a base image on this machine: busybox, debian[:SUITE]")
    p.add_argument("what", metavar="NAME", help="busybox, or debian[:SUITE]")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(handler=cmd_bootstrap)


def _split(tag: str) -> tuple[str, str]:
    name, _, t = tag.rpartition(":")
    if "/" in t or not name:
        return tag, "latest"
    return name, t


def image_rows(images: list[Any], no_trunc: bool = False) -> list[dict[str, Any]]:
    from engine.humanize import ago, human_size

    rows = []
    for im in images:
        iid = im.id if no_trunc else im.short_id
        base = {
            "ID": iid,
            "CreatedSince": ago(im.created),
            "CreatedAt": im.created,
            "Size": human_size(im.size),
            "Digest": (im.repo_digests[0].partition("@")[2] if im.repo_digests else "<none>"),
            "Containers": "N/A",
            "SharedSize": "N/A",
            "UniqueSize": "N/A",
            "VirtualSize": human_size(im.size),
            "Label": _label(im.config.get("Labels") or {}),
        }
        if not im.tags:
            rows.append({"Repository": "<none>", "Tag": "<none>", **base})
        for t in im.tags:
            repo, tag = _split(t)
            rows.append({"Repository": repo, "Tag": tag, **base})
    return rows


def _label(labels: dict[str, str]) -> Any:
    """``{{.Label "key"}}``: the value of one label, "" when it has none."""
    return lambda key: labels.get(key, "")


def cmd_images(a: flags.Namespace) -> int:
    from .cmd_ps import filters_of, plain

    eng = engine()
    ims = eng.images.list(all=a.all, filters=filters_of(a.filter) or None)
    for damage in eng.images.damaged(since_list=True):
        sys.stderr.write(f"WARNING: an image is not listed: {damage}\n")
    rows = image_rows(ims, a.no_trunc)
    if a.repository:
        want_repo, _, want_tag = a.repository.partition(":")
        rows = [r for r in rows if r["Repository"] == want_repo and (not want_tag or r["Tag"] == want_tag)]
    if a.quiet:
        seen = []
        for r in rows:
            if r["ID"] not in seen:
                seen.append(r["ID"])
        print("\n".join(seen)) if seen else None
        return 0
    headers = ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]
    fields = ["Repository", "Tag", "ID", "CreatedSince", "Size"]
    if a.digests:
        headers.insert(2, "DIGEST")
        fields.insert(2, "Digest")
    output.emit(a.format, headers, fields, plain(a.format, rows))
    return 0


def cmd_tag(a: flags.Namespace) -> int:
    engine().images.tag(a.source, a.target)
    return 0


def _platform(eng: Any, a: flags.Namespace, names: list[str] | None) -> None:
    """--platform: it names the image's own platform (or, for import and load, this machine's)."""
    if a.platform:
        for n in names if names is not None else [None]:
            eng.images.check_platform(a.platform, n)


def cmd_rmi(a: flags.Namespace) -> int:
    eng = engine()

    def remove(name: str) -> None:
        if a.platform:
            eng.images.check_platform(a.platform, name)
        r = eng.images.remove(name, force=a.force)
        for t in r.untagged:
            print(f"Untagged: {t}")
        for d in r.deleted:
            print(f"Deleted: {d}")

    return output.for_each(a.images, remove)


def cmd_history(a: flags.Namespace) -> int:
    from engine.humanize import ago, human_size

    eng = engine()
    _platform(eng, a, [a.image])
    rows = eng.images.history(a.image)
    recs = []
    for h in rows:
        iid = h.id if (a.no_trunc or h.id == "<missing>") else h.id[7:19]
        created_by = h.created_by if a.no_trunc else output.truncate(h.created_by, 45)
        recs.append(
            {
                "ID": iid,
                "CreatedSince": ago(h.created) if h.created else "N/A",
                "CreatedAt": h.created,
                "CreatedBy": created_by,
                "Size": human_size(h.size),
                "Comment": h.comment,
            }
        )
    if a.quiet:
        print("\n".join(r["ID"] for r in recs))
        return 0
    output.emit(
        a.format,
        ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
        ["ID", "CreatedSince", "CreatedBy", "Size", "Comment"],
        recs,
    )
    return 0


def cmd_image_inspect(a: flags.Namespace) -> int:
    eng = engine()

    def get(name: str) -> dict[str, Any]:
        if a.platform:
            eng.images.check_platform(a.platform, name)
        return eng.images.inspect(name)

    return output.inspect_each(a.images, get, a.format)


def parse_changes(changes: list[str]) -> dict[str, Any]:
    """``--change`` instructions for import and commit: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR..."""
    from engine import parse_changes as parse

    return parse(changes)


def cmd_import(a: flags.Namespace) -> int:
    changes = parse_changes(a.change)
    eng = engine()
    _platform(eng, a, None)
    if a.reference:
        eng.images.tagged_name(a.reference)  # a bad name is refused before anything is read
    if a.file == "-":
        image_id = eng.images.import_(sys.stdin.buffer, a.reference, a.message, changes)
    else:
        try:
            f = open(a.file, "rb")  # noqa: SIM115
        except OSError as e:
            from engine import InvalidArgument

            raise InvalidArgument(f"open {a.file}: {e.strerror.lower() if e.strerror else e}") from None
        with f:
            image_id = eng.images.import_(f, a.reference, a.message, changes)
    print(image_id)
    return 0


def cmd_save(a: flags.Namespace) -> int:
    eng = engine()
    for n in a.images:
        eng.images.resolve(n)  # refuse unknown names before writing anything
    _platform(eng, a, a.images)
    output.write_archive(a.output, lambda f: eng.images.save(a.images, f))
    return 0


def cmd_load(a: flags.Namespace) -> int:
    from engine import InvalidArgument

    eng = engine()
    _platform(eng, a, None)
    f: BinaryIO
    if a.input:
        try:
            f = open(a.input, "rb")  # noqa: SIM115
        except OSError as e:
            raise InvalidArgument(f"open {a.input}: {(e.strerror or str(e)).lower()}") from None
    else:
        if sys.stdin.isatty():
            raise InvalidArgument("requested load from stdin, but stdin is empty")
        f = sys.stdin.buffer
    with f, progress("load", quiet=a.quiet) as pr:
        loaded = eng.images.load(f, pr)
    for name in loaded:
        if name.startswith("sha256:"):
            print(f"Loaded image ID: {name}")
        else:
            print(f"Loaded image: {name}")
    return 0


def cmd_image_prune(a: flags.Namespace) -> int:
    from engine.humanize import human_size

    what = "all images without at least one container associated to them" if a.all else "all dangling images"
    from .cmd_ps import filters_of

    filters = filters_of(a.filter)
    if not output.confirmed(a.force, f"This will remove {what}."):
        return 0
    r = engine().images.prune(all=a.all, filters=filters or None)
    if r.deleted:
        print("Deleted Images:")
        for t in r.untagged:
            print(f"untagged: {t}")
        for d in r.deleted:
            print(f"deleted: {d}")
        print()
    print(f"Total reclaimed space: {human_size(r.reclaimed)}")
    return 0


def cmd_bootstrap(a: flags.Namespace) -> int:
    eng = local_engine()
    with progress(f"bootstrap {a.what}", quiet=a.quiet) as pr:
        image_id = eng.images.bootstrap(a.what, pr)
    print(image_id)
    return 0
