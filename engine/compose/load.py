"""Compose files -> ``Project``: discovery, YAML with line numbers, interpolation, validation against the
Compose Specification's schema, ``extends``, ``include``, merging of ``-f`` files, ``env_file``, profiles,
the project's name, and short syntax turned into long syntax.

Every error names the file, the line and the key: ``/p/compose.yaml:7: services.web.ports must be an array``.
"""

from __future__ import annotations

import os

from engine.errors import ComposeError

from . import discover, merge, schema
from .interpolate import interpolate_tree
from .model import (
    Build,
    Dependency,
    Healthcheck,
    Mount,
    Network,
    Port,
    Project,
    Resources,
    Service,
    ServiceNetwork,
    Volume,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    Path = tuple[Any, ...]

#: what ``extends`` may not take from the service it extends
_NOT_EXTENDED = ("depends_on", "links", "volumes_from", "net", "extends")


def _key(path: Path) -> str:
    return ".".join(str(p) for p in path)


class _Sources:
    """The files read so far and the line of every key in them, to say where a problem is."""

    def __init__(self) -> None:
        self.files: list[tuple[str, dict[Path, int]]] = []

    def add(self, name: str, lines: dict[Path, int]) -> None:
        self.files.append((name, lines))

    def where(self, path: Path, name: str | None = None) -> str:
        """``FILE:LINE`` of ``path`` (or of its nearest enclosing key), in the last file that sets it."""
        files = [f for f in self.files if name is None or f[0] == name] or self.files
        for depth in range(len(path), 0, -1):
            prefix = tuple(path[:depth])
            for fname, lines in reversed(files):
                if prefix in lines:
                    return f"{fname}:{lines[prefix]}"
        return files[-1][0] if files else "compose file"

    def error(self, path: Path, message: str, name: str | None = None) -> ComposeError:
        return ComposeError(f"{self.where(path, name)}: {message}")


def _read_yaml(name: str, text: str) -> tuple[Any, dict[Path, int]]:
    """The decoded document and the 1-based line of each key and sequence item, by path."""
    import yaml

    loader = _yaml12_loader()(text)
    loader.name = name
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as e:
        raise ComposeError(_yaml_error(name, text, e)) from None
    except yaml.YAMLError as e:
        raise ComposeError(f"{name}: invalid YAML: {e}") from None
    finally:
        loader.dispose()
    lines: dict[Path, int] = {}

    def walk(n: Any, path: Path) -> None:
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                if not isinstance(k, yaml.ScalarNode) or k.value == "<<":
                    continue
                key = _scalar_key(k.value)
                lines[(*path, key)] = k.start_mark.line + 1
                walk(v, (*path, key))
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                lines[(*path, i)] = v.start_mark.line + 1
                walk(v, (*path, i))

    if node is not None:
        walk(node, ())
    return _string_keys(data), lines


def _string_keys(data: Any) -> Any:
    """Mapping keys as strings (``80:`` is "80"), as Compose reads them."""
    if isinstance(data, dict):
        return {
            ("true" if k else "false")
            if isinstance(k, bool)
            else ("null" if k is None else str(k)): _string_keys(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_string_keys(v) for v in data]
    return data


_loader_class: list[Any] = []


def _yaml12_loader() -> Any:
    """PyYAML's safe loader with YAML 1.2's booleans, as Compose reads files: only true and false are
    booleans; yes, no, on and off are strings (an environment variable named YES stays "YES")."""
    if _loader_class:
        return _loader_class[0]
    import re

    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )

    def tagged(kind: str) -> Any:
        def construct(loader: Any, node: Any) -> _Tagged:
            if isinstance(node, yaml.MappingNode):
                return _Tagged(kind, loader.construct_mapping(node, deep=True))
            if isinstance(node, yaml.SequenceNode):
                return _Tagged(kind, loader.construct_sequence(node, deep=True))
            plain = yaml.ScalarNode(loader.resolve(yaml.ScalarNode, node.value, (True, False)), node.value)
            return _Tagged(kind, loader.construct_object(plain))

        return construct

    Loader.add_constructor("!reset", tagged("reset"))
    Loader.add_constructor("!override", tagged("override"))
    _loader_class.append(Loader)
    return Loader


class _Tagged:
    """A value under Compose's ``!reset`` or ``!override`` tag (merge rules: the Compose Specification)."""

    def __init__(self, kind: str, value: Any) -> None:
        self.kind = kind
        self.value = value


def _untag(data: Any, path: Path, tags: dict[Path, str]) -> Any:
    """``data`` with its ``!reset`` keys left out and its ``!override`` values in place; ``tags`` gets the
    path of each (for the merge with the files before, load's ``_apply_tags``)."""
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            if isinstance(v, _Tagged):
                tags[(*path, k)] = v.kind
                if v.kind == "reset":
                    continue
                v = _string_keys(v.value)
            out[k] = _untag(v, (*path, k), tags)
        return out
    if isinstance(data, list):
        return [_untag(_string_keys(v.value) if isinstance(v, _Tagged) else v, path, {}) for v in data]
    return data


def _apply_tags(merged: dict[str, Any], data: dict[str, Any], tags: dict[Path, str]) -> None:
    """After a file is merged onto the ones before: a ``!reset`` key removed, an ``!override`` value put
    in place of what the merge made of it."""
    for path, kind in tags.items():
        node: Any = merged
        source: Any = data
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
            source = source.get(key) if isinstance(source, dict) else None
        if not isinstance(node, dict):
            continue
        if kind == "reset":
            node.pop(path[-1], None)
        elif isinstance(source, dict) and path[-1] in source:
            node[path[-1]] = source[path[-1]]


def _yaml_error(name: str, text: str, e: Any) -> str:
    """A YAML syntax error as ``FILE:LINE: invalid YAML ...``, with the key whose value it is in."""
    import re

    mark = e.context_mark or e.problem_mark
    if mark is None:
        return f"{name}: invalid YAML: {e.problem}"
    lines = text.splitlines()
    key = ""
    for number in range(min(mark.line, len(lines) - 1), -1, -1):
        found = re.match(r"\s*(?:-\s+)?([^\s:#'\"][^:#]*?)\s*:(\s|$)", lines[number])
        if found:
            key = f" (key {found.group(1)!r}, line {number + 1})"
            break
    where = e.problem_mark or mark
    parts = [p for p in (e.context, e.problem) if p]
    return f"{name}:{where.line + 1}: invalid YAML{key}: {', '.join(parts)}"


def _scalar_key(text: str) -> Any:
    """A mapping key as the decoded document has it (``_string_keys``)."""
    return text


class _Loader:
    def __init__(
        self, env: Mapping[str, str], project_dir: str, warnings: list[str], do_interpolate: bool
    ) -> None:
        self.env = env
        self.project_dir = project_dir
        self.warnings = warnings
        self.interpolate = do_interpolate
        self.sources = _Sources()
        self._unset_seen: set[str] = set()
        self._file_cache: dict[str, dict[str, Any]] = {}
        #: each file's ``!reset`` and ``!override`` paths
        self.tags: dict[str, dict[Path, str]] = {}

    # one file --------------------------------------------------------------------------------------
    def _unset(self, name: str) -> None:
        if name not in self._unset_seen:
            self._unset_seen.add(name)
            self.warnings.append(f'The "{name}" variable is not set. Defaulting to a blank string.')

    def read(self, path: str, base_dir: str, text: str | None = None) -> dict[str, Any]:
        """One file, decoded, interpolated, validated, its relative paths made absolute against
        ``base_dir`` and its ``extends`` resolved."""
        if text is None:
            try:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
            except FileNotFoundError:
                raise ComposeError(f"open {path}: no such file or directory") from None
            except OSError as e:
                raise ComposeError(f"open {path}: {e.strerror}") from None
        data, lines = _read_yaml(path, text)
        self.sources.add(path, lines)
        if data is None:
            data = {}
        self.tags[path] = {}
        data = _untag(data, (), self.tags[path])
        if not isinstance(data, dict):
            raise ComposeError(f"{path}:1: top-level object must be a mapping")
        for key in data:
            if not isinstance(key, str):
                raise self.sources.error((key,), f"non-string key at top level: {key!r}", path)
        if self.interpolate:
            data = interpolate_tree(
                data,
                self.env,
                unset=self._unset,
                on_error=lambda p, m: self.sources.error(p, f"{_key(p)}: {m}", path),
            )
            data = _cast(data)
        found = schema.problems(data)
        if found:
            first = min(found, key=lambda pm: _line_of(lines, pm[0]))
            raise self.sources.error(first[0], first[1], path)
        if "version" in data:
            self.warnings.append(
                f"{path}: the attribute `version` is obsolete, it will be ignored, please remove it to avoid "
                "potential confusion"
            )
        shape = _shape_problem(data)
        if shape is not None:
            raise self.sources.error(shape[0], shape[1], path)
        services = data.get("services") or {}
        for name, svc in list(services.items()):
            if svc is None:
                svc = services[name] = {}
            if not isinstance(svc, dict):
                raise self.sources.error(("services", name), f"services.{name} must be a mapping", path)
            services[name] = _absolute_paths(svc, base_dir)
        if services:
            data["services"] = services
            for name in list(services):
                services[name] = self._extended(path, data, name, [])
        return data

    # extends ---------------------------------------------------------------------------------------
    def _extended(self, path: str, data: dict[str, Any], name: str, chain: list[tuple[str, str]]) -> Any:
        svc = data["services"][name]
        ext = svc.get("extends")
        if ext is None:
            return svc
        if (path, name) in chain:
            cycle = " -> ".join(n for _, n in [*chain, (path, name)])
            raise self.sources.error(
                ("services", name, "extends"), f"circular reference with extends: {cycle}", path
            )
        if isinstance(ext, str):
            ext = {"service": ext}
        base_name = ext.get("service")
        base_file = ext.get("file")
        if base_file:
            base_path = os.path.normpath(os.path.join(os.path.dirname(path), base_file))
            base_data = self._file_cache.get(base_path)
            if base_data is None:
                base_data = self.read(base_path, os.path.dirname(base_path))
                self._file_cache[base_path] = base_data
        else:
            base_path, base_data = path, data
        services = base_data.get("services") or {}
        if base_name not in services:
            raise self.sources.error(
                ("services", name, "extends"),
                f'services.{name}.extends: cannot extend service "{base_name}" of {base_path}: no such service',
                path,
            )
        base = self._extended(base_path, base_data, base_name, [*chain, (path, name)])
        base = {k: v for k, v in base.items() if k not in _NOT_EXTENDED}
        own = {k: v for k, v in svc.items() if k != "extends"}
        return merge.merge_service(base, own)


_S, _I, _F, _B, _L, _M = str, int, float, bool, list, dict
_NONE = type(None)
#: the shapes of the keys the model reads, checked in every file (the schema checks them too, when installed;
#: without it, this keeps a wrong type from getting further than a clear error). "*" is any key or index.
_SHAPES: dict[tuple[str, ...], tuple[type, ...]] = {
    ("services",): (_M,),
    ("networks",): (_M,),
    ("volumes",): (_M,),
    ("configs",): (_M,),
    ("secrets",): (_M,),
    ("name",): (_S,),
    ("include",): (_L,),
    ("networks", "*"): (_M, _NONE),
    ("networks", "*", "ipam"): (_M,),
    ("networks", "*", "ipam", "config"): (_L,),
    ("networks", "*", "labels"): (_M, _L),
    ("networks", "*", "driver_opts"): (_M,),
    ("volumes", "*"): (_M, _NONE),
    ("volumes", "*", "labels"): (_M, _L),
    ("volumes", "*", "driver_opts"): (_M,),
    ("configs", "*"): (_M, _NONE),
    ("secrets", "*"): (_M, _NONE),
    ("services", "*"): (_M, _NONE),
}
_SERVICE_SHAPES: dict[tuple[str, ...], tuple[type, ...]] = {
    ("image",): (_S,),
    ("build",): (_S, _M),
    ("build", "args"): (_M, _L),
    ("build", "labels"): (_M, _L),
    ("build", "context"): (_S,),
    ("build", "dockerfile"): (_S,),
    ("build", "target"): (_S,),
    ("command",): (_S, _L, _NONE),
    ("entrypoint",): (_S, _L, _NONE),
    ("environment",): (_M, _L),
    ("env_file",): (_S, _L),
    ("ports",): (_L,),
    ("ports", "*"): (_S, _I, _M),
    ("expose",): (_L,),
    ("volumes",): (_L,),
    ("volumes", "*"): (_S, _M),
    ("volumes", "*", "bind"): (_M,),
    ("volumes", "*", "volume"): (_M,),
    ("volumes", "*", "tmpfs"): (_M,),
    ("tmpfs",): (_S, _L),
    ("networks",): (_M, _L),
    ("networks", "*"): (_M, _NONE, _S),
    ("networks", "*", "aliases"): (_L,),
    ("network_mode",): (_S,),
    ("depends_on",): (_M, _L),
    ("depends_on", "*"): (_M, _NONE, _S),
    ("healthcheck",): (_M,),
    ("healthcheck", "test"): (_S, _L),
    ("healthcheck", "retries"): (_I, _F),
    ("restart",): (_S,),
    ("deploy",): (_M,),
    ("deploy", "replicas"): (_I,),
    ("deploy", "resources"): (_M,),
    ("deploy", "resources", "limits"): (_M,),
    ("deploy", "resources", "reservations"): (_M,),
    ("labels",): (_M, _L),
    ("container_name",): (_S,),
    ("user",): (_S, _I),
    ("working_dir",): (_S,),
    ("hostname",): (_S,),
    ("stop_signal",): (_S,),
    ("stop_grace_period",): (_S,),
    ("init",): (_B,),
    ("read_only",): (_B,),
    ("privileged",): (_B,),
    ("stdin_open",): (_B,),
    ("tty",): (_B,),
    ("cap_add",): (_L,),
    ("cap_drop",): (_L,),
    ("extra_hosts",): (_M, _L),
    ("profiles",): (_L,),
    ("scale",): (_I,),
    ("extends",): (_S, _M),
    ("dns",): (_S, _L),
}
_TYPE_NAMES = {
    _S: "a string",
    _I: "an integer",
    _F: "a number",
    _B: "a boolean",
    _L: "an array",
    _M: "a mapping",
}


def _as_int(text: str) -> Any:
    return int(text) if text.lstrip("-").isdigit() else text


def _as_float(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def _as_bool(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "yes", "y", "on"):
        return True
    if lowered in ("false", "no", "n", "off"):
        return False
    return text


#: where an interpolated string is read as a number or a boolean, as Compose casts them (relative to a service;
#: "*" is any key or index)
_CASTS = {
    ("deploy", "replicas"): _as_int,
    ("scale",): _as_int,
    ("healthcheck", "retries"): _as_int,
    ("healthcheck", "disable"): _as_bool,
    ("ports", "*", "target"): _as_int,
    ("ports", "*", "published"): _as_int,
    ("volumes", "*", "read_only"): _as_bool,
    ("volumes", "*", "tmpfs", "size"): _as_int,
    ("pids_limit",): _as_int,
    ("cpus",): _as_float,
    ("cpu_shares",): _as_int,
    ("mem_swappiness",): _as_int,
    ("oom_score_adj",): _as_int,
    ("init",): _as_bool,
    ("read_only",): _as_bool,
    ("privileged",): _as_bool,
    ("stdin_open",): _as_bool,
    ("tty",): _as_bool,
    ("oom_kill_disable",): _as_bool,
    ("depends_on", "*", "required"): _as_bool,
    ("depends_on", "*", "restart"): _as_bool,
    ("networks", "*", "priority"): _as_int,
}
_TOP_CASTS = {
    ("networks", "*", "external"): _as_bool,
    ("networks", "*", "internal"): _as_bool,
    ("networks", "*", "attachable"): _as_bool,
    ("networks", "*", "enable_ipv6"): _as_bool,
    ("volumes", "*", "external"): _as_bool,
}


def _cast(data: Any) -> Any:
    """``data`` with the strings at the typed keys (``replicas: ${N}``) read as numbers and booleans."""

    def walk(value: Any, rel: tuple[Any, ...], table: dict[tuple[Any, ...], Any]) -> Any:
        if isinstance(value, str) and rel:
            pattern = tuple("*" if isinstance(p, int) else p for p in rel)
            how = table.get(pattern) or table.get((*pattern[:1], "*", *pattern[2:]))
            return how(value) if how is not None else value
        if isinstance(value, dict):
            return {k: walk(v, (*rel, k), table) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*rel, i), table) for i, v in enumerate(value)]
        return value

    if not isinstance(data, dict):
        return data
    out = {k: walk(v, (k,), _TOP_CASTS) for k, v in data.items() if k != "services"}
    services = data.get("services")
    if isinstance(services, dict):
        out["services"] = {
            name: {k: walk(v, (k,), _CASTS) for k, v in svc.items()} if isinstance(svc, dict) else svc
            for name, svc in services.items()
        }
    elif "services" in data:
        out["services"] = services
    return {k: out[k] for k in data}


