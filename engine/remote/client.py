"""HTTP/1.1 to a Docker Engine API service, with the standard library's ``http.client``: over a unix socket
(``unix:///run/dockyard.sock``), TCP with TLS (``tcp://host:2376`` and a client certificate), or SSH
(``ssh://user@host``: the system ``ssh`` client runs ``dockyard system dial-stdio`` there, which serves the API
on its stdin and stdout; the connection is a socket pair whose other end is ssh's stdin and stdout). Each request
opens its own connection (a unix socket connects in microseconds, and the app calls from several threads at
once), so nothing is shared between threads. Errors come back as the engine's own (Docker's status codes:
404 NotFound, 409 Conflict, 400 InvalidArgument) with the service's message."""

from __future__ import annotations

import http.client
import json
import socket

from ..errors import (
    Conflict,
    ContainerNotFound,
    DockyardError,
    ImageNotFound,
    InvalidArgument,
    NotFound,
    NotSupported,
)
from ..lean.record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ssl
    from typing import Any


class NotAvailable(NotSupported):
    """What needs the engine's files on this machine (a layer's file tree, a build that watches a directory)
    and so cannot be done through the Engine API."""

    def __init__(self, what: str, why: str = "it reads the engine's files", feature: str = "") -> None:
        super().__init__(feature or what, why, f"{what} is not available with --host: {why}")


@record
class TLSOptions:
    """Docker's ``--tls``, ``--tlsverify``, ``--tlscacert``, ``--tlscert`` and ``--tlskey``."""

    verify: bool = False
    ca: str = ""
    cert: str = ""
    key: str = ""


def check_host(host: str, tls: TLSOptions | None) -> tuple[str, str]:
    """``(scheme, address)`` of ``--host``: ``("unix", PATH)`` or ``("tcp", "HOST:PORT")``; InvalidArgument
    when the address is malformed, or TCP without TLS (a TCP Engine API without TLS is root on the host for
    anyone who reaches the port)."""
    scheme, sep, rest = host.partition("://")
    if not sep:
        raise InvalidArgument(f"invalid host {host!r}: expected unix:///PATH or tcp://HOST:PORT")
    if scheme == "unix":
        if not rest.startswith("/"):
            raise InvalidArgument(f"invalid host {host!r}: a unix socket's path must be absolute")
        return "unix", rest
    if scheme == "tcp":
        address = rest.rstrip("/")
        name, colon, port = address.rpartition(":")
        if not colon or not name or not port.isdigit():
            raise InvalidArgument(f"invalid host {host!r}: expected tcp://HOST:PORT")
        if tls is None:
            raise InvalidArgument(
                f"refusing {host}: a tcp:// host needs TLS (--tlsverify --tlscacert CA --tlscert CERT --tlskey KEY); "
                "the Engine API over plain TCP gives root on this machine to anyone who reaches the port"
            )
        if not tls.cert or not tls.key:
            raise InvalidArgument(
                f"refusing {host}: TLS needs a client certificate and key (--tlscert, --tlskey)"
            )
        if tls.verify and not tls.ca:
            raise InvalidArgument(f"refusing {host}: --tlsverify needs the service's CA (--tlscacert)")
        return "tcp", address
    if scheme == "ssh":
        user, name, port = parse_ssh(host)
        return "ssh", f"{user}@{name}:{port}" if user else f"{name}:{port}"
    raise InvalidArgument(f"invalid host {host!r}: unsupported scheme {scheme!r} (unix://, tcp:// or ssh://)")


def parse_ssh(host: str) -> tuple[str, str, str]:
    """``(user, host, port)`` of ``ssh://[USER@]HOST[:PORT]`` ("" for what is not given)."""
    rest = host.removeprefix("ssh://").rstrip("/")
    user, at, name = rest.rpartition("@")
    if not at:
        user = ""
    port = ""
    if name.startswith("["):
        inner, bracket, after = name[1:].partition("]")
        if not bracket or (after and not after.startswith(":")):
            raise InvalidArgument(f"invalid ssh host {host!r}: expected ssh://[USER@]HOST[:PORT]")
        name, port = inner, after[1:]
    elif ":" in name:
        name, _, port = name.rpartition(":")
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:%")
    if (
        not name
        or name.startswith("-")
        or user.startswith("-")
        or not set(name) <= allowed
        or "/" in rest
        or not set(user) <= allowed | {"@"}
        or (port and not (port.isdigit() and 0 < int(port) < 65536))
        or (":" in rest.partition("@")[0] and at)
    ):
        raise InvalidArgument(
            f"invalid ssh host {host!r}: expected ssh://[USER@]HOST[:PORT] (no path: the remote command is "
            "'dockyard system dial-stdio')"
        )
    return user, name, port


