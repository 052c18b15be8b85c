"""Seeded demo data with a known truth: the CX demo calibrated to the seed research, and a
generic random problem for tests.

The truth is an :class:`xarray.Dataset` in the model's own parametrisation (per channel ``c``,
year ``t``, driver ``k``, influencer ``j``)::

    overall_sat = intercept[c, t] + sum_k weights[c, t, k] * driver_k
                  + sum_j direct[c, j] * influencer_j + N(0, sigma[c])
    driver_k    = driver_intercept[c, k] + sum_j effects[c, k, j] * influencer_j
                  + N(0, driver_sigma[c, k])

:func:`simulate_survey` draws survey responses from it. Satisfaction is generated from the
*observed* (rounded, clipped) driver scores, so the satisfaction regression is exactly linear in
the survey's columns; only the outcome's own rounding and clipping blur it. Influencers are drawn
independently of each other (Poisson counts, Bernoulli flags, normal continuous values).

``sigma`` and ``driver_sigma`` are the noise *before* rounding: a regression on rounded answers
sees about ``sqrt(sigma**2 + 1/12)`` for the outcome.

Truth layout
------------
Dimensions ``channel``, ``year``, ``driver``, ``influencer``. Coordinates ``channel_label``,
``driver_label``, ``driver_columns`` (space-separated survey columns; several columns mean the
driver's score is their mean), ``influencer_label``, ``kind`` (count|binary|continuous) and
``better`` (lower|higher). Variables ``weights``, ``intercept``, ``direct``, ``effects``,
``driver_intercept``, ``sigma``, ``driver_sigma``, ``driver_measured``, ``influencer_measured``,
``influencer_mean`` (Poisson mean, probability or mean), ``influencer_sd`` (continuous only) and
``volume`` (share of contacts). Unmeasured parameters are NaN. Attributes ``item_sd`` (noise of one
item around its driver) and, in the demo, ``feed_source``/``feed_target``/``feed_coef``: the
target driver's latent noise contains ``feed_coef`` times the source driver's (individual attention
feeding trust), so ``effects``/``driver_intercept``/``driver_sigma`` of the target are the
reduced form that a regression of the target on the influencers recovers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from whatif.data.spec import Channel, Driver, Influencer, Spec

__all__ = [
    "demo_truth",
    "load_truth",
    "random_truth",
    "simulate_survey",
    "spec_for",
    "write_demo",
]

SCALE = (1.0, 10.0)
OUTCOME = "overall_sat"
ROUNDING_VAR = 1.0 / 12.0  # variance of the error from rounding a continuous answer to integers

# ---------------------------------------------------------------------------------------------
# Demo design, calibrated to the seed research.
# ---------------------------------------------------------------------------------------------

_YEARS = (2021, 2022, 2023, 2024, 2025)

# id, label, share of contact volume, share of survey responses
_CHANNELS = (
    ("web_self_service", "Web self-service", 0.38, 0.30),
    ("ivr_self_service", "IVR self-service", 0.22, 0.20),
    ("ivr_routing", "IVR routing", 0.18, 0.15),
    ("phone_customer_service", "Live phone: customer service", 0.14, 0.23),
    ("phone_tech_support", "Live phone: software tech support", 0.08, 0.12),
)
# Survey programmes grow: later years get more responses.
_YEAR_SHARE = (0.17, 0.19, 0.20, 0.21, 0.23)

_IVR = ("ivr_self_service", "ivr_routing")
_PHONE = ("phone_customer_service", "phone_tech_support")
_ALL = tuple(c[0] for c in _CHANNELS)

# id, label, survey columns, channels where it is asked, target mean, latent noise sd
_DRIVERS = (
    ("timeliness", "Timeliness of resolution", ("timeliness",), _ALL, 6.6, 1.4),
    ("accuracy", "Accuracy of the information", ("accuracy",), _ALL, 7.1, 1.3),
    (
        "resolution",
        "Desirability of the resolution",
        ("resolution",),
        tuple(c for c in _ALL if c != "ivr_routing"),
        6.8,
        1.4,
    ),
    ("reliability", "Reliability of support systems", ("reliability",), _ALL, 7.0, 1.2),
    ("consistency", "Consistency across contacts", ("consistency",), _ALL, 7.0, 1.2),
    ("ivr_clarity", "Clarity of the IVR menus", ("ivr_clarity",), _IVR, 6.4, 1.4),
    ("knowledge", "Knowledge of the representative", ("knowledge",), _PHONE, 7.2, 1.3),
    ("friendliness", "Friendliness of the agent", ("friendliness",), _PHONE, 7.5, 1.2),
    ("attention", "Individual attention", ("attention",), _PHONE, 7.0, 1.4),
    (
        "trust",
        "Trust in our capacity to solve problems",
        ("q_trust_solve", "q_trust_confident"),
        _PHONE,
        6.9,
        1.0,
    ),
)

# id, label, kind, better, {channel: (year-0 mean or probability, change per year)}
_INFLUENCERS = (
    (
        "contacts_to_resolve",
        "Earlier contacts about this issue",
        "count",
        "lower",
        {
            "web_self_service": (0.95, -0.04),
            "ivr_self_service": (0.75, -0.03),
            "ivr_routing": (0.60, -0.02),
            "phone_customer_service": (0.80, -0.03),
            "phone_tech_support": (1.10, -0.04),
        },
    ),
    (
        "ivr_prompts",
        "IVR prompts to reach the information",
        "count",
        "lower",
        {"ivr_self_service": (4.2, -0.15), "ivr_routing": (3.6, -0.10)},
    ),
    (
        "repeat_info",
        "Had to provide information more than once",
        "binary",
        "lower",
        {
            "ivr_routing": (0.36, -0.015),
            "phone_customer_service": (0.22, -0.01),
            "phone_tech_support": (0.26, -0.01),
        },
    ),
    (
        "transfers",
        "Transfers between agents or queues",
        "count",
        "lower",
        {
            "ivr_routing": (0.45, -0.01),
            "phone_customer_service": (0.35, -0.01),
            "phone_tech_support": (0.45, -0.015),
        },
    ),
    (
        "first_contact_resolution",
        "Resolved on first contact",
        "binary",
        "higher",
        {"phone_customer_service": (0.70, 0.010), "phone_tech_support": (0.58, 0.012)},
    ),
    (
        "outage",
        "A system outage affected the contact",
        "binary",
        "lower",
        {
            "web_self_service": (0.070, -0.008),
            "ivr_self_service": (0.060, -0.007),
            "ivr_routing": (0.050, -0.006),
            "phone_customer_service": (0.045, -0.005),
            "phone_tech_support": (0.060, -0.007),
        },
    ),
    (
        "hard_to_understand",
        "Had difficulty understanding the representative",
        "binary",
        "lower",
        {"phone_customer_service": (0.10, -0.004), "phone_tech_support": (0.17, -0.006)},
    ),
    (
        "resolved_timely",
        "Problem resolved in a timely manner",
        "binary",
        "higher",
        {"phone_customer_service": (0.66, 0.015), "phone_tech_support": (0.60, 0.015)},
    ),
)

# Year-0 satisfaction weights. A few drivers carry most of satisfaction. The research's top
# driver leads each channel (timeliness; IVR clarity for routing; knowledge for tech support).
# The research also gives trust the largest effect where measured: it leads every driver but
# the channel's own top one. Influencer effects below make the research's most significant
# influencer (contacts to resolve; IVR prompts; repeat information; resolved timely; hard to
# understand) the largest total effect per standard deviation in each channel.
_BASE_WEIGHTS = {
    "web_self_service": dict(
        timeliness=0.34, accuracy=0.14, resolution=0.16, reliability=0.17, consistency=0.08
    ),
    "ivr_self_service": dict(
        timeliness=0.32,
        accuracy=0.11,
        resolution=0.12,
        reliability=0.10,
        consistency=0.06,
        ivr_clarity=0.20,
    ),
    "ivr_routing": dict(
        timeliness=0.17, accuracy=0.16, reliability=0.10, consistency=0.08, ivr_clarity=0.36
    ),
    "phone_customer_service": dict(
        timeliness=0.31,
        accuracy=0.09,
        resolution=0.12,
        reliability=0.05,
        consistency=0.05,
        knowledge=0.07,
        friendliness=0.06,
        attention=0.05,
        trust=0.20,
    ),
    "phone_tech_support": dict(
        timeliness=0.10,
        accuracy=0.08,
        resolution=0.10,
        reliability=0.06,
        consistency=0.05,
        knowledge=0.34,
        friendliness=0.05,
        attention=0.05,
        trust=0.19,
    ),
}
# Designed drift per year on top of the random walk: reliability and timeliness gain weight as
# customers expect systems to just work; accuracy and friendliness become table stakes.
_WEIGHT_TREND = dict(
    timeliness=0.008,
    reliability=0.010,
    trust=0.006,
    accuracy=-0.004,
    friendliness=-0.003,
    knowledge=0.004,
)
_WEIGHT_SPREAD = 0.01
_WEIGHT_DRIFT = 0.008

# Effects of influencers on drivers (common means); trust's row is structural, before feeding.
_EFFECTS = {
    "timeliness": dict(
        contacts_to_resolve=-0.60,
        ivr_prompts=-0.40,
        repeat_info=-0.80,
        transfers=-0.60,
        first_contact_resolution=0.50,
        outage=-0.90,
        resolved_timely=2.00,
    ),
    "accuracy": dict(
        contacts_to_resolve=-0.25,
        repeat_info=-0.50,
        transfers=-0.40,
        first_contact_resolution=0.30,
        outage=-0.40,
    ),
    "resolution": dict(
        contacts_to_resolve=-0.45, first_contact_resolution=0.80, resolved_timely=0.80, outage=-0.30
    ),
    "reliability": dict(outage=-2.00, ivr_prompts=-0.10, transfers=-0.20),
    "consistency": dict(contacts_to_resolve=-0.30, repeat_info=-0.60, transfers=-0.30),
    "ivr_clarity": dict(ivr_prompts=-0.40, repeat_info=-1.50),
    "knowledge": dict(transfers=-0.30, hard_to_understand=-1.00, first_contact_resolution=0.40),
    "friendliness": dict(hard_to_understand=-0.40, repeat_info=-0.30),
    "attention": dict(repeat_info=-0.50, hard_to_understand=-0.40, transfers=-0.20),
    "trust": dict(
        hard_to_understand=-0.90,
        resolved_timely=0.50,
        first_contact_resolution=0.40,
        contacts_to_resolve=-0.20,
    ),
}
# Channel-specific departures from the common means (multipliers).
_EFFECT_MULTIPLIERS = {
    ("web_self_service", "timeliness", "contacts_to_resolve"): 1.5,
    ("ivr_routing", "timeliness", "ivr_prompts"): 0.75,
    ("ivr_routing", "ivr_clarity", "ivr_prompts"): 0.75,
    ("ivr_routing", "ivr_clarity", "repeat_info"): 1.15,
    ("phone_tech_support", "knowledge", "hard_to_understand"): 2.2,
    ("phone_tech_support", "trust", "hard_to_understand"): 1.3,
}
_EFFECT_JITTER = 0.05  # relative sd of the random channel departure of every effect

# Direct effects on satisfaction: outages and transfers act on it beyond the drivers.
_DIRECT = dict(outage=-0.50, transfers=-0.20, repeat_info=-0.05, contacts_to_resolve=-0.03)
_DIRECT_JITTER = 0.10

# Individual attention feeds trust: trust's latent noise contains 0.5 x attention's.
_FEED = ("attention", "trust", 0.5)
_ITEM_SD = 0.5

# Satisfaction: year-0 mean, change per year, and target R^2 of the observed regression.
_SATISFACTION = {
    "web_self_service": (7.0, 0.05, 0.76),
    "ivr_self_service": (6.5, 0.06, 0.74),
    "ivr_routing": (6.3, 0.05, 0.72),
    "phone_customer_service": (7.2, 0.04, 0.78),
    "phone_tech_support": (6.9, 0.05, 0.75),
}

# ---------------------------------------------------------------------------------------------
# Truths
# ---------------------------------------------------------------------------------------------


def demo_truth(seed: int = 2026) -> xr.Dataset:
    """Ground truth of the CX demo: five channels, 2021-2025, ten drivers, eight influencers.

    The design follows the seed research: timeliness of resolution leads web and IVR
    self-service and live customer service, clarity of the IVR leads IVR routing, knowledge of
    the representative leads software tech support; trust in problem-solving capacity (fed by
    individual attention) has the largest weight of all other drivers where it is measured.
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
    channels = [c[0] for c in _CHANNELS]
    drivers = [d[0] for d in _DRIVERS]
    influencers = [i[0] for i in _INFLUENCERS]
    years = np.asarray(_YEARS)
    C, T, K, J = len(channels), len(years), len(drivers), len(influencers)

    d_measured = np.array([[c in d[3] for d in _DRIVERS] for c in channels])
    i_measured = np.array([[c in i[4] for i in _INFLUENCERS] for c in channels])

    weights = np.full((C, T, K), np.nan)
    steps = np.arange(T)
    for ci, c in enumerate(channels):
        for ki, k in enumerate(drivers):
            if not d_measured[ci, ki]:
                continue
            start = _BASE_WEIGHTS[c][k] + _WEIGHT_SPREAD * rng.standard_normal()
            walk = np.concatenate([[0.0], np.cumsum(_WEIGHT_DRIFT * rng.standard_normal(T - 1))])
            # A better rating never lowers satisfaction, whatever the seed.
            weights[ci, :, ki] = np.maximum(start + _WEIGHT_TREND.get(k, 0.0) * steps + walk, 0.01)

    inf_mean = np.full((C, T, J), np.nan)
    for ji, (_, _, kind, _, rates) in enumerate(_INFLUENCERS):
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
                mean = _EFFECTS[k].get(j, 0.0) * _EFFECT_MULTIPLIERS.get((c, k, j), 1.0)
                structural[ci, ki, ji] = mean * (1.0 + _EFFECT_JITTER * rng.standard_normal())

    source, target, coef = _FEED
    si, ti = drivers.index(source), drivers.index(target)
    effects = structural.copy()
    effects[:, ti, :] = structural[:, ti, :] + coef * structural[:, si, :]

    own_sd = np.array([d[5] for d in _DRIVERS])
    driver_sigma = np.where(d_measured, own_sd[None, :], np.nan)
    n_items = len(_DRIVERS[ti][2])
    driver_sigma[:, ti] = np.sqrt(
        own_sd[ti] ** 2 + coef**2 * own_sd[si] ** 2 + _ITEM_SD**2 / n_items
    )
    driver_sigma = np.where(d_measured, driver_sigma, np.nan)

    # Driver intercepts put each driver's mean at its target in the middle year.
    target_mean = np.array([d[4] for d in _DRIVERS])[None, :] + 0.15 * rng.standard_normal((C, K))
    mid = inf_mean[:, T // 2, :]
    driver_intercept = target_mean - np.nansum(effects * np.nan_to_num(mid)[:, None, :], axis=2)
    driver_intercept = np.where(d_measured, driver_intercept, np.nan)

    direct = np.full((C, J), np.nan)
    for ci in range(C):
        for ji, j in enumerate(influencers):
            if i_measured[ci, ji]:
                direct[ci, ji] = _DIRECT.get(j, 0.0) * (
                    1.0 + _DIRECT_JITTER * rng.standard_normal()
                )

    sat_mean = np.array(
        [[_SATISFACTION[c][0] + _SATISFACTION[c][1] * t for t in steps] for c in channels]
    ) + 0.03 * rng.standard_normal((C, T))
    target_r2 = np.array([_SATISFACTION[c][2] for c in channels])

    ds = _assemble(
        channels=channels,
        channel_labels=[c[1] for c in _CHANNELS],
        volume=np.array([c[2] for c in _CHANNELS]),
        years=years,
        drivers=drivers,
        driver_labels=[d[1] for d in _DRIVERS],
        driver_columns=[" ".join(d[2]) for d in _DRIVERS],
        influencers=influencers,
        influencer_labels=[i[1] for i in _INFLUENCERS],
        kinds=[i[2] for i in _INFLUENCERS],
        better=[i[3] for i in _INFLUENCERS],
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
    ds.attrs.update(feed_source=source, feed_target=target, feed_coef=coef)
    ds.attrs["title"] = "whatif demo truth (synthetic, calibrated to CX research)"
    ds.attrs["seed"] = int(seed)
    return _calibrate(ds, sat_mean, target_r2)


def random_truth(
    n_channels: int = 2,
    n_years: int = 3,
    n_drivers: int = 3,
    n_influencers: int = 2,
    seed: int = 0,
    *,
    missing_by_design: bool = True,
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
    return _calibrate(ds, sat_mean, np.full(C, 0.75))


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
    ds.attrs["item_sd"] = _ITEM_SD
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
    feed = _feed(ds)

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
            if feed is not None and measured[c, feed[0]] and measured[c, feed[1]]:
                s, tg, coef = feed
                noise_cov[s, tg] = noise_cov[tg, s] = coef * d_sd[c, s] ** 2
            var_l.append(through @ (var[c, t] * through) + beta @ noise_cov @ beta)
        total = float(np.mean(var_l)) * (1 - target_r2[c]) / target_r2[c] - ROUNDING_VAR
        sigma[c] = np.sqrt(max(total, 0.01))
    ds["intercept"] = (("channel", "year"), intercept)
    ds["sigma"] = (("channel",), sigma)
    return ds


def _feed(truth: xr.Dataset) -> tuple[int, int, float] | None:
    if "feed_source" not in truth.attrs:
        return None
    drivers = list(truth["driver"].values)
    return (
        drivers.index(truth.attrs["feed_source"]),
        drivers.index(truth.attrs["feed_target"]),
        float(truth.attrs["feed_coef"]),
    )


# ---------------------------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------------------------


def simulate_survey(
    truth: xr.Dataset,
    n_per_group: int | Mapping | xr.DataArray,
    seed: int,
    *,
    round_to_scale: bool = True,
    item_missing: float = 0.02,
    outcome_missing: float = 0.005,
    weights: bool = True,
) -> pd.DataFrame:
    """Draw survey responses from a truth.

    Parameters
    ----------
    truth
        From :func:`demo_truth`, :func:`random_truth` or :func:`load_truth`.
    n_per_group
        Responses per channel-year: one number for every group, a mapping by channel id (every
        year) or by ``(channel, year)``, or a DataArray over ``channel`` (and optionally
        ``year``). Groups left out get no responses.
    seed
        Random seed; the same truth, sizes and seed give an identical frame.
    round_to_scale
        Round driver items and the outcome to integers and clip them to the 1-10 scale, as
        respondents answer. Satisfaction is generated from the rounded driver scores either way.
    item_missing
        Share of driver answers (each item column where the driver is measured) left blank.
    outcome_missing
        Share of ``overall_sat`` answers left blank.
    weights
        Add a ``weight`` column: survey weights that make each year's channels represent their
        contact volume, times lognormal post-stratification noise; mean about 1.

    Returns
    -------
    pandas.DataFrame
        One row per response: ``channel``, ``year``, ``overall_sat``, driver columns (items for
        item drivers), influencer columns, and ``weight``. Drivers and influencers not measured in
        a channel are NaN in every row of that channel.
    """
    if not (0 <= item_missing < 1 and 0 <= outcome_missing < 1):
        raise ValueError("item_missing and outcome_missing must be shares in [0, 1)")
    rng = np.random.default_rng(seed)
    counts = _group_sizes(truth, n_per_group)
    total = sum(counts.values())
    if total == 0:
        raise ValueError("n_per_group gives no responses")

    channels = list(truth["channel"].values)
    years = [int(y) for y in truth["year"].values]
    drivers = list(truth["driver"].values)
    columns = [c.split() for c in truth["driver_columns"].values]
    influencers = list(truth["influencer"].values)
    kinds = truth["kind"].values
    item_sd = float(truth.attrs.get("item_sd", _ITEM_SD))
    feed = _feed(truth)
    low, high = SCALE
    volume = truth["volume"].values
    n_years = sum(1 for y in years if any(counts.get((c, y), 0) for c in channels))

    frames = []
    for ci, ch in enumerate(channels):
        d_meas = truth["driver_measured"].values[ci]
        i_meas = truth["influencer_measured"].values[ci]
        for ti, year in enumerate(years):
            n = counts.get((ch, year), 0)
            if n == 0:
                continue
            p = truth.isel(channel=ci, year=ti)
            infl = np.full((n, len(influencers)), np.nan)
            for ji in np.flatnonzero(i_meas):
                m = float(p["influencer_mean"].values[ji])
                if kinds[ji] == "count":
                    infl[:, ji] = rng.poisson(m, n)
                elif kinds[ji] == "binary":
                    infl[:, ji] = rng.random(n) < m
                else:
                    infl[:, ji] = m + float(p["influencer_sd"].values[ji]) * rng.standard_normal(n)
            x = np.nan_to_num(infl)

            sd = p["driver_sigma"].values
            noise = np.zeros((n, len(drivers)))
            for ki in np.flatnonzero(d_meas):
                own = sd[ki] ** 2 - (item_sd**2 / len(columns[ki]) if len(columns[ki]) > 1 else 0)
                if feed is not None and ki == feed[1] and d_meas[feed[0]]:
                    own -= feed[2] ** 2 * sd[feed[0]] ** 2
                noise[:, ki] = np.sqrt(own) * rng.standard_normal(n)
            if feed is not None and d_meas[feed[0]] and d_meas[feed[1]]:
                noise[:, feed[1]] += feed[2] * noise[:, feed[0]]
            latent = (
                np.nan_to_num(p["driver_intercept"].values)
                + x @ np.nan_to_num(p["effects"].values).T
                + noise
            )

            out: dict[str, np.ndarray] = {}
            score = np.full((n, len(drivers)), np.nan)
            for ki, cols in enumerate(columns):
                if not d_meas[ki]:
                    for col in cols:
                        out[col] = np.full(n, np.nan)
                    continue
                items = []
                for col in cols:
                    value = latent[:, ki]
                    if len(cols) > 1:
                        value = value + item_sd * rng.standard_normal(n)
                    if round_to_scale:
                        value = np.clip(np.rint(value), low, high)
                    out[col] = value
                    items.append(value)
                score[:, ki] = np.mean(items, axis=0)

            sat = (
                float(p["intercept"])
                + np.nan_to_num(score) @ np.nan_to_num(p["weights"].values)
                + x @ np.nan_to_num(p["direct"].values)
                + float(p["sigma"]) * rng.standard_normal(n)
            )
            if round_to_scale:
                sat = np.clip(np.rint(sat), low, high)

            for ki, cols in enumerate(columns):
                if d_meas[ki] and item_missing > 0:
                    for col in cols:
                        out[col] = np.where(rng.random(n) < item_missing, np.nan, out[col])
            if outcome_missing > 0:
                sat = np.where(rng.random(n) < outcome_missing, np.nan, sat)

            frame = {
                "channel": np.full(n, ch, dtype=object),
                "year": np.full(n, year),
                OUTCOME: sat,
                **out,
            }
            frame.update({j: infl[:, ji] for ji, j in enumerate(influencers)})
            if weights:
                base = volume[ci] * total / (n_years * n)
                frame["weight"] = base * np.exp(0.3 * rng.standard_normal(n) - 0.045)
            frames.append(pd.DataFrame(frame))
    df = pd.concat(frames, ignore_index=True)
    df["year"] = df["year"].astype(np.int64)
    return df


def _group_sizes(truth: xr.Dataset, n_per_group) -> dict[tuple[str, int], int]:
    channels = [str(c) for c in truth["channel"].values]
    years = [int(y) for y in truth["year"].values]
    sizes: dict[tuple[str, int], int] = {}
    if isinstance(n_per_group, xr.DataArray):
        da = n_per_group
        if "year" not in da.dims:
            da = da.expand_dims(year=years)
        for c in channels:
            for y in years:
                if c in da["channel"].values and y in da["year"].values:
                    sizes[(c, y)] = int(da.sel(channel=c, year=y))
    elif isinstance(n_per_group, Mapping):
        for key, value in n_per_group.items():
            if isinstance(key, tuple):
                sizes[(str(key[0]), int(key[1]))] = int(value)
            else:
                sizes.update({(str(key), y): int(value) for y in years})
        unknown = {c for c, _ in sizes} - set(channels)
        if unknown:
            raise ValueError(f"n_per_group names channels not in the truth: {sorted(unknown)}")
    else:
        sizes = {(c, y): int(n_per_group) for c in channels for y in years}
    if any(v < 0 for v in sizes.values()):
        raise ValueError("n_per_group must not be negative")
    return sizes


# ---------------------------------------------------------------------------------------------
# Spec and files
# ---------------------------------------------------------------------------------------------


def spec_for(truth: xr.Dataset, *, weights: bool = True) -> Spec:
    """The spec that maps :func:`simulate_survey`'s columns onto the model.

    Parameters
    ----------
    truth
        The truth the survey was drawn from.
    weights
        Whether the survey has a ``weight`` column (``simulate_survey(..., weights=...)``).

    Returns
    -------
    whatif.data.spec.Spec
        With the truth's labels, influencer kinds and ``better``, channel labels and volumes.
    """
    drivers = tuple(
        Driver(id=str(k), columns=tuple(str(cols).split()), label=str(label))
        for k, cols, label in zip(
            truth["driver"].values,
            truth["driver_columns"].values,
            truth["driver_label"].values,
            strict=True,
        )
    )
    influencers = tuple(
        Influencer(
            id=str(j), column=str(j), kind=str(kind), better=str(better) or None, label=str(label)
        )
        for j, kind, better, label in zip(
            truth["influencer"].values,
            truth["kind"].values,
            truth["better"].values,
            truth["influencer_label"].values,
            strict=True,
        )
    )
    channels = {
        str(c): Channel(id=str(c), label=str(label), volume=round(float(v), 6))
        for c, label, v in zip(
            truth["channel"].values,
            truth["channel_label"].values,
            truth["volume"].values,
            strict=True,
        )
    }
    return Spec(
        outcome=OUTCOME,
        drivers=drivers,
        influencers=influencers,
        channel="channel",
        year="year",
        weight="weight" if weights else None,
        scale=SCALE,
        channels=channels,
    )


def _toml_value(value) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def _spec_toml(spec: Spec, truth: xr.Dataset) -> str:
    """Spec TOML laid out for people: short arrays, and where each column is measured."""
    labels = dict(zip(truth["channel"].values, truth["channel_label"].values, strict=True))

    def where(measured: xr.DataArray) -> str:
        channels = measured["channel"].values
        names = [str(labels[c]) for c in channels[measured.values]]
        others = [str(labels[c]) for c in channels[~measured.values]]
        if not others:
            return "all channels"
        if len(others) < len(names):
            return "all channels except " + ", ".join(others)
        return ", ".join(names)

    raw = spec.to_dict()
    lines = [
        "# whatif demo survey: how the columns of survey.parquet map onto the model.",
        "# Synthetic data calibrated to published customer-experience research (whatif.synthetic).",
        "# Drivers are rated elements of the contact, answered on the survey scale; influencers",
        "# are operational facts joined to each response. Each is measured only in the channels",
        "# noted; elsewhere its column is empty by design.",
        "",
        "[survey]",
    ]
    lines += [f"{key} = {_toml_value(value)}" for key, value in raw["survey"].items()]
    for section, measured in (
        ("drivers", "driver_measured"),
        ("influencers", "influencer_measured"),
    ):
        lines += ["", f"# {section.capitalize()}"]
        dim = "driver" if section == "drivers" else "influencer"
        for key, entry in raw.get(section, {}).items():
            lines += [
                "",
                f"# measured in: {where(truth[measured].sel({dim: key}))}",
                f"[{section}.{key}]",
            ]
            lines += [f"{k} = {_toml_value(v)}" for k, v in entry.items()]
    lines += ["", "# Channels: display label and share of contact volume"]
    for key, entry in raw.get("channels", {}).items():
        lines += ["", f"[channels.{key}]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def _demo_sizes(truth: xr.Dataset, n: int) -> xr.DataArray:
    """Split ``n`` responses over channel-years by the demo's sampling shares, summing to n."""
    share = np.outer([c[3] for c in _CHANNELS], _YEAR_SHARE)
    share = share / share.sum()
    raw = share * n
    sizes = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - sizes), axis=None, kind="stable")
    sizes.flat[order[: n - sizes.sum()]] += 1
    return xr.DataArray(
        sizes,
        coords={"channel": truth["channel"].values, "year": truth["year"].values},
        dims=("channel", "year"),
    )


def write_demo(
    out_dir: str | Path = "data/demo", seed: int = 2026, n: int = 75_000
) -> dict[str, Path]:
    """Write the demo's survey, spec and truth.

    Parameters
    ----------
    out_dir
        Folder to write into (created if needed).
    seed
        Seed of the truth and of the survey draw.
    n
        Total number of responses, split unequally over channels and years.

    Returns
    -------
    dict[str, pathlib.Path]
        Paths under ``"survey"`` (``survey.parquet``), ``"spec"`` (``spec.toml``) and
        ``"truth"`` (``truth.nc``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    truth = demo_truth(seed)
    survey = simulate_survey(truth, _demo_sizes(truth, n), seed)
    paths = {"survey": out / "survey.parquet", "spec": out / "spec.toml", "truth": out / "truth.nc"}
    survey.to_parquet(paths["survey"], index=False)
    paths["spec"].write_text(_spec_toml(spec_for(truth), truth), encoding="utf-8")
    truth.to_netcdf(paths["truth"], engine="h5netcdf")
    return paths


def load_truth(path: str | Path) -> xr.Dataset:
    """Read a truth written by :func:`write_demo` (netCDF) fully into memory.

    Parameters
    ----------
    path
        The ``truth.nc`` file.

    Returns
    -------
    xarray.Dataset
        The truth, with boolean masks and string coordinates restored.
    """
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        truth = ds.load()
    for name in ("driver_measured", "influencer_measured"):
        truth[name] = truth[name].astype(bool)
    return truth
