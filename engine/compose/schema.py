"""Validation against the Compose Specification's JSON Schema, read at run time from the installed
docker-compose package (Debian's ``docker-compose``, or PyPI's ``docker-compose`` in the same Python), which
ships it as ``compose/config/compose_spec.json``. That copy is the specification as of Compose 1.29.2; the
keys the specification gained since (top-level ``name`` and ``include``, ``depends_on``'s ``required`` and
``restart``, ``healthcheck.start_interval``, ``deploy.resources.limits.pids``, a long-syntax port's ``host_ip`` and string ``published``) are added to it here. Without the package, the loader's own
typed reading still refuses what it cannot use, naming the file, line and key (docs/COMPOSE.md)."""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: where Debian's docker-compose (python3-compose) installs the schema
DEBIAN_SCHEMA = "/usr/lib/python3/dist-packages/compose/config/compose_spec.json"

_cached: list[Any] = []


def schema_path() -> str | None:
    """The installed compose_spec.json, or None."""
    override = os.environ.get("DOCKYARD_COMPOSE_SCHEMA")
    if override is not None:
        return override if os.path.isfile(override) else None
    import importlib.util

    try:
        spec = importlib.util.find_spec("compose")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = os.path.join(location, "config", "compose_spec.json")
            if os.path.isfile(candidate):
                return candidate
    return DEBIAN_SCHEMA if os.path.isfile(DEBIAN_SCHEMA) else None


def _extended(schema: dict[str, Any]) -> dict[str, Any]:
    """The 1.29.2 schema with the specification's later keys."""
    props = schema.setdefault("properties", {})
    props.setdefault("name", {"type": "string"})
    props.setdefault(
        "include",
        {
            "type": "array",
            "items": {
                "oneOf": [
                    {"type": "string"},
                    {
                        "type": "object",
                        "properties": {
                            "path": {
                                "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
                            },
                            "project_directory": {"type": "string"},
                            "env_file": {
                                "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
                            },
                        },
                        "required": ["path"],
                        "additionalProperties": False,
                    },
                ]
            },
        },
    )
    definitions = schema.get("definitions", {})
    service = definitions.get("service", {}).get("properties", {})
    for alternative in service.get("depends_on", {}).get("oneOf", []):
        for entry in alternative.get("patternProperties", {}).values():
            entry.get("properties", {}).setdefault("required", {"type": "boolean"})
            entry.get("properties", {}).setdefault("restart", {"type": "boolean"})
            entry.pop("required", None)  # the condition defaults to service_started
    for alternative in service.get("ports", {}).get("items", {}).get("oneOf", []):
        if alternative.get("type") == "object":
            long_form = alternative.setdefault("properties", {})
            long_form["published"] = {"type": ["string", "integer"]}
            long_form.setdefault("host_ip", {"type": "string"})
            long_form.setdefault("name", {"type": "string"})
            long_form.setdefault("app_protocol", {"type": "string"})
    resources = definitions.get("deployment", {}).get("properties", {}).get("resources", {})
    limits = resources.get("properties", {}).get("limits", {}).get("properties")
    if isinstance(limits, dict):
        limits.setdefault("pids", {"type": "integer"})
    health = definitions.get("healthcheck", {}).get("properties", {})
    health.setdefault("start_interval", {"type": "string", "format": "duration"})
    service.setdefault("develop", _DEVELOP)
    for kind in ("secret", "config"):  # from an environment variable (and a config from inline content)
        found = definitions.get(kind, {}).get("properties")
        if isinstance(found, dict):
            found.setdefault("environment", {"type": "string"})
            if kind == "config":
                found.setdefault("content", {"type": "string"})
    return schema


