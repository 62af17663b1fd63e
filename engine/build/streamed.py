"""``docker build -``: a context given as a stream (standard input) instead of a directory.

The stream is either a tar archive of the context (plain, gzip, bzip2, xz or zstd), with its Dockerfile
inside, or a Dockerfile alone, with no context at all. As Docker does, the first bytes decide: a compressed
stream's magic number or a valid tar header make an archive, anything else is a Dockerfile. An archive is
unpacked (safely: nothing outside the directory, ``.wh.`` names kept as plain names) into a temporary
directory of the engine root that the build removes when it ends.
"""

from __future__ import annotations

import os

from engine.errors import BuildError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

__all__ = ["is_archive", "unpack"]

_HEAD = 512
MAX_DOCKERFILE = 16 << 20


class _Prefixed:
    """``head`` then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self.head = head
        self.stream = stream

    def read(self, size: int = -1, /) -> bytes:
        if self.head:
            if size < 0 or size >= len(self.head):
                out, self.head = self.head, b""
                if size < 0:
                    return out + self.stream.read()
                return out + (self.stream.read(size - len(out)) if size > len(out) else b"")
            out, self.head = self.head[:size], self.head[size:]
            return out
        return self.stream.read(size)


def _tar_header(block: bytes) -> bool:
    """Whether ``block`` is a tar header with a valid checksum (ustar or the old v7 format)."""
    if len(block) < _HEAD or not block.strip(b"\0"):
        return False
    field = block[148:156].replace(b"\0", b" ").strip()
    if not field or not all(c in b"01234567" for c in field):
        return False
    total = sum(block[:148]) + 8 * 32 + sum(block[156:_HEAD])
    return int(field, 8) == total


def is_archive(head: bytes) -> bool:
    from engine.store.tar.compression import detect_compression

    return detect_compression(head[:10]) != "none" or _tar_header(head[:_HEAD])


def unpack(stream: BinaryIO, tmpdir: str) -> tuple[str, str | None]:
    """Read the whole stream: (context directory, Dockerfile text when the stream was a Dockerfile)."""
    from engine.store.tmp import make_dir, remove_tree

    head = b""
    while len(head) < _HEAD:
        part = stream.read(_HEAD - len(head))
        if not part:
            break
        head += part
    os.makedirs(tmpdir, exist_ok=True)
    folder = make_dir(tmpdir, "context", 0o755)
    try:
        if not is_archive(head):
            data = head + stream.read(MAX_DOCKERFILE + 1 - len(head))
            if len(data) > MAX_DOCKERFILE:
                raise BuildError("the Dockerfile read from standard input is too big (more than 16 MiB)")
            return folder, data.decode("utf-8", errors="replace")
        from engine.errors import DockyardError
        from engine.store.tar.extract import extract_layer

        try:
            extract_layer(_Prefixed(head, stream), folder, overlay_whiteouts=False, interpret_whiteouts=False)
        except DockyardError as exc:
            raise BuildError(f"unable to read the build context from standard input: {exc.message}") from None
        return folder, None
    except BaseException:
        remove_tree(folder)
        raise
