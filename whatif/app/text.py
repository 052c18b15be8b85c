"""File names of the planner's downloads (numbers are written by :mod:`whatif.report.format`)."""

from __future__ import annotations

import re

__all__ = ["slugify"]


def slugify(name: str) -> str:
    """A file-name-safe version of a scenario name."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return slug or "scenario"
