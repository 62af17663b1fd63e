"""Where a compose project's files are and what its environment is: the default file names (looked for in the
working directory and then in each parent), their ``.override`` files, ``COMPOSE_FILE``, the ``.env`` file
(or ``--env-file``) and the project's name."""

from __future__ import annotations

import os

from engine.errors import ComposeError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

#: the names Compose looks for, in its order of preference
DEFAULT_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


def _override_of(path: str) -> str | None:
    stem, ext = os.path.splitext(path)
    candidate = f"{stem}.override{ext}"
    return candidate if os.path.isfile(candidate) else None


def find_files(workdir: str) -> list[str]:
    """The compose file of ``workdir`` (or of its nearest parent that has one) and its override file."""
    here = os.path.abspath(workdir)
    while True:
        for name in DEFAULT_NAMES:
            path = os.path.join(here, name)
            if os.path.isfile(path):
                override = _override_of(path)
                return [path, override] if override else [path]
        parent = os.path.dirname(here)
        if parent == here:
            raise ComposeError(
                "no configuration file provided: not found (looked for "
                + ", ".join(DEFAULT_NAMES)
                + f" in {os.path.abspath(workdir)} and its parents)"
            )
        here = parent


def parse_env_file(path: str) -> dict[str, str]:
    """A dotenv file's variables: ``KEY=VALUE`` lines, ``export`` allowed, ``#`` comments, values in single
    quotes kept as written, in double quotes with ``\\n`` escapes, unquoted ones cut at `` #``."""
    out: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise ComposeError(f"Couldn't find env file: {path}: {e.strerror}") from None
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        if "=" not in line:
            if line.replace("_", "").isalnum():
                value = os.environ.get(line)
                if value is not None:
                    out[line] = value
                continue
            raise ComposeError(f"{path}:{number}: unexpected character in variable name {line!r}")
        key, value = line.split("=", 1)
        key = key.strip()
        if not key or not key.replace("_", "").replace(".", "").replace("-", "").isalnum():
            raise ComposeError(f"{path}:{number}: unexpected character in variable name {key!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        elif len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        else:
            cut = value.find(" #")
            if cut >= 0:
                value = value[:cut].rstrip()
        out[key] = value
    return out


def project_environment(project_dir: str, env_files: list[str], environ: Mapping[str, str]) -> dict[str, str]:
    """The variables interpolation reads: the ``.env`` file of the project directory (or the ``--env-file``
    files, later ones winning), overridden by the process's own environment."""
    env: dict[str, str] = {}
    if env_files:
        for path in env_files:
            env.update(parse_env_file(os.path.abspath(path)))
    else:
        default = os.path.join(project_dir, ".env")
        if os.path.isfile(default):
            env.update(parse_env_file(default))
    env.update(environ)
    return env


def normalise_name(name: str) -> str:
    """A project name as Compose makes one from a directory's name: lower case, only a-z, 0-9, ``_`` and
    ``-``, starting with a letter or a digit."""
    lowered = "".join(c for c in name.lower() if c.isascii() and (c.isalnum() or c in "_-"))
    return lowered.lstrip("_-")


def check_name(name: str, origin: str) -> str:
    """``name`` if it is a valid project name, else the error Compose gives."""
    if not name or name != normalise_name(name):
        raise ComposeError(
            f"invalid project name {name!r} ({origin}): must consist only of lowercase alphanumeric "
            "characters, hyphens and underscores as well as start with a letter or number"
        )
    return name
