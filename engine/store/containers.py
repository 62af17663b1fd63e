"""Containers on disk: one directory each, a name index, lookup by name / ID / unique ID prefix."""

from __future__ import annotations

import os
from _thread import get_ident

from engine import faults
from engine.errors import Conflict, ContainerNotFound, CorruptRecord
from engine.fsutil import atomic_write_json, locked, read_json, read_json_keyed
from engine.lean.tools import contextmanager, suppress
from engine.model.config import ContainerConfig, ContainerState, MountConfig, RestartPolicy
from engine.paths import Layout
from engine.store import tmp as tmpfiles

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, TypeVar

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


#: The contents of state files found well shaped (hashes of their bytes): a state says nothing of its path,
#: and the states of containers that never ran are the same bytes, so ps -a checks such a state once.
_STATES_CHECKED: set[int | None] = set()


def _state_checked(key: int | None) -> None:
    if len(_STATES_CHECKED) >= 20000:
        _STATES_CHECKED.clear()
    _STATES_CHECKED.add(key)


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


def _listed_problem(d: Any, cid: str) -> str | None:
    """What makes a config's listed fields unusable (``ContainerStore.listed``); None when they fit."""
    if type(d) is not dict:
        return "not an object"
    for key in ("id", "name", "created", "image", "image_id"):
        if type(d.get(key)) is not str:
            return f"{key!r} is missing" if key not in d else f"{key!r}: not a string"
    if d["id"] != cid:
        return f"it holds container {d['id'][:12]!r}, not {cid[:12]!r}"
    for key in ("entrypoint", "cmd"):
        v = d.get(key)
        if v is not None and (type(v) is not list or not all(type(a) is str for a in v)):
            return f"{key!r}: not a list of strings"
    labels = d.get("labels", {})
    if type(labels) is not dict or not all(type(v) is str for v in labels.values()):
        return "'labels': not an object of strings"
    ports = d.get("ports", [])
    if type(ports) is not list or not all(type(p) is dict for p in ports):
        return "'ports': not a list of objects"
    networks = d.get("networks", {})
    if type(networks) is not dict or not all(type(n) is dict for n in networks.values()):
        return "'networks': not an object of objects"
    if type(d.get("tty", False)) is not bool:
        return "'tty': not a boolean"
    return None


