"""Truths: the parameters a synthetic survey is drawn from -- the CX demo's, calibrated to the seed
research (:mod:`whatif.synthetic.design`), and small random ones for tests.

The truth is an :class:`xarray.Dataset` in the model's own parametrization (per channel ``c``,
year ``t``, driver ``k``, influencer ``j``)::

    overall_sat = intercept[c, t] + sum_k weights[c, t, k] * driver_k
                  + sum_j direct[c, j] * influencer_j + N(0, sigma[c])
    driver_k    = driver_intercept[c, k] + sum_j effects[c, k, j] * influencer_j
                  + N(0, driver_sigma[c, k])

``sigma`` and ``driver_sigma`` are the noise *before* rounding: a regression on rounded answers
sees about ``sqrt(sigma**2 + 1/12)`` for the outcome. :func:`whatif.synthetic.survey.simulate_survey`
draws survey responses from a truth.

Truth layout
------------
Dimensions ``channel``, ``year``, ``driver``, ``influencer``. Coordinates ``channel_label``,
``driver_label``, ``driver_columns`` (space-separated survey columns; several columns mean the
driver's score is their mean), ``influencer_label``, ``kind`` (count|binary|continuous) and
``better`` (lower|higher). Variables ``weights``, ``intercept``, ``direct``, ``effects``,
``driver_intercept``, ``sigma``, ``driver_sigma``, ``driver_measured``, ``influencer_measured``,
``influencer_mean`` (Poisson mean, probability or mean), ``influencer_sd`` (continuous only) and
``volume`` (share of contacts), and, in a truth with driver paths, ``paths`` (dims ``channel``,
``edge``; coordinates ``source`` and ``target`` along ``edge``, as in a fitted posterior): the
target driver is ``... + paths * source + noise``, its ``effects``, ``driver_intercept`` and
``driver_sigma`` those of its own equation (the demo has two paths in the live-phone channels,
individual attention -> trust and, weaker, knowledge -> trust). Unmeasured parameters are NaN. Attribute ``item_sd``: noise of one item
around its driver.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from whatif.synthetic.design import (
    BASE_WEIGHTS,
    CHANNELS,
    DEMO_OUTCOME,
    DEMO_SCALE,
    DIRECT,
    DIRECT_JITTER,
    DRIVERS,
    EFFECT_JITTER,
    EFFECT_MULTIPLIERS,
    EFFECTS,
    INFLUENCERS,
    ITEM_SD,
    PATHS,
    ROUNDING_VAR,
    SATISFACTION,
    SCALE,
    WEIGHT_DRIFT,
    WEIGHT_SPREAD,
    WEIGHT_TREND,
    YEARS,
)

__all__ = ["demo_truth", "path_matrices", "random_truth"]


def demo_truth(seed: int = 2026) -> xr.Dataset:
    """Ground truth of the CX demo: five channels, 2021-2025, ten drivers, eight influencers.

    The design follows the seed research: timeliness of resolution leads web and IVR
    self-service, clarity of the IVR leads IVR routing; in the live-phone channels trust in
    problem-solving capacity has the largest weight (and a larger total effect than any other
    driver), followed by timeliness in customer service and the representative's knowledge in
    software tech support; of the drivers that move trust (driver paths), individual attention
    moves it most, and per standard deviation more than any influencer does.
    The seed only moves small random parts (the weights' random walk, channel departures of
    the effects, influencer rates); they are small enough that the ordering above held for
    each of the 200 seeds checked.

    Parameters
    ----------
    seed
        Seed of the random parts.

    Returns
    -------
    xarray.Dataset
        The truth; see the module docstring for the layout.
    """
    rng = np.random.default_rng(seed)
    channels = [c[0] for c in CHANNELS]
    drivers = [d[0] for d in DRIVERS]
    influencers = [i[0] for i in INFLUENCERS]
    years = np.asarray(YEARS)
    C, T, K, J = len(channels), len(years), len(drivers), len(influencers)

    d_measured = np.array([[c in d[3] for d in DRIVERS] for c in channels])
    i_measured = np.array([[c in i[4] for i in INFLUENCERS] for c in channels])

    weights = np.full((C, T, K), np.nan)
    steps = np.arange(T)
    for ci, c in enumerate(channels):
        for ki, k in enumerate(drivers):
            if not d_measured[ci, ki]:
                continue
            start = BASE_WEIGHTS[c][k] + WEIGHT_SPREAD * rng.standard_normal()
            walk = np.concatenate([[0.0], np.cumsum(WEIGHT_DRIFT * rng.standard_normal(T - 1))])
            # A better rating never lowers satisfaction, whatever the seed.
            weights[ci, :, ki] = np.maximum(start + WEIGHT_TREND.get(k, 0.0) * steps + walk, 0.01)

    inf_mean = np.full((C, T, J), np.nan)
    for ji, (_, _, kind, _, rates) in enumerate(INFLUENCERS):
        for ci, c in enumerate(channels):
            if c not in rates:
                continue
            level, change = rates[c]
            jitter = 1.0 + 0.03 * rng.standard_normal(T)
            values = (level + change * steps) * jitter
            inf_mean[ci, :, ji] = np.clip(values, 0.005, 0.995) if kind == "binary" else values

    structural = np.full((C, K, J), np.nan)
    for ci, c in enumerate(channels):
        for ki, k in enumerate(drivers):
            for ji, j in enumerate(influencers):
                if not (d_measured[ci, ki] and i_measured[ci, ji]):
                    continue
                mean = EFFECTS[k].get(j, 0.0) * EFFECT_MULTIPLIERS.get((c, k, j), 1.0)
                structural[ci, ki, ji] = mean * (1.0 + EFFECT_JITTER * rng.standard_normal())

    effects = structural

    # A driver asked in several items is their mean, so its equation's noise includes theirs.
    n_items = np.array([len(d[2]) for d in DRIVERS])
    own_sd = np.array([d[5] for d in DRIVERS])
    sd = np.sqrt(own_sd**2 + np.where(n_items > 1, ITEM_SD**2 / n_items, 0.0))
    driver_sigma = np.where(d_measured, sd[None, :], np.nan)

    # Driver intercepts put each driver's mean at its target in the middle year.
    target_mean = np.array([d[4] for d in DRIVERS])[None, :] + 0.15 * rng.standard_normal((C, K))
    mid = inf_mean[:, T // 2, :]
    driver_intercept = target_mean - np.nansum(effects * np.nan_to_num(mid)[:, None, :], axis=2)
    driver_intercept = np.where(d_measured, driver_intercept, np.nan)

    direct = np.full((C, J), np.nan)
    for ci in range(C):
        for ji, j in enumerate(influencers):
            if i_measured[ci, ji]:
                direct[ci, ji] = DIRECT.get(j, 0.0) * (1.0 + DIRECT_JITTER * rng.standard_normal())

    sat_mean = np.array(
        [[SATISFACTION[c][0] + SATISFACTION[c][1] * t for t in steps] for c in channels]
    ) + 0.03 * rng.standard_normal((C, T))
    target_r2 = np.array([SATISFACTION[c][2] for c in channels])

    ds = _assemble(
        channels=channels,
        channel_labels=[c[1] for c in CHANNELS],
        volume=np.array([c[2] for c in CHANNELS]),
        years=years,
        drivers=drivers,
        driver_labels=[d[1] for d in DRIVERS],
        driver_columns=[" ".join(d[2]) for d in DRIVERS],
        influencers=influencers,
        influencer_labels=[i[1] for i in INFLUENCERS],
        kinds=[i[2] for i in INFLUENCERS],
        better=[i[3] for i in INFLUENCERS],
        weights=weights,
        direct=direct,
        effects=effects,
        driver_intercept=driver_intercept,
        driver_sigma=driver_sigma,
        driver_measured=d_measured,
        influencer_measured=i_measured,
        influencer_mean=inf_mean,
        influencer_sd=np.full((C, T, J), np.nan),
    )
    ds.attrs["title"] = "whatif demo truth (synthetic, calibrated to CX research)"
    ds.attrs["outcome"] = DEMO_OUTCOME
    ds.attrs["outcome_low"], ds.attrs["outcome_high"] = DEMO_SCALE
    ds.attrs["seed"] = int(seed)
    edges = [(target, source) for source, target, _ in PATHS]
    values = np.array([[by_channel.get(c, np.nan) for *_, by_channel in PATHS] for c in channels])
    ds = _with_paths(ds, edges, target_mean, values)
    return _calibrate(ds, sat_mean, target_r2)


def random_truth(
    n_channels: int = 2,
    n_years: int = 3,
    n_drivers: int = 3,
    n_influencers: int = 2,
    seed: int = 0,
    *,
    missing_by_design: bool = True,
    paths: Sequence[tuple[str, str]] | None = None,
) -> xr.Dataset:
    """A small random truth in the demo's layout, for tests.

    Parameters
    ----------
    n_channels, n_years, n_drivers, n_influencers
        Problem size. With two or more influencers the first is binary and the second a count;
        the rest are continuous (a single influencer is continuous).
    seed
        Random seed.
    missing_by_design
        With more than one channel and more than two drivers, leave the last driver unmeasured
        in the second channel.
    paths
        Driver paths ``(driver, source)`` between the drivers ``d1``, ``d2``, ... (as
        :attr:`whatif.data.spec.Spec.paths`, without cycles): each gets a cross-channel mean in
        [0.25, 0.6] and channel departures of sd 0.05, drawn from a generator of their own so
        that everything else is the truth without paths; driver intercepts keep each driver's
        mean where it is without them.

    Returns
    -------
    xarray.Dataset
        The truth, with satisfaction noise set for an R^2 of about 0.75 per channel.
    """
    if min(n_channels, n_years, n_drivers) < 1 or n_influencers < 0:
        raise ValueError("random_truth needs at least one channel, year and driver")
    rng = np.random.default_rng(seed)
    C, T, K, J = n_channels, n_years, n_drivers, n_influencers
    channels = [f"ch{c + 1}" for c in range(C)]
    drivers = [f"d{k + 1}" for k in range(K)]
    influencers = [f"i{j + 1}" for j in range(J)]
    kinds = ["binary", "count"][:J] + ["continuous"] * (J - 2) if J >= 2 else ["continuous"] * J

    d_measured = np.ones((C, K), dtype=bool)
    if missing_by_design and C > 1 and K > 2:
        d_measured[1, K - 1] = False
    i_measured = np.ones((C, J), dtype=bool)

    mu = rng.uniform(0.05, 0.30, K)
    start = mu[None, :] + 0.03 * rng.standard_normal((C, K))
    walk = np.cumsum(0.02 * rng.standard_normal((C, T, K)), axis=1)
    weights = start[:, None, :] + walk - walk[:, :1, :]
    weights = np.where(d_measured[:, None, :], weights, np.nan)

    scale = np.array([{"binary": 0.8, "count": 0.35, "continuous": 0.4}[k] for k in kinds])
    common = rng.standard_normal((K, J)) * scale[None, :]
    effects = common[None] + 0.1 * scale[None, None, :] * rng.standard_normal((C, K, J))
    effects = np.where(d_measured[:, :, None], effects, np.nan)
    direct = rng.standard_normal(J)[None, :] * 0.2 + 0.05 * rng.standard_normal((C, J))

    inf_mean = np.empty((C, T, J))
    inf_sd = np.full((C, T, J), np.nan)
    for ji, kind in enumerate(kinds):
        if kind == "binary":
            base = rng.uniform(0.2, 0.5, (C, 1))
        elif kind == "count":
            base = rng.uniform(0.8, 2.5, (C, 1))
        else:
            base = rng.uniform(-0.5, 0.5, (C, 1))
            inf_sd[:, :, ji] = rng.uniform(0.7, 1.3, (C, 1))
        inf_mean[:, :, ji] = base + 0.03 * rng.standard_normal((C, T))

    driver_sigma = np.where(d_measured, rng.uniform(1.0, 1.5, (C, K)), np.nan)
    target_mean = rng.uniform(5.8, 6.8, (C, K))
    mid = np.nan_to_num(inf_mean[:, T // 2, :])
    driver_intercept = target_mean - np.einsum("ckj,cj->ck", np.nan_to_num(effects), mid)
    driver_intercept = np.where(d_measured, driver_intercept, np.nan)

    sat_mean = rng.uniform(6.2, 7.0, (C, 1)) + 0.05 * np.arange(T)[None, :]
    ds = _assemble(
        channels=channels,
        channel_labels=[f"Channel {c + 1}" for c in range(C)],
        volume=rng.dirichlet(np.full(C, 5.0)),
        years=np.arange(2021, 2021 + T),
        drivers=drivers,
        driver_labels=[f"Driver {k + 1}" for k in range(K)],
        driver_columns=drivers,
        influencers=influencers,
        influencer_labels=[f"Influencer {j + 1}" for j in range(J)],
        kinds=kinds,
        better=["higher" if k == "continuous" else "lower" for k in kinds],
        weights=weights,
        direct=direct,
        effects=effects,
        driver_intercept=driver_intercept,
        driver_sigma=driver_sigma,
        driver_measured=d_measured,
        influencer_measured=i_measured,
        influencer_mean=inf_mean,
        influencer_sd=inf_sd,
    )
    ds.attrs["title"] = "whatif random truth"
    ds.attrs["seed"] = int(seed)
    if paths:
        paths = [(k, s) for k in drivers for d, s in paths if d == k]  # spec order
        path_rng = np.random.default_rng([seed, 1])
        values = path_rng.uniform(0.25, 0.6, len(paths))[None, :]
        values = values + 0.05 * path_rng.standard_normal((C, len(paths)))
        ds = _with_paths(ds, paths, target_mean, values)
    return _calibrate(ds, sat_mean, np.full(C, 0.75))


def _with_paths(ds: xr.Dataset, paths, target_mean: np.ndarray, values: np.ndarray) -> xr.Dataset:
    """``ds`` with driver paths ``(driver, source)`` of ``values`` (channel, path), NaN where
    either end is unmeasured, and driver intercepts that keep the drivers' means."""
    drivers = [str(d) for d in ds["driver"].values]
    measured = ds["driver_measured"].values
    C, P = measured.shape[0], len(paths)
    ends = [(drivers.index(k), drivers.index(s)) for k, s in paths]
    both = np.array([[measured[c, k] and measured[c, s] for k, s in ends] for c in range(C)])
    values = np.where(both.reshape(C, P), values, np.nan)
    intercept = ds["driver_intercept"].values.copy()
    for e, (k, s) in enumerate(ends):
        intercept[:, k] -= np.nan_to_num(values[:, e]) * target_mean[:, s]
    ds["driver_intercept"] = (("channel", "driver"), intercept)
    ds["paths"] = (("channel", "edge"), values)
    return ds.assign_coords(
        edge=[f"{s} -> {k}" for k, s in paths],
        source=("edge", [s for _, s in paths]),
        target=("edge", [k for k, _ in paths]),
    )


