"""One lever of the sidebar: an operation and a slider that says what it does in words."""

from __future__ import annotations

import numpy as np
import panel as pn
import panel_material_ui as pmui
from bokeh.models import CustomJSTickFormatter
from panel.viewable import Viewer

from whatif.app.controls import Control
from whatif.app.state import PlannerState
from whatif.app.views.widgets import esc, html_pane
from whatif.report import format as fmt

__all__ = ["LeverControl"]


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
        self._caption = html_pane(self._caption_text(), margin=(0, 6, 8, 6))
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
        where = state.bundle.in_year(pop)
        if c.measure == "binary":
            current = f"{fmt.percent(now)} {where}"
        elif c.measure == "driver":
            current = f"mean {now:.2f} {where}"
        else:
            current = f"average {now:.2f} {where}"
        parts = [f"Now {current}", c.observed_text()]
        where = ", ".join(state.bundle.label(ch) for ch in c.channels)
        if len(c.channels) < len(state.bundle.channels):
            parts.append(f"measured in {where}")
        text = " · ".join(esc(p) for p in parts)
        if c.target in state.scopes:
            only = ", ".join(state.bundle.label(ch) for ch in state.scopes[c.target])
            text += f"<br><b>Applies only in {esc(only)}</b> (from the loaded scenario)"
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
