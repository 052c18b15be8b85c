"""Aggregation throughput and peak memory: pandas vs Dask, 1M / 10M / 20M survey rows.

Usage::

    python benchmarks/bench_aggregate.py                   # 1M, 10M, 20M; pandas up to 10M
    python benchmarks/bench_aggregate.py --sizes 1 --pandas-max 1
    python benchmarks/bench_aggregate.py --lake /tmp/whatif-bench --rows-per-file 500000

The survey lake is drawn from the demo truth (:func:`whatif.synthetic.simulate_survey`, 5 channels x
5 years, weights, items, missing-by-design columns) in chunks of ``--rows-per-file`` rows, one
Parquet file per chunk, into ``LAKE/parts``; ``LAKE/<n>m`` holds symlinks to the first files, so
the sizes share their files and only 20M rows are ever drawn (about 5 s of simulation per million
rows, kept between runs).

Each measurement runs in a fresh Python process; this one samples the resident memory (RSS) of
that process *and all its children* (Dask worker processes, nanny, scheduler) every 50 ms, so the
peak covers pyarrow's and every worker's memory, which tracemalloc does not see. The time is the
aggregation call only (validation included; imports and cluster start-up excluded).

Engines
-------
``pandas``
    :func:`whatif.data.survey.load_survey` on the folder, then :func:`whatif.data.aggregate.aggregate`: the
    whole table and its normalized copy in one process. Run only up to ``--pandas-max`` millions.
``dask-threads``
    :func:`whatif.data.engine_dask.aggregate_parquet` with the local threaded scheduler.
``dask-cluster``
    The same on ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``, loopback.

Measured (2026-11-22, 2 cores shared with other CPU-bound work at load average 6-11, so wall
times are pessimistic and the CPU column is the steadier figure)::

    rows  engine        time     rows/s   CPU s (tree)  peak RSS (tree)
    1M    pandas         17.7 s   56,000        9          1.00 GB
    1M    dask-threads   16.5 s   60,000        7          1.13 GB
    1M    dask-cluster   41.8 s   24,000       20          1.46 GB
    10M   pandas        215.6 s   46,000       72          8.25 GB
    10M   dask-threads   86.3 s  115,000       33          1.26 GB
    10M   dask-cluster  134.0 s   74,000       74          1.80 GB
    20M   pandas        skipped (~16 GB projected: the table and its normalized copy)
    20M   dask-threads  195.7 s  102,000       68          1.41 GB
    20M   dask-cluster  274.3 s   73,000      139          1.76 GB

Memory: pandas grows ~0.8 GB per million rows; Dask stays flat (a few 500k-row partitions in
flight per worker). CPU: the Dask engine spends ~3.4 s per million rows (two passes: scan and
validate, then normalize and accumulate); the pandas path ~7 s, most of it in
``check_binary`` turning numeric 0/1 columns into text, which the Dask engine skips when a column
is plainly 0/1. The local cluster pays for four extra processes (start-up, ~15 s CPU),
serialization and ``distributed``'s ``MALLOC_TRIM_THRESHOLD_=65536`` for its workers (more page
faults: ~50% more time per partition in a test here); on one 2-core machine it is slower than
threads, and its point is running the same graph on more machines.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

DEFAULT_LAKE = Path("/tmp/whatif-bench")
ROWS_PER_FILE = 500_000
SEED = 2026
ENGINES = ("pandas", "dask-threads", "dask-cluster")


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


def make_lake(lake: Path, millions: list[float], rows_per_file: int = ROWS_PER_FILE) -> dict:
    """Draw the survey parts once and link the first ones into a folder per size.

    Returns
    -------
    dict
        ``{"spec": path, <millions>: folder, ...}``.
    """
    import pandas as pd

    from whatif.synthetic import demo_truth, simulate_survey, write_demo

    parts = lake / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    truth = demo_truth(SEED)
    spec_path = lake / "demo" / "spec.toml"
    if not spec_path.exists():  # the demo's spec (a small demo is drawn just to write it)
        spec_path = write_demo(lake / "demo", seed=SEED, n=5_000)["spec"]
    groups = truth.sizes["channel"] * truth.sizes["year"]
    largest = max([m for m in millions if m * 1_000_000 >= rows_per_file], default=0)
    files_needed = -(-int(largest * 1_000_000) // rows_per_file)
    for i in range(files_needed):
        path = parts / f"part-{i:05d}.parquet"
        if path.exists():
            continue
        t0 = time.perf_counter()
        frame: pd.DataFrame = simulate_survey(truth, rows_per_file // groups, seed=SEED + i)
        frame.to_parquet(path, index=False, row_group_size=100_000)
        seconds = time.perf_counter() - t0
        print(f"  drew {path.name} ({len(frame):,} rows) in {seconds:.1f} s", file=sys.stderr)
    out: dict = {"spec": spec_path}
    for m in millions:
        folder = lake / f"{m:g}m"
        folder.mkdir(exist_ok=True)
        if m * 1_000_000 < rows_per_file:  # a smaller survey: one file of its own
            path = folder / "part-00000.parquet"
            if not path.exists():
                rows = int(m * 1_000_000) // groups
                simulate_survey(truth, rows, seed=SEED).to_parquet(path, index=False)
            out[m] = folder
            continue
        for i in range(-(-int(m * 1_000_000) // rows_per_file)):
            link = folder / f"part-{i:05d}.parquet"
            if not link.exists():
                link.symlink_to(parts / link.name)
        out[m] = folder
    return out


# ---------------------------------------------------------------------------------------------
# One measurement (runs in a child process)
# ---------------------------------------------------------------------------------------------


def run_one(engine: str, folder: str, spec_path: str) -> dict:
    """Aggregate ``folder`` with one engine; returns the timing and the size of the result."""
    from whatif.data.spec import load_spec

    spec = load_spec(spec_path)
    if engine == "pandas":
        from whatif.data.aggregate import aggregate
        from whatif.data.survey import load_survey

        t0 = time.perf_counter()
        survey = load_survey(folder, spec)
        t1 = time.perf_counter()
        result = aggregate(survey)
        t2 = time.perf_counter()
        return {"seconds": t2 - t0, "load_s": t1 - t0, "rows": int(result["n_total"].sum())}

    from whatif.data.engine_dask import aggregate_parquet

    if engine == "dask-threads":
        t0 = time.perf_counter()
        result, profile = aggregate_parquet(folder, spec)
        return {"seconds": time.perf_counter() - t0, "rows": profile["responses"]}

    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        t0 = time.perf_counter()
        result, profile = aggregate_parquet(folder, spec, scheduler=cluster.scheduler_address)
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rows": profile["responses"]}


# ---------------------------------------------------------------------------------------------
# Measuring a child process tree
# ---------------------------------------------------------------------------------------------


def tree_rss(proc: psutil.Process) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_info().rss
    return total


def measure(cmd: list[str], env: dict | None = None) -> tuple[dict | None, float, str]:
    """Run ``cmd``, sampling the RSS of its process tree.

    Returns
    -------
    result, peak, stderr
        The JSON line the command printed (``None`` if none) with ``cpu_s`` added: the CPU time
        of the whole process tree (start-up included), which other load on a shared machine
        does not inflate as it does wall time; the peak RSS in GB; the command's stderr.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    watched = psutil.Process(proc.pid)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            try:
                peak = max(peak, tree_rss(watched))
            except psutil.NoSuchProcess:
                return
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = None
    for line in out.splitlines():
        if line.startswith("{"):
            result = json.loads(line) | {"cpu_s": cpu}
    return result, peak / 1e9, err


