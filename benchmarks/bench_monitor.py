"""Monitor speed: a 24-period x 5-channel feed nowcast with contributions, and a 10M-row
per-contact log aggregated on Dask with bounded memory.

Targets (issue 17): the nowcast in under 1 s on 4,000 draws; the log's aggregation in memory that
does not grow with its rows.

    python benchmarks/bench_monitor.py [--model models/demo] [--rows 10000000] [--parts 40]

The log is written in chunks to Parquet files under ``benchmarks/out/`` (one chunk in memory at a
time), then aggregated by ``whatif.data.kpis.load_kpis`` in a child process whose peak resident
memory is read from ``getrusage``. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from whatif.analysis.monitor import Monitor
from whatif.data.kpis import read_kpi_frame
from whatif.fitting.artefact import load_model

OUT = Path(__file__).parent / "out" / "contact_log"


def feed(watch: Monitor, periods: int, seed: int = 0) -> pd.DataFrame:
    """Every measured KPI of every channel moved a little from its baseline, per period."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(periods):
        for c, channel in enumerate(watch.channels):
            row = {"period": f"{2026 + p // 12}-{p % 12 + 1:02d}", "channel": channel}
            for j, name in enumerate(watch.influencers):
                if watch.measured[c, j]:
                    value = watch.baseline_kpi[c, j] * (1 + 0.1 * rng.standard_normal())
                    row[name] = float(np.clip(value, 0, 1) if watch.binary[j] else max(value, 0))
            rows.append(row)
    return pd.DataFrame(rows)


def write_log(rows: int, parts: int, channels: list[str]) -> float:
    """A per-contact log of ``rows`` rows in ``parts`` Parquet files; seconds taken."""
    start = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.parquet"):
        old.unlink()
    rng = np.random.default_rng(1)
    months = np.array([f"{2026 + m // 12}-{m % 12 + 1:02d}" for m in range(24)])
    size = rows // parts
    for part in range(parts):
        month = rng.integers(0, 24, size)
        frame = pd.DataFrame(
            {
                "period": months[month],
                "channel": np.array(channels)[rng.integers(0, len(channels), size)],
                "outage": (rng.random(size) < 0.04).astype(np.int8),
                "contacts_to_resolve": rng.poisson(0.6, size).astype(np.int16),
            }
        )
        frame.to_parquet(OUT / f"part-{part:03d}.parquet", index=False)
    return time.perf_counter() - start


CHILD = """
import resource, sys, time
from whatif.data.kpis import load_kpis
from whatif.fitting.artefact import load_model
model = load_model(sys.argv[1])
start = time.perf_counter()
feed = load_kpis(sys.argv[2], model.spec, model.channels)
seconds = time.perf_counter() - start
print(seconds, feed.contact_rows, len(feed.periods), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/demo")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--parts", type=int, default=40)
    args = parser.parse_args()
    model = load_model(args.model)
    watch = Monitor(model)
    kpis = read_kpi_frame(feed(watch, 24), model.spec, watch.channels)
    watch.nowcast(kpis, "mean")  # the engine's year arrays, once
    wall, cpu = [], []
    for _ in range(5):
        start, start_cpu = time.perf_counter(), time.process_time()
        watch.nowcast(kpis, "mean")
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    print("| measure | value |")
    print("|---|---|")
    print(f"| draws | {watch.engine.n_draws} |")
    print(f"| feed | {len(kpis.periods)} periods x {len(watch.channels)} channels |")
    print(f"| nowcast with contributions, wall (median of 5) | {np.median(wall):.3f} s |")
    print(f"| nowcast with contributions, CPU (median of 5) | {np.median(cpu):.3f} s |")
    written = write_log(args.rows, args.parts, watch.channels)
    size = sum(f.stat().st_size for f in OUT.glob("*.parquet")) / 2**20
    print(
        f"| contact log written ({args.rows:,} rows, {args.parts} files, {size:.0f} MiB) | {written:.1f} s |"
    )
    done = subprocess.run(
        [sys.executable, "-c", CHILD, args.model, str(OUT)],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, rows, periods, peak_kib = done.stdout.split()
    print(
        f"| log aggregated on Dask ({int(rows):,} rows -> {periods} periods) | {float(seconds):.1f} s |"
    )
    print(f"| peak resident memory of the aggregating process | {int(peak_kib) / 1024:.0f} MiB |")
    print(
        f"| (this process, for scale) | {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB |"
    )


if __name__ == "__main__":
    main()
