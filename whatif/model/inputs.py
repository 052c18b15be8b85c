"""What the model needs from the aggregates: standardised, factored statistics and each
coefficient's estimate and precision from its own group's data (the whitening of
:mod:`whatif.model.build`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from whatif.model.likelihood import Standardised, factorise, standardise
from whatif.model.priors import Priors

__all__ = ["ModelInputs", "ols", "prepare_inputs"]


@dataclass(frozen=True)
class ModelInputs:
    """Everything the model needs, derived from the aggregated data.

    ``*_est`` and ``*_info`` are each coefficient's least-squares estimate and precision from its
    own group's data (0 and 0 where the term is not measured or not identified); the model
    whitens the coefficient's raw variable with them.
    """

    std: Standardised
    channels: list[str]
    years: list[int]
    drivers: list[str]
    influencers: list[str]
    driver_mask: np.ndarray  # (C, K)
    influencer_mask: np.ndarray  # (C, J)
    weight_est: np.ndarray  # (C, T, K) per-year weights
    weight_info: np.ndarray
    direct_est: np.ndarray  # (C, J), pooled over years
    direct_info: np.ndarray
    effect_est: np.ndarray  # (C, K, J), pooled over years
    effect_info: np.ndarray
    alpha_est: np.ndarray  # (C, T) satisfaction intercepts
    alpha_info: np.ndarray
    gamma0_est: np.ndarray  # (C, K) driver intercepts
    gamma0_info: np.ndarray
    sat_factors: tuple  # (R (C,T,Q,Q), b (C,T,Q), rss0 (C,T)) with Q = 1 + K + J
    driver_factors: tuple  # (R (C,Q,Q), b (C,K,Q), rss0 (C,K)) with Q = 1 + J

    @property
    def coords(self) -> dict[str, list]:
        return {
            "channel": self.channels,
            "year": self.years,
            "step": self.years[1:],
            "driver": self.drivers,
            "influencer": self.influencers,
        }

    def centring(self, block: str, scale: float | np.ndarray) -> np.ndarray:
        """``lam`` of a block (``"weights"``, ``"direct"``, ``"effects"``) at a given spread:
        1 is centred (the data dominate), 0 non-centred (the prior dominates)."""
        info = getattr(self, f"{block}_info" if block != "weights" else "weight_info")
        s2i = info * np.asarray(scale) ** 2
        return s2i / (1.0 + s2i)


def ols(xx: np.ndarray, xy: np.ndarray, yy: float, n: float, keep: np.ndarray):
    """OLS estimates and their sampling precisions (0, 0 where not kept or not identified)."""
    est = np.zeros(len(keep))
    info = np.zeros(len(keep))
    idx = np.flatnonzero(keep)
    if n <= len(idx) + 1:
        return est, info
    a = xx[np.ix_(idx, idx)]
    b = xy[idx]
    inv = np.linalg.pinv(a)
    coef = inv @ b
    rss = max(yy - 2 * coef @ b + coef @ a @ coef, 1e-12 * max(yy, 1e-12))
    var = np.diag(inv) * rss / (n - len(idx))
    ok = var > 0
    est[idx] = np.where(ok, coef, 0.0)
    info[idx] = np.where(ok, 1.0 / np.where(ok, var, 1.0), 0.0)
    return est, info


def prepare_inputs(data: xr.Dataset, priors: Priors | None = None) -> ModelInputs:
    """Standardise the aggregates, factorise them, and estimate each coefficient from its own group.

    Parameters
    ----------
    data
        Aggregates from :func:`whatif.data.aggregate.aggregate`.
    priors
        Prior scales (unused: kept for a stable interface; the centring is chosen in the model).
    """
    std = standardise(data)
    K, J = data.sizes["driver"], data.sizes["influencer"]
    C, T = data.sizes["channel"], data.sizes["year"]
    P = K + J + 2
    design = np.arange(P - 1)
    e_idx = np.concatenate([[0], np.arange(1 + K, 1 + K + J)]).astype(int)
    d_idx = np.arange(1, 1 + K)
    cross = std.cross
    sat_est, sat_info = np.zeros((C, T, P - 1)), np.zeros((C, T, P - 1))
    for c in range(C):
        for t in range(T):
            sat_est[c, t], sat_info[c, t] = ols(
                cross[c, t][np.ix_(design, design)],
                cross[c, t, design, P - 1],
                cross[c, t, -1, -1],
                std.n[c, t],
                std.measured[c, design],
            )
    pooled, n_pooled = cross.sum(axis=1), std.n.sum(axis=1)
    eff_est, eff_info = np.zeros((C, K, J + 1)), np.zeros((C, K, J + 1))
    for c in range(C):
        for k in range(K):
            if std.measured[c, 1 + k]:
                eff_est[c, k], eff_info[c, k] = ols(
                    pooled[c][np.ix_(e_idx, e_idx)],
                    pooled[c, e_idx, 1 + k],
                    pooled[c, 1 + k, 1 + k],
                    n_pooled[c],
                    std.measured[c, e_idx],
                )
    d_info = sat_info[..., 1 + K :].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        d_est = np.where(
            d_info > 0, (sat_est[..., 1 + K :] * sat_info[..., 1 + K :]).sum(axis=1) / d_info, 0.0
        )

    sat_R, sat_b, sat_r0 = factorise(
        cross[..., design[:, None], design[None, :]],
        cross[..., design, P - 1],
        cross[..., P - 1, P - 1],
    )
    drv_R, _, _ = factorise(
        pooled[:, e_idx[:, None], e_idx[None, :]], pooled[:, e_idx, 1], pooled[:, 1, 1]
    )
    xy_d = np.moveaxis(pooled[:, e_idx[:, None], d_idx[None, :]], -1, -2)  # (C, K, J+1)
    _, drv_b, drv_r0 = factorise(
        np.broadcast_to(pooled[:, None, e_idx[:, None], e_idx[None, :]], (C, K, J + 1, J + 1)),
        xy_d,
        pooled[:, d_idx, d_idx],
    )
    return ModelInputs(
        std=std,
        channels=[str(c) for c in data["channel"].to_numpy()],
        years=[int(y) for y in data["year"].to_numpy()],
        drivers=[str(d) for d in data["driver"].to_numpy()],
        influencers=[str(i) for i in data["influencer"].to_numpy()],
        driver_mask=std.measured[:, 1 : 1 + K],
        influencer_mask=std.measured[:, 1 + K : 1 + K + J],
        weight_est=sat_est[..., 1 : 1 + K],
        weight_info=sat_info[..., 1 : 1 + K],
        direct_est=d_est,
        direct_info=d_info,
        effect_est=eff_est[..., 1:],
        effect_info=eff_info[..., 1:],
        alpha_est=sat_est[..., 0],
        alpha_info=sat_info[..., 0],
        gamma0_est=eff_est[..., 0],
        gamma0_info=eff_info[..., 0],
        sat_factors=(sat_R, sat_b, sat_r0),
        driver_factors=(drv_R, drv_b, drv_r0),
    )
