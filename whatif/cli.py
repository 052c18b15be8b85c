"""The ``whatif`` command line: check, demo-data, fit, summary, and what builds on them.

Every user mistake ends in a one-line ``error:`` message and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from whatif.errors import WhatifError

app = typer.Typer(
    name="whatif",
    help="Bayesian key-driver simulation and what-if planning for customer experience.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEMO_DIR = Path("data/demo")
DEMO_MODEL = Path("models/demo")


def say(message: str) -> None:
    """Progress and notes go to stderr so that stdout stays parseable (JSON, tables)."""
    print(f"whatif: {message}", file=sys.stderr, flush=True)


def fail(error: WhatifError) -> typer.Exit:
    for problem in error.problems or [str(error)]:
        print(f"error: {problem}", file=sys.stderr)
    return typer.Exit(code=2)


def run_guarded(func):
    """Turn project errors into clean messages; an interrupt writes nothing."""
    try:
        return func()
    except WhatifError as err:
        raise fail(err) from None
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        raise typer.Exit(code=130) from None


def check_choice(value: str, choices: tuple[str, ...], option: str) -> None:
    if value not in choices:
        raise WhatifError(f"{option} must be one of {', '.join(choices)}, got '{value}'")


def check_ci(ci: float) -> None:
    if not 0 < ci < 1:
        raise WhatifError(f"--ci must be a probability between 0 and 1 (e.g. 0.9), got {ci}")


@app.command()
def check(
    data: Annotated[Path, typer.Argument(help="Survey file (.csv or .parquet).")],
    spec: Annotated[Path, typer.Option("--spec", help="Survey spec TOML.")],
) -> None:
    """Validate a survey file against its spec and print a short profile."""
    from whatif.survey import load_survey

    def run():
        survey = load_survey(data, spec)
        profile = survey.profile()
        print(
            f"{data}: {profile['responses']} responses with an outcome "
            f"({profile['dropped_missing_outcome']} rows dropped for a missing outcome)"
        )
        print("\nResponses per channel and year:")
        print(profile["counts"].to_string())
        print("\nMeasured per channel (missing share):")
        for channel in survey.channels:
            miss = profile["missing_share"][channel]
            drivers = ", ".join(
                f"{d} ({miss[d]:.0%})" for d in profile["measured_drivers"][channel]
            )
            infl = ", ".join(
                f"{i} ({miss[i]:.0%})" for i in profile["measured_influencers"][channel]
            )
            print(f"  {channel}\n    drivers: {drivers or '-'}\n    influencers: {infl or '-'}")
        print("\nOK: the data fit the spec.")

    run_guarded(run)


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the demo into.")] = DEMO_DIR,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 2026,
    n: Annotated[int, typer.Option(help="Number of responses.")] = 75_000,
) -> None:
    """Write the seeded demo survey, its spec and the ground truth it was drawn from."""
    from whatif.demo import write_demo

    def run():
        if n < 5_000:
            raise WhatifError(
                f"--n must be at least 5000 so every channel-year group can be estimated, got {n}"
            )
        paths = write_demo(out, seed=seed, n=n)
        for kind, path in paths.items():
            print(f"wrote {kind}: {path}")

    run_guarded(run)


@app.command()
def fit(
    data: Annotated[Path, typer.Argument(help="Survey file (.csv or .parquet).")],
    spec: Annotated[Path, typer.Option("--spec", help="Survey spec TOML.")],
    out: Annotated[Path, typer.Option("--out", help="Artefact folder, e.g. models/2025.")],
    draws: Annotated[int, typer.Option(help="Posterior draws per chain.")] = 1000,
    tune: Annotated[int, typer.Option(help="Tuning steps per chain.")] = 1000,
    chains: Annotated[int, typer.Option(help="Number of chains.")] = 4,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML with a [priors] table.")
    ] = None,
) -> None:
    """Fit the model and write an artefact folder atomically."""
    run_guarded(
        lambda: fit_to_artefact(
            data, spec, out, draws=draws, tune=tune, chains=chains, seed=seed, config=config
        )
    )


def fit_to_artefact(data, spec, out, *, draws=1000, tune=1000, chains=4, seed=0, config=None):
    """Load, validate, aggregate, fit and save; prints progress to stderr. Returns the model."""
    from whatif.aggregate import aggregate
    from whatif.artefact import save_model
    from whatif.fit import fit_model
    from whatif.priors import load_priors
    from whatif.survey import load_survey

    for name, value, low in (
        ("--draws", draws, 100),
        ("--tune", tune, 100),
        ("--chains", chains, 1),
    ):
        if value < low:
            raise WhatifError(f"{name} must be at least {low}, got {value}")
    priors = load_priors(config)
    t0 = time.perf_counter()
    say(f"reading {data}")
    survey = load_survey(data, spec)
    if survey.dropped_missing_outcome:
        say(f"dropped {survey.dropped_missing_outcome} rows with a missing outcome")
    aggregates = aggregate(survey)
    agg_s = time.perf_counter() - t0
    dropped = int(aggregates["n_total"].sum() - aggregates["n"].sum())
    say(
        f"aggregated {len(survey.frame)} responses into {aggregates.sizes['channel']} channels x "
        f"{aggregates.sizes['year']} years in {agg_s:.1f} s"
        + (f" ({dropped} incomplete rows left out of the regressions)" if dropped else "")
    )
    model = fit_model(
        aggregates,
        survey.spec,
        priors=priors,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        progress=sys.stderr.isatty(),
        fingerprint=survey.fingerprint,
        source=str(data),
        log=say,
    )
    model.manifest["timings"]["aggregate_s"] = agg_s
    path = save_model(model, out)
    timings = model.manifest["timings"]
    say(
        f"compile {timings['compile_s']:.1f} s, sampling {timings['sample_s']:.1f} s, "
        f"total {time.perf_counter() - t0:.1f} s"
    )
    say(model.verdict)
    say(f"saved {path}")
    return model


@app.command()
def summary(
    model: Annotated[Path, typer.Argument(help="Model artefact folder.")],
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    ci: Annotated[float, typer.Option(help="Probability of the intervals.")] = 0.9,
) -> None:
    """Driver weights, influencer and direct effects, importance, R-squared, diagnostics."""
    from whatif.artefact import load_model
    from whatif.report import dumps_json, format_table
    from whatif.summary import summarize

    def run():
        check_choice(format, ("table", "json"), "--format")
        check_ci(ci)
        fitted = load_model(model)
        result = summarize(fitted, ci)
        if format == "json":
            print(dumps_json(result))
            return
        pct = f"{ci:.0%}"
        if fitted.flagged:
            print(f"WARNING: {fitted.verdict}\n")
        print(
            f"Model {model} - fitted {fitted.manifest['fit_date']}, {fitted.manifest['responses']} responses"
        )
        for key, title in (
            ("weights", "Driver weights (satisfaction points per driver point)"),
            ("effects", "Influencer effects on drivers"),
            ("direct", "Direct influencer effects on satisfaction"),
        ):
            print(f"\n{title}, mean and {pct} interval:")
            print(format_table(result[key]))
        print("\nDriver importance (standardised weight; share of explained variance):")
        print(format_table(result["importance"]))
        print("\nR-squared:")
        print(format_table(result["r2"]))
        d = result["diagnostics"]
        print(
            f"\nDiagnostics: max R-hat {d['max_rhat']:.3f}, min ESS bulk {d['min_ess_bulk']:.0f}, "
            f"tail {d['min_ess_tail']:.0f}, divergences {d['divergences']}, min BFMI {d['min_bfmi']:.2f}"
        )
        print(d["verdict"])

    run_guarded(run)


# -- scenario commands (simulate, priorities) ------------------------------------------------


@app.command()
def simulate(
    model: Annotated[Path, typer.Argument(help="Model artefact folder.")],
    scenario: Annotated[list[Path], typer.Option("--scenario", help="Scenario TOML file(s).")],
    ci: Annotated[float, typer.Option(help="Probability of the intervals.")] = 0.9,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Forecast the satisfaction lift of one or more scenarios (side by side)."""
    from whatif.artefact import load_model
    from whatif.report import dumps_json
    from whatif.scenario import load_scenario
    from whatif.simulate import ScenarioEngine, summarize_lift

    def run():
        check_choice(format, ("table", "json"), "--format")
        check_ci(ci)
        scenarios = [load_scenario(path) for path in scenario]
        fitted = load_model(model)
        engine = ScenarioEngine(fitted)
        results = [summarize_lift(engine.lift(s), ci, flagged=fitted.flagged) for s in scenarios]
        if format == "json":
            print(dumps_json(results[0] if len(results) == 1 else results))
            return
        print(format_lift_table(results, fitted))

    run_guarded(run)


