"""How a resource's state is shown: one tone per state, one badge, for every surface.

Tones map onto JupyterLab's theme variables (with fallbacks for Voila and plain HTML), so
the magics' HTML, the widgets, the dashboard topology and the sidebar (which reads `tone`
from the topology model) colour a state the same way in light and dark themes.
"""

from __future__ import annotations

import html

TONES = {"Available": "ok", "Ready": "ok", "Running": "ok", "Failed": "error",
         "NotReady": "warn", "Unknown": "warn", "Creating": "info", "Progressing": "info"}
COLOURS = {"ok": "var(--jp-success-color1, #2e7d32)", "error": "var(--jp-error-color1, #c62828)",
           "warn": "var(--jp-warn-color1, #ef6c00)", "info": "var(--jp-info-color1, #1565c0)",
           "none": "var(--jp-ui-font-color2, #616161)"}


def tone(state: str) -> str:
    """ok / error / warn / info / none for a controller's state word."""
    return TONES.get(state, "none")


def colour(state_or_tone: str) -> str:
    return COLOURS.get(state_or_tone, COLOURS[tone(state_or_tone)])


def badge(state: str) -> str:
    """The state as a coloured bold word (HTML)."""
    return (f'<span class="sj-state sj-{tone(state)}" style="color:{colour(state)};'
            f'font-weight:bold">{html.escape(state)}</span>')


def error_text(message: str) -> str:
    """An error message in the error colour (HTML)."""
    return f'<span style="color:{COLOURS["error"]}">{html.escape(message)}</span>'
