"""The json-file log, in Docker's line format, written by the supervisor and read by ``logs``.

Each line: ``{"log":"hi\\n","stream":"stdout","time":"2024-01-01T12:00:00.123456789Z"}``. Output is split at
newlines and into 16 KiB pieces; only a piece that ends a line ends in ``\\n``.

Rotation, as Docker's json-file driver does it (``--log-opt max-size=10m --log-opt max-file=3``): before a
line that would take the file past max-size, ``<id>-json.log`` is renamed ``<id>-json.log.1``, the older
ones move up (``.1`` to ``.2``, ...), the one that would be number max-file is deleted, and a new file is
begun (with ``max-file=1`` the file is only begun anew). With ``compress=true`` each rotated file is gzipped
(``.1.gz``, ...) in a thread of the supervisor. The renames happen under an exclusive flock of the log's
directory, which readers (``logread.py``) hold shared while they open the files: a reader sees the whole set
before a rotation or after it, never halfway. A gzipped file names the file it was made from (its device and
inode, in an extra field of its header), so a follower that holds that file open still finds what came next.
"""

from __future__ import annotations

import fcntl
import os
import time
from _json import encode_basestring as _json_string

from engine.lean.record import record

from ..errors import CorruptRecord, InvalidArgument
from ..humanize import parse_time, rfc3339
from ..lean import jsonio
from ..lean.tools import suppress

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CHUNK = 16 * 1024
DRIVERS = ("json-file", "none", "local")
#: Docker's local driver's defaults; dockyard keeps its log as json-file storage (docs/LOGGING.md).
LOCAL_DEFAULTS = {"max-size": "20m", "max-file": "5", "compress": "true"}
NOT_READABLE = "configured logging driver does not support reading"
GZ_FIELD = b"DY"  # the gzip header's extra subfield naming the rotated file's device and inode
_ROTATION_OPTS = ("max-size", "max-file", "compress")
_OTHER_DOCKER_OPTS = ("labels", "labels-regex", "env", "env-regex", "tag", "mode", "max-buffer-size")
_SI = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15}
_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


@record
class LogEntry:
    stream: str
    data: bytes
    time: str

    @property
    def timestamp(self) -> float:
        return parse_time(self.time)


@record
class Rotation:
    """When the log is rotated and what is kept: no rotation unless ``max_size`` is set."""

    max_size: int = 0  # bytes; 0: the file grows without bound
    max_file: int = 1  # files kept, the one being written included
    compress: bool = False  # gzip the rotated files


# -- the driver's options, read as Docker reads them --------------------------------------------------------
def parse_size(text: str) -> int:
    """``max-size`` as Docker reads it (go-units' FromHumanSize): SI units, ``10m`` = 10,000,000 bytes, with
    an optional ``b`` or ``ib`` (``10MB``, ``10MiB``: the same); a bare number is bytes."""
    sep = max(text.rfind(c) for c in "0123456789. ")
    if sep < 0:
        raise InvalidArgument(f"invalid size: '{text}'")
    number, suffix = (text[: sep + 1], text[sep + 1 :]) if text[sep] != " " else (text[:sep], text[sep + 1 :])
    try:
        size = float(number) if number.strip() == number and "_" not in number else -1.0
    except ValueError:
        size = -1.0
    suffix = suffix.lower()
    if not 0 <= size < 2**63 or len(suffix) > 3:
        raise InvalidArgument(f"invalid size: '{text}'")
    if suffix in ("", "b"):
        return int(size)
    if suffix[0] not in _SI or suffix[1:] not in ("", "b", "ib"):
        raise InvalidArgument(f"invalid size: '{text}'")
    return int(size * _SI[suffix[0]])


def _atoi(text: str) -> int:
    """Go's strconv.Atoi, with its error."""
    digits = text[1:] if text[:1] in "+-" else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
        raise InvalidArgument(f'strconv.Atoi: parsing "{text}": invalid syntax')
    return int(text)