def format_lift_table(results: list[dict], fitted) -> str:
    """Scenarios side by side: company and per-channel lift with intervals."""
    import pandas as pd

    pct = f"{results[0]['ci']:.0%}"
    rows = {}
    for res in results:
        col = f"{res['scenario']} ({res['year']})"
        t = res["total"]
        cells = {"company": f"{t['mean']:+.3f} [{t['lo']:+.3f}, {t['hi']:+.3f}] P>0={t['p_positive']:.0%}"}
        tb = res["top_box"]["total"]
        cells["company top-box"] = f"{tb['mean']:+.1%} [{tb['lo']:+.1%}, {tb['hi']:+.1%}]"
        for channel, c in res["channels"].items():
            cells[fitted.spec.label_of(channel)] = (
                f"{c['mean']:+.3f} [{c['lo']:+.3f}, {c['hi']:+.3f}] "
                f"(direct {c['direct']:+.3f}, via drivers {c['indirect']:+.3f})"
            )
        rows[col] = cells
    table = pd.DataFrame(rows)
    lines = [f"Satisfaction lift in points (mean [{pct} interval]):", table.to_string()]
    for res in results:
        for warning in res["warnings"]:
            lines.append(f"warning ({res['scenario']}): {warning}")
    return "\n".join(lines)


