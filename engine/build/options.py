"""What a build is asked to do: the ``docker build`` flags as one typed record, given to ``Images.build``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class BuildOptions:
    """``context_dir`` is the build context; ``dockerfile`` a path in it or elsewhere (default
    ``Dockerfile`` in the context); ``tags`` are moved to the new image; ``build_args`` fill ARGs (``None``
    takes the value from the environment, as ``--build-arg NAME`` does); ``target`` names the last stage to
    build; ``no_cache`` runs every step; ``labels`` are added to the image."""

    def __init__(
        self,
        context_dir: str,
        dockerfile: str | None = None,
        tags: Iterable[str] | str = (),
        build_args: Mapping[str, str | None] | None = None,
        target: str | None = None,
        no_cache: bool = False,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        self.context_dir = context_dir
        self.dockerfile = dockerfile or None
        self.tags = [tags] if isinstance(tags, str) else [t for t in tags if t]
        self.build_args = dict(build_args or {})
        self.target = target or None
        self.no_cache = no_cache
        self.labels = dict(labels or {})

    def __repr__(self) -> str:
        return f"BuildOptions({self.context_dir!r}, tags={self.tags!r})"
