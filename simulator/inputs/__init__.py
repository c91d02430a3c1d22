"""What a scenario's files become: the grid, the land-use raster, the strike table and the
time axis, prepared once per run (``inputs.prepare``)."""
