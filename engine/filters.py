"""Docker's ``--filter`` rules for listings, prunes and events, in one place for every client (the CLI, an API
service): which keys each command takes, how a key's values combine (several values of one key are
alternatives, except ``label``, whose values must all match; different keys must all match) and how each
value matches (``name`` and ``id`` as unanchored regular expressions, ``reference`` as a path glob, times as
RFC 3339, Unix seconds or a duration before now).

Only imported when a filter is given: ``ps`` without one does not load it.
"""

from __future__ import annotations

import re
import time

from .errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any

    from .model.container import Container
    from .model.image import Image
    from .model.network import Network
    from .model.volume import Volume
    from .store.eventlog import Event

    Filters = Mapping[str, list[str]]

#: The keys each command accepts (Docker's; an unknown key is refused).
CONTAINER_KEYS = (
    "ancestor", "before", "expose", "exited", "health", "id", "isolation", "is-task", "label", "name",
    "network", "publish", "since", "status", "volume",
)  # fmt: skip
IMAGE_KEYS = ("before", "dangling", "label", "reference", "since", "until")
VOLUME_KEYS = ("dangling", "driver", "label", "name")
NETWORK_KEYS = ("dangling", "driver", "id", "label", "name", "scope", "type")
EVENT_KEYS = (
    "config", "container", "daemon", "event", "image", "label", "network", "node", "plugin", "scope",
    "secret", "service", "type", "volume",
)  # fmt: skip
#: Prunes: ``until`` and ``label``/``label!`` (volume prune takes no ``until``; image prune also ``dangling``).
PRUNE_KEYS = ("until", "label", "label!")
IMAGE_PRUNE_KEYS = ("dangling", "until", "label", "label!")
VOLUME_PRUNE_KEYS = ("label", "label!", "all")

STATES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")
HEALTH = ("starting", "healthy", "unhealthy", "none")
BUILTIN_NETWORKS = ("bridge", "host", "none")


# -- reading and checking --------------------------------------------------------------------------------


def parse_filters(args: Iterable[str]) -> dict[str, list[str]]:
    """``--filter`` arguments (``key=value``) as a dict of lists, as Docker's CLI reads them: the key is
    lower-cased and trimmed (``label!=x`` is the key ``label!``), the value trimmed."""
    out: dict[str, list[str]] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep:
            raise InvalidArgument(f"bad format of filter (expected name=value): {arg}")
        out.setdefault(key.strip().lower(), []).append(value.strip())
    return out


def validate(filters: Filters, accepted: Iterable[str]) -> None:
    """Docker's refusal of a key the command does not take: ``invalid filter 'foo'``."""
    allowed = set(accepted)
    for key in filters:
        if key not in allowed:
            raise InvalidArgument(f"invalid filter '{key}'")


def match(values: list[str] | None, source: str) -> bool:
    """Docker's ``Match``: no values match everything; else a value equal to ``source`` or one that, as a
    regular expression, is found in it (``name=^web``)."""
    if not values:
        return True
    for v in values:
        if v == source:
            return True
        try:
            if re.search(v, source):
                return True
        except re.error:
            continue
    return False


def match_labels(values: list[str] | None, labels: Mapping[str, Any]) -> bool:
    """Docker's ``MatchKVList``: every ``key`` or ``key=value`` must be among ``labels``."""
    if not values:
        return True
    for v in values:
        k, sep, want = v.partition("=")
        if k not in labels or (sep and str(labels[k]) != want):
            return False
    return True


def _without_labels(values: list[str] | None, labels: Mapping[str, Any]) -> bool:
    """``label!=``: none of ``key`` or ``key=value`` is among ``labels``."""
    for v in values or ():
        k, sep, want = v.partition("=")
        if k in labels and (not sep or str(labels[k]) == want):
            return False
    return True


def boolean(filters: Filters, key: str) -> bool | None:
    """A true/false filter (``dangling``): None when absent; ``1``/``0`` too; one value only."""
    values = filters.get(key)
    if not values:
        return None
    if len(set(values)) > 1:
        raise InvalidArgument(f'got more than one value for filter key "{key}"')
    v = values[0].lower()
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    raise InvalidArgument(f"invalid filter '{key}=[{values[0]}]'")


# -- times -----------------------------------------------------------------------------------------------

_GO_DURATION = re.compile(r"[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+")


