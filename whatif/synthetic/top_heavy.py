"""Top-heavy rating surveys with known truth, and the realized effect of a lever on the same
respondents: the test bed of the rating-scale likelihood.

Real CX answers pile up near the top of the scale (about half in the top two points, a third or
more at the very top, a long tail of low scores). Here every rating -- drivers and the outcome --
is a latent score rounded and clipped to the scale; drivers move with the influencers,
satisfaction with the drivers' answers and the influencers directly. A lever's truth is not a
formula of the model: :func:`realized_change` draws the survey again with the same respondents'
noise (common random numbers), the lever applied, and measures the change of the mean answer,
the top-box share and NPS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from whatif.data.rating import RatingScale, rating_scale
from whatif.data.spec import Channel, Driver, Influencer, Spec

__all__ = [
    "TopHeavyTruth",
    "flip_share",
    "realized_change",
    "top_heavy_survey",
    "top_heavy_truth",
]


@dataclass(frozen=True)
class TopHeavyTruth:
    """The parameters of a top-heavy survey: per channel and year (``T``) satisfaction, per
    channel the drivers' equations."""

    channels: tuple[str, ...]
    years: tuple[int, ...]
    scale: tuple[float, float]
    intercept: np.ndarray  # (C, T)
    weights: np.ndarray  # (C, T, K)
    direct: np.ndarray  # (C, J)
    sigma: np.ndarray  # (C,)
    driver_intercept: np.ndarray  # (C, K)
    effects: np.ndarray  # (C, K, J)
    driver_sigma: np.ndarray  # (C, K)
    influencer_mean: np.ndarray  # (C, J)
    kinds: tuple[str, ...] = ("count", "binary")
    drivers: tuple[str, ...] = field(default=("d1", "d2", "d3"))

    @property
    def influencers(self) -> tuple[str, ...]:
        return tuple(f"i{j + 1}" for j in range(len(self.kinds)))

    @property
    def rating(self) -> RatingScale:
        return rating_scale(self.scale, bottom_box=None if self.scale != (0.0, 10.0) else 6)

    def spec(self) -> Spec:
        """The survey's spec (columns named as the ids)."""
        return Spec(
            outcome="sat",
            drivers=tuple(Driver(id=k, columns=(k,), label=k) for k in self.drivers),
            influencers=tuple(
                Influencer(id=j, column=j, kind=kind, label=j)
                for j, kind in zip(self.influencers, self.kinds, strict=True)
            ),
            channel="channel",
            year="year",
            scale=self.scale,
            channels={c: Channel(id=c, label=c) for c in self.channels},
        )


def top_heavy_truth(seed: int, scale=(0.0, 10.0), n_channels: int = 2, n_years: int = 2):
    """A truth whose answers pile up near the top of ``scale`` (count and binary influencers)."""
    rng = np.random.default_rng(seed)
    low, high = scale
    span = high - low
    C, T, K = n_channels, n_years, 3
    weights = rng.uniform(0.2, 0.45, (C, 1, K)) + rng.normal(0, 0.03, (C, T, K))
    effects = np.stack(
        [rng.uniform(-0.5, -0.2, (C, K)) * span / 10, rng.uniform(0.6, 1.4, (C, K)) * span / 10],
        axis=-1,
    )
    influencer_mean = np.column_stack([rng.uniform(1.0, 2.5, C), rng.uniform(0.4, 0.7, C)])
    driver_level = low + 0.82 * span
    driver_intercept = driver_level - (effects * influencer_mean[:, None, :]).sum(-1)
    direct = np.column_stack([rng.uniform(-0.25, -0.1, C), rng.uniform(0.2, 0.5, C)]) * span / 10
    sat_level = low + 0.84 * span
    mean_x = np.full((C, K), driver_level - 0.2 * span / 10)
    intercept = (
        sat_level
        - (weights * mean_x[:, None, :]).sum(-1)
        - (direct * influencer_mean).sum(-1)[:, None]
    )
    return TopHeavyTruth(
        channels=tuple(f"ch{c + 1}" for c in range(C)),
        years=tuple(2021 + t for t in range(T)),
        scale=(float(low), float(high)),
        intercept=intercept,
        weights=weights,
        direct=direct,
        sigma=rng.uniform(1.3, 1.7, C) * span / 10,
        driver_intercept=driver_intercept,
        effects=effects,
        driver_sigma=rng.uniform(1.4, 1.9, (C, K)) * span / 10,
        influencer_mean=influencer_mean,
    )