def path_matrices(truth: xr.Dataset) -> np.ndarray | None:
    """The truth's paths as ``(channel, driver, source)`` matrices (0 off the paths and where
    unmeasured); ``None`` without paths."""
    if "paths" not in truth:
        return None
    drivers = [str(d) for d in truth["driver"].values]
    out = np.zeros((truth.sizes["channel"], len(drivers), len(drivers)))
    for e, (k, s) in enumerate(zip(truth["target"].values, truth["source"].values, strict=True)):
        out[:, drivers.index(str(k)), drivers.index(str(s))] = np.nan_to_num(
            truth["paths"].values[:, e]
        )
    return out


def _assemble(
    *,
    channels,
    channel_labels,
    volume,
    years,
    drivers,
    driver_labels,
    driver_columns,
    influencers,
    influencer_labels,
    kinds,
    better,
    weights,
    direct,
    effects,
    driver_intercept,
    driver_sigma,
    driver_measured,
    influencer_measured,
    influencer_mean,
    influencer_sd,
) -> xr.Dataset:
    C, T = len(channels), len(years)
    coords = {
        "channel": np.asarray(channels, dtype=object),
        "year": np.asarray(years, dtype=np.int64),
        "driver": np.asarray(drivers, dtype=object),
        "influencer": np.asarray(influencers, dtype=object),
        "channel_label": ("channel", np.asarray(channel_labels, dtype=object)),
        "driver_label": ("driver", np.asarray(driver_labels, dtype=object)),
        "driver_columns": ("driver", np.asarray(driver_columns, dtype=object)),
        "influencer_label": ("influencer", np.asarray(influencer_labels, dtype=object)),
        "kind": ("influencer", np.asarray(kinds, dtype=object)),
        "better": ("influencer", np.asarray(better, dtype=object)),
    }
    i_measured = np.asarray(influencer_measured, dtype=bool)
    unmeasured_inf = ~i_measured[:, None, :]
    data = {
        "weights": (("channel", "year", "driver"), weights),
        "intercept": (("channel", "year"), np.full((C, T), np.nan)),
        "direct": (("channel", "influencer"), np.where(i_measured, direct, np.nan)),
        "effects": (("channel", "driver", "influencer"), np.where(unmeasured_inf, np.nan, effects)),
        "driver_intercept": (("channel", "driver"), driver_intercept),
        "sigma": (("channel",), np.full(C, np.nan)),
        "driver_sigma": (("channel", "driver"), driver_sigma),
        "driver_measured": (("channel", "driver"), np.asarray(driver_measured, dtype=bool)),
        "influencer_measured": (("channel", "influencer"), i_measured),
        "influencer_mean": (
            ("channel", "year", "influencer"),
            np.where(unmeasured_inf, np.nan, influencer_mean),
        ),
        "influencer_sd": (
            ("channel", "year", "influencer"),
            np.where(unmeasured_inf, np.nan, influencer_sd),
        ),
        "volume": (("channel",), np.asarray(volume, dtype=float) / np.sum(volume)),
    }
    ds = xr.Dataset(data, coords=coords)
    ds.attrs["item_sd"] = ITEM_SD
    ds.attrs["scale_low"], ds.attrs["scale_high"] = SCALE
    return ds


