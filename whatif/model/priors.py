"""Priors, stated in one place, on the data's own (standardized) scale, overridable from TOML.

The model works on variables standardized by their pooled mean and standard deviation, so every
prior below reads in standard deviations: a driver weight of 0.5 means half a standard deviation of
satisfaction per standard deviation of the driver. Results are reported back in data units.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

from whatif.errors import SpecError, closest, read_toml

__all__ = ["Priors", "load_priors"]


@dataclass(frozen=True)
class Priors:
    """Scales of the weakly informative priors (all in standardized units).

    Attributes
    ----------
    intercept_sd
        Normal sd of group intercepts of both regressions.
    weight_mean_sd
        Normal sd of a driver's cross-channel mean weight in the first year.
    weight_spread
        Typical spread of channels' first-year weights around that mean.
    weight_drift
        Typical year-to-year random-walk step of a weight.
    effect_mean_sd, effect_spread
        Influencer -> driver effects: sd of the cross-channel mean; typical channel spread.
    direct_mean_sd, direct_spread
        Direct influencer -> satisfaction effects: sd of the cross-channel mean; typical spread.
    path_mean_sd, path_spread
        Driver -> driver paths (``depends_on`` in the spec): sd of an edge's cross-channel mean;
        typical channel spread. A path is a partial regression coefficient of one rating on
        another in standard deviations; 0.5 leaves room for the strong paths ratings show (a
        driver feeding another) without favouring them.

    Every spread (``*_spread``, ``weight_drift``) has a Gamma(2, 2/s) prior: mean ``s``, mode
    ``s/2``, no mass piled at zero, so that a hierarchy over a few channels or years cannot
    collapse into a funnel, while a spread near zero stays possible (Chung et al. 2013).
    noise_sd
        Half-normal scale of the residual sd of both regressions.
    """

    intercept_sd: float = 1.0
    weight_mean_sd: float = 0.5
    weight_spread: float = 0.2
    weight_drift: float = 0.1
    effect_mean_sd: float = 0.5
    effect_spread: float = 0.2
    direct_mean_sd: float = 0.3
    direct_spread: float = 0.1
    path_mean_sd: float = 0.5
    path_spread: float = 0.2
    noise_sd: float = 1.0

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict, source: str = "<priors>") -> Priors:
        valid = [f.name for f in fields(cls)]
        problems = []
        for key, value in values.items():
            if key not in valid:
                problems.append(
                    f"{source}: unknown prior '{key}'{closest(key, valid)}; valid: {', '.join(valid)}"
                )
            elif isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                problems.append(f"{source}: prior '{key}' must be a positive number, got {value!r}")
        if problems:
            raise SpecError(*problems)
        return cls(**{k: float(v) for k, v in values.items()})


def load_priors(path: str | Path | None) -> Priors:
    """Read a config TOML with a ``[priors]`` table (``None`` gives the defaults)."""
    if path is None:
        return Priors()
    raw = read_toml(path, SpecError, "config file")
    unknown = [k for k in raw if k != "priors"]
    if unknown:
        raise SpecError(
            f"{path}: unknown table '{unknown[0]}'{closest(unknown[0], ['priors'])}; the config holds a [priors] table"
        )
    return Priors.from_dict(raw.get("priors", {}), source=str(path))
