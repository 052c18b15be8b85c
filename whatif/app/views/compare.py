"""The compare tab: saved scenarios side by side with the current one; load, download, remove."""

from __future__ import annotations

import io

import panel as pn
import panel_material_ui as pmui
from panel.viewable import Viewer

from whatif.app import plots
from whatif.app.state import PlannerState
from whatif.app.views.widgets import esc, html_pane, html_table, paper

__all__ = ["ComparePanel"]


class ComparePanel(Viewer):
    """Saved scenarios side by side with the current one; load, download or remove them."""

    def __init__(self, state: PlannerState, **params):
        super().__init__(**params)
        self.state = state
        self._chart = plots.ScenarioIntervals()
        self._table = html_pane()
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
        self._empty = html_pane(
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
            paper(
                html_pane('<div class="section">Compare scenarios</div>'), self._empty, self._tools
            ),
            paper(pn.pane.Bokeh(self._chart.figure, sizing_mode="stretch_width")),
            paper(self._table),
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
            self._chart.update([t for t, _, _ in rows], [summary.total for _, _, summary in rows])
        frame = state.comparison_frame()
        if frame.empty:
            self._table.object = ""
            return
        body = [[f"<b>{esc(idx)}</b>"] + [esc(v) for v in frame.loc[idx]] for idx in frame.index]
        self._table.object = html_table(["", *frame.columns], body)