#: a service's ``develop`` section (compose watch), as the specification has it since Compose 2.22
_DEVELOP: dict[str, Any] = {
    "type": ["object", "null"],
    "properties": {
        "watch": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "action"],
                "properties": {
                    "path": {"type": "string"},
                    "action": {
                        "type": "string",
                        "enum": ["rebuild", "sync", "restart", "sync+restart", "sync+exec"],
                    },
                    "target": {"type": "string"},
                    "ignore": {"type": "array", "items": {"type": "string"}},
                    "include": {"type": "array", "items": {"type": "string"}},
                    "initial_sync": {"type": "boolean"},
                    "exec": {"type": "object"},
                },
                "additionalProperties": False,
                "patternProperties": {"^x-": {}},
            },
        }
    },
    "additionalProperties": False,
    "patternProperties": {"^x-": {}},
}


def validator() -> Any:
    """A jsonschema validator for one compose file, or None when no schema is installed."""
    if _cached:
        return _cached[0]
    path = schema_path()
    if path is None:
        _cached.append(None)
        return None
    import jsonschema

    with open(path, encoding="utf-8") as f:
        schema = _extended(json.load(f))
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft201909Validator)
    _cached.append(cls(schema))
    return _cached[0]


def _describe(error: Any) -> tuple[tuple[Any, ...], str]:
    """(the path of the offending key, what is wrong with it) in Compose's words."""
    path = tuple(error.absolute_path)
    where = ".".join(str(p) for p in path) or "(root)"
    validator_name = error.validator
    if validator_name == "additionalProperties":
        import re

        extra = re.findall(r"'([^']*)'", error.message.split("(")[-1]) or ["?"]
        return (*path, extra[0]), f"{where} additional property {extra[0]!r} is not allowed"
    if validator_name == "type":
        expected = error.validator_value
        if isinstance(expected, list):
            expected = " or ".join(expected)
        article = "an" if str(expected)[:1] in "aeiou" else "a"
        return path, f"{where} must be {article} {expected}"
    if validator_name == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        return path, f"{where} must be one of: {allowed}"
    if validator_name == "required":
        return path, f"{where}: {error.message}"
    if validator_name in ("oneOf", "anyOf") and error.context:
        # the alternative that got furthest says the most
        best = max(error.context, key=lambda e: len(e.absolute_path))
        if len(best.absolute_path) > len(error.absolute_path):
            return _describe(best)
        kinds: list[str] = []
        for sub in error.context:
            if sub.validator == "type":
                value = sub.validator_value
                kinds.extend(value if isinstance(value, list) else [value])
        if kinds:
            unique = list(dict.fromkeys(kinds))
            return path, f"{where} must be " + " or ".join(f"a {k}" for k in unique)
    if validator_name == "pattern" and path and isinstance(path[-1], str):
        return path, f"{where} is not a valid name"
    return path, f"{where}: {error.message}"


def problems(data: Any) -> list[tuple[tuple[Any, ...], str]]:
    """Each (key path, message) the schema finds in one decoded file, the first in the file first. A
    document found valid is remembered (``_seen_valid``): the next command that reads it skips jsonschema,
    whose import alone takes about 100 ms."""
    path = schema_path()
    if path is None:
        return []
    key = _document_key(path, data)
    if key and os.path.exists(key):
        return []
    v = validator()
    if v is None:
        return []
    found = [_describe(e) for e in v.iter_errors(data)]
    if not found and key:
        _seen_valid(key)
    return found


def _document_key(schema_file: str, data: Any) -> str:
    """Where the mark that ``data`` is valid is kept: a file named by the hash of the document, the schema
    file and this module (its extensions to the schema), under ``$XDG_CACHE_HOME/dockyard/compose-valid``."""
    import hashlib

    try:
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
        stamps = [os.stat(f) for f in (schema_file, __file__)]
    except (OSError, TypeError, ValueError):
        return ""
    h = hashlib.sha256(text.encode())
    for f, st in zip((schema_file, __file__), stamps, strict=True):
        h.update(f"\0{f}:{st.st_size}:{st.st_mtime_ns}".encode())
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "dockyard", "compose-valid", h.hexdigest())


def _seen_valid(key: str) -> None:
    try:
        os.makedirs(os.path.dirname(key), exist_ok=True)
        with open(key, "a"):
            pass
    except OSError:
        pass  # no cache: the next command validates again
