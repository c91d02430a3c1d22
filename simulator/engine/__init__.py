"""Running realizations: the one pipeline, the Monte Carlo ensemble, tiles, checkpoints,
memory estimates and the backends (this process, or Dask)."""
