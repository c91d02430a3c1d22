"""Numba kernels of remnant: arrays and scalars in and out, no I/O. Only ``simulator`` imports them,
each module by name (``simulator.kernels.scatter``), so that reading a column layout
(``strike_table``) imports no numba."""
