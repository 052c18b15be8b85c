"""The compiled density as a C function the sampler calls directly, compiled once per machine.

nutpie samples a model through two C callbacks: the log density with its gradient, and an
``expand`` function that turns a position into the values it records. Given a PyMC model, nutpie
writes these callbacks around the model's PyTensor graph and compiles them with numba on every
fit; numba cannot cache them (they close over the graph), and linking our density kernel into them
re-optimizes the whole kernel each time: 10-25 s of every fit, warm cache or not.

:func:`density_entry` and :func:`identity_entry` here are those two callbacks written once, for
:func:`whatif.model.density.density_kernel` and the four free vectors the model records
(:data:`whatif.model.layout.FREE_VARS`), and cached on disk by numba like the kernel. The
constant arguments reach them through one pointer (nutpie's ``user_data``): a table of int64
holding the four free vectors' sizes and, for every kernel argument in
:meth:`whatif.model.layout.KernelArguments.flat` order, its address and shape (:func:`argument_table`).

The model is the same: a test holds :func:`density_entry` to the kernel, value and gradient.
numba keys a cached function on its own file only; the entry points carry the kernel's code,
so their cached copies are dropped whenever the kernel's sources change (:func:`_forget_stale`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from whatif.model import density, kernels, whiten
from whatif.model.density import density_kernel

__all__ = [
    "ARGUMENT_NDIMS",
    "MAX_NDIM",
    "argument_table",
    "density_entry",
    "identity_entry",
]

#: The number of dimensions of each kernel argument, in
#: :meth:`whatif.model.layout.KernelArguments.flat` order (a test holds them to the arguments).
ARGUMENT_NDIMS = (1, 1, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 4, 3, 2, 2, 4, 3, 2, 2, 2)
#: Entries per argument in the table: its address, then up to this many extents.
MAX_NDIM = 4
_FREE = 4  # the free vectors' sizes lead the table
_ROW = 1 + MAX_NDIM

# nutpie's callback signatures: logp(dim, x, gradient, logp, user_data) and
# expand(dim, expanded, x, values, user_data); 0 is success
_LOGP_SIGNATURE = types.int64(
    types.uint64, types.CPointer(types.double), types.CPointer(types.double),
    types.CPointer(types.double), types.voidptr,
)  # fmt: skip
_EXPAND_SIGNATURE = types.int64(
    types.uint64, types.uint64, types.CPointer(types.double), types.CPointer(types.double),
    types.voidptr,
)  # fmt: skip


def argument_table(arguments, sizes) -> np.ndarray:
    """The int64 table :func:`density_entry` reads its constants from.

    Parameters
    ----------
    arguments
        The kernel's constant arguments (:meth:`whatif.model.layout.KernelArguments.flat`):
        C-contiguous float64 arrays, which must outlive every call (the table holds their
        addresses, not their values).
    sizes
        The sizes of the four free vectors, in :data:`whatif.model.layout.FREE_VARS` order.
    """
    if len(arguments) != len(ARGUMENT_NDIMS):
        raise ValueError(f"{len(arguments)} kernel arguments, expected {len(ARGUMENT_NDIMS)}")
    table = np.zeros(_FREE + _ROW * len(arguments), np.int64)
    table[:_FREE] = sizes
    for i, (array, ndim) in enumerate(zip(arguments, ARGUMENT_NDIMS, strict=True)):
        if array.ndim != ndim or array.dtype != np.float64 or not array.flags.c_contiguous:
            raise ValueError(
                f"kernel argument {i}: expected a C-contiguous float64 array of {ndim} "
                f"dimensions, got {array.dtype} of shape {array.shape}"
            )
        row = _FREE + _ROW * i
        table[row] = array.ctypes.data
        table[row + 1 : row + 1 + ndim] = array.shape
    return table


def _forget_stale() -> None:
    """Drop the cached entry points if the kernel's sources changed since they were compiled."""
    from numba.core.caching import FunctionCache

    sources = [Path(module.__file__) for module in (density, kernels, whiten)]
    sources.append(Path(__file__))
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
    folder = Path(FunctionCache(argument_table).cache_path)
    stamp = folder / "entry.kernel-sources"
    try:
        if stamp.read_text() == digest:
            return
    except OSError:
        pass
    try:
        for cached in folder.glob("entry.*_entry-*.nb*"):
            cached.unlink(missing_ok=True)
        folder.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
    except OSError:  # a read-only cache: numba will not write there either
        pass


