"""Resumable, verified blob downloads.

A blob is downloaded into ``ROOT/tmp/partial-<hex>`` (named by its digest, not by a process, so the sweep of
dead processes' temporaries leaves it alone). A download cut short keeps what arrived; the next attempt, in
this pull or a later one, sends ``Range: bytes=<have>-`` and continues. The bytes are handed to the reader
from the start, the kept ones first, so a layer is unpacked while it downloads. Only a blob whose digest
matches is moved into the store; a mismatching one is deleted.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import os
import threading
import time
from collections.abc import Callable

from .client import RegistryClient, Response
from .errors import DigestMismatch, RegistryError, Unreachable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

PREFIX = "partial-"
CHUNK = 1 << 20
MAX_AGE = 7 * 24 * 3600  # partial downloads nobody resumed for a week are removed


class Cancelled(Exception):
    """The pull was stopped (another layer failed, or the user interrupted it)."""


def partial_path(tmpdir: str, digest: str) -> str:
    return os.path.join(tmpdir, PREFIX + digest.partition(":")[2])


def sweep_stale(tmpdir: str, max_age: float = MAX_AGE) -> None:
    """Remove partial downloads older than ``max_age`` seconds."""
    try:
        names = os.listdir(tmpdir)
    except FileNotFoundError:
        return
    cutoff = time.time() - max_age
    for n in names:
        if n.startswith(PREFIX):
            path = os.path.join(tmpdir, n)
            with contextlib.suppress(OSError):
                if os.stat(path).st_mtime < cutoff:
                    os.unlink(path)


class BlobDownload:
    """The bytes of one blob from offset 0, read with ``read(n)``: first what a partial file kept, then the
    rest from the registry, appended to the partial file as it arrives.

    Use as a context manager: it holds an exclusive lock on the partial file, so two pulls of the same blob
    (in one process or several) never write it at once."""

    def __init__(
        self,
        client: RegistryClient,
        digest: str,
        size: int,
        path: str,
        retries: int = 3,
        cancel: threading.Event | None = None,
        on_bytes: Callable[[int, int], None] | None = None,
        on_retry: Callable[[int, float], None] | None = None,
    ) -> None:
        self.client = client
        self.digest = digest
        self.size = size
        self.path = path
        self.retries = retries
        self.cancel = cancel or threading.Event()
        self.on_bytes = on_bytes
        self.on_retry = on_retry
        self.kept = 0  # bytes found in the partial file when the download started
        self._f: BinaryIO | None = None
        self._read_pos = 0  # bytes of the partial file handed out so far
        self._stored = 0  # bytes in the partial file
        self._resp: Response | None = None
        self._failed: BaseException | None = None

    # -- set-up ------------------------------------------------------------------------------------------
    def __enter__(self) -> BlobDownload:
        f = open(self.path, "a+b")  # noqa: SIM115 - closed in __exit__
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            have = os.fstat(f.fileno()).st_size
            if self.size and have > self.size:
                f.truncate(0)
                have = 0
            f.seek(0)
        except BaseException:
            f.close()
            raise
        self._f = f
        self.kept = self._stored = have
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._resp is not None:
            self._resp.close(reuse=False)
            self._resp = None
        if self._f is not None:
            self._f.close()
            self._f = None

    # -- reading -----------------------------------------------------------------------------------------
    def read(self, n: int = -1) -> bytes:
        if self._failed is not None:
            raise self._failed
        if self.cancel.is_set():
            raise Cancelled()
        f = self._f
        assert f is not None, "BlobDownload used outside its with-block"
        n = CHUNK if n is None or n < 0 else max(1, min(n, CHUNK))
        if self._read_pos < self._stored:
            data = f.read(min(n, self._stored - self._read_pos))
            self._read_pos += len(data)
            if self.on_bytes:
                self.on_bytes(self._read_pos, self.size)
            return data
        if self.size and self._stored >= self.size:
            return b""
        try:
            return self._from_network(n)
        except (Cancelled, DigestMismatch):
            raise
        except BaseException as e:
            self._failed = e
            raise

    def _from_network(self, n: int) -> bytes:
        f = self._f
        assert f is not None
        attempt = 0
        while True:
            if self.cancel.is_set():
                raise Cancelled()
            try:
                if self._resp is None:
                    self._resp = self._open()
                data = self._resp.read(min(n, self.size - self._stored) if self.size else n)
                if not data and self.size and self._stored < self.size:
                    raise http.client.IncompleteRead(b"", self.size - self._stored)
            except (OSError, http.client.HTTPException, RegistryError) as e:
                if self._resp is not None:
                    self._resp.close(reuse=False)
                    self._resp = None
                if isinstance(e, RegistryError) and not isinstance(e, Unreachable) and e.status < 500:
                    raise
                f.flush()
                attempt += 1
                if attempt > self.retries:
                    raise Unreachable(
                        f"downloading {self.digest} failed after {self._stored} of {self.size} bytes: "
                        f"{_why(e)} (the part already downloaded is kept; pull again to resume)"
                    ) from None
                delay = min(0.5 * 2 ** (attempt - 1), 5.0)
                if self.on_retry:
                    self.on_retry(attempt, delay)
                if self.cancel.wait(delay):
                    raise Cancelled() from None
                continue
            if not data:
                return b""
            f.write(data)
            self._stored += len(data)
            self._read_pos = self._stored
            if self.size and self._stored >= self.size:
                self._resp.close()  # the whole body was read: the connection goes back to the pool
                self._resp = None
            if self.on_bytes:
                self.on_bytes(self._stored, self.size)
            return data

    def _open(self) -> Response:
        headers = {"Accept": "*/*"}
        if self._stored:
            headers["Range"] = f"bytes={self._stored}-"
        r = self.client.request("GET", f"/blobs/{self.digest}", headers, ok=(200, 206))
        if self._stored and r.status == 200:
            # The registry ignored the Range: skip what we already have.
            left = self._stored
            while left:
                part = r.read(min(left, CHUNK))
                if not part:
                    raise http.client.IncompleteRead(b"", left)
                left -= len(part)
        elif r.status == 206:
            first = _range_start(r.header("Content-Range"))
            if first != self._stored:
                r.close(reuse=False)
                raise RegistryError(f"the registry resumed {self.digest} at byte {first}, not {self._stored}")
        return r

    # -- the end -----------------------------------------------------------------------------------------
    def commit(self, dest: str) -> None:
        """Move the complete, verified partial file to ``dest`` (in the blob store)."""
        f = self._f
        assert f is not None
        f.flush()
        os.fsync(f.fileno())
        os.chmod(self.path, 0o644)
        os.replace(self.path, dest)

    def discard(self) -> None:
        """Forget the partial file (its content is wrong)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        if self._f is not None:
            self._f.truncate(0)


def _range_start(content_range: str) -> int:
    # "bytes 100-199/200"
    try:
        return int(content_range.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return -1


def _why(e: BaseException) -> str:
    if isinstance(e, http.client.IncompleteRead):
        return "unexpected EOF"
    if isinstance(e, TimeoutError):
        return "i/o timeout"
    return str(e) or type(e).__name__
