"""Benchmark: fitting the key-driver model on sufficient statistics vs on rows.

For each size (responses over 5 channels x 5 years, 6 drivers, 6 influencers and two driver paths
d1 -> d2 -> d3, simulated from a known truth; ``--no-paths`` leaves the paths out) it reports aggregation time, compile time on a cold and on a warm cache (each in a
fresh process), sampling time, ESS per second, divergences and peak memory; at the sizes in
``--rows`` it also fits the same model written row by row (:func:`whatif.model.reference.build_row_model`)
to show what the sufficient statistics buy.

Usage::

    python benchmarks/bench_fit.py                    # 10k, 100k and 1M; rows at 10k and 100k
    python benchmarks/bench_fit.py --sizes 10000 --quick
    python benchmarks/bench_fit.py --no-paths         # the model as before driver paths
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DESIGN = {"n_channels": 5, "n_years": 5, "n_drivers": 6, "n_influencers": 6}
#: The design's driver paths ``(driver, source)``: a chain d1 -> d2 -> d3, as the demo's
#: attention -> trust, so that the path block and two-step total effects are in every fit.
PATHS = (("d2", "d1"), ("d3", "d2"))


def _truth(seed: int, paths: bool):
    from whatif.synthetic import random_truth

    return random_truth(seed=seed, paths=PATHS if paths else None, **DESIGN)


def _survey_path(out: Path, size: int, seed: int, paths: bool) -> Path:
    """Simulate ``size`` responses (once) and write them as Parquet."""
    from whatif.synthetic import simulate_survey

    path = out / f"survey_{size}{'' if paths else '_no_paths'}.parquet"
    if not path.exists():
        truth = _truth(seed, paths)
        groups = DESIGN["n_channels"] * DESIGN["n_years"]
        simulate_survey(truth, -(-size // groups), seed=seed).to_parquet(path, index=False)
    return path


def _worker(args) -> dict:
    """One measurement in this (fresh) process; prints a JSON line."""
    import warnings

    warnings.filterwarnings("ignore")
    t0 = time.perf_counter()
    import nutpie
    import pandas as pd

    from whatif.data.aggregate import aggregate
    from whatif.data.survey import validate_frame
    from whatif.fitting.compiled import compile_density
    from whatif.fitting.diagnostics import compute_diagnostics
    from whatif.fitting.fit import _mask_unmeasured
    from whatif.model import (
        DATA_VARS,
        build_row_model,
        draws_in_data_units,
        edge_coords,
        prepare_inputs,
        row_data,
    )
    from whatif.model.priors import Priors
    from whatif.synthetic import spec_for
    from whatif.threads import limit_blas_threads

    limit_blas_threads()  # as the command line runs
    result = {"import_s": time.perf_counter() - t0}
    spec = spec_for(_truth(args.seed, not args.no_paths))
    frame = pd.read_parquet(args.data)
    t0 = time.perf_counter()
    survey = validate_frame(frame, spec)
    result["validate_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    data = aggregate(survey)
    result["aggregate_s"] = time.perf_counter() - t0
    result["responses"] = int(data["n_total"].sum())

    t0 = time.perf_counter()
    inputs = prepare_inputs(data, Priors(), spec.paths)
    if args.kind == "rows":
        model = build_row_model(inputs, row_data(survey.frame, inputs))
    result["build_s"] = time.perf_counter() - t0
    del frame, survey
    t0 = time.perf_counter()
    # as whatif.fitting.fit does: the statistics model is sampled through the density's cached C
    # entry points and records its free vectors, converted afterwards; the row model (PyTensor
    # priors, the reference form) is compiled by nutpie and records the data-unit variables
    if args.kind == "rows":
        compiled = nutpie.compile_pymc_model(model, var_names=DATA_VARS)
    else:
        compiled = compile_density(inputs, Priors())
    result["compile_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    trace = nutpie.sample(
        compiled,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        seed=args.seed,
        progress_bar=False,
    )
    result["sample_s"] = time.perf_counter() - t0
    draws = trace.posterior.to_dataset()
    if args.kind != "rows":
        draws = draws_in_data_units(inputs, Priors(), draws)
    else:  # the row model records the paths without their ends; label them as a fit does
        draws = draws.assign_coords(edge_coords(spec.paths))
    posterior = _mask_unmeasured(draws[DATA_VARS], data)
    stats = trace.sample_stats.to_dataset()
    diag = compute_diagnostics(posterior, stats[["diverging", "energy"]])
    result.update(
        divergences=diag["divergences"],
        max_rhat=diag["max_rhat"],
        min_ess=min(diag["min_ess_bulk"], diag["min_ess_tail"]),
        grad_evals=int(stats["n_steps"].sum()) + int(trace.warmup_sample_stats["n_steps"].sum()),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    result["ess_per_s"] = result["min_ess"] / result["sample_s"]
    result["us_per_grad"] = (
        1e6
        * result["sample_s"]
        * min(args.chains, os.cpu_count() or 1)
        / (args.chains * result["grad_evals"])
        if result["grad_evals"]
        else float("nan")
    )
    return result


def _run(kind: str, data: Path, cache: Path, opts, draws=None, tune=None, chains=None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env["NUMBA_CACHE_DIR"] = str(cache / "numba")
    env["PYTENSOR_FLAGS"] = f"compiledir={cache / 'pytensor'}"
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        "--kind",
        kind,
        "--data",
        str(data),
        "--draws",
        str(draws or opts.draws),
        "--tune",
        str(tune or opts.tune),
        "--chains",
        str(chains or opts.chains),
        "--seed",
        str(opts.seed),
        *(["--no-paths"] if opts.no_paths else []),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        raise RuntimeError(f"{kind} run failed:\n{proc.stderr[-3000:]}")
    out = json.loads(lines[-1])
    out["wall_s"] = wall
    return out


def _row(label: str, r: dict, compile_warm: float | None) -> str:
    warm = f"{compile_warm:.1f}" if compile_warm is not None else "-"
    return (
        f"| {label} | {r['responses']:,} | {r['aggregate_s']:.2f} | {r['compile_s']:.1f} | {warm} | "
        f"{r['sample_s']:.1f} | {r['us_per_grad']:.0f} | {r['min_ess']:.0f} | {r['ess_per_s']:.0f} | "
        f"{r['divergences']} | {r['max_rhat']:.3f} | {r['peak_rss_mb']:.0f} | {r['wall_s']:.1f} |"
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--sizes", default="10000,100000,1000000", help="comma-separated response counts"
    )
    ap.add_argument(
        "--rows", default="10000,100000", help="sizes at which to also fit the row model"
    )
    ap.add_argument("--quick", action="store_true", help="2 chains x 300 draws (+300 tuning)")
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--no-paths", action="store_true", help="leave the driver paths out of the design"
    )
    ap.add_argument(
        "--row-draws",
        type=int,
        default=None,
        help="draws (and tuning steps) of the row model, if fewer: it is compared by rate "
        "(ESS/s, time per gradient and per draw), which does not need equal runs",
    )
    ap.add_argument(
        "--out", default=None, help="folder for simulated surveys (default: a temp dir)"
    )
    ap.add_argument("--json", default=None, help="also write all results to this JSON file")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--kind", default="stats", help=argparse.SUPPRESS)
    ap.add_argument("--data", default=None, help=argparse.SUPPRESS)
    opts = ap.parse_args(argv)
    if opts.worker:
        print(json.dumps(_worker(opts)))
        return
    if opts.quick:
        opts.draws, opts.tune, opts.chains = 300, 300, 2
    sizes = [int(s) for s in opts.sizes.split(",") if s]
    row_sizes = {int(s) for s in opts.rows.split(",") if s}
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(opts.out) if opts.out else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        results = []
        print(
            f"{opts.chains} chains x {opts.draws} draws (+{opts.tune} tuning), "
            f"{os.cpu_count()} CPUs; design {DESIGN}, "
            f"paths {'none' if opts.no_paths else ', '.join(f'{s} -> {k}' for k, s in PATHS)}",
            flush=True,
        )
        lines = [
            "| model | responses | aggregate s | compile s (cold) | compile s (warm) | sample s | "
            "us/grad | min ESS | ESS/s | div | max R-hat | peak MB | wall s |",
            "|" + "---|" * 13,
        ]
        for size in sizes:
            t0 = time.perf_counter()
            data = _survey_path(out, size, opts.seed, not opts.no_paths)
            print(f"simulated {size:,} responses in {time.perf_counter() - t0:.1f} s", flush=True)
            cache = out / f"cache_{size}"  # a fresh, empty cache: the first run compiles cold
            shutil.rmtree(cache, ignore_errors=True)
            cold = _run("stats", data, cache, opts)
            warm = _run("stats", data, cache, opts)
            results.append({"size": size, "model": "stats", "cold": cold, "warm": warm})
            lines.append(_row("statistics", cold, warm["compile_s"]))
            print(lines[-1], flush=True)
            if size in row_sizes:
                rows = _run("rows", data, cache, opts, opts.row_draws, opts.row_draws)
                results.append({"size": size, "model": "rows", "run": rows})
                lines.append(_row("rows", rows, None))
                print(lines[-1], flush=True)
                steps = opts.draws + opts.tune
                row_steps = 2 * opts.row_draws if opts.row_draws else steps
                per_draw = (rows["sample_s"] / row_steps) / (warm["sample_s"] / steps)
                print(
                    f"row model slower at {size:,}: per draw {per_draw:.1f}x, "
                    f"per gradient {rows['us_per_grad'] / warm['us_per_grad']:.1f}x, "
                    f"ESS/s {warm['ess_per_s'] / rows['ess_per_s']:.1f}x",
                    flush=True,
                )
        print("\n" + "\n".join(lines))
        if opts.json:
            Path(opts.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
