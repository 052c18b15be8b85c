"""Panel views of the planner: a sidebar of levers and a main area of forecasts, on one state.

Every view is a :class:`panel.viewable.Viewer` over one :class:`~whatif.app.state.PlannerState`
(one per browser session). Widgets and panes are created once and updated in place when the state
changes, so a lever move redraws numbers and charts without rebuilding the page. All computing is
in :mod:`whatif.app.state`; all drawing of charts in :mod:`whatif.app.plots`.

:func:`create_app` builds the page of one session; :func:`serve` serves it (``whatif app``) and
``apps/planner.py`` does the same under ``panel serve``.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import io
import logging
import os
import sys
import threading
from pathlib import Path

import numpy as np
import panel as pn
import panel_material_ui as pmui
import param
from bokeh.models import CustomJSTickFormatter
from panel.viewable import Viewer

from whatif.app import plots
from whatif.app.state import (
    Control,
    PlannerState,
    available_models,
    format_points,
    format_share,
    get_provider,
)
from whatif.errors import ArtefactError, WhatifError

__all__ = [
    "ComparePanel",
    "ForecastPanel",
    "Headline",
    "LeverControl",
    "ModelPanel",
    "PlannerApp",
    "PriorityPanel",
    "ScenarioBar",
    "Sidebar",
    "StatusPanel",
    "WeightsPanel",
    "create_app",
    "serve",
]

log = logging.getLogger("whatif.planner")

#: Fit settings when the demo model has to be fitted at start (the command line's defaults).
DEMO_FIT = {"draws": 1000, "tune": 1000, "chains": 4, "seed": 0}

THEME = {
    "palette": {
        "primary": {"main": plots.COLORS["primary"]},
        "secondary": {"main": "#13795b"},
        "background": {"default": "#f5f7fb"},
    },
    "shape": {"borderRadius": 8},
}

CSS = (
    """