def _shape_problem(data: Any) -> tuple[Path, str] | None:
    """The first key of a decoded file whose value has a type the model cannot read, and what it should be."""

    def check(value: Any, path: Path, table: dict[tuple[str, ...], tuple[type, ...]], rel: tuple[Any, ...]):
        pattern = tuple("*" if isinstance(p, int) else p for p in rel)
        wanted = table.get(pattern) or table.get((*pattern[:-1], "*")) if rel else None
        if wanted is not None and not (
            isinstance(value, wanted) and not (isinstance(value, bool) and _B not in wanted and _I in wanted)
        ):
            if not (_F in wanted and isinstance(value, int)):
                names = " or ".join(_TYPE_NAMES[t] for t in wanted if t in _TYPE_NAMES)
                return path, f"{_key(path)} must be {names}"
        children = (
            value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        )
        for k, v in children:
            if table is _SHAPES and len(rel) == 2 and rel[0] == "services":
                found = check(v, (*path, k), _SERVICE_SHAPES, (k,))
            else:
                found = check(v, (*path, k), table, (*rel, k))
            if found:
                return found
        return None

    return check(data, (), _SHAPES, ())


def _line_of(lines: dict[Path, int], path: Path) -> int:
    for depth in range(len(path), 0, -1):
        if tuple(path[:depth]) in lines:
            return lines[tuple(path[:depth])]
    return 0


