"""The JSON files of an image archive, read within bounds and checked against their shapes before use.

``load`` reads Docker's ``manifest.json``, the OCI layout's ``oci-layout`` and ``index.json``, and the
manifests, indexes and image configs they lead to. Each is decoded by ``read_json`` (at most
``limits.MAX_JSON_BYTES``, nested at most ``limits.MAX_JSON_DEPTH`` deep), then checked by ``check`` against a
shape below: the fields the OCI image spec (and Docker, for ``manifest.json``) requires, the types of every
field the engine reads, and the media types it understands. What does not fit is one ``InvalidArgument``
naming the member and the field::

    invalid archive: manifest.json: entry 0 has no Config
    invalid archive: index.json: manifests[0].size must be an integer, not a string

The shapes are data: ``Obj`` (an object's fields, required or not), ``ListOf``, ``MapOf``, ``Str``, ``Int``,
``Bool``, ``Digest``, ``Nullable``; adding a field to check is adding a line to a table.
"""

from __future__ import annotations

from ..errors import InvalidArgument
from ..lean import jsonio
from . import oci
from .tar import limits

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

Path = tuple["str | int", ...]


class _Mismatch(Exception):
    """Where a document departs from its shape, and how (turned into InvalidArgument by ``check``)."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(problem)
        self.path = path
        self.problem = problem


def _kind(value: object) -> str:
    """A JSON value's type, as JSON calls it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


# -- shapes -----------------------------------------------------------------------------------------------


class Shape:
    expected = "a value"

    def check(self, value: Any, path: Path) -> None:
        raise NotImplementedError

    def _wrong(self, value: Any, path: Path) -> _Mismatch:
        return _Mismatch(path, f"must be {self.expected}, not {_kind(value)}")


class Anything(Shape):
    def check(self, value: Any, path: Path) -> None:
        pass


class Str(Shape):
    """A string; with ``one_of``, one of those (else "unsupported {what} ...")."""

    expected = "a string"

    def __init__(self, one_of: tuple[str, ...] = (), what: str = "value") -> None:
        self.one_of = one_of
        self.what = what

    def check(self, value: Any, path: Path) -> None:
        if not isinstance(value, str):
            raise self._wrong(value, path)
        if self.one_of and value not in self.one_of:
            raise _Mismatch(path, f"unsupported {self.what} {_shown(value)}")


class Int(Shape):
    """An integer (not a boolean, not a fraction) from ``minimum`` to ``maximum``; with ``one_of``, one of those."""

    expected = "an integer"

    def __init__(self, minimum: int = -(1 << 63), maximum: int = (1 << 63) - 1, one_of: tuple[int, ...] = ()):
        self.minimum = minimum
        self.maximum = maximum
        self.one_of = one_of

    def check(self, value: Any, path: Path) -> None:
        if type(value) is not int:
            raise self._wrong(value, path)
        if self.one_of and value not in self.one_of:
            raise _Mismatch(path, f"must be {' or '.join(map(str, self.one_of))}, not {value}")
        if not self.minimum <= value <= self.maximum:
            raise _Mismatch(path, f"must be from {self.minimum} to {self.maximum}, not {value}")


class Bool(Shape):
    expected = "a boolean"

    def check(self, value: Any, path: Path) -> None:
        if not isinstance(value, bool):
            raise self._wrong(value, path)


class Digest(Shape):
    """A content digest; only sha256 is supported (Docker's words for the others)."""

    expected = "a digest"

    def check(self, value: Any, path: Path) -> None:
        if not isinstance(value, str):
            raise self._wrong(value, path)
        algo, colon, hexpart = value.partition(":")
        if not colon or not algo or not hexpart or not _DIGEST_CHARS.issuperset(algo + hexpart):
            raise _Mismatch(path, f"invalid checksum digest format: {_shown(value)}")
        if algo != "sha256":
            raise _Mismatch(path, f"unsupported digest algorithm: {_shown(value)}")
        if len(hexpart) != 64 or not _HEX.issuperset(hexpart):
            raise _Mismatch(path, f"invalid checksum digest length or characters: {_shown(value)}")


_HEX = frozenset("0123456789abcdef")
_DIGEST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+._-=")


