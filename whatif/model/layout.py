"""The model's parameter layout and the compiled kernel's arguments, each stated once.

The sampler sees four flat vectors of unconstrained parameters (:data:`FREE_VARS`). Which block
of which vector is which coefficient -- its name, shape and offset -- is :class:`ParameterLayout`;
the model (:func:`whatif.model.build.build_model`), its reference statement
(:mod:`whatif.model.reference`), the carried-prior model (:mod:`whatif.model.carry`), the
conversion of draws (:mod:`whatif.model.units`) and the tests all unpack through it.

The compiled density (:mod:`whatif.model.density`) takes its constant inputs positionally; their
order is the field order of :class:`HyperArguments`, :class:`PriorArguments` and
:class:`LikelihoodArguments`, built once by :func:`kernel_arguments` (a test holds the kernel's
signature to these fields).

Adding a block to the model means adding it to :meth:`ParameterLayout.for_model` (and, if it
has data, a field to one of the argument tuples) plus the kernel's arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = [
    "FREE_VARS",
    "Block",
    "HyperArguments",
    "KernelArguments",
    "LikelihoodArguments",
    "ParameterLayout",
    "PriorArguments",
    "Vector",
    "kernel_arguments",
]

#: The free (unconstrained) vectors the sampler sees, in the kernel's order.
FREE_VARS = ("log_scales", "mean_raw", "coef_raw", "log_noise")


@dataclass(frozen=True)
class Block:
    """One named, shaped run of a flat vector."""

    name: str
    shape: tuple[int, ...]
    start: int

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=int))

    @property
    def stop(self) -> int:
        return self.start + self.size


@dataclass(frozen=True)
class Vector:
    """A flat parameter vector made of consecutive blocks (C order inside each)."""

    name: str
    blocks: tuple[Block, ...]

    @classmethod
    def of(cls, name: str, shapes: dict[str, tuple[int, ...]]) -> Vector:
        blocks, at = [], 0
        for block, shape in shapes.items():
            blocks.append(Block(block, tuple(int(s) for s in shape), at))
            at = blocks[-1].stop
        return cls(name, tuple(blocks))

    @property
    def size(self) -> int:
        return self.blocks[-1].stop if self.blocks else 0

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.blocks)

    @property
    def sizes(self) -> list[int]:
        return [b.size for b in self.blocks]

    def block(self, name: str) -> Block:
        for b in self.blocks:
            if b.name == name:
                return b
        raise KeyError(f"{self.name} has no block '{name}'; blocks: {', '.join(self.names)}")

    def unpack(self, values) -> dict:
        """The blocks of ``values`` shaped: NumPy ``(..., size)``, or a 1-D PyTensor vector."""
        if isinstance(values, np.ndarray):
            lead = values.shape[:-1]
            return {
                b.name: values[..., b.start : b.stop].reshape(lead + b.shape) for b in self.blocks
            }
        return {b.name: values[b.start : b.stop].reshape(b.shape) for b in self.blocks}

    def pack(self, parts: dict[str, np.ndarray]) -> np.ndarray:
        """The flat vector (``(..., size)``) of shaped blocks; inverse of :meth:`unpack`."""
        first = np.asarray(parts[self.blocks[0].name])
        lead = first.shape[: first.ndim - len(self.blocks[0].shape)]
        return np.concatenate(
            [np.asarray(parts[b.name]).reshape(lead + (b.size,)) for b in self.blocks], axis=-1
        )


@dataclass(frozen=True)
class ParameterLayout:
    """The four free vectors of the model, by name, for C channels, T years, K drivers, J
    influencers and P driver paths (all in standardized units; see :mod:`whatif.model.build`).

    * ``log_scales``: logs of the weight spread (K), weight drift (K), effect spread (J), direct
      spread (J) and path spread (P);
    * ``mean_raw``: whitened cross-channel means of the first-year weights (K), the influencer
      effects (K, J), the direct effects (J) and the paths (P);
    * ``coef_raw``: whitened weights (C, T, K), effects (C, K, J), direct effects (C, J),
      satisfaction intercepts (C, T), driver intercepts (C, K) and paths (C, P);
    * ``log_noise``: logs of the residual sds of satisfaction (C) and of each driver (C, K).

    The path blocks close each vector, so without paths (P = 0, blocks of size zero, as the
    effect blocks are without influencers) every other block keeps its offset.
    """

    channels: int
    years: int
    drivers: int
    influencers: int
    vectors: tuple[Vector, ...]
    edges: tuple[tuple[int, int], ...] = ()

    @property
    def paths(self) -> int:
        return len(self.edges)

    @classmethod
    def for_model(
        cls,
        channels: int,
        years: int,
        drivers: int,
        influencers: int,
        edges: tuple[tuple[int, int], ...] | list[tuple[int, int]] = (),
    ):
        """The layout; ``edges`` are the paths as ``(driver index, source index)``."""
        C, T, K, J = channels, years, drivers, influencers
        edges = tuple((int(k), int(s)) for k, s in edges)
        P = len(edges)
        vectors = (
            Vector.of(
                "log_scales",
                {
                    "weight_spread": (K,),
                    "weight_drift": (K,),
                    "effect_spread": (J,),
                    "direct_spread": (J,),
                    "path_spread": (P,),
                },
            ),
            Vector.of(
                "mean_raw",
                {
                    "weight_mean": (K,),
                    "effect_mean": (K, J),
                    "direct_mean": (J,),
                    "path_mean": (P,),
                },
            ),
            Vector.of(
                "coef_raw",
                {
                    "weights": (C, T, K),
                    "effects": (C, K, J),
                    "direct": (C, J),
                    "alpha": (C, T),
                    "gamma0": (C, K),
                    "paths": (C, P),
                },
            ),
            Vector.of("log_noise", {"sigma": (C,), "driver_sigma": (C, K)}),
        )
        assert tuple(v.name for v in vectors) == FREE_VARS
        return cls(C, T, K, J, vectors, edges)

    @classmethod
    def of(cls, inputs) -> ParameterLayout:
        """The layout of a model on :class:`whatif.model.inputs.ModelInputs`."""
        C, T = inputs.std.n.shape
        return cls.for_model(C, T, len(inputs.drivers), len(inputs.influencers), inputs.edges)

    def __getitem__(self, name: str) -> Vector:
        for v in self.vectors:
            if v.name == name:
                return v
        raise KeyError(f"no free vector '{name}'; vectors: {', '.join(FREE_VARS)}")

    @property
    def sizes(self) -> dict[str, int]:
        return {v.name: v.size for v in self.vectors}


class HyperArguments(NamedTuple):
    """Rates of the spreads' Gamma(2, rate) priors (one per ``log_scales`` entry) and the noise
    sds' half-normal scale."""

    scale_rate: np.ndarray
    noise_sd: np.ndarray


