"""The ``whatif`` command line: check, demo-data, fit, summary, and what builds on them.

Every user mistake ends in a one-line ``error:`` message and exit code 2, never a traceback:
mistakes in files and values through :func:`run_guarded`, usage mistakes (a missing argument, an
unknown option, a bad number) through :class:`WhatifGroup`. The console script and
``python -m whatif.cli`` run :func:`main`.

The file is longer than 500 lines because it is the one place every command's arguments and
options are declared (thirteen commands, each a few lines of parsing that call the library); the
words and tables they print live in :mod:`whatif.report.terminal`.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from whatif import interrupts
from whatif.errors import WhatifError
from whatif.threads import limit_blas_threads

try:  # recent Typer carries its own copy of click and raises its exceptions
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - earlier Typer runs on click itself
    from click import exceptions as click_errors


def usage_error(err: click_errors.UsageError) -> str:
    """Click's usage error as one ``error:`` line naming the command, with where to look."""
    message = err.format_message().strip()
    message = re.sub(r"\.?\s*Did you mean (.+?)\?$", r" (did you mean \1?)", message)
    message = re.sub(r"\s*\(Possible options?: (.+)\)$", r" (did you mean \1?)", message)
    message = message.rstrip(".")
    message = message[:1].lower() + message[1:]
    command = err.ctx.command_path if err.ctx is not None else "whatif"
    return f"error: {command}: {message}; see '{command} --help'"


class WhatifGroup(TyperGroup):
    """The command group: usage errors end in one ``error:`` line and exit code 2, like every
    other mistake, instead of click's boxed usage text."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        limit_blas_threads()
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click_errors.NoArgsIsHelpError as err:
            print(err.ctx.get_help())
            print(
                f"error: {err.ctx.command_path}: no command given; choose one of the above",
                file=sys.stderr,
            )
            sys.exit(2)
        except click_errors.UsageError as err:
            print(usage_error(err), file=sys.stderr)
            sys.exit(2)
        except click_errors.ClickException as err:
            print(f"error: {err.format_message()}", file=sys.stderr)
            sys.exit(err.exit_code)
        except typer.Abort:
            print("interrupted: nothing was written", file=sys.stderr)
            sys.exit(1)
        # without standalone mode click returns an exit's code instead of exiting with it
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="whatif",
    cls=WhatifGroup,
    help="Bayesian key-driver simulation and what-if planning for customer experience.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help: rich markup would take "[priors]" and other brackets in help texts for tags
    rich_markup_mode=None,
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


#: Exit codes of an interrupted command: Ctrl-C (SIGINT) and SIGTERM.
INTERRUPTED_CODES = {interrupts.Interrupted(s).exit_code for s in interrupts.SIGNALS}


def _ignore(_unraisable) -> None:
    """An unraisable-exception hook that says nothing."""


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

    Notes say what was read differently from the file as it stands (and which declared paths no
    channel can estimate); warnings point at valid but suspicious data (likely "don't know" codes, perfectly collinear drivers).
    """
    import dataclasses

    from whatif.data.diagnose import path_notes, survey_warnings
    from whatif.data.survey import load_survey
    from whatif.report.terminal import survey_report

    def run():
        survey = load_survey(data, spec)
        survey = dataclasses.replace(survey, notes=survey.notes + path_notes(survey))
        print(survey_report(data, survey, survey_warnings(survey)))

    run_guarded(run)


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the demo into.")] = DEMO_DIR,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 2026,
    n: Annotated[int, typer.Option(help="Number of responses.")] = 75_000,
) -> None:
    """Write the seeded demo survey, its spec, the ground truth it was drawn from, and the
    monitor's demo KPI feed and alerts."""
    from whatif.synthetic.files import write_demo

    def run():
        if n < 5_000:
            raise WhatifError(
                f"--n must be at least 5000 so every channel-year group can be estimated, got {n}"
            )
        paths = write_demo(out, seed=seed, n=n)
        from whatif.synthetic.files import load_truth
        from whatif.synthetic.kpis import write_demo_kpis

        paths.update(write_demo_kpis(out, load_truth(paths["truth"]), seed=seed))
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
            help="auto (dask for a glob of Parquet files or a folder of more than 2M rows), "
            "pandas or dask.",
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
    from whatif.report.tables import dumps_json
    from whatif.report.terminal import summary_report

    def run():
        check_choice(format, ("table", "json"), "--format")
        check_ci(ci)
        fitted = load_model(model)
        result = summarize(fitted, ci)
        if format == "json":
            print(dumps_json(result))
            return
        print(summary_report(model, fitted, result))

    run_guarded(run)


