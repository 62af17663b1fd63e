"""The instructions that only change the image config: ENV, LABEL, CMD, ENTRYPOINT, EXPOSE, VOLUME, USER,
STOPSIGNAL, HEALTHCHECK, SHELL, ONBUILD, MAINTAINER, ARG, and the config half of WORKDIR.

:func:`apply` changes the state's config as Docker does and returns the ``created_by`` text of the history
entry (in the form ``docker history`` shows for BuildKit builds: ``ENV A=b``, ``CMD ["sh"]``,
``EXPOSE map[80/tcp:{}]``). The instruction must already be expanded (engine.build.words).
"""

from __future__ import annotations

import posixpath

from engine.build.parser import Instruction, healthcheck_config
from engine.build.state import ImageState
from engine.build.words import go_quote
from engine.errors import BuildError, InvalidArgument

__all__ = ["META_INSTRUCTIONS", "StageFlags", "apply", "exposed_ports", "workdir_path"]

META_INSTRUCTIONS = frozenset(
    {
        "ARG",
        "CMD",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)

_PROTOCOLS = ("tcp", "udp", "sctp")


class StageFlags:
    """What a stage has set itself so far (Docker: ENTRYPOINT resets a CMD inherited from the base only)."""

    __slots__ = ("cmd_set",)

    def __init__(self) -> None:
        self.cmd_set = False


def _go_list(items: list[str]) -> str:
    """Go's ``%q`` of a string slice: ``["a" "b"]``."""
    return "[" + " ".join(go_quote(i) for i in items) + "]"


def exposed_ports(words: list[str]) -> list[str]:
    """``80``, ``80/udp``, ``8000-8002/tcp`` as Docker's ``port/proto`` keys (ranges expanded)."""
    out: list[str] = []
    for word in words:
        port, _, proto = word.partition("/")
        proto = (proto or "tcp").lower()
        if proto not in _PROTOCOLS:
            raise BuildError(f"invalid proto: {proto}")
        low, _, high = port.partition("-")
        # ASCII digits, as Go's ParseUint reads them: int() would also take " 80", "8_0" and "٨٠"
        if not all(p.isascii() and p.isdigit() and len(p.lstrip("0")) <= 5 for p in (low, high or low)):
            raise BuildError(f"invalid containerPort: {port}")
        first = int(low)
        last = int(high) if high else first
        if not (0 < first <= 65535 and 0 < last <= 65535) or last < first:
            raise BuildError(f"invalid containerPort: {port}")
        out.extend(f"{p}/{proto}" for p in range(first, last + 1))
    return out


def workdir_path(current: str, path: str) -> str:
    """WORKDIR ``path`` relative to the current working directory, cleaned."""
    joined = path if path.startswith("/") else posixpath.join(current or "/", path)
    return posixpath.normpath(joined).replace("//", "/") or "/"


def _command(instr: Instruction, state: ImageState) -> list[str]:
    if instr.json:
        return list(instr.args)
    return [*state.shell, instr.args[0] if instr.args else ""]


def apply(instr: Instruction, state: ImageState, flags: StageFlags) -> str:
    """Apply ``instr`` to ``state.config``; returns the history ``created_by`` text."""
    kw = instr.keyword
    cfg = state.config
    if kw == "ENV":
        pairs = instr.pairs()
        for key, value in pairs:
            state.set_env(key, value)
        return "ENV " + " ".join(f"{k}={v}" for k, v in pairs)
    if kw == "LABEL":
        pairs = instr.pairs()
        labels = dict(cfg.get("Labels") or {})
        for key, value in pairs:
            labels[key] = value
        cfg["Labels"] = labels
        return "LABEL " + " ".join(f"{k}={v}" for k, v in pairs)
    if kw == "CMD":
        cmd = _command(instr, state)
        cfg["Cmd"] = cmd
        flags.cmd_set = True
        return f"CMD {_go_list(cmd)}"
    if kw == "ENTRYPOINT":
        entrypoint = _command(instr, state) if (instr.args or not instr.json) else []
        cfg["Entrypoint"] = entrypoint or None
        if not flags.cmd_set:
            cfg["Cmd"] = None
        return f"ENTRYPOINT {_go_list(entrypoint)}"
    if kw == "EXPOSE":
        ports = exposed_ports(instr.args)
        exposed = dict(cfg.get("ExposedPorts") or {})
        for port in ports:
            exposed[port] = {}
        cfg["ExposedPorts"] = exposed
        return "EXPOSE map[" + " ".join(f"{p}:{{}}" for p in sorted(exposed)) + "]"
    if kw == "VOLUME":
        volumes = dict(cfg.get("Volumes") or {})
        for path in instr.args:
            volumes[path] = {}
        cfg["Volumes"] = volumes
        return "VOLUME [" + " ".join(instr.args) + "]"
    if kw == "USER":
        cfg["User"] = instr.args[0]
        return f"USER {instr.args[0]}"
    if kw == "WORKDIR":
        cfg["WorkingDir"] = workdir_path(state.workdir, instr.args[0])
        return f"WORKDIR {cfg['WorkingDir']}"
    if kw == "STOPSIGNAL":
        from engine.runtime.signals import parse_signal

        try:
            parse_signal(instr.args[0])
        except InvalidArgument as exc:
            raise BuildError(str(exc)) from None
        except ValueError:  # a number in digits other than ASCII's ("²")
            raise BuildError(f"Invalid signal: {instr.args[0]}") from None
        cfg["StopSignal"] = instr.args[0]
        return f"STOPSIGNAL {instr.args[0]}"
    if kw == "HEALTHCHECK":
        check = healthcheck_config(instr)
        health: dict[str, object] = {"Test": list(check.test)}
        for field_name, nanos in (
            ("Interval", check.interval),
            ("Timeout", check.timeout),
            ("StartPeriod", check.start_period),
            ("StartInterval", check.start_interval),
            ("Retries", check.retries),
        ):
            if nanos:
                health[field_name] = nanos
        cfg["Healthcheck"] = health
        return "HEALTHCHECK " + " ".join(instr.original.split()[1:])
    if kw == "SHELL":
        cfg["Shell"] = list(instr.args)
        return "SHELL [" + " ".join(instr.args) + "]"
    if kw == "ONBUILD":
        triggers = list(cfg.get("OnBuild") or [])
        triggers.append(instr.onbuild_expression)
        cfg["OnBuild"] = triggers
        return f"ONBUILD {instr.onbuild_expression}"
    if kw == "MAINTAINER":
        state.meta["author"] = instr.args[0]
        return f"MAINTAINER {instr.args[0]}"
    if kw == "ARG":
        return "ARG " + " ".join(instr.args)
    raise BuildError(f"{kw} is not a metadata instruction")
