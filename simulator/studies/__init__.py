"""Studies over scenario variants: one-parameter sweeps and Sobol sensitivity analyses."""
