"""The yearly refit: a previous fit's stored aggregates plus a new year's file, fitted again.

An artefact keeps the sufficient statistics it was fitted on (see :mod:`whatif.data.aggregate`), so a
refit never needs the raw files of earlier years: the new file is aggregated with the spec and the
two aggregate sets are merged along ``year``. Because the model sees the data only through these
statistics, a refit on merged aggregates is the same posterior as a fit on all raw files at once.

The merge itself is :mod:`whatif.fitting.merge`.

Carrying the past as a prior (``discount``)
    A power prior (Ibrahim & Chen 2000): the earlier years' likelihood is raised to ``a0`` in
    (0, 1]. The likelihood on sufficient statistics is linear in ``n`` and the cross-products, so
    this is exactly the model fitted with those years' ``n`` and ``cross`` multiplied by ``a0``
    (each earlier response counts as ``a0`` of a response). ``a0 = 1`` is the full refit. Discounts
    compound: a year carried through two refits with ``a0 = 0.8`` counts ``0.64``. The artefact
    stores the undiscounted aggregates (group means and covariances, importance and backtests read
    them) and the discount of every year in ``manifest["power_prior"]``.

Keeping the past fixed (``freeze``)
    The earlier years are not refitted at all: the previous posterior is carried as a Gaussian
    prior and the earlier years' estimates are copied unchanged (:mod:`whatif.model.carry`).

No warm start
    A refit starts cold. nutpie does not read ``init_mean`` for PyMC-compiled models (measured
    with nutpie 0.16: identical draws, gradient counts, R-hat and ESS with and without it), and
    there is little to save: the density is one kernel cached on disk, so a refit of the
    demo-shaped model compiles in ~10 s and samples (tuning included) in ~3-6 s.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import xarray as xr

from whatif.data.spec import Spec
from whatif.data.survey import Survey
from whatif.errors import DataError, SpecError
from whatif.fitting.fitted import FittedModel
from whatif.fitting.merge import (
    check_changes,
    conform_aggregates,
    discount_aggregates,
    merge_aggregates,
    spec_changes,
)

__all__ = ["RefitPlan", "plan_refit", "refit"]


@dataclass
class RefitPlan:
    """What a refit will fit, decided before any sampling.

    Attributes
    ----------
    aggregates
        Merged aggregates, undiscounted (what the new artefact stores).
    fit_aggregates
        What the sampler sees: ``aggregates`` with earlier years discounted.
    spec
        The spec of the new fit.
    previous_years, new_years, replaced_years
        Years kept from the previous fit, brought by the new file, and replaced by it.
    discount_by_year
        Power-prior weight ``a0`` of each year (1 for a year fitted at full weight).
    changes
        Spec and channel changes (see :func:`spec_changes`), plus ``channels_added`` and
        ``channels_dropped``.
    notes
        One-line statements of everything reconciled, for the user and the manifest.
    """

    aggregates: xr.Dataset
    fit_aggregates: xr.Dataset
    spec: Spec
    previous_years: list[int]
    new_years: list[int]
    replaced_years: list[int]
    discount_by_year: dict[int, float]
    changes: dict
    notes: list[str] = field(default_factory=list)


def plan_refit(
    previous: FittedModel,
    new_aggregates: xr.Dataset,
    spec: Spec,
    *,
    discount: float | None = None,
    replace: bool = False,
    power_prior: bool = True,
) -> RefitPlan:
    """Check compatibility and merge, without fitting (cheap; errors surface before sampling).

    Parameters
    ----------
    previous
        The previous fit (loaded artefact).
    new_aggregates
        The new file aggregated with ``spec``.
    spec
        The spec of the new fit (the previous one unless the user gave another).
    discount
        Power-prior weight ``a0`` in (0, 1] for the previous years (``None``: full refit, earlier
        discounts are kept as they were).
    replace
        Let the new file replace years the previous fit already has.
    power_prior
        ``False`` when the earlier years are not refitted at all (``--freeze-past``): no year is
        discounted and earlier discounts do not apply.
    """
    if discount is not None and not 0.0 < discount <= 1.0:
        raise SpecError(f"--discount must be in (0, 1], got {discount}")
    changes = spec_changes(previous.spec, spec)
    notes = check_changes(changes, spec.source)
    before = conform_aggregates(previous.aggregates, spec)
    merged, info, merge_notes = merge_aggregates(before, new_aggregates, replace=replace)
    notes += merge_notes
    changes.update(channels_added=info["channels_added"], channels_dropped=info["channels_dropped"])
    carried = previous.manifest.get("power_prior", {}).get("discount_by_year", {})
    if not power_prior:
        carried = {}
    by_year = {}
    for year in info["previous_years"]:
        a0 = float(carried.get(str(year), carried.get(year, 1.0)))
        by_year[year] = a0 * (discount if discount is not None else 1.0)
    for year in info["new_years"]:
        by_year[year] = 1.0
    if discount is not None:
        notes.append(
            f"carrying {', '.join(map(str, info['previous_years']))} as a power prior: their "
            f"likelihood is weighted by a0 = {discount:g}"
            + (" (compounded with earlier discounts)" if carried else "")
        )
    elif any(a < 1.0 for a in by_year.values()):
        notes.append("earlier discounts (power prior) are kept as the previous fit had them")
    return RefitPlan(
        aggregates=merged,
        fit_aggregates=discount_aggregates(merged, by_year),
        spec=spec,
        previous_years=info["previous_years"],
        new_years=info["new_years"],
        replaced_years=info["replaced_years"],
        discount_by_year=by_year,
        changes=changes,
        notes=notes,
    )


def _fingerprint(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def refit(
    previous: FittedModel,
    survey: Survey,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = 0,
    discount: float | None = None,
    replace: bool = False,
    freeze: bool = False,
    progress: bool = False,
    source: str = "",
    log: Callable[[str], None] | None = None,
) -> FittedModel:
    """Fit the previous fit's years plus a new file's years.

    Parameters
    ----------
    previous
        The previous fit (a loaded artefact; its name is recorded).
    survey
        The new file, loaded and validated with the spec of the new fit.
    draws, tune, chains, seed
        NUTS settings.
    discount
        ``None``: refit on everything. A number ``a0`` in (0, 1]: carry the previous years as a
        power prior with that weight (see the module docstring), or with ``freeze`` the weight of
        the carried Gaussian prior.
    replace
        Let the new file replace years the previous fit already has.
    freeze
        Keep the past fixed: do not fit the earlier years' data again, carry the previous
        posterior as a Gaussian prior instead (:mod:`whatif.model.carry`).
    progress, source, log
        As for :func:`whatif.fitting.fit.fit_model`.

    Returns
    -------
    FittedModel
        Its ``aggregates`` are the merged, undiscounted statistics; the manifest holds ``years``,
        ``refit`` (previous model, data fingerprints, changes, notes) and, when a year
        is discounted, ``power_prior``.
    """
    from whatif.data.aggregate import aggregate
    from whatif.fitting.fit import fit_model

    say = log or (lambda _msg: None)
    if freeze:
        return _refit_frozen(
            previous,
            survey,
            discount=discount,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            progress=progress,
            source=source,
            log=say,
        )
    plan = plan_refit(previous, aggregate(survey), survey.spec, discount=discount, replace=replace)
    for note in plan.notes:
        say(note)
    previous_fp = previous.manifest.get("fingerprint", "")
    model = fit_model(
        plan.fit_aggregates,
        plan.spec,
        priors=previous.priors,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        progress=progress,
        fingerprint=_fingerprint(
            previous_fp, survey.fingerprint, str(sorted(plan.discount_by_year.items()))
        ),
        source=source,
        log=say,
    )
    _record_refit(
        model, previous, survey, plan, source, "carry-prior" if discount is not None else "append"
    )
    if any(a < 1.0 for a in plan.discount_by_year.values()) or discount is not None:
        model.manifest["power_prior"] = {
            "a0": discount if discount is not None else None,
            "discount_by_year": {str(y): a for y, a in sorted(plan.discount_by_year.items())},
        }
    return model


def _record_refit(model, previous, survey, plan, source, mode) -> None:
    """Store the merged aggregates and the refit's provenance in the new fit."""
    previous_fp = previous.manifest.get("fingerprint", "")
    model.aggregates = plan.aggregates
    manifest = model.manifest
    manifest["responses"] = int(plan.aggregates["n_total"].sum())
    manifest["complete_responses"] = int(plan.aggregates["n"].sum())
    manifest["years"] = [int(y) for y in plan.aggregates["year"].to_numpy()]
    manifest["refit"] = {
        "previous": previous.name,
        "previous_fingerprint": previous_fp,
        "previous_fit_date": previous.manifest.get("fit_date", ""),
        "previous_years": plan.previous_years,
        "new_years": plan.new_years,
        "replaced_years": plan.replaced_years,
        "new_data": source,
        "new_fingerprint": survey.fingerprint,
        "mode": mode,
        "changes": plan.changes,
        "notes": plan.notes,
    }


