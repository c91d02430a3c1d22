"""The benchmark cases. Each returns ``Result`` records; scaling cases also return fitted series.

Sizes come from ``Sizes``: ``QUICK`` (CI, under a minute) or ``FULL``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np

from benchmarks import synthetic
from benchmarks.baseline import METHODS, scatter_numpy
from benchmarks.cmrs import cmrs  # noqa: F401 (a case group, called by name)
from benchmarks.deadline import deadline  # noqa: F401 (a case group, called by name)
from benchmarks.evidence import evidence  # noqa: F401 (a case group, called by name)
from benchmarks.floor import floor  # noqa: F401 (a case group, called by name)
from benchmarks.measure import in_fresh_process, other_load, peak_memory, peak_rss_mb, time_call, wait_for_quiet
from benchmarks.national import national  # noqa: F401 (a case group, called by name)
from benchmarks.report import Result
from benchmarks.startup import startup  # noqa: F401 (a case group, called by name)
from simulator.engine import scatter as kernel
from simulator.inputs.kernel_inputs import KernelInputs

DEMO = Path(__file__).resolve().parents[1] / "scenarios" / "demo-district.toml"
BIG, SMALL = 2000, 200  # cells per side of the realistic and the small grid
DUDS = {"dud1": 0.01, "dud10": 0.10, "dud100": 1.0}


@dataclass(frozen=True)
class Sizes:
    """How much work each case does."""

    repeats: int  # timed calls per measurement (best taken)
    scatter_realizations: dict[str, int]  # per dud case
    baseline_realizations: dict[str, int]
    baseline_repeats: int
    demo_realizations: tuple[int, ...]
    thread_realizations: int
    submunition_totals: tuple[int, ...]
    grid_sides: tuple[int, ...]
    grid_realizations: int
    memory_realizations: tuple[int, ...]  # kernel ensemble, each in a fresh process
    demo_memory_realizations: tuple[int, ...]  # demo end to end, each in a fresh process
    polygons: tuple[int, ...]
    national_realizations: int = 0  # the national campaign locally (0: skipped)
    national_dask_realizations: int = 0  # and on 1 and 2 Dask workers
    shipped_demo: bool = False  # time the demo as shipped (precision loop to ~1,000 realizations, ~25 CPU s)


QUICK = Sizes(
    repeats=2,
    scatter_realizations={"dud1": 200, "dud10": 40, "dud100": 6},
    baseline_realizations={"dud1": 10, "dud10": 6, "dud100": 2},
    baseline_repeats=1,
    demo_realizations=(100, 1000),
    thread_realizations=60,
    submunition_totals=(10**5, 10**6, 10**7),
    grid_sides=(200, 500, 1000, 2000),
    grid_realizations=10,
    memory_realizations=(100, 1000),
    demo_memory_realizations=(100, 1000),
    polygons=(1000, 10_000, 100_000),
)
FULL = Sizes(
    repeats=5,
    scatter_realizations={"dud1": 2000, "dud10": 400, "dud100": 60},
    baseline_realizations={"dud1": 60, "dud10": 30, "dud100": 6},
    baseline_repeats=3,
    demo_realizations=(100, 1000),
    thread_realizations=400,
    submunition_totals=(10**5, 10**6, 10**7, 10**8, 10**9),
    grid_sides=(200, 500, 1000, 2000, 4000),
    grid_realizations=50,
    memory_realizations=(100, 1000, 10_000),
    demo_memory_realizations=(100, 1000, 10_000),
    polygons=(1000, 10_000, 100_000),
    national_realizations=100,
    national_dask_realizations=30,
    shipped_demo=True,
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------
# scatter kernel and its numpy baseline


def kernel_call(inputs: KernelInputs, realizations: int, threads: int = 1):
    """A function running the scatter kernel (``simulator.engine.scatter.scatter``) over
    realizations 0 .. n - 1 with ``threads`` threads (one chunk each) into per-cell sums allocated
    once; it returns the summed totals [dropped, remnants, off the grid]."""
    sums = kernel.CellSums.zeros(inputs, threads)

    def call() -> np.ndarray:
        return kernel.scatter(inputs, 0, realizations, sums).totals.sum(axis=0)

    return call


def time_kernel(inputs: KernelInputs, realizations: int, repeats: int, threads: int = 1):
    """Timing and summed totals of the kernel; the warm-up runs one realization."""
    return time_call(kernel_call(inputs, realizations, threads), repeats, warmup=kernel_call(inputs, 1, threads))


def time_baseline(inputs: KernelInputs, realizations: int, repeats: int) -> dict[str, tuple[float, float]]:
    """Per numpy method: (submunitions/s, remnants placed/s), best of ``repeats``."""
    rates = {}
    for method in METHODS:
        timing, sums = time_call(lambda: scatter_numpy(inputs, realizations, method), repeats, warmup=lambda: None)
        dropped, placed = sums.totals[:, 0].sum(), sums.totals[:, 1].sum()
        rates[method] = (dropped / timing.best_s, placed / timing.best_s)
    return rates


def scatter(sizes: Sizes) -> list[Result]:
    """Kernel and baseline on the realistic and the small grid at dud rates 1, 10 and 100 %."""
    results = []
    for side, suffix in ((BIG, ""), (SMALL, "_small")):
        for case, dud in DUDS.items():
            spec = synthetic.StrikeSpec(dud=dud)
            inputs = synthetic.kernel_inputs(spec, side)
            n = sizes.scatter_realizations[case]
            n_numpy = sizes.baseline_realizations[case]
            log(f"scatter {case} on {side} x {side}: kernel {n} realizations, numpy {n_numpy}")
            with peak_memory() as peak, other_load() as load:
                timing, totals = time_kernel(inputs, n, sizes.repeats)
            rates = time_baseline(inputs, n_numpy, sizes.baseline_repeats)
            method = max(rates, key=lambda m: rates[m][0])
            detail = {
                "grid": f"{side}x{side}", "cell_m": synthetic.SIDE_M / side, "realizations": n,
                "submunitions_per_realization": spec.per_realization, "dud": dud,
                "remnants_per_s": totals[1] / timing.best_s, "thread_cpu_s": timing.cpu_s, "baseline_method": method,
                "baseline_by_method": {m: r[0] for m, r in rates.items()}, "others_cores": load.others_cores,
            }
            common = dict(peak_rss_mb=peak.mb, seconds=timing.best_s, compile_s=timing.first_s)
            results.append(Result(f"scatter_{case}{suffix}", totals[0] / timing.best_s, "submunitions/s",
                                  baseline=rates[method][0], detail=detail, **common))
            if case == "dud100":
                results.append(Result(f"placed_{case}{suffix}", totals[1] / timing.best_s, "remnants/s",
                                      baseline=rates[method][1], detail={"grid": f"{side}x{side}"}, **common))
    return results


def contamination(sizes: Sizes) -> list[Result]:
    """Scatter at 10 % dud with and without the reference-distance disc (50 m), on 5 m and 10 m
    cells, one thread: ``value`` is the time with the disc over the time without it (the disc's
    cost is the excess over 1)."""
    results = []
    for side in (BIG, BIG // 2):
        spec = synthetic.StrikeSpec(dud=0.10)
        n = sizes.scatter_realizations["dud10"]
        cell = synthetic.SIDE_M / side
        log(f"contamination on {side} x {side} ({cell:g} m cells): {n} realizations with and without a 50 m disc")
        plain, _ = time_kernel(synthetic.kernel_inputs(spec, side), n, sizes.repeats)
        with peak_memory() as peak, other_load() as load:
            disc, _ = time_kernel(synthetic.kernel_inputs(spec, side, reference_m=50.0), n, sizes.repeats)
        detail = {"grid": f"{side}x{side}", "cell_m": cell, "reference_m": 50.0, "realizations": n,
                  "seconds_without_disc": plain.best_s, "others_cores": load.others_cores}
        results.append(Result(f"contamination_disc_{cell:g}m", disc.best_s / plain.best_s, "x", peak.mb,
                              seconds=disc.best_s, compile_s=disc.first_s, detail=detail))
    return results


def ensemble(sizes: Sizes) -> list[Result]:
    """``run_ensemble`` at 10 % dud on the realistic grid, one thread: the kernel as the pipeline
    calls it, in batches and, on grids larger than a tile, tile by tile (each tile re-runs the
    strikes that can reach it)."""
    from simulator.engine.ensemble import run_ensemble
    from simulator.engine.layout import TILE_CELLS
    from simulator.engine.tiles import tile_kernels

    inputs = synthetic.kernel_inputs(synthetic.StrikeSpec(dud=0.10), BIG)
    n = sizes.scatter_realizations["dud10"]
    tiles = tile_kernels(inputs, TILE_CELLS) if BIG > TILE_CELLS else [inputs]
    strike_runs = sum(len(t.f) for t in tiles)
    log(f"ensemble: run_ensemble, {n} realizations, {len(tiles)} tiles")
    with peak_memory() as peak, other_load() as load:
        timing, out = time_call(lambda: run_ensemble(inputs, n, threads=1), sizes.repeats,
                                warmup=lambda: run_ensemble(inputs, 1, threads=1))
    dropped = out.totals[:, 0].sum()
    detail = {"grid": f"{BIG}x{BIG}", "realizations": n, "tiles": len(tiles), "tile_cells": TILE_CELLS,
              "strike_runs_per_strike": strike_runs / len(inputs.f), "others_cores": load.others_cores}
    return [Result("ensemble_dud10", dropped / timing.best_s, "submunitions/s", peak.mb, seconds=timing.best_s,
                   compile_s=timing.first_s, detail=detail)]


def threads(sizes: Sizes) -> list[Result]:
    """Scatter at 10 % dud on the realistic grid with 1 and 2 threads (one chunk per thread)."""
    n_threads = min(2, numba.config.NUMBA_NUM_THREADS)
    if n_threads < 2:
        log("threads: skipped, numba has one thread")
        return []
    inputs = synthetic.kernel_inputs(synthetic.StrikeSpec(dud=0.10), BIG)
    n = sizes.thread_realizations
    log(f"threads: 1 and 2 threads, {n} realizations")
    timings, others = {}, {}
    with peak_memory() as peak:
        for t in (1, 2, 1, 2):  # alternate, to share any drift in other load
            with other_load() as load:
                timing, totals = time_kernel(inputs, n, sizes.repeats, threads=t)
            if t not in timings or timing.best_s < timings[t][0].best_s:
                timings[t], others[t] = (timing, totals), load.others_cores
    (t1, dropped), (t2, _) = timings[1], timings[2]
    detail = {"realizations": n, "one_thread_per_s": dropped[0] / t1.best_s, "one_thread_s": t1.best_s,
              "others_cores_1thread": others[1], "others_cores_2threads": others[2]}
    return [
        Result("scatter_dud10_2threads", dropped[0] / t2.best_s, "submunitions/s", peak.mb, seconds=t2.best_s,
               detail=detail),
        Result("threads_speedup", t1.best_s / t2.best_s, "x", peak.mb, detail=detail),
    ]


# ------------------------------------------------------------------------------------------
# the demo scenario end to end


def run_demo(realizations: int, threads: int | None = None):
    """Load, prepare and run the demo scenario; derive summary, hazard areas and area table."""
    from simulator.config.variants import load_scenario
    from simulator.pipeline import simulate

    loaded = load_scenario(DEMO, [f"simulation.realizations={realizations}"])
    result = simulate(loaded, threads=threads)
    t0 = time.perf_counter()
    result.risk  # noqa: B018 (computed on access; timed apart)
    result.timings_s["risk"] = time.perf_counter() - t0
    result.summary, result.hazard_areas, result.hazardous_area  # noqa: B018 (computed on access)
    return result


def demo(sizes: Sizes) -> list[Result]:
    """Realizations per second of the demo scenario, end to end, with all threads."""
    results = []
    for i, n in enumerate(sizes.demo_realizations):
        log(f"demo: {n} realizations")
        repeats = max(1, sizes.repeats // 2) if n >= 1000 else sizes.repeats
        with peak_memory() as peak, other_load() as load:
            timing, result = time_call(lambda: run_demo(n), repeats, warmup=(lambda: run_demo(10)) if i == 0 else None)
        detail = {"realizations": n, "threads": numba.config.NUMBA_NUM_THREADS, "others_cores": load.others_cores,
                  **{f"{k}_s": v for k, v in result.timings_s.items()}}
        detail["risk_share"] = result.timings_s["risk"] / result.timings_s["ensemble"]
        results.append(Result(f"demo_{n}", n / timing.best_s, "realizations/s", peak.mb, seconds=timing.best_s,
                              compile_s=timing.first_s if i == 0 else None, detail=detail))
    return results


# ------------------------------------------------------------------------------------------
# scaling: work, grid, realizations


def fit_slope(points: list[tuple[float, float]]) -> float:
    """Slope of log(y) against log(x), least squares."""
    x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
    return float(np.polyfit(x, y, 1)[0])


def scaling(sizes: Sizes) -> tuple[list[Result], dict]:
    """Kernel time against submunitions and against grid cells (one thread, 10 % dud)."""
    series = {}
    points = []
    for total in sizes.submunition_totals:
        # 10 strikes of 1000 submunitions per carrier: 1e5 is 10 carriers each, 1e6 one realization of 100
        carriers = min(100, max(1, total // (10 * 1000)))
        spec = synthetic.StrikeSpec(dud=0.10, carriers=carriers, submunitions=1000)
        n = max(1, total // spec.per_realization)
        log(f"scaling: {n * spec.per_realization:.0e} submunitions")
        timing, totals = time_kernel(synthetic.kernel_inputs(spec, BIG), n, sizes.repeats if total < 10**9 else 1)
        points.append((float(totals[0]), timing.best_s))
    series["time_vs_submunitions"] = {"x": "submunitions", "y": "s", "grid": f"{BIG}x{BIG}", "points": points,
                                      "slope": fit_slope(points)}
    points = []
    spec = synthetic.StrikeSpec(dud=0.10)
    for side in sizes.grid_sides:
        log(f"scaling: {side} x {side} cells")
        timing, _ = time_kernel(synthetic.kernel_inputs(spec, side), sizes.grid_realizations, sizes.repeats)
        points.append((float(side * side), timing.best_s))
    series["time_vs_cells"] = {"x": "cells", "y": "s", "realizations": sizes.grid_realizations,
                               "submunitions": sizes.grid_realizations * spec.per_realization, "points": points,
                               "slope": fit_slope(points)}
    return [], series


def _ensemble_peak(realizations: int) -> dict:
    """In a fresh process: run the kernel ensemble on the realistic grid at 1 % dud; its peak RSS."""
    from simulator.engine.ensemble import run_ensemble

    inputs = synthetic.kernel_inputs(synthetic.StrikeSpec(dud=0.01), BIG)
    t0 = time.perf_counter()
    run_ensemble(inputs, realizations)
    return {"seconds": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb()}


def _demo_peak(realizations: int) -> dict:
    """In a fresh process: the demo end to end at exactly ``realizations`` (precision targets off),
    every output written (risk, QA, policies, plan); its peak RSS."""
    import tempfile

    from simulator.config.variants import load_scenario
    from simulator.outputs.writer import write_outputs
    from simulator.pipeline import simulate

    loaded = load_scenario(DEMO, [f"simulation.realizations={realizations}",
                                  f"simulation.target.max_realizations={realizations}"])
    t0 = time.perf_counter()
    result = simulate(loaded)
    with tempfile.TemporaryDirectory() as folder:
        write_outputs(result, Path(folder) / "demo")
    return {"seconds": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb()}


def memory(sizes: Sizes) -> tuple[list[Result], dict]:
    """Peak RSS against realizations, each run in a fresh process: the kernel ensemble (realistic
    grid, 1 % dud, ``run_ensemble``) and the demo scenario end to end."""
    results, series = [], {}
    for label, fn, counts in (("ensemble", _ensemble_peak, sizes.memory_realizations),
                              ("demo", _demo_peak, sizes.demo_memory_realizations)):
        points = []
        for n in counts:
            log(f"memory: {label} with {n} realizations, fresh process")
            out = in_fresh_process(fn, n)
            points.append((float(n), out["peak_rss_mb"]))
            results.append(Result(f"memory_{label}_{n}", out["peak_rss_mb"], "MB", out["peak_rss_mb"],
                                  seconds=out["seconds"], detail={"realizations": n}))
        lo, hi = points[0][1], points[-1][1]
        per_1000 = (hi - lo) / (points[-1][0] - points[0][0]) * 1000
        series[f"memory_{label}_vs_realizations"] = {
            "x": "realizations", "y": "MB", "points": points, "slope": fit_slope(points),
            "growth_mb": hi - lo, "growth_mb_per_1000": per_1000, "flat": bool(hi <= 1.1 * lo),
        }
    return results, series


# ------------------------------------------------------------------------------------------
# land use


def land_use(sizes: Sizes) -> list[Result]:
    """Rasterising synthetic land-use polygons onto the realistic grid."""
    from simulator.inputs.land_use import rasterize_land_use

    grid = synthetic.grid(BIG)
    codes = {key: i for i, key in enumerate(synthetic.CLASSES)}
    precedence = list(synthetic.CLASSES)

    def rasterize(layer):
        return rasterize_land_use(layer, grid, codes, precedence, default_code=codes["grassland"])

    warm = synthetic.land_use_layer(100)
    results = []
    for n in sizes.polygons:
        log(f"land use: {n} polygons")
        layer = synthetic.land_use_layer(n)
        with peak_memory() as peak:
            timing, _ = time_call(lambda: rasterize(layer), sizes.repeats if n < 100_000 else 1,
                                  warmup=lambda: rasterize(warm))
        results.append(Result(f"rasterize_{n}", n / timing.best_s, "polygons/s", peak.mb, seconds=timing.best_s,
                              detail={"grid": f"{BIG}x{BIG}"}))
    return results


GROUPS = ("floor", "scatter", "contamination", "ensemble", "threads", "demo", "scaling", "memory", "land_use",
          "startup", "cmrs", "national", "evidence", "deadline")


def run(sizes: Sizes, groups: tuple[str, ...] = GROUPS, settle_s: float = 0.0) -> tuple[list[Result], dict]:
    """Run the chosen case groups; results and scaling series. With ``settle_s``, wait up to that
    long before each group for other processes to leave the cores idle."""
    results, series = [], {}
    for group in groups:
        if settle_s > 0:
            others = wait_for_quiet(settle_s)
            log(f"{group}: other processes use {others} cores")
        out = globals()[group](sizes)
        if isinstance(out, tuple):
            results += out[0]
            series |= out[1]
        else:
            results += out
    return results, series

