"""Command-line cases, one row each: the arguments and files (made in the test), and the outcome:
exit code 0 with a warning, or exit code 2 with one ``error:`` line on stderr; never a traceback.

``{model}`` in the arguments is the tiny fitted model (its scale is -100 to 100), ``{tmp}`` the
test's folder; ``files`` are written into ``{tmp}`` first.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from whatif.cli import app

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    expect: str  # in the one error line (exit 2), else in stdout or the written file (exit 0)
    files: dict[str, str] = field(default_factory=dict)
    code: int = 2
    written: str = ""  # a file the command writes, to look for ``expect`` in


def scenario(*lines: str, name: str = "Case") -> str:
    return "\n".join([f'name = "{name}"', *lines]) + "\n"


SIMULATE = ("simulate", "{model}", "--scenario", "{tmp}/s.toml")

CASES = [
    # -- a forecast off the rating scale is warned about, in simulate and in the brief ---------
    Case(
        "forecast-off-the-scale-simulate",
        SIMULATE,
        "of the rating scale [-100, 100], which no mean can be",
        files={"s.toml": scenario("[[lever]]", 'influencer = "i2"', "shift = 10000")},
        code=0,
    ),
    Case(
        "forecast-off-the-scale-json",
        (*SIMULATE, "--format", "json"),
        "which no mean can be; the model is linear",
        files={"s.toml": scenario("[[lever]]", 'influencer = "i2"', "shift = 10000")},
        code=0,
    ),
    Case(
        "forecast-off-the-scale-brief",
        ("brief", "{model}", "--scenario", "{tmp}/s.toml", "--out", "{tmp}/brief.html"),
        "which no mean can be",
        files={"s.toml": scenario("[[lever]]", 'influencer = "i2"', "shift = 10000")},
        code=0,
        written="brief.html",
    ),
    # -- scenario files with impossible values --------------------------------------------------
    Case("no-levers", SIMULATE, "s.toml: no levers; add at least one [[lever]]", {"s.toml": ""}),
    Case(
        "no-levers-brief",
        ("brief", "{model}", "--scenario", "{tmp}/s.toml", "--out", "{tmp}/b.html"),
        "s.toml: no levers",
        {"s.toml": scenario('description = "nothing yet"')},
    ),
    Case(
        "negative-cap-on-a-count",
        SIMULATE,
        "s.toml: lever 1 (i2): cap = -3 is below 0, but counts are 0 or more; set cap to 0 or more",
        {"s.toml": scenario("[[lever]]", 'influencer = "i2"', "cap = -3")},
    ),
    Case(
        "negative-set-on-a-count",
        SIMULATE,
        "s.toml: lever 1 (i2): set = -1 is below 0",
        {"s.toml": scenario("[[lever]]", 'influencer = "i2"', "set = -1")},
    ),
    Case(
        "negative-scale",
        SIMULATE,
        "s.toml: lever 1 (i2): scale must be 0 or more (a factor: 0.5 halves, 2 doubles), got -1",
        {"s.toml": scenario("[[lever]]", 'influencer = "i2"', "scale = -1")},
    ),
    Case(
        "share-above-one",
        SIMULATE,
        "s.toml: lever 1 (i1): share must be between 0 and 1 (e.g. 0.06 for 6%), got 1.5",
        {"s.toml": scenario("[[lever]]", 'influencer = "i1"', "share = 1.5")},
    ),
    Case(
        "set-outside-0-1-on-a-binary",
        SIMULATE,
        "s.toml: lever 1 (i1): set = 1.5 is outside 0-1, but a yes/no influencer moves as a share",
        {"s.toml": scenario("[[lever]]", 'influencer = "i1"', "set = 1.5")},
    ),
    Case(
        "not-a-number",
        SIMULATE,
        "s.toml: lever 1 (i2): cap must be a finite number, got nan",
        {"s.toml": scenario("[[lever]]", 'influencer = "i2"', "cap = nan")},
    ),
    Case(
        "driver-set-off-the-scale",
        SIMULATE,
        "s.toml: lever 1 (d1): set = 500 is off the rating scale [-100, 100]",
        {"s.toml": scenario("[[lever]]", 'driver = "d1"', "set = 500")},
    ),
    # -- usage errors: one line naming the command, and where to look ------------------------
    Case("no-command", (), "error: whatif: no command given"),
    Case("unknown-command", ("summry",), "no such command 'summry' (did you mean 'summary'?)"),
    Case("missing-argument", ("summary",), "error: whatif summary: missing argument"),
    Case("missing-option", ("simulate", "{model}"), "missing option '--scenario'"),
    Case(
        "unknown-option",
        ("summary", "{model}", "--formt", "json"),
        "error: whatif summary: no such option: --formt (did you mean --format?); "
        "see 'whatif summary --help'",
    ),
    Case("bad-int", ("priorities", "{model}", "--year", "abc"), "invalid value for '--year'"),
    Case("bad-float", ("summary", "{model}", "--ci", "x"), "invalid value for '--ci'"),
    Case("extra-argument", ("summary", "{model}", "more"), "got unexpected extra argument"),
    # -- help keeps working, brackets and all ---------------------------------------------------
    Case("help", ("--help",), "Commands:", code=0),
    Case("fit-help", ("fit", "--help"), "TOML with a [priors] table.", code=0),
    Case("refit-help", ("refit", "--help"), "Weight a0 in (0, 1] of the earlier years", code=0),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_cli_case(case, tmp_path, request):
    for name, text in case.files.items():
        (tmp_path / name).write_text(text)
    needs_model = bool(case.files)  # usage errors stop before a model is read
    model = request.getfixturevalue("tiny_model_path") if needs_model else tmp_path / "no-model"
    args = [a.format(model=model, tmp=tmp_path) for a in case.args]
    result = CliRunner().invoke(app, args)
    assert "Traceback" not in result.output
    assert result.exit_code == case.code, result.output
    if case.code == 0:
        text = (tmp_path / case.written).read_text() if case.written else result.stdout
        assert case.expect in text
        return
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert case.expect in lines[0]
    assert "Usage:" not in result.stderr


@pytest.mark.parametrize("command", sorted(typer.main.get_command(app).commands))
def test_every_command_has_help(command):
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert f"Usage: whatif {command}" in result.stdout


def test_the_console_script_and_python_m_run_main():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["whatif"] == "whatif.cli:main"
    done = subprocess.run(
        [sys.executable, "-m", "whatif.cli", "summary", "--formt", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: whatif summary: ")


def test_every_command_runs_with_one_blas_thread(monkeypatch):
    """The command line limits BLAS to one thread before any command runs (whatif.threads),
    and the limit reaches NumPy's BLAS."""
    from threadpoolctl import threadpool_info

    import whatif.cli as cli
    from whatif.threads import limit_blas_threads

    calls = []
    monkeypatch.setattr(cli, "limit_blas_threads", lambda: calls.append(True))
    result = CliRunner().invoke(app, ["summary", "--help"])
    assert result.exit_code == 0 and calls == [True]
    limit_blas_threads(2)
    limit_blas_threads(1)
    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    assert blas and all(lib["num_threads"] == 1 for lib in blas)
