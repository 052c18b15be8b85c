"""One BLAS thread per process: whatif parallelizes above BLAS (Dask threads, the sampler's
chains, the planner's sessions), and BLAS threads on top of those fight for the same cores.

OpenBLAS's threads spin while they wait; with two busy cores, a 40,000 x 20 matrix product that
takes milliseconds alone took seconds, and aggregating a 1M-response rating-scale survey went
from 6 s to 42 s (measured while another process kept the machine busy). With one BLAS thread
the same work takes the same time busy or idle, and whatif's own parallelism keeps the cores
busy.
"""

from __future__ import annotations

__all__ = ["limit_blas_threads"]


def limit_blas_threads(threads: int = 1) -> None:
    """Limit every loaded BLAS library (NumPy's and SciPy's OpenBLAS) to ``threads`` threads, for
    the rest of the process."""
    import numpy  # noqa: F401 - loads NumPy's BLAS, so that the limit reaches it
    import scipy.linalg  # noqa: F401 - and SciPy's
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")
