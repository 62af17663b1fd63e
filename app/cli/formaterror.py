"""The error of a ``--format`` template that does not parse or fails while it runs.

Loaded only when a template fails. Docker prints the template's message as it is (``template parsing error:
template: :1: function "foo" not defined``), and the command prints nothing else; the status is 125.
"""

from __future__ import annotations

from engine import DockyardError


class TemplateFailure(DockyardError):
    exit_code = 125
    #: whatever the command: the status does not depend on the command's own error statuses
    status_always = True
    #: what goes before the message on stderr: nothing, Docker's message says what failed
    prefix = ""