def _influencer_var(truth: xr.Dataset) -> np.ndarray:
    kinds = truth["kind"].values
    mean = truth["influencer_mean"].values
    var = np.where(kinds == "binary", mean * (1 - mean), mean)
    return np.where(kinds == "continuous", truth["influencer_sd"].values ** 2, var)


def _calibrate(ds: xr.Dataset, sat_mean: np.ndarray, target_r2: np.ndarray) -> xr.Dataset:
    """Set ``intercept`` for the satisfaction means and ``sigma`` for the target R^2.

    The R^2 is that of the regression on rounded answers; moments are taken without clipping,
    which the design keeps to a few percent of answers.
    """
    weights = ds["weights"].values
    effects = np.nan_to_num(ds["effects"].values)
    direct = np.nan_to_num(ds["direct"].values)
    d_int = np.nan_to_num(ds["driver_intercept"].values)
    d_sd = np.nan_to_num(ds["driver_sigma"].values)
    mean = np.nan_to_num(ds["influencer_mean"].values)
    var = np.nan_to_num(_influencer_var(ds))
    measured = ds["driver_measured"].values
    n_cols = np.array([len(c.split()) for c in ds["driver_columns"].values])
    paths = path_matrices(ds)

    C, T, _ = weights.shape
    intercept = np.empty((C, T))
    sigma = np.empty(C)
    for c in range(C):
        var_l = []
        for t in range(T):
            beta = np.nan_to_num(weights[c, t])
            driver_mean = d_int[c] + effects[c] @ mean[c, t]
            intercept[c, t] = sat_mean[c, t] - beta @ driver_mean - direct[c] @ mean[c, t]
            through = effects[c].T @ beta + direct[c]
            noise_cov = np.diag(d_sd[c] ** 2 + ROUNDING_VAR / n_cols * measured[c])
            if paths is not None:  # through the paths: drivers = (I - B)^-1 (own equations)
                total = np.linalg.inv(np.eye(len(beta)) - paths[c])
                intercept[c, t] = (
                    sat_mean[c, t] - beta @ total @ driver_mean - direct[c] @ mean[c, t]
                )
                through = (total @ effects[c]).T @ beta + direct[c]
                noise_cov = total @ noise_cov @ total.T
            var_l.append(through @ (var[c, t] * through) + beta @ noise_cov @ beta)
        total = float(np.mean(var_l)) * (1 - target_r2[c]) / target_r2[c] - ROUNDING_VAR
        sigma[c] = np.sqrt(max(total, 0.01))
    ds["intercept"] = (("channel", "year"), intercept)
    ds["sigma"] = (("channel",), sigma)
    return ds
