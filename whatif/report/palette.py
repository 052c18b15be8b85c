"""One palette for every chart and page: the brief (matplotlib, CSS) and the app (bokeh, CSS).

Colors are named by role, not by hue, so a chart asks for ``"fix first"`` or ``"band"`` and the
brief and the app always agree on what a color means.
"""

from __future__ import annotations

__all__ = ["COLORS", "QUADRANT_COLORS", "SERIES"]

#: Colors by role.
COLORS = {
    "ink": "#1d2733",
    "muted": "#6b7785",
    "grid": "#e3e7ec",
    "primary": "#1f4e9c",
    "primary_light": "#c9d8f2",
    "positive": "#13795b",
    "negative": "#b3261e",
    "neutral": "#6b7280",
    "indirect": "#27476e",
    "direct": "#7fa7c9",
    "band": "#27476e",
    "band_light": "#c9d6e3",
    "fix_zone": "#f8e9e5",
    "fix_text": "#b3261e",
}

#: The priority map's quadrants (points, legend and the zone's label).
QUADRANT_COLORS = {
    "fix first": "#c8553d",
    "maintain": "#27476e",
    "monitor": "#d9a441",
    "lower priority": "#a8b2bd",
}

#: One color per series (drivers over the years): color-blind safe, Okabe-Ito then Tableau.
SERIES = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
    "#8c564b",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]
