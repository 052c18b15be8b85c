"""Driver paths end to end: a fit recovers them (least squares in one group, known truth across
channels), masks them where a driver is not measured, carries them through artefacts and
``--freeze-past``, and reads an artefact from before paths as having none.

(The kernel, its gradient and the reference with paths: tests/test_density.py,
tests/test_gradients.py and tests/test_likelihood.py; the spec: tests/test_spec.py.)
"""

from __future__ import annotations

import dataclasses
import tomllib
import warnings

import numpy as np
import pytest
import xarray as xr

from whatif.data.aggregate import aggregate
from whatif.data.survey import validate_frame
from whatif.errors import SpecError
from whatif.fitting.artefact import load_model, save_model
from whatif.model.priors import Priors
from whatif.synthetic import random_truth, simulate_survey, spec_for

#: d1 -> d2, d1 -> d3 and d2 -> d3, plus d3 -> d4 where there is a d4; random_truth leaves the
#: last driver unmeasured in the second channel, so the paths into it are masked there.
PATHS = (("d2", "d1"), ("d3", "d1"), ("d3", "d2"), ("d4", "d3"))


def _world(seed: int, n: int, *, weights: bool = True, **sizes):
    sizes = {"n_influencers": 2, **sizes}
    paths = [p for p in PATHS if int(p[0][1:]) <= sizes["n_drivers"]]
    truth = random_truth(seed=seed, paths=paths, **sizes)
    missing = {} if weights else {"item_missing": 0.0, "outcome_missing": 0.0}
    frame = simulate_survey(truth, n, seed=seed, round_to_scale=False, weights=weights, **missing)
    spec = dataclasses.replace(spec_for(truth, weights=weights), scale=(-1e3, 1e3))
    return truth, frame, spec


def _fit(data, spec, priors=None, draws=300, seed=1):
    from whatif.fitting.fit import fit_model

    return fit_model(data, spec, priors=priors, draws=draws, tune=300, chains=2, seed=seed)


@pytest.fixture(scope="module")
def recovered():
    """Five channels x two years, four drivers (the last not measured in the second channel),
    four paths, ~300 responses a group: a quick fit of the first year, and the second year's
    responses for a refit."""
    truth, frame, spec = _world(seed=7, n=300, n_channels=5, n_years=2, n_drivers=4)
    first = frame[frame["year"] == 2021]
    fit = _fit(aggregate(validate_frame(first, spec)), spec)
    later = validate_frame(frame[frame["year"] == 2022], spec)
    return truth, spec, fit, later


@pytest.mark.slow
def test_one_group_paths_are_least_squares():
    """One channel, one year, no influencers, weak priors, 20k responses: the posterior means
    of the paths and driver intercepts are each driver's least squares on its sources."""
    truth, frame, spec = _world(
        seed=2, n=20_000, weights=False, n_channels=1, n_years=1, n_drivers=3, n_influencers=0
    )
    weak = Priors(
        intercept_sd=100.0,
        weight_mean_sd=100.0,
        weight_spread=10.0,
        path_mean_sd=100.0,
        path_spread=10.0,
        noise_sd=100.0,
    )
    fit = _fit(aggregate(validate_frame(frame, spec)), spec, priors=weak, draws=500)
    assert fit.diagnostics["divergences"] == 0
    paths, intercept = fit.draws("paths"), fit.draws("driver_intercept")
    for driver in ("d2", "d3"):
        sources = list(spec.driver(driver).depends_on)
        x = np.column_stack([np.ones(len(frame)), frame[sources].to_numpy()])
        ols = np.linalg.lstsq(x, frame[driver].to_numpy(), rcond=None)[0]
        for source, want in zip(sources, ols[1:], strict=True):
            post = paths.sel(channel="ch1", edge=f"{source} -> {driver}").values
            assert abs(post.mean() - want) < 0.1 * post.std() + 1e-4, (driver, source)
        post = intercept.sel(channel="ch1", driver=driver).values
        assert abs(post.mean() - ols[0]) < 0.1 * post.std() + 1e-3, driver


