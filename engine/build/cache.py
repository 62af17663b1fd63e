"""The build cache: ``buildcache.db`` under the engine root (``Layout.build_cache``), from a step's cache key to what it made.

A key (see :func:`engine.build.state.chain_key`) names the parent state plus the step; the record holds only
what the step itself made: the layer it added (if any), the change it made to the container config (see
:mod:`engine.build.delta`: an ``ENV`` line records one variable, never the whole environment), the history
entry it appended and the image author. A record therefore costs the size of its own step, however long the
Dockerfile. Every record also names a ``chain_id`` (the top layer after the step), which the image store's
garbage collector keeps (:func:`pinned_layers`) until the record is pruned.

The records live in an SQLite database, one row per key: a lookup reads one row, whatever the size of the
cache, and parallel builds write their rows in transactions of their own. It is a cache: a record that
cannot be read is dropped, and a database that cannot be opened is set aside and started afresh, each with a
warning (:attr:`BuildCache.warnings`); neither ever stops a build. New records are written once, at the end
of the build (:meth:`BuildCache.flush`). ``prune`` drops records: all of them, or only those whose layers no
image uses.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time

from engine.lean import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Iterator
    from typing import Any

    from engine.paths import Layout
    from engine.store.imagestore import ImageStore

__all__ = ["BuildCache", "CachePruneReport", "pinned_layers"]

OLD_CACHE_FILE = "buildcache.json"  # the format before records were kept one per row; dropped when seen
SCHEMA_VERSION = 1
BUSY_TIMEOUT = 60.0  # seconds another build's write transaction may keep us waiting

_SCHEMA = """
CREATE TABLE IF NOT EXISTS steps (
    key TEXT PRIMARY KEY,
    chain_id TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    record TEXT NOT NULL
) WITHOUT ROWID
"""


class CachePruneReport:
    """What ``builder prune`` removed: how many cache records, how many bytes of layers."""

    def __init__(self, deleted: int = 0, reclaimed: int = 0) -> None:
        self.deleted = deleted
        self.reclaimed = reclaimed


class BuildCache:
    """The cache of one engine root. :meth:`get` reads one record; :meth:`put` collects; :meth:`flush`
    writes what was collected."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.path = layout.build_cache
        self.warnings: list[str] = []
        self._db: sqlite3.Connection | None = None
        self._new: dict[str, dict[str, Any]] = {}

    # -- the database ---------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.layout.root, OLD_CACHE_FILE))
            try:
                self._db = _open(self.path)
            except sqlite3.DatabaseError as exc:
                self._reset(exc)
                self._db = _open(self.path)
        return self._db

    def _reset(self, exc: Exception) -> None:
        """Set a database that cannot be read aside and start an empty one."""
        self.warnings.append(f"the build cache could not be read ({exc}); it was emptied")
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path + suffix)

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run a read; a damaged database is emptied (with a warning) and reads as empty."""
        try:
            return self._connect().execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            self._reset(exc)
            return []

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- records ----------------------------------------------------------------------------------------
    def get(self, key: str) -> dict[str, Any] | None:
        found = self._new.get(key)
        if found is not None:
            return found
        rows = self._query("SELECT record FROM steps WHERE key = ?", (key,))
        if not rows:
            return None
        try:
            record = jsonio.loads(rows[0][0])
        except (TypeError, ValueError):
            record = None
        if not isinstance(record, dict):
            self.warnings.append(f"a damaged build cache record was dropped ({key})")
            self._delete([key])
            return None
        return record

    def put(self, key: str, entry: dict[str, Any]) -> None:
        entry = dict(entry)
        entry.setdefault("created", time.time())
        self._new[key] = entry

    def flush(self) -> None:
        """Write the records collected since the last flush, in one transaction."""
        if not self._new:
            return
        rows = [
            (key, str(entry.get("chain_id") or ""), float(entry["created"]), jsonio.dumps(entry))
            for key, entry in self._new.items()
        ]
        try:
            with self._transaction() as db:
                db.executemany(
                    "INSERT OR REPLACE INTO steps (key, chain_id, created, record) VALUES (?, ?, ?, ?)", rows
                )
        except sqlite3.DatabaseError as exc:
            self._reset(exc)
            self.warnings.append("this build's steps were not cached")
        self._new = {}

    def entries(self) -> dict[str, dict[str, Any]]:
        """Every stored record by key (for tests and inspection; a build never reads the whole cache)."""
        out: dict[str, dict[str, Any]] = {}
        for key, text in self._query("SELECT key, record FROM steps"):
            with contextlib.suppress(TypeError, ValueError):
                out[key] = jsonio.loads(text)
        return out

    def _delete(self, keys: list[str]) -> None:
        with contextlib.suppress(sqlite3.DatabaseError), self._transaction() as db:
            db.executemany("DELETE FROM steps WHERE key = ?", [(k,) for k in keys])

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # -- pruning ----------------------------------------------------------------------------------------
    def prune(
        self,
        store: ImageStore,
        all: bool = False,
        older_than: float | None = None,
        kinds: Collection[str] | None = None,
        keep_storage: int | None = None,
    ) -> CachePruneReport:
        """Drop cache records and the layers only they kept, and the ``RUN --mount=type=cache``
        directories no build is using (engine.build.cachemounts).

        ``keep_storage`` (bytes, ``--keep-storage``) spares the newest of the records that would go, as
        many as fit in that many bytes of their layers (the cache mounts are pruned as without it).

        Without ``all`` only the records whose layer no image uses go (Docker's "dangling" cache); with it,
        every record. Cache mounts are never used by an image, so both remove them (as BuildKit does with
        its ``exec.cachemount`` records). ``older_than`` (seconds) keeps what was made (a cache mount: last
        used) more recently than that. ``kinds`` limits pruning to BuildKit's record types: ``regular``
        (the steps' records) and ``exec.cachemount``.
        """
        report = CachePruneReport()
        if kinds is None or "exec.cachemount" in kinds:
            from engine.build.cachemounts import prune as prune_mounts

            mounts = prune_mounts(self.layout.root, self.layout.tmp, older_than)
            report.deleted += mounts.deleted
            report.reclaimed += mounts.reclaimed
        if kinds is not None and "regular" not in kinds:
            return report
        used = _layers_in_images(store) if not all else set()
        now = time.time()
        doomed = [
            key
            for key, chain, created in self._query("SELECT key, chain_id, created FROM steps")
            if not (older_than is not None and now - float(created or 0) < older_than)
            and (all or (chain and chain not in used))
        ]
        if keep_storage is not None and doomed:
            doomed = self._beyond(store, doomed, keep_storage)
        before = store.layer_bytes()
        if doomed:
            self._delete(doomed)
            report.deleted += len(doomed)
        self.close()
        store.recover()
        report.reclaimed += max(0, before - store.layer_bytes())
        return report

    def _beyond(self, store: ImageStore, keys: list[str], keep: int) -> list[str]:
        """Of ``keys``, those past the newest records whose layers fit in ``keep`` bytes."""
        from engine.errors import StoreError

        wanted = set(keys)
        rows = [r for r in self._query("SELECT key, chain_id, created FROM steps") if r[0] in wanted]
        rows.sort(key=lambda r: float(r[2] or 0), reverse=True)
        kept_bytes, counted, out = 0, set(), []
        for key, chain, _created in rows:
            size = 0
            if chain and chain not in counted:
                with contextlib.suppress(StoreError):
                    size = store.layers.get(chain).size
            if kept_bytes + size <= keep:
                kept_bytes += size
                counted.add(chain)
            else:
                out.append(key)
        return out


def pinned_layers(path: str) -> set[str]:
    """The layers the build cache at ``path`` points at (the garbage collector keeps them)."""
    try:
        db = _open(path)
    except sqlite3.DatabaseError:
        return set()  # an unreadable cache pins nothing: the builder finds its layers gone and rebuilds
    try:
        return {row[0] for row in db.execute("SELECT DISTINCT chain_id FROM steps WHERE chain_id != ''")}
    except sqlite3.DatabaseError:
        return set()
    finally:
        db.close()


def _open(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
    try:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version != SCHEMA_VERSION:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute(_SCHEMA)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        db.close()
        raise
    return db


def _layers_in_images(store: ImageStore) -> set[str]:
    used: set[str] = set()
    for entry in store.catalog.entries():
        used.update(entry.layers)
    return used