_forget_stale()


@intrinsic
def _double_pointer(typingctx, address):
    """An int64 address as a pointer to doubles."""
    signature = types.CPointer(types.double)(address)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], ir.DoubleType().as_pointer())

    return signature, codegen


@numba.njit(cache=True, inline="always")
def _a1(table, i):  # pragma: no cover - compiled
    row = _FREE + _ROW * i
    return numba.carray(_double_pointer(table[row]), (table[row + 1],))


@numba.njit(cache=True, inline="always")
def _a2(table, i):  # pragma: no cover - compiled
    row = _FREE + _ROW * i
    return numba.carray(_double_pointer(table[row]), (table[row + 1], table[row + 2]))


@numba.njit(cache=True, inline="always")
def _a3(table, i):  # pragma: no cover - compiled
    row = _FREE + _ROW * i
    shape = (table[row + 1], table[row + 2], table[row + 3])
    return numba.carray(_double_pointer(table[row]), shape)


@numba.njit(cache=True, inline="always")
def _a4(table, i):  # pragma: no cover - compiled
    row = _FREE + _ROW * i
    shape = (table[row + 1], table[row + 2], table[row + 3], table[row + 4])
    return numba.carray(_double_pointer(table[row]), shape)


@numba.cfunc(_LOGP_SIGNATURE, cache=True)
def density_entry(dim, x_, gradient_, logp_, table_):  # pragma: no cover - compiled
    """nutpie's log-density callback: the kernel's value and gradient at ``x``."""
    table = numba.carray(table_, (_FREE + _ROW * len(ARGUMENT_NDIMS),), np.int64)
    n0, n1, n2, n3 = table[0], table[1], table[2], table[3]
    if dim != n0 + n1 + n2 + n3:
        return -1
    x = numba.carray(x_, (dim,))
    gradient = numba.carray(gradient_, (dim,))
    logp = numba.carray(logp_, (1,))
    value, g0, g1, g2, g3 = density_kernel(
        x[:n0], x[n0 : n0 + n1], x[n0 + n1 : n0 + n1 + n2], x[n0 + n1 + n2 :],
        _a1(table, 0), _a1(table, 1), _a3(table, 2), _a3(table, 3), _a3(table, 4),
        _a3(table, 5), _a2(table, 6), _a2(table, 7), _a2(table, 8), _a2(table, 9),
        _a2(table, 10), _a2(table, 11), _a2(table, 12), _a2(table, 13), _a2(table, 14),
        _a2(table, 15), _a2(table, 16), _a1(table, 17), _a4(table, 18), _a3(table, 19),
        _a2(table, 20), _a2(table, 21), _a4(table, 22), _a3(table, 23), _a2(table, 24),
        _a2(table, 25), _a2(table, 26),
    )  # fmt: skip
    gradient[:n0] = g0
    gradient[n0 : n0 + n1] = g1
    gradient[n0 + n1 : n0 + n1 + n2] = g2
    gradient[n0 + n1 + n2 :] = g3
    total = value.item()
    logp[0] = total
    if not np.all(np.isfinite(gradient)):
        return 3
    if not np.isfinite(total):
        return 4
    return 0


@numba.cfunc(_EXPAND_SIGNATURE, cache=True)
def identity_entry(dim, expanded, x_, values_, table_):  # pragma: no cover - compiled
    """nutpie's expand callback: the recorded values are the position itself."""
    if expanded != dim:
        return -1
    values = numba.carray(values_, (expanded,))
    values[:] = numba.carray(x_, (dim,))
    return 0
