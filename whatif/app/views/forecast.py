"""The forecast tab: the lift distribution, the lift by channel and where the lift comes from."""

from __future__ import annotations

import panel as pn
from panel.viewable import Viewer

from whatif.app import plots
from whatif.app.outcomes import forecast_table
from whatif.app.state import PlannerState
from whatif.app.views.widgets import esc, html_pane, html_table, paper

__all__ = ["ForecastPanel"]


class ForecastPanel(Viewer):
    """The lift distribution, the per-channel intervals and the table of direct and indirect parts."""

    def __init__(self, state: PlannerState, **params):
        super().__init__(**params)
        self.state = state
        self._hist = plots.LiftHistogram()
        self._channels = plots.ChannelIntervals()
        self._table = html_pane()
        state.param.watch(self._update, ["forecast"])
        self._layout = pn.Column(
            pn.Row(
                paper(
                    html_pane(
                        '<div class="section">Distribution of the company lift</div>'
                        '<div class="note">Over the posterior draws. Shaded: the interval; '
                        "line: the mean; dashed: no change.</div>"
                    ),
                    pn.pane.Bokeh(self._hist.figure, sizing_mode="stretch_width"),
                ),
                paper(
                    html_pane(
                        '<div class="section">Lift by channel</div>'
                        '<div class="note">Mean and interval; green when the whole interval '
                        "is above zero.</div>"
                    ),
                    pn.pane.Bokeh(self._channels.figure, sizing_mode="stretch_width"),
                ),
                sizing_mode="stretch_width",
                margin=0,
            ),
            paper(
                html_pane(
                    '<div class="section">By channel: where the lift comes from</div>'
                    '<div class="note">Direct: the influencer\'s own effect on satisfaction. '
                    "Via drivers: through the rated drivers it moves. Mean in points on the "
                    "survey scale; top-box in percentage points; NPS in NPS points.</div>"
                ),
                self._table,
            ),
            sizing_mode="stretch_width",
            margin=0,
        )
        self._update()

    def __panel__(self):
        return self._layout

    def _update(self, *_) -> None:
        state, forecast = self.state, self.state.forecast
        if forecast is None or state.lift is None:
            return
        bundle = state.bundle
        labels = [bundle.label(c) for c in bundle.channels]
        with pn.io.unlocked():  # raw Bokeh models: dispatch their changes like Panel's own
            self._hist.update(state.lift.variables["company"].values, forecast.total, forecast.ci)
            self._channels.update(labels, [forecast.channel(c) for c in bundle.channels])
        header, rows = forecast_table(
            forecast, state.lift, bundle.model.spec.rating, bundle.channels, bundle.label
        )
        rows[0][3] = f"<b>{rows[0][3]}</b>"
        self._table.object = html_table(
            header,
            [[esc(row[0]), *row[1:]] for row in rows],
            total_rows=1,
        )
