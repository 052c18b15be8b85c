"""The CX driver index between surveys: nowcast satisfaction from a KPI feed, and alert on it.

Per period ``p`` and channel ``c``, over every posterior draw:

* **baseline**: the model's level of the metric in its last observed year (the engine's
  ``baseline``, ``baseline_top_box``, ``baseline_nps`` of that year);
* **change**: each KPI of the period as a lever, ``set`` to the period's value (a share for a
  binary KPI, a mean for a count or continuous one) in its channel, simulated by
  :class:`~whatif.analysis.engine.ScenarioEngine` for the year after the last (its weights take
  one more random-walk step, so the change carries the honest drift of a new year). A period is
  exactly the scenario of those levers: ``whatif simulate`` on it gives the same change;
* **nowcast** = baseline + change.

A KPI missing in a period (an empty cell, or no column for it) is at its baseline value there, and
the period says so; a channel of the model without a row for the period is at its baseline.

**Contributions.** Each KPI's part of the change per draw is read off the linear predictor: its
unit lift (satisfaction points per unit of the KPI, directly and through the drivers and their
paths, of the forecast year) times the change of its mean, ``a[j] = unit[j] * dz[j]``. For the
mean metric of the linear model the parts add up to the change exactly. For any metric ``m``
(top-box and NPS are not linear in the KPIs; the mean of a rating-scale model is not either) the
rule is *proportional to the linear predictor*: ``contribution[j] = change_m * a[j] / sum(a)``,
so the contributions add up to the change in every draw; in a draw where the parts cancel
(``|sum(a)| < 1e-12``) what is left is split equally among the KPIs that moved.

**Company.** Channels are weighted by the feed's ``contacts`` of the period where it gives them
(channels without a row for the period then weigh nothing), else by the model's channel volumes.

**Range.** A KPI outside what the model was fitted on is flagged: a count or continuous mean
outside the values respondents had in the channel (``influencer_min``/``influencer_max``); a
binary share, whose respondents are all 0 or 1, when it is below half the lowest or above twice
the highest yearly share of the channel (:data:`BINARY_RANGE`).
"""

from __future__ import annotations

import numpy as np

from whatif.analysis.alerts import AlertRule, FiredAlert, alert_message, metric_probability
from whatif.analysis.engine import ScenarioEngine, scale_warnings
from whatif.analysis.monitor_results import (
    COMPANY,
    Contribution,
    Nowcast,
    NowcastDraws,
    PeriodNowcast,
    kpi_text,
    metric_text,
)
from whatif.analysis.results import Estimate
from whatif.analysis.scenario import Lever, Scenario
from whatif.data.kpis import KpiFeed
from whatif.errors import WhatifError
from whatif.fitting.fitted import FittedModel

__all__ = ["BINARY_RANGE", "Monitor"]

#: A binary KPI's share is outside the fitted range beyond this factor of its yearly shares.
BINARY_RANGE = 2.0
#: A KPI this close to its baseline value is the baseline (no lever, exactly no change).
_SAME = 1e-12


