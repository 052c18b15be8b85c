"""The house's layers, checked: data flows one way, the sampler stack stays out of everything that
reads a fitted model, there are no import circles and no borrowed private names.

Layers, lowest first (a module may import its own layer and those below it):

    errors, exports, interrupts -> data -> synthetic -> model -> fitting -> pipeline -> analysis -> report
    -> app -> cli

Imports are read from the source (every ``import``, at module level or inside a function), so a
lazy import counts like any other. A name imported from a sub-package's lazy API
(``from whatif.model import build_model``) counts as an import of the module that defines it
(the package's ``EXPORTS`` table).
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "whatif"

LAYERS = {
    "whatif.errors": 0,
    "whatif.exports": 0,
    "whatif.interrupts": 0,
    "whatif.threads": 0,
    "whatif": 1,  # the package root re-exports the data layer's entry points
    "whatif.data": 1,
    "whatif.synthetic": 2,
    "whatif.model": 3,
    "whatif.fitting": 4,
    "whatif.pipeline": 5,
    "whatif.analysis": 6,
    "whatif.report": 7,
    "whatif.app": 8,
    "whatif.cli": 9,
}
SAMPLER_STACK = ("pymc", "pytensor", "nutpie", "numba")
#: Layers that read fitted models and must never import the sampler stack.
SAMPLER_FREE = ("whatif.analysis", "whatif.report", "whatif.app")
#: The one way from those layers to fitting: the pipeline, called when the user asks for a fit.
FIT_ENTRY = "whatif.pipeline"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
PACKAGES = {name for name, path in MODULES.items() if path.name == "__init__.py"}


def _exports(package: str) -> dict[str, str]:
    return getattr(importlib.import_module(package), "EXPORTS", {})


def _resolve(base: str, name: str) -> str:
    """The module ``from base import name`` imports (a submodule, an export, or ``base``)."""
    if f"{base}.{name}" in MODULES:
        return f"{base}.{name}"
    if base in PACKAGES:
        return _exports(base).get(name, base)
    return base


def _imports(module: str) -> list[tuple[str, str, int]]:
    """``(imported module, imported name or "", line)`` for every import in ``module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, "", node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if node.module == "whatif" or node.module.startswith("whatif."):
                    found.append((_resolve(node.module, alias.name), alias.name, node.lineno))
                else:
                    found.append((node.module, alias.name, node.lineno))
    return found


def _layer(module: str) -> tuple[str, int]:
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return prefix, LAYERS[prefix]
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


def _internal_graph() -> dict[str, set[str]]:
    graph = {}
    for module in MODULES:
        targets = {t for t, _, _ in _imports(module) if t in MODULES and t != module}
        graph[module] = {t for t in targets if t not in PACKAGES}
    return graph


def test_every_module_belongs_to_a_layer():
    for module in MODULES:
        _layer(module)


def test_no_lower_layer_imports_a_higher_one():
    wrong = []
    for module in MODULES:
        name, level = _layer(module)
        for target, _, line in _imports(module):
            if target.split(".")[0] != "whatif":
                continue
            target_name, target_level = _layer(target)
            if target_level > level:
                wrong.append(f"{module}:{line} ({name}) imports {target} ({target_name})")
    assert not wrong, "\n".join(wrong)


def test_the_sampler_stack_stays_out_of_analysis_report_and_app():
    wrong = []
    fitting_stack = {"whatif.model", "whatif.fitting.fit", "whatif.fitting.refit"}
    for module in MODULES:
        if not module.startswith(SAMPLER_FREE):
            continue
        for target, _, line in _imports(module):
            if target.split(".")[0] in SAMPLER_STACK:
                wrong.append(f"{module}:{line} imports {target}")
            if any(target == m or target.startswith(m + ".") for m in fitting_stack):
                wrong.append(f"{module}:{line} imports {target}; fit through {FIT_ENTRY}")
    assert not wrong, "\n".join(wrong)


def test_no_import_circles():
    graph = _internal_graph()
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert not cycles, cycles


def test_no_module_imports_another_modules_private_names():
    wrong = [
        f"{module}:{line} imports {name} from {target}"
        for module in MODULES
        for target, name, line in _imports(module)
        if target.startswith("whatif") and name.startswith("_") and target != module
    ]
    assert not wrong, "\n".join(wrong)


def test_every_sub_package_states_its_public_api():
    for package in PACKAGES - {"whatif"}:
        mod = importlib.import_module(package)
        assert mod.__doc__ and mod.__doc__.strip(), f"{package} has no docstring"
        exports = getattr(mod, "EXPORTS", None)
        if exports is None:  # a nested package whose names its parent's table lists
            parent = _exports(package.rsplit(".", 1)[0])
            assert any(m.startswith(package + ".") for m in parent.values()), package
            continue
        assert sorted(mod.__all__) == sorted(exports)
        for name, defining in exports.items():
            assert name in getattr(importlib.import_module(defining), "__all__", ()), (
                f"{package}.{name}: not in {defining}.__all__"
            )


def test_every_module_has_a_docstring_and_one_job_sized_file():
    long = []
    for module, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(text))
        assert doc, f"{module} has no module docstring"
        if text.count("\n") > 500 and "longer than 500 lines" not in doc.replace("\n", " "):
            long.append(f"{module}: {text.count(chr(10))} lines, no reason in its docstring")
    assert not long, "\n".join(long)


_SCRIPT = """
import sys
from whatif.fitting import load_model
from whatif.analysis import ScenarioEngine, Scenario, Lever, summarize_lift, priority_map
from whatif.analysis.summary import summarize
from whatif.report.brief import render_html
import whatif.app.page, whatif.app.server, whatif.app.state, whatif.app.bundle
import whatif.model, whatif.fitting, whatif.synthetic, whatif.pipeline
from whatif.app.bundle import load_bundle
from whatif.app.state import PlannerState

model = load_model(sys.argv[1])
engine = ScenarioEngine(model)
scenario = Scenario("s", (Lever(target="i2", kind="influencer", operation="cap", value=1.0),))
summarize_lift(engine.lift(scenario))
priority_map(model)
summarize(model)
render_html(model, [scenario])
state = PlannerState(load_bundle(sys.argv[1]))
state.set_lever("i2", "cap", 1.0)
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in {stack!r})))
"""


@pytest.mark.timeout(300)
def test_loading_a_model_and_running_scenarios_never_imports_the_sampler_stack(tiny_model_path):
    """In a fresh interpreter: load an artefact, run a scenario, the priority map, a summary and a
    brief, open a planner session -- and not one sampler module is imported."""
    script = _SCRIPT.replace("{stack!r}", repr(set(SAMPLER_STACK)))
    result = subprocess.run(
        [sys.executable, "-c", script, str(tiny_model_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "", f"imported: {result.stdout.strip()}"


@pytest.mark.timeout(300)
def test_a_fit_samples_without_a_pymc_graph():
    """In a fresh interpreter: everything a plain fit imports (the pipeline, fit_model, nutpie and
    the density's C entry points) leaves PyMC and PyTensor unimported; only the reference
    statement and a refit's carried prior build PyMC graphs."""
    script = (
        "import sys\n"
        "import whatif.pipeline, whatif.fitting.fit, whatif.fitting.compiled, nutpie\n"
        "import whatif.model.entry\n"
        "print(sorted(m for m in ('pymc', 'pytensor') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
