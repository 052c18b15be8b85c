"""The scenario engine: levers -> change in influencers and drivers -> satisfaction lift draws.

The model is linear, so a lever's effect on a channel's mean satisfaction is exact given the change
in each influencer's *mean*; that change is computed on the real distribution of the influencer in
the scenario year (a cap at 3 only moves respondents above 3); a binary KPI moves as a share
(``shift = 0.10`` raises first-contact resolution by 10 points). Per posterior draw ``s``:

* ``d_driver[s,c] = P[s,c] (effects[s,c] dz[c] + dx[c])`` with ``P = (I - B)^-1`` of the driver
  paths ``B`` (:mod:`whatif.analysis.effects`): a change of a driver, by a lever or through the
  influencers' own-equation effects, reaches every driver downstream of it
* ``indirect[s,c] = sum_k weights[s,c,Y,k] * d_driver[s,c,k]``
* ``direct[s,c] = sum_j direct[s,c,j] * dz[c,j]``

so a driver lever moves satisfaction by its total effect ``weights' P`` times the change. Without
paths ``P`` is the identity and none of it is computed.

For the year after the last observed one the weights take one more random-walk step
(``weights[last] + weight_drift * N(0, 1)``, a fixed seed), so that forecast is honestly wider.
A survey without a year column is one period, not a year among others: its scenarios are for that
period (the default year), and there is no year after it to forecast.
Top-box (the two highest points of the scale) uses a normal predictive distribution of individual
answers with the group's linear-predictor variance plus ``sigma^2``; the lever shifts its mean.
Everything is NumPy on arrays prepared once per model, so one scenario costs a few milliseconds.

A forecast mean that leaves the rating scale, or comes within :data:`SCALE_MARGIN` of its span of
the end it moves towards, is warned about (:func:`scale_warnings`): answers pile up at the ends of
a scale, which a linear model does not see, so a lift there is overstated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.special import ndtr

from whatif.analysis.answer_engine import MAX_ANSWER_DRAWS, AnswerForecast, is_rating_model
from whatif.analysis.effects import path_arrays, propagator
from whatif.analysis.lift_summary import summarize_lift
from whatif.analysis.respondents import respondent_changes
from whatif.analysis.scale_warnings import scale_warnings
from whatif.analysis.scenario import (
    Lever,
    Scenario,
    apply_operation,
    model_facts,
    validate_scenario,
)
from whatif.analysis.scenario_cache import ScenarioCache, scenario_key
from whatif.data.moments import group_covariance, group_means
from whatif.errors import ScenarioError
from whatif.fitting.fitted import FittedModel

__all__ = [
    "ScenarioEngine",
    "YearArrays",
    "simulate",
    "summarize_lift",
]


@dataclass
class YearArrays:
    """Per-year posterior arrays of the engine (S draws, C channels, K drivers, J influencers)."""

    weights: np.ndarray  # (S, C, K), NaN -> 0
    unit_lift: np.ndarray  # (S, C, J): satisfaction per unit of influencer (direct + via drivers)
    direct: np.ndarray  # (S, C, J)
    base_mean: np.ndarray  # (S, C) model mean satisfaction
    pred_sd: np.ndarray  # (S, C) sd of an individual answer
    total_weights: np.ndarray  # (S, C, K): weights' (I - B)^-1, satisfaction per unit of driver


class ScenarioEngine:
    """Posterior arrays of one model, prepared once, to simulate many scenarios fast.

    Parameters
    ----------
    model
        A fitted or loaded model.
    seed
        Seed of the random-walk step used for next-year forecasts (fixed, so results repeat).
    """

    def __init__(self, model: FittedModel, seed: int = 0):
        self.model = model
        self.single_period = model.spec.single_period
        agg = model.aggregates
        self.channels = [str(c) for c in agg["channel"].to_numpy()]
        self.years = [int(y) for y in agg["year"].to_numpy()]
        self.drivers = [str(d) for d in agg["driver"].to_numpy()]
        self.influencers = [str(i) for i in agg["influencer"].to_numpy()]
        # made once: building their indexes again for every lift was half of wrapping it
        self._lift_coords = xr.Coordinates(
            {"channel": self.channels, "influencer": self.influencers, "driver": self.drivers}
        )
        n_draws = model.draws("sigma").sizes["sample"]
        draws = np.arange(n_draws)
        self.answers = None
        if is_rating_model(model):
            # forecasts on the answer scale cost a table look-up per respondent and draw
            draws = np.unique(
                np.linspace(0, n_draws - 1, min(n_draws, MAX_ANSWER_DRAWS)).astype(int)
            )
            self.answers = AnswerForecast(model, draws)

        def posterior(name):
            return model.draws(name).to_numpy()[draws]

        self._weights = np.nan_to_num(posterior("weights"))  # (S, C, T, K)
        self._effects = np.nan_to_num(posterior("effects"))  # (S, C, K, J)
        self._own_effects = self._effects
        self._direct = np.nan_to_num(posterior("direct"))  # (S, C, J)
        paths = path_arrays(model)  # (S, C, K, K) or None
        self._paths = None if paths is None else paths[draws]
        self._propagate = None if paths is None else propagator(self._paths)
        if self._propagate is not None:
            # the influencers' effects through the whole graph, not only each driver's own equation
            self._effects = self._propagate @ self._effects
        self._intercept = posterior("intercept")  # (S, C, T)
        self._sigma = posterior("sigma")  # (S, C)
        drift = posterior("weight_drift")  # (S, K)
        rng = np.random.default_rng(seed)
        self._step = drift[:, None, :] * rng.standard_normal(
            self._weights.shape[:2] + drift.shape[1:]
        )
        self._dmask = agg["driver_measured"].to_numpy()
        self._imask = agg["influencer_measured"].to_numpy()
        self._share = agg["dist_share"].to_numpy()  # (C, T, J, B)
        self._value = np.nan_to_num(agg["dist_value"].to_numpy())
        self._zmin = agg["influencer_min"].to_numpy()
        self._zmax = agg["influencer_max"].to_numpy()
        means = group_means(agg)
        self._xbar = np.nan_to_num(
            means.sel(term=self.drivers).transpose("channel", "year", "term").to_numpy()
        )
        self._zbar = np.nan_to_num(
            means.sel(term=self.influencers).transpose("channel", "year", "term").to_numpy()
        )
        self._cov = group_covariance(agg)
        self._n_total = agg["n_total"].to_numpy().astype(float)
        self._kinds = {i.id: i.kind for i in model.spec.influencers}
        low, high = model.spec.scale
        self.scale = (low, high)
        self.rating = model.spec.rating
        self.top_box_threshold = self.rating.top_box - 0.5
        self._years_cache: dict[int, YearArrays] = {}
        self._baselines: dict[int, dict[str, np.ndarray]] = {}
        self._facts = model_facts(model.spec, agg)
        self.cache = ScenarioCache()  # the recent scenarios' draws (see lift)

    @property
    def n_draws(self) -> int:
        return self._weights.shape[0]

    @property
    def default_year(self) -> int:
        """The year of a scenario that names none: the year after the last, or the one period of
        a survey without a year column."""
        return self.years[-1] if self.single_period else self.years[-1] + 1

    def scenario_year(self, scenario: Scenario) -> int:
        return scenario.year if scenario.year is not None else self.default_year

    def population_index(self, year: int) -> int:
        """Index of the year whose respondents a scenario acts on (the last one for next year)."""
        return self.years.index(year) if year in self.years else len(self.years) - 1

    def volumes(self, year: int) -> np.ndarray:
        """Channel shares of contact volume (spec volumes, else response shares that year)."""
        spec_channels = self.model.spec.channels
        if spec_channels and all(
            spec_channels.get(c) and spec_channels[c].volume for c in self.channels
        ):
            vol = np.array([spec_channels[c].volume for c in self.channels], float)
        else:
            vol = self._n_total[:, self.population_index(year)].copy()
        return vol / vol.sum()

    def prepare(self, years) -> None:
        """Compute the per-year arrays of ``years`` now, so a first scenario on them is fast;
        for the default year (the planner's first) also its baseline and, on the answer scale,
        every channel's tables of answer changes (seconds of work a first lever would wait for)."""
        for year in years:
            self.year_arrays(year)
        if self.default_year in years:
            self.baseline_metrics(self.default_year)
        if self.default_year in years and self.answers is not None:
            t = self.population_index(self.default_year)
            weights = self.year_arrays(self.default_year).weights
            arrays = {"intercept": self._intercept[:, :, t], "direct": self._direct}
            arrays.update(weights=weights, sigma=self._sigma, paths=self._paths)
            self.answers.prepare(t, **arrays)

    def year_arrays(self, year: int) -> YearArrays:
        """The weights (with one random-walk step for the year after the last), unit lifts, direct
        effects, baseline means and predictive sds of ``year``, cached."""
        if year in self._years_cache:
            return self._years_cache[year]
        t = self.population_index(year)
        weights = self._weights[:, :, t, :]
        if year not in self.years:
            weights = weights + self._step * self._dmask[None]
        total_weights = weights
        if self._propagate is not None:
            total_weights = np.einsum("sck,sckm->scm", weights, self._propagate)
        unit = np.einsum("sck,sckj->scj", weights, self._effects) + self._direct
        base = (
            self._intercept[:, :, t]
            + np.einsum("sck,ck->sc", weights, self._xbar[:, t])
            + np.einsum("scj,cj->sc", self._direct, self._zbar[:, t])
        )
        terms = self.drivers + self.influencers
        cov = np.nan_to_num(
            self._cov.isel(year=t).sel(term=terms, term_=terms).to_numpy()
        )  # (C, P, P)
        coef = np.concatenate([weights, self._direct], axis=-1)  # (S, C, P)
        lin_var = np.einsum("scp,cpq,scq->sc", coef, cov, coef)
        arrays = YearArrays(
            weights, unit, self._direct, base, np.sqrt(lin_var + self._sigma**2), total_weights
        )
        self._years_cache[year] = arrays
        return arrays

    def deltas(self, scenario: Scenario) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Change of each influencer's mean (C, J) and driver's mean (C, K), and warnings."""
        problems = validate_scenario(
            scenario, self.model.spec, self.model.aggregates, facts=self._facts
        )
        if problems:
            raise ScenarioError(*problems)
        t = self.population_index(self.scenario_year(scenario))
        dz = np.zeros((len(self.channels), len(self.influencers)))
        dx = np.zeros((len(self.channels), len(self.drivers)))
        warnings: list[str] = []
        for lever in scenario.levers:
            if lever.kind == "influencer":
                j = self.influencers.index(lever.target)
                for c in self.lever_channels(lever, self._imask[:, j]):
                    change, warning = self._influencer_change(lever, c, t, j)
                    dz[c, j] += change
                    if warning:
                        warnings.append(warning)
            else:
                k = self.drivers.index(lever.target)
                for c in self.lever_channels(lever, self._dmask[:, k]):
                    change, warning = self._driver_change(lever, c, t, k)
                    dx[c, k] += change
                    if warning:
                        warnings.append(warning)
        return dz, dx, warnings

    def lever_channels(self, lever: Lever, measured: np.ndarray) -> list[int]:
        """Indices of the channels a lever acts on (its own, else where the target is measured)."""
        if lever.channels is None:
            return [c for c in range(len(self.channels)) if measured[c]]
        return [self.channels.index(c) for c in lever.channels]

    def _influencer_change(self, lever: Lever, c: int, t: int, j: int) -> tuple[float, str]:
        share, value = self._share[c, t, j], self._value[c, t, j]
        mean = float((share * value).sum())
        label = self.model.spec.label_of(lever.target)
        where = f"{label} in {self.model.spec.label_of(self.channels[c])}"
        if self._kinds[lever.target] == "binary":
            # a binary KPI moves as a share: "raise FCR by 10 points" is shift = 0.10 on the share
            target = float(
                np.clip(apply_operation(lever.operation, lever.value, np.array([mean]))[0], 0, 1)
            )
            shares = (self._share[c, :, j] * self._value[c, :, j]).sum(-1)
            observed = shares[self._n_total[c] > 0]
            warning = ""
            if not observed.min() - 1e-9 <= target <= observed.max() + 1e-9:
                warning = (
                    f"{where}: share {target:.0%} is outside the yearly shares observed "
                    f"there ({observed.min():.0%}-{observed.max():.0%}); the forecast extrapolates"
                )
            return target - mean, warning
        new = apply_operation(lever.operation, lever.value, value)
        if self._kinds[lever.target] == "count":
            new = np.maximum(new, 0.0)
        changed = share > 0
        low, high = self._zmin[c, j], self._zmax[c, j]
        warning = ""
        if changed.any():
            new_low, new_high = new[changed].min(), new[changed].max()
            if new_low < low - 1e-9 or new_high > high + 1e-9:
                warning = (
                    f"{where}: {lever.describe(label).split(': ', 1)[1]} moves values to "
                    f"{new_low:g}-{new_high:g}, outside the range observed there ({low:g}-{high:g}); "
                    "the forecast extrapolates"
                )
        return float((share * new).sum()) - mean, warning

    def _driver_change(self, lever: Lever, c: int, t: int, k: int) -> tuple[float, str]:
        mean = self._xbar[c, t, k]
        new = float(apply_operation(lever.operation, lever.value, np.array([mean]))[0])
        low, high = self.scale
        warning = ""
        if not low <= new <= high:
            warning = (
                f"{self.model.spec.label_of(lever.target)} in {self.model.spec.label_of(self.channels[c])}: "
                f"the mean rating would be {new:.2f}, outside the scale [{low:g}, {high:g}]; "
                "the forecast extrapolates"
            )
        return new - mean, warning

    def lift_arrays(self, scenario: Scenario) -> dict:
        """Lift draws as plain NumPy arrays (the app's and the grid's fast path).

        Returns a dict with ``total``, ``direct``, ``indirect``, ``top_box``, ``baseline``,
        ``baseline_top_box`` (sample, channel), ``company`` and ``company_top_box`` (sample),
        where the scale reports NPS ``nps``, ``baseline_nps`` (sample, channel) and ``company_nps``,
        ``volume`` (channel), ``influencer_change``, ``driver_change``, ``year``, ``warnings``.
        """
        year = self.scenario_year(scenario)
        dz, dx, warnings = self.deltas(scenario)
        arrays = self.year_arrays(year)
        direct = np.einsum("scj,cj->sc", arrays.direct, dz)
        total = np.einsum("scj,cj->sc", arrays.unit_lift, dz) + np.einsum(
            "sck,ck->sc", arrays.total_weights, dx
        )
        vol = self.volumes(year)
        moved = (np.abs(dz).sum(axis=1) + np.abs(dx).sum(axis=1)) > 0
        labels = [self.model.spec.label_of(c) for c in self.channels]
        warnings = warnings + scale_warnings(
            [label for label, m in zip(labels, moved, strict=True) if m],
            arrays.base_mean[:, moved].mean(axis=0),
            total[:, moved].mean(axis=0),
            self.scale,
        )
        base = self.baseline_metrics(year)
        base_top, base_nps = base["top_box"], base.get("nps")
        if self.answers is not None:
            total, direct, top, nps_lift = self._answer_lifts(scenario, year, dz, dx, total, direct)
            new_nps = None if nps_lift is None else base_nps + nps_lift
        else:
            new_top, new_nps = self._answer_shares(arrays.base_mean + total, arrays.pred_sd)
            top = new_top - base_top
        nps = {}
        if base_nps is not None:
            nps = {
                "nps": new_nps - base_nps,
                "baseline_nps": base_nps,
                "company_nps": (new_nps - base_nps) @ vol,
            }
        return {
            **nps,
            "total": total,
            "direct": direct,
            "indirect": total - direct,
            "top_box": top,
            "baseline": base["mean"],
            "baseline_top_box": base_top,
            "company": total @ vol,
            "company_top_box": top @ vol,
            "volume": vol,
            "influencer_change": dz,
            "driver_change": dx,
            "year": year,
            "warnings": warnings,
        }

    def baseline_metrics(self, year: int) -> dict[str, np.ndarray]:
        """The model's baseline of every reported metric in ``year``, draws by channel.

        Returns
        -------
        dict
            ``mean`` (rating points), ``top_box`` (share) and, where the scale reports NPS,
            ``nps`` (points), each an array (sample, channel).
        """
        if year in self._baselines:
            return self._baselines[year]
        arrays = self.year_arrays(year)
        if self.answers is not None:
            t = self.population_index(year)
            out = self.answers.baseline(
                self._intercept[:, :, t], arrays.weights, self._direct, self._sigma, t
            )
        else:
            top, nps = self._answer_shares(arrays.base_mean, arrays.pred_sd)
            out = {"mean": arrays.base_mean, "top_box": top}
            if nps is not None:
                out["nps"] = nps
        self._baselines[year] = out
        return out

    def _answer_lifts(self, scenario, year, dz, dx, latent_total, latent_direct):
        """Lift per draw and channel on the answer scale (rating-scale models): the mean, the
        top-box share, NPS, and the direct part (the latent split, scaled to the answers)."""
        t = self.population_index(year)
        arrays = self.year_arrays(year)

        def respondent_dz(c):
            keep = self.answers.w[c, t] > 0
            levers = [
                lever
                for lever in scenario.levers
                if lever.kind == "influencer"
                and c
                in self.lever_channels(lever, self._imask[:, self.influencers.index(lever.target)])
            ]
            return respondent_changes(
                levers,
                self._kinds,
                self.influencers,
                self.answers.z[c, t, keep],
                self.answers.w[c, t, keep],
                dz[c],
            )

        return self.answers.scenario_lifts(
            t,
            intercept=self._intercept[:, :, t],
            weights=arrays.weights,
            direct=self._direct,
            sigma=self._sigma,
            own_effects=self._own_effects,
            paths=self._paths,
            respondent_dz=respondent_dz,
            dx=dx,
            moved=(np.abs(dz).sum(axis=1) + np.abs(dx).sum(axis=1)) > 0,
            latent_direct=latent_direct,
        )

    def _answer_shares(self, mean: np.ndarray, sd: np.ndarray):
        """Top-box share and NPS (points; ``None`` without NPS) of answers ~ N(mean, sd) rounded
        to the scale."""
        top = 1.0 - ndtr((self.top_box_threshold - mean) / sd)
        if not self.rating.nps:
            return top, None
        return top, 100.0 * (top - ndtr((self.rating.bottom_box + 0.5 - mean) / sd))

    def lift(self, scenario: Scenario) -> xr.Dataset:
        """Lift draws of one scenario (see :func:`simulate`), from :attr:`cache` when asked
        recently by anyone sharing this engine: the same numbers, in read-only arrays."""
        key = scenario_key(scenario, self.scenario_year(scenario))
        out = self.cache.get(key)
        if out is None:
            out = self.cache.put(key, self.lift_arrays(scenario))
        dims = ("sample", "channel")
        per_channel = ("total", "direct", "indirect", "top_box", "baseline", "baseline_top_box")
        per_channel += ("nps", "baseline_nps") if "nps" in out else ()
        ds = xr.Dataset(
            {
                **{name: (dims, out[name]) for name in per_channel},
                "company": (("sample",), out["company"]),
                "company_top_box": (("sample",), out["company_top_box"]),
                **({"company_nps": (("sample",), out["company_nps"])} if "nps" in out else {}),
                "volume": (("channel",), out["volume"]),
                "influencer_change": (("channel", "influencer"), out["influencer_change"]),
                "driver_change": (("channel", "driver"), out["driver_change"]),
            },
            coords=self._lift_coords,
        )
        ds.attrs.update(
            {
                "scenario": scenario.name,
                "year": out["year"],
                "warnings": list(out["warnings"]),
                "observed_year": int(out["year"] in self.years),
                "single_period": int(self.single_period),
            }
        )
        return ds


def simulate(
    model: FittedModel, scenario: Scenario, engine: ScenarioEngine | None = None
) -> xr.Dataset:
    """Forecast the satisfaction lift of a scenario, over all posterior draws.

    Parameters
    ----------
    model
        A fitted or loaded model.
    scenario
        The levers and the year.
    engine
        A prepared :class:`ScenarioEngine` of ``model`` (reuse it for many scenarios).

    Returns
    -------
    xarray.Dataset
        ``total``, ``direct``, ``indirect``, ``top_box`` by (sample, channel) in satisfaction points
        (top-box: share change); ``company`` and ``company_top_box`` by sample (volume-weighted);
        ``baseline`` mean satisfaction; the lever's ``influencer_change`` and ``driver_change``;
        attrs ``scenario``, ``year``, ``warnings`` (extrapolation, a forecast off the scale),
        ``observed_year`` and ``single_period`` (1 for a survey without a year column).
    """
    engine = engine or ScenarioEngine(model)
    return engine.lift(scenario)