def parse_timestamp(value: str, now: float | None = None) -> float:
    """A time as Docker's ``--since``/``--until``/``until=`` read it (GetTimestamp): a Go duration before now
    (``10m``, ``1h30m``: whole seconds), an RFC 3339 time or date (``2024-01-01T12:00:00Z``,
    ``2024-01-01``; local time when no zone is given) or Unix seconds with a fraction (``1700000000.5``)."""
    from .units import parse_duration

    now = time.time() if now is None else now
    value = value.strip()
    if value != "0" and _GO_DURATION.fullmatch(value):
        return float(int(now - parse_duration(value)))
    t = _rfc3339(value)
    if t is not None:
        return t
    if "-" in value:
        raise InvalidArgument(f'parsing time "{value}": cannot parse as a date and time')
    seconds, dot, frac = value.partition(".")
    if not seconds.isascii() or not seconds.isdigit() or (dot and not (frac.isascii() and frac.isdigit())):
        raise InvalidArgument(f'failed to parse value as time or duration: "{value}"')
    return int(seconds) + (int(frac[:9].ljust(9, "0")) / 1e9 if frac else 0.0)


def _rfc3339(value: str) -> float | None:
    """A date or date-time (``T``; hours, minutes and seconds optional, fraction, ``Z`` or an offset)."""
    from datetime import datetime

    if len(value) < 10 or value[4:5] != "-" or value[7:8] != "-":
        return None
    text = value.replace("z", "Z")
    frac = 0.0
    main, dot, rest = text.partition(".")
    if dot:
        digits = rest
        i = 0
        while i < len(digits) and digits[i].isascii() and digits[i].isdigit():
            i += 1
        if i == 0:
            return None
        frac = float("0." + digits[:i])
        text = main + digits[i:]
    date, t, clock = text.partition("T")
    zone = ""
    for i, ch in enumerate(clock if t else date[10:]):
        if ch in "Z+-":
            zone = (clock if t else date[10:])[i:]
            if t:
                clock = clock[:i]
            break
    if not t:
        date = date[:10]
    parts = clock.split(":") if t else []
    if t and not 1 <= len(parts) <= 3:
        return None
    while t and len(parts) < 3:
        parts.append("00")
    iso = date + ("T" + ":".join(parts) if t else "T00:00:00") + ("+00:00" if zone == "Z" else zone)
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if dt.tzinfo is None:  # no zone given: the local time, as Docker's CLI reads it
        return time.mktime(dt.timetuple()) + frac
    return dt.timestamp() + frac


def _until(filters: Filters, now: float | None = None) -> float | None:
    values = filters.get("until")
    if not values:
        return None
    if len(values) > 1:
        raise InvalidArgument("more than one until filter specified")
    return parse_timestamp(values[0], now)


def pruning(
    filters: Filters | None, accepted: Iterable[str] = PRUNE_KEYS
) -> Callable[[float, Mapping[str, Any]], bool]:
    """A prune's ``filters``, checked (keys, times) before anything goes, as the test of what it spares: an
    object made at ``created`` (seconds) with ``labels`` is spared when newer than ``until``, without the
    ``label`` labels or with the ``label!`` ones."""
    filters = filters or {}
    validate(filters, accepted)
    until = _until(filters)
    wanted, unwanted = filters.get("label"), filters.get("label!")

    def spares(created: float, labels: Mapping[str, Any]) -> bool:
        if until is not None and created >= until:
            return True
        return not match_labels(wanted, labels) or not _without_labels(unwanted, labels)

    return spares


# -- globs -----------------------------------------------------------------------------------------------


