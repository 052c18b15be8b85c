"""The driver-weights tab: each driver's weight over the years, with its band, for one channel;
under it the last year's weights, total effects and relative importance, and the driver paths."""

from __future__ import annotations

import panel as pn
from panel.viewable import Viewer

from whatif.app import model_charts
from whatif.app.bundle import ModelBundle
from whatif.app.state import PlannerState
from whatif.app.views.widgets import (
    channel_select,
    esc,
    html_pane,
    html_table,
    paper,
    sync_channel_select,
)
from whatif.report.format import interval, percent, points

__all__ = ["WeightsPanel", "effects_tables"]


def _estimate(mean: float, lo: float, hi: float) -> str:
    return f"{points(mean)} {interval(lo, hi, style='brackets')}"


def effects_tables(bundle: ModelBundle, channel: str, ci: float) -> str:
    """HTML of the channel's drivers (weight, total effect and relative importance in the last
    year) and, when the model has paths, of its paths (driver, source, effect and interval)."""
    year = bundle.year_label(bundle.years[-1])
    frame = bundle.driver_effects_frame(ci)
    frame = frame[frame["channel"] == channel].sort_values("share", ascending=False)
    rows = [
        [
            esc(r.label),
            _estimate(r.weight, r.weight_lo, r.weight_hi),
            _estimate(r.total, r.total_lo, r.total_hi),
            percent(r.share),
        ]
        for r in frame.itertuples()
    ]
    out = (
        f'<div class="section">Weights and total effects ({esc(year)})</div>'
        '<div class="note">The total effect adds to a driver\'s weight everything it moves '
        "through the drivers it drives (the paths); relative importance is the driver's share "
        "of the explained variation (Johnson's relative weights).</div>"
        + html_table(["Driver", "Weight", "Total effect", "Relative importance"], rows)
    )
    paths = bundle.paths_frame(ci)
    paths = paths[paths["channel"] == channel]
    if len(paths):
        rows = [
            [esc(r.source_label), esc(r.label), _estimate(r.mean, r.lo, r.hi)]
            for r in paths.itertuples()
        ]
        out += (
            '<div class="section">Paths</div>'
            '<div class="note">Rating points of the driver per rating point of its source, '
            f"with its {ci:.0%} interval.</div>" + html_table(["Source", "Driver", "Effect"], rows)
        )
    return out


class WeightsPanel(Viewer):
    """Driver weights over the years, with their bands, for the chosen channel."""

    def __init__(self, state: PlannerState, **params):
        super().__init__(**params)
        self.state = state
        self._channel = channel_select(state, margin=(4, 0))
        self._chart = pn.pane.Bokeh(sizing_mode="stretch_width")
        self._tables = html_pane()
        state.param.watch(self._update, ["focus_channel", "model_path", "ci"])
        self._layout = paper(
            html_pane(
                '<div class="section">Driver weights over the years</div>'
                '<div class="note">How many satisfaction points one more rating point of each '
                "driver is worth, per year, with its interval. Click a legend entry to hide a "
                "driver.</div>"
            ),
            self._channel,
            self._chart,
            self._tables,
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
        frame = bundle.weights_frame(state.ci)
        frame = frame[frame["channel"] == state.focus_channel]
        self._chart.object = model_charts.weights_chart(frame, ci=state.ci)
        self._tables.object = effects_tables(bundle, state.focus_channel, state.ci)
