"""The yearly refit: merging aggregates, spec changes, the power prior, the CLI and the index.

Fast tests check the merge and every refusal without sampling (a refit on merged aggregates is a
fit on all years exactly when the merged statistics equal those of all raw files, which is checked
directly). The few ``slow`` tests sample for real, tiny, with fixed seeds.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from whatif.cli import app
from whatif.data.aggregate import aggregate
from whatif.data.moments import group_means
from whatif.data.survey import validate_frame
from whatif.errors import DataError, SpecError
from whatif.fitting.artefact import load_model, save_model
from whatif.fitting.fitted import FittedModel
from whatif.fitting.merge import conform_aggregates, merge_aggregates, spec_changes
from whatif.fitting.refit import plan_refit
from whatif.fitting.registry import scan
from whatif.model.likelihood import loglik_from_stats
from whatif.model.priors import Priors
from whatif.synthetic import random_truth, simulate_survey, spec_for

MODEL_VARS = [
    "n",
    "n_total",
    "weight_sum",
    "cross",
    "driver_measured",
    "influencer_measured",
    "influencer_min",
    "influencer_max",
]


@pytest.fixture(scope="module")
def world():
    """Three years, two channels, a binary, a count and a continuous influencer."""
    truth = random_truth(n_years=3, n_influencers=3, seed=1)
    spec = spec_for(truth)
    frame = simulate_survey(truth, 300, seed=2)
    return {"truth": truth, "spec": spec, "frame": frame}


def agg_of(frame, spec):
    return aggregate(validate_frame(frame, spec))


def fake_fit(aggregates, spec, name="prev", manifest=None) -> FittedModel:
    """An artefact-shaped fit without sampling (refit reads only aggregates, spec and manifest)."""
    years = [int(y) for y in aggregates["year"].to_numpy()]
    posterior = xr.Dataset(
        {"sigma": (("chain", "draw", "channel"), np.ones((1, 4, aggregates.sizes["channel"])))},
        coords={"channel": aggregates["channel"].to_numpy()},
    )
    base = {
        "fit_date": "2026-01-01T00:00:00+00:00",
        "fingerprint": f"fp-{name}",
        "diagnostics": {
            "passed": True,
            "max_rhat": 1.0,
            "min_ess_bulk": 1000.0,
            "min_ess_tail": 1000.0,
            "divergences": 0,
        },
        "responses": int(aggregates["n_total"].sum()),
        "years": years,
    }
    return FittedModel(
        posterior, xr.Dataset(), aggregates, spec, Priors(), base | (manifest or {}), name=name
    )


# -- merging ---------------------------------------------------------------------------------


def test_merge_equals_aggregating_all_years(world):
    frame, spec = world["frame"], world["spec"]
    merged, info, notes = merge_aggregates(
        agg_of(frame[frame["year"] < 2023], spec), agg_of(frame[frame["year"] == 2023], spec)
    )
    full = agg_of(frame, spec)
    assert info["previous_years"] == [2021, 2022] and info["new_years"] == [2023]
    for var in MODEL_VARS:
        assert merged[var].dims == full[var].dims, var
        assert merged[var].dtype == full[var].dtype, var
        np.testing.assert_allclose(merged[var].to_numpy(), full[var].to_numpy(), rtol=1e-12)
    # the model sees only these; everything it derives from them is then identical
    xr.testing.assert_allclose(group_means(merged), group_means(full))
    # influencer distributions: each year keeps its own bins, with the same mean and mass
    mean = (merged["dist_share"] * merged["dist_value"].fillna(0)).sum("bin")
    np.testing.assert_allclose(
        mean, (full["dist_share"] * full["dist_value"].fillna(0)).sum("bin"), atol=1e-12
    )
    np.testing.assert_allclose(merged["dist_share"].sum("bin"), 1.0)


def test_count_bins_are_padded_not_rebinned(world):
    frame, spec = world["frame"].copy(), world["spec"]
    new = frame[frame["year"] == 2023].copy()
    new.loc[new.index[:5], "i2"] = 40  # a count far above earlier years' maximum
    old = agg_of(frame[frame["year"] < 2023], spec)
    merged, _, notes = merge_aggregates(old, agg_of(new, spec))
    count = merged.sel(influencer="i2")
    assert merged.sizes["bin"] == 256  # the continuous influencer's histogram
    for year in (2021, 2022, 2023):
        share = count["dist_share"].sel(year=year)
        value = count["dist_value"].sel(year=year)
        filled = (share > 0).to_numpy()
        bins = np.broadcast_to(value["bin"].to_numpy(), filled.shape)
        # a count's bin k holds the value k in every year
        np.testing.assert_allclose(value.to_numpy()[filled], bins[filled])
    assert float(count["dist_share"].sel(year=2023, bin=40).sum()) > 0
    assert float(count["dist_share"].sel(year=2021, bin=40).sum()) == 0
    assert any("padded" in n for n in notes) or old.sizes["bin"] == merged.sizes["bin"]


def test_a_year_already_fitted_is_an_error_unless_replaced(world):
    frame, spec = world["frame"], world["spec"]
    old = agg_of(frame[frame["year"] < 2023], spec)
    new = agg_of(frame[frame["year"] >= 2022], spec)
    with pytest.raises(DataError, match="2022 is already in the previous fit"):
        merge_aggregates(old, new)
    merged, info, notes = merge_aggregates(old, new, replace=True)
    assert info["replaced_years"] == [2022] and merged["year"].to_numpy().tolist() == [
        2021,
        2022,
        2023,
    ]
    np.testing.assert_allclose(merged["cross"].sel(year=2022), new["cross"].sel(year=2022))
    assert any("replaced year 2022" in n for n in notes)


def test_channels_added_and_dropped_are_reported(world):
    frame, spec = world["frame"], world["spec"]
    before, after = frame["year"] < 2023, frame["year"] == 2023
    ch1 = frame["channel"] == "ch1"
    merged, info, notes = merge_aggregates(
        agg_of(frame[before & ch1], spec), agg_of(frame[after], spec)
    )
    assert info["channels_added"] == ["ch2"] and not info["channels_dropped"]
    assert merged["n"].sel(channel="ch2", year=2021) == 0
    assert merged["driver_measured"].sel(channel="ch2").to_numpy().tolist() == [True, True, False]
    assert any("new channels ch2" in n for n in notes)
    merged, info, notes = merge_aggregates(
        agg_of(frame[before], spec), agg_of(frame[after & ch1], spec)
    )
    assert info["channels_dropped"] == ["ch2"] and not info["channels_added"]
    assert merged["n"].sel(channel="ch2", year=2023) == 0
    assert merged["n"].sel(channel="ch2", year=2022) > 0
    assert any("ch2 are not in the new file" in n for n in notes)


def test_a_term_newly_measured_in_a_channel_is_an_error(world):
    frame, spec = world["frame"].copy(), world["spec"]
    new = frame[frame["year"] == 2023].copy()
    new.loc[new["channel"] == "ch1", "d2"] = np.nan  # d2 no longer asked in ch1
    with pytest.raises(DataError, match="driver 'd2' is not measured in channel 'ch1'"):
        merge_aggregates(agg_of(frame[frame["year"] < 2023], spec), agg_of(new, spec))


# -- spec changes ----------------------------------------------------------------------------


def test_a_dropped_driver_is_exact_and_reported(world):
    truth, spec = world["truth"], world["spec"]
    frame = simulate_survey(truth, 300, seed=5, item_missing=0.0)  # same complete rows either way
    small = replace(spec, drivers=spec.drivers[:2])
    changes = spec_changes(spec, small)
    assert changes["drivers_dropped"] == ["d3"] and not changes["drivers_added"]
    previous = fake_fit(agg_of(frame[frame["year"] < 2023], spec), spec)
    plan = plan_refit(previous, agg_of(frame[frame["year"] == 2023], small), small)
    assert any("drivers dropped from the spec: d3" in n for n in plan.notes)
    direct = agg_of(frame, small)
    for var in ("n", "cross"):
        np.testing.assert_allclose(plan.aggregates[var], direct[var], rtol=1e-12)
    assert conform_aggregates(previous.aggregates, small)["term"].to_numpy().tolist() == [
        "intercept",
        "d1",
        "d2",
        "i1",
        "i2",
        "i3",
        "outcome",
    ]


def test_incompatible_spec_changes_are_errors_listing_all(world):
    frame, spec = world["frame"], world["spec"]
    small = replace(spec, drivers=spec.drivers[:2])
    previous = fake_fit(agg_of(frame[frame["year"] < 2023], small), small)
    inf = list(spec.influencers)
    inf[2] = replace(inf[2], kind="count")
    changed = replace(
        spec, influencers=tuple(inf[:2]) + (replace(inf[2], kind="continuous"),), scale=(0.0, 10.0)
    )
    with pytest.raises(SpecError) as err:
        plan_refit(previous, agg_of(frame[frame["year"] == 2023], changed), changed)
    assert any("drivers d3 are new" in p for p in err.value.problems)
    assert any("rating scale changed" in p for p in err.value.problems)
    previous = fake_fit(agg_of(frame[frame["year"] < 2023], spec), spec)
    kind = replace(spec, influencers=tuple(inf))
    with pytest.raises(SpecError, match="influencer 'i3' was continuous and is now count"):
        plan_refit(previous, agg_of(frame[frame["year"] == 2023], spec), kind)


# -- the power prior -------------------------------------------------------------------------


def _loglik(agg, coef, sigma):
    """Satisfaction log-likelihood in data units from (possibly discounted) statistics."""
    cross = agg["cross"].to_numpy()
    P = cross.shape[-1]
    d = np.arange(P - 1)
    return loglik_from_stats(
        agg["n"].to_numpy().astype(float),
        cross[..., P - 1, P - 1],
        cross[..., d, P - 1],
        cross[..., d[:, None], d[None, :]],
        coef,
        sigma,
    )


def test_discount_raises_the_past_likelihood_to_a0(world):
    frame, spec = world["frame"], world["spec"]
    previous = fake_fit(agg_of(frame[frame["year"] < 2023], spec), spec)
    plan = plan_refit(previous, agg_of(frame[frame["year"] == 2023], spec), spec, discount=0.4)
    assert plan.discount_by_year == {2021: 0.4, 2022: 0.4, 2023: 1.0}
    assert any("a0 = 0.4" in n for n in plan.notes)
    rng = np.random.default_rng(0)
    P = plan.aggregates.sizes["term"]
    for _ in range(3):
        coef = rng.normal(size=(2, 3, P - 1))
        sigma = rng.uniform(0.5, 2.0, size=(2, 3))
        full = _loglik(plan.aggregates, coef, sigma)
        disc = _loglik(plan.fit_aggregates, coef, sigma)
        np.testing.assert_allclose(disc[:, :2], 0.4 * full[:, :2])
        np.testing.assert_allclose(disc[:, 2], full[:, 2])
    # group means and covariances, which summaries read, do not move
    xr.testing.assert_allclose(group_means(plan.fit_aggregates), group_means(plan.aggregates))
    # a0 = 1 is the full refit
    assert plan_refit(
        previous, agg_of(frame[frame["year"] == 2023], spec), spec, discount=1.0
    ).fit_aggregates.identical(plan.aggregates)
    with pytest.raises(SpecError, match="discount must be in"):
        plan_refit(previous, agg_of(frame[frame["year"] == 2023], spec), spec, discount=1.5)


def test_discounts_compound_across_refits(world):
    frame, spec = world["frame"], world["spec"]
    previous = fake_fit(
        agg_of(frame[frame["year"] < 2023], spec),
        spec,
        manifest={"power_prior": {"a0": 0.5, "discount_by_year": {"2021": 0.5, "2022": 1.0}}},
    )
    new = agg_of(frame[frame["year"] == 2023], spec)
    assert plan_refit(previous, new, spec, discount=0.8).discount_by_year == {
        2021: 0.4,
        2022: 0.8,
        2023: 1.0,
    }
    kept = plan_refit(previous, new, spec)
    assert kept.discount_by_year == {2021: 0.5, 2022: 1.0, 2023: 1.0}
    assert any("earlier discounts" in n for n in kept.notes)


# -- command line: refusals write nothing ----------------------------------------------------


@pytest.fixture()
def files(world, tmp_path):
    """A previous (unsampled) artefact for 2021-2022 and the 2023 file, on disk."""
    frame, spec = world["frame"], world["spec"]
    models = tmp_path / "models"
    save_model(fake_fit(agg_of(frame[frame["year"] < 2023], spec), spec), models / "y12")
    (tmp_path / "spec.toml").write_text(spec.to_toml())
    frame[frame["year"] == 2023].to_csv(tmp_path / "y3.csv", index=False)
    frame[frame["year"] >= 2022].to_csv(tmp_path / "y23.csv", index=False)
    return tmp_path


def run_cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_refused(result, message, folder):
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors and message in errors[0], result.stderr
    assert "Traceback" not in result.output
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".")]
    assert not leftovers


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "no such model"),
        ("year", "2022 is already in the previous fit"),
        ("spec", "drivers d3 are new"),
        ("out_file", "not a writable folder"),
        ("out_previous", "is the previous model"),
        ("discount", "--carry-prior needs --discount"),
        ("discount_range", "--discount must be in (0, 1]"),
    ],
)
def test_refit_refusals(files, world, case, message):
    models, out = files / "models", files / "models" / "next"
    args = ["refit", models / "y12", files / "y3.csv", "--out", out]
    if case == "missing":
        args[1] = models / "nope"
    elif case == "year":
        args[2] = files / "y23.csv"
    elif case == "spec":
        small = replace(world["spec"], drivers=world["spec"].drivers[:2])
        save_model(
            fake_fit(agg_of(world["frame"][world["frame"]["year"] < 2023], small), small),
            models / "y12",
        )
        args += ["--spec", files / "spec.toml"]
    elif case == "out_file":
        (files / "plain").write_text("x")
        args[4] = files / "plain" / "next"
    elif case == "out_previous":
        args[4] = models / "y12"
    elif case == "discount":
        args.append("--carry-prior")
    elif case == "discount_range":
        args += ["--carry-prior", "--discount", "0"]
    result = run_cli(*args)
    assert_refused(result, message, models)
    assert not out.exists()
    assert sorted(p.name for p in models.iterdir()) == ["y12"]


def test_models_lists_artefacts_and_writes_the_index(files, world):
    frame, spec = world["frame"], world["spec"]
    models = files / "models"
    save_model(
        fake_fit(
            agg_of(frame, spec),
            spec,
            name="y123",
            manifest={
                "fit_date": "2026-02-01T00:00:00+00:00",
                "refit": {"mode": "carry-prior", "previous": "y12"},
                "power_prior": {"a0": 0.7, "discount_by_year": {}},
            },
        ),
        models / "y123",
    )
    (models / "broken").mkdir()
    (models / "broken" / "manifest.json").write_text("{not json")
    result = run_cli("models", "--dir", models, "--format", "json")
    assert result.exit_code == 0, result.output
    listed = {e["name"]: e for e in json.loads(result.stdout)["models"]}
    assert set(listed) == {"y12", "y123", "broken"}
    assert listed["y12"]["years"] == [2021, 2022] and listed["y12"]["kind"] == "fit"
    assert listed["y123"]["span"] == "2021-2023" and listed["y123"]["kind"] == "carry-prior"
    assert listed["y123"]["discount"] == 0.7 and listed["y123"]["previous"] == "y12"
    assert listed["broken"]["health"].startswith("damaged: manifest.json: not valid JSON")
    assert listed["broken"]["problem"]
    index = json.loads((models / "index.json").read_text())
    assert [e["name"] for e in index["models"]] == [e["name"] for e in scan(models)]
    table = run_cli("models", "--dir", models)
    assert table.exit_code == 0 and "y123" in table.stdout and "2021-2023" in table.stdout
    missing = run_cli("models", "--dir", files / "nowhere")
    assert missing.exit_code == 2 and "no such models folder" in missing.stderr


# -- real sampling ---------------------------------------------------------------------------

# Compiling the model (numba) costs far more than sampling it, so draws are cheap: 500 per chain
# give a bulk ESS in the hundreds, which the Monte Carlo tolerances below are computed from.
SAMPLER = {"draws": 500, "tune": 300, "chains": 2}


@pytest.fixture(scope="module")
def sampled(world, tmp_path_factory):
    """Fit 2021-22 for real and refit it with 2023 through the command line."""
    from whatif.fitting.fit import fit_model

    frame, spec = world["frame"], world["spec"]
    root = tmp_path_factory.mktemp("refit")
    models = root / "models"
    save_model(
        fit_model(agg_of(frame[frame["year"] < 2023], spec), spec, seed=1, **SAMPLER),
        models / "y12",
    )
    frame[frame["year"] == 2023].to_csv(root / "y3.csv", index=False)
    options = [f"--{k}={v}" for k, v in SAMPLER.items()]
    result = run_cli(
        "refit", models / "y12", root / "y3.csv", "--out", models / "y123", "--seed", 2, *options
    )
    assert result.exit_code == 0, result.output
    return {"models": models, "refit": load_model(models / "y123"), "stderr": result.stderr}


@pytest.fixture(scope="module")
def full(world):
    """The reference: one fit on the raw rows of all three years."""
    from whatif.fitting.fit import fit_model

    return fit_model(agg_of(world["frame"], world["spec"]), world["spec"], seed=3, **SAMPLER)


def _mean_sd_mcse(model, var):
    """Posterior mean, sd and Monte Carlo standard error of the mean (sd / sqrt(bulk ESS))."""
    import arviz as az

    draws = model.posterior[var]
    ess = az.ess(draws.to_dataset())[var]
    sd = draws.std(("chain", "draw"))
    return draws.mean(("chain", "draw")), sd, sd / np.sqrt(ess)


@pytest.mark.slow
def test_refit_equals_a_fit_on_all_years_within_monte_carlo_error(sampled, full):
    refitted = sampled["refit"]
    assert refitted.years == [2021, 2022, 2023]
    assert refitted.manifest["refit"]["previous"] == "y12"
    assert refitted.manifest["refit"]["new_years"] == [2023]
    for var in ("weights", "intercept", "direct", "sigma"):
        m1, sd1, e1 = _mean_sd_mcse(refitted, var)
        m2, sd2, e2 = _mean_sd_mcse(full, var)
        # Two independent runs on one posterior: their means differ by Monte Carlo error alone.
        # 4.5 MC standard errors keeps a false alarm over the ~30 figures below 1 in 10,000.
        z = float((np.abs(m1 - m2) / np.sqrt(e1**2 + e2**2)).max(skipna=True))
        ratio = float((sd1 / sd2).mean(skipna=True))
        print(f"{var}: max |z| {z:.2f}, mean sd ratio {ratio:.3f}")
        assert z < 4.5, var
        # an sd estimated from a few hundred effective draws is good to ~5%; averaged, to less
        assert abs(ratio - 1) < 0.15, var


@pytest.mark.slow
def test_carry_prior_nearly_matches_the_full_refit(world, sampled, full):
    from whatif.fitting.refit import refit

    frame, spec = world["frame"], world["spec"]
    carried = refit(
        load_model(sampled["models"] / "y12"),
        validate_frame(frame[frame["year"] == 2023], spec),
        discount=0.5,
        seed=4,
        **SAMPLER,
    )
    assert carried.manifest["power_prior"]["a0"] == 0.5
    assert carried.manifest["power_prior"]["discount_by_year"] == {
        "2021": 0.5,
        "2022": 0.5,
        "2023": 1.0,
    }
    assert carried.manifest["refit"]["mode"] == "carry-prior"
    m1, sd1, e1 = _mean_sd_mcse(carried, "weights")
    m2, sd2, e2 = _mean_sd_mcse(full, "weights")
    # (a0 = 1 gives the full refit's statistics exactly: test_discount_raises_the_past_...)
    # At a0 = 0.5 the newest year is still pinned by its own data: its weights move by well
    # under one posterior sd of the full fit (MC error included) ...
    newest = float(
        (np.abs(m1 - m2) / np.sqrt(sd2**2 + e1**2 + e2**2)).sel(year=2023).max(skipna=True)
    )
    # ... while the discounted years are less certain: their information is halved, though the
    # random walk lends them some of 2023's, so their sd grows by less than sqrt(2)
    ratio = float((sd1 / sd2).sel(year=[2021, 2022]).mean(skipna=True))
    print(f"newest-year max shift {newest:.2f} sd; discounted years' sd ratio {ratio:.3f}")
    assert newest < 1.0
    assert 1.1 < ratio < 1.5


@pytest.mark.slow
def test_compare_and_models_on_the_real_refit(sampled):
    models = sampled["models"]
    result = run_cli("compare", models / "y12", models / "y123", "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["weights_info"]["from_year"] == 2022 and out["weights_info"]["to_year"] == 2023
    assert {r["channel"] for r in out["backtest"]} == {"ch1", "ch2"}
    assert out["flagged"] == []  # an ordinary year lies within last year's forecast
    table = run_cli("compare", models / "y12", models / "y123")
    assert table.exit_code == 0 and "Backtest" in table.stdout
    listed = run_cli("models", "--dir", models, "--format", "json")
    names = [e["name"] for e in json.loads(listed.stdout)["models"]]
    assert names == ["y12", "y123"]
    assert json.loads((Path(models) / "index.json").read_text())["models"][1]["kind"] == "refit"


@pytest.mark.slow
def test_freeze_past_keeps_the_past_and_nearly_matches_the_full_refit(world, sampled, full):
    """--freeze-past: earlier years are the previous fit's samples, untouched; the new year, fitted
    from its own data under the carried Gaussian prior, lands near the refit on all years."""
    models = sampled["models"]
    root = models.parent
    options = [f"--{k}={v}" for k, v in SAMPLER.items()]
    result = run_cli(
        "refit",
        models / "y12",
        root / "y3.csv",
        "--out",
        models / "y123f",
        "--freeze-past",
        "--seed",
        5,
        *options,
    )
    assert result.exit_code == 0, result.output
    assert "past kept fixed" in result.stderr
    frozen, previous = load_model(models / "y123f"), load_model(models / "y12")
    assert frozen.years == [2021, 2022, 2023]
    assert frozen.manifest["refit"]["mode"] == "freeze-past"
    assert frozen.manifest["carried_prior"]["year"] == 2022
    assert frozen.manifest["carried_prior"]["a0"] == 1.0
    assert "power_prior" not in frozen.manifest
    for var, sel in (("weights", {"year": 2021}), ("intercept", {"year": 2022})):
        np.testing.assert_array_equal(
            frozen.posterior[var].sel(sel).values, previous.posterior[var].sel(sel).values
        )
    for var, sel in (
        ("weights", {"year": 2023}),
        ("effects", {}),
        ("direct", {}),
        ("sigma", {}),
        ("driver_intercept", {}),
        ("driver_sigma", {}),
    ):
        m1, sd1, e1 = (x.sel(sel) for x in _mean_sd_mcse(frozen, var))
        m2, sd2, e2 = (x.sel(sel) for x in _mean_sd_mcse(full, var))
        shift = float((np.abs(m1 - m2) / np.sqrt(sd2**2 + e1**2 + e2**2)).max(skipna=True))
        ratio = float((sd1 / sd2).mean(skipna=True))
        print(f"{var}: max shift {shift:.2f} sd, mean sd ratio {ratio:.3f}")
        # a Gaussian summary of the past, not the past itself: close, not equal
        assert shift < 1.0, var
        assert 0.7 < ratio < 1.4, var
    listed = {e["name"]: e for e in scan(models)}
    assert listed["y123f"]["kind"] == "freeze-past" and listed["y123f"]["discount"] == 1.0
    summary = run_cli("summary", models / "y123f")
    assert summary.exit_code == 0 and "Past kept fixed: years up to 2022" in summary.stdout
    assert frozen.manifest["responses"] == int(frozen.aggregates["n_total"].sum())
    assert frozen.manifest["responses"] > previous.manifest["responses"]
    compared = run_cli("compare", models / "y12", models / "y123f", "--format", "json")
    assert compared.exit_code == 0, compared.output
    assert json.loads(compared.stdout)["weights_info"]["basis"] == "new fit, joint posterior"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--freeze-past", "--carry-prior", "--discount", "0.5"], "choose one"),
        (["--freeze-past", "--replace"], "cannot --replace"),
        (["--discount", "0.5"], "--discount only applies"),
    ],
)
def test_freeze_past_refusals(files, flags, message):
    result = run_cli(
        "refit",
        files / "models" / "y12",
        files / "y3.csv",
        "--out",
        files / "models" / "new",
        *flags,
    )
    assert_refused(result, message, files / "models")


def test_freeze_past_refuses_a_changed_channel_set(files, world):
    frame = world["frame"]
    dropped = sorted(frame["channel"].unique())[-1]  # the first channel measures every driver
    year3 = frame[(frame["year"] == 2023) & (frame["channel"] != dropped)]
    year3.to_csv(files / "y3_fewer.csv", index=False)
    result = run_cli(
        "refit",
        files / "models" / "y12",
        files / "y3_fewer.csv",
        "--out",
        files / "models" / "new",
        "--freeze-past",
    )
    assert_refused(
        result, "needs the previous fit's terms and channels (channels dropped", files / "models"
    )
    assert not (files / "models" / "new").exists()
