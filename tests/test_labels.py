"""Priority-map labels never overlap each other or a dot: the placement, the brief's maps (measured
on the rendered figure) and the planner's map (in the plot area its labels are placed for)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from whatif.analysis.results import PriorityBorders, PriorityMap, PriorityPoint
from whatif.report.labels import LabelBox, place_labels, text_size

QUADRANTS = ("fix first", "maintain", "monitor", "lower priority")


def _crowded(n: int, seed: int, spread: float = 0.05) -> list[dict]:
    """``n`` drivers bunched together (the case that overlapped: near-equal ratings and weights)."""
    rng = np.random.default_rng(seed)
    perf = 7.0 + spread * rng.standard_normal(n)
    weight = 0.1 + 0.01 * rng.standard_normal(n)
    return [
        {
            "key": i + 1,
            "driver": f"d{i}",
            "label": f"Driver number {i + 1} with a long name",
            "performance": float(perf[i]),
            "median": float(weight[i]),
            "weight": float(weight[i]),
            "lo": float(weight[i] - 0.03),
            "hi": float(weight[i] + 0.03),
            "quadrant": QUADRANTS[i % 4],
            "p_fix_first": float(rng.uniform()),
        }
        for i in range(n)
    ]


def _assert_clear(boxes, dots) -> None:
    for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2):
        assert not a.overlaps(b), f"labels {i} and {j} overlap: {a} {b}"
    for i, box in enumerate(boxes):
        for j, dot in enumerate(dots):
            assert not box.overlaps(dot), f"label {i} covers dot {j}: {box} {dot}"


@pytest.mark.parametrize("seed", range(5))
def test_labels_are_placed_clear_of_each_other_and_of_every_dot(seed):
    rng = np.random.default_rng(seed)
    points = [tuple(p) for p in rng.normal([300, 150], [25, 12], size=(10, 2))]
    sizes = [text_size(f"label {i}", 11) for i in range(10)]
    bounds = (0, 0, 600, 300)
    boxes = place_labels(points, sizes, radius=6, bounds=bounds)
    _assert_clear(boxes, [(x - 6, y - 6, x + 6, y + 6) for x, y in points])
    for box, (w, h) in zip(boxes, sizes, strict=True):
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= 600 and box.y1 <= 300
        assert box.x1 - box.x0 == pytest.approx(w) and box.y1 - box.y0 == pytest.approx(h)


def test_a_label_is_beside_its_own_dot_when_there_is_room():
    boxes = place_labels([(100, 100), (400, 100)], [(40, 12), (40, 12)], 5, (0, 0, 500, 200))
    assert not any(box.leader for box in boxes)
    assert boxes[0].x0 == pytest.approx(100 + 5 + 2)  # right of the dot, the gap away
    assert LabelBox(0, 0, 1, 1, False).overlaps((0.5, 0.5, 2, 2))
    assert not LabelBox(0, 0, 1, 1, False).overlaps((1, 0, 2, 1))  # touching is not overlapping


@pytest.mark.parametrize("n_panels", [1, 3, 5])
def test_the_briefs_priority_map_numbers_overlap_no_number_and_no_dot(n_panels):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from whatif.report.charts import PRIORITY_DOT, priority_figure

    panels = [
        {
            "title": f"Channel {k}",
            "perf_line": 7.0,
            "weight_line": 0.1,
            "points": _crowded(9, seed=k),
        }
        for k in range(n_panels)
    ]
    fig = priority_figure(panels, "90%")
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    radius = PRIORITY_DOT / 2 * fig.dpi / 72
    for ax, panel in zip(fig.axes, panels, strict=False):
        numbers = [t for t in ax.texts if (t.get_gid() or "").startswith("key-")]
        assert sorted(t.get_text() for t in numbers) == sorted(
            str(p["key"]) for p in panel["points"]
        )
        boxes = [LabelBox(*t.get_window_extent(renderer).extents, leader=False) for t in numbers]
        centers = ax.transData.transform([(p["performance"], p["median"]) for p in panel["points"]])
        dots = [(x - radius, y - radius, x + radius, y + radius) for x, y in centers]
        _assert_clear(boxes, dots)
        x0, y0, x1, y1 = ax.bbox.extents
        for box in boxes:  # inside the plot
            assert box.x0 >= x0 - 0.5 and box.x1 <= x1 + 0.5
            assert box.y0 >= y0 - 0.5 and box.y1 <= y1 + 0.5


def test_the_planners_priority_map_names_overlap_no_name_and_no_dot():
    from whatif.app.model_charts import DOT_MAX, FRAME, priority_chart, priority_labels

    points = _crowded(10, seed=7, spread=0.08)
    pmap = PriorityMap(
        0.9,
        tuple(
            PriorityPoint(
                channel="phone",
                year=2025,
                driver=p["driver"],
                label=p["label"],
                weight=p["weight"],
                median=p["median"],
                lo=p["lo"],
                hi=p["hi"],
                performance=p["performance"],
                p_high_importance=0.5,
                low_performance=p["performance"] < 7,
                p_fix_first=p["p_fix_first"],
                quadrant=p["quadrant"],
            )
            for p in points
        ),
        (PriorityBorders("phone", 2025, 0.1, 7.0),),
    )
    fig = priority_chart(pmap)
    frame = pmap.to_frame()
    x_range, y_range = (fig.x_range.start, fig.x_range.end), (fig.y_range.start, fig.y_range.end)
    labels = priority_labels(frame, x_range, y_range)
    width, height = FRAME
    (x0, x1), (y0, y1) = x_range, y_range
    pixels = [
        ((x - x0) / (x1 - x0) * width, (y - y0) / (y1 - y0) * height)
        for x, y in zip(frame["performance"], frame["median"], strict=True)
    ]
    r = DOT_MAX / 2
    _assert_clear(labels["box"], [(x - r, y - r, x + r, y + r) for x, y in pixels])
    assert sorted(labels["label"]) == sorted(p["label"] for p in points)
    # the chart draws the names where they were placed, and keeps the plot area they need
    (label_set,) = [r for r in fig.center if type(r).__name__ == "LabelSet"]
    assert list(label_set.source.data["x"]) == labels["x"]
    assert fig.frame_height == height and fig.min_width >= width
