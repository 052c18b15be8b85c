"""The vectorized convergence diagnostics (whatif.fitting.convergence) are arviz-stats'
numbers: rank-normalized split R-hat, bulk and tail ESS, parameter by parameter."""

from __future__ import annotations

import numpy as np
import pytest
from arviz_stats.base import array_stats

from whatif.fitting.convergence import convergence, ess_bulk, ess_tail, rhat_rank


def _chains(seed: int, chains: int = 4, draws: int = 500) -> np.ndarray:
    """Parameters of every kind a sampler produces: mixing well, autocorrelated, chains that
    disagree, heavy tails, repeated values (ties), a constant, a stuck chain."""
    rng = np.random.default_rng(seed)
    out = []
    for phi in (0.0, 0.5, 0.9, 0.99):
        x = np.zeros((chains, draws))
        e = rng.normal(size=(chains, draws))
        for t in range(1, draws):
            x[:, t] = phi * x[:, t - 1] + e[:, t]
        out.append(x)
    out.append(rng.normal(size=(chains, draws)) + np.arange(chains)[:, None] * 0.3)
    out.append(rng.standard_t(2, size=(chains, draws)))
    out.append(np.round(rng.normal(size=(chains, draws)), 1))  # many ties
    out.append(np.full((chains, draws), 2.5))
    stuck = rng.normal(size=(chains, draws))
    stuck[0] = 0.7
    out.append(stuck)
    out.append(np.repeat(rng.normal(size=(chains, draws // 10 + 1)), 10, axis=1)[:, :draws])
    return np.stack(out)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # arviz-stats on the constant parameter
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("chains", "draws"), [(4, 500), (2, 301), (1, 200)])
def test_diagnostics_equal_arviz_stats(seed, chains, draws):
    draws_ = _chains(seed, chains, draws)
    want = {
        "rhat": array_stats.rhat(draws_),
        "bulk": array_stats.ess(draws_, method="bulk"),
        "tail": array_stats.ess(draws_, method="tail", prob=(0.05, 0.95)),
    }
    got = dict(zip(("rhat", "bulk", "tail"), convergence(draws_), strict=True))
    assert np.allclose(got["rhat"], rhat_rank(draws_), equal_nan=True)
    assert np.allclose(got["bulk"], ess_bulk(draws_), equal_nan=True)
    assert np.allclose(got["tail"], ess_tail(draws_), equal_nan=True)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-8, err_msg=name)
    if chains == 1:
        assert np.isnan(got["rhat"]).all()  # R-hat compares chains
    else:
        assert got["rhat"][4] > 1.01 and got["rhat"][0] < 1.01  # disagreeing chains flagged


def test_fit_diagnostics_cover_every_measured_parameter(tiny_model):
    """compute_diagnostics reads every parameter that is not masked, as arviz does on the
    whole posterior."""
    import arviz as az
    import xarray as xr

    from whatif.fitting.diagnostics import compute_diagnostics

    posterior, stats = tiny_model.posterior, tiny_model.sample_stats
    diag = compute_diagnostics(posterior, stats)
    tree = xr.DataTree.from_dict({"posterior": posterior})
    rhat = np.concatenate([np.ravel(v) for v in az.rhat(tree).data_vars.values()])
    bulk = az.ess(tree, method="bulk")
    bulk = np.concatenate([np.ravel(v) for v in bulk.data_vars.values()])
    assert diag["max_rhat"] == pytest.approx(np.nanmax(rhat), rel=1e-8)
    assert diag["min_ess_bulk"] == pytest.approx(np.nanmin(bulk), rel=1e-8)