:host { --wi-primary: PRIMARY; --wi-pos: POSITIVE; --wi-neg: NEGATIVE;
        --wi-muted: #5f6b7a; --wi-line: #e3e8ef; font-family: Roboto, "Helvetica Neue", Arial, sans-serif;
        color: #1d2733; width: 100%; }
.hero { display: flex; gap: 16px; flex-wrap: wrap; align-items: stretch; }
.kpi { background: #fff; border: 1px solid var(--wi-line); border-radius: 10px; padding: 14px 18px;
       min-width: 200px; flex: 1 1 200px; }
.kpi.main { flex: 2 1 320px; border-left: 5px solid var(--wi-primary); }
.kpi-label { font-size: 12px; letter-spacing: .04em; text-transform: uppercase; color: var(--wi-muted); }
.kpi-value { font-size: 40px; font-weight: 700; line-height: 1.15; margin: 4px 0 2px; }
.kpi-value .unit { font-size: 16px; font-weight: 400; color: var(--wi-muted); margin-left: 4px; }
.kpi-value.small { font-size: 28px; }
.kpi-sub { font-size: 13px; color: var(--wi-muted); }
.pos { color: var(--wi-pos); } .neg { color: var(--wi-neg); } .zero { color: #9aa4b2; }
.prob { display: inline-block; padding: 1px 8px; border-radius: 10px; background: #eef3fb;
        color: var(--wi-primary); font-weight: 600; font-size: 12px; margin-left: 6px; }
.levers { font-size: 13px; margin: 6px 0 0; padding-left: 18px; color: #334155; }
.levers li { margin: 2px 0; }
.channels { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 10px;
            margin-top: 14px; }
.ch { background: #fff; border: 1px solid var(--wi-line); border-radius: 10px; padding: 10px 12px; }
.ch-name { font-size: 12.5px; color: var(--wi-muted); min-height: 32px; }
.ch-value { font-size: 22px; font-weight: 700; }
.ch-sub { font-size: 12px; color: var(--wi-muted); }
table.wi { border-collapse: collapse; width: 100%; font-size: 13.5px; background: #fff; }
table.wi th { text-align: right; font-weight: 600; color: var(--wi-muted); font-size: 12px;
              text-transform: uppercase; letter-spacing: .03em; padding: 8px 10px;
              border-bottom: 2px solid var(--wi-line); }
table.wi th:first-child, table.wi td:first-child { text-align: left; }
table.wi td { text-align: right; padding: 7px 10px; border-bottom: 1px solid var(--wi-line);
              font-variant-numeric: tabular-nums; }
table.wi tr.total td { font-weight: 700; background: #f7f9fc; }
table.wi td.ok { color: var(--wi-pos); font-weight: 600; } table.wi td.bad { color: var(--wi-neg); font-weight: 600; }
.note { font-size: 13px; color: var(--wi-muted); margin: 4px 0 8px; line-height: 1.45; }
.section { font-size: 15px; font-weight: 600; margin: 4px 0 6px; color: #1d2733; }
.badge { display: inline-flex; align-items: center; gap: 6px; padding: 3px 10px; border-radius: 12px;
         font-size: 12.5px; font-weight: 600; }
.badge.ok { background: #e3f4ec; color: var(--wi-pos); } .badge.bad { background: #fdecea; color: var(--wi-neg); }
.model-meta { font-size: 12.5px; color: var(--wi-muted); line-height: 1.5; margin: 2px 0 6px; }
.caption { font-size: 12px; color: var(--wi-muted); line-height: 1.35; margin-top: -4px; }
.caption b { color: #8a4b00; font-weight: 600; }
.dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; font-size: 13px; }
.dl dt { color: var(--wi-muted); } .dl dd { margin: 0; }
.status { max-width: 640px; margin: 40px auto; text-align: center; }
.status h2 { font-size: 22px; font-weight: 600; margin: 0 0 8px; }
""".replace("PRIMARY", plots.COLORS["primary"])
    .replace("POSITIVE", plots.COLORS["positive"])
    .replace("NEGATIVE", plots.COLORS["negative"])
)


def _html(text: str = "", **params) -> pn.pane.HTML:
    params.setdefault("sizing_mode", "stretch_width")
    params.setdefault("margin", (0, 0))
    return pn.pane.HTML(text, stylesheets=[CSS], **params)


def _esc(text) -> str:
    return html.escape(str(text))


def _sign_class(entry: dict) -> str:
    if abs(entry["mean"]) < 5e-4 and abs(entry["hi"] - entry["lo"]) < 1e-3:
        return "zero"
    if entry["lo"] > 0:
        return "pos"
    if entry["hi"] < 0:
        return "neg"
    return ""


def _table(columns: list[str], rows: list[list], total_rows: int = 0, classes=None) -> str:
    head = "".join(f"<th>{_esc(c)}</th>" for c in columns)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="total"' if i < total_rows else ""
        cells = []
        for j, cell in enumerate(row):
            cell_cls = classes[i][j] if classes else ""
            cells.append(f'<td class="{cell_cls}">{cell}</td>' if cell_cls else f"<td>{cell}</td>")
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f'<table class="wi"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


# -- sidebar ----------------------------------------------------------------------------------------


_FORMAT_JS = {
    "cap": "return Math.abs(tick - idv) < 1e-9 ? 'no change' : 'cap at ' + tick.toFixed(0)",
    "scale": (
        "return Math.abs(tick - 1) < 1e-9 ? 'no change' : 'x ' + tick.toFixed(2) + "
        "' (' + (tick >= 1 ? '+' : '') + Math.round((tick - 1) * 100) + '%)'"
    ),
    "share": (
        "return Math.abs(tick - idv) < 1e-9 ? 'no change (' + Math.round(idv * 100) + '%)' : "
        "'share ' + Math.round(idv * 100) + '% \u2192 ' + Math.round(tick * 100) + '%'"
    ),
    "shift": (
        "return Math.abs(tick) < 1e-9 ? 'no change' : (tick > 0 ? '+' : '') + "
        "tick.toFixed(digits) + unit"
    ),
}


class LeverControl(Viewer):
    """One lever in its own units: an operation (cap or scale for counts) and a slider.

    The slider's label says what it does in words as it moves (e.g. ``cap at 3``, ``share 24% ->
    12%``); the caption under it gives the observed range and where the lever applies.
    """

    def __init__(self, state: PlannerState, control: Control, **params):
        super().__init__(**params)
        self.state = state
        self.control = control
        self._syncing = False
        self._identity = None  # the no-change value the slider's words are relative to
        op, value = state.lever_value(control.target)
        self._operation = op
        self._op = None
        if len(control.operations) > 1:
            labels = {"cap": "Cap", "scale": "Scale", "share": "Share", "shift": "Shift"}
            self._op = pmui.RadioButtonGroup(
                options={labels[o]: o for o in control.operations},
                value=op,
                size="small",
                variant="outlined",
                margin=(0, 4, 8, 6),
                width=170,
                height=30,
            )
            self._op.param.watch(self._on_operation, "value")
        start, end, step = control.ranges[op]
        self._slider = pmui.FloatSlider(
            label=control.label,
            start=start,
            end=end,
            step=step,
            value=value,
            format=self._formatter(op),
            sizing_mode="stretch_width",
            margin=(0, 4),
            tooltips=False,
        )
        self._slider.param.watch(self._on_slide, "value")
        self._caption = _html(self._caption_text(), margin=(0, 6, 8, 6))
        state.param.watch(self._sync, ["settings", "year", "channels", "scopes"])
        items = (
            [self._slider, self._caption]
            if self._op is None
            else [self._op, self._slider, self._caption]
        )
        self._layout = pn.Column(*items, sizing_mode="stretch_width", margin=(2, 0))

    def __panel__(self):
        return self._layout

    @property
    def slider(self) -> pmui.FloatSlider:
        return self._slider

    def _formatter(self, op: str) -> CustomJSTickFormatter:
        identity = self._identity = self.state.identity(self.control.target, op)
        digits = (
            2
            if self.control.measure == "driver"
            else max(0, -int(np.floor(np.log10(self.control.ranges[op][2]))))
        )
        unit = " rating points" if self.control.measure == "driver" else ""
        return CustomJSTickFormatter(
            args={"idv": identity, "digits": int(digits), "unit": unit}, code=_FORMAT_JS[op]
        )

    def _caption_text(self) -> str:
        c = self.control
        state = self.state
        year = state.year or state.bundle.next_year
        scope = [ch for ch in c.channels if ch in state.channels] or list(c.channels)
        now = state.bundle.current_mean(c.target, year, scope)
        pop = state.bundle.population_year(year)
        if c.measure == "binary":
            current = f"{format_share(now)} in {pop}"
        elif c.measure == "driver":
            current = f"mean {now:.2f} in {pop}"
        else:
            current = f"average {now:.2f} in {pop}"
        parts = [f"Now {current}", c.observed_text()]
        where = ", ".join(state.bundle.label(ch) for ch in c.channels)
        if len(c.channels) < len(state.bundle.channels):
            parts.append(f"measured in {where}")
        text = " · ".join(_esc(p) for p in parts)
        if c.target in state.scopes:
            only = ", ".join(state.bundle.label(ch) for ch in state.scopes[c.target])
            text += f"<br><b>Applies only in {_esc(only)}</b> (from the loaded scenario)"
        return f'<div class="caption">{text}</div>'

    def _on_operation(self, event) -> None:
        if self._syncing:
            return
        self._operation = event.new
        self.state.set_lever(
            self.control.target, event.new, self.state.identity(self.control.target, event.new)
        )
        self._show(event.new, self.state.identity(self.control.target, event.new))

    def _on_slide(self, event) -> None:
        if self._syncing or event.new is None:
            return
        self.state.set_lever(self.control.target, self._operation, float(event.new))

    def _show(self, op: str, value: float) -> None:
        start, end, step = self.control.ranges[op]
        self._syncing = True
        try:
            self._slider.param.update(
                start=start, end=end, step=step, format=self._formatter(op), value=value
            )
            if self._op is not None:
                self._op.value = op
        finally:
            self._syncing = False

    def _sync(self, *events) -> None:
        target = self.control.target
        context = any(e.name != "settings" for e in events)
        if not context and all(
            (e.old or {}).get(target) == (e.new or {}).get(target) for e in events
        ):
            return  # another lever moved
        if target in self.state.settings:
            op, value = self.state.settings[target]
        else:
            op = (
                self._operation
                if self._operation in self.control.operations
                else self.control.default_operation
            )
            value = self.state.identity(target, op)
        self._operation = op
        identity = self.state.identity(target, op)
        shown = (self._op.value if self._op else op, self._slider.value, self._identity)
        if (op, value, identity) != shown:
            self._show(op, value)
        if context:
            caption = self._caption_text()
            if caption != self._caption.object:
                self._caption.object = caption


class Sidebar(Viewer):
    """The model in use, the scenario year, the channels and one control per lever."""

    def __init__(self, state: PlannerState, app: PlannerApp, **params):
        super().__init__(**params)
        self.state = state
        self.app = app
        self._model = pmui.Select(label="Model", sizing_mode="stretch_width", margin=(8, 4, 0, 4))
        self._model.param.watch(self._on_model, "value")
        self._model_info = _html(margin=(4, 6, 8, 6))
        self._year = self._channels = None  # made per model (see _scope_widgets)
        self._reset = pmui.Button(
            label="Reset all levers",
            icon="restart_alt",
            variant="outlined",
            sizing_mode="stretch_width",
            margin=(4, 4, 8, 4),
        )
        self._reset.on_click(lambda _: self.state.reset())
        self._influencers = pn.Column(sizing_mode="stretch_width", margin=0)
        self._drivers = pn.Column(sizing_mode="stretch_width", margin=0)
        self._extra = _html(margin=(0, 6))
        self._clear_extra = pmui.Button(
            label="Drop these levers", size="small", variant="text", visible=False, margin=(0, 4)
        )
        self._clear_extra.on_click(lambda _: setattr(self.state, "extra_levers", []))
        self.controls: dict[str, LeverControl] = {}
        self._influencer_card = pmui.Card(
            self._influencers,
            title="Operational levers",
            collapsible=True,
            collapsed=False,
            sizing_mode="stretch_width",
            margin=(6, 0),
            elevation=0,
            variant="outlined",
            title_variant="subtitle1",
        )
        self._driver_card = pmui.Card(
            self._drivers,
            title="Driver ratings (direct shift)",
            collapsible=True,
            collapsed=True,
            sizing_mode="stretch_width",
            margin=(6, 0),
            elevation=0,
            variant="outlined",
            title_variant="subtitle1",
        )
        self._driver_views: list[LeverControl] = []
        self._driver_card.param.watch(self._on_driver_card, "collapsed")
        self._fixed_parts = [
            self._reset,
            self._extra,
            self._clear_extra,
            self._influencer_card,
            self._driver_card,
        ]
        self._planner_parts = pn.Column(*self._fixed_parts, sizing_mode="stretch_width", margin=0)
        self._layout = pn.Column(
            self._model,
            self._model_info,
            pmui.Divider(margin=(4, 0)),
            self._planner_parts,
            sizing_mode="stretch_width",
            margin=0,
        )
        state.param.watch(self._sync_state, ["year", "channels", "extra_levers", "model_path"])

    def __panel__(self):
        return self._layout

    def set_models(self, current: Path) -> None:
        options = {p.name: str(p) for p in available_models(current)}
        self._model.param.update(options=options, value=str(current))

    def show_model(self, ready: bool, message: str = "") -> None:
        """Fill the sidebar for the state's model (or show only the model picker)."""
        self._planner_parts.visible = ready
        if not ready:
            self._model_info.object = f'<div class="model-meta">{_esc(message)}</div>'
            return
        bundle = self.state.bundle
        model = bundle.model
        ok = not model.flagged
        badge = (
            f'<span class="badge {"ok" if ok else "bad"}" title="{_esc(model.verdict)}">'
            f"{'&#10003; Healthy fit' if ok else '&#9888; Flagged fit'}</span>"
        )
        sampler = model.manifest.get("sampler", {})
        responses = model.manifest.get("responses")
        meta = [f"Fitted {_esc(bundle.fit_date)} UTC"]
        if responses:
            meta.append(f"{responses:,} responses")
        if sampler:
            meta.append(f"{sampler.get('chains')} chains x {sampler.get('draws')} draws")
        self._model_info.object = (
            f'<div class="model-meta">{" · ".join(meta)}</div>{badge}'
            '<span class="model-meta" style="margin-left:8px">details in <i>Model &amp; data</i></span>'
        )
        # fresh widgets per model: their options and value arrive together on first render
        self._year = pmui.Select(
            label="Scenario year",
            options=self.state.year_options,
            value=self.state.year,
            sizing_mode="stretch_width",
            margin=(4, 4),
        )
        self._year.param.watch(self._on_year, "value")
        self._channels = pmui.MultiChoice(
            label="Levers apply in",
            options={bundle.label(c): c for c in bundle.channels},
            value=list(self.state.channels),
            sizing_mode="stretch_width",
            margin=(4, 4),
        )
        self._channels.param.watch(self._on_channels, "value")
        self._planner_parts.objects = [self._year, self._channels, *self._fixed_parts]
        self.controls = {}
        infl, drivers = [], []
        for target, control in bundle.controls.items():
            view = LeverControl(self.state, control)
            self.controls[target] = view
            (infl if control.kind == "influencer" else drivers).append(view)
        self._influencers.objects = infl or [
            _html('<div class="note">No influencers in this model.</div>')
        ]
        self._driver_views = drivers
        self._driver_card.visible = bool(drivers)
        # driver controls are rendered when their section is first opened (a faster first page)
        self._drivers.objects = drivers if not self._driver_card.collapsed else []
        self._sync_state()

    def _on_driver_card(self, event) -> None:
        if not event.new and not self._drivers.objects:
            self._drivers.objects = self._driver_views

    def _on_model(self, event) -> None:
        if event.new and event.new != self.app.model_path and event.old is not None:
            self.app.switch_model(event.new)

    def _on_year(self, event) -> None:
        if event.new is not None and event.new != self.state.year:
            self.state.year = int(event.new)

    def _on_channels(self, event) -> None:
        chosen = [
            c for c in (self.state.bundle.channels if self.state.bundle else []) if c in event.new
        ]
        if chosen != list(self.state.channels):
            self.state.channels = chosen

    def _sync_state(self, *events) -> None:
        if not self.state.bundle or self._year is None:
            return
        if self._year.value != self.state.year:
            self._year.value = self.state.year
        if list(self._channels.value) != list(self.state.channels):
            self._channels.value = list(self.state.channels)
        extra = self.state.extra_levers
        if extra:
            items = "".join(f"<li>{_esc(self.state.describe(lever))}</li>" for lever in extra)
            self._extra.object = (
                '<div class="caption" style="margin:6px 0 0"><b>Also in this scenario</b> '
                f'(levers the controls below cannot show):<ul class="levers">{items}</ul></div>'
            )
        else:
            self._extra.object = ""
        self._clear_extra.visible = bool(extra)


# -- main area ----------------------------------------------------------------------------------


class ScenarioBar(Viewer):
    """Name, save, download and upload the scenario; export the brief; messages."""

    def __init__(self, state: PlannerState, **params):
        super().__init__(**params)
        self.state = state
        self._name = pmui.TextInput(
            label="Scenario name",
            value=state.scenario_name,
            sizing_mode="stretch_width",
            min_width=220,
            margin=(4, 8, 4, 0),
        )
        self._name.param.watch(self._on_name, "value")
        self._save = pmui.Button(
            label="Save scenario",
            icon="bookmark_add",
            variant="contained",
            margin=(4, 4),
            width=170,
        )
        self._save.on_click(self._on_save)
        self._download = pmui.FileDownload(
            callback=self._toml,
            filename="scenario.toml",
            label="Download .toml",
            icon="download",
            variant="outlined",
            margin=(4, 4),
            width=170,
        )
        self._upload = pmui.FileInput(
            accept=".toml",
            label="Upload .toml",
            icon="upload_file",
            uploaded_label="Upload .toml",
            variant="outlined",
            margin=(4, 4),
            width=170,
        )
        self._upload.param.watch(self._on_upload, "value")
        self._brief = pmui.FileDownload(
            callback=self._export_brief,
            filename="brief.html",
            label="Export brief",
            icon="description",
            variant="contained",
            color="secondary",
            margin=(4, 4),
            width=160,
        )
        self._error = pmui.Alert(
            severity="error",
            title="Problem",
            closeable=True,
            visible=False,
            sizing_mode="stretch_width",
            margin=(6, 0),
        )
        self._error.param.watch(self._on_close_error, "closed")
        self._info = pmui.Alert(
            severity="success",
            closeable=True,
            visible=False,
            sizing_mode="stretch_width",
            margin=(6, 0),
        )
        self._warnings = pmui.Alert(
            severity="warning", visible=False, sizing_mode="stretch_width", margin=(6, 0)
        )
        state.param.watch(self._sync, ["scenario_name", "error", "info", "forecast", "notes"])
        self._layout = pn.Column(
            pn.Row(
                self._name,
                self._save,
                self._download,
                self._upload,
                self._brief,
                sizing_mode="stretch_width",
                margin=0,
                styles={"flex-wrap": "wrap", "align-items": "center"},
            ),
            self._error,
            self._info,
            self._warnings,
            sizing_mode="stretch_width",
            margin=0,
        )
        self._sync()

    def __panel__(self):
        return self._layout

    def _on_name(self, event) -> None:
        if event.new.strip() and event.new != self.state.scenario_name:
            self.state.scenario_name = event.new.strip()

    def _on_save(self, _) -> None:
        self.state.save_current(self._name.value.strip() or None)

    def _toml(self):
        filename, text = self.state.scenario_toml()
        self._download.filename = filename
        return io.StringIO(text)

    async def _export_brief(self):
        # the brief takes seconds: render it in a worker thread so other sessions stay responsive
        scenario = self.state.current_scenario()
        self._brief.loading = True
        try:
            loop = asyncio.get_running_loop()
            filename, text = await loop.run_in_executor(None, _render_brief, self.state, scenario)
        except WhatifError as err:
            self.state.error = "The brief could not be made: " + "; ".join(
                err.problems or [str(err)]
            )
            raise _Reported() from None
        except Exception as err:  # the brief is another module: never show its traceback
            log.warning("brief failed: %s: %s", type(err).__name__, err)
            self.state.error = f"The brief could not be made ({type(err).__name__}: {err})"
            raise _Reported() from None
        finally:
            self._brief.loading = False
        self._brief.filename = filename
        self.state.param.update(error="", info=f"Exported the brief of '{scenario.name}'")
        return io.StringIO(text)

    def _on_upload(self, event) -> None:
        if not event.new:
            return
        value, filename = event.new, self._upload.filename or "upload.toml"
        if isinstance(value, list):
            value, filename = value[0], filename[0] if isinstance(filename, list) else filename
        self.state.load_toml(value, filename)

    def _on_close_error(self, event) -> None:
        if event.new:
            self.state.error = ""

    def _sync(self, *events) -> None:
        state = self.state
        if self._name.value != state.scenario_name:
            self._name.value = state.scenario_name
        self._error.param.update(object=state.error, visible=bool(state.error), closed=False)
        self._info.param.update(
            object=state.info, visible=bool(state.info) and not state.error, closed=False
        )
        warnings = list(state.notes) + list((state.forecast or {}).get("warnings", []))
        if warnings:
            text = "\n".join(f"- {w[0].upper() + w[1:]}" for w in warnings)
            self._warnings.param.update(object=text, visible=True)
        else:
            self._warnings.visible = False


_BRIEF_LOCK = threading.Lock()


def _render_brief(state: PlannerState, scenario) -> tuple[str, str]:
    with _BRIEF_LOCK:  # one brief at a time per process: they are CPU-bound
        return state.brief_html(scenario)


class _Reported(Exception):
    """An error already shown in the page (the session's exception handler stays quiet)."""


class Headline(Viewer):
    """The company lift with its interval and probability, top-box, and one card per channel."""

    def __init__(self, state: PlannerState, **params):
        super().__init__(**params)
        self.state = state
        self._pane = _html(margin=(4, 0, 8, 0))
        state.param.watch(self._update, ["forecast"])
        self._update()

    def __panel__(self):
        return self._pane

    def _update(self, *_) -> None:
        state, forecast = self.state, self.state.forecast
        if forecast is None or state.bundle is None:
            self._pane.object = ""
            return
        bundle = state.bundle
        pct = f"{forecast['ci']:.0%}"
        total = forecast["total"]
        top = forecast["top_box"]["total"]
        year = forecast["year"]
        when = f"{year} forecast" if year not in bundle.years else f"{year} (observed year)"
        levers = [state.describe(lever) for _, lever in state.active_levers()]
        if levers:
            lever_html = "".join(f"<li>{_esc(t)}</li>" for t in levers)
            lever_block = f'<div class="kpi-label">Levers</div><ul class="levers">{lever_html}</ul>'
        else:
            lever_block = (
                '<div class="kpi-label">Levers</div><div class="kpi-sub" style="margin-top:6px">'
                "None yet: move a lever in the sidebar, or load a scenario.</div>"
            )
        cls = _sign_class(total)
        if not levers:
            main = (
                f'<div class="kpi main"><div class="kpi-label">Company satisfaction lift · {_esc(when)}</div>'
                f'<div class="kpi-value zero" id="headline-lift">{format_points(0.0)}'
                f'<span class="unit">points</span></div>'
                '<div class="kpi-sub">No change from the levers yet</div></div>'
            )
        else:
            main = (
                f'<div class="kpi main"><div class="kpi-label">Company satisfaction lift · {_esc(when)}</div>'
                f'<div class="kpi-value {cls}" id="headline-lift">{format_points(total["mean"])}'
                f'<span class="unit">points</span></div>'
                f'<div class="kpi-sub">{pct} interval {format_points(total["lo"])} to '
                f'{format_points(total["hi"])}<span class="prob">P(lift &gt; 0) '
                f"{format_share(total['p_positive'])}</span></div></div>"
            )
        topbox = (
            f'<div class="kpi"><div class="kpi-label">Top-box share (9-10)</div>'
            f'<div class="kpi-value small {_sign_class(top)}">'
            f"{format_share(top['mean'], 1, signed=True)}</div>"
            + (
                f'<div class="kpi-sub">{pct} interval {format_share(top["lo"], 1, signed=True)} to '
                f"{format_share(top['hi'], 1, signed=True)}</div></div>"
                if levers
                else '<div class="kpi-sub">Share of answers 9 or 10</div></div>'
            )
        )
        lever_card = f'<div class="kpi" style="flex: 2 1 300px">{lever_block}</div>'
        cards = []
        for channel in bundle.channels:
            entry = forecast["channels"][channel]
            cards.append(
                f'<div class="ch"><div class="ch-name">{_esc(bundle.label(channel))}'
                f" · {entry['volume']:.0%} of contacts</div>"
                f'<div class="ch-value {_sign_class(entry)}">{format_points(entry["mean"])}</div>'
                f'<div class="ch-sub">{format_points(entry["lo"])} to {format_points(entry["hi"])}'
                f" · P&gt;0 {format_share(entry['p_positive'])}</div></div>"
            )
        self._pane.object = (
            f'<div class="hero">{main}{topbox}{lever_card}</div>'
            f'<div class="channels">{"".join(cards)}</div>'
        )


def _paper(*objects, **params) -> pmui.Paper:
    params.setdefault("sizing_mode", "stretch_width")
    params.setdefault("margin", (6, 0))
    params.setdefault("elevation", 0)
    params.setdefault("variant", "outlined")
    return pmui.Paper(pn.Column(*objects, sizing_mode="stretch_width", margin=(10, 14)), **params)


class ForecastPanel(Viewer):
    """The lift distribution, the per-channel intervals and the table of direct and indirect parts."""

    def __init__(self, state: PlannerState, **params):
        super().__init__(**params)
        self.state = state
        self._hist = plots.LiftHistogram()
        self._channels = plots.ChannelIntervals()
        self._table = _html()
        state.param.watch(self._update, ["forecast"])
        self._layout = pn.Column(
            pn.Row(
                _paper(
                    _html(
                        '<div class="section">Distribution of the company lift</div>'
                        '<div class="note">Over the posterior draws. Shaded: the interval; '
                        "line: the mean; dashed: no change.</div>"
                    ),
                    pn.pane.Bokeh(self._hist.figure, sizing_mode="stretch_width"),
                ),
                _paper(
                    _html(
                        '<div class="section">Lift by channel</div>'
                        '<div class="note">Mean and interval; green when the whole interval '
                        "is above zero.</div>"
                    ),
                    pn.pane.Bokeh(self._channels.figure, sizing_mode="stretch_width"),
                ),
                sizing_mode="stretch_width",
                margin=0,
            ),
            _paper(
                _html(
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
            self._hist.update(state.lift["company"].to_numpy(), forecast["total"], forecast["ci"])
            self._channels.update(labels, [forecast["channels"][c] for c in bundle.channels])
        pct = f"{forecast['ci']:.0%}"
        total = forecast["total"]
        rows = [
            [
                "Company (volume-weighted)",
                "100%",
                "",
                f"<b>{format_points(total['mean'])}</b>",
                f"{format_points(total['lo'])} to {format_points(total['hi'])}",
                format_share(total["p_positive"]),
                "",
                "",
                format_share(forecast["top_box"]["total"]["mean"], 1, signed=True),
            ]
        ]
        for channel in bundle.channels:
            e = forecast["channels"][channel]
            rows.append(
                [
                    _esc(bundle.label(channel)),
                    f"{e['volume']:.0%}",
                    f"{e['baseline']:.2f}",
                    format_points(e["mean"]),
                    f"{format_points(e['lo'])} to {format_points(e['hi'])}",
                    format_share(e["p_positive"]),
                    format_points(e["direct"]),
                    format_points(e["indirect"]),
                    format_share(e["top_box"]["mean"], 1, signed=True),
                ]
            )
        self._table.object = _table(
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


class ComparePanel(Viewer):
    """Saved scenarios side by side with the current one; load, download or remove them."""

    def __init__(self, state: PlannerState, **params):
        super().__init__(**params)
        self.state = state
        self._chart = plots.ScenarioIntervals()
        self._table = _html()
        self._pick = pmui.Select(
            label="Saved scenario", sizing_mode="stretch_width", min_width=240, margin=(4, 8, 4, 0)
        )
        self._load = pmui.Button(
            label="Load into planner",
            icon="open_in_browser",
            variant="outlined",
            margin=(4, 4),
            width=180,
        )
        self._load.on_click(self._on_load)
        self._download = pmui.FileDownload(
            callback=self._toml,
            filename="scenario.toml",
            label="Download .toml",
            icon="download",
            variant="outlined",
            margin=(4, 4),
            width=170,
        )
        self._remove = pmui.Button(
            label="Remove", icon="delete", variant="text", color="error", margin=(4, 4), width=120
        )
        self._remove.on_click(self._on_remove)
        self._empty = _html(
            '<div class="note">No saved scenarios yet. Name the current scenario '
            "above and press <b>Save scenario</b>, or upload a .toml file; saved "
            "scenarios appear here side by side.</div>"
        )
        self._tools = pn.Row(
            self._pick,
            self._load,
            self._download,
            self._remove,
            sizing_mode="stretch_width",
            margin=0,
            styles={"flex-wrap": "wrap", "align-items": "center"},
        )
        state.param.watch(self._update, ["saved", "forecast"])
        self._layout = pn.Column(
            _paper(_html('<div class="section">Compare scenarios</div>'), self._empty, self._tools),
            _paper(pn.pane.Bokeh(self._chart.figure, sizing_mode="stretch_width")),
            _paper(self._table),
            sizing_mode="stretch_width",
            margin=0,
        )
        self._update()

    def __panel__(self):
        return self._layout

    def _toml(self):
        name = self._pick.value
        scenario = self.state.saved_scenario(name) if name else None
        filename, text = self.state.scenario_toml(scenario)
        self._download.filename = filename
        return io.StringIO(text)

    def _on_load(self, _) -> None:
        if self._pick.value:
            self.state.apply_scenario(self.state.saved_scenario(self._pick.value))
            self.state.info = f"Loaded '{self._pick.value}' into the planner"

    def _on_remove(self, _) -> None:
        if self._pick.value:
            self.state.remove_saved(self._pick.value)

    def _update(self, *_) -> None:
        state = self.state
        if state.bundle is None:
            return
        names = [s.name for s in state.saved]
        value = self._pick.value if self._pick.value in names else (names[-1] if names else None)
        self._pick.param.update(options=names, value=value)
        self._empty.visible = not names
        self._tools.visible = bool(names)
        rows = state.comparison()
        with pn.io.unlocked():  # raw Bokeh models: dispatch their changes like Panel's own
            self._chart.update(
                [t for t, _, _ in rows], [summary["total"] for _, _, summary in rows]
            )
        frame = state.comparison_frame()
        if frame.empty:
            self._table.object = ""
            return
        body = [[f"<b>{_esc(idx)}</b>"] + [_esc(v) for v in frame.loc[idx]] for idx in frame.index]
        self._table.object = _table(["", *frame.columns], body)


def _channel_select(state: PlannerState, margin) -> pmui.Select:
    """A channel picker bound to the session's focus channel (shared by the weights and map)."""

    def focus(event) -> None:
        if event.new:
            state.focus_channel = event.new

    select = pmui.Select(label="Channel", width=320, margin=margin)
    select.param.watch(focus, "value")
    return select


def _sync_channel_select(select: pmui.Select, state: PlannerState) -> None:
    bundle = state.bundle
    select.param.update(
        options={bundle.label(c): c for c in bundle.channels}, value=state.focus_channel
    )


class WeightsPanel(Viewer):
    """Driver weights over the years, with their bands, for the chosen channel."""

    def __init__(self, state: PlannerState, **params):
        super().__init__(**params)
        self.state = state
        self._channel = _channel_select(state, margin=(4, 0))
        self._chart = pn.pane.Bokeh(sizing_mode="stretch_width")
        state.param.watch(self._update, ["focus_channel", "model_path", "ci"])
        self._layout = _paper(
            _html(
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
        _sync_channel_select(self._channel, state)
        frame = bundle.weights_frame(state.ci)
        frame = frame[frame["channel"] == state.focus_channel]
        self._chart.object = plots.weights_chart(frame, ci=state.ci)


class PriorityPanel(Viewer):
    """The priority map of the chosen channel and year, with the fix-first quadrant shaded."""

    def __init__(self, state: PlannerState, **params):
        super().__init__(**params)
        self.state = state
        self._channel = _channel_select(state, margin=(4, 8, 4, 0))
        self._year = pmui.Select(label="Year", width=140, margin=(4, 0))
        self._year.param.watch(lambda _: self._update(), "value")
        self._chart = pn.pane.Bokeh(sizing_mode="stretch_width")
        self._list = _html()
        state.param.watch(self._update, ["focus_channel", "model_path", "ci"])
        self._layout = pn.Column(
            _paper(
                _html(
                    '<div class="section">Priority map: importance against performance</div>'
                    '<div class="note">Drivers in the shaded <b>fix first</b> quadrant matter more '
                    "than most (weight above the median) and perform worse than most (rating "
                    "below the average). Dot size: probability of being fix first.</div>"
                ),
                pn.Row(self._channel, self._year, margin=0),
                self._chart,
            ),
            _paper(self._list),
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
        _sync_channel_select(self._channel, state)
        years = {str(y): y for y in bundle.years}
        year = self._year.value if self._year.value in bundle.years else bundle.years[-1]
        self._year.param.update(options=years, value=year)
        frame = bundle.priority_frame(state.ci)
        frame = frame[(frame["channel"] == state.focus_channel) & (frame["year"] == year)]
        self._chart.object = plots.priority_chart(frame)
        frame = frame.sort_values(["p_fix_first", "weight"], ascending=False)
        rows = [
            [
                _esc(r.label),
                r.quadrant,
                f"{r.weight:.3f}",
                f"{r.lo:.3f} to {r.hi:.3f}",
                f"{r.performance:.2f}",
                format_share(r.p_high_importance),
                format_share(r.p_fix_first),
            ]
            for r in frame.itertuples()
        ]
        self._list.object = (
            '<div class="section">Drivers, most likely fix first on top</div>'
            + _table(
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


class ModelPanel(Viewer):
    """The data and diagnostics behind the model."""

    def __init__(self, state: PlannerState, **params):
        super().__init__(**params)
        self.state = state
        self._about = _html()
        self._diagnostics = _html()
        self._data = _html()
        state.param.watch(self._update, ["model_path"])
        self._layout = pn.Column(
            pn.Row(
                _paper(self._about),
                _paper(self._diagnostics),
                sizing_mode="stretch_width",
                margin=0,
            ),
            _paper(self._data),
            sizing_mode="stretch_width",
            margin=0,
        )
        self._update()

    def __panel__(self):
        return self._layout

    def _update(self, *_) -> None:
        bundle = self.state.bundle
        if bundle is None:
            return
        model = bundle.model
        man = model.manifest
        sampler = man.get("sampler", {})
        timings = man.get("timings", {})
        about = [
            ("Model", f"{bundle.name} ({_esc(bundle.path)})"),
            ("Fitted", f"{_esc(bundle.fit_date)} UTC"),
            ("Data", _esc(man.get("source", "-"))),
            ("Fingerprint", _esc(man.get("fingerprint", "-"))),
            (
                "Responses",
                f"{man.get('responses', 0):,} ({man.get('complete_responses', 0):,} complete)",
            ),
            (
                "Channels x years",
                f"{len(bundle.channels)} x {len(bundle.years)} "
                f"({bundle.years[0]}-{bundle.years[-1]})",
            ),
            (
                "Sampler",
                f"{sampler.get('chains', '?')} chains x {sampler.get('draws', '?')} draws, "
                f"{sampler.get('tune', '?')} tuning, seed {sampler.get('seed', '?')}",
            ),
            (
                "Fit time",
                f"{sum(v for v in timings.values() if isinstance(v, int | float)):.0f} s"
                if timings
                else "-",
            ),
            ("whatif", _esc(man.get("versions", {}).get("whatif", "-"))),
        ]
        dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in about)
        self._about.object = f'<div class="section">About this model</div><dl class="dl">{dl}</dl>'
        checks = bundle.diagnostics_rows()
        rows = [
            [_esc(r["check"]), r["value"], _esc(r["threshold"]), "pass" if r["ok"] else "fail"]
            for r in checks
        ]
        classes = [["", "", "", "ok" if r["ok"] else "bad"] for r in checks]
        ok = not model.flagged
        badge = (
            f'<span class="badge {"ok" if ok else "bad"}">'
            f"{'&#10003; Healthy fit' if ok else '&#9888; Flagged fit'}</span>"
        )
        self._diagnostics.object = (
            f'<div class="section">Convergence diagnostics {badge}</div>'
            f'<div class="note">{_esc(model.verdict)}</div>'
            + _table(["Check", "Value", "Needed", ""], rows, classes=classes)
        )
        responses = bundle.responses_frame()
        r2 = bundle.r2_frame()
        measured = bundle.measured_frame()
        resp_rows = [
            [_esc(idx)] + [f"{v:,}" for v in responses.loc[idx]] for idx in responses.index
        ]
        r2_rows = [[_esc(idx)] + [f"{v:.2f}" for v in r2.loc[idx]] for idx in r2.index]
        chans = list(measured.columns[1:])
        m_rows = [
            [_esc(idx), measured.loc[idx, "kind"]]
            + ["&#10003;" if measured.loc[idx, c] else "&ndash;" for c in chans]
            for idx in measured.index
        ]
        self._data.object = (
            '<div class="section">Responses with an answer to overall satisfaction</div>'
            + _table(["Channel", *responses.columns], resp_rows)
            + '<div class="section" style="margin-top:16px">Share of satisfaction the model explains '
            "(Bayesian R&sup2;)</div>"
            + _table(["Channel", *r2.columns], r2_rows)
            + '<div class="section" style="margin-top:16px">What each channel measures</div>'
            + _table(["Driver or influencer", "Kind", *chans], m_rows)
        )


class StatusPanel(Viewer):
    """What the page shows while the model is fitted or loaded, or why it cannot be used."""

    def __init__(self, **params):
        super().__init__(**params)
        self._text = _html()
        self._progress = pmui.LinearProgress(
            variant="indeterminate", sizing_mode="stretch_width", margin=(10, 0)
        )
        self._error = pmui.Alert(
            severity="error",
            title="This model cannot be used",
            visible=False,
            sizing_mode="stretch_width",
            margin=(10, 0),
        )
        self._layout = pn.Column(
            self._text,
            self._progress,
            self._error,
            sizing_mode="stretch_width",
            max_width=760,
            margin=(40, 20),
            styles={"margin-left": "auto", "margin-right": "auto"},
        )

    def __panel__(self):
        return self._layout

    def working(self, title: str, message: str, elapsed: float, stage: str = "") -> None:
        minutes, seconds = divmod(int(elapsed), 60)
        stage = f'<div class="note"><b>Now:</b> {_esc(stage)}</div>' if stage else ""
        self._text.object = (
            f'<div class="status"><h2>{_esc(title)}</h2><div class="note">{_esc(message)}</div>{stage}'
            f'<div class="note">Elapsed {minutes}:{seconds:02d}. The planner opens by itself when '
            "it is ready; you can leave this page open.</div></div>"
        )
        self._progress.visible = True
        self._error.visible = False

    def failed(self, message: str) -> None:
        self._text.object = ""
        self._progress.visible = False
        self._error.param.update(
            object=message + "\n\nPick another model in the sidebar, or fit one with "
            "'whatif fit DATA --spec SPEC --out models/NAME'.",
            visible=True,
        )


# -- the page -----------------------------------------------------------------------------------


class PlannerApp(Viewer):
    """The planner page of one session: a status page until the model is ready, then the planner.

    Parameters
    ----------
    model_path
        Artefact folder to open.
    fit_from
        ``(survey, spec)`` to fit the model from if it is missing (the demo), else ``None``.
    scenario_dir
        A folder of scenario TOML files to offer as saved scenarios (the demo's examples).
    """

    model_path = param.String(doc="Artefact folder to open.")
    scenario_dir = param.String(default=None, allow_None=True, doc="Example scenarios folder.")

    def __init__(
        self,
        model_path: str | Path,
        fit_from=None,
        fit_options=None,
        scenario_dir: str | Path | None = None,
        **params,
    ):
        super().__init__(
            model_path=str(model_path),
            scenario_dir=str(scenario_dir) if scenario_dir else None,
            **params,
        )
        self.state = PlannerState()
        self._fit_from, self._fit_options = fit_from, fit_options or DEMO_FIT
        self._poll = None
        self._built = False
        self.sidebar = Sidebar(self.state, self)
        self.status = StatusPanel()
        self.scenario_bar = ScenarioBar(self.state)
        self.headline = Headline(self.state)
        self.forecast = ForecastPanel(self.state)
        self.compare = ComparePanel(self.state)
        self.weights = WeightsPanel(self.state)
        self.priorities = PriorityPanel(self.state)
        self.model_panel = ModelPanel(self.state)
        self.tabs = pmui.Tabs(
            ("Forecast", self.forecast),
            ("Compare scenarios", self.compare),
            ("Driver weights", self.weights),
            ("Priority map", self.priorities),
            ("Model & data", self.model_panel),
            sizing_mode="stretch_width",
            margin=(8, 0),
            dynamic=True,
        )
        self.planner = pn.Column(
            self.scenario_bar,
            self.headline,
            self.tabs,
            sizing_mode="stretch_width",
            margin=(0, 12, 0, 4),
        )
        self.page = pmui.Page(
            title="whatif · CX what-if planner",
            sidebar=[self.sidebar],
            main=[self.status],
            sidebar_width=390,
            theme_config=THEME,
            theme_toggle=False,
        )
        if pn.state.curdoc is not None:
            pn.config.exception_handler = self._on_exception
        self.open(self.model_path, fit_from)

    def __panel__(self):
        return self.page

    # -- loading --------------------------------------------------------------------------------

    def open(self, path: str | Path, fit_from=None) -> None:
        """Open a model: at once when loaded before, else with a status page meanwhile."""
        self.model_path = str(path)
        self.sidebar.set_models(Path(path))
        provider = get_provider(path, fit_from, self._fit_options).start()
        if provider.status == "ready":
            self._ready(provider)
            return
        self._show_status(provider)
        if self._poll is None and pn.state.curdoc is not None:
            self._poll = pn.state.add_periodic_callback(self._check, period=500)
        elif pn.state.curdoc is None:  # outside a server (a notebook, tests): just wait
            provider.wait()
            self._check()

    def switch_model(self, path: str) -> None:
        self.open(path, None)

    def _check(self) -> None:
        provider = get_provider(self.model_path)
        if not provider.done:
            self._show_status(provider)
            return
        if self._poll is not None:
            self._poll.stop()
            self._poll = None
        if provider.status == "ready":
            self._ready(provider)
        else:
            self._show_status(provider)

    def _show_status(self, provider) -> None:
        if provider.status == "error":
            self.state.bundle = None
            self.status.failed(provider.error)
            self.sidebar.show_model(False, "This model cannot be used; pick another one.")
        else:
            title = "Fitting the model" if provider.status == "fitting" else "Loading the model"
            self.status.working(
                title,
                provider.message or f"Preparing {Path(self.model_path).name}",
                provider.elapsed,
                provider.stage,
            )
            self.sidebar.show_model(False, provider.message or "Loading...")
        self.page.main = [self.status]

    def _ready(self, provider) -> None:
        self.state.use_bundle(provider.bundle)
        if self.scenario_dir and Path(self.scenario_dir).is_dir():
            self.state.load_directory(self.scenario_dir)
        self.sidebar.show_model(True)
        self.page.main = [self.planner]

    def _on_exception(self, exc: BaseException) -> None:
        if isinstance(exc, _Reported):
            return
        if isinstance(exc, WhatifError):
            self.state.error = "\n".join(exc.problems) or str(exc)
            return
        log.error("planner: %s: %s", type(exc).__name__, exc, exc_info=exc)
        self.state.error = f"Something went wrong: {type(exc).__name__}: {exc}"


def _say(message: str) -> None:
    print(f"whatif: {message}", file=sys.stderr, flush=True)


def _demo_paths(root: Path) -> tuple[Path, Path, Path]:
    return (
        root / "models" / "demo",
        root / "data" / "demo" / "survey.parquet",
        root / "data" / "demo" / "spec.toml",
    )


def create_app(model_path: str | Path | None = None, root: str | Path = ".") -> PlannerApp:
    """The planner of one session on ``model_path`` (default: the demo model, fitted if missing).

    Parameters
    ----------
    model_path
        Artefact folder; ``None`` means ``ROOT/models/demo``.
    root
        The folder holding ``models/`` and ``data/demo/`` (the project folder).
    """
    pn.extension()
    root = Path(root)
    demo_model, survey, spec = _demo_paths(root)
    path = Path(model_path) if model_path else demo_model
    is_demo = path.resolve() == demo_model.resolve()
    fit_from = (survey, spec) if is_demo else None
    scenarios = root / "data" / "demo" / "scenarios" if is_demo else None
    return PlannerApp(path, fit_from=fit_from, scenario_dir=scenarios)


def serve(
    model_path: str | Path | None = None,
    port: int = 5006,
    address: str = "127.0.0.1",
    show: bool = True,
    root: str | Path = ".",
) -> None:
    """Serve the planner (``whatif app``): load or fit the model at start, then serve sessions.

    Raises
    ------
    ArtefactError
        If ``model_path`` is given and does not exist.
    """
    root = Path(root)
    demo_model, survey, spec = _demo_paths(root)
    path = Path(model_path) if model_path else demo_model
    if model_path is not None and not path.exists():
        raise ArtefactError(
            f"{path}: no such model; fit one with 'whatif fit DATA --spec SPEC --out {path}'"
        )
    is_demo = path.resolve() == demo_model.resolve()
    provider = get_provider(path, (survey, spec) if is_demo else None, DEMO_FIT).start()
    if provider.status == "fitting" or (is_demo and not path.exists()):
        _say(
            f"{path} is missing: fitting it in the background from {survey} (the page shows progress)"
        )
    os.environ.setdefault("BOKEH_RESOURCES", "server")
    origins = [f"{host}:{port}" for host in {address, "localhost", "127.0.0.1"} if host]
    try:
        server = pn.serve(
            lambda: create_app(path, root),
            port=port,
            address=address,
            show=show,
            start=False,
            title="whatif planner",
            websocket_origin=origins,
            verbose=False,
        )
    except OSError as err:
        raise WhatifError(
            f"cannot serve on {address}:{port} ({err.strerror or err}); choose another --port"
        ) from None
    host = "localhost" if address in ("127.0.0.1", "0.0.0.0", "") else address
    _say(f"planner on http://{host}:{server.port}/ (model {path}); press Ctrl+C to stop")
    server.start()
    with contextlib.suppress(KeyboardInterrupt):
        server.io_loop.start()  # returns on Ctrl+C (Panel stops the loop on SIGINT)
    _say("planner stopped")
