"""The one exception of the template package."""

from __future__ import annotations


class TemplateError(Exception):
    """A template that does not parse, or fails while it runs; the message is Go's
    (``template: :1: function "foo" not defined``)."""