class Monitor:
    """A fitted model's nowcast machinery, prepared once for many feeds.

    Parameters
    ----------
    model
        A fitted or loaded model.
    engine
        Its :class:`ScenarioEngine` (made when not given).
    """

    def __init__(self, model: FittedModel, engine: ScenarioEngine | None = None):
        self.model = model
        self.engine = engine or ScenarioEngine(model)
        self.spec = model.spec
        self.channels = self.engine.channels
        self.influencers = self.engine.influencers
        self.baseline_year = self.engine.years[-1]
        agg = model.aggregates
        shares = (agg["dist_share"] * agg["dist_value"].fillna(0.0)).sum("bin").to_numpy()
        t = self.engine.population_index(self.baseline_year)
        self.measured = agg["influencer_measured"].to_numpy().astype(bool)
        self.baseline_kpi = np.where(self.measured, shares[:, t, :], np.nan)  # (C, J)
        observed = agg["n_total"].to_numpy()[:, :, None] > 0
        yearly = np.where(observed, shares, np.nan)
        binary = np.array([self.spec.influencer(j).kind == "binary" for j in self.influencers])
        self.binary = binary
        # a binary KPI's respondents are 0 or 1, so its range is read off the yearly shares
        low_share = np.nanmin(yearly, axis=1) / BINARY_RANGE
        high_share = np.minimum(np.nanmax(yearly, axis=1) * BINARY_RANGE, 1.0)
        self.low = np.where(binary, low_share, agg["influencer_min"].to_numpy())
        self.high = np.where(binary, high_share, agg["influencer_max"].to_numpy())
        base = self.engine.lift_arrays(Scenario("baseline", (), year=self.baseline_year))
        self.metrics = self.spec.rating.metrics
        self.baseline = {
            "mean": base["baseline"],
            "top_box": base["baseline_top_box"],
            **({"nps": base["baseline_nps"]} if "baseline_nps" in base else {}),
        }

    # -- draws ------------------------------------------------------------------------------------

    def draws(self, feed: KpiFeed) -> NowcastDraws:
        """Nowcast draws of every period of ``feed`` (see the module docstring)."""
        P, C, J = len(feed.periods), len(self.channels), len(self.influencers)
        S = self.engine.n_draws
        kpi = np.broadcast_to(self.baseline_kpi, (P, C, J)).copy()
        given = np.zeros((P, C, J), bool)
        moved = np.zeros((P, C, J), bool)
        row = np.zeros((P, C), bool)
        contacts = np.zeros((P, C))
        warnings: list[list[list[str]]] = [[[] for _ in range(C + 1)] for _ in range(P)]
        p_of = {p: i for i, p in enumerate(feed.periods)}
        j_of = {j: i for i, j in enumerate(self.influencers)}
        c_of = {c: i for i, c in enumerate(self.channels)}
        columns = [j_of[j] for j in feed.influencers]
        for (period, channel), values in zip(
            feed.values.index, feed.values.to_numpy(), strict=True
        ):
            p, c = p_of[period], c_of[channel]
            row[p, c] = True
            present = ~np.isnan(values)
            for j, value, has in zip(columns, values, present, strict=True):
                if has and self.measured[c, j]:
                    kpi[p, c, j], given[p, c, j] = value, True
                    moved[p, c, j] = abs(value - self.baseline_kpi[c, j]) > _SAME
                elif has:
                    warnings[p][c].append(
                        f"{self._label(self.influencers[j])} is not measured in "
                        f"{self._label(channel)}, so the model has no effect for it there; its "
                        "value is ignored"
                    )
            if feed.contacts is not None:
                contacts[p, c] = feed.contacts[(period, channel)]
        outside = given & ((kpi < self.low - 1e-9) | (kpi > self.high + 1e-9))
        change = {m: np.zeros((P, C, S)) for m in self.metrics}
        dz = np.zeros((P, C, J))
        for p, period in enumerate(feed.periods):
            levers = tuple(
                self._kpi_lever(j, c, float(kpi[p, c, j]))
                for c in range(C)
                for j in range(J)
                if moved[p, c, j]
            )
            out = self.engine.lift_arrays(Scenario(f"period {period}", levers))
            change["mean"][p] = out["total"].T
            change["top_box"][p] = out["top_box"].T
            if "nps" in change:
                change["nps"][p] = out["nps"].T
            dz[p] = out["influencer_change"]
            self._period_warnings(warnings[p], p, kpi, given, outside, row, out["total"])
        unit = self.engine.year_arrays(self.engine.default_year).unit_lift  # (S, C, J)
        parts = np.transpose(unit, (1, 2, 0))[None] * dz[..., None]  # (P, C, J, S)
        weights = self._company_weights(contacts, feed.contacts is not None, warnings)
        value, total = {}, {}
        for m in self.metrics:
            level = self.baseline[m].T[None] + change[m]
            value[m] = np.concatenate([level, np.einsum("pc,pcs->ps", weights, level)[:, None]], 1)
            company = np.einsum("pc,pcs->ps", weights, change[m])[:, None]
            total[m] = np.concatenate([change[m], company], axis=1)
        return NowcastDraws(
            list(feed.periods),
            self.channels,
            self.influencers,
            value,
            total,
            parts,
            kpi,
            self.baseline_kpi,
            given,
            moved,
            outside,
            self.measured,
            weights,
            warnings,
        )

    def _kpi_lever(self, j: int, c: int, value: float) -> Lever:
        """The lever that moves KPI ``j``'s mean in channel ``c`` to ``value``: a share is set; a
        count is scaled (every respondent's count by the same factor, none below zero); a
        continuous KPI shifted. The respondents keep their spread around the new mean, which a
        forecast on the answer scale needs (setting every respondent to the mean would not)."""
        name, channel = self.influencers[j], (self.channels[c],)
        base = float(self.baseline_kpi[c, j])
        kind = self.spec.influencer(name).kind
        if kind == "count" and base > 0:
            return Lever(name, "influencer", "scale", value / base, channel)
        if kind == "continuous":
            return Lever(name, "influencer", "shift", value - base, channel)
        return Lever(name, "influencer", "set", value, channel)

    def _label(self, name: str) -> str:
        return self.spec.label_of(name)

    def _period_warnings(self, warnings, p, kpi, given, outside, row, lift) -> None:
        year = self.baseline_year
        for c, channel in enumerate(self.channels):
            if not row[p, c]:
                warnings[-1].append(
                    f"{self._label(channel)} has no row for this period; it is at its {year} "
                    "baseline"
                )
                continue
            missing = [
                self.influencers[j]
                for j in range(len(self.influencers))
                if self.measured[c, j] and not given[p, c, j]
            ]
            if missing:
                warnings[c].append(
                    f"not in the feed for this period, so held at the {year} baseline: "
                    + ", ".join(missing)
                )
            for j in np.flatnonzero(outside[p, c]):
                name, binary = self.influencers[j], self.binary[j]
                span = "range of the yearly shares" if binary else "values"
                warnings[c].append(
                    f"{self._label(name)} {kpi_text(kpi[p, c, j], binary)} is outside the "
                    f"{span} the model was fitted on in {self._label(channel)} "
                    f"({kpi_text(self.low[c, j], binary)}-{kpi_text(self.high[c, j], binary)}); "
                    "the nowcast extrapolates"
                )
            base = float(self.baseline["mean"][:, c].mean())
            for text in scale_warnings(
                [self._label(channel)],
                np.array([base]),
                np.array([lift[:, c].mean()]),  # lift: (S, C)
                self.engine.scale,
            ):
                warnings[c].append(text)

    def _company_weights(self, contacts, has_contacts: bool, warnings) -> np.ndarray:
        volume = self.engine.volumes(self.engine.default_year)
        weights = np.broadcast_to(volume, contacts.shape).copy()
        if not has_contacts:
            return weights
        for p in range(len(contacts)):
            total = contacts[p].sum()
            if total > 0:
                weights[p] = contacts[p] / total
            else:
                warnings[p][-1].append(
                    "no contacts in the feed for this period; channels weighted by the model's "
                    "volumes"
                )
        return weights

    # -- summaries ------------------------------------------------------------------------------

    def nowcast(
        self,
        feed: KpiFeed,
        metric: str | None = None,
        ci: float = 0.9,
        alerts: tuple[AlertRule, ...] = (),
        draws: NowcastDraws | None = None,
    ) -> Nowcast:
        """The nowcast of ``metric`` (default: the model's headline) for every period of
        ``feed``, with contributions, warnings and the alerts that fire.

        Parameters
        ----------
        feed
            From :func:`whatif.data.kpis.load_kpis`.
        metric
            ``mean``, ``top_box`` or ``nps`` (one the model reports).
        ci
            Probability of the intervals.
        alerts
            Validated alert rules (:mod:`whatif.analysis.alerts`).
        draws
            :meth:`draws` of ``feed``, when already computed.
        """
        metric = metric or self.spec.rating.headline
        if metric not in self.metrics:
            raise WhatifError(
                f"--metric {metric}: the model reports {', '.join(self.metrics)}"
                + ("; its scale has no NPS" if metric == "nps" else "")
            )
        draws = draws or self.draws(feed)
        value = _bands(draws.value[metric], ci)
        change = _bands(draws.change[metric], ci)
        effect = _bands(draws.contributions(metric), ci)
        names = self.channels + [COMPANY]
        company_kpi = _weighted_kpi(draws)
        rows = []
        for p, period in enumerate(draws.periods):
            for c, channel in enumerate(names):
                parts = []
                for j, name in enumerate(self.influencers):
                    if c < len(self.channels) and not self.measured[c, j]:
                        continue
                    if c == len(self.channels) and not self.measured[:, j].any():
                        continue
                    kpi, base, outside = (
                        (draws.kpi[p, c, j], self.baseline_kpi[c, j], draws.outside[p, c, j])
                        if c < len(self.channels)
                        else (*company_kpi[p, j], False)
                    )
                    parts.append(
                        Contribution(
                            name, float(kpi), float(base), _estimate(effect, p, c, j), outside
                        )
                    )
                rows.append(
                    PeriodNowcast(
                        period,
                        channel,
                        _estimate(value, p, c),
                        _estimate(change, p, c),
                        tuple(parts),
                        tuple(draws.warnings[p][c]),
                    )
                )
        fired = self.evaluate(alerts, draws)
        return Nowcast(
            metric,
            ci,
            self.baseline_year,
            tuple(rows),
            fired,
            tuple(draws.periods),
            tuple(names),
        )

    def evaluate(self, rules: tuple[AlertRule, ...], draws: NowcastDraws) -> tuple[FiredAlert, ...]:
        """The alerts that fire, by period then in the rules' order (see
        :mod:`whatif.analysis.alerts` for the boundary)."""
        fired: list[tuple[int, int, FiredAlert]] = []
        for r, rule in enumerate(rules):
            if rule.kind == "metric":
                metric = rule.metric or self.spec.rating.headline
                c = self.channels.index(rule.channel) if rule.channel else len(self.channels)
                level = draws.value[metric][:, c]  # (P, S)
                probability = metric_probability(rule, level)
                for p, period in enumerate(draws.periods):
                    if rule.fires(float(level[p].mean()), float(probability[p])):
                        where = self._label(rule.channel) if rule.channel else "the company"
                        text = metric_text(float(level[p].mean()), metric)
                        fired.append(
                            (
                                p,
                                r,
                                FiredAlert(
                                    period,
                                    rule.channel or COMPANY,
                                    rule.name,
                                    "metric",
                                    float(level[p].mean()),
                                    float(probability[p]),
                                    alert_message(rule, period, where, text),
                                ),
                            )
                        )
                continue
            j = self.influencers.index(rule.influencer)
            channels = [rule.channel] if rule.channel else self.channels
            for p, period in enumerate(draws.periods):
                for channel in channels:
                    c = self.channels.index(channel)
                    value = float(draws.kpi[p, c, j])
                    if draws.given[p, c, j] and rule.fires(value):
                        text = kpi_text(value, bool(self.binary[j]))
                        message = alert_message(rule, period, self._label(channel), text)
                        alert = FiredAlert(period, channel, rule.name, "kpi", value, None, message)
                        fired.append((p, r, alert))
        return tuple(alert for _, _, alert in sorted(fired, key=lambda item: item[:2]))


def _bands(draws: np.ndarray, ci: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and equal-tailed interval along the draws axis (the last); the draws have no NaN, so
    the quantiles run vectorized (NumPy's ``nanquantile`` loops over every other axis)."""
    lo, hi = np.quantile(draws, [(1 - ci) / 2, (1 + ci) / 2], axis=-1)
    return draws.mean(axis=-1), lo, hi


def _estimate(bands, *index) -> Estimate:
    mean, lo, hi = bands
    return Estimate(float(mean[index]), float(lo[index]), float(hi[index]))


def _weighted_kpi(draws: NowcastDraws) -> np.ndarray:
    """The company's KPI and baseline per period: channels weighted where the KPI is measured,
    ``(P, J, 2)``."""
    weights = draws.weights[:, :, None] * draws.measured[None]  # (P, C, J)
    total = weights.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        kpi = (weights * np.nan_to_num(draws.kpi)).sum(axis=1) / total
        base = (weights * np.nan_to_num(draws.baseline_kpi)[None]).sum(axis=1) / total
    return np.stack([kpi, base], axis=-1)