def _refit_frozen(previous, survey, *, discount, draws, tune, chains, seed, progress, source, log):
    """``refit(..., freeze=True)``: the new years fitted under the carried prior."""
    from whatif.data.aggregate import aggregate
    from whatif.fitting.fit import fit_model
    from whatif.fitting.frozen import frozen_posterior

    plan = plan_refit(previous, aggregate(survey), survey.spec, power_prior=False)
    changed = [
        f"{key.replace('_', ' ')}: {', '.join(map(str, plan.changes[key]))}"
        for key in (
            "channels_added",
            "channels_dropped",
            "drivers_dropped",
            "influencers_dropped",
            "paths_added",
            "paths_dropped",
        )
        if plan.changes.get(key)
    ]
    if changed:
        raise SpecError(
            f"--freeze-past carries each channel's, driver's and influencer's estimates as they "
            f"were, so it needs the previous fit's terms and channels ({'; '.join(changed)}); "
            f"refit without --freeze-past"
        )
    last = max(previous.years)
    if min(plan.new_years) < last:
        raise DataError(
            f"--freeze-past adds years after the previous fit's last year {last}, but the new file "
            f"has {min(plan.new_years)}; refit without --freeze-past"
        )
    a0 = 1.0 if discount is None else discount
    if not 0.0 < a0 <= 1.0:
        raise SpecError(f"--discount must be in (0, 1], got {a0}")
    plan.notes.append(
        f"past kept fixed: {', '.join(map(str, plan.previous_years))} not refitted; the "
        f"{last} weights, the effects, driver intercepts, noise and drift carried as a prior "
        f"with a0 = {a0:g}"
    )
    for note in plan.notes:
        log(note)
    years = [last, *plan.new_years]
    fit_aggregates = discount_aggregates(plan.aggregates.sel(year=years), {last: 0.0})
    model = fit_model(
        fit_aggregates,
        plan.spec,
        priors=previous.priors,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        progress=progress,
        source=source,
        log=log,
        carry_from=previous,
        carry_discount=a0,
        fingerprint=_fingerprint(
            previous.manifest.get("fingerprint", ""), survey.fingerprint, f"freeze {a0}"
        ),
    )
    model.posterior = frozen_posterior(previous, model.posterior, last)
    _record_refit(model, previous, survey, plan, source, "freeze-past")
    model.manifest["carried_prior"] = {
        "year": last,
        "a0": a0,
        "carried": [
            "weights (last year)",
            "effects",
            "direct",
            "driver_intercept",
            "sigma",
            "driver_sigma",
            "weight_drift",
            *(["paths"] if plan.spec.paths else []),
        ],
        "copied": [
            "weights and intercepts of earlier years",
            "intercept of the last year",
            "weight_spread",
        ],
    }
    return model
