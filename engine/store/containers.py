"""Containers on disk: one directory each, a name index, lookup by name / ID / unique ID prefix."""

from __future__ import annotations

import os

from engine.errors import Conflict, ContainerNotFound
from engine.fsutil import atomic_write_json, locked, read_json
from engine.lean.tools import contextmanager
from engine.model.config import ContainerConfig, ContainerState
from engine.paths import Layout
from engine.store import tmp as tmpfiles

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator


def name_conflict(name: str, owner: str) -> Conflict:
    return Conflict(
        f'Conflict. The container name "/{name}" is already in use by container "{owner}". You have to '
        "remove (or rename) that container to be able to reuse that name."
    )


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
            yield

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
        d = read_json(self.path(cid, "config.json"))
        if d is None:
            raise ContainerNotFound(f"No such container: {cid}")
        return ContainerConfig.from_dict(d)

    def save_config(self, cfg: ContainerConfig) -> None:
        atomic_write_json(self.path(cfg.id, "config.json"), cfg.to_dict())

    def state(self, cid: str) -> ContainerState:
        return ContainerState.from_dict(read_json(self.path(cid, "state.json"), {}) or {})

    def save_state(self, cid: str, st: ContainerState) -> None:
        atomic_write_json(self.path(cid, "state.json"), st.to_dict())

    # -- names -----------------------------------------------------------------------
    def names(self) -> dict[str, str]:
        return dict(read_json(self.names_path, {}) or {})

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
        os.rename(made, self.path(cid))

    def retire_dir(self, cid: str) -> str | None:
        """Move the container's directory into the engine's tmp, out of every listing at once; return where
        it went, for the caller to delete (the next start sweeps it if the caller dies first)."""
        src = self.path(cid)
        if not os.path.exists(src):
            return None
        dead = os.path.join(self.layout.tmp, f"{os.getpid()}-deadc-{cid[:12]}-{os.urandom(3).hex()}")
        os.rename(src, dead)
        return dead

    def delete_dir(self, cid: str) -> None:
        dead = self.retire_dir(cid)
        if dead is not None:
            tmpfiles.remove_tree(dead)
