"""Numba kernels of remnant: arrays and scalars in and out, no I/O. Only ``simulator`` imports them."""

from .scatter import scatter_ensemble, unit_point

__all__ = ["scatter_ensemble", "unit_point"]