@pytest.mark.slow
def test_paths_are_recovered_and_masked(recovered):
    """Known truth: the 90% intervals of the 19 measured paths (five channels, four edges, the
    two touching d4 left out where d4 is not measured) cover the true paths at close to the
    nominal rate and are informative; the unmeasured ones are NaN."""
    truth, spec, fit, _ = recovered
    assert fit.diagnostics["divergences"] == 0
    draws = fit.draws("paths")
    assert list(draws["edge"].values) == ["d1 -> d2", "d1 -> d3", "d2 -> d3", "d3 -> d4"]
    assert list(draws["source"].values) == ["d1", "d1", "d2", "d3"]
    assert list(draws["target"].values) == ["d2", "d3", "d3", "d4"]
    true = truth["paths"].sel(channel=draws["channel"], edge=draws["edge"]).values
    with warnings.catch_warnings():  # masked paths: all NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = (draws.quantile(q, "sample").values for q in (0.05, 0.95))
    measured = np.isfinite(true)
    assert measured.sum() == 19
    np.testing.assert_array_equal(np.isfinite(lo), measured)
    hits = (true >= lo) & (true <= hi)
    coverage = hits[measured].mean()
    print(f"path coverage {coverage:.2f}, median width {np.median((hi - lo)[measured]):.3f}")
    assert coverage >= 0.75, coverage
    assert np.median((hi - lo)[measured]) < 0.25


def test_a_fit_without_paths_has_none(tiny_model, tmp_path):
    """Without depends_on the posterior's paths has no edges; an artefact written before paths
    existed (no paths variable) loads as having none, everything else unchanged."""
    assert tiny_model.posterior["paths"].dims == ("chain", "draw", "channel", "edge")
    assert tiny_model.posterior.sizes["edge"] == 0
    old = dataclasses.replace(
        tiny_model, posterior=tiny_model.posterior.drop_vars(["paths", "edge", "source", "target"])
    )
    loaded = load_model(save_model(old, tmp_path / "old"))
    assert loaded.posterior["paths"].shape == (2, 300, 2, 0)
    xr.testing.assert_allclose(loaded.posterior["weights"], tiny_model.posterior["weights"])


@pytest.mark.slow
def test_paths_survive_the_artefact_and_are_carried_by_freeze_past(recovered, tmp_path):
    """Paths round-trip through an artefact; --freeze-past carries them (standardized means
    that convert back to the posterior's, driver intercepts consistent with them) and refuses a
    spec whose paths changed, before any sampling."""
    from whatif.fitting.refit import refit
    from whatif.model.carry import carried_prior
    from whatif.model.inputs import prepare_inputs

    _, spec, fit, later = recovered
    loaded = load_model(save_model(fit, tmp_path / "m"))
    xr.testing.assert_identical(loaded.posterior["paths"], fit.posterior["paths"])
    assert loaded.spec.paths == spec.paths

    inputs = prepare_inputs(aggregate(later), Priors(), spec.paths)
    carried = carried_prior(loaded.posterior, inputs)
    sd, mu = inputs.std.sd[1:5], inputs.std.mean[1:5]
    mean, spread = carried["path"]
    source = np.array([s for _, s in inputs.edges])
    target = np.array([k for k, _ in inputs.edges])
    posterior = fit.posterior["paths"].mean(("chain", "draw")).values
    measured = inputs.path_mask
    np.testing.assert_allclose((mean * sd[target] / sd[source])[measured], posterior[measured])
    assert np.all(spread[measured] > 0) and np.all(mean[~measured] == 0)
    # driver intercepts: data units = mu + sd * gamma0 - effects . mu_z - paths . mu_source
    effects = fit.posterior["effects"].mean(("chain", "draw")).values
    mu_z = inputs.std.mean[5:-1]
    shift = np.zeros_like(carried["gamma0"][0])
    for e, (k, s) in enumerate(inputs.edges):
        shift[:, k] += np.nan_to_num(posterior[:, e]) * mu[s]
    intercept = mu + sd * carried["gamma0"][0] - np.nan_to_num(effects) @ mu_z - shift
    want = fit.posterior["driver_intercept"].mean(("chain", "draw")).values
    np.testing.assert_allclose(intercept[inputs.driver_mask], want[inputs.driver_mask])

    without = dataclasses.replace(
        spec,
        drivers=tuple(dataclasses.replace(d, depends_on=()) for d in spec.drivers),
    )
    later_without = dataclasses.replace(later, spec=without)
    with pytest.raises(SpecError, match=r"paths dropped: d1 -> d2, d1 -> d3, d2 -> d3, d3 -> d4"):
        refit(loaded, later_without, freeze=True)


