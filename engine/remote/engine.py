"""``RemoteEngine``: the surface of ``Engine`` the app uses, over the Engine API (``client.Client``), with the
engine's own records (``mapping``). What needs the engine's files on this machine raises NotAvailable with a
sentence saying so."""

from __future__ import annotations

import contextlib
import os
import threading
import time

from ..errors import BuildError, DockyardError, InvalidArgument
from ..runtime.logindex import LogIndex
from . import mapping
from .client import Client, NotAvailable, TLSOptions
from .streams import Bridge, frames, json_lines, lines_of, raw

TYPE_CHECKING = False
if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Iterator
    from typing import Any

    from ..model.container import Container
    from ..model.image import HistoryEntry, Image, RemovedImage
    from ..model.network import Network
    from ..model.reports import DiskUsage, PruneReport, TopResult
    from ..model.volume import Volume
    from ..registry.events import TransferEvent
    from ..registry.pull import PullResult
    from ..registry.push import PushResult
    from ..registry.search import SearchResult
    from ..runtime.logfile import LogEntry
    from ..stats import StatsRecord
    from ..store.eventlog import Event


#: What the Engine API does not carry, by feature (engine/interface.py's FEATURES).
_NOT_OFFERED = {
    "layers": "the files of each layer stay on the engine's machine",
    "recreate": "the engine's stored options of a container are needed",
    "watch-build": "it watches a directory on this machine",
    "commit-changes": "configuration changes are not sent over the API yet",
    "compose": "compose projects work on the engine's own records, on its machine",
}


def _q(ref: str) -> str:
    from urllib.parse import quote

    return quote(ref, safe="")


