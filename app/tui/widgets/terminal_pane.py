"""The Terminal tab: several shell/attach sessions, one shown at a time, picked from a row of tabs.

Leaving the tab (``ctrl+]``, or any pane key from elsewhere) keeps every session running; a session ends
when its shell exits or when it is closed from the command palette.
"""

from __future__ import annotations

import itertools
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import ContentSwitcher, Static, Tab, Tabs

from .. import keymap
from ..terminal_session import TerminalSession
from .terminal import TerminalView

_ids = itertools.count(1)


class TerminalPane(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings("terminal")
    DEFAULT_CSS = """
    TerminalPane { height: 1fr; }
    TerminalPane > Tabs { height: 2; }
    TerminalPane > #term-empty { padding: 1 2; color: $text-muted; }
    TerminalPane > ContentSwitcher { height: 1fr; }
    """

    class Left(Message):
        """The user left the terminal (focus goes back to the lists)."""

    class SessionEnded(Message):
        def __init__(self, title: str, code: int | None) -> None:
            super().__init__()
            self.title = title
            self.code = code

    def compose(self) -> ComposeResult:
        yield Tabs(id="term-tabs")
        yield Static(
            "No session. Select a running container and press e for a shell or a to attach.\n"
            "Inside a session every key goes to the container; ctrl+] comes back to the lists.",
            id="term-empty",
        )
        yield ContentSwitcher(id="term-views")

    @property
    def views(self) -> list[TerminalView]:
        return list(self.query(TerminalView))

    @property
    def active(self) -> TerminalView | None:
        switcher = self.query_one(ContentSwitcher)
        if switcher.current is None:
            return None
        try:
            return self.query_one(f"#{switcher.current}", TerminalView)
        except Exception:
            return None

    def find(self, title: str) -> TerminalView | None:
        for v in self.views:
            if v.session.title == title and not v.session.ended:
                return v
        return None

    async def add_session(self, session: TerminalSession) -> TerminalView:
        view_id = f"term-{next(_ids)}"
        view = TerminalView(session, id=view_id)
        await self.query_one(ContentSwitcher).mount(view)
        session.start()
        tabs = self.query_one(Tabs)
        await tabs.add_tab(Tab(session.title, id=f"tab-{view_id}"))
        tabs.active = f"tab-{view_id}"
        self.query_one("#term-empty").display = False
        self.show(view)
        return view

    def show(self, view: TerminalView) -> None:
        self.query_one(ContentSwitcher).current = view.id
        self.query_one(Tabs).active = f"tab-{view.id}"
        view.focus()

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        if event.tab is None or event.tab.id is None:
            return
        view_id = event.tab.id.removeprefix("tab-")
        switcher = self.query_one(ContentSwitcher)
        if switcher.current != view_id:
            switcher.current = view_id

    async def close_session(self, view: TerminalView) -> None:
        view.session.close()
        await self._drop(view)

    async def _drop(self, view: TerminalView) -> None:
        tabs = self.query_one(Tabs)
        await tabs.remove_tab(f"tab-{view.id}")
        was_focused = view.has_focus
        await view.remove()
        rest = self.views
        if rest and was_focused:
            self.show(rest[-1])
        elif rest:
            self.query_one(ContentSwitcher).current = rest[-1].id
            tabs.active = f"tab-{rest[-1].id}"
        else:
            self.query_one("#term-empty").display = True
            if was_focused:
                self.post_message(self.Left())

    async def on_terminal_view_ended(self, event: TerminalView.Ended) -> None:
        event.stop()
        self.post_message(self.SessionEnded(event.view.session.title, event.view.session.code))
        await self._drop(event.view)

    def action_leave(self) -> None:
        self.post_message(self.Left())

    def _cycle(self, step: int) -> None:
        views = self.views
        current = self.active
        if not views or current is None:
            return
        i = views.index(current) if current in views else 0
        self.show(views[(i + step) % len(views)])

    def action_next_session(self) -> None:
        self._cycle(1)

    def action_previous_session(self) -> None:
        self._cycle(-1)