def glob(pattern: str, text: str) -> bool:
    """Go's ``path.Match``: ``*`` and ``?`` never match ``/``; ``[a-z]``, ``[^x]``; ``\\`` escapes."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and i < len(pattern):
            out.append(re.escape(pattern[i]))
            i += 1
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise InvalidArgument(f"invalid reference filter {pattern!r}: syntax error in pattern")
            body = pattern[i:end]
            if body.startswith("^"):
                body = "^" + body[1:].replace("\\", "\\\\")
            else:
                body = body.replace("\\", "\\\\")
            out.append(f"(?![/])[{body}]")
            i = end + 1
        else:
            out.append(re.escape(ch))
    return re.fullmatch("".join(out), text) is not None


# -- containers ------------------------------------------------------------------------------------------


def _ports(values: list[str] | None, key: str) -> set[str]:
    """``80``, ``80/udp``, ``8000-8080/tcp``: the set of ``port/proto`` they name."""
    out: set[str] = set()
    for v in values or ():
        if ":" in v:
            raise InvalidArgument(f"filter for '{key}' should not contain ':': {v}")
        port, _, proto = v.partition("/")
        start, _, end = port.partition("-")
        if not start.isdigit() or (end and not end.isdigit()):
            raise InvalidArgument(f"error while looking up for {key} {v}: invalid port range: {port}")
        for p in range(int(start), int(end or start) + 1):
            out.add(f"{p}/{proto or 'tcp'}")
    return out


def select_containers(
    items: list[Container],
    filters: Filters,
    *,
    get: Callable[[str], Container],
    image_family: Callable[[str], set[str]],
    mounts: Callable[[str], list[tuple[str, str]]],
    network_id: Callable[[str], str],
) -> list[Container]:
    """``ps --filter``: ``items`` (newest first) that pass every filter. ``get`` finds a container by name or
    ID (``before``, ``since``); ``image_family`` gives an image's ID and those of the images built on it,
    an empty set for an unknown image (``ancestor``); ``mounts`` a container's (volume name or bind source,
    destination) pairs; ``network_id`` a network's ID by name."""
    from .humanize import parse_time

    validate(filters, CONTAINER_KEYS)
    for v in filters.get("status", ()):
        if v not in STATES:
            raise InvalidArgument(f"invalid filter 'status={v}'")
    for v in filters.get("health", ()):
        if v not in HEALTH:
            raise InvalidArgument(f"Unrecognised filter value for health: {v}")
    exited = set()
    for v in filters.get("exited", ()):
        try:
            exited.add(int(v))
        except ValueError:
            raise InvalidArgument(f'strconv.Atoi: parsing "{v}": invalid syntax') from None
    task = filters.get("is-task")
    if task and set(task) - {"true", "false"}:
        raise InvalidArgument(f"invalid filter 'is-task=[{' '.join(task)}]'")
    before = [parse_time(get(v).created) for v in filters.get("before", ())]
    since = [parse_time(get(v).created) for v in filters.get("since", ())]
    family: set[str] | None = None
    if "ancestor" in filters:
        family = set()
        for v in filters["ancestor"]:
            family |= image_family(v)
    publish, expose = _ports(filters.get("publish"), "publish"), _ports(filters.get("expose"), "expose")
    networks = filters.get("network")
    volumes = filters.get("volume")
    out = []
    for c in items:
        created = parse_time(c.created)
        if any(created >= b for b in before) or any(created <= s for s in since):
            continue
        if not (match(filters.get("name"), "/" + c.name) or match(filters.get("name"), c.name)):
            continue
        if not match(filters.get("id"), c.id) or not match_labels(filters.get("label"), c.labels):
            continue
        if task and "false" not in task:
            continue  # no container here is a swarm task
        if exited and not (c.status == "exited" and c.started_at and c.exit_code in exited):
            continue
        if "status" in filters and c.status not in filters["status"]:
            continue
        if "health" in filters and (c.health or "none") not in filters["health"]:
            continue
        if "isolation" in filters and not ({"default", ""} & set(filters["isolation"])):
            continue
        if family is not None and c.image_id not in family:
            continue
        if volumes and not any(v in pair for pair in mounts(c.id) for v in volumes):
            continue
        if networks and not any(
            v in c.networks or any(network_id(n).startswith(v) for n in c.networks) for v in networks
        ):
            continue
        if publish or expose:
            ports = [(str(p.get("host_port") or 0), str(p["container_port"]), p.get("protocol") or "tcp")
                     for p in c.ports]  # fmt: skip
            if not any(f"{h}/{t}" in publish or f"{cp}/{t}" in expose for h, cp, t in ports):
                continue
        out.append(c)
    return out


# -- images ----------------------------------------------------------------------------------------------


def _familiar(tag: str) -> str:
    """``busybox:latest`` -> ``busybox`` (a name without its tag or digest)."""
    name = tag.partition("@")[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.partition(':')[0]}" if head else last.partition(":")[0]


def select_images(images: list[Image], filters: Filters, *, get: Callable[[str], Image]) -> list[Image]:
    """``images --filter``: ``images`` that pass every filter; with ``reference``, each shown with the tags
    that match only (and untagged images left out), as Docker does. ``get`` finds an image by name or ID
    (``before``, ``since``)."""
    from .humanize import parse_time

    validate(filters, IMAGE_KEYS)
    dangling = boolean(filters, "dangling")
    until = _until(filters)
    before = [parse_time(get(v).created) for v in filters.get("before", ())]
    since = [parse_time(get(v).created) for v in filters.get("since", ())]
    patterns = filters.get("reference")
    out = []
    for im in images:
        created = parse_time(im.created)
        if dangling is not None and bool(im.tags) == dangling:
            continue
        if until is not None and created >= until:
            continue
        if any(created >= b for b in before) or any(created <= s for s in since):
            continue
        if not match_labels(filters.get("label"), im.config.get("Labels") or {}):
            continue
        if patterns:
            tags = [t for t in im.tags if any(glob(p, t) or glob(p, _familiar(t)) for p in patterns)]
            if not tags:
                continue
            if tags != im.tags:
                import copy

                im = copy.copy(im)
                im.tags = tags
        out.append(im)
    return out


