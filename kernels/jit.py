"""The one jit decorator every kernel uses, so compile options stay consistent."""

from __future__ import annotations

import numba


def jit(fn=None, *, parallel: bool = False, helper: bool = False):
    """``numba.njit`` with the project's options: cached, numpy error model, GIL released.

    ``helper``: a kernel's inner function that allocates no array and keeps none of its array
    arguments, compiled without numba's reference counting (``_nrt=False``). Each call of a
    compiled function otherwise increments and decrements every array argument's count with
    atomic instructions, which in a loop can cost more than the helper's own work.
    """
    options = dict(cache=True, error_model="numpy", nogil=True, parallel=parallel)
    if helper:
        options["_nrt"] = False
    if fn is None:
        return lambda f: numba.njit(**options)(f)
    return numba.njit(**options)(fn)