def _is_url(context: str) -> bool:
    return "://" in context or context.startswith(("git@", "github.com/"))


def _abs(base_dir: str, path: str) -> str:
    if path.startswith("~"):
        path = os.path.expanduser(path)
    return os.path.normpath(os.path.join(base_dir, path))


def _split_volume(spec: str) -> list[str]:
    parts = spec.split(":")
    if len(parts) > 1 and len(parts[0]) == 1 and parts[0].isalpha() and parts[1].startswith(("\\", "/")):
        parts = [parts[0] + ":" + parts[1], *parts[2:]]
    return parts


def _absolute_paths(svc: dict[str, Any], base_dir: str) -> dict[str, Any]:
    """A service whose relative host paths (build context, bind sources, env files) are absolute."""
    out = dict(svc)
    build = out.get("build")
    if isinstance(build, str) and not _is_url(build):
        out["build"] = {"context": _abs(base_dir, build)}
    elif isinstance(build, dict):
        context = str(build.get("context", "."))
        out["build"] = {**build, "context": context if _is_url(context) else _abs(base_dir, context)}
    volumes = out.get("volumes")
    if isinstance(volumes, list):
        fixed: list[Any] = []
        for v in volumes:
            if isinstance(v, str):
                parts = _split_volume(v)
                if len(parts) >= 2 and parts[0].startswith((".", "~")):
                    parts[0] = _abs(base_dir, parts[0])
                    v = ":".join(parts)
            elif isinstance(v, dict) and v.get("type") == "bind" and isinstance(v.get("source"), str):
                v = {**v, "source": _abs(base_dir, v["source"])}
            fixed.append(v)
        out["volumes"] = fixed
    env_file = out.get("env_file")
    if isinstance(env_file, str):
        env_file = [env_file]
    if isinstance(env_file, list):
        out["env_file"] = [
            {**e, "path": _abs(base_dir, str(e.get("path", "")))}
            if isinstance(e, dict)
            else _abs(base_dir, str(e))
            for e in env_file
        ]
    return out


