"""KPI feeds: aggregated feeds and per-contact logs (pandas and Dask), periods, and every bad
input as one line naming the file, column and row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from whatif.data.kpi_blocks import period_key, period_year
from whatif.data.kpis import load_kpis, read_kpi_frame
from whatif.data.spec import load_spec
from whatif.errors import DataError, WhatifError

CHANNELS = [
    "ivr_routing",
    "ivr_self_service",
    "phone_customer_service",
    "phone_tech_support",
    "web_self_service",
]


@pytest.fixture(scope="module")
def spec(demo_paths):
    return load_spec(demo_paths["spec"])


def feed(**columns) -> pd.DataFrame:
    base = {
        "period": ["2026-01", "2026-01", "2026-02"],
        "channel": ["web_self_service", "ivr_self_service", "web_self_service"],
        "outage": [0.05, 0.06, np.nan],
        "ivr_prompts": [np.nan, 3.2, np.nan],
        "contacts": [100, 50, 80],
    }
    base.update(columns)
    return pd.DataFrame({k: v for k, v in base.items() if v is not None})


def problems(frame: pd.DataFrame, spec) -> list[str]:
    with pytest.raises(WhatifError) as err:
        read_kpi_frame(frame, spec, CHANNELS, source="feed.csv")
    assert all("\n" not in p for p in err.value.problems)
    return err.value.problems


def test_an_aggregated_feed_keeps_its_rows_periods_and_contacts(spec):
    result = read_kpi_frame(feed(), spec, CHANNELS, source="feed.csv")
    assert result.periods == ("2026-01", "2026-02")
    assert result.contact_rows is None
    assert result.influencers == ["ivr_prompts", "outage"]  # spec order
    assert result.values.loc[("2026-01", "ivr_self_service"), "ivr_prompts"] == 3.2
    assert np.isnan(result.values.loc[("2026-02", "web_self_service"), "outage"])
    assert result.contacts[("2026-01", "web_self_service")] == 100


def test_channel_spellings_differing_in_case_or_spaces_are_read_as_the_models(spec):
    frame = feed(channel=["Web_Self_Service ", "ivr_self_service", "web_self_service"])
    result = read_kpi_frame(frame, spec, CHANNELS, source="feed.csv")
    assert result.channels == ["web_self_service", "ivr_self_service"]
    assert "'Web_Self_Service ' -> 'web_self_service'" in result.notes[0]


def test_a_per_contact_log_is_averaged_and_its_rows_counted(spec):
    rng = np.random.default_rng(0)
    n = 600
    log = pd.DataFrame(
        {
            "period": rng.choice(["2026-03", "2026-01", "2026-02"], n),
            "channel": rng.choice(["ivr_self_service", "ivr_routing"], n),
            "outage": rng.integers(0, 2, n),
            "ivr_prompts": rng.poisson(3.0, n),
        }
    )
    result = read_kpi_frame(log, spec, CHANNELS, source="log.csv")
    assert result.periods == ("2026-01", "2026-02", "2026-03")  # dates are sorted in a log
    assert result.contact_rows == n
    expected = log.groupby(["period", "channel"])[["ivr_prompts", "outage"]].mean()
    got = result.values.sort_index()
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy())
    counts = log.groupby(["period", "channel"]).size()
    np.testing.assert_array_equal(result.contacts.sort_index().to_numpy(), counts.to_numpy())
    assert "a per-contact log of 600 rows" in result.notes[0]


def test_a_log_in_parquet_partitions_reads_the_same_on_dask(spec, tmp_path):
    rng = np.random.default_rng(1)
    frames = []
    folder = tmp_path / "log"
    folder.mkdir()
    for part in range(3):
        frame = pd.DataFrame(
            {
                "period": rng.choice(["2026-01", "2026-02"], 200),
                "channel": "web_self_service",
                "outage": rng.integers(0, 2, 200).astype(float),
            }
        )
        frame.to_parquet(folder / f"part-{part}.parquet", index=False)
        frames.append(frame)
    on_dask = load_kpis(folder, spec, CHANNELS)
    on_pandas = read_kpi_frame(pd.concat(frames, ignore_index=True), spec, CHANNELS)
    pd.testing.assert_frame_equal(on_dask.values, on_pandas.values)
    assert on_dask.contact_rows == 600


def test_a_problem_in_a_later_partition_names_its_row_in_the_whole_dataset(spec, tmp_path):
    folder = tmp_path / "log"
    folder.mkdir()
    for part in range(2):
        outage = [0.0, 1.0, 0.5] if part == 1 else [0.0, 1.0, 1.0]
        frame = pd.DataFrame({"period": "2026-01", "channel": "web_self_service", "outage": outage})
        frame.to_parquet(folder / f"part-{part}.parquet", index=False)
    with pytest.raises(DataError) as err:
        load_kpis(folder, spec, CHANNELS)
    (message,) = err.value.problems
    assert "column 'outage': 1 row with a value neither 0 nor 1, e.g. row 6 has 0.5" in message


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (
            {"outages": [0.1, 0.1, 0.1], "outage": None},
            "column 'outages' is not an influencer of the model (did you mean 'outage'?)",
        ),
        ({"timeliness": [7, 7, 7]}, "'timeliness' is a driver"),
        (
            {"channel": ["web_selfservice", "web_self_service", "web_self_service"]},
            "channel 'web_selfservice', not a channel of the model, e.g. row 1 has 'web_selfservice'; did you mean 'web_self_service'?",
        ),
        (
            {"period": ["2026-01", "", "2026-02"]},
            "column 'period': 1 row with no period, e.g. row 2",
        ),
        (
            {"period": ["2026-13", "2026-01", "2026-02"]},
            "bad period (month must be 1-12), e.g. row 1 has '2026-13'",
        ),
        (
            {"period": ["2026-01", "2026-W05", "2026-02"]},
            "row 2 writes a period as YYYY-Www, but the feed starts with periods written as YYYY-MM",
        ),
        (
            {"outage": [0.05, "n/a", 0.1]},
            "column 'outage': 1 row with a value that is not a number, e.g. row 2 has 'n/a'",
        ),
        (
            {"outage": [1.5, 0.1, 0.1]},
            "column 'outage': 1 row with a share outside 0-1, e.g. row 1 has 1.5",
        ),
        (
            {"ivr_prompts": [np.nan, -1.0, np.nan]},
            "column 'ivr_prompts': 1 row with a negative count",
        ),
        (
            {"contacts": [100, -5, 80]},
            "column 'contacts': 1 row without a number of contacts (0 or more)",
        ),
        ({"period": None}, "no 'period' column"),
        ({"channel": None}, "no 'channel' column"),
        ({"outage": None, "ivr_prompts": None}, "no influencer column"),
        ({"period": ["2026-01"] * 3, "channel": ["web_self_service"] * 3}, "3 rows with channel"),
    ],
    ids=[
        "unknown-column",
        "driver-column",
        "unknown-channel",
        "blank-period",
        "bad-period",
        "mixed-period-forms",
        "not-a-number",
        "share-outside-0-1",
        "negative-count",
        "negative-contacts",
        "no-period-column",
        "no-channel-column",
        "no-kpi-column",
        "duplicates-with-contacts",
    ],
)
def test_bad_feeds_are_one_line_errors_naming_file_and_column(spec, columns, expected):
    if expected == "3 rows with channel":  # duplicates in a feed with contacts
        expected = "1 period-channel pairs have more than one row (e.g. period 2026-01, channel web_self_service, first at row 1)"
    found = problems(feed(**columns), spec)
    assert any(expected in p for p in found), found
    assert all(p.startswith("feed.csv: ") for p in found)


def test_a_missing_file_and_an_empty_feed_are_one_line_errors(spec, tmp_path):
    with pytest.raises(DataError, match=r"kpis.csv: KPI feed not found"):
        load_kpis(tmp_path / "kpis.csv", spec, CHANNELS)
    (tmp_path / "empty.csv").write_text("period,channel,outage\n")
    with pytest.raises(DataError, match=r"empty.csv: the feed has a header but no rows"):
        load_kpis(tmp_path / "empty.csv", spec, CHANNELS)
    with pytest.raises(WhatifError, match="--engine must be one of auto, pandas, dask"):
        load_kpis(tmp_path / "empty.csv", spec, CHANNELS, engine="spark")


def test_periods_written_as_dates_are_read_and_checked():
    assert period_key("2026-03") == ("YYYY-MM", (2026, 3))
    assert period_key("2026-W14") == ("YYYY-Www", (2026, 14))
    assert period_key("2026-Q2") == ("YYYY-Qn", (2026, 2))
    assert period_key("2026-03-31") == ("YYYY-MM-DD", (2026, 3, 31))
    assert period_key("March") is None
    for bad in ("2026-13", "2026-W54", "2026-Q5", "2026-04-31"):
        with pytest.raises(ValueError):
            period_key(bad)
    assert period_year("2026-W14") == 2026 and period_year("spring") is None


def test_the_committed_demo_feed_is_the_generators(demo_paths, spec, tmp_path):
    from whatif.synthetic.files import load_truth
    from whatif.synthetic.kpis import write_demo_kpis

    paths = write_demo_kpis(tmp_path, load_truth(demo_paths["truth"]))
    committed = demo_paths["survey"].parent
    assert paths["kpis"].read_bytes() == (committed / "kpis.csv").read_bytes()
    assert paths["alerts"].read_bytes() == (committed / "alerts.toml").read_bytes()
    demo = load_kpis(committed / "kpis.csv", spec, CHANNELS)
    assert len(demo.periods) == 18 and sorted(demo.channels) == CHANNELS
    outage = demo.values["outage"].xs("web_self_service", level="channel")
    assert outage.idxmax() == "2026-02" and outage.max() > 3 * outage.drop("2026-02").max()
    prompts = demo.values["ivr_prompts"].xs("ivr_self_service", level="channel")
    assert prompts.loc["2026-05":].max() < prompts.loc[:"2026-04"].min()  # the IVR redesign