# -- volumes and networks ----------------------------------------------------------------------------------


def select_volumes(volumes: list[Volume], filters: Filters) -> list[Volume]:
    """``volume ls --filter``: dangling (used by no container), name, label, driver (``local``)."""
    validate(filters, VOLUME_KEYS)
    dangling = boolean(filters, "dangling")
    return [
        v
        for v in volumes
        if (dangling is None or v.in_use != dangling)
        and match(filters.get("name"), v.name)
        and match_labels(filters.get("label"), v.labels)
        and ("driver" not in filters or "local" in filters["driver"])
    ]


def select_networks(
    networks: list[Network], filters: Filters, *, in_use: Callable[[Network], bool]
) -> list[Network]:
    """``network ls --filter``: name and id (regular expressions), driver, label, scope (``local``), type
    (``builtin``: bridge, host, none; ``custom``) and dangling (a custom network no container is on)."""
    validate(filters, NETWORK_KEYS)
    for t in filters.get("type", ()):
        if t not in ("builtin", "custom"):
            raise InvalidArgument(f"invalid filter: 'type'='{t}'")
    values = filters.get("dangling")
    if values and len(values) > 1:
        raise InvalidArgument('got more than one value for filter key "dangling"')
    dangling = None
    if values:
        if values[0] not in ("0", "1", "true", "false"):
            raise InvalidArgument(
                'invalid value for filter \'dangling\', must be "true" (or "1"), or "false" (or "0")'
            )
        dangling = values[0] in ("1", "true")
    out = []
    for n in networks:
        builtin = n.name in BUILTIN_NETWORKS
        if "driver" in filters and n.driver not in filters["driver"]:
            continue
        if not match(filters.get("name"), n.name) or not match(filters.get("id"), n.id):
            continue
        if not match_labels(filters.get("label"), n.labels):
            continue
        if "scope" in filters and "local" not in filters["scope"]:
            continue
        if "type" in filters and ("builtin" if builtin else "custom") not in filters["type"]:
            continue
        if dangling is not None and (not builtin and not in_use(n)) != dangling:
            continue
        out.append(n)
    return out


# -- events ----------------------------------------------------------------------------------------------


def _strip_tag(name: str) -> str:
    return _familiar(name) if name and not name.startswith("sha256:") else name


def _fuzzy(values: list[str] | None, *sources: str) -> bool:
    """Docker's ``FuzzyMatch``: a value equal to a source, or a prefix of it."""
    if values is None:
        return True
    return any(s and (v == s or s.startswith(v)) for v in values for s in sources)


def event_matches(event: Event, filters: Filters) -> bool:
    """``events --filter``: type, event (the action; ``health_status`` matches ``health_status: healthy``),
    container/network/volume (ID, ID prefix or name), image (the image's ID or name, or a container
    event's image, with or without the tag), label (the actor's attributes), scope (``local``)."""
    attrs = event.attributes
    if "type" in filters and event.type not in filters["type"]:
        return False
    if "event" in filters:
        fuzzy = {"health_status", "exec_create", "exec_start"} & set(filters["event"])
        action = event.action
        if action not in filters["event"] and not (fuzzy and any(action.startswith(v) for v in fuzzy)):
            return False
    if "scope" in filters and "local" not in filters["scope"]:
        return False
    name = str(attrs.get("name", ""))
    for kind in ("container", "network", "volume"):
        if kind in filters and (event.type != kind or not _fuzzy(filters[kind], event.id, name)):
            return False
    if "image" in filters:
        image = str(attrs.get("name" if event.type == "image" else "image", ""))
        wanted = filters["image"]
        if not any(s and s in wanted for s in (event.id, image, _strip_tag(event.id), _strip_tag(image))):
            return False
    for kind in ("daemon", "plugin", "node", "service", "secret", "config"):
        if kind in filters:
            return False  # no such events here
    return match_labels(filters.get("label"), {k: str(v) for k, v in attrs.items()})