# ---------------------------------------------------------------------------------------------------------
# the merged document -> the model
# ---------------------------------------------------------------------------------------------------------


class _Convert:
    def __init__(self, sources: _Sources, env: Mapping[str, str], project: str) -> None:
        self.sources = sources
        self.env = env
        self.project = project

    def fail(self, path: Path, message: str) -> ComposeError:
        return self.sources.error(path, message)

    def int_(self, value: Any, path: Path) -> int:
        if isinstance(value, bool):
            raise self.fail(path, f"{_key(path)} must be an integer")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise self.fail(path, f"{_key(path)} must be an integer, not {value!r}") from None

    def bool_(self, value: Any, path: Path) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        raise self.fail(path, f"{_key(path)} must be a boolean, not {value!r}")

    def strings(self, value: Any, path: Path) -> list[str]:
        if value is None:
            return []
        if isinstance(value, (str, int, float)):
            return [str(value)]
        if not isinstance(value, list):
            raise self.fail(path, f"{_key(path)} must be a list of strings")
        return [str(v) for v in value]

    def mapping(self, value: Any, path: Path, sep: str = "=") -> dict[str, Any]:
        value = merge.list_to_mapping(value, sep)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(path, f"{_key(path)} must be a mapping or a list")
        return {str(k): (None if v is None else _text(v)) for k, v in value.items()}

    def words(self, value: Any, path: Path) -> list[str] | None:
        if value is None:
            return None
        if isinstance(value, str):
            import shlex

            try:
                return shlex.split(value)
            except ValueError as e:
                raise self.fail(path, f"{_key(path)}: {e}") from None
        if isinstance(value, list):
            return [str(v) for v in value]
        raise self.fail(path, f"{_key(path)} must be a string or a list")

    # ports ---------------------------------------------------------------------------------------------
    def ports(self, value: Any, path: Path) -> list[Port]:
        out: list[Port] = []
        for i, p in enumerate(value or []):
            where = (*path, i)
            if isinstance(p, dict):
                if "target" not in p:
                    raise self.fail(where, f"{_key(where)}: a port needs a target")
                published = p.get("published")
                out.append(
                    Port(
                        target=self.int_(p["target"], (*where, "target")),
                        published=None if published in (None, "") else str(published),
                        host_ip=p.get("host_ip") or None,
                        protocol=str(p.get("protocol") or "tcp"),
                        mode=str(p.get("mode") or "ingress"),
                    )
                )
            else:
                out.extend(self.short_port(p, where))
        return out

    def short_port(self, spec: Any, where: Path) -> list[Port]:
        text = str(spec)
        protocol = "tcp"
        if "/" in text:
            text, protocol = text.rsplit("/", 1)
        host_ip: str | None = None
        if text.startswith("["):
            end = text.find("]")
            host_ip, text = text[1:end], text[end + 2 :]
        parts = text.split(":")
        if len(parts) > 3:
            host_ip, parts = ":".join(parts[:-2]), parts[-2:]
        elif len(parts) == 3:
            host_ip, parts = parts[0], parts[1:]
        published = parts[0] if len(parts) == 2 else ""
        target = parts[-1]

        def span(text: str) -> tuple[int, int]:
            lo, _, hi = text.partition("-")
            if not lo.isdigit() or (hi and not hi.isdigit()):
                raise self.fail(where, f"{_key(where)}: invalid port {str(spec)!r}")
            return int(lo), int(hi or lo)

        t_lo, t_hi = span(target)
        if not published:
            return [Port(target=t, host_ip=host_ip or None, protocol=protocol) for t in range(t_lo, t_hi + 1)]
        p_lo, p_hi = span(published)
        if t_lo == t_hi:
            return [Port(target=t_lo, published=published, host_ip=host_ip or None, protocol=protocol)]
        if p_hi - p_lo != t_hi - t_lo:
            raise self.fail(where, f"{_key(where)}: port ranges don't match in length: {str(spec)!r}")
        return [
            Port(target=t_lo + k, published=str(p_lo + k), host_ip=host_ip or None, protocol=protocol)
            for k in range(t_hi - t_lo + 1)
        ]

    # volumes -------------------------------------------------------------------------------------------
    def mounts(self, value: Any, path: Path) -> list[Mount]:
        out: list[Mount] = []
        for i, v in enumerate(value or []):
            where = (*path, i)
            if isinstance(v, dict):
                kind = str(v.get("type") or "volume")
                if "target" not in v:
                    raise self.fail(where, f"{_key(where)}: a mount needs a target")
                out.append(
                    Mount(
                        type=kind,
                        target=str(v["target"]),
                        source=None if v.get("source") in (None, "") else str(v["source"]),
                        read_only=bool(v.get("read_only")),
                        consistency=v.get("consistency"),
                        bind=dict(v.get("bind") or {}),
                        volume=dict(v.get("volume") or {}),
                        tmpfs=dict(v.get("tmpfs") or {}),
                    )
                )
                continue
            parts = _split_volume(str(v))
            if len(parts) == 1:
                out.append(Mount(type="volume", target=parts[0]))
                continue
            if len(parts) > 3:
                raise self.fail(where, f"{_key(where)}: invalid volume specification {str(v)!r}")
            source, target = parts[0], parts[1]
            options = parts[2].split(",") if len(parts) == 3 else []
            is_bind = source.startswith(("/", ".", "~")) or (len(source) > 1 and source[1] == ":")
            m = Mount(type="bind" if is_bind else "volume", target=target, source=source)
            for opt in options:
                if opt in ("ro", "rw"):
                    m.read_only = opt == "ro"
                elif opt in ("z", "Z"):
                    m.bind["selinux"] = opt
                elif opt == "nocopy":
                    m.volume["nocopy"] = True
                elif opt in ("shared", "rshared", "slave", "rslave", "private", "rprivate"):
                    m.bind["propagation"] = opt
                elif opt in ("consistent", "cached", "delegated"):
                    m.consistency = opt
                elif opt:
                    raise self.fail(where, f"{_key(where)}: invalid mode {opt!r} in {str(v)!r}")
            if is_bind:
                m.bind["create_host_path"] = True
            out.append(m)
        return out

    # a service -----------------------------------------------------------------------------------------
    def service(self, name: str, raw: dict[str, Any]) -> Service:
        p: Path = ("services", name)
        raw = dict(raw)
        environment = self.environment(raw, p)
        svc = Service(name=name, environment=environment)
        image = raw.pop("image", None)
        svc.image = None if image is None else str(image)
        build = raw.pop("build", None)
        if build is not None:
            if isinstance(build, str):
                build = {"context": build}
            b = dict(build)
            svc.build = Build(
                context=str(b.pop("context", ".")),
                dockerfile=None if b.get("dockerfile") is None else str(b.pop("dockerfile")),
                args=self.mapping(b.pop("args", None), (*p, "build", "args")),
                target=None if b.get("target") is None else str(b.pop("target")),
                labels={
                    k: "" if v is None else str(v)
                    for k, v in self.mapping(b.pop("labels", None), (*p, "build", "labels")).items()
                },
                extra=b,
            )
        svc.command = self.words(raw.pop("command", None), (*p, "command"))
        svc.entrypoint = self.words(raw.pop("entrypoint", None), (*p, "entrypoint"))
        svc.ports = self.ports(raw.pop("ports", None), (*p, "ports"))
        svc.expose = self.strings(raw.pop("expose", None), (*p, "expose"))
        svc.volumes = self.mounts(raw.pop("volumes", None), (*p, "volumes"))
        svc.tmpfs = self.strings(raw.pop("tmpfs", None), (*p, "tmpfs"))
        networks = merge.normalise_service({"networks": raw.pop("networks", None) or {}})["networks"]
        for net, settings in networks.items():
            if settings is None:
                svc.networks[str(net)] = None
                continue
            where = (*p, "networks", net)
            svc.networks[str(net)] = ServiceNetwork(
                aliases=self.strings(settings.get("aliases"), (*where, "aliases")),
                ipv4_address=settings.get("ipv4_address"),
                ipv6_address=settings.get("ipv6_address"),
                priority=None if settings.get("priority") is None else self.int_(settings["priority"], where),
            )
        svc.network_mode = raw.pop("network_mode", None)
        depends = merge.normalise_service({"depends_on": raw.pop("depends_on", None) or {}})["depends_on"]
        for dep, settings in depends.items():
            settings = settings or {}
            where = (*p, "depends_on", dep)
            svc.depends_on[str(dep)] = Dependency(
                condition=str(settings.get("condition") or "service_started"),
                required=self.bool_(settings.get("required", True), (*where, "required")),
                restart=self.bool_(settings.get("restart", False), (*where, "restart")),
            )
        hc = raw.pop("healthcheck", None)
        if hc is not None:
            test = hc.get("test")
            if isinstance(test, str):
                test = ["CMD-SHELL", test]
            svc.healthcheck = Healthcheck(
                test=None if test is None else [str(t) for t in test],
                interval=_opt_str(hc.get("interval")),
                timeout=_opt_str(hc.get("timeout")),
                start_period=_opt_str(hc.get("start_period")),
                start_interval=_opt_str(hc.get("start_interval")),
                retries=None
                if hc.get("retries") is None
                else self.int_(hc["retries"], (*p, "healthcheck", "retries")),
                disable=bool(hc.get("disable")),
            )
        svc.restart = _opt_str(raw.pop("restart", None))
        svc.labels = {
            k: "" if v is None else str(v)
            for k, v in self.mapping(raw.pop("labels", None), (*p, "labels")).items()
        }
        for key in ("container_name", "user", "working_dir", "hostname", "stop_signal", "stop_grace_period"):
            setattr(svc, key, _opt_str(raw.pop(key, None)))
        for key in ("init", "read_only", "privileged", "stdin_open", "tty"):
            if key in raw:
                setattr(svc, key, self.bool_(raw.pop(key), (*p, key)))
        svc.cap_add = self.strings(raw.pop("cap_add", None), (*p, "cap_add"))
        svc.cap_drop = self.strings(raw.pop("cap_drop", None), (*p, "cap_drop"))
        hosts = raw.pop("extra_hosts", None)
        if isinstance(hosts, dict):
            svc.extra_hosts = [f"{h}:{ip}" for h, ip in hosts.items()]
        else:
            svc.extra_hosts = self.strings(hosts, (*p, "extra_hosts"))
        svc.profiles = self.strings(raw.pop("profiles", None), (*p, "profiles"))
        deploy = dict(raw.pop("deploy", None) or {})
        if "replicas" in deploy:
            svc.replicas = self.int_(deploy.pop("replicas"), (*p, "deploy", "replicas"))
        elif "scale" in raw:
            svc.replicas = self.int_(raw["scale"], (*p, "scale"))
        resources = dict(deploy.pop("resources", None) or {})
        if resources:
            limits = dict(resources.get("limits") or {})
            where = (*p, "deploy", "resources", "limits")
            cpus = limits.get("cpus")
            try:
                cpu_value = None if cpus is None else float(cpus)
            except ValueError:
                raise self.fail(
                    (*where, "cpus"), f"{_key((*where, 'cpus'))} must be a number, not {cpus!r}"
                ) from None
            svc.resources = Resources(
                cpus=cpu_value,
                memory=limits.get("memory"),
                pids=None if limits.get("pids") is None else self.int_(limits["pids"], (*where, "pids")),
                reservations=dict(resources.get("reservations") or {}),
            )
        if deploy:
            raw["deploy"] = deploy
        raw.pop("env_file", None)
        for key in ("secrets", "configs"):
            if isinstance(raw.get(key), list):
                raw[key] = [{"source": e} if isinstance(e, str) else e for e in raw[key]]
        svc.extra = raw
        if svc.image is None and svc.build is None:
            raise self.fail(p, f'service "{name}" has neither an image nor a build context specified')
        return svc

    def environment(self, raw: dict[str, Any], p: Path) -> dict[str, str | None]:
        """``env_file`` files then ``environment``; a variable given without a value takes the one of the
        project's environment, if it has one."""
        env: dict[str, str | None] = {}
        for i, entry in enumerate(raw.get("env_file") or []):
            required = True
            path = entry
            if isinstance(entry, dict):
                path, required = entry.get("path", ""), entry.get("required", True) is not False
            if not os.path.isfile(path):
                if not required:
                    continue
                raise self.fail((*p, "env_file", i), f"env file {path} not found")
            env.update(discover.parse_env_file(path))
        env.update(self.mapping(raw.pop("environment", None), (*p, "environment")))
        for k, v in env.items():
            if v is None and k in self.env:
                env[k] = self.env[k]
        return env

    # networks and volumes ------------------------------------------------------------------------------
    def network(self, key: str, raw: dict[str, Any] | None) -> Network:
        raw = dict(raw or {})
        external = raw.get("external")
        ext_name = external.get("name") if isinstance(external, dict) else None
        is_external = bool(external)
        name = raw.get("name") or ext_name or (key if is_external else f"{self.project}_{key}")
        ipam = dict(raw.get("ipam") or {})
        subnets = [
            str(c["subnet"]) for c in ipam.get("config") or [] if isinstance(c, dict) and c.get("subnet")
        ]
        where = ("networks", key)
        return Network(
            key=key,
            name=str(name),
            external=is_external,
            internal=self.bool_(raw.get("internal", False), (*where, "internal")),
            driver=raw.get("driver"),
            driver_opts={str(k): str(v) for k, v in (raw.get("driver_opts") or {}).items()},
            subnets=subnets,
            ipam=ipam,
            attachable=self.bool_(raw.get("attachable", False), (*where, "attachable")),
            enable_ipv6=self.bool_(raw.get("enable_ipv6", False), (*where, "enable_ipv6")),
            labels={
                k: "" if v is None else str(v)
                for k, v in self.mapping(raw.get("labels"), (*where, "labels")).items()
            },
        )

    def volume(self, key: str, raw: dict[str, Any] | None) -> Volume:
        raw = dict(raw or {})
        external = raw.get("external")
        ext_name = external.get("name") if isinstance(external, dict) else None
        is_external = bool(external)
        name = raw.get("name") or ext_name or (key if is_external else f"{self.project}_{key}")
        return Volume(
            key=key,
            name=str(name),
            external=is_external,
            driver=raw.get("driver"),
            driver_opts={str(k): str(v) for k, v in (raw.get("driver_opts") or {}).items()},
            labels={
                k: "" if v is None else str(v)
                for k, v in self.mapping(raw.get("labels"), ("volumes", key, "labels")).items()
            },
        )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


