"""The benchmark harness runs and writes well-formed JSON (speed is never asserted)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
UNITS = {"submunitions/s", "remnants/s", "realizations/s", "polygons/s", "x", "MB", "CPU s", "GB/s", "ns/output",
         "ns/point", "ns/remnant", "ns/carrier", "particles/CPU s"}


pytestmark = pytest.mark.slow


def test_quick_benchmark_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert {"machine", "results", "scaling", "targets"} <= doc.keys()
    assert {"cpu", "cores", "python", "numba", "numpy", "threading_layer"} <= doc["machine"].keys()
    names = {r["name"] for r in doc["results"]}
    assert {"scatter_dud10", "scatter_dud1", "scatter_dud100", "placed_dud100", "demo_1000", "floor_placed_dud100",
            "floor_scatter_dud10", "first_run_compile", "validate_cpu", "demo_warm_200_cpu"} <= names
    for r in doc["results"]:
        assert {"name", "value", "unit", "peak_rss_mb"} <= r.keys(), r
        assert r["unit"] in UNITS, r
        for key in ("value", "peak_rss_mb", "baseline", "ratio", "seconds"):
            if key in r:  # a CPU time spent compiling may be none at all
                assert math.isfinite(r[key]) and (r[key] > 0 or r[key] == 0 and key in ("value", "ratio")), (key, r)
        if "baseline" in r:
            assert math.isclose(r["ratio"], r["value"] / r["baseline"], rel_tol=1e-9)
    assert "baseline" in next(r for r in doc["results"] if r["name"] == "scatter_dud10")
    for fit in doc["scaling"].values():
        assert len(fit["points"]) >= 2 and math.isfinite(fit["slope"])
    for target in doc["targets"]:
        assert isinstance(target["met"], bool) and math.isfinite(target["value"])


def test_numpy_baseline_matches_kernel_on_average():
    """The baseline does the kernel's work: same mean remnants and cells hit per realization."""
    sys.path.insert(0, str(ROOT))
    from benchmarks import synthetic
    from benchmarks.baseline import METHODS, scatter_numpy
    from simulator.engine.ensemble import run_ensemble

    spec = synthetic.StrikeSpec(dud=0.1, strikes=3, carriers=20, submunitions=200)
    inputs = synthetic.kernel_inputs(spec, 200)
    n = 300
    kernel = run_ensemble(inputs, n, threads=1)
    mean_remnants = kernel.totals[:, 1].mean()
    for method in METHODS:
        sums = scatter_numpy(inputs, n, method)
        assert (sums.totals[:, 0] == spec.per_realization).all()
        np.testing.assert_allclose(sums.totals[:, 1].mean(), mean_remnants, rtol=0.05)
        np.testing.assert_allclose(sums.cells.mean(), kernel.zone_cells.mean(), rtol=0.05)
        assert sums.sum_count.sum() == sums.items.sum()
        assert sums.hits.sum() == sums.cells.sum()
