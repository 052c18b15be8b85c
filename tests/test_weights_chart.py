"""The planner's weight chart stays readable with many drivers: faint lines, the hovered one full."""

from __future__ import annotations

import numpy as np
import pandas as pd
from bokeh.models import GlyphRenderer, HoverTool, Line


def _frame(n_drivers: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for d in range(n_drivers):
        for year in (2023, 2024, 2025):
            mean = 0.2 + 0.01 * rng.standard_normal()
            rows.append(
                {
                    "channel": "phone",
                    "year": year,
                    "driver": f"d{d}",
                    "label": f"Driver {d}",
                    "mean": mean,
                    "lo": mean - 0.05,
                    "hi": mean + 0.05,
                }
            )
    return pd.DataFrame(rows)


def _lines(fig) -> list[GlyphRenderer]:
    return [r for r in fig.renderers if isinstance(r, GlyphRenderer) and isinstance(r.glyph, Line)]


def test_many_drivers_are_drawn_faint_and_the_hovered_one_in_full():
    from whatif.app.model_charts import CROWDED_DRIVERS, weights_chart

    fig = weights_chart(_frame(9))
    lines = _lines(fig)
    assert len(lines) == 9 > CROWDED_DRIVERS
    for line in lines:
        assert line.glyph.line_alpha < 0.5
        assert line.hover_glyph is not None and line.hover_glyph.line_alpha == 1.0
        assert line.hover_glyph.line_width > line.glyph.line_width
    (hover,) = [t for t in fig.tools if isinstance(t, HoverTool)]
    assert set(lines) <= set(hover.renderers)
    assert len(fig.legend[0].items) == 9


def test_a_few_drivers_are_drawn_in_full():
    from whatif.app.model_charts import weights_chart

    lines = _lines(weights_chart(_frame(3)))
    assert len(lines) == 3 and all(line.glyph.line_alpha == 1.0 for line in lines)
