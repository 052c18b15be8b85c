"""The sidebar: the model in use, the scenario year, the channels and one control per lever."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Protocol

import panel as pn
import panel_material_ui as pmui
from panel.viewable import Viewer

from whatif.app.bundle import available_models
from whatif.app.headline_first import HEADLINES_FIRST
from whatif.app.state import PlannerState
from whatif.app.views.levers import LeverControl
from whatif.app.views.widgets import Deferred, esc, html_pane

__all__ = ["Sidebar"]


class _Page(Protocol):
    """What the sidebar uses of the page that owns it (:class:`~whatif.app.page.PlannerApp`)."""

    model_path: str

    def switch_model(self, path: str) -> None: ...


class Sidebar(Viewer):
    """The model in use, the scenario year, the channels and one control per lever."""

    def __init__(self, state: PlannerState, app: _Page, **params):
        super().__init__(**params)
        self.state = state
        self.app = app
        self._model = pmui.Select(label="Model", sizing_mode="stretch_width", margin=(8, 4, 0, 4))
        self._model.param.watch(self._on_model, "value")
        self._model_info = html_pane(margin=(4, 6, 8, 6))
        self._year = self._channels = None  # made per model (see show_model)
        self.controls: dict[str, LeverControl] = {}
        self._driver_views: list[LeverControl] = []
        self._fixed_parts: list = []  # made when a model is first ready (see _make_parts)
        self._planner_parts = pn.Column(sizing_mode="stretch_width", margin=0)
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

    def _make_parts(self) -> None:
        """The reset button, the extra levers' note and the two sections of levers: made once,
        when a model is first ready (the loading page before it stays light)."""
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
        self._extra = html_pane(margin=(0, 6))
        self._clear_extra = Deferred(self._make_clear_extra)
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
        self._driver_card.param.watch(self._on_driver_card, "collapsed")
        self._fixed_parts = [
            self._reset,
            self._extra,
            self._clear_extra.slot,
            self._influencer_card,
            self._driver_card,
        ]

    def _make_clear_extra(self, **params) -> pmui.Button:
        button = pmui.Button(
            label="Drop these levers", size="small", variant="text", margin=(0, 4), **params
        )
        button.on_click(lambda _: setattr(self.state, "extra_levers", []))
        return button

    def set_models(self, current: Path) -> None:
        options = {p.name: str(p) for p in available_models(current)}
        self._model.param.update(options=options, value=str(current))

    def show_model(self, ready: bool, message: str = "") -> None:
        """Fill the sidebar for the state's model (or show only the model picker)."""
        self._planner_parts.visible = ready
        if not ready:
            self._model_info.object = f'<div class="model-meta">{esc(message)}</div>'
            return
        if not self._fixed_parts:
            self._make_parts()
        bundle = self.state.bundle
        model = bundle.model
        ok = not model.flagged
        badge = (
            f'<span class="badge {"ok" if ok else "bad"}" title="{esc(model.verdict)}">'
            f"{'&#10003; Healthy fit' if ok else '&#9888; Flagged fit'}</span>"
        )
        sampler = model.manifest.get("sampler", {})
        responses = model.manifest.get("responses")
        meta = [f"Fitted {esc(bundle.fit_date)} UTC"]
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
        self._influencers.objects = []
        # the levers (the heaviest part of the sidebar) are made once the headline has gone out,
        # and other sessions' headlines (whatif.app.headline_first); at once outside a server
        HEADLINES_FIRST.later(partial(self._show_influencers, bundle))
        self._driver_views = []
        self._driver_card.visible = any(c.kind != "influencer" for c in bundle.controls.values())
        # driver controls are made when their section is first opened (a faster first page)
        self._drivers.objects = []
        if not self._driver_card.collapsed:
            self._show_drivers()
        self._sync_state()

    def _show_influencers(self, bundle) -> None:
        """Make the influencer controls of ``bundle`` and show them (unless another model has
        been picked since)."""
        if self.state.bundle is not bundle:
            return
        infl = []
        for target, control in bundle.controls.items():
            if control.kind == "influencer":
                self.controls[target] = view = LeverControl(self.state, control)
                infl.append(view)
        self._influencers.objects = infl or [
            html_pane('<div class="note">No influencers in this model.</div>')
        ]

    def _show_drivers(self) -> None:
        """Make the driver controls (once per model) and show them."""
        if not self._driver_views:
            for target, control in self.state.bundle.controls.items():
                if control.kind != "influencer":
                    self.controls[target] = view = LeverControl(self.state, control)
                    self._driver_views.append(view)
        self._drivers.objects = self._driver_views

    def _on_driver_card(self, event) -> None:
        if not event.new and not self._drivers.objects and self.state.bundle is not None:
            self._show_drivers()

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
            items = "".join(f"<li>{esc(self.state.describe(lever))}</li>" for lever in extra)
            self._extra.object = (
                '<div class="caption" style="margin:6px 0 0"><b>Also in this scenario</b> '
                f'(levers the controls below cannot show):<ul class="levers">{items}</ul></div>'
            )
        else:
            self._extra.object = ""
        if extra or self._clear_extra.built:
            self._clear_extra.update(visible=bool(extra))
