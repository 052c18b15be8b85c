"""The posterior predictive check on the model tab: for a chosen channel and year (the last by
default), the share of answers observed at every point of the scale against the share the model
predicts, and the largest gap of the fit in words."""

from __future__ import annotations

import panel as pn
import panel_material_ui as pmui
from panel.viewable import Viewer

from whatif.analysis.answer_check import AnswerCheck, check_answers
from whatif.app.ppc_chart import answer_check_chart
from whatif.app.state import PlannerState
from whatif.app.views.widgets import channel_select, esc, html_pane, paper, sync_channel_select
from whatif.fitting.ppc import MAX_GAP
from whatif.report.ppc_chart import answer_check_sentence

__all__ = ["AnswerCheckPanel"]

NO_CHECK = (
    "The satisfaction answers are not whole numbers on the rating scale (or the model was saved "
    "without a sample of respondents), so there are no answer shares to check the model against."
)


class AnswerCheckPanel(Viewer):
    """Predicted against observed answer shares of the chosen channel and year."""

    def __init__(self, state: PlannerState, **params):
        super().__init__(**params)
        self.state = state
        self.check: AnswerCheck | None = None
        self._checked_path = None
        self._channel = channel_select(state, margin=(4, 8, 4, 0))
        self._year = pmui.Select(label="Year", width=140, margin=(4, 0))
        self._year.param.watch(lambda _: self._update(), "value")
        self._sentence = html_pane()
        self._pickers = pn.Row(self._channel, self._year, margin=0)
        self._chart = pn.pane.Bokeh(sizing_mode="stretch_width")
        state.param.watch(self._update, ["focus_channel", "model_path"])
        self._layout = paper(
            html_pane(
                '<div class="section">Predicted against observed answers</div>'
                '<div class="note">The share of answers at every point of the scale: the bars '
                "are what respondents answered, the line what the model predicts for the same "
                f"respondents. A gap above {100 * MAX_GAP:.0f} points of share flags the fit.</div>"
            ),
            self._sentence,
            self._pickers,
            self._chart,
        )
        self._update()

    def __panel__(self):
        return self._layout

    def _update(self, *_) -> None:
        bundle = self.state.bundle
        if bundle is None:
            return
        if self._checked_path != self.state.model_path:
            self.check, self._checked_path = check_answers(bundle.model), self.state.model_path
        check = self.check
        self._pickers.visible = self._chart.visible = check is not None
        if check is None:
            self._sentence.object = f'<div class="note">{esc(NO_CHECK)}</div>'
            return
        sentence = answer_check_sentence(check, bundle.label, bundle.single_period)
        self._sentence.object = (
            f'<div class="note {"ok" if check.passed else "bad"}">'
            f"<b>{'Passed' if check.passed else 'Misfit'}:</b> {esc(sentence)}</div>"
        )
        sync_channel_select(self._channel, self.state)
        channel = self.state.focus_channel
        years = check.years_of(channel)
        if not years:
            self._chart.object = None
            return
        year = self._year.value if self._year.value in years else years[-1]
        self._year.param.update(options={bundle.year_label(y): y for y in years}, value=year)
        self._year.visible = not bundle.single_period
        self._chart.object = answer_check_chart(
            check, channel, year, title=f"{bundle.label(channel)}, {bundle.year_label(year)}"
        )
