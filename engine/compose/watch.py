"""``compose watch``: each service's ``develop.watch`` rules followed on the host, as Docker Compose does.

A rule is ``{action, path, target, ignore, include, initial_sync, exec}``: ``path`` (relative to the project
directory) is watched; a change below it, unless ``ignore`` (.dockerignore patterns relative to ``path``)
or Compose's own list of editors' scratch files excludes it, triggers the action on the service:

- ``sync``: the changed files are copied into the service's running containers at ``target`` (the path
  below ``path`` kept), a deleted one removed there;
- ``sync+restart``: synced, then the containers restarted; ``sync+exec``: synced, then ``exec.command``
  run in each container; ``restart``: the containers restarted;
- ``rebuild``: the service's image built again and its containers recreated from it (the image it replaced
  removed when nothing else uses it, unless ``prune`` is off).

The file watching is the build watcher's (engine.build.watch.ContextWatcher: watchdog's inotify observer,
changes gathered until the tree has been quiet for ``debounce`` seconds, so one save makes one action); the
rebuild is ``compose up --build --no-deps --force-recreate SERVICE``'s.
"""

from __future__ import annotations

import os
import posixpath
import threading

from ..build.dockerignore import Matcher
from ..build.watch import ContextWatcher
from ..errors import BuildError, DockyardError, InvalidArgument
from ..lean.tools import suppress
from . import up as _up

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from ..model.container import Container
    from .project import ComposeProject, Progress

ACTIONS = ("rebuild", "sync", "restart", "sync+restart", "sync+exec")


class Rule:
    """One ``develop.watch`` entry of a service, its path made absolute and its patterns compiled."""

    def __init__(self, service: str, spec: dict[str, Any], base: str) -> None:
        self.service = service
        self.action = str(spec.get("action") or "")
        raw = str(spec.get("path") or "")
        self.path = os.path.normpath(raw if os.path.isabs(raw) else os.path.join(base, raw))
        self.target = str(spec.get("target") or "")
        self.initial_sync = bool(spec.get("initial_sync"))
        self.exec: dict[str, Any] = dict(spec.get("exec") or {})
        where = f"service {service}: develop.watch path {raw}"
        try:
            self.ignore = Matcher([str(p) for p in spec.get("ignore") or []], source=f"{where}: ignore")
            include = [str(p) for p in spec.get("include") or []]
            self.include = Matcher(include, source=f"{where}: include") if include else None
        except BuildError as e:
            raise InvalidArgument(str(e)) from None

    def relative(self, path: str) -> str | None:
        """``path`` below the rule's path (``.`` for the path itself), or None when the rule does not see it:
        outside, ignored, not included, or an editor's scratch file."""
        if path == self.path:
            rel = "."
        elif path.startswith(self.path.rstrip("/") + "/"):
            rel = path[len(self.path.rstrip("/")) + 1 :]
        else:
            return None
        if rel != "." and (scratch(rel) or self.ignore.ignored(rel)):
            return None
        if self.include is not None and rel != "." and not self.include.ignored(rel):
            return None
        return rel

    def destination(self, rel: str) -> str:
        return self.target if rel == "." else posixpath.join(self.target, rel)


def scratch(rel: str) -> bool:
    """Compose's ephemeral files, never acted on: a .git directory, editors' swap, backup and lock files."""
    parts = rel.split("/")
    if ".git" in parts:
        return True
    name = parts[-1]
    return (
        name.endswith(("~", ".swp", ".swx", ".swpx"))
        or name.startswith(".#")
        or (name.startswith("#") and name.endswith("#"))
        or name == "4913"
    )


def rules_of(cp: ComposeProject, services: Iterable[str]) -> list[Rule]:
    """The watch rules of the services, checked as Compose checks them (before anything is watched)."""
    rules: list[Rule] = []
    base = cp.working_dir or os.getcwd()
    for svc in services:
        develop = cp.services[svc].get("develop") or {}
        for spec in develop.get("watch") or []:
            action = spec.get("action")
            if action not in ACTIONS:
                raise InvalidArgument(
                    f"service {svc}: develop.watch action {action!r} is not one of {', '.join(ACTIONS)}"
                )
            if not spec.get("path"):
                raise InvalidArgument(f"service {svc}: develop.watch needs a path for its {action} action")
            if action.startswith("sync") and not str(spec.get("target") or "").startswith("/"):
                raise InvalidArgument(
                    f"service {svc}: develop.watch {action} of {spec['path']} needs an absolute target path "
                    "in the container"
                )
            if action == "rebuild" and not cp.services[svc].get("build"):
                raise InvalidArgument(
                    f"can't watch service {svc!r} with action rebuild without a build context"
                )
            if action == "sync+exec" and not (spec.get("exec") or {}).get("command"):
                raise InvalidArgument(
                    f"service {svc}: develop.watch sync+exec of {spec['path']} needs exec.command"
                )
            rules.append(Rule(svc, spec, base))
    if not rules:
        raise InvalidArgument(
            "none of the selected services is configured for watch, consider setting a 'develop' section"
        )
    return rules


