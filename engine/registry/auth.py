"""Registry authentication: stored credentials, Basic auth, and the Bearer token flow.

Credentials live in ``$DOCKYARD_AUTH_FILE`` or ``~/.config/dockyard/auth.json`` (mode 0600), in the shape of
Docker's ``config.json``: ``{"auths": {"host:5000": {"auth": base64("user:password")}}}``.

A registry that wants authentication answers 401 with ``WWW-Authenticate``. ``Basic realm=...`` means: send the
credentials with every request. ``Bearer realm=...,service=...,scope=...`` means: ask the token server at
``realm`` (with Basic credentials when there are any, anonymously otherwise) for a token covering the scopes,
then send ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
import urllib.parse
from collections.abc import Callable

from engine.lean.record import record

from ..errors import InvalidArgument
from ..fsutil import atomic_write_bytes, locked
from .errors import RegistryError, Unauthorized
from .names import auth_key

ENV = "DOCKYARD_AUTH_FILE"


@record(frozen=True)
class Credentials:
    username: str
    password: str

    def basic(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()


# -- the credentials file ----------------------------------------------------------------------------------


def auth_file() -> str:
    path = os.environ.get(ENV)
    if path:
        return path
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "dockyard", "auth.json")


def _read(path: str) -> dict[str, object]:
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read() or b"{}")
    except FileNotFoundError:
        return {}
    except ValueError:
        raise InvalidArgument(f"the credentials file {path} is not valid JSON") from None
    return doc if isinstance(doc, dict) else {}


def _auths(doc: dict[str, object]) -> dict[str, dict[str, str]]:
    auths = doc.get("auths")
    return auths if isinstance(auths, dict) else {}


def load_credentials(registry: str) -> Credentials | None:
    """The stored credentials for ``registry`` (``host[:port]``), or None."""
    entry = _auths(_read(auth_file())).get(auth_key(registry))
    if not isinstance(entry, dict):
        return None
    raw = entry.get("auth")
    if raw:
        try:
            user, sep, password = base64.b64decode(raw).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return Credentials(user, password) if sep else None
    if entry.get("username"):
        return Credentials(str(entry["username"]), str(entry.get("password", "")))
    return None


def _update(change: Callable[[dict[str, dict[str, str]]], bool]) -> bool:
    path = auth_file()
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, mode=0o700, exist_ok=True)
    with locked(path + ".lock"):
        doc = _read(path)
        auths = _auths(doc)
        changed = change(auths)
        if changed:
            doc["auths"] = auths
            atomic_write_bytes(path, json.dumps(doc, indent="\t").encode() + b"\n", mode=0o600)
    return changed


def store_credentials(registry: str, creds: Credentials) -> None:
    token = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()

    def change(auths: dict[str, dict[str, str]]) -> bool:
        auths[auth_key(registry)] = {"auth": token}
        return True

    _update(change)


def remove_credentials(registry: str) -> bool:
    """Forget the credentials for ``registry``; False when there were none."""

    def change(auths: dict[str, dict[str, str]]) -> bool:
        return auths.pop(auth_key(registry), None) is not None

    return _update(change)


# -- challenges and tokens -----------------------------------------------------------------------------------

_PARAM = re.compile(r'\s*([a-zA-Z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?')


@record(frozen=True)
class Challenge:
    scheme: str  # "bearer" or "basic"
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge | None:
    """Parse ``WWW-Authenticate: Bearer realm="...",service="...",scope="..."`` (or Basic)."""
    header = header.strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    params: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        m = _PARAM.match(rest, pos)
        if not m or m.end() == pos:
            break
        value = m.group(2) if m.group(2) is not None else m.group(3)
        params[m.group(1).lower()] = re.sub(r"\\(.)", r"\1", value)
        pos = m.end()
    return Challenge(scheme.lower(), params)


FetchFn = Callable[[str, dict[str, str]], tuple[int, bytes]]  # (absolute URL, headers) -> (status, body)


class Authenticator:
    """Holds what one registry needs for authorization and hands out ``Authorization`` headers.

    Thread safe: the parallel transfers of one pull or push share it, and a token is fetched once."""

    def __init__(
        self, registry: str, credentials: Credentials | None, scopes: list[str], fetch: FetchFn
    ) -> None:
        self.registry = registry
        self.credentials = credentials
        self.scopes = list(scopes)
        self._fetch = fetch
        self._lock = threading.Lock()
        self._challenge: Challenge | None = None
        self._token = ""
        self._expires = 0.0
        self._generation = 0  # bumped each time the authorization changes

    def authorization(self) -> tuple[int, str | None]:
        """(generation, ``Authorization`` value to send now or None when anonymous / not challenged yet)."""
        with self._lock:
            ch, gen = self._challenge, self._generation
            if ch is None:
                return gen, None
            if ch.scheme == "basic":
                return gen, (self.credentials.basic() if self.credentials else None)
            if not self._token or time.monotonic() >= self._expires:
                self._get_token(ch)
            return gen, ("Bearer " + self._token if self._token else None)

    def challenged(self, www_authenticate: str, generation: int) -> bool:
        """A request sent at ``generation`` got 401 with ``www_authenticate``; True when a retry may help.

        The caller bounds its retries, so a refused password or token ends the loop."""
        ch = parse_challenge(www_authenticate)
        if ch is None or ch.scheme not in ("basic", "bearer"):
            return False
        with self._lock:
            if generation != self._generation:
                return True  # another transfer already changed the authorization: just retry
            if ch.scheme == "basic" and self.credentials is None:
                return False
            if ch.scheme == "bearer":
                for s in ch.params.get("scope", "").split(" "):
                    if s and s not in self.scopes:
                        self.scopes.append(s)
            self._challenge = ch
            self._token = ""
            self._generation += 1
            return True

    def _get_token(self, ch: Challenge) -> None:
        realm = ch.params.get("realm", "")
        if not realm.startswith(("https://", "http://")):
            raise RegistryError(f"the registry {self.registry} sent an unusable token realm {realm!r}")
        query: list[tuple[str, str]] = []
        if ch.params.get("service"):
            query.append(("service", ch.params["service"]))
        for s in self.scopes:
            query.append(("scope", s))
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
        headers = {"Accept": "application/json"}
        if self.credentials:
            headers["Authorization"] = self.credentials.basic()
        status, body = self._fetch(url, headers)
        if status in (401, 403):
            if self.credentials:
                raise Unauthorized("unauthorized: incorrect username or password", status, "UNAUTHORIZED")
            raise Unauthorized("unauthorized: authentication required", status, "UNAUTHORIZED")
        if status != 200:
            raise RegistryError(f"the token server at {realm} answered HTTP {status}", status)
        try:
            doc = json.loads(body)
        except ValueError:
            raise RegistryError(f"the token server at {realm} sent no token") from None
        token = str(doc.get("token") or doc.get("access_token") or "")
        if not token:
            raise RegistryError(f"the token server at {realm} sent no token")
        try:
            expires_in = max(int(doc.get("expires_in") or 60), 10)
        except (TypeError, ValueError):
            expires_in = 60
        self._token = token
        self._expires = time.monotonic() + expires_in