def child_env() -> dict:
    env = dict(os.environ)
    # One BLAS thread per process: the machine is shared and Dask runs tasks side by side.
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", type=Path, default=DEFAULT_LAKE)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 20], help="millions")
    parser.add_argument("--pandas-max", type=int, default=10, help="largest size for pandas")
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--rows-per-file", type=int, default=ROWS_PER_FILE)
    parser.add_argument("--one", nargs=3, metavar=("ENGINE", "FOLDER", "SPEC"), help="internal")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(*args.one)), flush=True)
        return

    print(f"survey lake in {args.lake} ({args.rows_per_file:,} rows per file)", file=sys.stderr)
    lake = make_lake(args.lake, args.sizes, args.rows_per_file)
    rows = []
    for m in args.sizes:
        for engine in args.engines:
            if engine == "pandas" and m > args.pandas_max:
                rows.append(
                    (
                        m,
                        engine,
                        None,
                        None,
                        None,
                        None,
                        f"skipped (--pandas-max {args.pandas_max}): the whole table in one process",
                    )
                )
                continue
            cmd = [sys.executable, __file__, "--one", engine, str(lake[m]), str(lake["spec"])]
            result, peak, err = measure(cmd, child_env())
            if result is None:
                rows.append((m, engine, None, None, None, peak, "failed: " + err.strip()[-200:]))
            else:
                rate = result["rows"] / result["seconds"]
                rows.append((m, engine, result["seconds"], rate, result["cpu_s"], peak, ""))
            print(f"  {m}M {engine}: {rows[-1]}", file=sys.stderr, flush=True)

    files = {m: len(list(lake[m].glob("*.parquet"))) for m in args.sizes}
    print(
        f"\nAggregation (validation included), {os.cpu_count()} cores, files of "
        f"{args.rows_per_file:,} rows\n"
    )
    print(
        "| rows | engine | partitions | time (s) | rows/s | CPU s, process tree "
        "| peak RSS, process tree (GB) | note |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    for m, engine, seconds, rate, cpu, peak, note in rows:
        cells = [
            f"{m}M",
            engine,
            str(files[m]),
            f"{seconds:.1f}" if seconds else "-",
            f"{rate:,.0f}" if rate else "-",
            f"{cpu:.0f}" if cpu else "-",
            f"{peak:.2f}" if peak else "-",
            note,
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
