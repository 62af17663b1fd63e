"""``rename``: a new name for a container, running or not; the old name is free at once."""

from __future__ import annotations

from ..errors import Conflict, InvalidArgument
from ..paths import Layout
from ..store.containers import ContainerStore
from .names import validate_name


def rename(layout: Layout, cid: str, new_name: str) -> None:
    store = ContainerStore(layout)
    if not new_name:
        raise InvalidArgument("Neither old nor new names may be empty")
    name = validate_name(new_name)
    with store.names_lock():
        cfg = store.config(cid)
        if cfg.name == name:
            raise Conflict("Renaming a container with the same name as its current name")
        store.reserve_name(name, cid)
        old = cfg.name
        with store.lock(cid):
            cfg = store.config(cid)
            cfg.name = name
            store.save_config(cfg)
        store.release_name(old, cid)
    from ..store.eventlog import emit

    emit(layout, "container", "rename", cid, {"oldName": "/" + old, "name": name}, config=cfg)
