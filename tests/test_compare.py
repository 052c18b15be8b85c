"""compare: weight movement, rank changes and the backtest, on fits whose truth is known.

The fits here are synthetic: posterior draws are the simulation's true parameters plus a little
Gaussian noise, so every figure compare reports has a known answer and no sampling is needed.
(The real-sampling end-to-end run is in ``test_refit.py``.)
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from whatif.analysis.compare import backtest, compare, rank_changes, weight_changes
from whatif.data.aggregate import aggregate
from whatif.data.survey import validate_frame
from whatif.fitting.fitted import FittedModel
from whatif.model.priors import Priors
from whatif.synthetic import random_truth, simulate_survey, spec_for

CHAINS, DRAWS = 2, 200
NOISE = 0.005  # posterior sd of the synthetic weights
DRIFT = 0.02  # synthetic weight_drift (data units)


def synthetic_fit(truth, aggregates, spec, *, seed=0, weights=None, name="fit") -> FittedModel:
    """A FittedModel whose draws are ``truth`` (over the aggregates' years) plus small noise."""
    rng = np.random.default_rng(seed)
    years = [int(y) for y in aggregates["year"].to_numpy()]
    t = truth.sel(year=years)
    if weights is not None:
        t = t.assign(weights=weights.sel(year=years))

    def draws(da: xr.DataArray, sd: float) -> xr.DataArray:
        noise = sd * rng.standard_normal((CHAINS, DRAWS, *da.shape))
        return xr.DataArray(
            da.to_numpy()[None, None] + noise,
            dims=("chain", "draw", *da.dims),
            coords={d: da[d].to_numpy().astype(str) if d != "year" else years for d in da.dims},
        )

    posterior = xr.Dataset(
        {
            "weights": draws(t["weights"], NOISE),
            "direct": draws(t["direct"], NOISE),
            "effects": draws(t["effects"], NOISE),
            "intercept": draws(t["intercept"], NOISE),
            "driver_intercept": draws(t["driver_intercept"], NOISE),
            "sigma": np.abs(draws(t["sigma"], 0.001)),
            "driver_sigma": draws(t["driver_sigma"], 0.001),
            "weight_drift": np.abs(
                draws(
                    xr.DataArray(
                        np.full(t.sizes["driver"], DRIFT),
                        dims="driver",
                        coords={"driver": t["driver"]},
                    ),
                    0.001,
                )
            ),
        }
    )
    manifest = {
        "fit_date": f"2026-01-0{seed + 1}T00:00:00+00:00",
        "fingerprint": f"synthetic{seed}",
        "diagnostics": {
            "passed": True,
            "max_rhat": 1.0,
            "min_ess_bulk": 1000.0,
            "min_ess_tail": 1000.0,
            "divergences": 0,
        },
        "responses": int(aggregates["n_total"].sum()),
    }
    return FittedModel(posterior, xr.Dataset(), aggregates, spec, Priors(), manifest, name=name)


@pytest.fixture(scope="module")
def world():
    """Three years of a known truth; d1 in ch1 rises by 0.3 from 2022 to 2023 in the 'new' fit."""
    truth = random_truth(n_years=3, seed=3)
    # unrounded answers (on a scale wide enough for them): the truth's linear mean is then exactly
    # the data's expected mean
    spec = replace(spec_for(truth), scale=(-20.0, 30.0))
    frame = simulate_survey(truth, 3000, seed=4, round_to_scale=False)
    old_agg = aggregate(validate_frame(frame[frame["year"] < 2023], spec))
    new_agg = aggregate(validate_frame(frame, spec))
    moved = truth["weights"].copy()
    moved.loc[{"channel": "ch1", "year": 2023, "driver": "d1"}] += 0.3
    old = synthetic_fit(truth, old_agg, spec, seed=0, name="old")
    new = synthetic_fit(truth, new_agg, spec, seed=1, weights=moved, name="new")
    return {"truth": truth, "spec": spec, "frame": frame, "old": old, "new": new, "moved": moved}


def test_weight_change_figures_match_the_known_drift(world):
    rows, info = weight_changes(world["old"], world["new"], ci=0.9)
    assert info == {"from_year": 2022, "to_year": 2023, "basis": "new fit, joint posterior"}
    by = {(r["channel"], r["driver"]): r for r in rows}
    # ch2 does not measure d3, so it has no row
    assert set(by) == {("ch1", "d1"), ("ch1", "d2"), ("ch1", "d3"), ("ch2", "d1"), ("ch2", "d2")}
    moved = world["moved"]
    for (c, k), row in by.items():
        true_change = float(moved.sel(channel=c, driver=k, year=2023)) - float(
            moved.sel(channel=c, driver=k, year=2022)
        )
        # the difference of two draws with sd NOISE has sd NOISE*sqrt(2); 4 sd covers 5 figures
        assert row["change"] == pytest.approx(
            true_change, abs=4 * NOISE * np.sqrt(2) / np.sqrt(400)
        )
        assert row["lo"] < row["change"] < row["hi"]
        if abs(true_change) > 6 * NOISE:
            assert row["p_rose"] == (1.0 if true_change > 0 else 0.0)
    assert by[("ch1", "d1")]["p_rose"] == 1.0
    assert by[("ch1", "d1")]["change"] == pytest.approx(
        0.3
        + float(
            world["truth"]["weights"].sel(channel="ch1", driver="d1", year=2023)
            - world["truth"]["weights"].sel(channel="ch1", driver="d1", year=2022)
        ),
        abs=0.002,
    )
    # the old fit's own estimate of the last common year is reported alongside
    assert by[("ch1", "d2")]["previous_estimate"] == pytest.approx(
        float(world["truth"]["weights"].sel(channel="ch1", driver="d2", year=2022)), abs=0.002
    )


def test_rank_change_when_a_driver_overtakes(world):
    rows = rank_changes(world["old"], world["new"])
    by = {(r["channel"], r["driver"]): r for r in rows}
    before = world["truth"]["weights"].sel(channel="ch1", year=2022)
    assert float(before.sel(driver="d1")) < float(before.sel(driver="d2"))  # the setup
    assert by[("ch1", "d1")]["rank_after"] == 1
    assert by[("ch1", "d1")]["rank_change"] == by[("ch1", "d1")]["rank_before"] - 1 > 0
    assert {r["rank_after"] for r in rows if r["channel"] == "ch2"} == {1, 2}
    for c in ("ch1", "ch2"):
        shares = [r["share_after"] for r in rows if r["channel"] == c]
        assert sum(shares) == pytest.approx(1.0)


def test_backtest_covers_an_ordinary_year(world):
    rows, info = backtest(world["old"], world["new"].aggregates, ci=0.9)
    assert info["year"] == 2023 and info["from_year"] == 2022 and info["horizon"] == 1
    assert [r["channel"] for r in rows] == ["ch1", "ch2"]
    for row in rows:
        assert row["inside"] and row["flag"] == ""
        assert abs(row["z"]) < 3
        assert row["lo"] < row["forecast"] < row["hi"]
        # the interval is at least the sampling noise of a group mean
        sigma = float(world["truth"]["sigma"].sel(channel=row["channel"]))
        assert row["sd"] >= 0.9 * sigma / np.sqrt(row["n"])


def test_backtest_flags_a_year_shifted_by_one_and_a_half_points(world):
    frame = world["frame"].copy()
    shifted = frame["year"] == 2023
    frame.loc[shifted, "overall_sat"] += 1.5
    new_agg = aggregate(validate_frame(frame, world["spec"]))
    rows, _ = backtest(world["old"], new_agg, ci=0.9)
    for row in rows:
        assert row["flag"] == "OUTSIDE" and not row["inside"]
        assert row["observed"] > row["hi"]
        assert row["z"] > 5


def test_compare_bundles_everything_and_flags_channels(world):
    frame = world["frame"].copy()
    frame.loc[(frame["year"] == 2023) & (frame["channel"] == "ch2"), "overall_sat"] += 1.5
    new = synthetic_fit(
        world["truth"],
        aggregate(validate_frame(frame, world["spec"])),
        world["spec"],
        seed=1,
        weights=world["moved"],
        name="new",
    )
    result = compare(world["old"], new)
    assert result["flagged"] == ["ch2"]
    assert result["old"]["years"] == [2021, 2022] and result["new"]["years"] == [2021, 2022, 2023]
    assert result["new"]["discount"] == {"a0": None, "discount_by_year": {}}
    assert result["weights"] and result["ranks"] and len(result["backtest"]) == 2
    assert result["notes"] == []


def test_same_final_year_compares_the_two_fits_and_skips_the_backtest(world):
    result = compare(world["new"], world["new"])
    assert result["weights_info"]["basis"] == "old fit vs new fit, same year"
    assert result["backtest"] == [] and result["flagged"] == []
    assert any("no backtest" in note for note in result["notes"])