# ---------------------------------------------------------------------------------------------------------


def load(
    files: Sequence[str] = (),
    *,
    project_name: str | None = None,
    project_directory: str | None = None,
    env_files: Sequence[str] | None = (),
    profiles: Sequence[str] | None = (),
    environ: Mapping[str, str] | None = None,
    workdir: str | None = None,
    interpolate: bool = True,
    warnings: list[str] | None = None,
    stdin_text: str | None = None,
) -> Project:
    """The project ``files`` describe (the default files of ``workdir`` when none are given; ``-`` is
    ``stdin_text``). ``warnings`` collects what Compose warns about (unset variables)."""
    environ = dict(os.environ if environ is None else environ)
    workdir = os.path.abspath(workdir or os.getcwd())
    warnings = [] if warnings is None else warnings
    names = list(files)
    if not names and environ.get("COMPOSE_FILE"):
        names = [
            f for f in environ["COMPOSE_FILE"].split(environ.get("COMPOSE_PATH_SEPARATOR", os.pathsep)) if f
        ]
    if not names:
        names = discover.find_files(workdir)
    paths = ["-" if f == "-" else os.path.join(workdir, f) for f in names]
    paths = [p if p == "-" else os.path.normpath(p) for p in paths]
    first = next((p for p in paths if p != "-"), None)
    if project_directory:
        project_dir = os.path.abspath(os.path.join(workdir, project_directory))
    else:
        project_dir = os.path.dirname(first) if first else workdir
    env = discover.project_environment(project_dir, list(env_files or ()), environ)

    loader = _Loader(env, project_dir, warnings, interpolate)
    merged: dict[str, Any] = {}
    for path in paths:
        text = stdin_text if path == "-" else None
        if path == "-" and text is None:
            raise ComposeError("reading the compose file from standard input: nothing was given")
        data = loader.read(path, project_dir, text)
        merged = merge.merge_files(merged, data)
        _apply_tags(merged, data, loader.tags.get(path, {}))
    merged = _included(loader, merged, project_dir, environ)

    name = project_name or env.get("COMPOSE_PROJECT_NAME") or ""
    origin = "-p" if project_name else "COMPOSE_PROJECT_NAME"
    if not name and merged.get("name"):
        name, origin = str(merged["name"]), "the top-level name"
    if not name:
        name, origin = discover.normalise_name(os.path.basename(project_dir)), "the project directory's name"
    discover.check_name(name, origin)

    active = set(profiles or ()) or {p for p in env.get("COMPOSE_PROFILES", "").split(",") if p}
    convert = _Convert(loader.sources, env, name)
    project = Project(name=name, working_dir=project_dir, config_files=list(paths), warnings=warnings)
    services = merged.get("services") or {}
    if not isinstance(services, dict):
        raise loader.sources.error(("services",), "services must be a mapping")
    for key, raw in services.items():
        svc = convert.service(str(key), raw or {})
        enabled = not svc.profiles or "*" in active or bool(active & set(svc.profiles))
        (project.services if enabled else project.disabled)[svc.name] = svc
    for key, raw in (merged.get("networks") or {}).items():
        project.networks[str(key)] = convert.network(str(key), raw)
    for key, raw in (merged.get("volumes") or {}).items():
        project.volumes[str(key)] = convert.volume(str(key), raw)
    for kind in ("configs", "secrets"):
        for key, raw in (merged.get(kind) or {}).items():
            entry = dict(raw or {})
            if isinstance(entry.get("file"), str):
                entry["file"] = _abs(project_dir, entry["file"])
            getattr(project, kind)[str(key)] = entry
    _check_references(project, loader.sources)
    return project


