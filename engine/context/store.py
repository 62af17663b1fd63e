"""Contexts on disk, as Docker keeps them: ``DIR/contexts/meta/<sha256(name)>/meta.json`` holds
``{"Name", "Metadata": {"Description"}, "Endpoints": {"docker": {"Host", "SkipTLSVerify"}}}``; a context's TLS
files are copied to ``DIR/contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem``; ``DIR/config.json``'s
``currentContext`` names the current one (none: ``default``). DIR is the user's dockyard config directory
(:func:`config_dir`)."""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field

from ..errors import Conflict, InvalidArgument, NotFound

DEFAULT = "default"
#: Docker's rule for a context's name.
NAME_RE = r"^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$"
_TLS_FILES = {"ca": "ca.pem", "cert": "cert.pem", "key": "key.pem"}


def config_dir() -> str:
    """The user's dockyard config directory: that of ``$DOCKYARD_CONFIG`` (the app's settings file) when
    set, else ``$XDG_CONFIG_HOME/dockyard``, else ``~/.config/dockyard``."""
    env = os.environ.get("DOCKYARD_CONFIG")
    if env:
        return os.path.dirname(os.path.abspath(env))
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "dockyard")


@dataclass
class Endpoint:
    """Where a context's engine is: ``host`` is ``unix:///PATH``, ``tcp://HOST:PORT`` or
    ``ssh://[USER@]HOST[:PORT]`` ("" for ``default``: the local engine root); ``ca``, ``cert``, ``key`` the
    paths of its TLS files in the store ("" when none)."""

    host: str = ""
    skip_tls_verify: bool = False
    ca: str = ""
    cert: str = ""
    key: str = ""


@dataclass
class Context:
    name: str
    description: str = ""
    endpoint: Endpoint = field(default_factory=Endpoint)
    meta_path: str = "<IN MEMORY>"
    tls_path: str = "<IN MEMORY>"

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT

    def inspect(self) -> dict[str, object]:
        """Docker's ``context inspect`` document."""
        material: dict[str, list[str]] = {}
        files = [
            f
            for f, p in (
                ("ca.pem", self.endpoint.ca),
                ("cert.pem", self.endpoint.cert),
                ("key.pem", self.endpoint.key),
            )
            if p
        ]
        if files:
            material["docker"] = files
        return {
            "Name": self.name,
            "Metadata": {"Description": self.description} if self.description else {},
            "Endpoints": {
                "docker": {"Host": self.endpoint.host, "SkipTLSVerify": self.endpoint.skip_tls_verify}
            },
            "TLSMaterial": material,
            "Storage": {"MetadataPath": self.meta_path, "TLSPath": self.tls_path},
        }


def check_name(name: str) -> None:
    if name == DEFAULT:
        raise InvalidArgument(f'"{DEFAULT}" is a reserved context name')
    if not re.match(NAME_RE, name):
        raise InvalidArgument(
            f'context name "{name}" is invalid, names are validated against regexp "{NAME_RE}"'
        )


def check_endpoint_host(host: str) -> None:
    """InvalidArgument unless ``host`` is an address the engine can reach (``unix://``, ``tcp://``,
    ``ssh://``); TLS is checked when the context is opened."""
    from ..remote.client import TLSOptions, check_host, parse_ssh

    if host.startswith("ssh://"):
        parse_ssh(host)
    elif host.startswith("tcp://"):
        check_host(host, TLSOptions(False, "", "-", "-"))
    else:
        check_host(host, None)


