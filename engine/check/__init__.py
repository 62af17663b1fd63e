"""``system check``: find every kind of damage a root can hold, report it, and repair it when asked.

A module per part of the root: ``containers`` (records, states, the name index), ``images`` (image and layer
records, the tag index, blobs and their digests, unpacked layers), ``volumes_networks`` (their records), and
``leftovers`` (mounts and cgroups nothing owns). Each returns Findings; with ``repair`` each fixes what can
be rebuilt from the records that are whole and moves what cannot into ``ROOT/quarantine/`` (never deletes
it). What killed processes left behind (temporaries, half-made containers, stale names) is cleaned in every
case, as the engine's recovery always does.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..model.reports import CheckReport
    from ..paths import Layout


def check(layout: Layout, repair: bool = False) -> CheckReport:
    """Look at every file of the root; with ``repair``, mend or quarantine what is damaged."""
    from ..model.reports import CheckReport
    from ..store.quarantine import held
    from . import containers, images, leftovers, volumes_networks

    report = CheckReport()
    report.findings += containers.check(layout, repair)
    report.findings += images.check(layout, repair)
    report.findings += volumes_networks.check(layout, repair)
    report.findings += leftovers.check(layout, repair)
    report.quarantine = held(layout)
    return report
