"""The Plan tab: costed options, a budget or a target, the efficient frontier and the chosen plan.

The user edits the options' TOML (or uploads a file), asks for the most lift within a budget or
the cheapest plan reaching a target with a given probability, sees the frontier (cost against
lift, with its interval as a band) and the plan, and loads the plan into the levers. The numbers
are the :class:`~whatif.app.plan_state.PlanState`'s result; the words are
:mod:`whatif.report.plan`'s.
"""

from __future__ import annotations

import panel as pn
import panel_material_ui as pmui
from bokeh.models import ColumnDataSource, HoverTool
from panel.viewable import Viewer

from whatif.app.plan_state import PlanState
from whatif.app.plots import base_figure
from whatif.app.views.widgets import esc, html_pane, html_table, paper
from whatif.report import format as fmt
from whatif.report import plan as words
from whatif.report.palette import COLORS

__all__ = ["FrontierChart", "PlanPanel"]


class FrontierChart:
    """Cost against company lift along the frontier: the mean as a line, the interval as a band,
    the chosen plan as a larger point."""

    def __init__(self, height: int = 300):
        self.source = ColumnDataSource({"cost": [], "mean": [], "lo": [], "hi": [], "plan": []})
        self.chosen = ColumnDataSource({"cost": [], "mean": []})
        fig = base_figure(height, x_axis_label="Cost", y_axis_label="Company lift")
        fig.varea(
            "cost",
            "lo",
            "hi",
            source=self.source,
            fill_color=COLORS["primary_light"],
            fill_alpha=0.5,
        )
        fig.line("cost", "mean", source=self.source, line_color=COLORS["primary"], line_width=2)
        points = fig.scatter("cost", "mean", source=self.source, size=7, color=COLORS["primary"])
        fig.scatter(
            "cost", "mean", source=self.chosen, size=14, marker="diamond", color=COLORS["positive"]
        )
        fig.add_tools(
            HoverTool(renderers=[points], tooltips=[("cost", "@cost{0,0}"), ("plan", "@plan")])
        )
        self.figure = fig

    def update(self, result, metric_label: str) -> None:
        """Redraw from an :class:`~whatif.analysis.optimizer.OptimizationResult`."""
        scale = 100.0 if result is not None and result.metric == "top_box" else 1.0
        points = result.frontier if result is not None else ()
        self.source.data = {
            "cost": [p.plan.cost for p in points],
            "mean": [scale * p.plan.lift.mean for p in points],
            "lo": [scale * p.plan.lift.lo for p in points],
            "hi": [scale * p.plan.lift.hi for p in points],
            "plan": ["; ".join(c.option for c in p.plan.choices) or "nothing" for p in points],
        }
        plan = result.plan if result is not None else None
        self.chosen.data = {
            "cost": [plan.cost] if plan else [],
            "mean": [scale * plan.lift.mean] if plan else [],
        }
        self.figure.yaxis.axis_label = metric_label
        currency = result.currency if result is not None else ""
        self.figure.xaxis.axis_label = f"Cost ({currency})" if currency else "Cost"


