"""Fitting: aggregates -> compiled model -> NUTS draws (nutpie) -> a :class:`FittedModel`."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import xarray as xr

from whatif.data.spec import Spec
from whatif.fitting.compiled import compile_density
from whatif.fitting.diagnostics import compute_diagnostics
from whatif.fitting.fitted import FittedModel, package_versions
from whatif.fitting.ppc import answer_check
from whatif.interrupts import InterruptedFit
from whatif.model.inputs import prepare_inputs
from whatif.model.priors import Priors
from whatif.model.units import DATA_VARS, draws_in_data_units, edge_coords

__all__ = ["fit_model"]

SAMPLE_STATS = ["diverging", "energy", "depth", "step_size", "n_steps", "mean_tree_accept"]


def _mask_unmeasured(posterior: xr.Dataset, aggregates: xr.Dataset) -> xr.Dataset:
    dm, im = aggregates["driver_measured"], aggregates["influencer_measured"]
    out = posterior.copy()
    for var in ("weights", "driver_intercept", "driver_sigma"):
        out[var] = out[var].where(dm)
    out["direct"] = out["direct"].where(im)
    out["effects"] = out["effects"].where(dm & im)
    ends = [
        dm.transpose("channel", "driver").sel(driver=list(out[end].values)).values
        for end in ("target", "source")
    ]
    both = xr.DataArray(
        ends[0] & ends[1],
        dims=("channel", "edge"),
        coords={"channel": dm["channel"].values, "edge": out["edge"].values},
    )
    out["paths"] = out["paths"].where(both)
    return out


def _sample(nutpie, compiled, *, draws: int, tune: int, chains: int, seed: int, progress: bool):
    """Sample with nutpie; an interrupt propagates instead of returning the draws so far.

    Raises
    ------
    InterruptedFit
        If the sampler returned fewer chains or draws per chain than asked for.
    """
    # nutpie.sample(blocking=True) turns Ctrl-C into the partial trace; waiting ourselves lets the
    # interrupt (or SIGTERM's exception) through, and stops the sampler's threads
    sampler = nutpie.sample(
        compiled,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        progress_bar=progress,
        blocking=False,
    )
    try:
        trace = sampler.wait()
    except BaseException:
        sampler.cancel()
        raise
    got = dict(trace.posterior.sizes) if "posterior" in trace.children else {}
    got_chains, got_draws = got.get("chain", 0), got.get("draw", 0)
    if (got_chains, got_draws) != (chains, draws):
        raise InterruptedFit(
            message=f"the sampler stopped early: {got_chains} chains x {got_draws} draws of "
            f"{chains} x {draws}"
        )
    return trace


def fit_model(
    aggregates: xr.Dataset,
    spec: Spec,
    *,
    priors: Priors | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = 0,
    progress: bool = False,
    fingerprint: str = "",
    source: str = "",
    log: Callable[[str], None] | None = None,
    carry_from: FittedModel | None = None,
    carry_discount: float = 1.0,
) -> FittedModel:
    """Fit the hierarchical key-driver model to aggregated survey data.

    Parameters
    ----------
    aggregates
        From :func:`whatif.data.aggregate.aggregate` (or the Dask engine).
    spec
        The survey spec the aggregates were made with.
    priors
        Prior scales; defaults if ``None``.
    draws, tune, chains, seed
        NUTS settings (nutpie); ``seed`` makes the fit reproducible.
    progress
        Show nutpie's progress bar (use in a terminal).
    fingerprint, source
        Identity of the input data, recorded in the manifest.
    log
        Called with short stage messages ("compiling", "sampling", ...).
    carry_from, carry_discount
        A previous fit to carry as the prior, and its weight ``a0``: fits
        :func:`whatif.model.carry.build_anchored_model` instead of the full model (``aggregates`` then
        start with the previous fit's last year, with no responses).

    Returns
    -------
    FittedModel
    """
    import nutpie  # imported here: loading it costs a second the scenario path never needs

    priors = priors or Priors()
    say = log or (lambda _msg: None)
    timings = {}
    inputs = prepare_inputs(aggregates, priors, spec.paths)
    say("compiling the model (cached after the first run)")
    t0 = time.perf_counter()
    if carry_from is None:
        # the cached entry points of the compiled density; only the free vectors are recorded
        # (the data-unit variables are computed afterwards in NumPy)
        compiled = compile_density(inputs, priors)
    else:
        from whatif.model.carry import build_anchored_model, carried_prior

        carried = carried_prior(carry_from.posterior, inputs, carry_discount)
        model = build_anchored_model(inputs, priors, carried)
        compiled = nutpie.compile_pymc_model(model, var_names=DATA_VARS)
    timings["compile_s"] = time.perf_counter() - t0
    say(f"sampling {chains} chains x {draws} draws (+{tune} tuning)")
    t0 = time.perf_counter()
    trace = _sample(
        nutpie, compiled, draws=draws, tune=tune, chains=chains, seed=seed, progress=progress
    )
    timings["sample_s"] = time.perf_counter() - t0
    say("summarizing the draws and checking convergence")
    recorded_draws = trace.posterior.to_dataset()
    if carry_from is None:
        recorded_draws = draws_in_data_units(inputs, priors, recorded_draws)
    recorded_draws = recorded_draws.assign_coords(edge_coords(inputs.paths))
    posterior = _mask_unmeasured(recorded_draws[DATA_VARS], aggregates)
    stats = trace.sample_stats.to_dataset()
    sample_stats = stats[[v for v in SAMPLE_STATS if v in stats]]
    diagnostics = compute_diagnostics(posterior, sample_stats)
    diagnostics.update(answer_check(posterior, aggregates))
    diagnostics["passed"] = diagnostics["passed"] and diagnostics.get("ppc_passed", True)
    diagnostics["likelihood"] = aggregates.attrs.get("outcome_likelihood", "linear")
    manifest = {
        "fit_date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "fingerprint": fingerprint,
        "source": source,
        "sampler": {
            "draws": draws,
            "tune": tune,
            "chains": chains,
            "seed": seed,
        },
        "timings": timings,
        "diagnostics": diagnostics,
        "versions": package_versions(),
        "responses": int(aggregates["n_total"].sum()),
        "complete_responses": int(aggregates["n"].sum()),
    }
    return FittedModel(posterior, sample_stats, aggregates, spec, priors, manifest)
