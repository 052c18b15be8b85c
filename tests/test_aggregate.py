"""Sufficient statistics: equal to direct computation, mergeable, and faithful distributions."""

from __future__ import annotations

import numpy as np
import pytest

from whatif.data.aggregate import accumulate, aggregate, combine, finalize, layout_from_frame


def test_cross_products_equal_direct_weighted_sums(tiny_survey):
    _, _, spec, survey = tiny_survey
    agg = aggregate(survey)
    frame = survey.frame
    for channel in agg["channel"].to_numpy():
        for year in agg["year"].to_numpy():
            rows = frame[(frame["channel"] == channel) & (frame["year"] == year)]
            measured = [
                t
                for t in spec.driver_ids
                if bool(agg["driver_measured"].sel(channel=channel, driver=t))
            ]
            measured += [
                t
                for t in spec.influencer_ids
                if bool(agg["influencer_measured"].sel(channel=channel, influencer=t))
            ]
            rows = rows.dropna(subset=[*measured, "outcome"])
            w = rows["weight"].to_numpy()
            w = w * len(w) / w.sum()  # weights normalized to mean 1 in the group
            design = np.column_stack(
                [np.ones(len(rows))]
                + [
                    rows[t].to_numpy() if t in measured else np.zeros(len(rows))
                    for t in spec.driver_ids + spec.influencer_ids
                ]
                + [rows["outcome"].to_numpy()]
            )
            expected = (design * w[:, None]).T @ design
            got = agg["cross"].sel(channel=channel, year=year).to_numpy()
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-8)
            assert int(agg["n"].sel(channel=channel, year=year)) == len(rows)


def test_unmeasured_terms_are_zero_and_flagged(tiny_survey):
    truth, _, spec, survey = tiny_survey
    agg = aggregate(survey)
    flags = agg["driver_measured"].to_numpy()
    np.testing.assert_array_equal(flags, truth["driver_measured"].to_numpy())
    channel, driver = "ch2", spec.driver_ids[-1]
    assert not bool(agg["driver_measured"].sel(channel=channel, driver=driver))
    assert float(abs(agg["cross"].sel(channel=channel, term=driver)).max()) == 0.0


def test_blocks_combine_to_the_whole(tiny_survey):
    _, _, spec, survey = tiny_survey
    frame = survey.frame
    layout = layout_from_frame(frame, spec)
    whole = finalize(accumulate(frame, spec, layout), spec, layout)
    halves = [accumulate(frame.iloc[::2], spec, layout), accumulate(frame.iloc[1::2], spec, layout)]
    merged = finalize(combine(halves), spec, layout)
    for var in ("cross", "n", "dist_share"):
        np.testing.assert_allclose(merged[var].to_numpy(), whole[var].to_numpy(), rtol=1e-12)


def test_influencer_distributions_keep_shares_and_means(tiny_survey):
    _, _, spec, survey = tiny_survey
    agg = aggregate(survey)
    frame = survey.frame
    share, value = agg["dist_share"], agg["dist_value"]
    for inf in spec.influencer_ids:
        rows = frame[(frame["channel"] == "ch1") & (frame["year"] == agg["year"].values[0])]
        rows = rows.dropna(subset=[inf])
        w = rows["weight"].to_numpy()
        expected_mean = float(np.sum(w * rows[inf]) / w.sum())
        s = share.sel(channel="ch1", influencer=inf).isel(year=0).to_numpy()
        v = np.nan_to_num(value.sel(channel="ch1", influencer=inf).isel(year=0).to_numpy())
        assert s.sum() == pytest.approx(1.0)
        assert float((s * v).sum()) == pytest.approx(expected_mean, rel=1e-10)