class ContainerStore:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.dir = layout.containers
        self.names_dir = os.path.join(self.dir, "names")
        self.ids_dir = os.path.join(self.dir, "ids")
        self.old_names_path = os.path.join(self.dir, "names.json")  # the index of roots made before names/

    # -- paths ---------------------------------------------------------------------
    def path(self, cid: str, *parts: str) -> str:
        return os.path.join(self.dir, cid, *parts)

    def _file(self, cid: str, name: str) -> str:
        """``path(cid, name)`` for an ID and a file name, as a listing asks it for every container."""
        return f"{self.dir}/{cid}/{name}"

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
            _HELD.add(("names", get_ident()))
            try:
                yield
            finally:
                _HELD.discard(("names", get_ident()))

    # -- records ---------------------------------------------------------------------
    def entries(self) -> list[str]:
        """The names in containers/ that are container IDs, without looking into each (a half-made one's
        records say ContainerNotFound when read): for listings, which read every record anyway."""
        try:
            return [n for n in os.listdir(self.dir) if len(n) == 64]
        except FileNotFoundError:
            return []

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

    def listed(self, cid: str) -> dict[str, Any]:
        """What a listing shows of the container's config, as stored: ``name``, ``image``, ``image_id``,
        ``created``, ``entrypoint``, ``cmd``, ``labels``, ``ports``, ``networks``, ``tty``, each checked (a
        damaged one is CorruptRecord, as ``config`` says); the rest of the config is neither checked nor
        made into records (``config`` does that, for whoever uses it)."""
        path = self._file(cid, "config.json")
        d, _key = read_json_keyed(path)
        if d is None:
            raise ContainerNotFound(f"No such container: {cid}")
        problem = _listed_problem(d, cid)
        if problem:
            raise CorruptRecord(path, problem)
        return d

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
        path = self._file(cid, "state.json")
        d, key = read_json_keyed(path)
        if d is None:
            if not os.path.isdir(self.path(cid)):
                raise ContainerNotFound(f"No such container: {cid}")
            raise CorruptRecord(path, "missing")
        if key not in _STATES_CHECKED:
            from engine.model.shape import problems_of

            problem = problems_of(ContainerState, d)
            if problem is None and d.get("status", "created") not in _STATUSES:
                problem = f"'status': unknown status {str(d['status'])[:20]!r}"
            if problem:
                raise CorruptRecord(path, problem)
            _state_checked(key)
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
    # The name index is a directory, ``containers/names/``, with one entry per name: a symbolic link NAME ->
    # ``../ID``, made or replaced atomically (one symlink(2), or a rename over it) under the names lock. A
    # name is looked up, reserved and released with a few system calls however many containers there are.
    # An entry counts only while its container exists and its config says that name: a create, rename or
    # rm killed halfway leaves an entry that does not count (free to take; the sweep removes it), never a
    # container whose name has no entry (a create reserves before the container appears, a rename reserves
    # the new name before its config changes, an rm retires the container before releasing its name). A
    # missing index (a root made before it, where ``names.json`` held the names) or a damaged one is rebuilt
    # from the containers' own records.

    def _entry(self, name: str) -> str:
        return os.path.join(self.names_dir, name)

    def _index(self) -> str:
        """The index directory, rebuilt from the records first when it is missing or not a directory."""
        if not os.path.isdir(self.names_dir):
            if self._names_locked():
                self._rebuild_names()
            else:
                with self.names_lock():
                    if not os.path.isdir(self.names_dir):
                        self._rebuild_names()
        return self.names_dir

    def _names_locked(self) -> bool:
        return ("names", get_ident()) in _HELD

    def _rebuild_names(self) -> None:
        """Write the index from every container's config, whole, by one rename (the caller holds the names
        lock); what stood in its place (a damaged index, the older ``names.json``) goes to the quarantine."""
        from engine.store.quarantine import keep

        made = tmpfiles.make_dir(self.layout.tmp, "names", 0o755)
        for name, cid in self.names_from_records().items():
            os.symlink("../" + cid, os.path.join(made, name))
        faults.point("names rebuild")
        if os.path.lexists(self.names_dir):
            keep(self.layout, self.names_dir)
        os.rename(made, self.names_dir)
        if os.path.lexists(self.old_names_path):
            os.unlink(self.old_names_path)

    def _target(self, name: str) -> str | None:
        """The ID the entry for ``name`` points at (whether it counts or not); None when there is none; raise
        CorruptRecord when the entry is not a link to a container's directory."""
        try:
            target = os.readlink(self._entry(name))
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:  # EINVAL: not a link
            if e.errno == 36:  # ENAMETOOLONG: no such name
                return None
            raise CorruptRecord(self._entry(name), f"not a link to a container ({e.strerror})") from None
        cid = target[3:]
        if not (target.startswith("../") and len(cid) == 64 and all(c in "0123456789abcdef" for c in cid)):
            raise CorruptRecord(self._entry(name), f"a link to {target[:80]!r}, not to a container")
        return cid

    def _holds(self, cid: str, name: str) -> bool:
        """Does container ``cid`` exist and its config say ``name``? (A damaged config: it exists, and keeps
        the name its entry gives it.)"""
        try:
            d = read_json(self.path(cid, "config.json"))
        except CorruptRecord:
            return os.path.isdir(self.path(cid))
        return isinstance(d, dict) and d.get("name") == name

    def owner(self, name: str) -> str | None:
        """The container that holds ``name``, or None: an O(1) look-up in the index (a damaged entry is
        answered from the records)."""
        if not name or "/" in name or "\0" in name or name.startswith("."):
            return None
        self._index()
        try:
            cid = self._target(name)
        except CorruptRecord:
            return self.names_from_records().get(name)
        return cid if cid is not None and self._holds(cid, name) else None

    def taken(self, name: str) -> bool:
        return self.owner(name) is not None

    def names(self) -> dict[str, str]:
        """name -> ID of every container (reads the whole index: for listings and the sweep, never on a
        one-container path). Entries that do not count are left out; a damaged index is answered from the
        records (``system check --repair`` rebuilds it)."""
        index = self._index()
        if self.names_damaged():
            return self.names_from_records()
        held: dict[str, str] = {}
        for name in os.listdir(index):
            if name.startswith("."):
                continue
            with suppress(CorruptRecord):
                cid = self._target(name)
                if cid is not None and self._holds(cid, name):
                    held[name] = cid
        return held

    def names_damaged(self) -> bool:
        """Is the index unusable: not a directory, or an entry that is not a link to a container?"""
        if not os.path.isdir(self.names_dir):
            return os.path.lexists(self.names_dir)
        for name in os.listdir(self.names_dir):
            if name.startswith("."):
                continue
            try:
                self._target(name)
            except CorruptRecord:
                return True
        return False

    def rebuild_names(self) -> None:
        """``system check --repair``: the index written again from the records (caller holds names_lock)."""
        self._rebuild_names()

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
        """Take ``name`` for ``cid`` (caller holds names_lock): Conflict when another container holds it."""
        self._index()
        try:
            current = self._target(name)
        except CorruptRecord:
            current = ""  # a damaged entry: replaced, unless the records give the name to another container
            owner = self.names_from_records().get(name)
            if owner and owner != cid:
                raise name_conflict(name, owner) from None
        if current == cid:
            return
        if current and self._holds(current, name):
            raise name_conflict(name, current)
        faults.point("name reserve")
        if current is None:
            os.symlink("../" + cid, self._entry(name))
            return
        tmp = self._entry(f".tmp-{os.getpid()}-{os.urandom(6).hex()}~")
        os.symlink("../" + cid, tmp)
        try:
            os.replace(tmp, self._entry(name))
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def release_name(self, name: str, cid: str) -> None:
        """Drop ``name``'s entry if it is ``cid``'s (caller holds names_lock)."""
        try:
            current = self._target(name)
        except CorruptRecord:
            current = cid  # a damaged entry: dropped (the records still say who holds the name)
        if current == cid:
            faults.point("name release")
            with suppress(FileNotFoundError):
                os.unlink(self._entry(name))

    def set_names(self, held: dict[str, str]) -> list[str]:
        """Make the index hold exactly ``held`` (the sweep; caller holds names_lock), but for damaged entries;
        the names changed."""
        index = self._index()
        changed = []
        for name in os.listdir(index):
            if name.startswith(".tmp-"):
                with suppress(FileNotFoundError):
                    os.unlink(os.path.join(index, name))
                continue
            try:
                cid = self._target(name)
            except CorruptRecord:
                continue  # damage, not a leftover: ``system check`` reports it, ``--repair`` rebuilds
            if held.get(name) != cid:
                with suppress(FileNotFoundError):
                    os.unlink(self._entry(name))
                changed.append(name)
        for name, cid in held.items():
            if not os.path.lexists(self._entry(name)):
                os.symlink("../" + cid, self._entry(name))
                if name not in changed:
                    changed.append(name)
        return changed

    # -- the ID index ------------------------------------------------------------------
    # ``containers/ids/<first two hex digits>/<ID>``, a symbolic link to ``../../<ID>`` per container, so that
    # an ID prefix is matched by listing one small directory (N/256 entries) instead of all of containers/.
    # The entry is made before the container's directory appears and removed after it is gone (both under the
    # names lock), so the index holds every container; an entry whose container is gone does not count (the
    # sweep removes it). A missing index (a root made before it) is rebuilt from containers/.

    def _bucket(self, prefix: str) -> str:
        return os.path.join(self.ids_dir, prefix[:2])

    def _id_index(self) -> str:
        if not os.path.isdir(self.ids_dir):
            if self._names_locked():
                self._rebuild_ids()
            else:
                with self.names_lock():
                    if not os.path.isdir(self.ids_dir):
                        self._rebuild_ids()
        return self.ids_dir

    def _rebuild_ids(self) -> None:
        """The ID index written from containers/, whole, by one rename (the caller holds the names lock)."""
        made = tmpfiles.make_dir(self.layout.tmp, "ids", 0o755)
        for cid in self.ids():
            os.makedirs(os.path.join(made, cid[:2]), exist_ok=True)
            os.symlink("../../" + cid, os.path.join(made, cid[:2], cid))
        faults.point("ids rebuild")
        if os.path.lexists(self.ids_dir):
            from engine.store.quarantine import keep

            keep(self.layout, self.ids_dir)
        os.rename(made, self.ids_dir)

    def add_id(self, cid: str) -> None:
        """Enter a container about to appear (caller holds the names lock)."""
        self._id_index()
        bucket = self._bucket(cid)
        faults.point("id add")
        with suppress(FileExistsError):
            os.mkdir(bucket, 0o755)
        with suppress(FileExistsError):
            os.symlink("../../" + cid, os.path.join(bucket, cid))

    def drop_id(self, cid: str) -> None:
        """Forget a container that is gone (caller holds the names lock)."""
        faults.point("id drop")
        with suppress(FileNotFoundError):
            os.unlink(os.path.join(self._bucket(cid), cid))

    def ids_with_prefix(self, prefix: str) -> list[str]:
        """The IDs of the containers whose ID starts with ``prefix`` (hex digits): one bucket's listing for
        a prefix of two digits or more."""
        index = self._id_index()
        if len(prefix) >= 2:
            buckets = [prefix[:2]]
        else:
            try:
                buckets = [b for b in os.listdir(index) if b.startswith(prefix)]
            except FileNotFoundError:
                return []
        out = []
        for b in buckets:
            try:
                entries = os.listdir(os.path.join(index, b))
            except FileNotFoundError:
                continue
            out += [
                cid
                for cid in entries
                if cid.startswith(prefix) and os.path.exists(self.path(cid, "config.json"))
            ]
        return out

    def set_ids(self) -> list[str]:
        """Make the ID index hold exactly the containers there are (the sweep; caller holds names_lock);
        the entries changed."""
        index = self._id_index()
        have = set(self.ids())
        changed = []
        for b in os.listdir(index):
            for cid in os.listdir(os.path.join(index, b)):
                if cid not in have:
                    with suppress(FileNotFoundError):
                        os.unlink(os.path.join(index, b, cid))
                    changed.append(cid)
        for cid in have:
            if not os.path.lexists(os.path.join(self._bucket(cid), cid)):
                self.add_id(cid)
                changed.append(cid)
        return changed

    # -- lookup ----------------------------------------------------------------------
    def resolve(self, ref: str) -> str:
        """Full ID for a name, a full ID or a unique ID prefix (Docker's rules)."""
        ref = ref.strip()
        if not ref:
            raise ContainerNotFound("No such container: ")
        if len(ref) == 64 and os.path.exists(self.path(ref, "config.json")):
            return ref
        name = ref.lstrip("/")
        owner = self.owner(name)
        if owner:
            return owner
        if all(c in "0123456789abcdef" for c in ref):
            matches = self.ids_with_prefix(ref)
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
        self.add_id(cid)
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
        self.drop_id(cid)
        return dead

    def delete_dir(self, cid: str) -> None:
        dead = self.retire_dir(cid)
        if dead is not None:
            tmpfiles.remove_tree(dead)
