"""Containers on disk: one directory each, a name index, lookup by name / ID / unique ID prefix."""

from __future__ import annotations

import os
from _thread import get_ident

from engine import faults
from engine.errors import Conflict, ContainerNotFound, CorruptRecord
from engine.fsutil import atomic_write_json, locked, read_json, read_json_keyed
from engine.lean.tools import contextmanager
from engine.model.config import ContainerConfig, ContainerState, MountConfig, RestartPolicy
from engine.paths import Layout
from engine.store import tmp as tmpfiles

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import TypeVar

    T = TypeVar("T")


_STATUSES = ("created", "running", "paused", "restarting", "exited", "dead", "removing")
_HELD: set[tuple[str, int]] = set()  # (container, thread) of the container locks this process holds

_CONFIG_RECORDS: dict[str, type] = {"RestartPolicy": RestartPolicy, "MountConfig": MountConfig}


def name_conflict(name: str, owner: str) -> Conflict:
    return Conflict(
        f'Conflict. The container name "/{name}" is already in use by container "{owner}". You have to '
        "remove (or rename) that container to be able to reuse that name."
    )


#: State files whose content was read and found well shaped, by path: the hash of that content's bytes. A
#: file read again with the same bytes is not checked again (the check was most of the cost of listing many
#: containers, and a state file is read twice per container by a listing).
_CHECKED: dict[str, int | None] = {}


def _checked(path: str, key: int | None) -> None:
    if len(_CHECKED) >= 20000:
        _CHECKED.clear()
    _CHECKED[path] = key


#: Records read for a listing of a long-running process (the Engine API service), by path: the file's
#: identity when read (inode, size, mtime and ctime; every write replaces the file) and the record. Shared and
#: read-only: only ``*_snapshot`` hand them out, to callers that change nothing.
_SNAPSHOTS: dict[str, tuple[tuple[int, int, int, int], object]] = {}


def _snapshot(path: str, read: Callable[[], T]) -> T:
    try:
        s = os.stat(path)
    except OSError:
        return read()  # gone or unreadable: ``read`` says how
    key = (s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns)
    hit = _SNAPSHOTS.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]  # type: ignore[return-value]
    record = read()  # replaced meanwhile: kept under the older key, so read again next time
    if len(_SNAPSHOTS) >= 20000:
        _SNAPSHOTS.clear()
    _SNAPSHOTS[path] = (key, record)
    return record


