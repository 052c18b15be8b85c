"""The driver-weights tab: each driver's weight over the years, with its band, for one channel."""

from __future__ import annotations

import panel as pn
from panel.viewable import Viewer

from whatif.app import model_charts
from whatif.app.state import PlannerState
from whatif.app.views.widgets import channel_select, html_pane, paper, sync_channel_select

__all__ = ["WeightsPanel"]


class WeightsPanel(Viewer):
    """Driver weights over the years, with their bands, for the chosen channel."""

    def __init__(self, state: PlannerState, **params):
        super().__init__(**params)
        self.state = state
        self._channel = channel_select(state, margin=(4, 0))
        self._chart = pn.pane.Bokeh(sizing_mode="stretch_width")
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