def ssh_command(host: str) -> list[str]:
    """The ``ssh`` command that reaches the service on ``host`` (``ssh://[USER@]HOST[:PORT]``): the system
    client, never asking for a password (``BatchMode``; keys, an agent, or ``~/.ssh/config`` do the rest;
    ``$DOCKYARD_SSH_CONFIG`` names another config file)."""
    import os

    user, name, port = parse_ssh(host)
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=30", "-T"]
    config = os.environ.get("DOCKYARD_SSH_CONFIG")
    if config:
        argv += ["-F", config]
    if user:
        argv += ["-l", user]
    if port:
        argv += ["-p", port]
    return [*argv, "--", name, "dockyard", "system", "dial-stdio"]


class _SSHPipe:
    """One ``ssh`` process whose stdin and stdout are the far end of a socket pair: ``sock`` carries HTTP to
    the remote ``dockyard system dial-stdio``. Closing ``sock`` ends ssh (its stdin ends) and with it the
    remote process; a thread waits for ssh and keeps what it wrote on stderr (why it could not connect)."""

    def __init__(self, argv: list[str], timeout: float | None, live: set[_SSHPipe] | None = None) -> None:
        import subprocess
        import threading

        ours, theirs = socket.socketpair()
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=theirs.fileno(),
                stdout=theirs.fileno(),
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        sock = _SSHSocket(fileno=ours.detach())
        sock.pipe = self
        sock.settimeout(timeout)
        self.sock: socket.socket = sock
        self.error = b""
        self.done = threading.Event()
        self.live = live if live is not None else set()
        self.live.add(self)
        _watch_exit(self)
        threading.Thread(target=self._reap, daemon=True, name="ssh-reaper").start()

    def end(self) -> None:
        """End ssh now (the far side's process ends with the connection)."""
        if self.proc.poll() is None:
            try:
                self.proc.terminate()
            except OSError:
                pass

    def _reap(self) -> None:
        assert self.proc.stderr is not None
        self.error = self.proc.stderr.read()
        self.proc.stderr.close()
        self.proc.wait()
        self.live.discard(self)
        _ALL.discard(self)
        self.done.set()

    def why(self) -> str:
        """What ssh said, once it ended (waits a little for it)."""
        self.done.wait(5)
        lines = [ln for ln in self.error.decode(errors="replace").splitlines() if ln.strip()]
        return lines[-1] if lines else ""


class _SSHSocket(socket.socket):
    """The client's end of an ssh connection: closing it ends ssh at once (ssh would otherwise wait for the
    far side to end, which stays for a client that only closed its sending side)."""

    pipe: _SSHPipe | None = None

    def close(self) -> None:
        super().close()
        pipe, self.pipe = self.pipe, None
        if pipe is not None:
            pipe.end()


#: Every ssh process of this program: ended when it exits (ssh would wait for the far side, which a client
#: that only stopped sending does not end).
_ALL: set[_SSHPipe] = set()


def _watch_exit(pipe: _SSHPipe) -> None:
    if not _ALL:
        import atexit

        atexit.unregister(_end_all)
        atexit.register(_end_all)
    _ALL.add(pipe)


def _end_all() -> None:
    for pipe in list(_ALL):
        pipe.end()


class _SSHConnection(http.client.HTTPConnection):
    def __init__(self, argv: list[str], timeout: float | None, live: set[_SSHPipe]) -> None:
        super().__init__("localhost", timeout=timeout)
        self.argv = argv
        self.live = live
        self.pipe: _SSHPipe | None = None

    def connect(self) -> None:
        self.pipe = _SSHPipe(self.argv, self.timeout, self.live)
        self.sock = self.pipe.sock


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float | None) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.path)
        except OSError:
            s.close()
            raise
        self.sock = s


def error_for(status: int, body: bytes) -> DockyardError:
    """The engine's error for an error answer (Docker's ``{"message": ...}``)."""
    try:
        message = str(json.loads(body)["message"])
    except (ValueError, KeyError, TypeError):
        message = body.decode(errors="replace").strip() or f"status {status}"
    if status == 404:
        if message.startswith("No such container"):
            return ContainerNotFound(message)
        if message.startswith("No such image"):
            return ImageNotFound(message)
        return NotFound(message)
    if status == 409:
        return Conflict(message)
    if status == 400:
        return InvalidArgument(message)
    return DockyardError(message)