def _draw(truth: TopHeavyTruth, n: int, seed: int, lever=None):
    """Every respondent's answers; ``lever(channel_index, z) -> z`` changes the influencers
    before the same noise is applied."""
    rng = np.random.default_rng(seed)
    low, high = truth.scale
    frames = []
    for c, channel in enumerate(truth.channels):
        for t, year in enumerate(truth.years):
            z = np.column_stack(
                [
                    rng.poisson(truth.influencer_mean[c, 0], n).astype(float),
                    (rng.random(n) < truth.influencer_mean[c, 1]).astype(float),
                ]
            )
            flip = rng.random(n)  # the order in which respondents gain or lose a binary KPI
            driver_noise = rng.standard_normal((n, len(truth.drivers)))
            sat_noise = rng.standard_normal(n)
            if lever is not None:
                z = lever(c, z, flip)
            latent = (
                truth.driver_intercept[c]
                + z @ truth.effects[c].T
                + truth.driver_sigma[c] * driver_noise
            )
            x = np.clip(np.rint(latent), low, high)
            sat = np.clip(
                np.rint(
                    truth.intercept[c, t]
                    + x @ truth.weights[c, t]
                    + z @ truth.direct[c]
                    + truth.sigma[c] * sat_noise
                ),
                low,
                high,
            )
            frame = pd.DataFrame(x, columns=list(truth.drivers))
            frame[list(truth.influencers)] = z
            frame["sat"] = sat
            frame["channel"] = channel
            frame["year"] = year
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def flip_share(z: np.ndarray, flip: np.ndarray, j: int, change: float) -> np.ndarray:
    """Raise (lower) binary KPI ``j``'s share by exactly ``change``: the respondents without
    (with) it who come first in the ``flip`` order gain (lose) it."""
    z = z.copy()
    count = int(round(abs(change) * len(z)))
    candidates = np.flatnonzero(z[:, j] == (0.0 if change > 0 else 1.0))
    chosen = candidates[np.argsort(flip[candidates])[:count]]
    z[chosen, j] = 1.0 if change > 0 else 0.0
    return z


def top_heavy_survey(truth: TopHeavyTruth, n_per_group: int, seed: int) -> pd.DataFrame:
    """One survey: ``n_per_group`` respondents per channel and year."""
    return _draw(truth, n_per_group, seed)


def realized_change(
    truth: TopHeavyTruth, n_per_group: int, seed: int, lever, year: int
) -> dict[str, np.ndarray]:
    """The change of the mean answer, the top-box share and NPS per channel in ``year`` when
    ``lever(channel_index, z, flip) -> z`` acts on the same respondents (same seed, same noise).

    Returns
    -------
    dict
        ``mean``, ``top_box`` and (on a scale with NPS) ``nps``, each ``(C,)``.
    """
    before = _draw(truth, n_per_group, seed)
    after = _draw(truth, n_per_group, seed, lever)
    rating = truth.rating
    out: dict[str, list] = {"mean": [], "top_box": [], "nps": []}
    for channel in truth.channels:
        pick = (before["channel"] == channel) & (before["year"] == year)
        old, new = before.loc[pick, "sat"].to_numpy(), after.loc[pick, "sat"].to_numpy()
        out["mean"].append(new.mean() - old.mean())
        top_old, det_old = rating.classify(old)
        top_new, det_new = rating.classify(new)
        out["top_box"].append(top_new.mean() - top_old.mean())
        out["nps"].append(
            100 * ((top_new.mean() - det_new.mean()) - (top_old.mean() - det_old.mean()))
        )
    result = {k: np.array(v) for k, v in out.items()}
    if not rating.nps:
        result.pop("nps")
    return result
