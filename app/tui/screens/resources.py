"""The main screen's Volumes and Networks panes, disk usage and pull: the lower-left pane switches between
Images (2), Volumes (4) and Networks (5), its border title naming the three; a volume or network under the
cursor is what the Inspect tab shows. Each action asks the engine in a worker through the app's ``call``;
the engine's refusals come back as notifications."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.widget import Widget

from ..dialogs.connect import ConnectDialog
from ..dialogs.create_resource import NetworkDialog, VolumeDialog
from ..dialogs.disk_usage import DiskUsageDialog
from ..dialogs.pull import PullDialog
from ..messages import Snapshot
from ..resources import volume_inspect
from ..widgets.networks_table import BUILTIN, NetworksTable
from ..widgets.volumes_table import ResourceSelected, VolumesTable

if TYPE_CHECKING:
    from textual.screen import Screen

    from engine import Container

    from ..services import AppServices
    from ..widgets.images_table import ImagesTable

    _Base = Screen[None]
else:
    _Base = object

LOWER = (("images", "2", "Images"), ("volumes", "4", "Volumes"), ("networks", "5", "Networks"))


def lower_title(active: str, filter_text: str = "") -> str:
    """The switcher in the lower-left pane's border: ``[2] Images │ 4 Volumes │ 5 Networks``, the list shown
    with its key in brackets, in bold; then the filter, if any."""
    from rich.markup import escape

    parts = [
        f"[b]\\[{key}] {title}[/b]" if name == active else f"[dim]{key} {title}[/dim]"
        for name, key, title in LOWER
    ]
    return " │ ".join(parts) + (f" {escape(f'[filter: {filter_text}]')}" if filter_text else "")


class ResourcePanes(_Base):
    """Mixed into MainScreen (which gives ``dapp``, ``images``, ``containers``, ``container``, ``subject``,
    ``open_tab``, ``schedule_details`` and ``_need_container``)."""

    lower = "images"  # which list the lower-left pane shows
    volume: Any = None
    network: Any = None

    if TYPE_CHECKING:
        container: Container | None
        subject: str

        @property
        def dapp(self) -> AppServices: ...
        @property
        def images(self) -> ImagesTable: ...
        def schedule_details(self, delay: float = 0.15, force: bool = True) -> None: ...
        def open_tab(self, tab: str, focus: bool = True) -> None: ...
        def _need_container(self) -> Container | None: ...

    # -- the switcher ---------------------------------------------------------------------------------------
    @property
    def volumes_table(self) -> VolumesTable:
        return self.query_one(VolumesTable)

    @property
    def networks_table(self) -> NetworksTable:
        return self.query_one(NetworksTable)

    def lower_lists(self) -> dict[str, Widget]:
        return {"images": self.images, "volumes": self.volumes_table, "networks": self.networks_table}

    def lower_list(self) -> Widget:
        """The list the lower-left pane shows now."""
        return self.lower_lists()[self.lower]

    def is_lower(self, widget: object) -> bool:
        return any(widget is w for w in self.lower_lists().values())

    def setup_lower(self) -> None:
        for name, widget in self.lower_lists().items():
            widget.display = name == self.lower
        self.update_lower_titles()

    def update_lower_titles(self) -> None:
        for name, widget in self.lower_lists().items():
            widget.border_title = lower_title(name, getattr(widget, "filter_text", ""))

    def show_lower(self, name: str, focus: bool = True) -> None:
        """Show ``name``'s list in the lower-left pane (and move the focus into it)."""
        self.lower = name
        lists = self.lower_lists()
        for other, widget in lists.items():
            widget.display = other == name
        if focus:
            lists[name].focus()

    def action_lower(self, name: str) -> None:
        self.show_lower(name)

    # -- data -----------------------------------------------------------------------------------------------
    def show_resources(self, snap: Snapshot) -> None:
        vt, nt = self.volumes_table, self.networks_table
        vt.users = snap.volume_users
        vt.show(snap.volumes)
        nt.users = snap.network_users
        nt.show(snap.network_records)
        self.volume, self.network = vt.current, nt.current
        self.update_lower_titles()

    def refresh_resource_ages(self, now: float) -> None:
        self.volumes_table.refresh_ages(now)
        self.networks_table.refresh_ages(now)

    def on_resource_selected(self, message: ResourceSelected) -> None:
        message.stop()
        setattr(self, message.kind, message.record)
        if message.focused:
            self.subject = message.kind
            self.schedule_details()

    def inspect_resource(self, shown: dict[str, Any]) -> None:
        """The Inspect tab for the selected volume or network (``shown``: what each tab shows now)."""
        from ..widgets.inspect_tree import InspectTree

        tree = self.query_one(InspectTree)
        if self.subject == "volume":
            v = self.volume
            if v is None:
                return
            key: tuple[Any, ...] = ("v", v.name, v.size, v.in_use)
            if shown.get("tab-inspect") != key:
                shown["tab-inspect"] = key
                users = self.dapp.snapshot.volume_users.get(v.name, [])
                tree.show_json(f"volume {v.name}", volume_inspect(v, users))
            return
        n = self.network
        if n is None:
            return
        key = ("n", n.id, tuple(self.dapp.snapshot.network_users.get(n.name, [])))
        if shown.get("tab-inspect") != key:
            shown["tab-inspect"] = key
            self.dapp.call(
                "Inspect", self.dapp.engine.networks.inspect, n.id,
                done=lambda data: tree.show_json(f"network {n.name}", data),
            )  # fmt: skip

    def _said(self, text: str, title: str) -> Callable[[Any], None]:
        """A ``done`` callback that notifies ``text``."""
        return lambda _result: self.notify(text, title=title)

    # -- volumes ----------------------------------------------------------------------------------------------
    def action_volume_create(self) -> None:
        engine = self.dapp.engine

        def make(f: dict[str, Any]) -> tuple[Any, bool]:
            existed = f["name"] is not None and any(v.name == f["name"] for v in engine.volumes.list())
            create = self.dapp.commands.tracking(engine.volumes.create)  # logged as dockyard volume create
            return create(f["name"], f["labels"] or None), existed

        def made(answer: tuple[Any, bool] | None) -> None:
            if answer is None:
                return
            v, existed = answer
            if existed:  # as Docker: the volume there is the answer, left as it was
                self.notify(f"Volume {v.name} exists already; it is left as it was.", title="Volume")
            else:
                self.notify(f"Created volume {v.name}", title="Volume")

        self.app.push_screen(VolumeDialog(make), made)

    def action_volume_remove(self) -> None:
        targets = list(self.volumes_table.selection())
        if not targets:
            self.notify("Select a volume first.", severity="warning")
            return
        users = self.dapp.snapshot.volume_users
        busy = [v.name for v in targets if users.get(v.name)]
        names = ", ".join(v.name for v in targets)

        def go() -> None:
            for v in targets:
                self.dapp.call(
                    f"Remove volume {v.name}", self.dapp.engine.volumes.remove, v.name,
                    done=self._said(f"Removed volume {v.name}", "Volume"),
                )  # fmt: skip
            self.volumes_table.clear_marks()

        detail = names + "\n\n"
        if busy:
            detail += f"In use by a container: {', '.join(busy)} (the engine refuses to remove those). "
        detail += "Its data is deleted; this cannot be undone."
        self.dapp.confirm(f"Remove {len(targets)} volume{'s' if len(targets) > 1 else ''}?", detail, go)

    def action_volume_prune(self) -> None:
        doomed = [v.name for v in self.dapp.snapshot.volumes if not v.in_use]
        self._prune("unused volume", doomed, self.dapp.engine.volumes.prune, "Prune volumes")

    # -- networks ------------------------------------------------------------------------------------------------
    def action_network_create(self) -> None:
        engine = self.dapp.engine

        def make(f: dict[str, Any]) -> Any:
            create = self.dapp.commands.tracking(engine.networks.create)  # logged as dockyard network create
            return create(
                f["name"],
                subnet=f["subnet"],
                gateway=f["gateway"],
                internal=f["internal"],
                labels=f["labels"],
            )

        def made(n: Any) -> None:
            if n is not None:
                self.notify(f"Created network {n.name} ({n.subnet})", title="Network")

        self.app.push_screen(NetworkDialog(make), made)

    def action_network_remove(self) -> None:
        targets = list(self.networks_table.selection())
        if not targets:
            self.notify("Select a network first.", severity="warning")
            return
        builtin = [n.name for n in targets if n.name in BUILTIN]
        if builtin:
            self.notify(
                f"{', '.join(builtin)}: a pre-defined network cannot be removed.",
                title="Network",
                severity="warning",
            )
            targets = [n for n in targets if n.name not in BUILTIN]
            if not targets:
                return

        def go() -> None:
            for n in targets:
                self.dapp.call(
                    f"Remove network {n.name}", self.dapp.engine.networks.remove, n.id,
                    done=self._said(f"Removed network {n.name}", "Network"),
                )  # fmt: skip
            self.networks_table.clear_marks()

        names = ", ".join(n.name for n in targets)
        self.dapp.confirm(
            f"Remove {len(targets)} network{'s' if len(targets) > 1 else ''}?",
            f"{names}\n\nA network with containers on it is refused by the engine.",
            go,
        )

    def action_network_prune(self) -> None:
        users = self.dapp.snapshot.network_users
        doomed = [
            n.name
            for n in self.dapp.snapshot.network_records
            if n.name not in BUILTIN and not users.get(n.name)
        ]
        self._prune("unused network", doomed, self.dapp.engine.networks.prune, "Prune networks")

    def _prune(self, noun: str, doomed: list[str], fn: Callable[[], list[str]], label: str) -> None:
        """Ask with the count and the names, then prune; says what went (the engine decides)."""
        if not doomed:
            self.notify(f"No {noun}s to prune.", title="Prune")
            return
        n = len(doomed)
        shown = ", ".join(doomed[:5]) + (f" and {n - 5} more" if n > 5 else "")

        def pruned(removed: list[str]) -> None:
            k = len(removed)
            what = ", ".join(removed[:5]) + (f" and {k - 5} more" if k > 5 else "")
            self.notify(
                f"Removed {k} {noun}{'s' if k != 1 else ''}" + (f": {what}" if k else ""), title="Prune"
            )

        self.dapp.confirm(
            f"Prune {n} {noun}{'s' if n != 1 else ''}?",
            f"{shown}.",
            lambda: self.dapp.call(label, fn, done=pruned),
            ok="Prune",
        )

    # -- a container's networks --------------------------------------------------------------------------------
    def action_connect(self) -> None:
        c = self._need_container()
        if c is None:
            return
        snap = self.dapp.snapshot
        names = [n.name for n in snap.network_records] or snap.networks
        engine = self.dapp.engine

        def chosen(answer: tuple[list[str], list[str]] | None) -> None:
            if answer is None:
                return
            add, drop = answer
            for net in add:
                self.dapp.call(
                    f"Connect {c.name} to {net}", engine.networks.connect, net, c.id,
                    done=self._said(f"{c.name} is on {net}", "Network"),
                )  # fmt: skip
            for net in drop:
                self.dapp.call(
                    f"Disconnect {c.name} from {net}", engine.networks.disconnect, net, c.id,
                    done=self._said(f"{c.name} left {net}", "Network"),
                )  # fmt: skip

        self.app.push_screen(ConnectDialog(c.name, names, list(c.networks)), chosen)

    # -- disk usage and pull ----------------------------------------------------------------------------------
    def action_disk_usage(self) -> None:
        self.app.push_screen(DiskUsageDialog(self.dapp.engine.df, clock=self.dapp.clock))

    def action_pull(self) -> None:
        engine = self.dapp.engine
        im = self.images.current if self.focused is self.images else None
        ref = im.tags[0] if im is not None and im.tags else ""
        pull = self.dapp.commands.tracking(engine.images.pull)  # logged as dockyard pull
        self.app.push_screen(PullDialog(pull, engine.search, ref))