def rotation(opts: dict[str, str]) -> Rotation:
    """The json-file driver's ``max-size``, ``max-file`` and ``compress``; InvalidArgument in Docker's words
    for a value it would refuse."""
    r = Rotation()
    if "max-size" in opts:
        r.max_size = parse_size(opts["max-size"])
        if r.max_size <= 0:
            raise InvalidArgument("max-size must be a positive number")
    if "max-file" in opts:
        r.max_file = _atoi(opts["max-file"])
        if r.max_file < 1:
            raise InvalidArgument("max-file cannot be less than 1")
        # Without max-size the log is never rotated and max-file does nothing: Docker accepts it so, and so
        # do we (a script that passes it keeps working).
    if "compress" in opts:
        text = opts["compress"]
        if text not in _TRUE and text not in _FALSE:
            raise InvalidArgument(f'strconv.ParseBool: parsing "{text}": invalid syntax')
        r.compress = text in _TRUE
        if r.compress and (r.max_file == 1 or not r.max_size):
            raise InvalidArgument(
                "compress cannot be true when max-file is less than 2 or max-size is not set"
            )
    return r


def log_config(root: str, driver: str, opts: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The driver and options a new container gets, checked: those asked for, else the root's default
    (``log-driver`` and ``log-opts`` in ``ROOT/daemon.json``, as Docker's daemon.json has them; ``json-file``
    without rotation when there is none). Options the root sets for its default driver fill in those the
    container does not set. InvalidArgument (Docker's words) for what Docker refuses."""
    from ..fsutil import read_json

    path = os.path.join(root, "daemon.json")
    try:
        daemon = read_json(path, {}) or {}
    except CorruptRecord as e:
        raise InvalidArgument(f"{path}: {e.reason}") from None
    if not isinstance(daemon, dict) or not isinstance(daemon.get("log-opts", {}), dict):
        raise InvalidArgument(f'{path}: not an object with "log-driver" and "log-opts"')
    default = str(daemon.get("log-driver") or "json-file")
    driver = driver or default
    merged = dict(opts)
    if driver == default:
        for k, v in daemon.get("log-opts", {}).items():
            merged.setdefault(str(k), str(v))
    if driver not in DRIVERS:
        raise InvalidArgument(f"logger: no log driver named '{driver}' is registered")
    if driver == "none":
        if opts:
            raise InvalidArgument("invalid logging opts for driver none")
        return driver, {}
    for key in merged:
        if key in _OTHER_DOCKER_OPTS and driver != "local":
            raise InvalidArgument(f"log opt '{key}' of the json-file log driver is not supported")
        if key not in _ROTATION_OPTS:
            raise InvalidArgument(f"unknown log opt '{key}' for {driver} log driver")
    if driver == "local":
        return driver, local_options(merged)
    rotation(merged)
    return driver, merged


def local_options(opts: dict[str, str]) -> dict[str, str]:
    """The options of Docker's ``local`` driver: its defaults (max-size 20m, max-file 5, compress) under
    those given; compress stays off when one file is kept. Checked as json-file's are."""
    merged = {**LOCAL_DEFAULTS, **opts}
    if "compress" not in opts and merged["max-file"].strip() in ("0", "1"):
        merged["compress"] = "false"
    rotation(merged)
    return merged


# -- writing -------------------------------------------------------------------------------------------------
class LogWriter:
    def __init__(self, path: str, policy: Rotation | None = None) -> None:
        self.path = path
        self.policy = policy or Rotation()
        self.fd = self._open()
        self.size = os.fstat(self.fd).st_size  # of the file being written, kept only when rotating
        self.partial: dict[str, bytes] = {"stdout": b"", "stderr": b""}
        self._gzipping: Any = None  # a _thread lock, held while the last rotated file is compressed

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)

    def _emit(self, stream: str, piece: bytes) -> bytes:
        """One line, as ``json.dumps({"log": ..., "stream": ..., "time": ...}, ensure_ascii=False,
        separators=(",", ":"))`` writes it, with json's own string encoder (for start-up speed, no json)."""
        log = _json_string(piece.decode("utf-8", "replace"))
        when = _json_string(rfc3339(time.time()))
        return f'{{"log":{log},"stream":{_json_string(stream)},"time":{when}}}\n'.encode()

    def write(self, stream: str, data: bytes) -> None:
        buf = self.partial[stream] + data
        out = []
        while True:
            nl = buf.find(b"\n")
            if nl < 0 or nl >= CHUNK:
                if len(buf) >= CHUNK:
                    out.append(self._emit(stream, buf[:CHUNK]))
                    buf = buf[CHUNK:]
                    continue
                break
            out.append(self._emit(stream, buf[: nl + 1]))
            buf = buf[nl + 1 :]
        self.partial[stream] = buf
        if out:
            self._put(out)

    def _put(self, lines: list[bytes]) -> None:
        """Append whole lines, rotating first wherever the next line would take the file past max-size."""
        limit = self.policy.max_size
        if not limit:
            os.write(self.fd, b"".join(lines))
            return
        batch: list[bytes] = []
        size = self.size
        for line in lines:
            if size and size + len(line) > limit:
                if batch:
                    os.write(self.fd, b"".join(batch))
                    batch = []
                self._rotate()
                size = 0
            batch.append(line)
            size += len(line)
        if batch:
            os.write(self.fd, b"".join(batch))
        self.size = size

    def _rotate(self) -> None:
        p = self.policy
        self._wait_gzip()
        st = os.fstat(self.fd)
        d = os.open(os.path.dirname(self.path) or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(d, fcntl.LOCK_EX)
            if p.max_file > 1:
                ext = ".gz" if p.compress else ""
                with suppress(FileNotFoundError):  # .1 left as it was by a supervisor that died gzipping it
                    if p.compress:
                        left = os.stat(self.path + ".1")
                        gzip_rotated(self.path + ".1", (left.st_dev, left.st_ino))
                with suppress(FileNotFoundError):
                    os.unlink(f"{self.path}.{p.max_file - 1}{ext}")
                for i in range(p.max_file - 1, 1, -1):
                    with suppress(FileNotFoundError):
                        os.rename(f"{self.path}.{i - 1}{ext}", f"{self.path}.{i}{ext}")
                os.rename(self.path, self.path + ".1")
            else:
                os.unlink(self.path)  # a new file rather than a truncated one: a follower sees it is new
            old, self.fd = self.fd, self._open()
            os.close(old)
        finally:
            os.close(d)  # and the lock with it
        self.size = 0
        if p.max_file > 1 and p.compress:
            import _thread

            lock = _thread.allocate_lock()
            lock.acquire()
            self._gzipping = lock
            _thread.start_new_thread(_gzip_then_release, (self.path + ".1", (st.st_dev, st.st_ino), lock))

    def _wait_gzip(self) -> None:
        if self._gzipping is not None:
            self._gzipping.acquire()
            self._gzipping = None

    def flush(self) -> None:
        out = [self._emit(s, b) for s, b in self.partial.items() if b]
        self.partial = {"stdout": b"", "stderr": b""}
        if out:
            self._put(out)

    def close(self) -> None:
        self.flush()
        self._wait_gzip()
        os.close(self.fd)


def _gzip_then_release(path: str, ident: tuple[int, int], lock: Any) -> None:
    try:
        gzip_rotated(path, ident)
    except BaseException:  # noqa: BLE001 - the file stays as it is, uncompressed, and is read as such
        with suppress(OSError):
            os.unlink(path + ".gz.tmp")
    finally:
        lock.release()


def gzip_rotated(path: str, ident: tuple[int, int]) -> None:
    """``path`` becomes ``path.gz``: a gzip member whose header names the file it was made from (``ident``:
    device and inode), complete before it takes its name; then ``path`` is removed."""
    import zlib

    tmp = path + ".gz.tmp"
    with open(path, "rb") as src, open(tmp, "wb") as out:
        named = ident[0].to_bytes(8, "little") + ident[1].to_bytes(8, "little")
        extra = GZ_FIELD + len(named).to_bytes(2, "little") + named
        header = b"\x1f\x8b\x08\x04" + int(time.time()).to_bytes(4, "little") + b"\x00\x03"
        out.write(header + len(extra).to_bytes(2, "little") + extra)
        z = zlib.compressobj(6, zlib.DEFLATED, -15)
        crc = size = 0
        while chunk := src.read(1 << 20):
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            out.write(z.compress(chunk))
        out.write(z.flush() + crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little"))
    os.rename(tmp, path + ".gz")
    os.unlink(path)


def parse_line(line: bytes) -> LogEntry | None:
    try:
        d = jsonio.loads(line)
    except ValueError:
        return None
    return LogEntry(
        d.get("stream", "stdout"), d.get("log", "").encode("utf-8", "surrogateescape"), d.get("time", "")
    )
