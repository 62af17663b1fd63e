"""Errors of registry traffic, worded as Docker users know them."""

from __future__ import annotations

from ..errors import DigestMismatch as DigestMismatch  # load raises it too: an engine error
from ..errors import DockyardError, ImageNotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class RegistryError(DockyardError):
    """The registry refused a request, answered something unusable, or could not be reached."""

    def __init__(self, message: str, status: int = 0, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code  # the Distribution API error code, e.g. MANIFEST_UNKNOWN


class Unreachable(RegistryError):
    """No connection could be made (refused, no route, name not resolved, timed out)."""


class Unauthorized(RegistryError):
    """The registry wants credentials, or refused the ones given."""


class ManifestUnknown(RegistryError, ImageNotFound):
    """The tag or digest does not exist in the repository."""


def describe(status: int, body: bytes) -> tuple[str, str]:
    """(code, "code: message") from a Distribution API error body, e.g. ``manifest unknown: manifest unknown``.

    Falls back to the HTTP status when the body is not the API's error JSON."""
    import json

    try:
        doc: Any = json.loads(body or b"null")
    except ValueError:
        doc = None
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        e = errors[0]
        code = str(e.get("code") or "")
        message = str(e.get("message") or code.lower().replace("_", " "))
        label = code.lower().replace("_", " ") if code else ""
        return code, f"{label}: {message}" if label else message
    import http

    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "error"
    text = (body or b"")[:200].decode(errors="replace").strip()
    return "", f"received unexpected HTTP status: {status} {phrase}" + (f" ({text})" if text else "")
