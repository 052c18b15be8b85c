"""Small formatting helpers of the planner: signed points, shares, intervals, file-name slugs.

Moved here unchanged from the planner's state; to be unified with the report's formatter later.
"""

from __future__ import annotations

import math
import re

__all__ = ["format_points", "format_share", "interval_text", "slugify"]


def format_points(value: float, digits: int = 2) -> str:
    """A signed number of satisfaction points, e.g. ``+0.12``."""
    if value is None or not math.isfinite(value):
        return "-"
    if abs(value) < 0.5 * 10**-digits:
        value = 0.0
    return f"{value:+.{digits}f}"


def format_share(value: float, digits: int = 0, signed: bool = False) -> str:
    """A share as a percentage, e.g. ``12%`` (or ``+1.3 pts`` with ``signed``)."""
    if value is None or not math.isfinite(value):
        return "-"
    if signed:
        return f"{100 * value:+.{max(digits, 1)}f} pts"
    return f"{100 * value:.{digits}f}%"


def slugify(name: str) -> str:
    """A file-name-safe version of a scenario name."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return slug or "scenario"


def interval_text(entry: dict) -> str:
    """A summary entry's mean and interval in signed points, e.g. ``+0.12 [+0.05, +0.20]``."""
    return f"{format_points(entry['mean'])} [{format_points(entry['lo'])}, {format_points(entry['hi'])}]"
