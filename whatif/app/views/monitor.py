"""The monitor tab: a KPI feed's nowcast per channel, its alerts and its KPI contributions.

Shows what a :class:`~whatif.app.monitor_state.MonitorState` holds: the chosen channel's nowcast
over the periods with its band, threshold lines and alert markers, and the KPI contributions
stacked per period (the report's charts, :mod:`whatif.report.monitor_charts`), the fired alerts
and the warnings. A feed (CSV or Parquet) and an alerts file (TOML) can be uploaded; the demo's are
shown by default.
"""

from __future__ import annotations

import panel as pn
import panel_material_ui as pmui
from panel.viewable import Viewer

from whatif.analysis.monitor_results import COMPANY
from whatif.app.monitor_state import MonitorState
from whatif.app.views.widgets import esc, html_pane, html_table, paper
from whatif.report.monitor import METRIC_LABELS, change_text, level_text
from whatif.report.monitor_charts import contribution_chart, nowcast_chart

__all__ = ["MonitorPanel"]


class MonitorPanel(Viewer):
    """The monitor tab of one session."""

    def __init__(self, state: MonitorState, **params):
        super().__init__(**params)
        self.state = state
        self._feed = pmui.FileInput(
            accept=".csv,.parquet,.pq", label="Upload KPI feed", margin=(4, 8)
        )
        self._alerts = pmui.FileInput(accept=".toml", label="Upload alerts", margin=(4, 8))
        self._metric = pmui.Select(label="Metric", width=160, margin=(4, 8))
        self._channel = pmui.Select(label="Channel", width=260, margin=(4, 8))
        self._feed.param.watch(self._on_feed, "value")
        self._alerts.param.watch(self._on_alerts, "value")
        self._metric.param.watch(lambda e: setattr(self.state, "metric", e.new), "value")
        self._channel.param.watch(lambda e: setattr(self.state, "channel", e.new), "value")
        self._message = html_pane()
        self._summary = html_pane()
        self._charts = html_pane()
        self._alert_list = html_pane()
        self._warnings = html_pane()
        state.param.watch(self._update, ["nowcast", "channel", "error", "info"])
        self._layout = pn.Column(
            paper(
                html_pane(
                    '<div class="section">Monitor: the CX driver index between surveys</div>'
                ),
                pn.Row(
                    self._feed,
                    self._alerts,
                    self._metric,
                    self._channel,
                    styles={"flex-wrap": "wrap", "align-items": "center"},
                    margin=0,
                ),
                self._message,
            ),
            paper(self._summary, self._charts),
            paper(self._alert_list),
            paper(self._warnings),
            sizing_mode="stretch_width",
            margin=0,
        )
        self._update()

    def __panel__(self):
        return self._layout

    def _on_feed(self, event) -> None:
        if event.new:
            self.state.load_feed(event.new, self._feed.filename or "feed.csv")

    def _on_alerts(self, event) -> None:
        if event.new:
            self.state.load_alerts(event.new, self._alerts.filename or "alerts.toml")

    def _update(self, *_) -> None:
        state = self.state
        note = state.error or state.info
        self._message.object = f'<div class="note">{esc(note)}</div>' if note else ""
        result = state.nowcast
        if result is None:
            self._summary.object = (
                '<div class="note">No KPI feed yet: upload a CSV or Parquet file with period, '
                "channel and one column per KPI.</div>"
            )
            self._charts.object = self._alert_list.object = self._warnings.object = ""
            return
        self._metric.options = list(state.metrics)
        self._metric.value = result.metric
        labels = {
            (state.planner.bundle.label(c) if c != COMPANY else "Company"): c
            for c in result.channels
        }
        self._channel.options = labels
        channel = state.channel if state.channel in result.channels else COMPANY
        self._channel.value = channel
        series = result.series(channel)
        last = series[-1]
        metric = result.metric
        self._summary.object = (
            f"<div>Latest period <b>{esc(last.period)}</b>: {esc(METRIC_LABELS[metric])} "
            f"{esc(level_text(last.value.mean, last.value.lo, last.value.hi, metric))}, change from "
            f"the {result.baseline_year} baseline "
            f"{esc(change_text(last.change.mean, last.change.lo, last.change.hi, metric))} "
            f"({result.ci:.0%} intervals; feed {esc(state.source)}).</div>"
        )
        fired = {a.period for a in result.alerts if a.channel == channel}
        thresholds = [
            {"label": r.name, "value": r.threshold, "side": r.side}
            for r in state.rules
            if r.kind == "metric"
            and (r.metric or metric) == metric
            and (r.channel or COMPANY) == channel
        ]
        periods = [r.period for r in series]
        spec = state.planner.bundle.model.spec
        effects = {
            spec.label_of(c.influencer): [r.contributions[i].effect.mean for r in series]
            for i, c in enumerate(last.contributions)
        }
        self._charts.object = (
            f'<img style="width:100%" alt="nowcast" src="{nowcast_chart(periods, [r.value.to_dict() for r in series], thresholds, [p in fired for p in periods], METRIC_LABELS[metric], metric)}">'
            f'<img style="width:100%" alt="contributions" src="{contribution_chart(periods, effects, metric)}">'
        )
        rows = [[esc(a.period), esc(a.channel), esc(a.message)] for a in result.alerts]
        self._alert_list.object = '<div class="section">Alerts</div>' + (
            html_table(["period", "channel", "alert"], rows)
            if rows
            else "<div>No alert fired.</div>"
        )
        warnings = [
            [esc(r.period), esc(r.channel), esc(w)] for r in result.periods for w in r.warnings
        ]
        self._warnings.object = (
            '<div class="section">Warnings</div>'
            + html_table(["period", "channel", "warning"], warnings)
            if warnings
            else ""
        )