# -- scenario commands (simulate, priorities) ------------------------------------------------

SCENARIO_HELP = (
    "A scenario TOML file, or the name of a scenario saved in the planner (MODEL/scenarios); "
    "an existing file wins over a saved name."
)


@app.command()
def simulate(
    model: Annotated[Path, typer.Argument(help="Model artefact folder.")],
    scenario: Annotated[list[str], typer.Option("--scenario", help=SCENARIO_HELP)],
    ci: Annotated[float, typer.Option(help="Probability of the intervals.")] = 0.9,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Forecast the satisfaction lift of one or more scenarios (side by side).

    With several scenarios the table ends with each one minus the first, on the same posterior
    draws, with its interval and the chance it beats the first.
    """
    from whatif.analysis.difference import scenario_difference
    from whatif.analysis.engine import ScenarioEngine, summarize_lift
    from whatif.analysis.library import resolve_scenario
    from whatif.fitting.artefact import load_model
    from whatif.report.difference import difference_report
    from whatif.report.tables import dumps_json
    from whatif.report.terminal import lift_report

    def run():
        check_choice(format, ("table", "json"), "--format")
        check_ci(ci)
        fitted = load_model(model)  # first: a saved scenario's name needs the model's folder
        scenarios = [resolve_scenario(value, model) for value in scenario]
        engine = ScenarioEngine(fitted)
        results = [summarize_lift(engine.lift(s), ci, flagged=fitted.flagged) for s in scenarios]
        if format == "json":
            dicts = [r.to_dict() for r in results]
            print(dumps_json(dicts[0] if len(dicts) == 1 else dicts))
            return
        print(lift_report(results, fitted))
        if len(scenarios) > 1:
            diffs = [scenario_difference(engine, scenarios[0], s, ci) for s in scenarios[1:]]
            print(difference_report(diffs, fitted.spec.label_of))

    run_guarded(run)


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
        if year is not None and fitted.single_period:
            raise WhatifError(
                f"--year {year}: {model} has one survey period (its spec has no year column); "
                "leave --year out"
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
            hidden = ["label", "year"] if fitted.single_period else ["label"]
            print(format_table(table.drop(columns=hidden)))

    run_guarded(run)


@app.command()
def optimize(
    model: Annotated[Path, typer.Argument(help="Model artefact folder.")],
    options: Annotated[Path, typer.Option("--options", help="Options TOML: costed actions.")],
    budget: Annotated[float | None, typer.Option(help="Most lift for at most this cost.")] = None,
    target: Annotated[
        float | None,
        typer.Option(help="Cheapest plan lifting the metric by at least this (top_box: a share)."),
    ] = None,
    confidence: Annotated[
        float, typer.Option(help="With --target: the probability of reaching it.")
    ] = 0.9,
    metric: Annotated[
        str | None, typer.Option(help="mean, top_box or nps (default: the headline metric).")
    ] = None,
    year: Annotated[int | None, typer.Option(help="Scenario year (default: the next).")] = None,
    ci: Annotated[float, typer.Option(help="Probability of the intervals.")] = 0.9,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the plan as a scenario file.")
    ] = None,
) -> None:
    """The plan of costed options with the most lift for a budget, or the cheapest reaching a
    target with a given probability; with the efficient frontier."""
    from whatif.report.plan import plan_report, write_plan
    from whatif.report.tables import dumps_json

    def run():
        check_choice(format, ("table", "json"), "--format")
        check_ci(ci)
        fitted, result = _optimized(model, options, budget, target, confidence, metric, year, ci)
        if result.note:
            say(f"note: {result.note}")
        if out is not None and result.scenario is not None:
            write_plan(result.scenario, out)
            say(f"wrote {out}")
        print(
            dumps_json(result.to_dict()) if format == "json" else plan_report(result, fitted.spec)
        )
        if result.plan is None:
            say("no plan reaches the target")
            raise typer.Exit(code=1)

    run_guarded(run)


def _optimized(model, options, budget, target, confidence, metric, year, ci):
    """The loaded model and the optimized plan of ``whatif optimize`` and ``brief --options``."""
    from whatif.analysis.engine import ScenarioEngine
    from whatif.analysis.optimizer import optimize as optimize_plan
    from whatif.analysis.options import OptionsError, load_options, validate_options
    from whatif.analysis.scenario import Scenario, validate_scenario
    from whatif.fitting.artefact import load_model

    if (budget is None) == (target is None):
        raise WhatifError("give --budget B (most lift for the money) or --target T, not both")
    if budget is not None and not 0 <= budget < math.inf:
        raise WhatifError(f"--budget must be a finite amount, 0 or more; got {budget:g}")
    if target is not None and not math.isfinite(target):
        raise WhatifError(f"--target must be a finite lift; got {target:g}")
    if not 0 < confidence < 1:
        raise WhatifError(f"--confidence must be a probability between 0 and 1, got {confidence}")
    option_set = load_options(options)
    fitted = load_model(model)
    metrics = fitted.spec.rating.metrics
    chosen = metric or fitted.spec.rating.headline
    check_choice(chosen, metrics, "--metric")
    problems = validate_scenario(
        Scenario("year", (), year), fitted.spec, fitted.aggregates, source="--year"
    )
    problems += validate_options(option_set, fitted.spec, fitted.aggregates)
    if problems:
        raise OptionsError(*problems)
    engine = ScenarioEngine(fitted)
    question = {"budget": budget, "target": target, "confidence": confidence, "ci": ci}
    return fitted, optimize_plan(option_set, engine, chosen, year=year, **question)


# -- monitor: the CX driver index between surveys --------------------------------------------


@app.command()
def monitor(
    model: Annotated[Path, typer.Argument(help="Model artefact folder.")],
    kpis: Annotated[
        Path, typer.Option("--kpis", help="KPI feed: CSV or Parquet (file, folder or glob).")
    ],
    alerts: Annotated[Path | None, typer.Option("--alerts", help="Alerts TOML file.")] = None,
    metric: Annotated[
        str | None, typer.Option(help="mean, top_box or nps (default: the model's headline).")
    ] = None,
    ci: Annotated[float, typer.Option(help="Probability of the intervals.")] = 0.9,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write a report: monitor.html or .pdf.")
    ] = None,
    survey: Annotated[
        Path | None,
        typer.Option("--survey", help="A new survey year: backtest the nowcasts against it."),
    ] = None,
    engine: Annotated[
        str, typer.Option(help="auto (dask for a Parquet folder or glob), pandas or dask.")
    ] = "auto",
) -> None:
    """Nowcast satisfaction per period and channel from operational KPIs, and alert on it.

    Exit status 0 when no alert fires, 3 when one does, 2 on bad input.
    """

    def run() -> bool:
        from whatif.analysis.alerts import load_alerts, validate_alerts
        from whatif.analysis.monitor import Monitor
        from whatif.data.kpis import load_kpis
        from whatif.data.rating import METRICS
        from whatif.fitting.artefact import load_model
        from whatif.report.monitor import check_report_path, monitor_text, write_monitor_report
        from whatif.report.tables import dumps_json

        check_choice(format, ("table", "json"), "--format")
        check_ci(ci)
        if metric is not None:
            check_choice(metric, METRICS, "--metric")
        if out is not None:
            check_report_path(out)
        rules = load_alerts(alerts) if alerts is not None else ()
        fitted = load_model(model)
        spec = fitted.spec
        problems = validate_alerts(
            rules,
            channels=fitted.channels,
            influencers=spec.influencer_ids,
            metrics=spec.rating.metrics,
            source=str(alerts),
        )
        if problems:
            raise WhatifError(*problems)
        feed = load_kpis(kpis, spec, fitted.channels, engine=engine)
        for note in feed.notes:
            say(f"note: {note}")
        watch = Monitor(fitted)
        draws = watch.draws(feed)
        result = watch.nowcast(feed, metric, ci, rules, draws=draws)
        checked = _backtest(survey, fitted, draws, watch.baseline_year, ci) if survey else None
        if format == "json":
            data = result.to_dict()
            if checked is not None:
                data["backtest"] = checked.to_dict()
            print(dumps_json(data))
        else:
            print(monitor_text(result, str(kpis)))
            if checked is not None:
                from whatif.report.monitor import backtest_text

                print(backtest_text(checked))
        if out is not None:
            say(f"wrote {write_monitor_report(result, rules, spec, str(kpis), out)}")
        return result.fired

    if run_guarded(run):
        raise typer.Exit(code=3)


def _backtest(survey: Path, fitted, draws, baseline_year: int, ci: float):
    """The monitor's backtest against a new survey read with the model's spec."""
    from whatif.analysis.monitor_backtest import backtest_nowcast
    from whatif.data.aggregate import aggregate
    from whatif.data.survey import load_survey

    aggregates = aggregate(load_survey(survey, fitted.spec, known_channels=fitted.channels))
    return backtest_nowcast(draws, aggregates, baseline_year, ci=ci, source=str(survey))


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
        from whatif.report.tables import dumps_json
        from whatif.report.terminal import compare_report

        check_choice(format, ("table", "json"), "--format")
        check_ci(ci)
        result = compare_models(load_model(old), load_model(new), ci=ci, seed=seed)
        if format == "json":
            print(dumps_json(result))
            return
        print(compare_report(result, old, new))

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
    out: Annotated[
        Path, typer.Option("--out", help="brief.html or brief.pdf (format from the extension).")
    ],
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", help=SCENARIO_HELP + " Repeat to compare."),
    ] = None,
    ci: Annotated[float, typer.Option(help="Probability of the intervals.")] = 0.9,
    plan: Annotated[
        Path | None, typer.Option("--plan", help="A plan file (whatif optimize --out).")
    ] = None,
    options: Annotated[
        Path | None,
        typer.Option("--options", help="Options TOML: add the optimized plan and its frontier."),
    ] = None,
    budget: Annotated[float | None, typer.Option(help="With --options: the budget.")] = None,
    target: Annotated[float | None, typer.Option(help="With --options: the target.")] = None,
    confidence: Annotated[float, typer.Option(help="With --target: its probability.")] = 0.9,
    metric: Annotated[str | None, typer.Option(help="With --options: the metric.")] = None,
) -> None:
    """Write a one-to-two page forecast brief (self-contained HTML or A4 PDF) for directors;
    with --plan or --options, a plan section with the efficient frontier."""
    from whatif.analysis.library import resolve_scenario
    from whatif.analysis.scenario import load_scenario
    from whatif.fitting.artefact import load_model
    from whatif.report.brief import check_output_path, write_brief

    def run():
        check_ci(ci)
        check_output_path(out)
        if not scenario and plan is None and options is None:
            raise WhatifError("give --scenario FILE, --plan FILE or --options FILE --budget B")
        fitted = load_model(model)  # first: a saved scenario's name needs the model's folder
        scenarios = [resolve_scenario(value, model) for value in scenario or []]
        scenarios += [load_scenario(plan)] if plan else []
        result = None
        if options is not None:
            fitted, result = _optimized(
                model, options, budget, target, confidence, metric, None, ci
            )
            if result.scenario is not None and plan is None:
                scenarios.append(result.scenario)
        if not scenarios:
            raise WhatifError(f"{options}: no plan reaches the target; the brief has no scenario")
        if fitted.flagged:
            say(f"note: {fitted.verdict} The brief carries a warning banner at the top.")
        say(f"writing the brief for {len(scenarios)} scenario(s)")
        path = write_brief(fitted, scenarios, out, ci=ci, plan=result)
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
    address: Annotated[
        str,
        typer.Option(
            help="Address to listen on; anything but 127.0.0.1 needs sign-in or --no-auth."
        ),
    ] = "127.0.0.1",
    show: Annotated[bool, typer.Option("--show/--no-show", help="Open a browser tab.")] = True,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Serve to other machines without sign-in, on purpose.")
    ] = False,
    basic_auth: Annotated[
        Path | None,
        typer.Option(
            "--basic-auth",
            help='Sign in with passwords: a file holding {"user": "password", ...} as JSON or one '
            "shared password (or set WHATIF_BASIC_AUTH).",
        ),
    ] = None,
    oauth_provider: Annotated[
        str | None,
        typer.Option(
            "--oauth-provider",
            help="Sign in through OAuth: github, google, azure, okta, generic...",
        ),
    ] = None,
    oauth_secrets: Annotated[
        Path | None,
        typer.Option(
            "--oauth-secrets",
            help="TOML file with the OAuth key, secret (and encryption_key, redirect_uri, "
            "[extra_params]); or set WHATIF_OAUTH_KEY and WHATIF_OAUTH_SECRET.",
        ),
    ] = None,
    cookie_secret: Annotated[
        Path | None,
        typer.Option(
            "--cookie-secret",
            help="File holding the secret that signs sign-in cookies (or WHATIF_COOKIE_SECRET; "
            "default: random per start).",
        ),
    ] = None,
    num_procs: Annotated[
        int,
        typer.Option(
            "--num-procs",
            min=0,
            max=64,
            help="Server processes (0: one per core, up to 4; one while the model is fitted).",
        ),
    ] = 0,
    num_threads: Annotated[
        int, typer.Option("--num-threads", min=0, max=64, help="Threads for callbacks (0: none).")
    ] = 0,
) -> None:
    """Open the what-if planner (a local web app) on a fitted model.

    Served on 127.0.0.1 it needs no sign-in; on any other address (e.g. 0.0.0.0, to share it on
    a network) it needs --basic-auth or --oauth-provider, or --no-auth to serve it open on
    purpose. Secrets are read from files or the environment, never from the command line.
    """
    from whatif.app.server import Access, serve

    access = Access(no_auth, basic_auth, oauth_provider, oauth_secrets, cookie_secret)
    run_guarded(
        lambda: serve(
            model,
            port=port,
            address=address,
            show=show,
            access=access,
            num_procs=num_procs or None,
            num_threads=num_threads or None,
        )
    )


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port to serve the planner on.")] = 5006,
    address: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    show: Annotated[bool, typer.Option("--show/--no-show", help="Open a browser tab.")] = True,
    refit: Annotated[bool, typer.Option("--refit", help="Fit the demo model again.")] = False,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Serve to other machines without sign-in, on purpose.")
    ] = False,
) -> None:
    """The main job: demo data -> fitted demo model (once; later runs reuse it) -> planner app."""
    from whatif.app.demo import DEMO_FIT
    from whatif.app.server import Access, serve, server_options
    from whatif.data.spec import load_spec
    from whatif.data.survey import fingerprint_files
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
        if model.manifest.get("fingerprint") != fingerprint_files([survey], load_spec(spec)):
            say(f"the demo survey or spec changed since {DEMO_MODEL} was fitted; fitting it again")
            return True
        say(f"demo model: {DEMO_MODEL} (fitted {model.manifest['fit_date']}; --refit to redo)")
        return False

    access = Access(no_auth=no_auth)
    run_guarded(lambda: server_options(address, access))  # before a fit, not after it
    if run_guarded(prepare):
        say(f"fitting the demo model into {DEMO_MODEL} (under a minute; once)")
        run_guarded(
            lambda: fit_to_artefact(survey, spec, DEMO_MODEL, **DEMO_FIT, log=say), out=DEMO_MODEL
        )
    run_guarded(lambda: serve(DEMO_MODEL, port=port, address=address, show=show, access=access))


def main() -> None:  # pragma: no cover - console entry point
    """The ``whatif`` console script (``python -m whatif.cli`` too)."""
    try:
        app(prog_name="whatif")
    except SystemExit as done:
        if done.code in INTERRUPTED_CODES:
            # an object the interrupt cut short (a netCDF file half opened) may fail to close
            # when it is collected at exit; the one line printed has said what happened
            sys.unraisablehook = _ignore
        raise


if __name__ == "__main__":  # pragma: no cover
    main()