class PriorArguments(NamedTuple):
    """Each coefficient block's own-group estimate and precision (the whitening), the masks of
    measured terms (``pmask``: paths with both ends measured) and the prior sds of the weight,
    effect and direct means, the intercepts and the path means, in that order."""

    w_est: np.ndarray
    w_info: np.ndarray
    e_est: np.ndarray
    e_info: np.ndarray
    d_est: np.ndarray
    d_info: np.ndarray
    a_est: np.ndarray
    a_info: np.ndarray
    g0_est: np.ndarray
    g0_info: np.ndarray
    p_est: np.ndarray
    p_info: np.ndarray
    dmask: np.ndarray
    imask: np.ndarray
    pmask: np.ndarray
    prior_sd: np.ndarray


class LikelihoodArguments(NamedTuple):
    """The factored sufficient statistics of both regressions (driver equations masked where the
    driver is not measured), and where each path's coefficient sits in the driver equations
    (``path_at``: its driver, and its source's column of the driver design; as floats, like
    every kernel argument)."""

    R: np.ndarray
    b: np.ndarray
    rss0: np.ndarray
    n: np.ndarray
    R_d: np.ndarray
    b_d: np.ndarray
    rss0_d: np.ndarray
    n_d: np.ndarray
    path_at: np.ndarray


class KernelArguments(NamedTuple):
    """Every constant input of the compiled density, in three groups."""

    hyper: HyperArguments
    prior: PriorArguments
    likelihood: LikelihoodArguments

    def flat(self) -> tuple[np.ndarray, ...]:
        """The positional arguments after the four free vectors, in the kernel's order."""
        return (*self.hyper, *self.prior, *self.likelihood)


def _contiguous(values) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(values, float))


def kernel_arguments(inputs, priors) -> KernelArguments:
    """The compiled density's constant inputs from the model inputs and priors.

    Parameters
    ----------
    inputs
        :class:`whatif.model.inputs.ModelInputs`.
    priors
        :class:`whatif.model.priors.Priors`.
    """
    K, J, P = len(inputs.drivers), len(inputs.influencers), len(inputs.paths)
    dmask = inputs.driver_mask.astype(float)
    imask = inputs.influencer_mask.astype(float)
    typical = np.concatenate(
        [
            np.full(K, priors.weight_spread),
            np.full(K, priors.weight_drift),
            np.full(J, priors.effect_spread),
            np.full(J, priors.direct_spread),
            np.full(P, priors.path_spread),
        ]
    )
    hyper = HyperArguments(_contiguous(2.0 / typical), _contiguous([priors.noise_sd]))
    prior = PriorArguments(
        *(
            _contiguous(a)
            for a in (
                inputs.weight_est,
                inputs.weight_info,
                inputs.effect_est,
                inputs.effect_info,
                inputs.direct_est,
                inputs.direct_info,
                inputs.alpha_est,
                inputs.alpha_info,
                inputs.gamma0_est,
                inputs.gamma0_info,
                inputs.path_est,
                inputs.path_info,
                dmask,
                imask,
                inputs.path_mask.astype(float),
                [
                    priors.weight_mean_sd,
                    priors.effect_mean_sd,
                    priors.direct_mean_sd,
                    priors.intercept_sd,
                    priors.path_mean_sd,
                ],
            )
        )
    )
    R, b, rss0 = inputs.sat_factors
    R_d, b_d, rss0_d = inputs.driver_factors
    likelihood = LikelihoodArguments(
        *(
            _contiguous(a)
            for a in (
                R,
                b,
                rss0,
                inputs.sat_n,
                R_d,
                b_d * dmask[..., None],
                rss0_d * dmask,
                inputs.driver_n * dmask,
                inputs.path_at,
            )
        )
    )
    return KernelArguments(hyper, prior, likelihood)
