"""Numba kernels of remnant: arrays and scalars in and out, no I/O. Only ``simulator`` imports them."""

from kernels.scatter import pattern_offset, scatter_ensemble

__all__ = ["pattern_offset", "scatter_ensemble"]
