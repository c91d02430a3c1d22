"""Land release: work units cut from the hazard map, their work order, and survey and
clearance simulated in every realization."""