class ContainerStore:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.dir = layout.containers
        self.names_path = os.path.join(self.dir, "names.json")

    # -- paths ---------------------------------------------------------------------
    def path(self, cid: str, *parts: str) -> str:
        return os.path.join(self.dir, cid, *parts)

    def log_path(self, cid: str) -> str:
        return self.path(cid, f"{cid}-json.log")

    # -- locks -----------------------------------------------------------------------
    @contextmanager
    def lock(self, cid: str) -> Iterator[None]:
        with locked(self.layout.lock("c-" + cid[:32])):
            _HELD.add((cid, get_ident()))
            try:
                yield
            finally:
                _HELD.discard((cid, get_ident()))

    @contextmanager
    def names_lock(self) -> Iterator[None]:
        with locked(self.layout.lock("names")):
            yield

    # -- records ---------------------------------------------------------------------
    def ids(self) -> list[str]:
        try:
            return [
                n
                for n in os.listdir(self.dir)
                if len(n) == 64 and os.path.exists(self.path(n, "config.json"))
            ]
        except FileNotFoundError:
            return []

    def config(self, cid: str) -> ContainerConfig:
        """The container's stored config; ContainerNotFound when there is none, CorruptRecord (naming the
        file) when it is unreadable or not shaped like a config."""
        path = self.path(cid, "config.json")
        d, key = read_json_keyed(path)
        if d is None:
            raise ContainerNotFound(f"No such container: {cid}")
        if _CHECKED.get(path) != key:
            from engine.model.shape import problems_of

            problem = problems_of(ContainerConfig, d, _CONFIG_RECORDS)
            if problem is None and d["id"] != cid:
                problem = f"it holds container {str(d['id'])[:12]!r}, not {cid[:12]!r}"
            if problem:
                raise CorruptRecord(path, problem)
            _checked(path, key)
        return ContainerConfig.from_dict(d)

    def config_snapshot(self, cid: str) -> ContainerConfig:
        """``config``, shared with later calls while the file is unchanged: the caller must change nothing
        in it (a listing of a long-running process)."""
        return _snapshot(self.path(cid, "config.json"), lambda: self.config(cid))

    def state_snapshot(self, cid: str) -> ContainerState:
        """``state``, shared like ``config_snapshot``'s records."""
        return _snapshot(self.path(cid, "state.json"), lambda: self.state(cid))

    def save_config(self, cfg: ContainerConfig) -> None:
        atomic_write_json(self.path(cfg.id, "config.json"), cfg.to_dict())

    def state(self, cid: str) -> ContainerState:
        """The container's state. A state.json that is missing, unreadable or misshapen is rebuilt from what
        runs (the container's processes, found by their cgroup; its supervisor is PID 1's parent), the
        damaged file kept in the quarantine: a running container whose state was lost can still be stopped."""
        try:
            return self.read_state(cid)
        except CorruptRecord as damaged:
            if (cid, get_ident()) in _HELD:
                return self._rebuild_state(cid, damaged)
            with self.lock(cid):
                try:
                    return self.read_state(cid)
                except CorruptRecord as again:
                    return self._rebuild_state(cid, again)

    def read_state(self, cid: str) -> ContainerState:
        """The state as stored: CorruptRecord when it is missing, unreadable or misshapen (no rebuild)."""
        path = self.path(cid, "state.json")
        d, key = read_json_keyed(path)
        if d is None:
            if not os.path.isdir(self.path(cid)):
                raise ContainerNotFound(f"No such container: {cid}")
            raise CorruptRecord(path, "missing")
        if _CHECKED.get(path) != key:
            from engine.model.shape import problems_of

            problem = problems_of(ContainerState, d)
            if problem is None and d.get("status", "created") not in _STATUSES:
                problem = f"'status': unknown status {str(d['status'])[:20]!r}"
            if problem:
                raise CorruptRecord(path, problem)
            _checked(path, key)
        return ContainerState.from_dict(d)

    def _rebuild_state(self, cid: str, damaged: CorruptRecord) -> ContainerState:
        """A new state for ``cid`` from its processes (the caller holds the container's lock)."""
        import time

        from engine.humanize import rfc3339
        from engine.kernel import procinfo
        from engine.store.quarantine import keep

        if not os.path.isdir(self.path(cid)):
            raise ContainerNotFound(f"No such container: {cid}")
        if os.path.lexists(damaged.path):
            keep(self.layout, damaged.path)
        init = procinfo.namespace_init(procinfo.pids_in_cgroup(cid))
        st = ContainerState()
        lost = f"state.json was damaged ({damaged.reason})"
        if init:
            supervisor = int(procinfo.status_field(init, "PPid") or 0)
            st.status = "running"
            st.pid, st.pid_start = init, procinfo.start_time(init)
            st.shim_pid, st.shim_start = supervisor, procinfo.start_time(supervisor)
            st.boot_id = procinfo.boot_id()
            st.started_at = rfc3339(procinfo.started_at(init) or time.time())
            st.error = f"{lost}; rebuilt from its running processes"
        elif os.path.exists(self.log_path(cid)):
            st.status, st.exit_code = "exited", 255
            st.finished_at = rfc3339(time.time())
            st.error = f"{lost}; it was not running and its exit status is lost"
        else:
            st.error = f"{lost}; it had never run"
        self.save_state(cid, st)
        return st

    def save_state(self, cid: str, st: ContainerState) -> None:
        atomic_write_json(self.path(cid, "state.json"), st.to_dict())

    # -- names -----------------------------------------------------------------------
    def names(self) -> dict[str, str]:
        """name -> ID. A damaged index is rebuilt from the containers' own records (the next write of the
        index stores the rebuilt one; ``system check --repair`` at once)."""
        names = self._stored_names()
        return self.names_from_records() if names is None else names

    def _stored_names(self) -> dict[str, str] | None:
        """The index as stored; None when it is damaged."""
        try:
            names = read_json(self.names_path, {})
        except CorruptRecord:
            return None
        if not isinstance(names, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in names.items()
        ):
            return None
        return names

    def names_damaged(self) -> bool:
        return self._stored_names() is None

    def names_from_records(self) -> dict[str, str]:
        """name -> ID read from every container's config (the oldest keeps a name two configs claim)."""
        found: list[tuple[str, str, str]] = []
        for cid in self.ids():
            try:
                cfg = self.config(cid)
            except (ContainerNotFound, CorruptRecord):
                continue
            found.append((cfg.created, cfg.name, cid))
        held: dict[str, str] = {}
        for _created, name, cid in sorted(found):
            held.setdefault(name, cid)
        return held

    def reserve_name(self, name: str, cid: str) -> None:
        """Take ``name`` for ``cid`` (caller holds names_lock)."""
        names = self.names()
        owner = names.get(name)
        if owner and owner != cid and os.path.exists(self.path(owner, "config.json")):
            raise name_conflict(name, owner)
        names[name] = cid
        atomic_write_json(self.names_path, names)

    def release_name(self, name: str, cid: str) -> None:
        names = self.names()
        if names.get(name) == cid:
            del names[name]
            atomic_write_json(self.names_path, names)

    # -- lookup ----------------------------------------------------------------------
    def resolve(self, ref: str) -> str:
        """Full ID for a name, a full ID or a unique ID prefix (Docker's rules)."""
        ref = ref.strip()
        if not ref:
            raise ContainerNotFound("No such container: ")
        if len(ref) == 64 and os.path.exists(self.path(ref, "config.json")):
            return ref
        name = ref.lstrip("/")
        owner = self.names().get(name)
        if owner and os.path.exists(self.path(owner, "config.json")):
            return owner
        if all(c in "0123456789abcdef" for c in ref):
            matches = [i for i in self.ids() if i.startswith(ref)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise ContainerNotFound(f"multiple IDs found with provided prefix: {ref}")
        raise ContainerNotFound(f"No such container: {ref}")

    # -- create/delete -------------------------------------------------------------------
    def build_dir(self, cfg: ContainerConfig, st: ContainerState) -> str:
        """Make a new container's directory (config, state, an empty writable layer) in the engine's tmp and
        return it: ``install_dir`` renames it into place whole; a process killed before leaves only a
        temporary that the sweep of dead processes' work removes."""
        made = tmpfiles.make_dir(self.layout.tmp, "newc", 0o700)
        try:
            for d in ("upper", "work", "rootfs"):
                os.mkdir(os.path.join(made, d), 0o755)
            atomic_write_json(os.path.join(made, "state.json"), st.to_dict())
            atomic_write_json(os.path.join(made, "config.json"), cfg.to_dict())
        except BaseException:
            tmpfiles.remove_tree(made)
            raise
        return made

    def install_dir(self, made: str, cid: str) -> None:
        faults.point("container install")
        os.rename(made, self.path(cid))

    def retire_dir(self, cid: str) -> str | None:
        """Move the container's directory into the engine's tmp, out of every listing at once; return where
        it went, for the caller to delete (the next start sweeps it if the caller dies first)."""
        src = self.path(cid)
        if not os.path.exists(src):
            return None
        dead = os.path.join(self.layout.tmp, f"{os.getpid()}-deadc-{cid[:12]}-{os.urandom(3).hex()}")
        faults.point("container retire")
        os.rename(src, dead)
        return dead

    def delete_dir(self, cid: str) -> None:
        dead = self.retire_dir(cid)
        if dead is not None:
            tmpfiles.remove_tree(dead)
