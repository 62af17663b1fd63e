"""The route modules of the Engine API service. Each has ``routes(api) -> list[web.RouteDef]`` with paths
without the version prefix (the server adds ``/v{version}`` to each). A module that is not there (yet) is
left out: the rest is served."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from ..api import Api

MODULES = ("system", "containers", "images", "build", "networks", "volumes", "exec")


def all_routes(api: Api) -> list[web.RouteDef]:
    out: list[web.RouteDef] = []
    for name in MODULES:
        full = f"{__name__}.{name}"
        try:
            module = __import__(full, fromlist=["routes"])
        except ModuleNotFoundError as e:
            if e.name != full:  # the module is there but something it imports is not: say so
                raise
            continue
        out.extend(module.routes(api))
    return out
