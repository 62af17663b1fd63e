"""``build --watch``: rebuilds on context changes (only those .dockerignore lets through), keeps going after a
failed build, replaces the ``--run`` container, and stops when asked."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from engine import BuildOptions
from engine.build.watch import ContextWatcher

from .buildutil import write

BUSY = '["sh", "-c", "trap \'exit 0\' TERM; cat /msg.txt; while true; do sleep 0.1; done"]'


class Watching:
    """A watch running in a thread, with the events it reported."""

    def __init__(self, engine, ctx, run_name=None, stop_timeout=10, **kw) -> None:
        self.events: list = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.error: BaseException | None = None

        def record(event) -> None:
            with self.lock:
                self.events.append(event)

        def target() -> None:
            try:
                engine.watch_build(
                    BuildOptions(str(ctx), **kw),
                    progress=record,
                    run_name=run_name,
                    stop=self.stop,
                    debounce=0.1,
                    stop_timeout=stop_timeout,
                )
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                self.error = exc

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()

    def texts(self, kind: str = "watch") -> list[str]:
        with self.lock:
            return [e.text for e in self.events if e.kind == kind]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert self.error is None, self.error
            assert time.monotonic() < deadline, f"timed out; events: {[e.message for e in self.events]}"
            time.sleep(0.05)

    def count(self, prefix: str) -> int:
        return sum(1 for t in self.texts() if t.startswith(prefix))

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=20)
        assert not self.thread.is_alive(), "the watch did not stop"


@pytest.fixture
def watching(engine_) -> Iterator[Callable[..., Watching]]:
    started: list[Watching] = []

    def start(ctx, **kw) -> Watching:
        w = Watching(engine_, ctx, **kw)
        started.append(w)
        return w

    yield start
    for w in started:
        w.close()


def test_relevant_changes_only(tmp_path):
    ctx = write(
        tmp_path / "ctx", {"Dockerfile": "FROM scratch\n", ".dockerignore": "*.md\nbuild/\n!keep.md\n"}
    )
    w = ContextWatcher(str(ctx), str(ctx / "Dockerfile"))
    assert w.relevant(str(ctx / "app.py")) == "app.py"
    assert w.relevant(str(ctx / "README.md")) is None
    assert w.relevant(str(ctx / "keep.md")) == "keep.md"
    assert w.relevant(str(ctx / "build" / "out.o")) is None
    assert w.relevant(str(ctx / "Dockerfile")) == "Dockerfile"
    assert w.relevant(str(tmp_path / "elsewhere.txt")) is None
    (ctx / ".dockerignore").write_text("*.py\n")
    assert w.relevant(str(ctx / ".dockerignore")) == ".dockerignore"  # and the patterns are read again
    assert w.relevant(str(ctx / "app.py")) is None and w.relevant(str(ctx / "README.md")) == "README.md"


@pytest.mark.slow
def test_rebuilds_on_change_and_ignores_ignored_files(engine_, busybox, tmp_path, watching):
    ctx = write(
        tmp_path / "ctx",
        {
            "Dockerfile": "FROM busybox\nRUN echo base\nCOPY msg.txt /msg.txt\nRUN cat /msg.txt\n",
            "msg.txt": "one\n",
            "notes.md": "ignored\n",
            ".dockerignore": "*.md\n",
        },
    )
    w = watching(ctx, tags=["w:1"])
    w.wait_for(lambda: w.count("watching ") == 1)
    first = engine_.images.resolve("w:1")
    (ctx / "notes.md").write_text("ignored, changed\n")
    time.sleep(0.6)
    assert w.count("changed:") == 0  # an ignored file triggers nothing
    (ctx / "msg.txt").write_text("two\n")
    w.wait_for(lambda: w.count("rebuilt ") == 1)
    assert "changed: msg.txt" in w.texts()
    rebuilt = [t for t in w.texts() if t.startswith("rebuilt ")][0]
    assert "2 step(s) re-ran ([3/4] COPY msg.txt /msg.txt, [4/4] RUN cat /msg.txt), 1 cached" in rebuilt
    assert engine_.images.resolve("w:1") != first
    assert w.texts("output")[-1] == "two"
    # a broken Dockerfile is reported and the watch goes on
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN exit 9\n")
    w.wait_for(lambda: any("non-zero code: 9" in t for t in w.texts("error")))
    assert w.thread.is_alive()
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY msg.txt /msg.txt\n")
    w.wait_for(lambda: w.count("rebuilt ") == 2)
    w.close()
    assert w.error is None


@pytest.mark.slow
def test_run_replaces_the_container(engine_, busybox, tmp_path, watching):
    ctx = write(
        tmp_path / "ctx",
        {"Dockerfile": f"FROM busybox\nCOPY msg.txt /msg.txt\nCMD {BUSY}\n", "msg.txt": "v1\n"},
    )
    w = watching(ctx, tags=["web:dev"], run_name="web", stop_timeout=2)
    w.wait_for(lambda: w.count("started container web") == 1)
    old = engine_.containers.get("web")
    assert old.status == "running" and old.image_id == engine_.images.resolve("web:dev")
    (ctx / "msg.txt").write_text("v2\n")
    w.wait_for(lambda: w.count("replaced container web") == 1)
    new = engine_.containers.get("web")
    assert new.id != old.id and new.status == "running"
    assert new.image_id == engine_.images.resolve("web:dev") != old.image_id
    assert [c.id for c in engine_.containers.list(all=True)] == [new.id]  # the old one is gone
    w.wait_for(lambda: b"".join(e.data for e in engine_.containers.logs("web")).strip() == b"v2")