class ContextStore:
    """The contexts kept in ``directory`` (default :func:`config_dir`)."""

    def __init__(self, directory: str | None = None) -> None:
        self.dir = directory or config_dir()
        self.meta_dir = os.path.join(self.dir, "contexts", "meta")
        self.tls_dir = os.path.join(self.dir, "contexts", "tls")

    @staticmethod
    def _id(name: str) -> str:
        import hashlib

        return hashlib.sha256(name.encode()).hexdigest()

    def default(self, root: str | None = None) -> Context:
        """The local engine: its endpoint names the engine root."""
        from ..paths import resolve_root

        where = resolve_root(root)
        return Context(DEFAULT, "Local engine root", Endpoint(host=where))

    # -- reading ---------------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Every context's name, ``default`` first, then sorted."""
        out = []
        try:
            ids = os.listdir(self.meta_dir)
        except FileNotFoundError:
            ids = []
        for i in ids:
            try:
                with open(os.path.join(self.meta_dir, i, "meta.json"), encoding="utf-8") as f:
                    out.append(str(json.load(f)["Name"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return [DEFAULT, *sorted(out)]

    def list(self) -> list[Context]:
        return [self.get(n) for n in self.names()]

    def exists(self, name: str) -> bool:
        return name == DEFAULT or os.path.exists(os.path.join(self.meta_dir, self._id(name), "meta.json"))

    def get(self, name: str) -> Context:
        """The context ``name``; NotFound when there is none."""
        if name == DEFAULT:
            return self.default()
        meta = os.path.join(self.meta_dir, self._id(name), "meta.json")
        try:
            with open(meta, encoding="utf-8") as f:
                doc = json.load(f)
        except FileNotFoundError:
            raise NotFound(f'context "{name}" does not exist') from None
        except (OSError, ValueError) as e:
            raise InvalidArgument(f'context "{name}" cannot be read ({meta}): {e}') from None
        docker = (doc.get("Endpoints") or {}).get("docker") or {}
        tls = os.path.join(self.tls_dir, self._id(name))
        files = {k: os.path.join(tls, "docker", f) for k, f in _TLS_FILES.items()}
        ep = Endpoint(
            host=str(docker.get("Host", "")),
            skip_tls_verify=bool(docker.get("SkipTLSVerify", False)),
            **{k: p if os.path.exists(p) else "" for k, p in files.items()},
        )
        description = str((doc.get("Metadata") or {}).get("Description", ""))
        return Context(str(doc.get("Name", name)), description, ep, os.path.dirname(meta), tls)

    def current(self, use_env: bool = True) -> str:
        """The current context's name: ``$DOCKYARD_CONTEXT`` (when ``use_env``), else ``config.json``'s
        ``currentContext``, else ``default``."""
        if use_env:
            env = os.environ.get("DOCKYARD_CONTEXT")
            if env:
                return env
        return str(self._config().get("currentContext") or DEFAULT)

    def _config(self) -> dict[str, object]:
        try:
            with open(os.path.join(self.dir, "config.json"), encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError):
            return {}
        return doc if isinstance(doc, dict) else {}

    # -- changing --------------------------------------------------------------------------------------
    def use(self, name: str) -> None:
        """Make ``name`` the current context (``default``: no current context stored)."""
        if not self.exists(name):
            raise NotFound(f'context "{name}" does not exist')
        doc = self._config()
        if name == DEFAULT:
            doc.pop("currentContext", None)
        else:
            doc["currentContext"] = name
        self._write(os.path.join(self.dir, "config.json"), json.dumps(doc, indent="\t") + "\n")

    def create(
        self,
        name: str,
        host: str,
        description: str = "",
        ca: str = "",
        cert: str = "",
        key: str = "",
        skip_tls_verify: bool = False,
    ) -> Context:
        """Store a new context; everything is checked before anything is written."""
        check_name(name)
        if self.exists(name):
            raise Conflict(f'context "{name}" already exists')
        return self._save(name, host, description, {"ca": ca, "cert": cert, "key": key}, skip_tls_verify)

    def update(
        self,
        name: str,
        host: str | None = None,
        description: str | None = None,
        ca: str = "",
        cert: str = "",
        key: str = "",
        skip_tls_verify: bool | None = None,
    ) -> Context:
        """Change a stored context's description and/or endpoint (a new endpoint replaces its TLS files)."""
        if name == DEFAULT:
            raise InvalidArgument(f'context "{DEFAULT}" cannot be updated')
        old = self.get(name)
        files = {"ca": old.endpoint.ca, "cert": old.endpoint.cert, "key": old.endpoint.key}
        if host is not None:
            files = {"ca": ca, "cert": cert, "key": key}
        return self._save(
            name,
            old.endpoint.host if host is None else host,
            old.description if description is None else description,
            files,
            old.endpoint.skip_tls_verify if skip_tls_verify is None else skip_tls_verify,
        )

    def _save(self, name: str, host: str, description: str, files: dict[str, str], skip: bool) -> Context:
        check_endpoint_host(host)
        if not host.startswith("tcp://") and any(files.values()):
            raise InvalidArgument("ca, cert and key apply to a tcp:// host only")
        if host.startswith("tcp://") and not (files["cert"] and files["key"]):
            raise InvalidArgument(
                f"refusing {host}: a tcp:// context needs TLS (--docker host=tcp://HOST:PORT,ca=FILE,cert=FILE,"
                "key=FILE): the Engine API over plain TCP gives root on that machine to anyone who reaches it"
            )
        contents = {}
        for k, path in files.items():
            if path:
                try:
                    with open(path, "rb") as f:
                        contents[k] = f.read()
                except OSError as e:
                    raise InvalidArgument(f"cannot read {k} file {path}: {e.strerror or e}") from None
        ident = self._id(name)
        meta: dict[str, object] = {
            "Name": name,
            "Metadata": {"Description": description} if description else {},
            "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip}},
        }
        tls = os.path.join(self.tls_dir, ident, "docker")
        shutil.rmtree(os.path.join(self.tls_dir, ident), ignore_errors=True)
        for k, data in contents.items():
            self._write(os.path.join(tls, _TLS_FILES[k]), data, 0o600)
        self._write(os.path.join(self.meta_dir, ident, "meta.json"), json.dumps(meta) + "\n")
        return self.get(name)

    def remove(self, name: str, force: bool = False) -> None:
        """Remove a stored context. The current one only with ``force`` (the current context becomes
        ``default``); ``default`` never."""
        if name == DEFAULT:
            raise InvalidArgument(f'context "{DEFAULT}" cannot be removed')
        if not self.exists(name):
            raise NotFound(f'context "{name}" does not exist')
        if name == self.current(use_env=False):
            if not force:
                raise Conflict(f'context "{name}" is in use, set -f flag to force remove')
            self.use(DEFAULT)
        ident = self._id(name)
        shutil.rmtree(os.path.join(self.meta_dir, ident), ignore_errors=True)
        shutil.rmtree(os.path.join(self.tls_dir, ident), ignore_errors=True)

    @staticmethod
    def _write(path: str, data: str | bytes, mode: int = 0o644) -> None:
        """Atomically (a temporary file renamed over it)."""
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        tmp = f"{path}.tmp{os.getpid()}"
        raw = data.encode() if isinstance(data, str) else data
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as f:
            f.write(raw)
        os.replace(tmp, path)
