"""What a build is asked to do: the ``docker build`` flags as one typed record, given to ``Images.build``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

NETWORKS = ("none", "host", "default")
#: What ``run_options`` may set on each RUN step's container (CreateOptions fields; Docker's build flags
#: -m, --memory-swap, -c, --cpu-period, --cpu-quota, --cpuset-cpus, --cpuset-mems, --shm-size, --ulimit,
#: --security-opt, --add-host, --cgroup-parent).
RUN_OPTIONS = frozenset(
    {
        "memory",
        "memory_swap",
        "cpu_shares",
        "cpu_period",
        "cpu_quota",
        "cpuset_cpus",
        "cpuset_mems",
        "shm_size",
        "ulimits",
        "security_opt",
        "extra_hosts",
        "cgroup_parent",
    }
)
OUTPUT_TYPES = ("local", "tar")


class BuildOptions:
    """``context_dir`` is the build context; ``dockerfile`` a path in it or elsewhere (default
    ``Dockerfile`` in the context); ``tags`` are moved to the new image; ``build_args`` fill ARGs (``None``
    takes the value from the environment, as ``--build-arg NAME`` does); ``target`` names the last stage to
    build; ``no_cache`` runs every step; ``labels`` are added to the image.

    ``dockerfile_text`` is the Dockerfile itself (``-f -``: read from standard input), in place of a file.
    ``context_stream`` is the context as a tar stream (plain or compressed, its Dockerfile inside), or a
    Dockerfile alone with no context (``build -``): the first bytes tell which; ``context_dir`` is then
    not read. ``secrets`` are the values ``RUN --mount=type=secret`` shows, by id (``--secret``).
    ``network`` is the RUN steps' network: ``none`` (also ``default``) or ``host``. ``build_contexts`` name
    more directories (``--build-context NAME=DIR``) for ``FROM``, ``COPY --from`` and ``RUN --mount from=``.
    ``pull`` pulls every image the build uses first. ``output`` exports the final stage's files instead
    of storing an image: ``("local", DIR)`` or ``("tar", FILE)``, with ``output_stream`` taking the tar
    when FILE is ``-``. ``cache_from`` is accepted and reported as unused (the root's own cache is used),
    unless ``cache_from_only`` asks for the classic builder's meaning (the Engine API's ``cachefrom``): a
    step then comes from the cache only when its result lies on the layers of one of those images, and
    names that are no image give no cache.
    ``platform`` must be this machine's (``linux/amd64``): a build runs its steps natively.
    ``run_options`` set limits and options of every RUN step's container (the keys of RUN_OPTIONS, as
    ``CreateOptions`` names them)."""

    def __init__(
        self,
        context_dir: str,
        dockerfile: str | None = None,
        tags: Iterable[str] | str = (),
        build_args: Mapping[str, str | None] | None = None,
        target: str | None = None,
        no_cache: bool = False,
        labels: Mapping[str, str] | None = None,
        *,
        dockerfile_text: str | None = None,
        context_stream: BinaryIO | None = None,
        secrets: Mapping[str, bytes] | None = None,
        network: str = "none",
        build_contexts: Mapping[str, str] | None = None,
        pull: bool = False,
        output: tuple[str, str] | None = None,
        output_stream: BinaryIO | None = None,
        cache_from: Iterable[str] = (),
        cache_from_only: bool = False,
        platform: str | None = None,
        run_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.context_dir = context_dir
        self.dockerfile = dockerfile or None
        self.tags = [tags] if isinstance(tags, str) else [t for t in tags if t]
        self.build_args = dict(build_args or {})
        self.target = target or None
        self.no_cache = no_cache
        self.labels = dict(labels or {})
        self.dockerfile_text = dockerfile_text
        self.context_stream = context_stream
        self.secrets = dict(secrets or {})
        self.network = network or "none"
        self.build_contexts = dict(build_contexts or {})
        self.pull = pull
        self.output = output
        self.output_stream = output_stream
        self.cache_from = list(cache_from)
        self.cache_from_only = cache_from_only
        self.platform = platform or None
        self.run_options = dict(run_options or {})

    def __repr__(self) -> str:
        return f"BuildOptions({self.context_dir!r}, tags={self.tags!r})"
