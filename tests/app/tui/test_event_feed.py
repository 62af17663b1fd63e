"""The app's event feed (app/tui/feeds.py) over a real engine root whose event stream breaks: once the stream
is back, the app is told to read its lists whole (what changed meanwhile was never announced)."""

from __future__ import annotations

import queue
from typing import Any

from app.tui.feeds import ALL_KINDS, EventFeed
from app.tui.messages import EngineChanged


class _Breaking:
    """The test's engine, whose event stream fails the first time it is asked for (as a connection to a
    remote engine that drops); everything else is the engine's own."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.asked = 0

    def event_offset(self) -> int:
        return self.engine.event_offset()

    def events(self, **kw: Any) -> Any:
        self.asked += 1
        if self.asked == 1:
            raise ConnectionError("the stream broke")
        return self.engine.events(**kw)


def test_after_a_broken_stream_the_lists_are_read_whole_then_events_flow(engine_, busybox) -> None:
    got: queue.Queue[EngineChanged] = queue.Queue()
    feed = EventFeed(_Breaking(engine_), got.put)  # type: ignore[arg-type]
    feed.start()
    try:
        first = got.get(timeout=10)  # after the break (and the feed's 2 s pause)
        assert first.event is None and set(first.kinds) == set(ALL_KINDS)
        engine_.images.tag(busybox, "after-the-break:1")
        later = got.get(timeout=10)
        assert later.event is not None and later.kinds == {"image"}
    finally:
        feed.stop()
        feed.join(timeout=10)
    assert not feed.is_alive()  # stopping ends the stream's wait too