class RemoteEngine:
    """The engine of a service at ``host`` (``unix:///PATH``, or ``tcp://HOST:PORT`` with ``tls``). Making one
    asks the service for its version: a host that does not answer is an error at once."""

    def __init__(self, host: str, tls: TLSOptions | None = None) -> None:
        self.client = Client(host, tls)
        self.host = host
        self.root = host  # what the app's top bar names
        self.version = self.client.get("/version") or {}
        self.containers = RemoteContainers(self.client)
        self.images = RemoteImages(self.client)
        self.networks = RemoteNetworks(self.client)
        self.volumes = RemoteVolumes(self.client)

    @property
    def product(self) -> str:
        """The service's engine, by the name its version document gives (``Podman Engine``: podman)."""
        names = [
            str(c.get("Name") or "") for c in self.version.get("Components") or [] if isinstance(c, dict)
        ]
        for name in names:
            if "podman" in name.lower():
                return "podman"
        platform = str((self.version.get("Platform") or {}).get("Name") or "")
        if platform.lower() == "dockyard":
            return "dockyard system service"
        return platform or (names[0] if names else "the service")

    def supports(self, feature: str) -> str | None:
        """None when the service offers ``feature`` (engine/interface.py's FEATURES), else why not: what needs
        the engine's files on the service's machine is not in the Engine API."""
        why = _NOT_OFFERED.get(feature)
        return f"not offered by the Docker Engine API of {self.product} ({why})" if why else None

    def event_offset(self) -> int:
        """Now, in milliseconds since the epoch (the service's event log is not ours to count bytes of):
        :meth:`events` from it sees what happens next, from it less N what happened in the last N ms."""
        return time.time_ns() // 1_000_000

    def events(
        self,
        since_offset: int | None = None,
        timeout: float | None = None,
        filters: dict[str, builtins.list[str]] | None = None,
        since: float | None = None,
        until: float | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> Iterator[Event]:
        """``GET /events``: the service's events as they happen. ``since_offset`` is a time in milliseconds
        (what :meth:`event_offset` gives, less a span to see some of the past); ``timeout`` ends the
        following that many seconds later (0: only what has happened)."""
        query: dict[str, Any] = {}
        if since is not None:
            query["since"] = f"{since:.9f}"
        elif since_offset is not None:
            query["since"] = f"{since_offset / 1e3:.3f}"
        end = until
        if timeout is not None:
            end = time.time() + timeout if end is None else min(end, time.time() + timeout)
        if end is not None:
            query["until"] = f"{end:.9f}"
        if filters:
            import json

            query["filters"] = json.dumps(filters)
        stream = self.client.open("GET", "/events", query, timeout=None)
        watcher = None
        if stop is not None:

            def watch() -> None:
                while not stream.response.isclosed():
                    if stop():
                        stream.close()
                        return
                    time.sleep(0.25)

            watcher = threading.Thread(target=watch, name="dockyard-remote-events", daemon=True)
            watcher.start()
        try:
            for doc in json_lines(stream.readline):
                event = mapping.event(doc)
                if event.type == "container":
                    self.containers.forget(event.id)
                yield event
        finally:
            stream.close()

    def info(self, version: str) -> dict[str, Any]:
        """``GET /info``: the service's info document (``version`` is this client's; the service says its own)."""
        return dict(self.client.get("/info") or {})

    def default_network(self) -> str:
        """The network a container joins when none is named: ``default``, Docker's name for the service's own
        choice (the API does not say which network that is)."""
        return "default"

    def df(self) -> DiskUsage:
        return mapping.disk_usage(self.client.get("/system/df"))

    def search(self, term: str, limit: int = 25) -> builtins.list[SearchResult]:
        from ..registry.search import SearchResult

        docs = self.client.get("/images/search", term=term, limit=limit) or []
        return [
            SearchResult(
                name=d.get("name", ""),
                description=d.get("description", ""),
                stars=int(d.get("star_count") or 0),
                official=bool(d.get("is_official")),
                automated=bool(d.get("is_automated")),
            )
            for d in docs
        ]

    def watch_build(self, *args: Any, **kw: Any) -> None:
        raise NotAvailable(
            "building with --watch", "it watches a directory on this machine", feature="watch-build"
        )


class RemoteContainers:
    def __init__(self, client: Client) -> None:
        self.client = client
        #: Each container listed, by ID: its summary in the list and its record. A container whose summary
        #: is the same at the next list is not inspected again; what is done to it here, and its events
        #: (``RemoteEngine.events``), forget it.
        self.known: dict[str, tuple[dict[str, Any], Container]] = {}
        self.lock = threading.Lock()

    def list(
        self, all: bool = False, filters: dict[str, builtins.list[str]] | None = None
    ) -> builtins.list[Container]:
        """``GET /containers/json``, each container's record made from its summary (the same record as at the
        last list while the summary is the same); what the summary lacks (the command, start and end times,
        PID, restart count...) is read from the container's inspect when first asked for."""
        out = []
        docs = self.client.get("/containers/json", all=all, filters=_filters(filters)) or []
        at = time.time()
        for doc in docs:
            cid = doc["Id"]
            with self.lock:
                seen = self.known.get(cid)
            if seen is not None and seen[0] == doc:
                out.append(seen[1])
                continue
            c = mapping.container_summary(doc, self.get, at)
            with self.lock:
                self.known[cid] = (doc, c)
            out.append(c)
        if all and not filters:
            listed = {d["Id"] for d in docs}
            with self.lock:
                for cid in [k for k in self.known if k not in listed]:
                    del self.known[cid]
        return out

    def forget(self, ref: str) -> None:
        """The next list inspects ``ref`` (an ID, a prefix of one, or a name) again."""
        with self.lock:
            for cid in [k for k, (_, c) in self.known.items() if k.startswith(ref) or c.name == ref]:
                del self.known[cid]

    def keep(self, ref: str) -> None:
        """Before a change made here: the records listed for ``ref`` read now what their summary lacked, so
        they go on saying what the container was before the change (its PID, start time...)."""
        with self.lock:
            listed = [c for k, (_, c) in self.known.items() if k.startswith(ref) or c.name == ref]
        for c in listed:
            mapping.complete(c)

    def get(self, ref: str) -> Container:
        return mapping.container(self.inspect(ref))

    def inspect(self, ref: str, size: bool = False) -> dict[str, Any]:
        """The container's inspect document, as the engine's own (the API's ``ExecIDs`` left out)."""
        doc = dict(self.client.get(f"/containers/{_q(ref)}/json", size=size or None))
        doc.pop("ExecIDs", None)
        return doc

    def resolve(self, ref: str) -> str:
        """The full ID of ``ref`` (an ID, a prefix of one, or a name)."""
        return str(self.inspect(ref)["Id"])

    def config(self, ref: str) -> Any:
        """What the app and the CLI read of the container's stored configuration: ``tty``, ``open_stdin``
        and ``mounts`` (``type``, ``source``: a volume's name or a bind's path, ``destination``), from its
        inspect (the rest of the stored options are the service's)."""
        from types import SimpleNamespace

        doc = self.inspect(ref)
        cfg = doc.get("Config") or {}
        mounts = [
            SimpleNamespace(
                type=str(m.get("Type") or ""),
                source=str(m.get("Name") or m.get("Source") or ""),
                destination=str(m.get("Destination") or ""),
            )
            for m in doc.get("Mounts") or []
        ]
        return SimpleNamespace(tty=bool(cfg.get("Tty")), open_stdin=bool(cfg.get("OpenStdin")), mounts=mounts)

    def logs(
        self,
        ref: str,
        follow_: bool = False,
        tail: int | None = None,
        since: float | None = None,
        until: float | None = None,
        stdout: bool = True,
        stderr: bool = True,
    ) -> Iterator[LogEntry]:
        """``GET /containers/{id}/logs`` with timestamps: the entries as the engine's log gives them, one
        per line."""
        from ..runtime.logfile import LogEntry

        c = self.inspect(ref)
        query: dict[str, Any] = {"follow": follow_, "stdout": stdout, "stderr": stderr, "timestamps": True}
        query["tail"] = "all" if tail is None else tail
        if since:
            query["since"] = f"{since:.9f}"
        if until:
            query["until"] = f"{until:.9f}"
        s = self.client.open("GET", f"/containers/{c['Id']}/logs", query, timeout=None)
        try:
            tty = bool((c.get("Config") or {}).get("Tty")) or "raw-stream" in s.content_type
            chunks = raw(s.read) if tty else frames(s.readexactly)
            for stream, line in lines_of(chunks):
                when, sep, rest = line.partition(b" ")
                if not sep or not when[:4].isdigit():
                    when, rest = b"", line
                yield LogEntry(stream, rest, when.decode())
        finally:
            s.close()

    def exec_run(
        self,
        ref: str,
        cmd: builtins.list[str],
        *,
        env: builtins.list[str] | None = None,
        workdir: str = "",
        user: str = "",
        privileged: bool = False,
        stdin: int | None = None,
        stdout: int | None = None,
        stderr: int | None = None,
        detach: bool = False,
    ) -> RemoteExecProcess:
        """``POST /containers/{id}/exec`` without a terminal, then its start: detached, or on an upgraded
        connection whose frames ``wait()`` writes to ``stdout`` and ``stderr`` (and ``stdin``'s bytes to)."""
        body = {
            "AttachStdin": stdin is not None and not detach,
            "AttachStdout": not detach,
            "AttachStderr": not detach,
            "Tty": False,
            "Cmd": list(cmd),
            "Env": list(env or []),
            "WorkingDir": workdir,
            "User": user,
            "Privileged": privileged,
        }
        exec_id = str(self.client.post(f"/containers/{_q(ref)}/exec", body)["Id"])
        if detach:
            self.client.post(f"/exec/{exec_id}/start", {"Detach": True, "Tty": False})
            return RemoteExecProcess(self.client, exec_id, None, None, None, None)
        sock = self.client.upgrade(f"/exec/{exec_id}/start", {"Detach": False, "Tty": False})
        return RemoteExecProcess(self.client, exec_id, sock, stdin, stdout, stderr)

    def stats(
        self, refs: builtins.list[str] | None = None, interval: float = 1.0, first: float | None = None
    ) -> Iterator[builtins.list[StatsRecord]]:
        """``docker stats``' passes over the service: a first to compare with, then one every ``interval``
        seconds (the first after ``first``)."""
        reader = self.stats_reader(refs)
        reader.sample()
        time.sleep(interval if first is None else first)
        while True:
            yield reader.sample()
            time.sleep(interval)

    def attach_stream(self, ref: str, stdin: bool, logs: bool = False) -> RemoteAttach:
        """``POST /containers/{id}/attach`` on an upgraded connection, whatever the container's state (``run``
        and ``start -a`` attach before they start it); ``logs`` sends what it wrote already first."""
        doc = self.inspect(ref)
        query = {"stream": True, "stdin": stdin, "stdout": True, "stderr": True, "logs": logs}
        sock = self.client.upgrade(f"/containers/{doc['Id']}/attach", None, query)
        return RemoteAttach(self, str(doc["Id"]), bool((doc.get("Config") or {}).get("Tty")), sock)

    def get_archive(self, ref: str, src: str, out: Any, *, follow_link: bool = False) -> int:
        """``cp CONTAINER:SRC -``: ``GET /containers/{id}/archive``'s tar written to ``out``; its bytes."""
        if follow_link:
            raise NotAvailable("cp -L", "the service does not follow a link for the archive API")
        return _copy_stream(
            self.client.open("GET", f"/containers/{_q(ref)}/archive", {"path": src}, timeout=None), out
        )

    def put_archive(self, ref: str, dest: str, stream: Any, *, archive: bool = False) -> int:
        """``cp - CONTAINER:DEST``: the tar read from ``stream`` sent with ``PUT /containers/{id}/archive``
        (``archive``: its owners kept, ``copyUIDGID``); its bytes."""
        data = stream.read()
        query = {"path": dest, "copyUIDGID": archive or None}
        self.client.call("PUT", f"/containers/{_q(ref)}/archive", query, bytes(data))
        return len(data)

    def update(
        self,
        ref: str,
        *,
        memory: int | None = None,
        memory_swap: int | None = None,
        memory_reservation: int | None = None,
        cpus: float | None = None,
        cpu_shares: int | None = None,
        cpu_period: int | None = None,
        cpu_quota: int | None = None,
        cpuset_cpus: str = "",
        cpuset_mems: str = "",
        pids_limit: int | None = None,
        blkio_weight: int | None = None,
        restart: str = "",
        cpu_rt_period: int | None = None,
        cpu_rt_runtime: int | None = None,
    ) -> builtins.list[str]:
        """``POST /containers/{id}/update``: the limits and restart policy given; the service's warnings."""
        body: dict[str, Any] = {
            "Memory": memory,
            "MemorySwap": memory_swap,
            "MemoryReservation": memory_reservation,
            "NanoCpus": int(cpus * 1e9) if cpus else None,
            "CpuShares": cpu_shares,
            "CpuPeriod": cpu_period,
            "CpuQuota": cpu_quota,
            "CpusetCpus": cpuset_cpus or None,
            "CpusetMems": cpuset_mems or None,
            "PidsLimit": pids_limit,
            "BlkioWeight": blkio_weight,
            "CpuRealtimePeriod": cpu_rt_period,
            "CpuRealtimeRuntime": cpu_rt_runtime,
        }
        if restart:
            policy, _, retries = restart.partition(":")
            body["RestartPolicy"] = {"Name": policy, "MaximumRetryCount": int(retries or 0)}
        doc = self.client.post(
            f"/containers/{_q(ref)}/update", {k: v for k, v in body.items() if v is not None}
        )
        self.forget(ref)
        return list((doc or {}).get("Warnings") or [])

    def export(self, ref: str, out: Any) -> None:
        """``GET /containers/{id}/export``: the container's file system as a tar, written to ``out``."""
        _copy_stream(self.client.open("GET", f"/containers/{_q(ref)}/export", timeout=None), out)

    def copy_from(self, *args: Any, **kw: Any) -> tuple[int, int]:
        raise NotAvailable(
            "cp to a path on this machine", "copy through a pipe instead: cp CONTAINER:SRC - | tar x"
        )

    def copy_to(self, *args: Any, **kw: Any) -> int:
        raise NotAvailable(
            "cp from a path on this machine", "copy through a pipe instead: tar c SRC | cp - CONTAINER:DEST"
        )

    def wait_stream(self, ref: str, condition: str) -> Any:
        """``POST /containers/{id}/wait?condition=``, its answer left to read (``read_wait``): opened before a
        start, it sees an exit however soon it comes."""
        return self.client.open("POST", f"/containers/{_q(ref)}/wait", {"condition": condition}, timeout=None)

    def start(self, ref: str) -> bool:
        self.keep(ref)
        self.client.post(f"/containers/{_q(ref)}/start")
        self.forget(ref)
        return True

    def stop(self, ref: str, timeout: int | None = None, signal: str | None = None) -> bool:
        self.keep(ref)
        self.client.post(f"/containers/{_q(ref)}/stop", t=timeout, signal=signal)
        self.forget(ref)
        return True

    def restart(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None:
        self.keep(ref)
        self.client.post(f"/containers/{_q(ref)}/restart", t=timeout, signal=signal)
        self.forget(ref)

    def kill(self, ref: str, signal: str | None = None) -> None:
        self.keep(ref)
        self.client.post(f"/containers/{_q(ref)}/kill", signal=signal)
        self.forget(ref)

    def pause(self, ref: str) -> None:
        self.keep(ref)
        self.client.post(f"/containers/{_q(ref)}/pause")
        self.forget(ref)

    def unpause(self, ref: str) -> None:
        self.keep(ref)
        self.client.post(f"/containers/{_q(ref)}/unpause")
        self.forget(ref)

    def rename(self, ref: str, new_name: str) -> None:
        self.client.post(f"/containers/{_q(ref)}/rename", name=new_name)
        self.forget(ref)

    def remove(self, ref: str, force: bool = False, volumes: bool = False) -> None:
        self.client.call("DELETE", f"/containers/{_q(ref)}", {"force": force, "v": volumes})
        self.forget(ref)

    def wait(self, ref: str, timeout: float | None = None) -> int:
        doc = self.client.post(f"/containers/{_q(ref)}/wait") or {}
        return int(doc.get("StatusCode") or 0)

    def prune(self, *, filters: dict[str, builtins.list[str]] | None = None) -> PruneReport:
        from ..model.reports import PruneReport

        doc = self.client.post("/containers/prune", filters=_filters(filters)) or {}
        return PruneReport(list(doc.get("ContainersDeleted") or []), int(doc.get("SpaceReclaimed") or 0))

    def top(self, ref: str, ps_args: str | None = None) -> TopResult:
        return mapping.top(self.client.get(f"/containers/{_q(ref)}/top", ps_args=ps_args or None))

    def diff(self, ref: str) -> builtins.list[tuple[str, str]]:
        kinds = {0: "C", 1: "A", 2: "D"}
        docs = self.client.get(f"/containers/{_q(ref)}/changes") or []
        return [(kinds.get(int(d.get("Kind") or 0), "C"), d.get("Path", "")) for d in docs]

    def writable_size(self, ref: str) -> int:
        return int(self.inspect(ref, size=True).get("SizeRw") or 0)

    def commit(
        self,
        ref: str,
        repo_tag: str | None = None,
        message: str = "",
        author: str = "",
        changes: dict[str, Any] | None = None,
        pause: bool = True,
    ) -> str:
        if changes:
            raise NotAvailable(
                "commit with configuration changes",
                "they are not sent over the API yet",
                feature="commit-changes",
            )
        repo, tag = (repo_tag or ""), ""
        if repo_tag and ":" in repo_tag.rsplit("/", 1)[-1]:
            repo, _, tag = repo_tag.rpartition(":")
        query: dict[str, Any] = {"container": ref, "repo": repo or None, "tag": tag or None}
        query.update({"comment": message or None, "author": author or None, "pause": pause})
        doc = self.client.call("POST", "/commit", query, {}) or {}
        return str(doc.get("Id", ""))

    def create(self, image: str, opts: Any = None, **kw: Any) -> Container:
        """``POST /containers/create`` with the options the API carries (``mapping.create_body``)."""
        if opts is None:
            from ..runtime.create import CreateOptions

            opts = CreateOptions(**kw)
        body = mapping.create_body(image, opts)
        doc = self.client.call("POST", "/containers/create", {"name": opts.name or None}, body) or {}
        return self.get(str(doc["Id"]))

    def run(self, image: str, opts: Any = None, detach: bool = True, **kw: Any) -> Container:
        """Create, then start (the app attaches afterwards when it asked for a terminal)."""
        c = self.create(image, opts, **kw)
        self.start(c.id)
        return self.get(c.id)

    def run_replicas(self, image: str, replicas: int, opts: Any = None) -> builtins.list[Container]:
        """``NAME-1`` .. ``NAME-N`` (NAME given, or the first container's generated one less its own ``-1``),
        each created and started through the API; if one fails, those made are removed again."""
        import copy

        from ..runtime.create import CreateOptions

        if replicas < 1:
            raise InvalidArgument(f"invalid replicas value {replicas}: it must be at least 1")
        opts = opts or CreateOptions()
        made: builtins.list[Container] = []
        try:
            base = opts.name
            for i in range(1, replicas + 1):
                o = copy.copy(opts)
                o.name = f"{base}-{i}" if base else None
                c = self.run(image, o)
                if base is None:  # the service named the first: the others follow its name
                    base = c.name
                    self.rename(c.id, f"{base}-1")
                    c = self.get(c.id)
                made.append(c)
        except BaseException:
            for c in made:
                with contextlib.suppress(Exception):
                    self.remove(c.id, force=True)
            raise
        return made

    def recreate(self, ref: str, image: str) -> Container:
        raise NotAvailable(
            "recreating a container on a new image",
            "the engine's stored options are needed",
            feature="recreate",
        )

    def layer_tree(self, ref: str, only_changes: bool = False) -> Any:
        raise NotAvailable("browsing a container's writable layer", feature="layers")

    # -- streams --------------------------------------------------------------------------------------------
    def log_index(self, ref: str) -> LogIndex:
        """The container's log, followed over the API into a json-file copy in a temporary directory, and
        indexed there as a local log is; closing the index stops the following and removes the copy."""
        c = self.get(ref)
        return MirroredLog(self.client, c.id, c.tty)

    def stats_reader(self, refs: builtins.list[str] | None = None) -> RemoteStatsReader:
        return RemoteStatsReader(self, refs)

    def exec_pty(
        self,
        ref: str,
        cmd: builtins.list[str],
        *,
        env: builtins.list[str] | None = None,
        workdir: str = "",
        user: str = "",
        privileged: bool = False,
        rows: int = 24,
        cols: int = 80,
    ) -> RemoteExecPty:
        """``POST /containers/{id}/exec`` with a terminal, then its start on an upgraded connection."""
        body = {
            "AttachStdin": True,
            "AttachStdout": True,
            "AttachStderr": True,
            "Tty": True,
            "Cmd": list(cmd),
            "Env": list(env or []),
            "WorkingDir": workdir,
            "User": user,
            "Privileged": privileged,
            "ConsoleSize": [rows, cols],
        }
        exec_id = str(self.client.post(f"/containers/{_q(ref)}/exec", body)["Id"])
        sock = self.client.upgrade(
            f"/exec/{exec_id}/start", {"Detach": False, "Tty": True, "ConsoleSize": [rows, cols]}
        )
        pty = RemoteExecPty(self.client, exec_id, sock)
        with contextlib.suppress(DockyardError):  # Podman leaves ConsoleSize aside: size it as docker does
            pty.resize(rows, cols)
        return pty

    def attach(self, ref: str) -> RemoteAttach:
        c = self.get(ref)
        if not c.running:
            from ..errors import Conflict

            raise Conflict("You cannot attach to a stopped container, start it first")
        query = {"stream": True, "stdin": True, "stdout": True, "stderr": True}
        sock = self.client.upgrade(f"/containers/{_q(c.id)}/attach", None, query)
        return RemoteAttach(self, c.id, c.tty, sock)


def _filters(filters: dict[str, builtins.list[str]] | None) -> str | None:
    if not filters:
        return None
    import json

    return json.dumps(filters)


class MirroredLog(LogIndex):
    """A remote container's log as a local json-file log: a thread follows ``GET /containers/{id}/logs``
    (with timestamps) and appends each line, as ``{"log", "stream", "time"}``, to a file of a temporary
    directory, which ``LogIndex`` indexes and follows as it does a local container's log."""

    def __init__(self, client: Client, cid: str, tty: bool) -> None:
        import tempfile

        self.directory = tempfile.mkdtemp(prefix="dockyard-remote-log-")
        path = os.path.join(self.directory, f"{cid}-json.log")
        open(path, "ab").close()
        super().__init__(path)
        query = {"follow": True, "stdout": True, "stderr": True, "timestamps": True}
        try:
            self.stream = client.open("GET", f"/containers/{cid}/logs", query, timeout=None)
        except BaseException:
            import shutil

            shutil.rmtree(self.directory, ignore_errors=True)
            raise
        self.tty = tty
        self.thread = threading.Thread(target=self._copy, name="dockyard-remote-log", daemon=True)
        self.thread.start()

    def _copy(self) -> None:
        import json

        s = self.stream
        chunks = raw(s.read) if self.tty or "raw-stream" in s.content_type else frames(s.readexactly)
        try:
            with open(self.path, "ab", buffering=0) as out:
                for stream, line in lines_of(chunks):
                    text = line.decode("utf-8", "replace")
                    when, sep, rest = text.partition(" ")
                    if not sep or not when[:4].isdigit():
                        when, rest = "", text
                    doc = {"log": rest, "stream": stream, "time": when}
                    out.write(json.dumps(doc, separators=(",", ":")).encode() + b"\n")
        except (OSError, ValueError):
            pass  # the copy was closed (or removed) while a line came

    def close(self) -> None:
        import shutil

        self.stream.close()
        super().close()
        shutil.rmtree(self.directory, ignore_errors=True)


class RemoteStatsReader:
    """``StatsReader``'s surface over ``GET /containers/{id}/stats?stream=false&one-shot=true``: each
    :meth:`sample` reads each wanted running container once; CPU % compares with the previous pass
    (``sampler``: the documents read then, by container)."""

    def __init__(self, engine: RemoteContainers, refs: builtins.list[str] | None) -> None:
        self.engine = engine
        self.refs = refs
        self.sampler: dict[str, dict[str, Any]] = {}
        self.targets: builtins.list[tuple[str, str]] | None = None
        self.listed = 0

    def refresh(self) -> None:
        self.targets = None

    def _list(self) -> builtins.list[tuple[str, str]]:
        docs = self.engine.client.get("/containers/json") or []  # the running ones
        wanted = set(self.refs) if self.refs is not None else None
        out = []
        for d in docs:
            cid = d["Id"]
            name = (d.get("Names") or ["/"])[0].lstrip("/")
            if wanted is None or cid in wanted or name in wanted:
                out.append((cid, name))
        return out

    def sample(self) -> builtins.list[StatsRecord]:
        if self.targets is None:
            self.targets = self._list()
            self.listed = len(self.targets)
        records = []
        previous, self.sampler = self.sampler, {}
        for cid, name in self.targets:
            try:
                doc = self.engine.client.get(f"/containers/{cid}/stats", stream=False, **{"one-shot": True})
            except DockyardError:
                self.targets = None  # gone: list them again next time
                continue
            if not doc or not doc.get("memory_stats"):
                self.targets = None  # stopped meanwhile
                continue
            self.sampler[cid] = doc
            records.append(mapping.stats(doc, previous.get(cid), cid, name))
        return records

    def running(self) -> bool:
        return self.listed > 0


class RemoteExecPty:
    """``ExecPty``'s surface: ``master`` (a descriptor to read the terminal's output from and write its
    input to), ``resize``, ``wait`` (the exit code, asked of ``GET /exec/{id}/json``) and ``close``."""

    def __init__(self, client: Client, exec_id: str, sock: Any) -> None:
        self.client = client
        self.exec_id = exec_id
        self.ended = threading.Event()
        self.bridge = Bridge(sock, on_end=self.ended.set)
        self.master = self.bridge.fd

    def resize(self, rows: int, cols: int) -> None:
        self.client.post(f"/exec/{self.exec_id}/resize", h=rows, w=cols)

    def wait(self) -> int:
        self.ended.wait()
        for _ in range(50):
            doc = self.client.get(f"/exec/{self.exec_id}/json") or {}
            if not doc.get("Running"):
                code = doc.get("ExitCode")
                return int(code) if code is not None else 0
            time.sleep(0.1)
        return -1

    def release(self) -> None:
        """Leave the process running (``exec -it``'s detach keys): the service keeps a terminal's process
        when the connection closes."""

    def close(self) -> None:
        self.bridge.close()


class RemoteExecProcess:
    """``ExecProcess``'s ``wait()`` for an exec without a terminal: copies ``stdin``'s bytes to the
    connection (a thread) and its frames to ``stdout`` and ``stderr`` until it ends, then asks
    ``GET /exec/{id}/json`` for the exit code (0 for a detached one: nothing to wait for). A command that
    could not start raises the engine's CommandNotFound or CommandNotInvokable, as a local exec does."""

    def __init__(
        self,
        client: Client,
        exec_id: str,
        sock: Any,
        stdin: int | None,
        stdout: int | None,
        stderr: int | None,
    ) -> None:
        self.client = client
        self.exec_id = exec_id
        self.sock = sock
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr

    def _pump_stdin(self) -> None:
        import socket

        assert self.stdin is not None
        try:
            while True:
                data = os.read(self.stdin, 65536)
                if not data:
                    break
                self.sock.sendall(data)
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _recv_exactly(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            try:
                chunk = self.sock.recv(n - len(out))
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        return out

    def wait(self) -> int:
        if self.sock is None:
            return 0
        if self.stdin is not None:
            threading.Thread(target=self._pump_stdin, name="dockyard-exec-stdin", daemon=True).start()
        held: tuple[str, bytes] | None = None  # the first frame: the service's message if nothing started
        count = 0
        try:
            for frame in frames(self._recv_exactly):
                count += 1
                if count == 1:
                    held = frame
                    continue
                if held is not None:
                    self._write(*held)
                    held = None
                self._write(*frame)
        finally:
            self.sock.close()
        code = -1
        for _ in range(50):
            doc = self.client.get(f"/exec/{self.exec_id}/json") or {}
            if not doc.get("Running"):
                code = int(doc["ExitCode"]) if doc.get("ExitCode") is not None else 0
                break
            time.sleep(0.1)
        if held is not None and count == 1 and held[0] == "stderr" and code == 126:
            from ..errors import CommandNotFound, CommandNotInvokable

            text = held[1].decode(errors="replace").strip()
            if "executable file not found" in text or "no such file or directory" in text:
                raise CommandNotFound(text)  # what the engine says here: the command could not start
            if "permission denied" in text:
                raise CommandNotInvokable(text)
        if held is not None:
            self._write(*held)
        return code

    def _write(self, stream: str, data: bytes) -> None:
        fd = self.stderr if stream == "stderr" else self.stdout
        if fd is not None:
            while data:
                data = data[os.write(fd, data) :]


class RemoteAttach:
    """``AttachSession``'s surface over ``POST /containers/{id}/attach`` on an upgraded connection: output as
    ("stdout"|"stderr", data), input, resize, and the exit code once the container ended."""

    def __init__(self, engine: RemoteContainers, cid: str, tty: bool, sock: Any) -> None:
        self.engine = engine
        self.cid = cid
        self.tty = tty
        self.sock = sock
        self.code: int | None = None
        self.waiter: Any = None  # a wait's answer (``exit_from``): the exit code once the output ended
        self.pending = b""

    @property
    def exit_code(self) -> int | None:
        """The container's exit code once its output ended: the wait's answer, else its state."""
        if self.code is None and self.waiter is not None:
            waiter, self.waiter = self.waiter, None
            self.code = read_wait(waiter)
        return self.code

    @exit_code.setter
    def exit_code(self, value: int | None) -> None:
        self.code = value

    def exit_from(self, waiter: Any) -> None:
        """Take the exit code from this wait's answer (``RemoteContainers.wait_stream``) once the output
        ended."""
        self.waiter = waiter

    def __enter__(self) -> RemoteAttach:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fileno(self) -> int:
        return int(self.sock.fileno())

    def read(self) -> builtins.list[tuple[int, bytes]]:
        """What came (``AttachSession.read``): ``(1|2, data)`` chunks; [] at the end."""
        if self.tty:
            data = self._recv(65536)
            return [(1, data)] if data else self._ended()
        out: builtins.list[tuple[int, bytes]] = []
        while not out:
            data = self._recv(65536)
            if not data:
                return self._ended()
            buf = self.pending + data
            while len(buf) >= 8:
                size = int.from_bytes(buf[4:8], "big")
                if len(buf) < 8 + size:
                    break
                out.append((2 if buf[0] == 2 else 1, buf[8 : 8 + size]))
                buf = buf[8 + size :]
            self.pending = buf
        return out

    def _ended(self) -> builtins.list[tuple[int, bytes]]:
        if self.waiter is None and self.code is None:
            with contextlib.suppress(DockyardError):
                c = self.engine.get(self.cid)
                if not c.running:
                    self.code = c.exit_code
        return []

    def _recv(self, n: int) -> bytes:
        try:
            return bytes(self.sock.recv(n))
        except OSError:
            return b""

    def _recv_exactly(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = self._recv(n - len(out))
            if not chunk:
                break
            out += chunk
        return out

    def output(self) -> Iterator[tuple[str, bytes]]:
        yield from raw(self._recv) if self.tty else frames(self._recv_exactly)
        try:
            c = self.engine.get(self.cid)
            if not c.running:
                self.exit_code = c.exit_code
        except DockyardError:
            pass

    def send_stdin(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close_stdin(self) -> None:
        import socket

        self.sock.shutdown(socket.SHUT_WR)

    def resize(self, rows: int, cols: int) -> None:
        self.engine.client.post(f"/containers/{self.cid}/resize", h=rows, w=cols)

    def close(self) -> None:
        import socket

        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def _copy_stream(s: Any, out: Any) -> int:
    """A streamed answer's bytes written to ``out``; how many."""
    total = 0
    try:
        while True:
            chunk = s.read(65536)
            if not chunk:
                break
            out.write(chunk)
            total += len(chunk)
    finally:
        s.close()
    out.flush()
    return total


def _progress_lines(s: Any) -> builtins.list[dict[str, Any]]:
    """The JSON lines of a progress answer (load, import); an error line raises it."""
    docs = []
    try:
        for doc in json_lines(s.readline):
            if doc.get("error") or doc.get("errorDetail"):
                raise DockyardError(str(doc.get("error") or doc["errorDetail"].get("message")))
            docs.append(doc)
    finally:
        s.close()
    return docs


def _build_events(s: Any, progress: Any, event: Any, tags: builtins.list[str]) -> str:
    """The classic builder's JSON lines (``Step N/M : ...``, `` ---> Using cache``, a step's output, its
    stderr in red, `` ---> Done in Ns``, ``[WARNING]: ...``, the ``aux`` ID) as the engine's build events."""
    import re

    image_id, vertex, pending, running = "", 0, "", False  # running: a step's output may come
    emit = progress or (lambda _e: None)
    step_re = re.compile(r"Step (\d+)/(\d+)(?: \(([^)]*)\))? : (.*)")
    try:
        for doc in json_lines(s.readline):
            if doc.get("error") or doc.get("errorDetail"):
                text = str(doc.get("error") or doc["errorDetail"].get("message"))
                raise BuildError(text)
            if (doc.get("aux") or {}).get("ID"):
                image_id = str(doc["aux"]["ID"])
                continue
            pending += str(doc.get("stream") or "")
            *lines, pending = pending.split("\n")
            for line in lines:
                red = line.startswith("\x1b[91m")
                line = line.removeprefix("\x1b[91m").removeprefix("\x1b[0m")
                m = step_re.fullmatch(line)
                if m:
                    vertex += 1
                    running = True
                    emit(event("step", vertex, m[3] or "", int(m[1]), int(m[2]), m[4]))
                elif line == " ---> Using cache":
                    running = False
                    emit(event("cached", vertex))
                elif line.startswith(" ---> Done in ") and line.endswith("s"):
                    running = False
                    emit(event("done", vertex, elapsed=float(line[14:-1] or 0)))
                elif line.startswith("[WARNING]: "):
                    emit(event("warning", vertex, text=line[11:]))
                elif line.startswith(("Successfully built ", "Successfully tagged ")):
                    continue
                elif running and (line or red):
                    emit(event("output", vertex, text=line, stream="stderr" if red else "stdout"))
                elif line:
                    emit(event("info", text=line))  # the build's own messages, between the steps
    finally:
        s.close()
    if not image_id:
        raise DockyardError("the service's build ended without an image")
    emit(event("result", image_id=image_id, tags=tuple(tags)))
    return image_id


def read_wait(stream: Any) -> int:
    """The exit code in a wait's answer (``RemoteContainers.wait_stream``)."""
    import json

    try:
        doc = json.loads(stream.response.read() or b"{}")
    except (OSError, ValueError):
        doc = {}
    finally:
        stream.close()
    if (doc.get("Error") or {}).get("Message"):
        raise DockyardError(str(doc["Error"]["Message"]))
    return int(doc.get("StatusCode") or 0)


class RemoteImages:
    def __init__(self, client: Client) -> None:
        self.client = client

    def resolve(self, name: str) -> str:
        return str(self.inspect(name)["Id"])

    def tagged_name(self, name: str) -> str:
        from ..store import reference

        return reference.parse(name).tagged

    def damaged(self, since_list: bool = False) -> builtins.list[str]:
        """The service lists what it can read: nothing damaged to report here."""
        return []

    def check_platform(self, platform: str, name: str | None = None) -> None:
        """``--platform`` of rmi and image inspect: the image's own (as the service reports it)."""
        if name is None:
            return
        from ..runtime.createflags import parse_platform

        doc = self.inspect(name)
        want = parse_platform(platform)
        have = (
            str(doc.get("Os") or "linux"),
            str(doc.get("Architecture") or ""),
            str(doc.get("Variant") or ""),
        )
        if want[:2] != have[:2] or (want[2] and want[2] != have[2]):
            raise InvalidArgument(
                f"image with reference {name} was found but does not match the specified platform: "
                f"wanted {'/'.join(p for p in want if p)}, actual: {'/'.join(p for p in have if p)}"
            )

    def list(
        self, all: bool = False, filters: dict[str, builtins.list[str]] | None = None
    ) -> builtins.list[Image]:
        out = []
        for doc in self.client.get("/images/json", all=all or None, filters=_filters(filters)) or []:
            try:
                out.append(self.get(doc["Id"]))
            except DockyardError:
                continue
        return out

    def get(self, name: str) -> Image:
        """The image, its layers' sizes and instructions from its history (newest first there)."""
        image = mapping.image(self.inspect(name))
        steps = self.history(image.id)[::-1]
        made = [h for h in steps if not h.empty_layer]
        if len(made) != len(image.layers):
            made = steps  # a layer of no bytes: the steps match the layers only when they are as many
        if len(made) == len(image.layers):
            for layer, step in zip(image.layers, made, strict=True):
                layer.size, layer.created_by, layer.created = step.size, step.created_by, step.created
        return image

    def inspect(self, name: str, legacy: bool = False) -> dict[str, Any]:
        """``GET /images/{name}/json``; the fields of API versions before 1.44 (``Container``,
        ``ContainerConfig``) only with ``legacy``, as the engine's own inspect."""
        doc = dict(self.client.get(f"/images/{name}/json"))
        if not legacy:
            doc.pop("Container", None)
            doc.pop("ContainerConfig", None)
        return doc

    def history(self, name: str) -> builtins.list[HistoryEntry]:
        return mapping.history(self.client.get(f"/images/{name}/history") or [])

    def tag(self, source: str, target: str) -> None:
        repo, tag = target, ""
        if ":" in target.rsplit("/", 1)[-1]:
            repo, _, tag = target.rpartition(":")
        self.client.post(f"/images/{source}/tag", repo=repo, tag=tag or None)

    def remove(self, name: str, force: bool = False) -> RemovedImage:
        from ..model.image import RemovedImage

        docs = self.client.call("DELETE", f"/images/{name}", {"force": force}) or []
        return RemovedImage(
            untagged=[d["Untagged"] for d in docs if "Untagged" in d],
            deleted=[d["Deleted"] for d in docs if "Deleted" in d],
        )

    def prune(
        self, all: bool = False, *, filters: dict[str, builtins.list[str]] | None = None
    ) -> PruneReport:
        from ..model.reports import PruneReport

        merged = dict(filters or {})
        if all:
            merged["dangling"] = ["false"]
        doc = self.client.post("/images/prune", filters=_filters(merged)) or {}
        deleted = [d.get("Deleted") or d.get("Untagged") for d in doc.get("ImagesDeleted") or []]
        return PruneReport([d for d in deleted if d], int(doc.get("SpaceReclaimed") or 0))

    def pull(
        self,
        repository: str,
        tag: str | None = None,
        platform: str | None = None,
        progress: Callable[[TransferEvent], None] | None = None,
        auth_config: dict[str, str] | None = None,
    ) -> PullResult:
        """``POST /images/create?fromImage=``: the service pulls; its progress lines come back as events."""
        from ..registry.events import TransferEvent
        from ..registry.pull import PullResult

        query = {"fromImage": repository, "tag": tag, "platform": platform}
        stream = self.client.open("POST", "/images/create", query, timeout=None)
        digest, up_to_date = "", False
        try:
            for doc in json_lines(stream.readline):
                if doc.get("error") or doc.get("errorDetail"):
                    raise DockyardError(str(doc.get("error") or doc["errorDetail"].get("message")))
                status = str(doc.get("status") or "")
                if status.startswith("Digest: "):
                    digest = status[len("Digest: ") :]
                if status.startswith("Status: Image is up to date"):
                    up_to_date = True
                if progress is not None:
                    detail = doc.get("progressDetail") or {}
                    progress(
                        TransferEvent(
                            doc.get("id") or "",
                            status,
                            int(detail.get("current") or 0),
                            int(detail.get("total") or 0),
                        )
                    )
        finally:
            stream.close()
        name = (
            f"{repository}:{tag}"
            if tag
            else repository
            if (":" in repository or "@" in repository)
            else f"{repository}:latest"
        )
        im = self.get(name)
        return PullResult(im.id, name, digest, name, up_to_date)

    def push(
        self,
        repository: str,
        tag: str | None = None,
        progress: Callable[[TransferEvent], None] | None = None,
        auth_config: dict[str, str] | None = None,
    ) -> PushResult:
        """``POST /images/{name}/push``: the service pushes (with its own credentials); its progress lines
        come back as events, its last line as the result."""
        from ..registry.events import TransferEvent
        from ..registry.push import PushResult

        if auth_config:
            raise NotAvailable("push with credentials", "the service pushes with its own")
        s = self.client.open("POST", f"/images/{repository}/push", {"tag": tag}, {}, timeout=None)
        result = None
        for doc in _progress_lines(s):
            status = str(doc.get("status") or "")
            head, sep, rest = status.partition(": digest: ")
            if sep:
                digest, _, size = rest.partition(" size: ")
                result = PushResult(repository, head, digest, int(size or 0))
            elif progress is not None:
                detail = doc.get("progressDetail") or {}
                current, total = int(detail.get("current") or 0), int(detail.get("total") or 0)
                progress(TransferEvent(doc.get("id") or "", status, current, total))
        if result is None:
            raise DockyardError(f"the service's push of {repository} ended without a digest")
        return result

    def save(self, names: builtins.list[str], out: Any) -> None:
        """``GET /images/get?names=``: the images as ``docker save``'s tar, written to ``out``."""
        _copy_stream(self.client.open("GET", "/images/get", {"names": ",".join(names)}, timeout=None), out)

    def load(self, stream: Any, progress: Any = None) -> builtins.list[str]:
        """``POST /images/load`` with the tar read from ``stream``: the names (or IDs) loaded."""
        s = self.client.open("POST", "/images/load", {"quiet": True}, bytes(stream.read()), timeout=None)
        loaded = []
        for doc in _progress_lines(s):
            for line in str(doc.get("stream") or "").splitlines():
                for head in ("Loaded image ID: ", "Loaded image: "):
                    if line.startswith(head):
                        loaded.append(line[len(head) :].strip())
                        break
        return loaded

    def import_(
        self,
        stream: Any,
        reference: str | None = None,
        message: str = "",
        changes: dict[str, Any] | None = None,
    ) -> str:
        """``POST /images/create?fromSrc=-`` with the tar read from ``stream``: the new image's ID."""
        if changes:
            raise NotAvailable("import with --change", "the changes are not sent over the API yet")
        repo, tag = reference or "", ""
        if reference and ":" in reference.rsplit("/", 1)[-1]:
            repo, _, tag = reference.rpartition(":")
        query = {"fromSrc": "-", "repo": repo or None, "tag": tag or None, "message": message or None}
        s = self.client.open("POST", "/images/create", query, bytes(stream.read()), timeout=None)
        found = [
            str(d["status"]) for d in _progress_lines(s) if str(d.get("status", "")).startswith("sha256:")
        ]
        if not found:
            raise DockyardError("the service did not say which image it made")
        return found[-1]

    def analyze(self, name: str) -> Any:
        raise NotAvailable("browsing an image's files", feature="layers")

    def build(self, options: Any, progress: Any = None) -> str:
        """``POST /build`` (the classic builder's API) with the context directory as a tar; the service's
        progress lines come back as the engine's build events for ``progress``. Returns the image's ID."""
        import io
        import json
        import tarfile

        from ..build.events import BuildEvent

        unsent = [
            flag
            for flag, value in (
                ("--secret", options.secrets),
                ("--build-context", options.build_contexts),
                ("--output", options.output or options.output_stream),
                ("--cache-from", options.cache_from),
                ("a build's limits (--memory, --ulimit...)", options.run_options),
                ("a context from standard input", options.context_stream),
            )
            if value
        ]
        if unsent:
            raise NotAvailable(f"build with {', '.join(unsent)}", "it is not sent over the API yet")
        context = options.context_dir
        buf = io.BytesIO()
        from ..build import dockerignore

        matcher = dockerignore.load(context, options.dockerfile)
        with tarfile.open(fileobj=buf, mode="w") as tar:
            # what .dockerignore leaves out is not sent (the ignore file and the Dockerfile always are)
            for rel in dockerignore.walk(context, matcher):
                tar.add(os.path.join(context, rel), arcname=rel, recursive=False)
            for always in (".dockerignore", os.path.basename(options.dockerfile or "Dockerfile")):
                path = os.path.join(context, always)
                if matcher.ignored(always) and os.path.isfile(path):
                    tar.add(path, arcname=always, recursive=False)
            dockerfile = options.dockerfile
            text = options.dockerfile_text
            if dockerfile and text is None:
                inside = os.path.relpath(os.path.abspath(dockerfile), os.path.abspath(context))
                if inside.startswith(".."):
                    with open(dockerfile, "rb") as f:
                        text = f.read().decode()
                else:
                    dockerfile = inside
            if text is not None:
                data = text.encode() if isinstance(text, str) else bytes(text)
                info = tarfile.TarInfo(".dockyard-remote-Dockerfile")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                dockerfile = ".dockyard-remote-Dockerfile"
        query: dict[str, Any] = {
            "dockerfile": dockerfile or None,
            "buildargs": json.dumps(dict(options.build_args)) if options.build_args else None,
            "labels": json.dumps(dict(options.labels)) if options.labels else None,
            "target": options.target or None,
            "nocache": options.no_cache or None,
            "pull": options.pull or None,
            "networkmode": options.network if options.network not in ("", "none", "default") else None,
            "platform": options.platform or None,
        }
        from urllib.parse import urlencode

        pairs = [("t", t) for t in options.tags]
        pairs += [(k, "1" if v is True else str(v)) for k, v in query.items() if v is not None and k != "t"]
        path = f"/build?{urlencode(pairs)}"  # ``t`` once per tag
        s = self.client.open("POST", path, None, buf.getvalue(), timeout=None)
        return _build_events(s, progress, BuildEvent, list(options.tags))


class RemoteNetworks:
    def __init__(self, client: Client) -> None:
        self.client = client

    def list(self, filters: dict[str, builtins.list[str]] | None = None) -> builtins.list[Network]:
        return [mapping.network(d) for d in self.client.get("/networks", filters=_filters(filters)) or []]

    def get(self, ref: str) -> Network:
        return mapping.network(self.inspect(ref))

    def inspect(self, ref: str) -> dict[str, Any]:
        return dict(self.client.get(f"/networks/{_q(ref)}"))

    def create(
        self,
        name: str,
        *,
        driver: str = "bridge",
        subnet: str = "",
        gateway: str = "",
        internal: bool = False,
        labels: dict[str, str] | None = None,
        options: dict[str, str] | None = None,
        ip_range: str = "",
        aux_addresses: dict[str, str] | None = None,
        ipv6: bool = False,
        subnet6: str = "",
        gateway6: str = "",
        ip_range6: str = "",
    ) -> Network:
        ipam: dict[str, Any] = {"Driver": "default", "Config": []}
        if subnet or gateway:
            pool = (("Subnet", subnet), ("Gateway", gateway), ("IPRange", ip_range))
            ipam["Config"] = [
                {k: v for k, v in pool if v}
                | ({"AuxiliaryAddresses": aux_addresses} if aux_addresses else {})
            ]
        if subnet6:
            pool6 = (("Subnet", subnet6), ("Gateway", gateway6), ("IPRange", ip_range6))
            ipam["Config"].append({k: v for k, v in pool6 if v})
        body = {
            "Name": name,
            "Driver": driver,
            "EnableIPv6": ipv6 or bool(subnet6),
            "Internal": internal,
            "Labels": labels or {},
            "Options": options or {},
            "IPAM": ipam,
        }
        doc = self.client.post("/networks/create", body) or {}
        return self.get(doc.get("Id") or name)

    def remove(self, ref: str) -> None:
        self.client.call("DELETE", f"/networks/{_q(ref)}")

    def prune(self, *, filters: dict[str, builtins.list[str]] | None = None) -> builtins.list[str]:
        doc = self.client.post("/networks/prune", filters=_filters(filters)) or {}
        return list(doc.get("NetworksDeleted") or [])

    def connect(
        self,
        network: str,
        container: str,
        *,
        ip: str = "",
        aliases: builtins.list[str] | None = None,
        driver_opts: dict[str, str] | None = None,
        gw_priority: int = 0,
        link_local_ips: builtins.list[str] | None = None,
        links: builtins.list[str] | None = None,
        ip6: str = "",
    ) -> None:
        endpoint: dict[str, Any] = {"Aliases": aliases or None, "DriverOpts": driver_opts or None}
        if links:
            endpoint["Links"] = list(links)
        if ip or link_local_ips or ip6:
            endpoint["IPAMConfig"] = {
                "IPv4Address": ip or None,
                "IPv6Address": ip6 or None,
                "LinkLocalIPs": link_local_ips or None,
            }
        if gw_priority:
            endpoint["GwPriority"] = gw_priority
        self.client.post(
            f"/networks/{_q(network)}/connect", {"Container": container, "EndpointConfig": endpoint}
        )

    def disconnect(self, network: str, container: str, *, force: bool = False) -> None:
        self.client.post(f"/networks/{_q(network)}/disconnect", {"Container": container, "Force": force})


class RemoteVolumes:
    def __init__(self, client: Client) -> None:
        self.client = client

    def list(self, filters: dict[str, builtins.list[str]] | None = None) -> builtins.list[Volume]:
        doc = self.client.get("/volumes", filters=_filters(filters)) or {}
        return [mapping.volume(d) for d in doc.get("Volumes") or []]

    def get(self, name: str, size: bool = False) -> Volume:
        return mapping.volume(self.inspect(name))

    def inspect(self, name: str) -> dict[str, Any]:
        return dict(self.client.get(f"/volumes/{_q(name)}"))

    def create(
        self,
        name: str | None = None,
        labels: dict[str, str] | None = None,
        driver: str = "local",
        options: dict[str, str] | None = None,
    ) -> Volume:
        body = {"Name": name or "", "Driver": driver, "Labels": labels or {}, "DriverOpts": options or {}}
        return mapping.volume(self.client.post("/volumes/create", body) or {})

    def remove(self, name: str, force: bool = False) -> None:
        self.client.call("DELETE", f"/volumes/{_q(name)}", {"force": force})

    def prune(self, *, filters: dict[str, builtins.list[str]] | None = None) -> builtins.list[str]:
        doc = self.client.post("/volumes/prune", filters=_filters(filters)) or {}
        return list(doc.get("VolumesDeleted") or [])
