"""Compare a previous fit with its refit: moved weights, re-ranked drivers, and a backtest.

Weight movement
    Read from the *new* fit, which holds both years in one joint posterior: for each channel and
    driver, the change of the weight from the last year both fits cover to the newest year, its
    interval, and the share of draws in which it rose. (When the two fits end in the same year, the
    two fits' estimates of that year are compared instead, from independent draws.)

Rank changes
    Drivers ordered within each channel by their share of the variance the drivers explain
    (:func:`whatif.analysis.summary.importance`), in the old fit's last year and the new fit's newest year.

Backtest
    The old fit's forecast of the new year's mean satisfaction per channel, set against what the
    new data show. For each posterior draw of the old fit:

    * next-year weights: ``w[T] + sqrt(h) * weight_drift * e``, one random-walk step per year ahead
      (``h`` years from the old fit's last year ``T``);
    * the level is anchored where the data were, at last year's means: the model's mean
      satisfaction in year ``T`` at that year's driver and influencer means (last year's intercept
      plus weights times means); the forecast adds next year's weights times the change of the
      driver means, and the direct effects times the change of the influencer means, both read
      from the new aggregates. Anchoring at the means rather than at all-drivers-zero keeps a
      weight step from swinging the level by step x mean rating: the model fits a free intercept
      per year, so the year's level is not something its weights predict;
    * predictive noise of an observed group mean: ``N(0, sigma**2 / n + h * tau**2)`` with
      ``n`` the new year's complete responses (weights are normalized to mean 1 per group, so
      this slightly understates the noise of a strongly weighted group) and ``tau`` the
      root-mean-square of the old fit's own one-step errors over its earlier years (how far a
      year's level moved beyond what its driver changes explain; 0 with a single year, noted).

    Parameter uncertainty enters through the draws. A channel whose observed mean lies outside the
    interval is flagged.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from whatif.data.moments import group_means, interval
from whatif.fitting.fitted import FittedModel

__all__ = ["backtest", "compare", "discount_of", "rank_changes", "weight_changes"]


def discount_of(model: FittedModel) -> dict:
    """The power-prior discount of a fit: ``a0`` of its last refit and each year's weight."""
    prior = model.manifest.get("power_prior") or {}
    return {"a0": prior.get("a0"), "discount_by_year": prior.get("discount_by_year", {})}


def _strs(values) -> list[str]:
    return [str(v) for v in np.asarray(values)]


def weight_changes(old: FittedModel, new: FittedModel, ci: float = 0.9) -> tuple[list[dict], dict]:
    """How each driver weight moved per channel.

    Returns
    -------
    rows
        One per measured (channel, driver): ``from_year``, ``to_year``, ``weight_from``,
        ``weight_to``, ``change`` with ``lo``/``hi``, ``p_rose`` and ``previous_estimate`` (the old
        fit's mean for ``from_year``); ``basis`` says whether both years come from the new fit's
        joint posterior or from the two fits.
    info
        ``from_year``, ``to_year`` and ``basis`` (``None`` years when the fits share no year).
    """
    common = sorted(set(old.years) & set(new.years))
    newest = max(new.years)
    if not common:
        return [], {"from_year": None, "to_year": newest, "basis": None}
    start = common[-1]
    joint = newest > start
    w_new = new.draws("weights")
    w_old = old.draws("weights")
    after = w_new.sel(year=newest)
    before = w_new.sel(year=start) if joint else w_old.sel(year=start)
    rows = []
    channels = [c for c in new.channels if c in old.channels] if not joint else new.channels
    drivers = _strs(new.aggregates["driver"])
    for c in channels:
        for k in drivers:
            b = after.sel(channel=c, driver=k).to_numpy()
            if np.isnan(b).all():
                continue
            if joint:
                a = before.sel(channel=c, driver=k).to_numpy()
            else:
                if k not in _strs(old.aggregates["driver"]):
                    continue
                a = before.sel(channel=c, driver=k).to_numpy()
                m = min(len(a), len(b))
                a, b = a[:m], b[:m]  # independent fits: pair draws arbitrarily
            if np.isnan(a).all():
                continue
            change = b - a
            lo, hi = interval(change, ci)
            estimate = np.nan
            if c in old.channels and start in old.years and k in _strs(old.aggregates["driver"]):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    estimate = float(np.nanmean(w_old.sel(channel=c, year=start, driver=k)))
            rows.append(
                {
                    "channel": c,
                    "driver": k,
                    "from_year": start,
                    "to_year": newest,
                    "weight_from": float(np.mean(a)),
                    "weight_to": float(np.mean(b)),
                    "change": float(np.mean(change)),
                    "lo": float(lo),
                    "hi": float(hi),
                    "p_rose": float(np.mean(change > 0)),
                    "previous_estimate": estimate,
                }
            )
    basis = "new fit, joint posterior" if joint else "old fit vs new fit, same year"
    return rows, {"from_year": start, "to_year": newest, "basis": basis}


def _share_means(model: FittedModel, year: int) -> xr.DataArray:
    from whatif.analysis.summary import importance

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _, share = importance(model)
        return share.sel(year=year).mean("sample")


