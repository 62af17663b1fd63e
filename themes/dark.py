"""The default dark theme: deep harbour blue with amber accents."""

from textual.theme import Theme

DARK = Theme(
    name="dockyard-dark",
    primary="#3B9EDB",
    secondary="#7A8FA6",
    accent="#F2A541",
    warning="#F2C14E",
    error="#E5534B",
    success="#57AB5A",
    foreground="#D8DEE6",
    background="#12171E",
    surface="#1A212B",
    panel="#232C38",
    dark=True,
    variables={
        "layer-added": "#57AB5A",
        "layer-modified": "#F2C14E",
        "layer-removed": "#E5534B",
        "log-stderr": "#E5534B",
        "log-match": "#12171E on #F2A541",
        "footer-key-foreground": "#F2A541",
    },
)
