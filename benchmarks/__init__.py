"""Benchmarks of remnant: the scatter kernel against a numpy baseline, the demo run end to end,
threads, scaling in work, grid and realizations, and land-use rasterisation.

Run ``python -m benchmarks [--quick] [--json FILE]`` from the repository root; see README.md.
"""
