"""The forecast tab: the lift distribution, the lift by channel and where the lift comes from."""

from __future__ import annotations

import panel as pn
from panel.viewable import Viewer

from whatif.app import plots
from whatif.app.state import PlannerState
from whatif.app.views.widgets import esc, html_pane, html_table, paper
from whatif.report import format as fmt

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
                    "Via drivers: through the rated drivers it moves. Points on the survey "
                    "scale; top-box in percentage points.</div>"
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
            self._hist.update(state.lift["company"].to_numpy(), forecast.total, forecast.ci)
            self._channels.update(labels, [forecast.channel(c) for c in bundle.channels])
        pct = f"{forecast.ci:.0%}"
        total = forecast.total
        rows = [
            [
                "Company (volume-weighted)",
                "100%",
                "",
                f"<b>{fmt.points(total.mean, fmt.decimals(total.mean, total.lo, total.hi))}</b>",
                fmt.interval(total.lo, total.hi),
                fmt.probability(total.p_positive),
                "",
                "",
                fmt.share_points(forecast.top_box.mean),
            ]
        ]
        for channel in bundle.channels:
            e = forecast.channel(channel)
            lift = e.lift
            if not e.affected:
                cells = [fmt.NOT_AFFECTED, "", "", "", "", ""]
            else:
                cells = [
                    fmt.points(lift.mean, fmt.decimals(lift.mean, lift.lo, lift.hi)),
                    fmt.interval(lift.lo, lift.hi),
                    fmt.probability(lift.p_positive),
                    fmt.points(e.direct),
                    fmt.points(e.indirect),
                    fmt.share_points(e.top_box.mean),
                ]
            rows.append(
                [esc(bundle.label(channel)), fmt.percent(e.volume), f"{e.baseline:.2f}", *cells]
            )
        self._table.object = html_table(
            [
                "Channel",
                "Volume",
                "Satisfaction now",
                "Lift",
                f"{pct} interval",
                "P(lift > 0)",
                "Direct",
                "Via drivers",
                "Top-box",
            ],
            rows,
            total_rows=1,
        )
