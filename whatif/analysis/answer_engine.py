"""The scenario engine's forecasts on the scale of answers, for models fitted with the
rating-scale likelihood: mean, top-box and NPS computed respondent by respondent over the
sampled population of the scenario year (:mod:`whatif.analysis.answers`).

Per posterior draw, a lever's change of each respondent's influencers moves each driver's
latent score through the driver's own equation; the driver's *answer* then moves as the scale
allows (table look-up), and drivers downstream on a path move with that answer; satisfaction's
latent score moves by the weights times the drivers' answer changes plus the direct effects, and
its answer, top-box and detractor status move as the scale allows. A driver lever shifts the
driver's latent score (``+0.5``: half a rating point before the scale's ends are applied).
"""

from __future__ import annotations

import numpy as np

from whatif.analysis.alike import ChannelPaths, alike_latent
from whatif.analysis.answers import (
    change_tables,
    look_up,
    look_up_sums,
    shift_grid,
)
from whatif.analysis.respondents import alike_respondents
from whatif.data.ordinal import answer_probabilities
from whatif.data.paths import path_order
from whatif.fitting.fitted import FittedModel

__all__ = [
    "MAX_ANSWER_DRAWS",
    "AnswerForecast",
    "is_rating_model",
]

#: Draws used by a rating-scale model's forecasts (evenly thinned beyond this).
MAX_ANSWER_DRAWS = 300


def is_rating_model(model: FittedModel) -> bool:
    """Whether the model's outcome was fitted with the rating-scale likelihood."""
    agg = model.aggregates
    return agg.attrs.get("outcome_likelihood") == "ordinal" and "population_y" in agg