def rank_changes(old: FittedModel, new: FittedModel) -> list[dict]:
    """Drivers' importance rank per channel: old fit's last year vs new fit's newest year.

    Rank 1 is the driver with the largest share of the variance the drivers explain.
    ``rank_change`` is positive when a driver moved up.
    """
    before_year, after_year = max(old.years), max(new.years)
    before, after = _share_means(old, before_year), _share_means(new, after_year)
    rows = []
    for c in new.channels:
        if c not in old.channels:
            continue
        b = before.sel(channel=c).to_series().dropna().sort_values(ascending=False)
        a = after.sel(channel=c).to_series().dropna().sort_values(ascending=False)
        b_rank = {k: i + 1 for i, k in enumerate(b.index)}
        a_rank = {k: i + 1 for i, k in enumerate(a.index)}
        for k in a.index:
            rows.append(
                {
                    "channel": c,
                    "driver": str(k),
                    "year_before": before_year,
                    "year_after": after_year,
                    "rank_before": b_rank.get(k),
                    "rank_after": a_rank[k],
                    "rank_change": (b_rank[k] - a_rank[k]) if k in b_rank else None,
                    "share_before": float(b[k]) if k in b.index else None,
                    "share_after": float(a[k]),
                }
            )
    return rows


def _terms(model: FittedModel) -> tuple[list[str], list[str]]:
    return _strs(model.aggregates["driver"]), _strs(model.aggregates["influencer"])


def _levels(model: FittedModel, means: xr.DataArray) -> np.ndarray:
    """Per draw, the fitted mean satisfaction of every (channel, year) at that group's means."""
    drivers, influencers = _terms(model)
    w = model.draws("weights").fillna(0.0).to_numpy()  # (S, C, T, K)
    d = model.draws("direct").fillna(0.0).to_numpy()  # (S, C, J)
    icpt = model.draws("intercept").to_numpy()  # (S, C, T)
    x = means.sel(term=drivers).fillna(0.0).transpose("channel", "year", "term").to_numpy()
    z = means.sel(term=influencers).fillna(0.0).transpose("channel", "year", "term").to_numpy()
    return icpt + np.einsum("sctk,ctk->sct", w, x) + np.einsum("scj,ctj->sct", d, z)


def _level_shock(model: FittedModel) -> tuple[float, int]:
    """RMS of the fit's in-sample one-step level errors (module docstring) and their count."""
    drivers, influencers = _terms(model)
    means = group_means(model.aggregates)
    levels = _levels(model, means).mean(axis=0)  # (C, T)
    w = model.draws("weights").fillna(0.0).mean("sample").to_numpy()  # (C, T, K)
    d = model.draws("direct").fillna(0.0).mean("sample").to_numpy()  # (C, J)
    x = means.sel(term=drivers).fillna(0.0).transpose("channel", "year", "term").to_numpy()
    z = means.sel(term=influencers).fillna(0.0).transpose("channel", "year", "term").to_numpy()
    n = model.aggregates["n"].transpose("channel", "year").to_numpy()
    years = model.years
    errors = []
    for t in range(1, len(years)):
        gap = years[t] - years[t - 1]
        for c in range(levels.shape[0]):
            if n[c, t] == 0 or n[c, t - 1] == 0:
                continue
            predicted = (
                levels[c, t - 1]
                + w[c, t] @ (x[c, t] - x[c, t - 1])
                + d[c] @ (z[c, t] - z[c, t - 1])
            )
            errors.append((levels[c, t] - predicted) ** 2 / gap)
    if not errors:
        return 0.0, 0
    return float(np.sqrt(np.mean(errors))), len(errors)