class ProjectWatcher(ContextWatcher):
    """The build watcher's change gathering (``note`` and ``wait``) over the rules' paths: a changed host
    path is kept when some rule sees it."""

    def __init__(self, rules: list[Rule]) -> None:  # no build context: the base's own set-up is not wanted
        self.rules = rules
        self.changed: set[str] = set()
        self.last_change = 0.0
        self.cond = threading.Condition()
        self.observer: object | None = None

    def start(self) -> None:
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.event_type not in ("created", "deleted", "modified", "moved", "closed", "attrib"):
                    return
                if event.is_directory and event.event_type in ("modified", "attrib", "closed"):
                    return
                for raw in (event.src_path, getattr(event, "dest_path", "") or ""):
                    if raw:
                        watcher.note(os.fsdecode(raw))

        observer = Observer()
        scheduled: dict[str, bool] = {}
        for rule in self.rules:
            where, recursive = rule.path, True
            while not os.path.isdir(where):  # a file, or a path still to be made: its nearest directory
                where, recursive = os.path.dirname(where), where != rule.path or not os.path.exists(where)
            if not scheduled.get(where):
                scheduled[where] = recursive
        for where, recursive in scheduled.items():
            observer.schedule(Handler(), where, recursive=recursive)
        observer.daemon = True
        observer.start()
        self.observer = observer

    def relevant(self, path: str) -> str | None:
        path = os.path.abspath(path)
        return path if any(r.relative(path) is not None for r in self.rules) else None


class Watcher:
    """The watch loop over a project (see the module docstring). ``say`` hears Compose's lines ("Watch
    enabled", "Syncing service ..."), ``progress`` the containers' steps, ``build_progress`` the builds."""

    def __init__(
        self,
        cp: ComposeProject,
        services: Iterable[str],
        *,
        say: Callable[[str], None],
        progress: Progress,
        build_progress: Callable[[str, Any], None] | None = None,
        prune: bool = True,
        debounce: float = 0.3,
    ) -> None:
        self.cp = cp
        self.rules = rules_of(cp, services)
        self.say = say
        self.progress = progress
        self.build_progress = build_progress
        self.prune = prune
        self.debounce = debounce

    def run(self, stop: threading.Event) -> None:
        """Watch until ``stop`` is set; an action that fails is reported and the watch goes on."""
        watcher = ProjectWatcher(self.rules)
        watcher.start()
        try:
            initial = [(r, r.path) for r in self.rules if r.initial_sync and r.action.startswith("sync")]
            if initial:
                self.apply(initial)
            self.say("Watch enabled")
            while not stop.is_set():
                changed = watcher.wait(stop, self.debounce)
                if changed is None:
                    break
                self.apply([(r, p) for p in changed for r in self.rules if r.relative(p) is not None])
        finally:
            watcher.stop()

    def apply(self, hits: list[tuple[Rule, str]]) -> None:
        """Each service's actions for the changed paths its rules saw: a rebuild stands for all of them."""
        for svc in self.cp.ordered(sorted({r.service for r, _ in hits})):
            mine = [(r, p) for r, p in hits if r.service == svc]
            try:
                if any(r.action == "rebuild" for r, _ in mine):
                    self.rebuild(svc)
                    continue
                synced = [(r, p) for r, p in mine if r.action.startswith("sync")]
                if synced:
                    self.say(
                        f'Syncing service "{svc}" after {len({p for _, p in synced})} changes were detected'
                    )
                    for c in self.running(svc):
                        sync(self.cp, c, synced)
                for r in _unique(r for r, _ in mine if r.action == "sync+exec"):
                    for c in self.running(svc):
                        run_exec(self.cp, c, r.exec)
                if any(r.action in ("restart", "sync+restart") for r, _ in mine):
                    self.say(f'Restarting service "{svc}" after changes were detected')
                    for c in self.running(svc):
                        self.progress("Container", c.name, "Restarting")
                        self.cp.engine.containers.restart(c.id)
                        self.progress("Container", c.name, "Started")
            except DockyardError as e:
                self.say(f"Error: service {svc}: {e}")
            except OSError as e:  # a file that went away while it was read, say
                self.say(f"Error: service {svc}: {e.strerror}: {e.filename}")

    def running(self, service: str) -> list[Container]:
        return [c for c in self.cp.containers([service]) if c.running]

    def rebuild(self, service: str) -> None:
        self.say(f'Rebuilding service "{service}" after changes were detected...')
        images = self.cp.engine.images
        old = ""
        with suppress(DockyardError):
            old = images.resolve(self.cp.image_name(service))
        new = _up.build_service(self.cp, service, self.build_progress)
        self.say(f'service "{service}" successfully built')
        opts = _up.UpOptions(build=False, no_deps=True, force_recreate=True)
        _up.up(self.cp, [service], opts, self.progress)
        if self.prune and old and old != new:
            with suppress(DockyardError):
                if not images.get(old).tags and not self.cp.engine.containers.users_of_image(old):
                    images.remove(old)


