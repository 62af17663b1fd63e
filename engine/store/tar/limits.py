"""What an archive may ask of the engine: bounds checked as the archive is read, each with a clear error
before the work it would waste.

The numbers are generous (no real image comes near them) and are read from this module at the moment they
are checked, so a test can lower one with ``monkeypatch.setattr(limits, "MAX_ENTRIES", 10)``.

A ``Budget`` counts what one import or load has unpacked so far, across every layer it unpacks: a load
shares one (``with limits.sharing(Budget()):``) so that many layers cannot together unpack what one may not.
"""

from __future__ import annotations

from contextvars import ContextVar

from engine.errors import UnsafeArchive

TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextvars import Token
    from types import TracebackType

MAX_ENTRIES = 1_000_000
"""Entries in one archive: the outer archive of a load, and all the layers one import or load unpacks."""

MAX_UNPACKED_BYTES = 1 << 40
"""Uncompressed bytes of one archive (1 TiB): the tar stream of an import, all the layers of a load, and a
compressed load archive once decompressed."""

MAX_HEADER_BYTES = 1 << 20
"""A PAX extended header or a GNU long name or link target (Go's archive/tar refuses larger ones too)."""

MAX_NAME_BYTES = 4095
"""An entry's path or link target (PATH_MAX, less its terminating NUL)."""

MAX_COMPONENT_BYTES = 255
"""One component of an entry's path (NAME_MAX)."""

MAX_PATH_DEPTH = 512
"""Directories an entry's path goes through: deeper trees cannot be removed again without recursion limits."""

MAX_LAYERS = 125
"""Layers of one image: overlayfs stacks no more (Docker refuses more with "max depth exceeded")."""

MAX_JSON_BYTES = 20 << 20
"""A JSON member of a load archive (manifest.json, index.json, a manifest, an index, a config): containerd's
bound for the same files."""

MAX_JSON_DEPTH = 64
"""Nesting of arrays and objects in a JSON member; real configs go five levels deep."""


class Budget:
    """Entries and uncompressed bytes unpacked so far by one import or load."""

    def __init__(self) -> None:
        self.entries = 0
        self.bytes = 0

    def entry(self, name: str) -> None:
        """Count one more entry (``name``, for the error), refused beyond MAX_ENTRIES."""
        self.entries += 1
        if self.entries > MAX_ENTRIES:
            shown = name if len(name) <= 80 else name[:80] + "..."
            raise UnsafeArchive(f"refusing {shown!r}: the archive has more than {MAX_ENTRIES} entries")

    def charge(self, n: int) -> None:
        """Count ``n`` more uncompressed bytes, refused beyond MAX_UNPACKED_BYTES."""
        self.bytes += n
        if self.bytes > MAX_UNPACKED_BYTES:
            raise UnsafeArchive(f"the archive unpacks to more than {_size(MAX_UNPACKED_BYTES)}")

    def check(self, n: int, what: str) -> None:
        """Refuse at once an entry of ``n`` bytes that would take the archive beyond MAX_UNPACKED_BYTES."""
        if self.bytes + n > MAX_UNPACKED_BYTES:
            raise UnsafeArchive(
                f"refusing {what}: the archive unpacks to more than {_size(MAX_UNPACKED_BYTES)}"
            )


def _size(n: int) -> str:
    for unit, shift in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} bytes"


_shared: ContextVar[Budget | None] = ContextVar("dockyard_archive_budget", default=None)


def current() -> Budget:
    """The budget shared by the load in progress, or a new one (an import, a layer on its own)."""
    return _shared.get() or Budget()


class sharing:  # noqa: N801 (used as a context manager, like contextlib's)
    """``with sharing(budget):`` every layer unpacked meanwhile (in this thread) counts against ``budget``."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self._token: Token[Budget | None] | None = None

    def __enter__(self) -> Budget:
        self._token = _shared.set(self.budget)
        return self.budget

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._token is not None
        _shared.reset(self._token)
