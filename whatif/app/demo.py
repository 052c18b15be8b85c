"""The demo of the planner: where the demo model and its data live, and how it is fitted."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEMO_FIT", "demo_paths"]

#: Fit settings when the demo model has to be fitted at start (the command line's defaults).
DEMO_FIT = {"draws": 1000, "tune": 1000, "chains": 4, "seed": 0}


def demo_paths(root: Path) -> tuple[Path, Path, Path]:
    """``(model folder, survey, spec)`` of the demo in the project folder ``root``."""
    return (
        root / "models" / "demo",
        root / "data" / "demo" / "survey.parquet",
        root / "data" / "demo" / "spec.toml",
    )