def backtest(
    old: FittedModel,
    new_aggregates: xr.Dataset,
    year: int | None = None,
    ci: float = 0.9,
    seed: int = 0,
) -> tuple[list[dict], dict]:
    """The old fit's forecast of a later year's mean satisfaction per channel vs the observed.

    Parameters
    ----------
    old
        The fit that forecasts.
    new_aggregates
        Aggregates holding the target year (e.g. the refit's).
    year
        Target year; default the newest year of ``new_aggregates``. Must be after the old fit's
        last year.
    ci
        Probability of the forecast interval.
    seed
        Seed of the random-walk and noise draws.

    Returns
    -------
    rows
        Per channel: ``forecast`` (mean), ``lo``, ``hi``, ``sd``, ``observed``, ``n``, ``z``
        (standardized miss), ``inside`` and ``flag`` (``"OUTSIDE"`` or ``""``).
    info
        ``year``, ``from_year``, ``horizon``, ``level_shock_sd`` (``tau``), ``level_shock_errors``
        and ``notes``.
    """
    notes: list[str] = []
    last = max(old.years)
    new_years = [int(y) for y in new_aggregates["year"].to_numpy()]
    year = max(new_years) if year is None else int(year)
    info = {"year": year, "from_year": last, "horizon": year - last, "notes": notes}
    if year <= last:
        notes.append(
            f"no backtest: the old fit already covers {year} (it ends in {last}); a backtest "
            f"needs a year the old fit has not seen"
        )
        return [], info
    if year not in new_years:
        notes.append(f"no backtest: {year} is not in the new data")
        return [], info
    horizon = year - last
    rng = np.random.default_rng(seed)
    drivers, influencers = _terms(old)
    old_means = group_means(old.aggregates).sel(year=last)
    new_means = group_means(new_aggregates).sel(year=year)
    tau, n_errors = _level_shock(old)
    info.update(level_shock_sd=tau, level_shock_errors=n_errors)
    if n_errors == 0:
        notes.append(
            "the old fit has a single year, so year-to-year level shocks are not calibrated; the "
            "interval covers weight drift, parameter and sampling uncertainty only"
        )
    last_levels = _levels(old, group_means(old.aggregates))[:, :, old.years.index(last)]
    w = old.draws("weights").sel(year=last).fillna(0.0)  # (S, C, K)
    drift = old.draws("weight_drift").to_numpy()  # (S, K)
    direct = old.draws("direct").fillna(0.0)
    sigma = old.draws("sigma")
    new_drivers = set(_strs(new_aggregates["driver"]))
    new_infl = set(_strs(new_aggregates["influencer"]))
    missing = sorted((set(drivers) - new_drivers) | (set(influencers) - new_infl))
    if missing:
        notes.append(
            f"{', '.join(missing)} not in the new data: their means are held at last year's"
        )
    rows = []
    channels = _strs(new_aggregates["channel"])
    for ci_, c in enumerate(old.channels):
        if c not in channels:
            continue
        n = int(new_aggregates["n"].sel(channel=c, year=year))
        if n == 0:
            continue
        if int(old.aggregates["n"].sel(channel=c, year=last)) == 0:
            notes.append(f"no backtest for {c}: the old fit has no {last} data there to anchor it")
            continue
        dx = np.array(
            [
                float(new_means.sel(channel=c, term=k) - old_means.sel(channel=c, term=k))
                if k in new_drivers
                else 0.0
                for k in drivers
            ]
        )
        dz = np.array(
            [
                float(new_means.sel(channel=c, term=j) - old_means.sel(channel=c, term=j))
                if j in new_infl
                else 0.0
                for j in influencers
            ]
        )
        dx, dz = np.nan_to_num(dx), np.nan_to_num(dz)
        wc = w.sel(channel=c).to_numpy()  # (S, K)
        step = np.sqrt(horizon) * drift * rng.standard_normal(wc.shape)
        mu = (
            last_levels[:, ci_]
            + (wc + np.where(wc != 0.0, step, 0.0)) @ dx
            + direct.sel(channel=c).to_numpy() @ dz
        )
        noise_sd = np.sqrt(sigma.sel(channel=c).to_numpy() ** 2 / n + horizon * tau**2)
        predictive = mu + noise_sd * rng.standard_normal(mu.shape)
        lo, hi = interval(predictive, ci)
        observed = float(new_means.sel(channel=c, term="outcome"))
        sd = float(np.std(predictive))
        inside = bool(lo <= observed <= hi)
        rows.append(
            {
                "channel": c,
                "forecast": float(np.mean(predictive)),
                "lo": float(lo),
                "hi": float(hi),
                "sd": sd,
                "observed": observed,
                "n": n,
                "z": (observed - float(np.mean(predictive))) / sd if sd > 0 else np.nan,
                "inside": inside,
                "flag": "" if inside else "OUTSIDE",
            }
        )
    return rows, info


def _identity(model: FittedModel) -> dict:
    return {
        "name": model.name,
        "years": model.years,
        "fingerprint": model.manifest.get("fingerprint", ""),
        "fit_date": model.manifest.get("fit_date", ""),
        "healthy": not model.flagged,
        "discount": discount_of(model),
    }


def compare(old: FittedModel, new: FittedModel, ci: float = 0.9, seed: int = 0) -> dict:
    """Everything ``whatif compare`` reports, as plain data.

    Returns
    -------
    dict
        ``ci``, ``old`` and ``new`` (name, years, fingerprint, fit date, health, discount),
        ``weights`` and ``weights_info`` (:func:`weight_changes`), ``ranks``
        (:func:`rank_changes`), ``backtest`` and ``backtest_info`` (:func:`backtest`),
        ``flagged`` (channels outside the forecast interval) and ``notes``.
    """
    notes = []
    if old.flagged:
        notes.append(f"old fit: {old.verdict}")
    if new.flagged:
        notes.append(f"new fit: {new.verdict}")
    weights, weights_info = weight_changes(old, new, ci)
    if weights_info["from_year"] is None:
        notes.append("the two fits share no year: weight movement is not reported")
    bt, bt_info = backtest(old, new.aggregates, ci=ci, seed=seed)
    notes += bt_info.pop("notes")
    return {
        "ci": ci,
        "old": _identity(old),
        "new": _identity(new),
        "weights_info": weights_info,
        "weights": weights,
        "ranks": rank_changes(old, new),
        "backtest_info": bt_info,
        "backtest": bt,
        "flagged": [r["channel"] for r in bt if not r["inside"]],
        "notes": notes,
    }
