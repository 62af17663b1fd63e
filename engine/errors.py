"""The engine's exceptions: one small hierarchy, messages worded as Docker users know them.

Every error carries the exit status the CLI should use (Docker's: 125 for an engine error, 126 when the
command cannot be invoked, 127 when it is not found).
"""

from __future__ import annotations


class DockyardError(Exception):
    """Base of every error the engine raises on purpose."""

    exit_code = 125

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(DockyardError):
    """An image, container, volume, network or file that does not exist."""


class ImageNotFound(NotFound):
    pass


class ContainerNotFound(NotFound):
    pass


class Conflict(DockyardError):
    """The request clashes with the current state (a name in use, an image in use, a running container)."""


class InvalidArgument(DockyardError):
    """Bad input, refused before anything was changed."""


class ComposeError(InvalidArgument):
    """A compose file that cannot be loaded: the message names the file, the line and the key. Docker Compose
    exits with status 1."""

    exit_code = 1


class UnsafeArchive(InvalidArgument):
    """A tar archive tried to write outside its destination or had a malformed entry."""


class StoreError(DockyardError):
    """The store on disk is unreadable or inconsistent."""


class CorruptRecord(StoreError):
    """A file of the root's state (a record, an index, a manifest) is unreadable: garbled, truncated, of the
    wrong shape. Names the file; ``system check --repair`` rebuilds or quarantines it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path} is damaged ({reason}); 'dockyard system check --repair' can mend the root")
        self.path = path
        self.reason = reason


class DigestMismatch(StoreError):
    """Content (downloaded, or read from an archive) does not hash to the digest, or has not the size, that
    names it: refused, nothing kept."""


class NotSupported(DockyardError):
    """What this engine does not offer (``EngineAPI.supports`` says so before it is asked): ``feature`` is its
    name (engine/interface.py's FEATURES), ``reason`` the sentence why."""

    status_always = True  # the CLI's status for it is 125 whatever the command (a refusal, not a failure)

    def __init__(self, feature: str, reason: str, message: str | None = None) -> None:
        super().__init__(message or f"{feature}: {reason}")
        self.feature = feature
        self.reason = reason


class RuntimeFailure(DockyardError):
    """The kernel refused something the runtime needed (a mount, a namespace, a cgroup)."""


class CommandNotInvokable(DockyardError):
    """The container's command exists but cannot be executed (Docker: exit 126)."""

    exit_code = 126


class CommandNotFound(DockyardError):
    """The container's command was not found in the container (Docker: exit 127)."""

    exit_code = 127


class BuildError(DockyardError):
    """A Dockerfile is invalid or a build step failed; ``code`` is a failed RUN command's exit status."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code