class Stream:
    """An answer being read as it comes (logs, stats, events, pull progress). ``close()`` may be called
    from another thread: it shuts the socket down, which ends a blocked read."""

    def __init__(self, conn: http.client.HTTPConnection, response: http.client.HTTPResponse) -> None:
        self.conn = conn
        self.response = response
        self.content_type = response.getheader("Content-Type", "") or ""

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes as soon as some are there; b"" at the end."""
        try:
            return self.response.read1(n)
        except Exception:  # noqa: BLE001 - closed (maybe by another thread) or cut short: the end
            return b""

    def readexactly(self, n: int) -> bytes:
        """``n`` bytes, or fewer only at the end."""
        out = b""
        while len(out) < n:
            chunk = self.read(n - len(out))
            if not chunk:
                break
            out += chunk
        return out

    def readline(self) -> bytes:
        try:
            return self.response.readline()
        except Exception:  # noqa: BLE001 - closed (maybe by another thread) or cut short: the end
            return b""

    def close(self) -> None:
        sock = self.conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.conn.close()


class Client:
    """Requests to one service. ``host``: ``unix:///PATH``, ``tcp://HOST:PORT`` (with ``tls``) or
    ``ssh://[USER@]HOST[:PORT]``. Over ssh a connection costs a process on each side, so the connections of
    answers read whole are kept open and used again (HTTP keep-alive, up to ``KEEP`` idle ones)."""

    KEEP = 4

    def __init__(self, host: str, tls: TLSOptions | None = None, timeout: float = 60.0) -> None:
        self.host = host
        self.scheme, self.address = check_host(host, tls)
        self.tls = tls
        self.timeout = timeout
        self._context: ssl.SSLContext | None = None
        self._ssh = ssh_command(host) if self.scheme == "ssh" else []
        self._idle: list[http.client.HTTPConnection] = []
        self._pipes: set[_SSHPipe] = set()  # the ssh connections open now (close() ends them)

    def _ssl(self) -> ssl.SSLContext:
        if self._context is None:
            import ssl

            assert self.tls is not None
            ctx = ssl.create_default_context(cafile=self.tls.ca or None)
            if not self.tls.verify:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            ctx.load_cert_chain(self.tls.cert, self.tls.key)
            self._context = ctx
        return self._context

    def _connection(self, timeout: float | None) -> http.client.HTTPConnection:
        if self.scheme == "unix":
            return _UnixConnection(self.address, timeout)
        if self.scheme == "ssh":
            return _SSHConnection(self._ssh, timeout, self._pipes)
        name, _, port = self.address.rpartition(":")
        return http.client.HTTPSConnection(name.strip("[]"), int(port), timeout=timeout, context=self._ssl())

    def _reused(self) -> http.client.HTTPConnection | None:
        while self._idle:
            try:
                conn = self._idle.pop()
            except IndexError:  # another thread took the last one
                return None
            pipe = getattr(conn, "pipe", None)
            if pipe is not None and not pipe.done.is_set():
                return conn
            conn.close()
        return None

    def _keep(self, conn: http.client.HTTPConnection, response: http.client.HTTPResponse) -> None:
        if self.scheme == "ssh" and not response.will_close and len(self._idle) < self.KEEP:
            self._idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        """Close the connections kept for later; over ssh, end every connection still open (the streams'
        too: their reads end), and with them the far side's processes."""
        while self._idle:
            try:
                self._idle.pop().close()
            except IndexError:
                break
        for pipe in list(self._pipes):
            pipe.end()

    @staticmethod
    def _closed_unread(conn: http.client.HTTPConnection, e: BaseException) -> bool:
        """The far side closed a new connection without a word and ssh itself ended well: the service it
        reached was ending."""
        pipe = getattr(conn, "pipe", None)
        if pipe is None or not isinstance(e, http.client.RemoteDisconnected):
            return False
        pipe.done.wait(5)
        ok = pipe.proc.returncode == 0
        conn.close()
        return ok

    def _ssh_failed(self, conn: http.client.HTTPConnection, e: BaseException) -> DockyardError:
        pipe = getattr(conn, "pipe", None)
        conn.close()
        why = pipe.why() if pipe is not None else ""
        return DockyardError(
            f"Cannot connect to {self.host} over ssh: {why or e!r} (the command: {' '.join(self._ssh)})"
        )

    def _unreachable(self, e: OSError) -> DockyardError:
        if type(e).__name__.startswith("SSL"):
            return DockyardError(f"TLS with the service at {self.host} failed: {e}")
        return DockyardError(
            f"Cannot connect to the service at {self.host}: {e.strerror or e}. Is it running?"
        )

    @staticmethod
    def target(path: str, query: dict[str, Any] | None) -> str:
        if not query:
            return path
        from urllib.parse import urlencode

        pairs = {
            k: ("1" if v is True else "0" if v is False else str(v))
            for k, v in query.items()
            if v is not None
        }
        return f"{path}?{urlencode(pairs)}"

    def open(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        body: Any = None,
        timeout: float | None = -1.0,
    ) -> Stream:
        """Send a request; the answer's body is left to read (an error answer is read and raised)."""
        wait = self.timeout if timeout == -1.0 else timeout
        headers = {"Host": "docker"}
        data = None
        if isinstance(body, bytes):  # a tar (PUT /containers/{id}/archive)
            data = body
            headers["Content-Type"] = "application/x-tar"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        reused = self._reused() if self.scheme == "ssh" else None
        if reused is not None:
            reused.timeout = wait
            if reused.sock is not None:
                reused.sock.settimeout(wait)
            try:
                reused.request(method, self.target(path, query), body=data, headers=headers)
                return self._answer(reused, reused.getresponse())
            except (OSError, http.client.HTTPException):
                reused.close()  # the far end went away while the connection waited: a new one
        conn = self._connection(wait)
        try:
            conn.request(method, self.target(path, query), body=data, headers=headers)
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            if self.scheme == "ssh" and self._closed_unread(conn, e):
                # the far host's shared service ended (idle) as this connection reached it: it read
                # nothing, so the request is sent again on a new connection (which starts the service)
                conn = self._connection(wait)
                try:
                    conn.request(method, self.target(path, query), body=data, headers=headers)
                    return self._answer(conn, conn.getresponse())
                except (OSError, http.client.HTTPException) as again:
                    raise self._ssh_failed(conn, again) from None
            if self.scheme == "ssh":
                raise self._ssh_failed(conn, e) from None
            conn.close()
            if isinstance(e, OSError):
                raise self._unreachable(e) from None
            raise DockyardError(f"the service at {self.host} answered badly: {e!r}") from None
        return self._answer(conn, response)

    def _answer(self, conn: http.client.HTTPConnection, response: http.client.HTTPResponse) -> Stream:
        if response.status >= 400:
            try:
                raw = response.read()
            except Exception:
                conn.close()
                raise
            self._keep(conn, response)
            raise error_for(response.status, raw)
        return Stream(conn, response)

    def call(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None) -> Any:
        """A request whose answer is JSON (or empty: None)."""
        s = self.open(method, path, query, body)
        try:
            raw = s.response.read()
        except (OSError, http.client.HTTPException) as e:
            s.conn.close()
            raise DockyardError(f"the service at {self.host} stopped answering: {e!r}") from None
        self._keep(s.conn, s.response)
        return json.loads(raw) if raw.strip() else None

    def get(self, path: str, **query: Any) -> Any:
        return self.call("GET", path, query)

    def post(self, path: str, body: Any = None, **query: Any) -> Any:
        return self.call("POST", path, query, body)

    def upgrade(self, path: str, body: Any, query: dict[str, Any] | None = None) -> socket.socket:
        """POST with ``Upgrade: tcp``: the connection, once the service answered 101 (or 200), carries the
        process's input one way and its output the other (exec start, attach). The headers are read a byte
        at a time so that no output is left in a buffer."""
        pipe = None
        try:
            if self.scheme == "ssh":
                pipe = _SSHPipe(self._ssh, self.timeout, self._pipes)
                sock = pipe.sock
            else:
                sock = self._raw_socket()
        except OSError as e:
            raise self._unreachable(e) from None
        data = json.dumps(body).encode() if body is not None else b""
        head = (
            f"POST {self.target(path, query)} HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        try:
            sock.sendall(head.encode() + data)
            raw = b""
            while not raw.endswith(b"\r\n\r\n"):
                b = sock.recv(1)
                if not b:
                    raise OSError("the connection closed before the service answered")
                raw += b
        except OSError as e:
            sock.close()
            if pipe is not None:
                why = pipe.why()
                raise DockyardError(f"Cannot connect to {self.host} over ssh: {why or e}") from None
            raise self._unreachable(e) from None
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        if status >= 400:
            length = 0
            for line in lines[1:]:
                k, _, v = line.partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v.strip())
            body_raw = b""
            while len(body_raw) < length:
                chunk = sock.recv(length - len(body_raw))
                if not chunk:
                    break
                body_raw += chunk
            sock.close()
            raise error_for(status, body_raw)
        sock.settimeout(None)
        return sock

    def _raw_socket(self) -> socket.socket:
        if self.scheme == "unix":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(self.timeout)
            try:
                s.connect(self.address)
            except OSError:
                s.close()
                raise
            return s
        name, _, port = self.address.rpartition(":")
        plain = socket.create_connection((name.strip("[]"), int(port)), timeout=self.timeout)
        return self._ssl().wrap_socket(plain, server_hostname=name.strip("[]"))
