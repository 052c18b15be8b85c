"""The headline: the company lift with its interval and probability, top-box, one card per channel."""

from __future__ import annotations

from panel.viewable import Viewer

from whatif.analysis.results import Estimate
from whatif.app.state import PlannerState
from whatif.app.views.widgets import esc, html_pane
from whatif.report import format as fmt

__all__ = ["Headline"]


def _sign_class(entry: Estimate) -> str:
    if entry.mean == entry.lo == entry.hi == 0:
        return "zero"
    if entry.lo > 0:
        return "pos"
    if entry.hi < 0:
        return "neg"
    return ""


class Headline(Viewer):
    """The company lift with its interval and probability, top-box, and one card per channel."""

    def __init__(self, state: PlannerState, **params):
        super().__init__(**params)
        self.state = state
        self._pane = html_pane(margin=(4, 0, 8, 0))
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
        pct = f"{forecast.ci:.0%}"
        total, top, year = forecast.total, forecast.top_box, forecast.year
        if bundle.single_period:
            when = "the survey period"
        else:
            when = f"{year} forecast" if year not in bundle.years else f"{year} (observed year)"
        levers = [state.describe(lever) for _, lever in state.active_levers()]
        if levers:
            lever_html = "".join(f"<li>{esc(t)}</li>" for t in levers)
            lever_block = f'<div class="kpi-label">Levers</div><ul class="levers">{lever_html}</ul>'
        else:
            lever_block = (
                '<div class="kpi-label">Levers</div><div class="kpi-sub" style="margin-top:6px">'
                "None yet: move a lever in the sidebar, or load a scenario.</div>"
            )
        cls = _sign_class(total)
        if not levers:
            main = (
                f'<div class="kpi main"><div class="kpi-label">Company satisfaction lift · {esc(when)}</div>'
                f'<div class="kpi-value zero" id="headline-lift">{fmt.points(0.0)}'
                f'<span class="unit">points</span></div>'
                '<div class="kpi-sub">No change from the levers yet</div></div>'
            )
        else:
            main = (
                f'<div class="kpi main"><div class="kpi-label">Company satisfaction lift · {esc(when)}</div>'
                f'<div class="kpi-value {cls}" id="headline-lift">'
                f"{fmt.points(total.mean, fmt.decimals(total.mean, total.lo, total.hi))}"
                f'<span class="unit">points</span></div>'
                f'<div class="kpi-sub">{pct} interval {fmt.interval(total.lo, total.hi)}'
                f'<span class="prob">P(lift &gt; 0) {fmt.probability(total.p_positive)}</span>'
                "</div></div>"
            )
        topbox = (
            f'<div class="kpi"><div class="kpi-label">Top-box share (9-10)</div>'
            f'<div class="kpi-value small {_sign_class(top)}">'
            f"{fmt.share_points(top.mean)}</div>"
            + (
                f'<div class="kpi-sub">{pct} interval '
                f"{fmt.interval(top.lo, top.hi, 1, scale=100, unit=' pts')}</div></div>"
                if levers
                else '<div class="kpi-sub">Share of answers 9 or 10</div></div>'
            )
        )
        lever_card = f'<div class="kpi" style="flex: 2 1 300px">{lever_block}</div>'
        cards = []
        for channel in bundle.channels:
            entry = forecast.channel(channel)
            lift = entry.lift
            head = (
                f'<div class="ch"><div class="ch-name">{esc(bundle.label(channel))}'
                f" · {fmt.percent(entry.volume)} of contacts</div>"
            )
            if not entry.affected:
                cards.append(
                    f'{head}<div class="ch-value zero">{fmt.points(0.0)}</div>'
                    f'<div class="ch-sub">{fmt.NOT_AFFECTED}</div></div>'
                )
                continue
            cards.append(
                f'{head}<div class="ch-value {_sign_class(lift)}">'
                f"{fmt.points(lift.mean, fmt.decimals(lift.mean, lift.lo, lift.hi))}</div>"
                f'<div class="ch-sub">{fmt.interval(lift.lo, lift.hi)}'
                f" · P&gt;0 {fmt.probability(lift.p_positive)}</div></div>"
            )
        self._pane.object = (
            f'<div class="hero">{main}{topbox}{lever_card}</div>'
            f'<div class="channels">{"".join(cards)}</div>'
        )
