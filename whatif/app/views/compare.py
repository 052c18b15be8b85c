"""The compare tab: the team's saved scenarios (who saved them, when), side by side with the
current one, and the difference between any two on the same posterior draws, with P(B beats A);
load, download or delete (after asking) a saved scenario.

The saved scenarios are files every session shares (:mod:`whatif.analysis.library`); the tab
looks for changes every few seconds, so a plan a colleague saves appears without a reload.
"""

from __future__ import annotations

import io

import panel as pn
import panel_material_ui as pmui
from panel.viewable import Viewer

from whatif.analysis.difference import ScenarioDifference, scenario_difference
from whatif.app import plots
from whatif.app.state import PlannerState
from whatif.app.views.widgets import esc, html_pane, html_table, paper
from whatif.errors import ScenarioError
from whatif.report.difference import difference_rows

__all__ = ["ComparePanel", "LIBRARY_POLL_MS"]

#: How often a session looks for scenarios saved or deleted by others (milliseconds).
LIBRARY_POLL_MS = 3000


class ComparePanel(Viewer):
    """Saved scenarios side by side with the current one, the difference between any two; load,
    download or delete them."""

    def __init__(self, state: PlannerState, **params):
        super().__init__(**params)
        self.state = state
        self._differences: dict[tuple, ScenarioDifference] = {}
        self._chart = plots.ScenarioIntervals()
        self._table = html_pane()
        self._library = html_pane()
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
            label="Delete", icon="delete", variant="text", color="error", margin=(4, 4), width=120
        )
        self._remove.on_click(self._on_remove)
        self._confirm = pmui.Alert(
            severity="warning", visible=False, sizing_mode="stretch_width", margin=(6, 0)
        )
        self._yes = pmui.Button(label="Delete", color="error", variant="contained", margin=(0, 4))
        self._yes.on_click(lambda _: self.state.team.confirm_delete())
        self._no = pmui.Button(label="Keep it", variant="outlined", margin=(0, 4))
        self._no.on_click(lambda _: self.state.team.cancel())
        self._asking = pn.Column(
            self._confirm,
            pn.Row(self._yes, self._no, margin=(0, 0, 6, 0)),
            visible=False,
            sizing_mode="stretch_width",
            margin=0,
        )
        self._empty = html_pane(
            '<div class="note">No saved scenarios yet. Name the current scenario '
            "above and press <b>Save scenario</b>, or upload a .toml file; saved "
            "scenarios are shared with everyone using this model and appear here side by "
            "side.</div>"
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
        self._first = pmui.Select(label="Scenario A", min_width=220, margin=(4, 8, 4, 0))
        self._second = pmui.Select(label="Scenario B", min_width=220, margin=(4, 8, 4, 0))
        for select in (self._first, self._second):
            select.param.watch(self._show_difference, "value")
        self._difference = html_pane()
        state.param.watch(self._update, ["saved", "forecast"])
        state.team.param.watch(self._update, ["entries", "pending_delete"])
        self._layout = pn.Column(
            paper(
                html_pane('<div class="section">Compare scenarios</div>'),
                self._empty,
                self._tools,
                self._asking,
                self._library,
            ),
            paper(pn.pane.Bokeh(self._chart.figure, sizing_mode="stretch_width")),
            paper(self._table),
            paper(
                html_pane(
                    '<div class="section">Difference between two scenarios</div>'
                    '<div class="note">B minus A on the same posterior draws: what the two '
                    "plans share cancels, so the interval is that of the difference itself. "
                    "P(B beats A) is the share of draws in which B lifts more.</div>"
                ),
                pn.Row(
                    self._first,
                    self._second,
                    margin=0,
                    sizing_mode="stretch_width",
                    styles={"flex-wrap": "wrap"},
                ),
                self._difference,
            ),
            sizing_mode="stretch_width",
            margin=0,
        )
        if pn.state.curdoc is not None:  # under a server: see what colleagues save meanwhile
            pn.state.add_periodic_callback(self.state.team.refresh, period=LIBRARY_POLL_MS)
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
            self.state.team.ask_delete(self._pick.value)

    def _update(self, *_) -> None:
        state = self.state
        if state.bundle is None:
            return
        names = [s.name for s in state.saved]
        value = self._pick.value if self._pick.value in names else (names[-1] if names else None)
        self._pick.param.update(options=names, value=value)
        self._empty.visible = not names
        self._tools.visible = bool(names)
        asking = state.team.pending_delete
        shared = state.team.entry(asking) is not None
        self._confirm.object = (
            f"Delete '{esc(asking)}'"
            + (" for everyone using this model?" if shared else " from this session?")
            if asking
            else ""
        )
        self._asking.visible = bool(asking)
        self._library.object = self._library_table(names)
        rows = state.comparison()
        with pn.io.unlocked():  # raw Bokeh models: dispatch their changes like Panel's own
            self._chart.update([t for t, _, _ in rows], [summary.total for _, _, summary in rows])
        frame = state.comparison_frame()
        if frame.empty:
            self._table.object = ""
        else:
            body = [
                [f"<b>{esc(idx)}</b>"] + [esc(v) for v in frame.loc[idx]] for idx in frame.index
            ]
            self._table.object = html_table(["", *frame.columns], body)
        self._update_pairs([title for title, _, _ in rows])

    def _library_table(self, names: list[str]) -> str:
        if not names:
            return ""
        team = self.state.team
        body = [[esc(name), esc(team.caption(name))] for name in names]
        problems = "".join(f'<div class="note">{esc(p)}</div>' for p in team.problems)
        return html_table(["Saved scenario", "Saved"], body) + problems

    def _update_pairs(self, titles: list[str]) -> None:
        first = self._first.value if self._first.value in titles else None
        second = self._second.value if self._second.value in titles else None
        if first is None and titles:
            first = titles[0]
        if second is None and len(titles) > 1:
            second = next(t for t in titles if t != first)
        self._first.param.update(options=titles, value=first)
        self._second.param.update(options=titles, value=second)
        self._show_difference()

    def _scenario(self, title: str | None):
        return next((s for t, s, _ in self.state.comparison() if t == title), None)

    def _show_difference(self, *_) -> None:
        state = self.state
        a, b = self._scenario(self._first.value), self._scenario(self._second.value)
        if a is None or b is None:
            self._difference.object = (
                '<div class="note">Save two scenarios (or save one and set the levers for '
                "another) to see their difference.</div>"
            )
            return
        key = (a.to_toml(), b.to_toml(), state.ci, state.model_path)
        try:
            if key not in self._differences:
                self._differences[key] = scenario_difference(state.bundle.engine, a, b, state.ci)
        except ScenarioError as err:
            self._difference.object = f'<div class="note">{esc("; ".join(err.problems))}</div>'
            return
        diff = self._differences[key]
        pct = f"{diff.ci:.0%}"
        top_box = state.bundle.model.spec.rating.top_box_label
        rows = difference_rows(
            diff, state.bundle.label, top_box_label=top_box, channels=state.bundle.channels
        )
        body = [
            [esc(r["what"]), f"<b>{esc(r['difference'])}</b>", esc(r["interval"]), esc(r["beats"])]
            for r in rows
        ]
        self._difference.object = html_table(
            ["", "B \u2212 A", f"{pct} interval", "P(B beats A)"],
            body,
            total_rows=len(diff.metrics),
        ) + (f'<div class="note" id="difference-note">A: {esc(a.name)} · B: {esc(b.name)}</div>')
