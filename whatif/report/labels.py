"""Label placement for scatter charts: each label next to its dot, clear of other labels and dots.

:func:`place_labels` works in display units (pixels or points, y up): it tries positions around
each dot, nearest first, and keeps the first whose box overlaps no label placed before it, no dot
and stays inside the plot; a label pushed away from its dot gets a leader line. The brief's
priority maps (:mod:`whatif.report.charts`) and the planner's (:mod:`whatif.app.model_charts`)
both place their labels with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LabelBox", "place_labels", "text_size"]

#: Directions tried around a dot, in order: right, left, above, below, then the diagonals.
_DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1))
_RINGS = 14  # distances tried, each ``step`` further out


@dataclass(frozen=True)
class LabelBox:
    """Where a label goes: its box (``x0 < x1``, ``y0 < y1``) and whether it needs a leader."""

    x0: float
    y0: float
    x1: float
    y1: float
    leader: bool

    def overlaps(self, other: LabelBox | tuple[float, float, float, float]) -> bool:
        x0, y0, x1, y1 = (
            (other.x0, other.y0, other.x1, other.y1) if isinstance(other, LabelBox) else other
        )
        return self.x0 < x1 and x0 < self.x1 and self.y0 < y1 and y0 < self.y1

    def anchor(self, x: float, y: float) -> tuple[float, float]:
        """The point of the box nearest to ``(x, y)`` (where a leader line ends)."""
        return min(max(x, self.x0), self.x1), min(max(y, self.y0), self.y1)

    def to_dict(self) -> dict:
        return {"x0": self.x0, "y0": self.y0, "x1": self.x1, "y1": self.y1, "leader": self.leader}


def text_size(text: str, font_size: float) -> tuple[float, float]:
    """A generous estimate of a one-line label's box (width, height) in the units of the font
    size, for sans-serif text (where no renderer can measure it)."""
    return 0.6 * font_size * max(len(text), 1) + 2.0, 1.3 * font_size


def place_labels(
    points: Sequence[tuple[float, float]],
    sizes: Sequence[tuple[float, float]],
    radius: float,
    bounds: tuple[float, float, float, float],
    gap: float = 2.0,
    step: float = 6.0,
) -> list[LabelBox]:
    """A box for each label, next to its dot, clear of the other labels and of every dot.

    Parameters
    ----------
    points
        The dots' centers, in display units with y up.
    sizes
        Each label's (width, height) in the same units.
    radius
        The dots' radius (a dot is kept clear as its bounding square).
    bounds
        ``(x0, y0, x1, y1)`` of the plot area the labels must stay in.
    gap, step
        Space between a dot and its label; how much further each next try goes.

    Returns
    -------
    list[LabelBox]
        In the order of ``points``. Labels are placed crowded dots first; when no position
        is clear (a plot too small for its labels) the one overlapping least is taken.
    """
    dots = [(x - radius, y - radius, x + radius, y + radius) for x, y in points]
    crowding = [
        sum(abs(x - u) < 4 * radius + w and abs(y - v) < 4 * radius + h for u, v in points)
        for (x, y), (w, h) in zip(points, sizes, strict=True)
    ]
    order = sorted(range(len(points)), key=lambda i: (-crowding[i], i))
    placed: dict[int, LabelBox] = {}
    for i in order:
        (x, y), (w, h) = points[i], sizes[i]
        best, best_cost = None, float("inf")
        for ring in range(_RINGS):
            distance = radius + gap + ring * step
            for dx, dy in _DIRECTIONS:
                box = _box(x, y, w, h, dx, dy, distance, leader=ring > 1)
                cost = _cost(box, bounds, dots, placed.values())
                if cost == 0:
                    best, best_cost = box, 0
                    break
                if cost < best_cost:
                    best, best_cost = box, cost
            if best_cost == 0:
                break
        placed[i] = best
    return [placed[i] for i in range(len(points))]


def _box(x, y, w, h, dx, dy, distance, leader) -> LabelBox:
    cx = x + dx * (distance + w / 2) if dx else x
    cy = y + dy * (distance + h / 2) if dy else y
    if dx and dy:  # diagonals: the corner of the box sits at the distance
        cx = x + dx * (0.7 * distance + w / 2)
        cy = y + dy * (0.7 * distance + h / 2)
    return LabelBox(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, leader)


def _cost(box: LabelBox, bounds, dots, placed) -> float:
    """Overlapping area with the dots and placed labels, plus the area outside the plot."""
    x0, y0, x1, y1 = bounds
    outside = (box.x1 - box.x0) * (box.y1 - box.y0) - _area(box, (x0, y0, x1, y1))
    covered = sum(_area(box, dot) for dot in dots)
    covered += sum(_area(box, (o.x0, o.y0, o.x1, o.y1)) for o in placed)
    return 10 * max(outside, 0.0) + covered


def _area(box: LabelBox, other) -> float:
    ox0, oy0, ox1, oy1 = other
    w = min(box.x1, ox1) - max(box.x0, ox0)
    h = min(box.y1, oy1) - max(box.y0, oy0)
    return w * h if w > 0 and h > 0 else 0.0