class PlanPanel(Viewer):
    """The Plan tab over one session's :class:`PlanState`."""

    def __init__(self, plan: PlanState, **params):
        super().__init__(**params)
        self.plan = plan
        self._text = pmui.TextAreaInput(
            label="Options (TOML)", value=plan.options_text, rows=10, sizing_mode="stretch_width"
        )
        self._apply = pmui.Button(label="Apply options", icon="check", variant="outlined")
        self._apply.on_click(lambda _: plan.load_text(self._text.value, "options"))
        self._upload = pmui.FileInput(
            accept=".toml", label="Upload options .toml", icon="upload_file", variant="outlined"
        )
        self._upload.param.watch(self._on_upload, "value")
        self._objective = pmui.RadioButtonGroup(
            options={"Most lift for a budget": "budget", "Cheapest to reach a target": "target"},
            value=plan.objective,
        )
        self._budget = pmui.FloatInput(label="Budget", value=plan.budget, start=0, step=10000)
        self._target = pmui.FloatInput(label="Target lift", value=plan.target, step=0.01)
        self._confidence = pmui.FloatSlider(
            label="Confidence", start=0.5, end=0.99, step=0.01, value=plan.confidence
        )
        self._metric = pmui.Select(label="Metric", options=list(plan.metrics), value=plan.metric)
        for widget, name in [
            (self._objective, "objective"),
            (self._budget, "budget"),
            (self._target, "target"),
            (self._confidence, "confidence"),
            (self._metric, "metric"),
        ]:
            widget.param.watch(lambda event, name=name: self._set(name, event.new), "value")
        self._load = pmui.Button(
            label="Load plan into levers", icon="open_in_browser", variant="contained"
        )
        self._load.on_click(lambda _: plan.load_into())
        self._error = pmui.Alert(alert_type="error", object="", visible=False)
        self._chart = FrontierChart()
        self._summary = html_pane()
        self._frontier = html_pane()
        plan.param.watch(self._update, ["result", "error", "options_text", "budget"])
        self._layout = pn.Column(
            paper(
                html_pane('<div class="section">Plan: the most lift for the money</div>'),
                pn.Row(self._upload, self._apply, margin=0),
                self._text,
                self._objective,
                pn.Row(self._budget, self._target, self._confidence, self._metric, margin=0),
                self._error,
            ),
            paper(self._summary, self._load),
            paper(pn.pane.Bokeh(self._chart.figure, sizing_mode="stretch_width"), self._frontier),
            sizing_mode="stretch_width",
            margin=0,
        )
        self._update()

    def __panel__(self):
        return self._layout

    def _set(self, name: str, value) -> None:
        if value is not None and getattr(self.plan, name) != value:
            setattr(self.plan, name, value)

    def _on_upload(self, event) -> None:
        if event.new:
            self.plan.load_text(event.new, self._upload.filename or "upload.toml")

    def _update(self, *_) -> None:
        plan = self.plan
        self._text.value = plan.options_text
        self._budget.value = plan.budget
        self._metric.options = list(plan.metrics)
        self._error.object = plan.error
        self._error.visible = bool(plan.error)
        self._budget.visible = plan.objective == "budget"
        self._target.visible = self._confidence.visible = plan.objective == "target"
        result = plan.result
        name, units = words.METRIC_NAMES[plan.metric]
        with pn.io.unlocked():
            self._chart.update(result, f"Company lift in {name} ({units})")
        self._summary.object = self._summary_html(result)
        self._load.disabled = result is None or result.scenario is None
        self._frontier.object = self._frontier_html(result)

    def _summary_html(self, result) -> str:
        if result is None:
            return '<div class="note">Upload or enter options to see the best plan.</div>'
        spec = self.plan.planner.bundle.model.spec
        heading = f"<b>{esc(words.plan_heading(result))}</b>"
        note = f'<div class="note">{esc(result.note)}</div>' if result.note else ""
        if result.plan is None:
            return f"{heading}<p>No plan reaches the target; lower it or the confidence.</p>{note}"
        plan = result.plan
        mean, interval = words.lift_text(plan.lift, result.metric)
        lines = [
            f"Cost <b>{esc(words.money(plan.cost, result.currency))}</b>; company lift "
            f"<b>{esc(mean)}</b> ({fmt.percent(result.ci)} interval {esc(interval)}), "
            f"P(lift &gt; 0) {esc(fmt.probability(plan.lift.p_positive))}"
        ]
        if plan.p_target is not None:
            lines.append(f"P(lift reaches the target) {esc(fmt.probability(plan.p_target))}")
        choices = words.choice_rows(result, spec, fmt.MINUS)
        table = html_table(
            ["Option", "Lever", "Cost"],
            [[esc(r["option"]), esc(r["lever"]), esc(r["cost"])] for r in choices],
        )
        channels = words.channel_rows(plan, result.metric, spec, fmt.MINUS)
        per_channel = html_table(
            ["Channel", "Lift", "Interval"],
            [[esc(r["channel"]), esc(r["lift"]), esc(r["interval"])] for r in channels],
        )
        body = "<br>".join(lines)
        return (
            f"{heading}{note}<p>{body}</p>{table if choices else '<p>Do nothing.</p>'}{per_channel}"
        )

    def _frontier_html(self, result) -> str:
        if result is None:
            return ""
        rows = words.frontier_rows(result, fmt.MINUS)
        return html_table(
            ["Cost", "Lift", "Interval", "Plan"],
            [[esc(r["cost"]), esc(r["lift"]), esc(r["interval"]), esc(r["plan"])] for r in rows],
        )
