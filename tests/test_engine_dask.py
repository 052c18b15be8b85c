"""The Dask engine: same aggregates and same validation messages as the pandas path.

The demo survey is written as a folder of unevenly sized Parquet parts (zero-padded names, so
pandas and Dask read the rows in the same order and row numbers in messages agree). One local
dask.distributed cluster of two worker processes serves the whole module and is closed at its end.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

from whatif.data import engine_dask
from whatif.data.aggregate import aggregate
from whatif.data.engine_dask import aggregate_parquet
from whatif.data.readers import is_parquet_dataset
from whatif.data.spec import load_spec
from whatif.data.survey import load_survey
from whatif.errors import DataError, WhatifError
from whatif.synthetic import write_demo

N_DEMO = 20_000
CUTS = [0, 1_500, 6_000, 6_100, 11_000, 17_500]  # uneven parts, one of only 100 rows
RTOL = 1e-9


def write_parts(frame: pd.DataFrame, folder: Path, cuts: list[int] = CUTS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    bounds = [*cuts, len(frame)]
    for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        frame.iloc[lo:hi].to_parquet(folder / f"part-{i:03d}.parquet", index=False)
    return folder


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("demo")
    paths = write_demo(root / "demo", seed=11, n=N_DEMO)
    frame = pd.read_parquet(paths["survey"])
    return {
        "frame": frame,
        "spec_path": paths["spec"],
        "spec": load_spec(paths["spec"]),
        "folder": write_parts(frame, root / "lake"),
        "root": root,
    }


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        memory_limit="2GiB",
    ) as local:
        yield local


def assert_same(got: xr.Dataset, want: xr.Dataset) -> None:
    assert set(got.data_vars) == set(want.data_vars)
    assert got.coords.to_dataset().identical(want.coords.to_dataset())
    assert got.attrs == want.attrs
    for name in want.data_vars:
        a, b = got[name].to_numpy(), want[name].to_numpy()
        assert a.dtype == b.dtype, name
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=0, equal_nan=True, err_msg=name)
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)


def pandas_problems(folder: Path, spec) -> list[str]:
    with pytest.raises(DataError) as err:
        load_survey(folder, spec)
    return err.value.problems


def dask_problems(folder: Path, spec, **kwargs) -> list[str]:
    with pytest.raises(DataError) as err:
        aggregate_parquet(folder, spec, **kwargs)
    return err.value.problems


@pytest.fixture(scope="module")
def reference(demo) -> tuple:
    survey = load_survey(demo["folder"], demo["spec"])
    return survey, aggregate(survey)


def test_demo_has_what_the_comparison_needs(demo):
    frame = demo["frame"]
    assert frame["weight"].std() > 0.1  # real survey weights
    assert frame["ivr_clarity"].isna().groupby(frame["channel"]).all().any()  # missing by design
    assert frame[demo["spec"].outcome].isna().any()  # rows dropped for a missing outcome
    assert len(list(demo["folder"].glob("*.parquet"))) == len(CUTS)


def test_matches_pandas_on_local_threads(demo, reference):
    survey, want = reference
    got, profile = aggregate_parquet(demo["folder"], demo["spec"])
    assert_same(got, want)
    assert profile["responses"] == len(survey.frame)
    assert profile["dropped_missing_outcome"] == survey.dropped_missing_outcome > 0
    assert profile["fingerprint"] == survey.fingerprint
    assert profile["partitions"] == len(CUTS)
    counts = survey.profile()["counts"]
    pd.testing.assert_frame_equal(profile["counts"], counts, check_names=False)


def test_matches_pandas_on_a_cluster(demo, reference, cluster):
    got, profile = aggregate_parquet(
        demo["folder"], demo["spec"], scheduler=cluster.scheduler_address
    )
    assert_same(got, reference[1])
    assert profile["fingerprint"] == reference[0].fingerprint


def test_glob_and_hive_folders(demo, reference):
    got, _ = aggregate_parquet(str(demo["folder"] / "part-*.parquet"), demo["spec"])
    assert_same(got, reference[1])
    hive = demo["root"] / "hive"
    demo["frame"].to_parquet(hive, partition_cols=["year"], index=False)
    got, _ = aggregate_parquet(hive, demo["spec"])
    assert_same(got, aggregate(load_survey(hive, demo["spec"])))


def test_empty_part_and_part_without_outcomes(demo, tmp_path):
    frame = demo["frame"].copy()
    frame.loc[6_000:6_099, demo["spec"].outcome] = np.nan  # the 100-row part: every row dropped
    folder = write_parts(frame, tmp_path / "gaps")
    frame.iloc[:0].to_parquet(folder / "part-100.parquet", index=False)  # no rows at all
    survey = load_survey(folder, demo["spec"])
    got, profile = aggregate_parquet(folder, demo["spec"])
    assert_same(got, aggregate(survey))
    assert profile["dropped_missing_outcome"] == survey.dropped_missing_outcome >= 100


def test_unweighted_spec_matches(demo, tmp_path):
    text = Path(demo["spec_path"]).read_text().replace('weight = "weight"\n', "")
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text(text)
    spec = load_spec(spec_path)
    assert spec.weight is None
    got, _ = aggregate_parquet(demo["folder"], spec)
    assert_same(got, aggregate(load_survey(demo["folder"], spec)))
    assert got.attrs["weighted"] == 0


def broken_lake(demo, tmp_path: Path) -> Path:
    """Bad values spread over parts: counts must add up, the first example must win."""
    frame = demo["frame"].copy()
    frame["timeliness"] = frame["timeliness"].astype("string")  # text in every part's schema
    frame.loc[[2_000, 12_000], "timeliness"] = "n/a"  # parts 1 and 4
    frame.loc[[1_600, 6_050, 6_070, 16_000], "accuracy"] = 11.0  # parts 1, 2 (twice) and 4
    frame.loc[6_020, "contacts_to_resolve"] = -1.0  # the 100-row part only
    frame.loc[[500, 19_000], "weight"] = 0.0  # parts 0 and 5
    frame.loc[[7, 8, 9], "outage"] = 3.0  # binary influencer, part 0
    return write_parts(frame, tmp_path / "broken")


def test_bad_rows_give_the_pandas_messages_with_counts(demo, tmp_path):
    folder = broken_lake(demo, tmp_path)
    want = pandas_problems(folder, demo["spec"])
    got = dask_problems(folder, demo["spec"])
    assert got == want
    assert len(got) == 5
    accuracy = next(p for p in got if "'accuracy'" in p)
    assert ": 4 rows " in accuracy and "e.g. row 1601 has 11.0;" in accuracy
    timeliness = next(p for p in got if "'timeliness'" in p)
    assert ": 2 rows " in timeliness and "e.g. row 2001 has 'n/a';" in timeliness


def test_bad_rows_on_a_cluster(demo, tmp_path, cluster):
    folder = broken_lake(demo, tmp_path)
    got = dask_problems(folder, demo["spec"], scheduler=cluster.scheduler_address)
    assert got == pandas_problems(folder, demo["spec"])


def test_missing_channel_and_single_row_problem(demo, tmp_path):
    frame = demo["frame"].copy()
    frame.loc[[3_000, 15_000, 15_001], "channel"] = None
    frame.loc[9_000, "knowledge"] = -1.0  # one row off the 0-10 scale: "1 row with ..."
    folder = write_parts(frame, tmp_path / "nochannel")
    got = dask_problems(folder, demo["spec"])
    assert got == pandas_problems(folder, demo["spec"])
    assert any("3 rows have no channel, e.g. row 3001" in p for p in got)
    assert any("'knowledge': 1 row " in p and "e.g. row 9001 has -1.0;" in p for p in got)


def test_group_level_problems_match(demo, tmp_path):
    frame = demo["frame"]
    # one small group left with a handful of rows, and an influencer empty everywhere
    small = (frame["channel"] == "ivr_routing") & (frame["year"] == 2023)
    frame = pd.concat([frame[~small], frame[small].head(12)], ignore_index=True)
    frame = frame.sort_values(["year", "channel"], kind="stable").reset_index(drop=True)
    frame["outage"] = np.nan
    folder = write_parts(frame, tmp_path / "groups")
    got = dask_problems(folder, demo["spec"], min_group=40)
    assert got == pandas_problems_min(folder, demo["spec"], 40)
    assert any("channel 'ivr_routing', year 2023 has only" in p for p in got)
    assert any("'outage' is empty in every row of every channel" in p for p in got)


def pandas_problems_min(folder: Path, spec, min_group: int) -> list[str]:
    with pytest.raises(DataError) as err:
        load_survey(folder, spec, min_group=min_group)
    return err.value.problems


def test_missing_column_and_bad_paths(demo, tmp_path):
    folder = write_parts(demo["frame"].drop(columns=["outage"]), tmp_path / "nocol")
    assert dask_problems(folder, demo["spec"]) == pandas_problems(folder, demo["spec"])
    with pytest.raises(DataError, match="file not found"):
        aggregate_parquet(tmp_path / "nowhere", demo["spec"])
    with pytest.raises(DataError, match="no file matches"):
        aggregate_parquet(str(tmp_path / "nowhere" / "*.parquet"), demo["spec"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no .parquet files"):
        aggregate_parquet(empty, demo["spec"])
    (tmp_path / "survey.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="reads Parquet"):
        aggregate_parquet(tmp_path / "survey.csv", demo["spec"])
    corrupt = tmp_path / "corrupt"
    write_parts(demo["frame"], corrupt)
    (corrupt / "part-009.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="cannot read"):
        aggregate_parquet(corrupt, demo["spec"])


def test_unreachable_scheduler(demo, monkeypatch):
    monkeypatch.setattr(engine_dask, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(WhatifError, match="cannot reach the Dask scheduler"):
        aggregate_parquet(demo["folder"], demo["spec"], scheduler="tcp://127.0.0.1:9")


@pytest.mark.parametrize(
    "values",
    [
        pd.Series([0.0, 1.0, np.nan, 1.0]),
        pd.Series([0, 1, 1]),
        pd.Series([0.0, -0.0, 1.0]),
        pd.Series([0.0, 2.0, np.nan]),
        pd.Series([True, False]),
        pd.Series(["yes", "NO", None, "maybe"]),
        pd.Series([1, 0, None], dtype="Int64"),
        pd.Series([0.0, 1.0], dtype="float32"),
    ],
)
def test_binary_shortcut_is_check_binary(values):
    from whatif.data.validate import binary_values, check_binary

    got, got_msg = binary_values(values, "c", "w")
    want, want_msg = check_binary(values, "c", "w")
    pd.testing.assert_series_equal(got, want)
    assert got_msg == want_msg


def test_is_parquet_dataset(demo, tmp_path):
    assert is_parquet_dataset(demo["folder"])
    assert is_parquet_dataset(str(demo["folder"] / "*.parquet"))
    assert not is_parquet_dataset(demo["folder"] / "part-000.parquet")
    assert not is_parquet_dataset(tmp_path / "survey.csv")


def test_auto_engine_reads_small_folders_whole_and_large_ones_on_dask(demo, monkeypatch):
    """``--engine auto``: pandas for a folder that fits in memory, Dask for a glob or a folder of
    more than PANDAS_MAX_ROWS rows (counted from the Parquet footers, not read)."""
    from whatif.data import readers

    rows = sum(len(pd.read_parquet(f)) for f in demo["folder"].glob("*.parquet"))
    assert not readers.prefers_dask(demo["folder"])
    assert readers.prefers_dask(str(demo["folder"] / "*.parquet"))
    assert not readers.prefers_dask(demo["folder"] / "part-000.parquet")
    monkeypatch.setattr(readers, "PANDAS_MAX_ROWS", rows - 1)
    assert readers.prefers_dask(demo["folder"])


def test_cli_reports_bad_partition_and_exits_2(demo, tmp_path):
    from whatif.cli import app

    folder = broken_lake(demo, tmp_path)
    args = ["fit", str(folder), "--spec", str(demo["spec_path"]), "--out", str(tmp_path / "m")]
    result = CliRunner().invoke(app, [*args, "--engine", "dask"])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert errors == [f"error: {p}" for p in pandas_problems(folder, demo["spec"])]
    assert not (tmp_path / "m").exists()
    result = CliRunner().invoke(app, [*args, "--engine", "spark"])
    assert result.exit_code == 2 and "--engine must be one of" in result.output


@pytest.mark.slow
def test_cli_fit_end_to_end_with_dask(demo, tmp_path):
    from whatif.cli import app

    out = tmp_path / "model"
    result = CliRunner().invoke(
        app,
        [
            "fit",
            str(demo["folder"]),
            "--spec",
            str(demo["spec_path"]),
            "--out",
            str(out),
            "--engine",
            "dask",
            "--draws",
            "100",
            "--tune",
            "100",
            "--chains",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "with dask" in result.output
    manifest = json.loads(next(out.glob("manifest.json")).read_text())
    assert manifest["fingerprint"] == load_survey(demo["folder"], demo["spec"]).fingerprint
    assert manifest["responses"] == int(
        aggregate_parquet(demo["folder"], demo["spec"])[0]["n_total"].sum()
    )
