"""The ``whatif`` command line: check, demo-data, fit, summary, and what builds on them.

Every user mistake ends in a one-line ``error:`` message and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from whatif import interrupts
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


def run_guarded(func, out: Path | None = None):
    """Turn project errors into clean messages, and an interrupt into one line and its exit code.

    Parameters
    ----------
    func
        The command's work.
    out
        The artefact folder the command writes (``fit``, ``refit``, ``demo``'s fit). While
        ``func`` runs, SIGTERM is handled like Ctrl-C (exit code 143 instead of 130), an
        interrupt writes nothing, and the line says what became of ``out``.
    """
    before = _artefact_state(out) if out is not None else None
    try:
        if out is None:
            return func()
        with interrupts.handling_signals():
            result = func()
            interrupts.check()  # a signal whose exception a library swallowed
        return result
    except WhatifError as err:
        raise fail(err) from None
    except KeyboardInterrupt as err:
        print(_interrupted(out, before), file=sys.stderr, flush=True)
        raise typer.Exit(code=getattr(err, "exit_code", 130)) from None


def _artefact_state(out: Path) -> tuple[int, bytes] | None:
    """What identifies the artefact at ``out``: its folder's inode and its manifest."""
    try:
        return out.stat().st_ino, (out / "manifest.json").read_bytes()
    except OSError:
        return None


def _interrupted(out: Path | None, before: tuple[int, bytes] | None) -> str:
    if out is None:
        return "interrupted: nothing was written"
    if _artefact_state(out) != before:  # the interrupt came after the new artefact was in place
        return f"interrupted after saving: {out} holds the new fit"
    if before is None:
        return "interrupted: nothing was written"
    return f"interrupted: nothing was written; {out} is as it was"


def check_choice(value: str, choices: tuple[str, ...], option: str) -> None:
    if value not in choices:
        raise WhatifError(f"{option} must be one of {', '.join(choices)}, got '{value}'")


def check_ci(ci: float) -> None:
    if not 0 < ci < 1:
        raise WhatifError(f"--ci must be a probability between 0 and 1 (e.g. 0.9), got {ci}")


@app.command()
def check(
    data: Annotated[
        Path, typer.Argument(help="Survey file (.csv, .parquet, .xlsx or .sav) or Parquet folder.")
    ],
    spec: Annotated[Path, typer.Option("--spec", help="Survey spec TOML.")],
) -> None:
    """Validate a survey file against its spec and print a short profile.

    Notes say what was read differently from the file as it stands; warnings point at valid but
    suspicious data (likely "don't know" codes, perfectly collinear drivers).
    """
    from whatif.data.diagnose import survey_warnings
    from whatif.data.survey import load_survey

    def run():
        survey = load_survey(data, spec)
        profile = survey.profile()
        warnings = survey_warnings(survey)
        print(
            f"{data}: {profile['responses']} responses with an outcome "
            f"({profile['dropped_missing_outcome']} rows dropped for a missing outcome)"
        )
        for note in profile["notes"]:
            print(f"note: {note}")
        for warning in warnings:
            print(f"warning: {warning}")
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
        count = f" ({len(warnings)} warning{'s' if len(warnings) != 1 else ''} above)"
        print(f"\nOK: the data fit the spec{count if warnings else ''}.")

    run_guarded(run)


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the demo into.")] = DEMO_DIR,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 2026,
    n: Annotated[int, typer.Option(help="Number of responses.")] = 75_000,
) -> None:
    """Write the seeded demo survey, its spec and the ground truth it was drawn from."""
    from whatif.synthetic.files import write_demo

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
    data: Annotated[
        Path, typer.Argument(help="Survey file (.csv, .parquet, .xlsx or .sav) or Parquet folder.")
    ],
    spec: Annotated[Path, typer.Option("--spec", help="Survey spec TOML.")],
    out: Annotated[Path, typer.Option("--out", help="Artefact folder, e.g. models/2025.")],
    draws: Annotated[int, typer.Option(help="Posterior draws per chain.")] = 1000,
    tune: Annotated[int, typer.Option(help="Tuning steps per chain.")] = 1000,
    chains: Annotated[int, typer.Option(help="Number of chains.")] = 4,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML with a [priors] table.")
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="auto (dask for a folder or glob of Parquet files), pandas or dask.",
        ),
    ] = "auto",
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="dask.distributed scheduler address, e.g. tcp://h:8786."),
    ] = None,
) -> None:
    """Fit the model and write an artefact folder atomically."""
    from whatif.pipeline import fit_to_artefact

    run_guarded(
        lambda: fit_to_artefact(
            data,
            spec,
            out,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            config=config,
            engine=engine,
            scheduler=scheduler,
            progress=sys.stderr.isatty(),
            log=say,
        ),
        out=out,
    )


