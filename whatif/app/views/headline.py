"""The headline: the company lift in the spec's headline metric with its interval and probability,
the other reported metrics (top-box, mean, NPS), and one card per channel."""

from __future__ import annotations

import panel as pn
from panel.viewable import Viewer

from whatif.analysis.results import Estimate
from whatif.app.state import PlannerState
from whatif.app.views.widgets import esc, html_pane
from whatif.report import format as fmt
from whatif.report.metrics import SHORT_LABELS

__all__ = ["Headline", "fresh_headline_html", "headline_html", "headline_pane"]


def _sign_class(entry: Estimate) -> str:
    if entry.mean == entry.lo == entry.hi == 0:
        return "zero"
    if entry.lo > 0:
        return "pos"
    if entry.hi < 0:
        return "neg"
    return ""


#: The main card's title by headline metric.
_TITLES = {
    "mean": "Company satisfaction lift",
    "top_box": "Company top-box lift",
    "nps": "Company NPS lift",
}


def _number(text) -> str:
    """The main card's number: the change without its unit (the card writes the unit apart)."""
    e = text.estimate
    digits = fmt.decimals(e.mean, e.lo, e.hi) if text.metric == "mean" else None
    return fmt.change(text.metric, e.mean, digits, unit=False)


class Headline(Viewer):
    """The company lift with its interval and probability, top-box, and one card per channel."""

    def __init__(self, state: PlannerState, pane: pn.pane.HTML | None = None, **params):
        super().__init__(**params)
        self.state = state
        self._pane = pane if pane is not None else headline_pane()
        state.param.watch(self._update, ["forecast"])
        self._update()

    def __panel__(self):
        return self._pane

    def _update(self, *_) -> None:
        self._pane.object = headline_html(self.state)


def headline_pane(text: str = "") -> pn.pane.HTML:
    """The pane the headline is written in."""
    return html_pane(text, margin=(4, 0, 8, 0))


def fresh_headline_html(bundle) -> str:
    """The headline of a session just opened on ``bundle`` (no levers, the default year, every
    channel): everyone's first headline, so made once per model and kept with it."""
    return bundle.kept("fresh_headline", lambda: headline_html(PlannerState(bundle=bundle)))


def headline_html(state: PlannerState) -> str:
    """The headline of ``state``'s forecast as HTML (empty with no forecast): the main card, the
    other metrics, the levers and one card per channel."""
    forecast = state.forecast
    if forecast is None or state.bundle is None:
        return ""
    bundle = state.bundle
    pct = f"{forecast.ci:.0%}"
    lead, *others = state.metric_texts()
    total, year = lead.estimate, forecast.year
    now = state.baseline_levels()
    title = _TITLES.get(lead.metric, lead.label)
    unit = fmt.UNITS[lead.metric]
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
            f'<div class="kpi main"><div class="kpi-label">{esc(title)} · {esc(when)}</div>'
            f'<div class="kpi-value zero" id="headline-lift">'
            f"{fmt.change(lead.metric, 0.0, unit=False)}"
            f'<span class="unit">{unit}</span></div>'
            '<div class="kpi-sub">No change from the levers yet · now '
            f"{fmt.level(lead.metric, now[lead.metric])}</div></div>"
        )
    else:
        main = (
            f'<div class="kpi main"><div class="kpi-label">{esc(title)} · {esc(when)}</div>'
            f'<div class="kpi-value {cls}" id="headline-lift">'
            f"{_number(lead)}"
            f'<span class="unit">{unit}</span></div>'
            f'<div class="kpi-sub">{pct} interval {lead.interval}'
            f'<span class="prob">P(lift &gt; 0) {lead.probability}</span>'
            "</div></div>"
        )
    topbox = "".join(
        f'<div class="kpi"><div class="kpi-label">{esc(other.label)}</div>'
        f'<div class="kpi-value small {_sign_class(other.estimate)}">{other.value}</div>'
        + (
            f'<div class="kpi-sub">{pct} interval {other.interval}</div></div>'
            if levers
            else f'<div class="kpi-sub">Now {fmt.level(other.metric, now[other.metric])}'
            "</div></div>"
        )
        for other in others
    )
    lever_card = f'<div class="kpi" style="flex: 2 1 300px">{lever_block}</div>'
    cards = []
    for channel in bundle.channels:
        entry = forecast.channel(channel)
        first, *rest = state.metric_texts(channel)
        lift = first.estimate
        head = (
            f'<div class="ch"><div class="ch-name">{esc(bundle.label(channel))}'
            f" · {fmt.percent(entry.volume)} of contacts</div>"
        )
        if not entry.affected:
            cards.append(
                f'{head}<div class="ch-value zero">'
                f"{fmt.change(lead.metric, 0.0, unit=False)}</div>"
                f'<div class="ch-sub">{fmt.NOT_AFFECTED}</div></div>'
            )
            continue
        more = " · ".join(f"{SHORT_LABELS[t.metric]} {t.value} ({t.interval})" for t in rest)
        cards.append(
            f'{head}<div class="ch-value {_sign_class(lift)}">{first.value}</div>'
            f'<div class="ch-sub">{first.interval}'
            f" · P&gt;0 {first.probability}</div>"
            f'<div class="ch-sub">{esc(more)}</div></div>'
        )
    return (
        f'<div class="hero">{main}{topbox}{lever_card}</div>'
        f'<div class="channels">{"".join(cards)}</div>'
    )
