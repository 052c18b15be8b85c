"""A lever in the planner's words and its own units (no Panel).

A share moves in percentage points and reads as one: ``+10 pts (share 31% -> 41%)``, never
``+0.1``; its "now" and "new" are those of the channels the lever acts on (a lever loaded for IVR
routing only shows IVR routing's share, not a mix of every channel). Numbers go through
:mod:`whatif.report.format`.
"""

from __future__ import annotations

import numpy as np

from whatif.analysis.scenario import Lever, apply_operation
from whatif.report import format as fmt

__all__ = ["lever_words", "share_change"]


def _scope(bundle, lever: Lever) -> tuple[str, ...]:
    if lever.channels:
        return tuple(lever.channels)
    control = bundle.controls.get(lever.target)
    return control.channels if control else tuple(bundle.channels)


def share_change(bundle, lever: Lever, year: int) -> tuple[float, float]:
    """``(now, new)``: a yes/no influencer's share before and after ``lever`` in its channels.

    Each channel's share moves as the engine moves it (the operation on that channel's share,
    kept within 0-1); both are weighted by the channels' contact volumes.
    """
    channels = [c for c in _scope(bundle, lever) if c in bundle.channels]
    now = np.array([bundle.current_mean(lever.target, year, [c]) for c in channels])
    volume = bundle.engine.volumes(year)[[bundle.engine.channels.index(c) for c in channels]]
    keep = np.isfinite(now)
    if not keep.any():
        return float("nan"), float("nan")
    now, volume = now[keep], volume[keep]
    new = np.clip(apply_operation(lever.operation, lever.value, now), 0.0, 1.0)
    weights = volume / volume.sum()
    return float(now @ weights), float(new @ weights)


def _share_words(bundle, lever: Lever, year: int) -> str:
    now, new = share_change(bundle, lever, year)
    moved = f"share {fmt.percent(now)} -> {fmt.percent(new)}"
    value = lever.value
    if lever.operation in ("share", "set"):
        return f"share {fmt.percent(now)} -> {fmt.percent(value)}"
    if lever.operation == "shift":
        digits = 0 if abs(100 * value - round(100 * value)) < 1e-9 else 1
        return f"{fmt.share_points(value, digits)} ({moved})"
    if lever.operation == "cap":
        return f"at most {fmt.percent(value)} ({moved})"
    if lever.operation == "floor":
        return f"at least {fmt.percent(value)} ({moved})"
    return f"x {value:g} ({moved})"


def lever_words(bundle, lever: Lever, year: int) -> str:
    """``Label: what it does`` in the lever's own units, then ``in <channels>`` when limited."""
    label = bundle.label(lever.target)
    control = bundle.controls.get(lever.target)
    measure = control.measure if control else None
    if measure is None and lever.kind == "influencer":
        kinds = {i.id: i.kind for i in bundle.model.spec.influencers}
        measure = kinds.get(lever.target)
    if measure == "binary":
        text = f"{label}: {_share_words(bundle, lever, year)}"
    elif lever.kind == "driver" and lever.operation == "shift":
        text = f"{label}: {fmt.points(lever.value)} rating points"
    else:
        text = Lever(lever.target, lever.kind, lever.operation, lever.value).describe(label)
    if lever.channels:
        text += " in " + ", ".join(bundle.label(c) for c in lever.channels)
    return text
