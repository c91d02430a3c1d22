"""The one jit decorator every kernel uses, so compile options stay consistent."""

from __future__ import annotations

import numba


def jit(fn=None, *, parallel: bool = False):
    """``numba.njit`` with the project's options: cached, numpy error model, GIL released."""
    options = dict(cache=True, error_model="numpy", nogil=True, parallel=parallel)
    if fn is None:
        return lambda f: numba.njit(**options)(f)
    return numba.njit(**options)(fn)
