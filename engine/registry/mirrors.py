"""Docker Hub mirrors: ``"registry-mirrors"`` in ``ROOT/daemon.json``, as Docker's daemon.json has them
(``{"registry-mirrors": ["https://mirror.example", "http://127.0.0.1:5000"]}``).

When mirrors are set, what is read from Docker Hub (pulls, tag lists, distribution inspect) is read from the
first mirror instead, with no Hub credentials sent to it; pushes still go to Docker Hub. Unlike Docker's
daemon, a mirror that fails or lacks the image is not followed by a try at Docker Hub itself: a machine that
names a mirror gets its images from the mirror only.
"""

from __future__ import annotations

import os

from ..errors import InvalidArgument
from ..fsutil import read_json

CONFIG_NAME = "daemon.json"
KEY = "registry-mirrors"


def hub_mirror(root: str | None) -> str | None:
    """The ``host[:port]`` of the first mirror the root names, or None."""
    if not root:
        return None
    doc = read_json(os.path.join(root, CONFIG_NAME), {}) or {}
    mirrors = doc.get(KEY) if isinstance(doc, dict) else None
    if not mirrors:
        return None
    import urllib.parse

    first = str(mirrors[0]).strip() if isinstance(mirrors, list) else ""
    url = urllib.parse.urlsplit(first)
    if url.scheme not in ("http", "https") or not url.netloc or url.path.strip("/"):
        raise InvalidArgument(
            f"invalid mirror in {os.path.join(root, CONFIG_NAME)}: {first!r}: "
            "a registry's http:// or https:// URL with no path is expected"
        )
    return url.netloc