@app.command()
def summary(
    model: Annotated[Path, typer.Argument(help="Model artefact folder.")],
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    ci: Annotated[float, typer.Option(help="Probability of the intervals.")] = 0.9,
) -> None:
    """Driver weights, influencer and direct effects, importance, R-squared, diagnostics."""
    from whatif.analysis.summary import summarize
    from whatif.fitting.artefact import load_model
    from whatif.fitting.diagnostics import one_chain
    from whatif.report.tables import dumps_json, format_table

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
        for line in _carried_past(fitted.manifest):
            print(line)
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
        rhat = (
            "R-hat not computed (1 chain)"
            if one_chain(fitted.diagnostics)
            else f"max R-hat {d['max_rhat']:.3f}"
        )
        print(
            f"\nDiagnostics: {rhat}, min ESS bulk {d['min_ess_bulk']:.0f}, "
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
    from whatif.analysis.engine import ScenarioEngine, summarize_lift
    from whatif.analysis.scenario import load_scenario
    from whatif.fitting.artefact import load_model
    from whatif.report.tables import dumps_json

    def run():
        check_choice(format, ("table", "json"), "--format")
        check_ci(ci)
        scenarios = [load_scenario(path) for path in scenario]
        fitted = load_model(model)
        engine = ScenarioEngine(fitted)
        results = [summarize_lift(engine.lift(s), ci, flagged=fitted.flagged) for s in scenarios]
        if format == "json":
            dicts = [r.to_dict() for r in results]
            print(dumps_json(dicts[0] if len(dicts) == 1 else dicts))
            return
        print(format_lift_table(results, fitted))

    run_guarded(run)


def format_lift_table(results: list, fitted) -> str:
    """Scenarios side by side: company and per-channel lift with intervals (plain text)."""
    import pandas as pd

    from whatif.report import format as fmt

    def cell(e) -> str:
        return f"{fmt.points(e.mean, minus='-')} {fmt.interval(e.lo, e.hi, minus='-', style='brackets')}"

    pct = f"{results[0].ci:.0%}"
    rows = {}
    for res in results:
        t, tb = res.total, res.top_box
        cells = {
            "company": f"{cell(t)} P>0 {fmt.probability(t.p_positive)}",
            "company top-box": f"{fmt.share_points(tb.mean, minus='-')} "
            f"{fmt.interval(tb.lo, tb.hi, 1, scale=100, unit=' pts', minus='-', style='brackets')}",
        }
        for c in res.channels:
            label = fitted.spec.label_of(c.channel)
            if not c.affected:
                cells[label] = fmt.NOT_AFFECTED
                continue
            direct = fmt.points(c.direct, 3, minus="-")
            indirect = fmt.points(c.indirect, 3, minus="-")
            cells[label] = f"{cell(c.lift)} (direct {direct}, via drivers {indirect})"
        rows[f"{res.scenario} ({res.year})"] = cells
    table = pd.DataFrame(rows)
    lines = [f"Satisfaction lift in points (mean [{pct} interval]):", table.to_string()]
    for res in results:
        for warning in res.warnings:
            lines.append(f"warning ({res.scenario}): {warning}")
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
    from whatif.analysis.priorities import priority_map
    from whatif.errors import closest
    from whatif.fitting.artefact import load_model
    from whatif.report.tables import dumps_json, format_table

    def run():
        check_choice(format, ("table", "json"), "--format")
        check_ci(ci)
        fitted = load_model(model)
        if channel is not None and channel not in fitted.channels:
            raise WhatifError(
                f"--channel '{channel}' is not in the model{closest(channel, fitted.channels)}; "
                f"channels: {', '.join(fitted.channels)}"
            )
        if year is not None and year not in fitted.years:
            raise WhatifError(
                f"--year {year} is not in the model; years: {', '.join(map(str, fitted.years))}"
            )
        pmap = priority_map(fitted, ci, channel).select(
            year=year if year is not None else fitted.years[-1]
        )
        table = pmap.to_frame()
        table = table.sort_values(
            ["channel", "p_fix_first", "weight"], ascending=[True, False, False]
        )
        if format == "json":
            print(dumps_json(table.to_dict("records")))
        else:
            print(format_table(table.drop(columns=["label"])))

    run_guarded(run)


# -- refit commands (refit, compare, models) -------------------------------------------------


@app.command()
def refit(
    previous: Annotated[Path, typer.Argument(help="Previous model artefact folder.")],
    data: Annotated[Path, typer.Argument(help="The new year's survey file (.csv or .parquet).")],
    out: Annotated[Path, typer.Option("--out", help="New artefact folder, e.g. models/2026.")],
    spec: Annotated[
        Path | None, typer.Option("--spec", help="Spec TOML (default: the previous fit's).")
    ] = None,
    draws: Annotated[int, typer.Option(help="Posterior draws per chain.")] = 1000,
    tune: Annotated[int, typer.Option(help="Tuning steps per chain.")] = 1000,
    chains: Annotated[int, typer.Option(help="Number of chains.")] = 4,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    carry_prior: Annotated[
        bool,
        typer.Option(
            "--carry-prior",
            help="Carry the earlier years as a power prior, discounted by --discount.",
        ),
    ] = False,
    freeze_past: Annotated[
        bool,
        typer.Option(
            "--freeze-past",
            help="Keep the earlier years fixed: carry the previous posterior (last year's weights, "
            "effects, noise, drift) as the prior instead of refitting their data; --discount "
            "optional (default 1).",
        ),
    ] = False,
    discount: Annotated[
        float | None,
        typer.Option(
            help="Weight a0 in (0, 1] of the earlier years: the power prior of --carry-prior, or "
            "the carried prior's (variances / a0) with --freeze-past."
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Let the new file replace years the previous fit has."),
    ] = False,
) -> None:
    """Append a new year's data to a previous fit and fit again (old raw files not needed)."""

    def run():
        from whatif.pipeline import refit_to_artefact

        if carry_prior and discount is None:
            raise WhatifError(
                "--carry-prior needs --discount D, the weight a0 in (0, 1] of the past"
            )
        if carry_prior and freeze_past:
            raise WhatifError(
                "--carry-prior and --freeze-past are two ways to carry the past; choose one"
            )
        if freeze_past and replace:
            raise WhatifError(
                "--freeze-past keeps the earlier years fixed, so it cannot --replace one"
            )
        if discount is not None and not (carry_prior or freeze_past):
            raise WhatifError("--discount only applies with --carry-prior or --freeze-past")
        if discount is not None and not 0 < discount <= 1:
            raise WhatifError(f"--discount must be in (0, 1], got {discount}")
        refit_to_artefact(
            previous,
            data,
            out,
            spec=spec,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            discount=discount,
            replace=replace,
            freeze=freeze_past,
            progress=sys.stderr.isatty(),
            log=say,
        )

    run_guarded(run, out=out)


def _carried_past(manifest: dict) -> list[str]:
    """How a refit carried the earlier years, if it did not refit them at full weight."""
    lines = []
    power = manifest.get("power_prior")
    if power:
        weighted = {y: a for y, a in power.get("discount_by_year", {}).items() if a < 1}
        if weighted:
            lines.append(
                "Past carried as a power prior: "
                + ", ".join(f"{y} weighted {a:g}" for y, a in weighted.items())
            )
    carried = manifest.get("carried_prior")
    if carried:
        lines.append(
            f"Past kept fixed: years up to {carried['year']} carried as a prior "
            f"(a0 = {carried['a0']:g}); earlier estimates copied from the previous fit"
        )
    return lines


@app.command()
def compare(
    old: Annotated[Path, typer.Argument(help="Previous model artefact folder.")],
    new: Annotated[Path, typer.Argument(help="Refitted model artefact folder.")],
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    ci: Annotated[float, typer.Option(help="Probability of the intervals.")] = 0.9,
    seed: Annotated[int, typer.Option(help="Seed of the forecast draws.")] = 0,
) -> None:
    """Moved driver weights, re-ranked drivers and a backtest of the old fit on the new year."""

    def run():
        from whatif.analysis.compare import compare as compare_models
        from whatif.fitting.artefact import load_model
        from whatif.report.tables import dumps_json, format_table

        check_choice(format, ("table", "json"), "--format")
        check_ci(ci)
        result = compare_models(load_model(old), load_model(new), ci=ci, seed=seed)
        if format == "json":
            print(dumps_json(result))
            return
        pct = f"{ci:.0%}"
        for key, path in (("old", old), ("new", new)):
            ident = result[key]
            a0 = ident["discount"]["a0"]
            weighted = {y: a for y, a in ident["discount"]["discount_by_year"].items() if a < 1}
            parts = [f"a0 = {a0:g}"] if a0 is not None else []
            if weighted:
                parts.append(
                    "year weights " + ", ".join(f"{y}: {a:g}" for y, a in weighted.items())
                )
            prior = f", past carried as a power prior, {'; '.join(parts)}" if parts else ""
            print(
                f"{key}: {path} - years {', '.join(map(str, ident['years']))}, fitted "
                f"{ident['fit_date']}, {'healthy' if ident['healthy'] else 'FLAGGED'}{prior}"
            )
        info = result["weights_info"]
        if result["weights"]:
            print(
                f"\nDriver weights {info['from_year']} -> {info['to_year']} ({info['basis']}), "
                f"change with {pct} interval and probability it rose:"
            )
            cols = ["channel", "driver", "weight_from", "weight_to", "change", "lo", "hi", "p_rose"]
            print(format_table([{k: r[k] for k in cols} for r in result["weights"]]))
        if result["ranks"]:
            r0 = result["ranks"][0]
            print(
                f"\nDriver importance rank per channel ({r0['year_before']} old fit -> "
                f"{r0['year_after']} new fit; + moved up):"
            )
            print(format_table(result["ranks"]))
        bt = result["backtest_info"]
        if result["backtest"]:
            print(
                f"\nBacktest: the old fit's {pct} forecast of {bt['year']} mean satisfaction vs "
                f"observed (level shock sd {bt['level_shock_sd']:.3f}):"
            )
            cols = ["channel", "forecast", "lo", "hi", "observed", "n", "z", "flag"]
            print(format_table([{k: r[k] for k in cols} for r in result["backtest"]]))
            if result["flagged"]:
                print(f"OUTSIDE the forecast interval: {', '.join(result['flagged'])}")
            else:
                print("Every channel's observed mean fell within the forecast interval.")
        for note in result["notes"]:
            print(f"note: {note}")

    run_guarded(run)


@app.command()
def models(
    dir: Annotated[Path, typer.Option("--dir", help="Folder of model artefacts.")] = Path("models"),
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """List the model artefacts in a folder and rebuild its index.json."""

    def run():
        from whatif.errors import ArtefactError
        from whatif.fitting.registry import scan, write_index
        from whatif.report.tables import dumps_json, format_table

        check_choice(format, ("table", "json"), "--format")
        entries = scan(dir)
        try:
            write_index(dir, entries)
        except ArtefactError as err:
            say(f"note: {err}; listing without writing it")
        if format == "json":
            print(dumps_json({"models": entries}))
            return
        if not entries:
            print(f"no model artefacts in {dir}")
            return
        cols = ["name", "span", "kind", "previous", "discount", "fingerprint", "fit_date", "health"]
        rows = [{k: e[k] if e[k] not in (None, "") else "-" for k in cols} for e in entries]
        print(format_table(rows))

    run_guarded(run)


# -- app, brief and demo commands ------------------------------------------------------------


@app.command()
def brief(
    model: Annotated[Path, typer.Argument(help="Model artefact folder.")],
    scenario: Annotated[
        list[Path], typer.Option("--scenario", help="Scenario TOML file (repeat to compare).")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="brief.html or brief.pdf (format from the extension).")
    ],
    ci: Annotated[float, typer.Option(help="Probability of the intervals.")] = 0.9,
) -> None:
    """Write a one-to-two page forecast brief (self-contained HTML or A4 PDF) for directors."""
    from whatif.analysis.scenario import load_scenario
    from whatif.fitting.artefact import load_model
    from whatif.report.brief import check_output_path, write_brief

    def run():
        check_ci(ci)
        check_output_path(out)
        scenarios = [load_scenario(path) for path in scenario]
        fitted = load_model(model)
        if fitted.flagged:
            say(f"note: {fitted.verdict} The brief carries a warning banner at the top.")
        say(f"writing the brief for {len(scenarios)} scenario(s)")
        path = write_brief(fitted, scenarios, out, ci=ci)
        say(f"wrote {path}")

    run_guarded(run)


@app.command("app")
def app_command(
    model: Annotated[
        Path | None,
        typer.Argument(
            help="Model artefact folder (default: models/demo, fitted first if missing)."
        ),
    ] = None,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 5006,
    address: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    show: Annotated[bool, typer.Option("--show/--no-show", help="Open a browser tab.")] = True,
) -> None:
    """Open the what-if planner (a local web app) on a fitted model."""
    from whatif.app.server import serve

    run_guarded(lambda: serve(model, port=port, address=address, show=show))


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port to serve the planner on.")] = 5006,
    address: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    show: Annotated[bool, typer.Option("--show/--no-show", help="Open a browser tab.")] = True,
    refit: Annotated[bool, typer.Option("--refit", help="Fit the demo model again.")] = False,
) -> None:
    """The main job: demo data -> fitted demo model (once; later runs reuse it) -> planner app."""
    from whatif.app.demo import DEMO_FIT
    from whatif.app.server import serve
    from whatif.fitting.artefact import load_model
    from whatif.pipeline import fit_to_artefact

    survey, spec = DEMO_DIR / "survey.parquet", DEMO_DIR / "spec.toml"

    def prepare() -> bool:
        """Write the demo data if missing; True when the model is to be fitted."""
        if not survey.exists() or not spec.exists():
            from whatif.synthetic.files import write_demo

            say(f"writing the demo survey into {DEMO_DIR}")
            write_demo(DEMO_DIR)
        else:
            say(f"demo survey: {survey}")
        if refit or not (DEMO_MODEL / "manifest.json").exists():
            return True
        model = load_model(DEMO_MODEL)
        say(f"demo model: {DEMO_MODEL} (fitted {model.manifest['fit_date']}; --refit to redo)")
        return False

    if run_guarded(prepare):
        say(f"fitting the demo model into {DEMO_MODEL} (under a minute; once)")
        run_guarded(
            lambda: fit_to_artefact(survey, spec, DEMO_MODEL, **DEMO_FIT, log=say), out=DEMO_MODEL
        )
    run_guarded(lambda: serve(DEMO_MODEL, port=port, address=address, show=show))


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
