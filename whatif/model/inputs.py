"""What the model needs from the aggregates: standardized, factored statistics and each
coefficient's estimate and precision from its own group's data (the whitening of
:mod:`whatif.model.build`).

Driver paths (``depends_on`` in the spec) put the drivers that move a driver into its equation
next to the influencers. The driver equations of a channel then share one design,
``[1, z, x_S]`` with ``S`` every driver that is the source of some path (in driver order), and
one factorization of its pooled cross-products: completing the square is exact for any
coefficient vector, so each driver's equation holds its own sources' coefficients and zeros for
the rest of ``S`` (a source's own equation included: it does not move itself). Without paths
``S`` is empty and the design is ``[1, z]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from whatif.model.likelihood import Standardized, factorize, standardize
from whatif.model.priors import Priors

__all__ = ["ModelInputs", "ols", "prepare_inputs"]


@dataclass(frozen=True)
class ModelInputs:
    """Everything the model needs, derived from the aggregated data.

    ``*_est`` and ``*_info`` are each coefficient's least-squares estimate and precision from its
    own group's data (0 and 0 where the term is not measured or not identified); the model
    whitens the coefficient's raw variable with them. A driver's ``effect_*``, ``gamma0_*`` and
    its paths' ``path_*`` come from one regression on its influencers and its sources.
    """

    std: Standardized
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
    sat_n: np.ndarray  # (C, T) responses (rating scale: their information, see rating_stats)
    driver_n: np.ndarray  # (C, K)
    driver_factors: tuple  # (R (C,K,Q,Q), b (C,K,Q), rss0 (C,K)) with Q = 1 + J + len(S)
    paths: list[tuple[str, str]]  # (driver, source) per edge, P of them
    path_mask: np.ndarray  # (C, P): both ends measured
    path_est: np.ndarray  # (C, P)
    path_info: np.ndarray
    path_at: np.ndarray  # (P, 2) int: the edge's driver and its source's driver design column

    @property
    def edges(self) -> list[tuple[int, int]]:
        """Each path as ``(driver index, source index)``."""
        return [(self.drivers.index(k), self.drivers.index(s)) for k, s in self.paths]

    @property
    def edge_labels(self) -> list[str]:
        """Each path as ``"source -> driver"``."""
        return [f"{s} -> {k}" for k, s in self.paths]

    @property
    def coords(self) -> dict[str, list]:
        return {
            "channel": self.channels,
            "year": self.years,
            "step": self.years[1:],
            "driver": self.drivers,
            "influencer": self.influencers,
            "edge": self.edge_labels,
        }

    def centering(self, block: str, scale: float | np.ndarray) -> np.ndarray:
        """``lam`` of a block (``"weights"``, ``"direct"``, ``"effects"``) at a given spread:
        1 is centered (the data dominate), 0 non-centered (the prior dominates)."""
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


def prepare_inputs(
    data: xr.Dataset,
    priors: Priors | None = None,
    paths: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
) -> ModelInputs:
    """Standardize the aggregates, factorize them, and estimate each coefficient from its own group.

    Parameters
    ----------
    data
        Aggregates from :func:`whatif.data.aggregate.aggregate`.
    priors
        Prior scales (unused: kept for a stable interface; the centering is chosen in the model).
    paths
        Driver paths ``(driver, source)`` (:attr:`whatif.data.spec.Spec.paths`), without cycles.
    """
    std = standardize(data)
    K, J = data.sizes["driver"], data.sizes["influencer"]
    C, T = data.sizes["channel"], data.sizes["year"]
    drivers = [str(d) for d in data["driver"].to_numpy()]
    paths = [(str(k), str(s)) for k, s in paths]
    unknown = sorted({name for edge in paths for name in edge} - set(drivers))
    if unknown:
        raise ValueError(f"paths name drivers the aggregates do not have: {unknown}")
    edges = [(drivers.index(k), drivers.index(s)) for k, s in paths]
    sources = sorted({s for _, s in edges})  # S: the driver columns of the driver design
    parents = [[(e, s) for e, (k, s) in enumerate(edges) if k == target] for target in range(K)]
    P = K + J + 2
    design = np.arange(P - 1)
    e_idx = np.concatenate([[0], np.arange(1 + K, 1 + K + J)]).astype(int)
    dd_idx = np.concatenate([e_idx, 1 + np.asarray(sources, int)]).astype(int)
    cross, sat_n = std.cross, std.n
    if "rating_cross" in data:
        # the rating-scale likelihood summed up as cross-products (whatif.data.rating_stats)
        cross = std.transform(data["rating_cross"].to_numpy())
        sat_n = data["rating_n"].to_numpy().astype(float)
    sat_est, sat_info = np.zeros((C, T, P - 1)), np.zeros((C, T, P - 1))
    for c in range(C):
        for t in range(T):
            sat_est[c, t], sat_info[c, t] = ols(
                cross[c, t][np.ix_(design, design)],
                cross[c, t, design, P - 1],
                cross[c, t, -1, -1],
                sat_n[c, t],
                std.measured[c, design],
            )
    # each driver's regression: its own statistics where it has them, else the pooled years'
    pooled = np.broadcast_to(std.cross.sum(axis=1)[:, None], (C, K, P, P))
    driver_n = np.broadcast_to(std.n.sum(axis=1)[:, None], (C, K))
    if "driver_cross" in data:
        pooled = std.transform(data["driver_cross"].sum("year").to_numpy())
        driver_n = data["driver_n"].sum("year").to_numpy().astype(float)
    eff_est, eff_info = np.zeros((C, K, J + 1)), np.zeros((C, K, J + 1))
    path_est, path_info = np.zeros((C, len(edges))), np.zeros((C, len(edges)))
    for c in range(C):
        for k in range(K):
            if std.measured[c, 1 + k]:
                # the driver's own design: intercept, influencers and its sources
                idx = np.concatenate([e_idx, [1 + s for _, s in parents[k]]]).astype(int)
                est, info = ols(
                    pooled[c, k][np.ix_(idx, idx)],
                    pooled[c, k, idx, 1 + k],
                    pooled[c, k, 1 + k, 1 + k],
                    driver_n[c, k],
                    std.measured[c, idx],
                )
                eff_est[c, k], eff_info[c, k] = est[: J + 1], info[: J + 1]
                for i, (e, _) in enumerate(parents[k]):
                    path_est[c, e], path_info[c, e] = est[J + 1 + i], info[J + 1 + i]
    d_info = sat_info[..., 1 + K :].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        d_est = np.where(
            d_info > 0, (sat_est[..., 1 + K :] * sat_info[..., 1 + K :]).sum(axis=1) / d_info, 0.0
        )

    sat_R, sat_b, sat_r0 = factorize(
        cross[..., design[:, None], design[None, :]],
        cross[..., design, P - 1],
        cross[..., P - 1, P - 1],
    )
    k_idx = np.arange(K)
    drv_R, drv_b, drv_r0 = factorize(
        pooled[:, :, dd_idx[:, None], dd_idx[None, :]],
        pooled[:, k_idx[:, None], dd_idx[None, :], 1 + k_idx[:, None]],
        pooled[:, k_idx, 1 + k_idx, 1 + k_idx],
    )
    measured = std.measured[:, 1 : 1 + K]
    path_mask = np.array([[measured[c, k] and measured[c, s] for k, s in edges] for c in range(C)])
    return ModelInputs(
        std=std,
        channels=[str(c) for c in data["channel"].to_numpy()],
        years=[int(y) for y in data["year"].to_numpy()],
        drivers=drivers,
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
        sat_n=sat_n,
        driver_n=np.ascontiguousarray(driver_n),
        driver_factors=(drv_R, drv_b, drv_r0),
        paths=paths,
        path_mask=path_mask.reshape(C, len(edges)),
        path_est=path_est,
        path_info=path_info,
        path_at=np.array([(k, 1 + J + sources.index(s)) for k, s in edges], int).reshape(-1, 2),
    )
