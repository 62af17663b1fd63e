"""The predefined ``bridge`` network.

The ``bridge`` network's record is written the first time it is needed: bridge ``dockyard0`` for the
default root (``dy-<id>`` for any other root, so that several roots can coexist), subnet 10.88.0.0/16 or,
when the host already routes that, the next free one of the pool. To pin it, edit ``subnet``/``gateway``
in ``networks/bridge/network.json`` and set ``auto_subnet`` to false.
"""

from __future__ import annotations

import os
import time

from ..humanize import rfc3339
from ..model.network import Network
from . import ipam
from .netstore import DEFAULT_NETWORK, NetStore, root_tag


def ensure_default_network(store: NetStore) -> Network:
    """The ``bridge`` network's record, written if missing (caller holds the network lock)."""
    net = store.load(DEFAULT_NETWORK)
    if net is not None:
        return net
    nid = os.urandom(32).hex()
    taken = [ipam.parse_subnet(n.subnet) for n in store.all() if n.subnet]
    subnet = ipam.pick_subnet(ipam.DEFAULT_BRIDGE_POOL + ipam.user_pool(), taken)
    net = Network(
        name=DEFAULT_NETWORK,
        id=nid,
        created=rfc3339(time.time()),
        subnet=str(subnet),
        gateway=ipam.default_gateway(subnet),
        bridge="dockyard0" if not root_tag(store.layout) else "dy-" + nid[:12],
        auto_subnet=True,
        options={"com.docker.network.bridge.default_bridge": "true"},
    )
    store.save(net)
    return net
