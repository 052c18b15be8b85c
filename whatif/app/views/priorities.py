"""The priority-map tab: importance against performance per driver, and the fix-first list."""

from __future__ import annotations

import panel as pn
import panel_material_ui as pmui
from panel.viewable import Viewer

from whatif.app import model_charts
from whatif.app.state import PlannerState
from whatif.app.views.widgets import (
    channel_select,
    esc,
    html_pane,
    html_table,
    paper,
    sync_channel_select,
)
from whatif.report import format as fmt

__all__ = ["PriorityPanel"]


class PriorityPanel(Viewer):
    """The priority map of the chosen channel and year, with the fix-first quadrant shaded."""

    def __init__(self, state: PlannerState, **params):
        super().__init__(**params)
        self.state = state
        self._channel = channel_select(state, margin=(4, 8, 4, 0))
        self._year = pmui.Select(label="Year", width=140, margin=(4, 0))
        self._year.param.watch(lambda _: self._update(), "value")
        self._chart = pn.pane.Bokeh(sizing_mode="stretch_width")
        self._list = html_pane()
        state.param.watch(self._update, ["focus_channel", "model_path", "ci"])
        self._layout = pn.Column(
            paper(
                html_pane(
                    '<div class="section">Priority map: importance against performance</div>'
                    '<div class="note">Drivers in the shaded <b>fix first</b> quadrant matter more '
                    "than most (weight above the median) and perform worse than most (rating "
                    "below the average). Dot size: probability of being fix first.</div>"
                ),
                pn.Row(self._channel, self._year, margin=0),
                self._chart,
            ),
            paper(self._list),
            sizing_mode="stretch_width",
            margin=0,
        )
        self._update()

    def __panel__(self):
        return self._layout

    def _update(self, *_) -> None:
        state = self.state
        if state.bundle is None:
            return
        bundle = state.bundle
        sync_channel_select(self._channel, state)
        years = {bundle.year_label(y): y for y in bundle.years}
        year = self._year.value if self._year.value in bundle.years else bundle.years[-1]
        self._year.param.update(options=years, value=year)
        pmap = bundle.priorities(state.ci).select(channel=state.focus_channel, year=year)
        self._chart.object = model_charts.priority_chart(pmap)
        frame = pmap.to_frame().sort_values(["p_fix_first", "weight"], ascending=False)
        rows = [
            [
                esc(r.label),
                r.quadrant,
                f"{r.weight:.3f}",
                fmt.interval(r.lo, r.hi, 3),
                f"{r.performance:.2f}",
                fmt.probability(r.p_high_importance),
                fmt.probability(r.p_fix_first) if r.low_performance else "-",
            ]
            for r in frame.itertuples()
        ]
        self._list.object = (
            '<div class="section">Drivers, most likely fix first on top</div>'
            + html_table(
                [
                    "Driver",
                    "Quadrant",
                    "Weight",
                    f"{state.ci:.0%} interval",
                    "Mean rating",
                    "P(high importance)",
                    "P(fix first)",
                ],
                rows,
            )
        )