@app.command()
def priorities(
    model: Annotated[Path, typer.Argument(help="Model artefact folder.")],
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    year: Annotated[int | None, typer.Option(help="Only this year (default: the last).")] = None,
    ci: Annotated[float, typer.Option(help="Probability of the intervals.")] = 0.9,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """The priority map: importance vs performance, with P(fix first) per driver."""
    from whatif.artefact import load_model
    from whatif.errors import closest
    from whatif.priorities import priority_map
    from whatif.report import dumps_json, format_table

    def run():
        check_choice(format, ("table", "json"), "--format")
        check_ci(ci)
        fitted = load_model(model)
        if channel is not None and channel not in fitted.channels:
            raise WhatifError(f"--channel '{channel}' is not in the model{closest(channel, fitted.channels)}; "
                              f"channels: {', '.join(fitted.channels)}")
        if year is not None and year not in fitted.years:
            raise WhatifError(f"--year {year} is not in the model; years: {', '.join(map(str, fitted.years))}")
        table = priority_map(fitted, ci, channel)
        table = table[table["year"] == (year if year is not None else fitted.years[-1])]
        table = table.sort_values(["channel", "p_fix_first", "weight"], ascending=[True, False, False])
        if format == "json":
            print(dumps_json(table.to_dict("records")))
        else:
            print(format_table(table.drop(columns=["label"])))

    run_guarded(run)

# -- refit commands (refit, compare, models) -------------------------------------------------

# -- app, brief and demo commands ------------------------------------------------------------


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
