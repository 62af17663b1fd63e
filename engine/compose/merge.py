"""Compose's merge rules, for ``-f A -f B`` and for ``extends``: the later file's values win; mappings merge
key by key; ``command``, ``entrypoint`` and ``healthcheck.test`` are replaced; ``ports`` and the other
sequences are appended without duplicates; ``volumes`` (and ``devices``, ``secrets``, ``configs``) are merged
by their target path; ``environment``, ``labels``, ``depends_on``, ``networks``, ``build.args``,
``extra_hosts``, ``sysctls`` and ``ulimits`` merge as mappings whichever form they were written in."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: keys whose values a later file replaces whole
_REPLACED = {"command", "entrypoint", "image", "build", "healthcheck", "logging", "network_mode", "extends"}
#: sequences merged by their mount target
_BY_TARGET = {"volumes", "devices", "secrets", "configs"}
#: keys written as a list of "KEY=VALUE" (or "KEY:VALUE") or as a mapping: merged as mappings
_MAPPINGS = {"environment": "=", "labels": "=", "extra_hosts": ":", "sysctls": "=", "annotations": "="}


def list_to_mapping(value: Any, sep: str = "=") -> Any:
    """``["A=1", "B"]`` -> ``{"A": "1", "B": None}``; a mapping is returned as it is."""
    if not isinstance(value, list):
        return value
    out: dict[str, Any] = {}
    for item in value:
        text = str(item)
        if sep in text:
            k, v = text.split(sep, 1)
            out[k] = v
        elif sep == ":" and "=" in text:
            k, v = text.split("=", 1)
            out[k] = v
        else:
            out[text] = None
    return out


def normalise_service(service: dict[str, Any]) -> dict[str, Any]:
    """A service with its mapping-like keys as mappings, so that merging can work key by key."""
    out = dict(service)
    for key, sep in _MAPPINGS.items():
        if key in out:
            out[key] = list_to_mapping(out[key], sep)
    if isinstance(out.get("depends_on"), list):
        out["depends_on"] = {str(name): {"condition": "service_started"} for name in out["depends_on"]}
    if isinstance(out.get("networks"), list):
        out["networks"] = {str(name): None for name in out["networks"]}
    build = out.get("build")
    if isinstance(build, dict) and "args" in build:
        out["build"] = {**build, "args": list_to_mapping(build["args"])}
    for key in ("dns", "dns_search", "env_file", "tmpfs"):
        if isinstance(out.get(key), str):
            out[key] = [out[key]]
    return out


def _target(entry: Any) -> Any:
    if isinstance(entry, dict):
        return entry.get("target") or entry.get("source")
    text = str(entry)
    parts = text.split(":")
    if len(parts) >= 2 and len(parts[0]) == 1 and parts[0].isalpha() and len(parts) > 2:
        parts = [parts[0] + ":" + parts[1], *parts[2:]]  # a Windows drive letter
    return parts[1] if len(parts) >= 2 else parts[0]


def _merge_by_target(base: list[Any], override: list[Any]) -> list[Any]:
    targets = {_target(e): i for i, e in enumerate(base)}
    out = list(base)
    for entry in override:
        i = targets.get(_target(entry))
        if i is None:
            targets[_target(entry)] = len(out)
            out.append(entry)
        else:
            out[i] = entry
    return out


def _append_unique(base: list[Any], override: list[Any]) -> list[Any]:
    out = list(base)
    for entry in override:
        if entry not in out:
            out.append(entry)
    return out


def merge_mappings(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Two mappings merged key by key, recursively; a later scalar or sequence replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_mappings(out[key], value)
        else:
            out[key] = value
    return out


def merge_service(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` (a later file's, or the extending service) merged onto ``base``."""
    base, override = normalise_service(base), normalise_service(override)
    out = dict(base)
    for key, value in override.items():
        old = out.get(key)
        if old is None or value is None:
            out[key] = value
        elif key == "build" and isinstance(old, dict) and isinstance(value, dict):
            out[key] = merge_mappings(old, value)
        elif key == "build" and isinstance(old, dict) and isinstance(value, str):
            out[key] = {**old, "context": value}
        elif key == "healthcheck" and isinstance(old, dict) and isinstance(value, dict):
            out[key] = {**old, **value}
        elif key in _REPLACED:
            out[key] = value
        elif key in _BY_TARGET and isinstance(old, list) and isinstance(value, list):
            out[key] = _merge_by_target(old, value)
        elif isinstance(old, list) and isinstance(value, list):
            out[key] = _append_unique(old, value)
        elif isinstance(old, dict) and isinstance(value, dict):
            out[key] = merge_mappings(old, value)
        else:
            out[key] = value
    return out


def merge_files(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """A later compose file merged onto the earlier ones."""
    out = dict(base)
    for key, value in override.items():
        if key == "services" and isinstance(value, dict):
            services = dict(out.get("services") or {})
            for name, service in value.items():
                old = services.get(name)
                if isinstance(old, dict) and isinstance(service, dict):
                    services[name] = merge_service(old, service)
                else:
                    services[name] = normalise_service(service) if isinstance(service, dict) else service
            out["services"] = services
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_mappings(out[key], value)
        elif key == "include" and isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = [*out[key], *value]
        else:
            out[key] = value
    return out
