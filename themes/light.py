"""A light theme for bright terminals: ink on paper, with teal and orange."""

from textual.theme import Theme

LIGHT = Theme(
    name="dockyard-light",
    primary="#0B6E99",
    secondary="#5C6B7A",
    accent="#C4570E",
    warning="#9A6700",
    error="#C62828",
    success="#2E7D32",
    foreground="#1F2328",
    background="#F7F8FA",
    surface="#FFFFFF",
    panel="#E4E8EE",
    dark=False,
    variables={
        "layer-added": "#2E7D32",
        "layer-modified": "#9A6700",
        "layer-removed": "#C62828",
        "log-stderr": "#C62828",
        "log-match": "#FFFFFF on #C4570E",
        "footer-key-foreground": "#C4570E",
    },
)