class Nullable(Shape):
    """``shape``, or null (Docker writes ``"Entrypoint": null`` for what is not set)."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.expected = shape.expected

    def check(self, value: Any, path: Path) -> None:
        if value is not None:
            self.shape.check(value, path)


class ListOf(Shape):
    def __init__(self, item: Shape) -> None:
        self.item = item
        self.expected = f"an array of {_plural(item.expected)}"

    def check(self, value: Any, path: Path) -> None:
        if not isinstance(value, list):
            raise self._wrong(value, path)
        for i, item in enumerate(value):
            self.item.check(item, (*path, i))


class MapOf(Shape):
    """An object with any keys, each value of one shape (annotations, labels)."""

    def __init__(self, value: Shape) -> None:
        self.value = value
        self.expected = f"an object of {_plural(value.expected)}"

    def check(self, value: Any, path: Path) -> None:
        if not isinstance(value, dict):
            raise self._wrong(value, path)
        for key, item in value.items():
            self.value.check(item, (*path, key))


class Obj(Shape):
    """An object whose listed fields have their shapes; a name ending in ``!`` is required. Other fields are
    allowed (newer versions of the formats add some)."""

    expected = "an object"

    def __init__(self, fields: dict[str, Shape]) -> None:
        self.required = [name[:-1] for name in fields if name.endswith("!")]
        self.fields = {name.rstrip("!"): shape for name, shape in fields.items()}

    def check(self, value: Any, path: Path) -> None:
        if not isinstance(value, dict):
            raise self._wrong(value, path)
        for name in self.required:
            if name not in value:
                raise _Mismatch(path, f"has no {name}")
        for name, shape in self.fields.items():
            if name in value:
                shape.check(value[name], (*path, name))


def _plural(expected: str) -> str:
    word = expected.split(" ", 1)[1] if expected.startswith(("a ", "an ")) else expected
    if word.startswith(("array", "object")):
        return word.replace("array", "arrays", 1).replace("object", "objects", 1)
    return word + "s"


def _shown(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:80] + "...")


# -- the formats ------------------------------------------------------------------------------------------

STRINGS = ListOf(Str())
ANNOTATIONS = MapOf(Str())
SIZE = Int(minimum=0)

PLATFORM = Obj(
    {
        "architecture!": Str(),
        "os!": Str(),
        "os.version": Str(),
        "os.features": STRINGS,
        "variant": Str(),
        "features": STRINGS,
    }
)


def descriptor(media_types: tuple[str, ...], what: str) -> Obj:
    """An OCI content descriptor of one of ``media_types``."""
    return Obj(
        {
            "mediaType!": Str(media_types, f"{what} media type"),
            "digest!": Digest(),
            "size!": SIZE,
            "urls": STRINGS,
            "annotations": Nullable(ANNOTATIONS),
            "platform": PLATFORM,
            "artifactType": Str(),
            "data": Str(),
        }
    )


OCI_LAYOUT = Obj({"imageLayoutVersion!": Str(("1.0.0",), "OCI layout version")})
"""``oci-layout``: the version of the layout (the spec knows one)."""

MANIFEST_OR_INDEX = descriptor(oci.MANIFEST_TYPES + oci.INDEX_TYPES, "manifest")

INDEX = Obj(
    {
        "schemaVersion!": Int(one_of=(2,)),
        "mediaType": Str(oci.INDEX_TYPES, "index media type"),
        "manifests!": ListOf(MANIFEST_OR_INDEX),
        "annotations": Nullable(ANNOTATIONS),
    }
)
"""``index.json`` and the image indexes (Docker's manifest lists) it leads to."""

# The entries of a nested index may be of any type (attestations, signatures): only the one picked for this
# platform must be a manifest or an index.
NESTED_INDEX = Obj(
    {
        "schemaVersion!": Int(one_of=(2,)),
        "mediaType": Str(oci.INDEX_TYPES, "index media type"),
        "manifests!": ListOf(descriptor((), "manifest")),
        "annotations": Nullable(ANNOTATIONS),
    }
)

MANIFEST = Obj(
    {
        "schemaVersion!": Int(one_of=(2,)),
        "mediaType": Str(oci.MANIFEST_TYPES, "manifest media type"),
        "config!": descriptor(oci.CONFIG_TYPES, "config"),
        "layers!": ListOf(descriptor(oci.LAYER_TYPES, "layer")),
        "annotations": Nullable(ANNOTATIONS),
    }
)
"""An image manifest (OCI, or Docker's schema 2)."""

HEALTHCHECK = Obj(
    {
        "Test": Nullable(STRINGS),
        "Interval": Int(),
        "Timeout": Int(),
        "StartPeriod": Int(),
        "StartInterval": Int(),
        "Retries": Int(),
    }
)

CONTAINER_CONFIG = Obj(
    {
        "User": Str(),
        "ExposedPorts": Nullable(MapOf(Anything())),
        "Env": Nullable(STRINGS),
        "Entrypoint": Nullable(STRINGS),
        "Cmd": Nullable(STRINGS),
        "Volumes": Nullable(MapOf(Anything())),
        "WorkingDir": Str(),
        "Labels": Nullable(ANNOTATIONS),
        "StopSignal": Str(),
        "ArgsEscaped": Bool(),
        "Healthcheck": Nullable(HEALTHCHECK),
        "OnBuild": Nullable(STRINGS),
        "Shell": Nullable(STRINGS),
        "StopTimeout": Nullable(Int()),
    }
)
"""The ``config`` of an image config: the fields a container is made from."""

HISTORY = Obj(
    {
        "created": Str(),
        "created_by": Str(),
        "author": Str(),
        "comment": Str(),
        "empty_layer": Bool(),
    }
)

IMAGE_CONFIG = Obj(
    {
        "architecture!": Str(),
        "os!": Str(),
        "variant": Str(),
        "os.version": Str(),
        "created": Str(),
        "author": Str(),
        "config": Nullable(CONTAINER_CONFIG),
        "rootfs!": Obj({"type!": Str(("layers",), "rootfs type"), "diff_ids!": ListOf(Digest())}),
        "history": Nullable(ListOf(HISTORY)),
    }
)
"""An image config (OCI's ``application/vnd.oci.image.config.v1+json``, Docker's container image JSON)."""

DOCKER_MANIFEST = ListOf(
    Obj(
        {
            "Config!": Str(),
            "RepoTags": Nullable(STRINGS),
            "Layers": Nullable(STRINGS),
            "Parent": Str(),
            "LayerSources": Nullable(MapOf(Anything())),
        }
    )
)
"""Docker's ``manifest.json``: one entry per image, naming its config and layer files in the archive."""


# -- reading and checking ---------------------------------------------------------------------------------


def read_json(data: bytes, member: str) -> Any:
    """Decode the archive member ``member``: at most MAX_JSON_BYTES, nested at most MAX_JSON_DEPTH deep."""
    if len(data) > limits.MAX_JSON_BYTES:
        raise InvalidArgument(f"invalid archive: {member} is larger than {limits.MAX_JSON_BYTES} bytes")
    try:
        doc = jsonio.loads(data)
    except ValueError as e:  # UnicodeDecodeError is one, and jsonio turns deep nesting into one
        raise InvalidArgument(f"invalid archive: {member} is not valid JSON: {_reason(e)}") from None
    if _too_deep(doc, limits.MAX_JSON_DEPTH):
        raise InvalidArgument(
            f"invalid archive: {member} is nested more than {limits.MAX_JSON_DEPTH} levels deep"
        )
    return doc


def _reason(e: ValueError) -> str:
    text = str(e)
    return text if len(text) <= 200 else text[:200] + "..."


def _too_deep(doc: Any, limit: int) -> bool:
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def check(doc: Any, shape: Shape, member: str) -> Any:
    """``doc`` when it fits ``shape``; else InvalidArgument naming ``member`` and the field that does not."""
    try:
        shape.check(doc, ())
    except _Mismatch as m:
        raise InvalidArgument(f"invalid archive: {member}{_where(m.path, m.problem)}") from None
    return doc


def _where(path: Path, problem: str) -> str:
    """``path`` as people read it: ``entry 0: Layers[1]`` in manifest.json (a list of images),
    ``manifests[0].size`` elsewhere; then the problem."""
    text = ""
    rest = path
    if path and isinstance(path[0], int):
        text = f"entry {path[0]}"
        rest = path[1:]
        if rest:
            text += ": "
    for i, part in enumerate(rest):
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = part if len(part) <= 80 else part[:80] + "..."
            text += ("." if i else "") + key
    sep = " " if problem.startswith(("has ", "must ")) else ": "
    return f"{': ' + text if text else ''}{sep}{problem}"


def load_checked(data: bytes, member: str, shape: Shape) -> Any:
    """``read_json`` then ``check``."""
    return check(read_json(data, member), shape, member)
