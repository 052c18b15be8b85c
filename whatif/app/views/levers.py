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


#: The slider's words per operation, in JavaScript (``tick``: the slider's value; ``idv``: its
#: no-change value; ``now``: the current share of a yes/no influencer in the lever's channels).
_SAME = "if (Math.abs(tick - idv) < 1e-9) { return 'no change'; } "
_PCT = "const pct = (v) => Math.round(v * 100) + '%'; "
_SIGNED = (
    "const signed = (v, d) => (v > 0 ? '+' : v < 0 ? '\u2212' : '') + Math.abs(v).toFixed(d); "
)
_FORMAT_JS = {
    "cap": _SAME + "return 'cap at ' + tick.toFixed(digits) + unit",
    "floor": _SAME + "return 'at least ' + tick.toFixed(digits) + unit",
    "set": _SAME + "return 'set to ' + tick.toFixed(digits) + unit",
    "scale": (
        "return Math.abs(tick - 1) < 1e-9 ? 'no change' : 'x ' + tick.toFixed(2) + "
        "' (' + (tick >= 1 ? '+' : '\u2212') + Math.abs(Math.round((tick - 1) * 100)) + '%)'"
    ),
    "shift": _SIGNED + "return Math.abs(tick) < 1e-9 ? 'no change' : signed(tick, digits) + unit",
}
#: A yes/no influencer's slider speaks in shares and percentage points.
_SHARE_JS = {
    "share": _PCT + "return Math.abs(tick - idv) < 1e-9 ? 'no change (' + pct(idv) + ')' : "
    "'share ' + pct(now) + ' \u2192 ' + pct(tick)",
    "set": _PCT + "return Math.abs(tick - idv) < 1e-9 ? 'no change (' + pct(idv) + ')' : "
    "'share ' + pct(now) + ' \u2192 ' + pct(tick)",
    "shift": _PCT + _SIGNED + "if (Math.abs(tick) < 1e-9) { return 'no change'; } "
    "return signed(tick * 100, 0) + ' pts (share ' + pct(now) + ' \u2192 ' + "
    "pct(Math.min(1, Math.max(0, now + tick))) + ')'",
    "cap": _PCT + _SAME + "return 'at most ' + pct(tick)",
    "floor": _PCT + _SAME + "return 'at least ' + pct(tick)",
    "scale": _PCT + "if (Math.abs(tick - 1) < 1e-9) { return 'no change'; } "
    "return 'x ' + tick.toFixed(2) + ' (share ' + pct(now) + ' \u2192 ' + "
    "pct(Math.min(1, now * tick)) + ')'",
}
_LABELS = {
    "cap": "Cap",
    "scale": "Scale",
    "share": "Share",
    "shift": "Shift",
    "floor": "Floor",
    "set": "Set",
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
        self._now = 0.0  # a share's current value in the lever's channels, for the slider's words
        op, value = state.lever_value(control.target)
        self._operation = op
        self._op = None
        if len(control.accepted) > 1:
            self._op = pmui.RadioButtonGroup(
                options=self._operation_options(op),
                value=op,
                size="small",
                variant="outlined",
                margin=(0, 4, 8, 6),
                width=170,
                height=30,
            )
            self._op.param.watch(self._on_operation, "value")
        start, end, step = self._range(op, value)
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
        # Panel acts on a browser's change of a widget 50 ms later, to merge the steps of a drag;
        # a lever's forecast takes longer than that, and steps that arrive meanwhile are merged
        # all the same: act at once (each move's answer 50 ms sooner)
        self._slider._debounce = 0
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

    @property
    def operation(self) -> str:
        """The operation the control shows."""
        return self._operation

    def _operation_options(self, current: str) -> dict[str, str]:
        """The control's own operations, and the one a loaded lever uses if it is another."""
        ops = list(self.control.operations)
        if current not in ops:
            ops.append(current)
        return {_LABELS[o]: o for o in ops}

    def _range(self, op: str, value: float) -> tuple[float, float, float]:
        """The slider's range for ``op``, widened to hold ``value`` (a loaded lever may lie
        beyond the observed range; the slider must show it, not clip it)."""
        start, end, step = self.control.ranges[op]
        return min(start, value), max(end, value), step

    def _scope(self) -> list[str]:
        """The channels this lever acts on: its loaded scenario's, else the chosen ones."""
        state, c = self.state, self.control
        if c.target in state.scopes:
            return list(state.scopes[c.target])
        return [ch for ch in c.channels if ch in state.channels] or list(c.channels)

    def _current_share(self) -> float:
        """A yes/no influencer's share now in the lever's channels (0 for other controls)."""
        if self.control.measure != "binary":
            return 0.0
        year = self.state.year or self.state.bundle.next_year
        return self.state.bundle.current_mean(self.control.target, year, self._scope())

    def _formatter(self, op: str) -> CustomJSTickFormatter:
        identity = self._identity = self.state.identity(self.control.target, op)
        measure = self.control.measure
        digits = (
            2
            if measure == "driver"
            else max(0, -int(np.floor(np.log10(self.control.ranges[op][2]))))
        )
        unit = " rating points" if measure == "driver" and op == "shift" else ""
        self._now = self._current_share()
        args = {"idv": identity, "digits": int(digits), "unit": unit, "now": self._now}
        if measure == "binary":
            return CustomJSTickFormatter(args=args, code=_SHARE_JS[op])
        return CustomJSTickFormatter(args=args, code=_FORMAT_JS[op])

    def _caption_text(self) -> str:
        c = self.control
        state = self.state
        year = state.year or state.bundle.next_year
        scope = self._scope()
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
        # every view's change in one message to the browser, not one message per view
        with pn.io.hold():
            self.state.set_lever(self.control.target, self._operation, float(event.new))

    def _show(self, op: str, value: float) -> None:
        start, end, step = self._range(op, value)
        self._syncing = True
        try:
            self._slider.param.update(
                start=start, end=end, step=step, format=self._formatter(op), value=value
            )
            if self._op is not None:
                self._op.param.update(options=self._operation_options(op), value=op)
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
                if self._operation in self.control.accepted
                else self.control.default_operation
            )
            value = self.state.identity(target, op)
        self._operation = op
        identity = self.state.identity(target, op)
        shown = (self._op.value if self._op else op, self._slider.value, self._identity, self._now)
        if (op, value, identity, self._current_share()) != shown:
            self._show(op, value)
        if context:
            caption = self._caption_text()
            if caption != self._caption.object:
                self._caption.object = caption