def _unique(rules: Iterable[Rule]) -> list[Rule]:
    out: list[Rule] = []
    for r in rules:
        if r not in out:
            out.append(r)
    return out


def sync(cp: ComposeProject, c: Container, hits: list[tuple[Rule, str]]) -> None:
    """Copy what exists of the changed paths into the container (owned by root, as ``docker cp``), and
    remove there what is gone on the host."""
    import io
    import tarfile

    buf = io.BytesIO()
    gone: list[str] = []
    sent = 0
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for rule, path in hits:
            rel = rule.relative(path)
            if rel is None:
                continue
            dest = rule.destination(rel)
            if not os.path.lexists(path):
                gone.append(dest)
                continue
            _parents(tar, dest, rule.target)
            for host, inside in _walk(rule, path, dest):
                tar.add(host, arcname=inside.lstrip("/"), recursive=False)
                sent += 1
    if sent:
        buf.seek(0)
        cp.engine.containers.put_archive(c.id, "/", buf)
    if gone:
        code = cp.engine.containers.exec_run(c.id, ["rm", "-rf", "--", *gone]).wait()
        if code != 0:
            raise DockyardError(f"cannot remove {', '.join(gone)} in container {c.name}: rm exited {code}")


def _parents(tar: Any, dest: str, target: str) -> None:
    """Directory entries for ``dest``'s parents up to the rule's target, so that a file in a new directory
    lands (the target's own parents are expected to exist)."""
    import tarfile

    parts: list[str] = []
    parent = posixpath.dirname(dest)
    while parent.startswith(target.rstrip("/") + "/") or parent == target:
        parts.append(parent)
        if parent == target:
            break
        parent = posixpath.dirname(parent)
    for d in reversed(parts):
        info = tarfile.TarInfo(d.lstrip("/"))
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        tar.addfile(info)


def _walk(rule: Rule, path: str, dest: str) -> list[tuple[str, str]]:
    """``path`` and, for a directory, what the rule sees below it: (host path, container path)."""
    out = [(path, dest)]
    if os.path.isdir(path) and not os.path.islink(path):
        for top, dirs, files in os.walk(path):
            for name in sorted(dirs) + sorted(files):
                host = os.path.join(top, name)
                rel = rule.relative(host)
                if rel is not None:
                    out.append((host, rule.destination(rel)))
            dirs[:] = [d for d in dirs if rule.relative(os.path.join(top, d)) is not None]
    return out


def run_exec(cp: ComposeProject, c: Container, spec: dict[str, Any]) -> None:
    """``sync+exec``: the rule's ``exec.command`` in the container, as a post_start hook is given."""
    import shlex

    command = spec.get("command")
    cmd = shlex.split(command) if isinstance(command, str) else [str(x) for x in command or []]
    env = spec.get("environment") or {}
    if isinstance(env, dict):
        env = [f"{k}={v}" if v is not None else str(k) for k, v in env.items()]
    code = cp.engine.containers.exec_run(
        c.id, cmd, env=list(env), workdir=str(spec.get("working_dir") or ""), user=str(spec.get("user") or ""),
        privileged=bool(spec.get("privileged")),
    ).wait()  # fmt: skip
    if code != 0:
        raise DockyardError(f"{' '.join(cmd)} exited {code} in container {c.name}")


__all__ = ["Rule", "Watcher", "rules_of", "scratch"]
