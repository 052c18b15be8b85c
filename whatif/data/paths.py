"""Driver paths: the directed graph that ``depends_on`` in a spec draws between drivers.

A path ``source -> driver`` says the source driver moves the driver: in the model it is a
regressor of the driver's equation next to the influencers. The paths must form a directed
graph without cycles, so that every driver's value follows from the influencers and the noise
in one pass through :func:`path_order`. :func:`parse_depends_on` and :func:`check_paths`
validate a spec's paths (:func:`whatif.data.spec.parse_spec` calls them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from whatif.errors import closest

__all__ = ["check_paths", "find_cycles", "parse_depends_on", "path_order"]


def parse_depends_on(value: Any, where: str, bad: Callable[[str], None]) -> tuple[str, ...]:
    """A driver's ``depends_on``: a list of driver ids, repeats dropped (``()`` after
    reporting anything else to ``bad``)."""
    if not (isinstance(value, list) and all(isinstance(k, str) for k in value)):
        bad(
            f"'{where}.depends_on' must be a list of driver ids, e.g. [\"attention\"]; got {value!r}"
        )
        return ()
    return tuple(dict.fromkeys(value))


def check_paths(
    depends_on: dict[str, Sequence[str]], influencers: Iterable[str], bad: Callable[[str], None]
) -> None:
    """Report to ``bad`` (one line each) every source that is not a driver (with the closest
    driver id), a driver moving itself, and every cycle of paths.

    Parameters
    ----------
    depends_on
        Each driver id (in spec order) to the ids it names in ``depends_on``.
    influencers
        The influencer ids (naming one gets its own message).
    bad
        Called with each problem.
    """
    ids = list(depends_on)
    influencers = set(influencers)
    for driver, sources in depends_on.items():
        key = f"drivers.{driver}.depends_on"
        for source in sources:
            if source == driver:
                bad(f"'{key}' names '{driver}' itself; a driver cannot move itself, remove it")
            elif source in influencers:
                bad(
                    f"'{key}' names '{source}', an influencer; influencers move drivers already, "
                    f"list only drivers there"
                )
            elif source not in depends_on:
                bad(
                    f"'{key}' names '{source}', not a driver{closest(source, ids)}; "
                    f"drivers: {', '.join(ids)}"
                )
    parents = {k: [s for s in v if s in depends_on and s != k] for k, v in depends_on.items()}
    for cycle in find_cycles(parents):
        bad(
            f"'drivers.{cycle[-1]}.depends_on' closes a cycle of paths: {' -> '.join(cycle)}; "
            f"paths must not lead back to where they start, remove one of them"
        )


def find_cycles(parents: dict[str, Sequence[str]]) -> list[list[str]]:
    """Cycles of the graph, each once, in the direction of influence (``source -> driver``),
    starting and ending at the same driver.

    Parameters
    ----------
    parents
        Each driver id (in spec order) to the drivers that move it (known ids only).
    """
    state: dict[str, int] = {}  # 1: on the current trail, 2: done
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        trail.append(node)
        for source in parents[node]:
            if state.get(source) == 1:
                loop = trail[trail.index(source) :]
                if frozenset(loop) not in seen:
                    seen.add(frozenset(loop))
                    # the trail runs from a driver to its sources; influence runs the other way
                    found.append([*loop, source][::-1])
            elif source not in state:
                visit(source, trail)
        trail.pop()
        state[node] = 2

    for node in parents:
        if node not in state:
            visit(node, [])
    return found


def path_order(drivers: Sequence[str], paths: Iterable[tuple[str, str]]) -> list[str]:
    """The drivers in an order where every source comes before the drivers it moves: the
    given order wherever the paths allow it (the given order itself without paths).

    Parameters
    ----------
    drivers
        Driver ids.
    paths
        ``(driver, source)`` pairs without cycles (:attr:`whatif.data.spec.Spec.paths`).
    """
    paths = list(paths)
    waiting = {k: {s for d, s in paths if d == k} for k in drivers}
    order: list[str] = []
    while len(order) < len(drivers):
        ready = next((k for k in drivers if k not in order and not waiting[k] - set(order)), None)
        if ready is None:
            raise ValueError(f"the paths among {list(drivers)} form a cycle")
        order.append(ready)
    return order