def test_path_matrix_lays_the_edges_out_by_driver_and_source():
    from whatif.model.units import edge_coords, path_matrix, with_paths

    paths = [("d2", "d1"), ("d3", "d2")]
    draws = xr.DataArray(
        [[[0.5, 0.25], [0.4, np.nan]]],  # one draw, two channels (d3 not measured in ch2)
        dims=("draw", "channel", "edge"),
        coords={"channel": ["ch1", "ch2"]},
    ).assign_coords(edge_coords(paths))
    matrix = path_matrix(draws, ["d1", "d2", "d3"])
    assert matrix.dims == ("draw", "channel", "driver", "source")
    assert matrix.sel(channel="ch1", driver="d3", source="d2").item() == 0.25
    assert matrix.sel(channel="ch2", driver="d2", source="d1").item() == 0.4
    assert np.isnan(matrix.sel(channel="ch2", driver="d3", source="d2")).all()
    assert np.abs(matrix.sel(channel="ch1")).sum().item() == 0.75  # zero off the edges
    empty = with_paths(xr.Dataset(coords={"chain": [0], "draw": [0, 1], "channel": ["a"]}))
    assert empty["paths"].shape == (1, 2, 1, 0)
    assert path_matrix(empty["paths"], ["d1"]).shape == (1, 2, 1, 1, 1)


@pytest.mark.slow
def test_total_effects_are_recovered(recovered):
    """Known truth: each driver's total effect on satisfaction, its weight plus everything it
    moves downstream through the paths, w' (I - B)^-1 computed here from the true weights and
    paths, lies in the 90% interval of the fitted total effects at close to the nominal rate."""
    from whatif.analysis.effects import total_effects

    truth, _, fit, _ = recovered
    drivers = [str(d) for d in truth["driver"].values]
    effects = total_effects(fit).sel(year=2021)
    lo, hi = (effects.quantile(q, "sample") for q in (0.05, 0.95))
    hits = []
    for channel in effects["channel"].values:
        paths = truth["paths"].sel(channel=channel)
        b = np.zeros((len(drivers), len(drivers)))
        for edge, value in zip(paths["edge"].values, paths.values, strict=True):
            source, target = str(edge).split(" -> ")
            b[drivers.index(target), drivers.index(source)] = np.nan_to_num(value)
        w = np.nan_to_num(truth["weights"].sel(channel=channel, year=2021).values)
        true = w @ np.linalg.inv(np.eye(len(drivers)) - b)  # independent of the engine's sum
        for k, driver in enumerate(drivers):
            low, high = (
                float(lo.sel(channel=channel, driver=driver)),
                float(hi.sel(channel=channel, driver=driver)),
            )
            if np.isfinite(low):
                hits.append(low <= true[k] <= high)
    assert len(hits) == 19
    coverage = np.mean(hits)
    print(f"total-effect coverage {coverage:.2f}")
    assert coverage >= 0.75, coverage


def _unpaired_survey():
    """Two channels; d3 is asked in ch1 only (by design) and d2, blanked there, in ch2 only."""
    truth = random_truth(n_channels=2, n_years=2, n_drivers=3, n_influencers=1, seed=5)
    frame = simulate_survey(truth, 120, seed=5, round_to_scale=False)
    frame.loc[frame["channel"] == "ch1", "d2"] = np.nan
    return frame


def test_check_notes_a_path_no_channel_can_estimate(tmp_path):
    from typer.testing import CliRunner

    from whatif.cli import app
    from whatif.data.diagnose import path_notes
    from whatif.data.spec import parse_spec

    frame = _unpaired_survey()
    text = (
        '[survey]\noutcome = "overall_sat"\nscale = [-1000, 1000]\nchannel = "channel"\n'
        'year = "year"\nweight = "weight"\n'
        '[drivers.d1]\ncolumn = "d1"\n[drivers.d2]\ncolumn = "d2"\n'
        '[drivers.d3]\ncolumn = "d3"\ndepends_on = ["d1", "d2"]\n'
        '[influencers.i1]\ncolumn = "i1"\nkind = "continuous"\n'
    )
    survey = validate_frame(frame, parse_spec(tomllib.loads(text)))
    assert survey.driver_measured.to_dict() == {
        "d1": {"ch1": True, "ch2": True},
        "d2": {"ch1": False, "ch2": True},
        "d3": {"ch1": True, "ch2": False},
    }
    # d1 -> d3 is estimated in ch1; d2 -> d3 nowhere
    (note,) = path_notes(survey)
    assert "path 'd2 -> d3' (drivers.d3.depends_on) is left out in every channel" in note
    assert "'d2' (asked in: ch2) and 'd3' (asked in: ch1)" in note
    assert "remove 'd2' from drivers.d3.depends_on" in note
    assert "\n" not in note
    only_d1 = parse_spec(tomllib.loads(text.replace(', "d2"', "")))
    assert path_notes(validate_frame(frame, only_d1)) == []

    data, spec = tmp_path / "survey.csv", tmp_path / "spec.toml"
    frame.to_csv(data, index=False)
    spec.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(data), "--spec", str(spec)])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if "d2 -> d3" in line]
    assert len(notes) == 1 and notes[0].startswith("note: ") and "survey.csv" in notes[0]
    assert "d1 -> d3" not in result.output