def _included(
    loader: _Loader, merged: dict[str, Any], project_dir: str, environ: Mapping[str, str]
) -> dict[str, Any]:
    """The resources of each ``include:`` file added; a name defined twice is an error, as in Compose."""
    includes = merged.pop("include", None) or []
    for i, entry in enumerate(includes):
        if isinstance(entry, str):
            entry = {"path": entry}
        paths = entry.get("path")
        paths = [paths] if isinstance(paths, str) else list(paths or [])
        paths = [_abs(project_dir, p) for p in paths]
        sub_dir = (
            _abs(project_dir, entry["project_directory"])
            if entry.get("project_directory")
            else os.path.dirname(paths[0])
        )
        env_files = entry.get("env_file")
        env_files = [env_files] if isinstance(env_files, str) else list(env_files or [])
        sub_env = discover.project_environment(sub_dir, [_abs(project_dir, e) for e in env_files], environ)
        sub = _Loader(sub_env, sub_dir, loader.warnings, loader.interpolate)
        sub.sources = loader.sources
        data: dict[str, Any] = {}
        for path in paths:
            data = merge.merge_files(data, sub.read(path, sub_dir))
        data = _included(sub, data, sub_dir, environ)
        for kind in ("services", "networks", "volumes", "configs", "secrets"):
            for key, value in (data.get(kind) or {}).items():
                existing = merged[kind] = dict(merged.get(kind) or {})
                if key in existing:
                    raise loader.sources.error(
                        ("include", i), f"include: {kind[:-1]} {key!r} of {paths[0]} is already defined"
                    )
                existing[key] = value
    return merged


def _check_references(project: Project, sources: _Sources) -> None:
    every = {**project.services, **project.disabled}
    for svc in project.services.values():
        for dep, d in svc.depends_on.items():
            if dep not in every and d.required:
                raise sources.error(
                    ("services", svc.name, "depends_on", dep),
                    f'service "{svc.name}" depends on undefined service "{dep}": invalid compose project',
                )
            if dep in project.disabled and d.required:
                raise sources.error(
                    ("services", svc.name, "depends_on", dep),
                    f'service "{svc.name}" depends on service "{dep}", which its profiles leave out',
                )
        for net in svc.networks:
            if net not in project.networks and net != "default":
                raise sources.error(
                    ("services", svc.name, "networks", net),
                    f'service "{svc.name}" refers to undefined network {net}: invalid compose project',
                )
        for i, m in enumerate(svc.volumes):
            if m.type == "volume" and m.source and m.source not in project.volumes:
                raise sources.error(
                    ("services", svc.name, "volumes", i),
                    f'service "{svc.name}" refers to undefined volume {m.source}: invalid compose project',
                )