class AnswerForecast:
    """Tables and arrays of one model for forecasts on the answer scale.

    Parameters
    ----------
    model
        A model fitted with the rating-scale likelihood (:func:`is_rating_model`).
    draws
        Indices of the posterior draws the engine uses.
    """

    def __init__(self, model: FittedModel, draws: np.ndarray):
        agg = model.aggregates
        self.rating = model.spec.rating
        self.scale = (self.rating.low, self.rating.high)
        self.grid = shift_grid(self.scale)
        self.drivers = [str(d) for d in agg["driver"].to_numpy()]
        self.x = agg["population_x"].transpose("channel", "year", "respondent", "driver").to_numpy()
        self.z = (
            agg["population_z"].transpose("channel", "year", "respondent", "influencer").to_numpy()
        )
        self.y = agg["population_y"].transpose("channel", "year", "respondent").to_numpy()
        self.w = agg["population_weight"].transpose("channel", "year", "respondent").to_numpy()
        self.driver_ordinal = (
            agg["driver_ordinal"].to_numpy() if "driver_ordinal" in agg else np.zeros(0, bool)
        )
        self.dmask = agg["driver_measured"].to_numpy()
        self.exact = (
            agg["population_exact"].to_numpy()
            if "population_exact" in agg
            else np.ones(self.w.shape[:2], bool)
        )
        self.n_draws = len(draws)

        def mean_of(name):
            return np.nan_to_num(model.draws(name).to_numpy()[draws]).mean(axis=0)

        self.gamma0 = mean_of("driver_intercept")  # (C, K)
        self.own_effects = mean_of("effects")  # (C, K, J)
        self.driver_sigma = mean_of("driver_sigma")  # (C, K)
        edges = []
        paths = model.draws("paths")
        if paths.sizes.get("edge", 0):
            edges = [
                (str(k), str(s))
                for k, s in zip(paths["target"].values, paths["source"].values, strict=True)
            ]
        self.order = [self.drivers.index(k) for k in path_order(self.drivers, edges)]
        self._tables: dict = {}

    def _population(self, c: int, t: int):
        key = ("population", c, t)
        if key not in self._tables:
            keep = self.w[c, t] > 0
            self._tables[key] = tuple(a[c, t, keep] for a in (self.x, self.z, self.y, self.w))
        return self._tables[key]

    def sat_tables(self, c: int, t: int, eta_hat: np.ndarray, sigma: float) -> dict:
        # keyed by the predictions too: the last observed year's respondents stand for both
        # that year and the next, whose coefficients (so predictions) differ
        key = ("sat", c, t, sigma, hash(np.ascontiguousarray(eta_hat).tobytes()))
        if key not in self._tables:
            _, _, y, _ = self._population(c, t)
            self._tables[key] = change_tables(y, eta_hat, sigma, self.rating, self.grid)
        return self._tables[key]

    def driver_tables(self, c: int, t: int, paths_mean: np.ndarray | None) -> tuple:
        """The answer change per respondent and latent shift of every rating-scale driver channel
        ``c`` measures: ``(tables (K', M, G), slot)``, ``slot[k]`` driver ``k``'s table;
        ``paths_mean`` the channel's mean path matrix ``(K, K)`` or ``None``."""
        key = ("drivers", c, t)
        if key not in self._tables:
            x, z, _, _ = self._population(c, t)
            slot = {k: i for i, k in enumerate(k for k in self.order if self._rated(c, k))}
            tables = np.empty((len(slot), len(x), len(self.grid)))
            for k, i in slot.items():
                mu = self.gamma0[c, k] + z @ self.own_effects[c, k]
                if paths_mean is not None:
                    mu = mu + x @ paths_mean[k]
                tables[i] = change_tables(
                    x[:, k], mu, self.driver_sigma[c, k], self.rating, self.grid, which=("mean",)
                )["mean"]
            self._tables[key] = tables, slot
        return self._tables[key]

    def _rated(self, c: int, k: int) -> bool:
        """Whether channel ``c`` measures driver ``k`` on the rating scale (it has a table)."""
        return bool(self.dmask[c, k]) and k < len(self.driver_ordinal) and self.driver_ordinal[k]

    def baseline(self, intercept, weights, direct, sigma, t: int) -> dict[str, np.ndarray]:
        """Mean, top-box and NPS (where reported) per draw and channel: the model's predicted
        answers of the population of year index ``t``, averaged over its respondents."""
        C = weights.shape[1]
        S = weights.shape[0]
        out = {"mean": np.zeros((S, C)), "top_box": np.zeros((S, C))}
        if self.rating.nps:
            out["nps"] = np.zeros((S, C))
        answers = np.arange(self.rating.low, self.rating.high + 1.0)
        top = answers >= self.rating.top_box
        bottom = answers <= (self.rating.bottom_box if self.rating.nps else -np.inf)
        for c in range(C):
            x, z, _, w = self._population(c, t)
            if not len(w):
                out["mean"][:, c] = np.nan
                continue
            eta = intercept[:, c, None] + weights[:, c] @ x.T + direct[:, c] @ z.T  # (S, M)
            probs = answer_probabilities(eta, sigma[:, c, None], self.scale)  # (S, M, A)
            shares = np.einsum("sma,m->sa", probs, w)
            out["mean"][:, c] = shares @ answers
            out["top_box"][:, c] = shares[:, top].sum(axis=1)
            if self.rating.nps:
                out["nps"][:, c] = 100.0 * (out["top_box"][:, c] - shares[:, bottom].sum(axis=1))
        return out

    def lift(
        self,
        c: int,
        t: int,
        *,
        intercept,
        weights,
        direct,
        sigma,
        own_effects,
        paths,
        dz: np.ndarray,
        dx: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """The lift of one channel per draw on the answer scale.

        Parameters
        ----------
        c, t
            Channel and population year indices.
        intercept, weights, direct, sigma
            The year's draws of the channel: ``(S,)``, ``(S, K)``, ``(S, J)``, ``(S,)``.
        own_effects, paths
            The channel's draws of the drivers' own-equation effects ``(S, K, J)`` and the path
            matrix ``(S, K, K)`` (or ``None``).
        dz
            Each sampled respondent's influencer changes as ``(fixed, flipped, chance)``:
            count and continuous changes ``(M, J)``, binary KPIs gained or lost in full
            ``(M, J)``, and the chance ``(M,)`` that the respondent is one who does.
        dx
            The driver levers' latent shifts ``(K,)``.

        Returns
        -------
        dict
            ``mean`` (rating points), ``top_box`` (share) and, with NPS, ``nps`` (points), each
            ``(S,)``; ``latent`` the mean latent shift ``(S,)``.
        """
        _, _, _, w = self._population(c, t)
        tables = self._channel_tables(c, t, intercept, weights, direct, sigma)
        fixed, flipped, chance = dz
        rows = self._moved_respondents(fixed, flipped, dx)
        if rows is None:
            rows = np.arange(len(w))
        share = None if self.exact[c, t] else self.draw_weights(c, t, weights.shape[0])
        plan = ChannelPaths(
            mean=None if paths is None else paths.mean(axis=0),
            linked=None if paths is None else np.abs(paths).max(axis=0) > 0,
        )
        sums = dict.fromkeys(("latent", *tables), 0.0)
        flipping = np.any(flipped[rows] != 0, axis=1)
        # a binary KPI's gain is all or nothing per respondent: a mixture, not a fraction; only
        # those who can gain (or lose) it have a second answer
        for part, flips in ((rows[~flipping], False), (rows[flipping], True)):
            if not part.size:
                continue
            order, shared = alike_respondents(fixed[part], flipped[part])
            if order is not None:
                part = part[order]
            run = {
                "weights": weights,
                "direct": direct,
                "own_effects": own_effects,
                "paths": paths,
                "rows": part,
                "shared": shared,
                "plan": plan,
            }
            weight = w[part]  # the latent shift's; the answers' per draw where sampled
            share_part = weight if share is None else share[:, part]
            mixture = [(fixed[part], weight, share_part)]
            if flips:
                p = chance[part]
                mixture = [
                    (fixed[part], weight * (1.0 - p), share_part * (1.0 - p)),
                    (fixed[part] + flipped[part], weight * p, share_part * p),
                ]
            for changes, latent_weight, answer_weight in mixture:
                latent = self._respondents(c, t, changes, dx, **run)
                sums["latent"] = sums["latent"] + latent @ latent_weight
                found = look_up_sums(tables, self.grid, latent, answer_weight, part)
                for k, total in found.items():
                    sums[k] = sums[k] + total
        S = weights.shape[0]
        out = {k: np.broadcast_to(sums[k], (S,)).copy() for k in ("latent", "mean", "top_box")}
        if self.rating.nps:
            out["nps"] = 100.0 * (out["top_box"] - sums["bottom_box"])
        return out

    @staticmethod
    def _moved_respondents(fixed, flipped, dx) -> np.ndarray | None:
        """The respondents a scenario moves (``None``: all): without a driver lever, those whose
        KPIs a lever changes (a cap reaches those above it, a share those who can gain or lose
        the KPI). The others' answers stay as they are; leaving them out saves their look-ups."""
        if np.any(dx):
            return None
        return np.flatnonzero(np.any(fixed != 0, axis=1) | np.any(flipped != 0, axis=1))

    def _channel_tables(self, c, t, intercept, weights, direct, sigma) -> dict:
        """Channel ``c``'s satisfaction tables, from its draws ``(S,)``, ``(S, K)``, ``(S, J)``,
        ``(S,)`` (the posterior means predict each respondent's latent score)."""
        x, z, _, _ = self._population(c, t)
        eta_hat = intercept.mean() + x @ weights.mean(axis=0) + z @ direct.mean(axis=0)
        return self.sat_tables(c, t, eta_hat, float(sigma.mean()))

    def prepare(self, t: int, *, intercept, weights, direct, sigma, paths) -> None:
        """Tabulate every channel's answer changes for the population of year index ``t`` now
        (satisfaction, and each rating-scale driver it measures): the first lever touching a
        channel would otherwise wait seconds for them. Arguments as :meth:`scenario_lifts`."""
        for c in range(weights.shape[1]):
            if not len(self._population(c, t)[3]):
                continue
            self._channel_tables(c, t, intercept[:, c], weights[:, c], direct[:, c], sigma[:, c])
            self.driver_tables(c, t, None if paths is None else paths[:, c].mean(axis=0))

    def draw_weights(self, c: int, t: int, n_draws: int) -> np.ndarray:
        """Each respondent's share of the population per draw ``(S, M)``: their weights where
        the sample holds every respondent; where it is a sample, a Bayesian bootstrap of it (a
        fixed seed per group), so the intervals carry what a sample of the year's respondents
        leaves unknown about all of them."""
        _, _, _, w = self._population(c, t)
        if self.exact[c, t]:
            return np.broadcast_to(w, (n_draws, len(w)))
        key = ("bootstrap", c, t, n_draws)
        if key not in self._tables:
            rng = np.random.default_rng(1000 * c + t)
            gamma = rng.standard_gamma(1.0, size=(n_draws, len(w))) * w
            self._tables[key] = gamma / gamma.sum(axis=1, keepdims=True)
        return self._tables[key]

    def _respondents(self, c, t, dz, dx, *, rows, shared, plan, **draws):
        """Satisfaction's latent shift per draw and respondent ``(S, M)``.

        ``dz`` holds the influencer changes of the respondents ``rows``, in that order; the
        respondents of each slice in ``shared`` have the same changes, which makes their
        drivers' look-ups small matrix products (:func:`~whatif.analysis.alike.alike_latent`);
        the rest are looked up one by one (:meth:`_latent`).
        """
        S, M = draws["weights"].shape[0], dz.shape[0]
        if not shared:
            latent = self._latent(c, t, dz, dx, rows=rows, plan=plan, **draws)
        else:
            latent = np.empty((S, M))
            changes = dz[[part.start for part in shared]]
            rated, slot = self.driver_tables(c, t, plan.mean)
            measured = [k for k in self.order if self.dmask[c, k]]
            alike_latent(
                latent, changes, dx, rows, shared, measured, rated, slot, self.grid, plan, **draws
            )
            rest = slice(shared[-1].stop, M)
            if rest.start < M:
                latent[:, rest] = self._latent(
                    c, t, dz[rest], dx, rows=rows[rest], plan=plan, **draws
                )
        return latent

    def _latent(self, c, t, dz, dx, *, rows, plan, weights, direct, own_effects, paths):
        """Satisfaction's latent shift per draw and respondent ``(S, M)``, respondent by
        respondent: ``dz`` holds the influencer changes ``(M, J)`` of the respondents ``rows``.
        Only the influencers a lever changes enter the products (a one-lever scenario multiplies
        one column, not all of them)."""
        S, K = weights.shape
        M = len(rows)
        changed = np.flatnonzero(np.any(dz != 0, axis=0))
        dz_changed = np.ascontiguousarray(dz[:, changed].T)  # (J', M)
        tables, slot = self.driver_tables(c, t, plan.mean)
        moved: dict[int, np.ndarray] = {}  # driver -> its answer's change (S, M)
        latent = np.zeros((S, M))
        for k in self.order:
            if not self.dmask[c, k]:
                continue
            shift = None
            if changed.size:
                shift = own_effects[:, k][:, changed] @ dz_changed
            if dx[k]:
                shift = dx[k] + (np.zeros((S, M)) if shift is None else shift)
            for src in plan.upstream(k, moved):
                step = paths[:, k, src, None] * moved[src]
                shift = step if shift is None else shift + step
            if shift is None:
                continue
            if k in slot:
                shift = look_up(tables[slot[k]], self.grid, shift, rows)
            moved[k] = shift
            latent += weights[:, k, None] * shift
        if changed.size:
            latent += direct[:, changed] @ dz_changed
        return latent

    def scenario_lifts(
        self,
        t: int,
        *,
        intercept,
        weights,
        direct,
        sigma,
        own_effects,
        paths,
        respondent_dz,
        dx,
        moved,
        latent_direct,
    ):
        """Every channel's lift per draw on the answer scale.

        Parameters
        ----------
        t
            Population year index.
        intercept, weights, direct, sigma, own_effects, paths
            The year's draws ``(S, C)``, ``(S, C, K)``, ``(S, C, J)``, ``(S, C)``, ``(S, C, K, J)``
            and ``(S, C, K, K)`` or ``None``.
        respondent_dz
            ``c -> (fixed, flipped, chance)``: each sampled respondent's influencer changes in
            channel ``c`` (see :meth:`lift`).
        dx
            Driver levers' latent shifts ``(C, K)``.
        moved
            ``(C,)``: channels a lever reaches (the others are exactly zero).
        latent_direct
            The direct part of the latent lift ``(S, C)``, split off the answers' lift in the
            same proportion.

        Returns
        -------
        total, direct, top_box ``(S, C)``; nps ``(S, C)`` or ``None``
        """
        S, C = intercept.shape
        total, direct_part, top = np.zeros((S, C)), np.zeros((S, C)), np.zeros((S, C))
        nps = np.zeros((S, C)) if self.rating.nps else None
        for c in np.flatnonzero(moved):
            out = self.lift(
                c,
                t,
                intercept=intercept[:, c],
                weights=weights[:, c],
                direct=direct[:, c],
                sigma=sigma[:, c],
                own_effects=own_effects[:, c],
                paths=None if paths is None else paths[:, c],
                dz=respondent_dz(c),
                dx=dx[c],
            )
            total[:, c], top[:, c] = out["mean"], out["top_box"]
            if nps is not None:
                nps[:, c] = out["nps"]
            latent = out["latent"]
            safe = np.where(np.abs(latent) > 1e-12, latent, 1.0)
            direct_part[:, c] = (
                np.where(np.abs(latent) > 1e-12, latent_direct[:, c] / safe, 0.0) * out["mean"]
            )
        return total, direct_part, top, nps
