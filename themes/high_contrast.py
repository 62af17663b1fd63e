"""High contrast: pure black and white with saturated signal colours, for low vision and bad projectors."""

from textual.theme import Theme

HIGH_CONTRAST = Theme(
    name="dockyard-high-contrast",
    primary="#FFFF00",
    secondary="#FFFFFF",
    accent="#00FFFF",
    warning="#FFFF00",
    error="#FF4040",
    success="#00FF00",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#202020",
    boost="#333333",
    dark=True,
    luminosity_spread=0.3,
    text_alpha=1.0,
    variables={
        "layer-added": "#00FF00",
        "layer-modified": "#FFFF00",
        "layer-removed": "#FF4040",
        "log-stderr": "#FF4040",
        "log-match": "#000000 on #FFFF00",
        "border": "#FFFFFF",
        "border-blurred": "#AAAAAA",
        "footer-key-foreground": "#00FFFF",
        "block-cursor-background": "#FFFF00",
        "block-cursor-foreground": "#000000",
    },
)
