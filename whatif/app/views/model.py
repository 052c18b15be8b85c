"""The model tab: what the model is, its convergence diagnostics and the data behind it."""

from __future__ import annotations

import panel as pn
from panel.viewable import Viewer

from whatif.app.state import PlannerState
from whatif.app.views.answers import AnswerCheckPanel
from whatif.app.views.widgets import esc, html_pane, html_table, paper

__all__ = ["ModelPanel"]


class ModelPanel(Viewer):
    """The data and diagnostics behind the model."""

    def __init__(self, state: PlannerState, **params):
        super().__init__(**params)
        self.state = state
        self._about = html_pane()
        self._diagnostics = html_pane()
        self._data = html_pane()
        state.param.watch(self._update, ["model_path"])
        self._layout = pn.Column(
            pn.Row(
                paper(self._about),
                paper(self._diagnostics),
                sizing_mode="stretch_width",
                margin=0,
            ),
            AnswerCheckPanel(state),
            paper(self._data),
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
            ("Model", f"{bundle.name} ({esc(bundle.path)})"),
            ("Fitted", f"{esc(bundle.fit_date)} UTC"),
            ("Data", esc(man.get("source", "-"))),
            ("Fingerprint", esc(man.get("fingerprint", "-"))),
            (
                "Responses",
                f"{man.get('responses', 0):,} ({man.get('complete_responses', 0):,} complete)",
            ),
            (
                ("Channels", f"{len(bundle.channels)} (one survey period, no year column)")
                if bundle.single_period
                else (
                    "Channels x years",
                    f"{len(bundle.channels)} x {len(bundle.years)} "
                    f"({bundle.years[0]}-{bundle.years[-1]})",
                )
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
            ("whatif", esc(man.get("versions", {}).get("whatif", "-"))),
        ]
        dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in about)
        self._about.object = f'<div class="section">About this model</div><dl class="dl">{dl}</dl>'
        checks = bundle.diagnostics_rows()
        rows = [
            [esc(r["check"]), r["value"], esc(r["threshold"]), "pass" if r["ok"] else "fail"]
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
            f'<div class="note">{esc(model.verdict)}</div>'
            + html_table(["Check", "Value", "Needed", ""], rows, classes=classes)
        )
        responses = bundle.responses_frame()
        r2 = bundle.r2_frame()
        measured = bundle.measured_frame()
        resp_rows = [[esc(idx)] + [f"{v:,}" for v in responses.loc[idx]] for idx in responses.index]
        r2_rows = [[esc(idx)] + [f"{v:.2f}" for v in r2.loc[idx]] for idx in r2.index]
        chans = list(measured.columns[1:])
        m_rows = [
            [esc(idx), measured.loc[idx, "kind"]]
            + ["&#10003;" if measured.loc[idx, c] else "&ndash;" for c in chans]
            for idx in measured.index
        ]
        self._data.object = (
            '<div class="section">Responses with an answer to overall satisfaction</div>'
            + html_table(["Channel", *responses.columns], resp_rows)
            + '<div class="section" style="margin-top:16px">Share of satisfaction the model explains '
            "(Bayesian R&sup2;)</div>"
            + html_table(["Channel", *r2.columns], r2_rows)
            + '<div class="section" style="margin-top:16px">What each channel measures</div>'
            + html_table(["Driver or influencer", "Kind", *chans], m_rows)
        )
