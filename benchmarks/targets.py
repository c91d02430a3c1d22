"""The performance targets the results are compared against."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """``value(results, scaling)`` is compared with ``goal`` by ``op`` ('>=' or '<=')."""

    target: str
    goal: float
    op: str
    value: Callable[[dict, dict], float | None]
    text: str
    result: str | None = None  # the result whose ``detail.others_cores*`` tells whether it was contended


def _get(name: str, key: str = "value"):
    return lambda results, scaling: results[name].get(key) if name in results else None


def _efficiency(name: str):
    """A variance-reduction case's variance ratio over its cost ratio (detail fields)."""

    def value(results: dict, scaling: dict) -> float | None:
        detail = results.get(name, {}).get("detail") or {}
        if "variance_ratio" not in detail:
            return None
        return detail["variance_ratio"] / detail["cost_ratio"]

    return value


def _growth(series: str, base: float | None = None):
    """Peak RSS at the most realizations / at ``base`` realizations (where the series has them below
    its most; else at the fewest), of a memory series."""

    def value(results: dict, scaling: dict) -> float | None:
        fit = scaling.get(series)
        if not fit:
            return None
        (_, peak), below = fit["points"][-1], dict(fit["points"][:-1])
        return peak / below.get(base, fit["points"][0][1])

    return value


def _over(name: str, timed: str, floor: str):
    """A kernel result's rate per CPU second of its thread (from ``timed``'s ``thread_cpu_s``) over
    its floor's, which is measured in CPU time too (1 would be at the limit)."""

    def value(results: dict, scaling: dict) -> float | None:
        if name not in results or floor not in results:
            return None
        cpu_s = results[timed].get("detail", {}).get("thread_cpu_s")
        rate = results[name]["value"] * results[name]["seconds"] / cpu_s if cpu_s else results[name]["value"]
        return rate / results[floor]["value"]

    return value


def _detail(name: str, key: str):
    return lambda results, scaling: results[name].get("detail", {}).get(key) if name in results else None


TARGETS = (
    # issue #18, in its order
    Target("#18.1 first run: CPU s compiling", 3.0, "<=", _get("first_run_compile"), "< 3 CPU s",
           "first_run_compile"),
    Target("#18.2 remnant validate, warm: CPU s", 0.4, "<=", _get("validate_cpu"), "< 0.4 CPU s", "validate_cpu"),
    Target("#18.2 demo warm, 200 realizations, precision loop capped: CPU s", 1.2, "<=", _get("demo_warm_200_cpu"),
           "< 1.2 CPU s", "demo_warm_200_cpu"),
    Target("#18.2 demo warm as shipped (precision targets): CPU s", 1.2, "<=", _get("demo_warm_cpu"), "< 1.2 CPU s",
           "demo_warm_cpu"),
    Target("#18.3 demo peak RSS, 10,000 / 1,000 realizations", 1.1, "<=",
           _growth("memory_demo_vs_realizations", 1000.0),
           "<= 1.1 (flat)"),
    Target("#18.4 national campaign, 100 realizations: s", 300.0, "<=", _get("national_100", "seconds"), "< 5 min"),
    Target("#18.4 national campaign peak RSS: MB", 4096.0, "<=", _get("national_100", "peak_rss_mb"), "< 4 GB"),
    Target("#18.5 placed_dud100 per core", 200e6, ">=", _get("placed_dud100"), ">= 200 M remnants/s",
           "scatter_dud100"),
    Target("#18.5 placed_dud100 / its floor", 0.5, ">=",
           _over("placed_dud100", "scatter_dud100", "floor_placed_dud100"), ">= 0.5 (within 2 x)", "scatter_dud100"),
    Target("#18.5 scatter_dud10 per core", 600e6, ">=", _get("scatter_dud10"), ">= 600 M submunitions/s",
           "scatter_dud10"),
    Target("#18.5 scatter_dud10 / its floor", 0.5, ">=",
           _over("scatter_dud10", "scatter_dud10", "floor_scatter_dud10"), ">= 0.5 (within 2 x)", "scatter_dud10"),
    Target("#18.6 contamination disc (50 m) on 10 m cells / scatter alone", 2.0, "<=",
           _get("contamination_disc_10m"), "<= 2 x (the disc costs at most the scatter)", "contamination_disc_10m"),
    Target("#18.6 precision loop: CPU s per realization / without it", 1.1, "<=", _get("precision_loop"),
           "<= 1.1 (the loop adds no work beyond its realizations)", "precision_loop"),
    Target("#18.6 casualty risk / ensemble (demo, 1,000 realizations)", 0.5, "<=", _detail("demo_1000", "risk_share"),
           "<= 0.5 (assumption: risk costs at most half the Monte Carlo)", "demo_1000"),
    # earlier issues
    Target("scatter_dud10 / numpy", 15.0, ">=", _get("scatter_dud10", "ratio"), ">= 15 x", "scatter_dud10"),
    Target("2 threads / 1 thread", 1.7, ">=", _get("threads_speedup"), ">= 1.7 x", "threads_speedup"),
    Target("demo_1000 wall time", 30.0, "<=", _get("demo_1000", "seconds"), "< 30 s", "demo_1000"),
    Target("ensemble peak RSS, most / fewest realizations", 1.1, "<=", _growth("memory_ensemble_vs_realizations"),
           "<= 1.1 (flat)"),
    Target("CMRS of demo-cmrs per core", 20.0, ">=", _get("cmrs_demo"), ">= 20 realizations/s (1,000 in under 50 s)",
           "cmrs_demo"),
    Target("national: 2 Dask workers / 1", 1.7, ">=", _get("national_workers_speedup"), ">= 1.7 x"),
    # numbers a planner can defend (#13): P(deadline) from each realization's chance over its productivity
    Target("#13 deadline chance: variance saved / CPU it costs", 10.0, ">=", _efficiency("deadline_chance_demo"),
           ">= 10 x (as many realizations' worth of precision per CPU second)", "deadline_chance_demo"),
)


CONTENDED_CORES = 0.25  # other processes busier than this during a measurement make it doubtful


def evaluate(results: list[dict], scaling: dict, previous: dict | None = None) -> list[dict]:
    """Each target with its measured value, whether it is met, the value in ``previous`` (an earlier
    saved run's document, where it has one) and a note when other processes competed for the cores
    during the measurement (targets not measured are left out)."""
    by_name = {r["name"]: r for r in results}
    before = {r["name"]: r for r in (previous or {}).get("results", [])}
    out = []
    for t in TARGETS:
        value = t.value(by_name, scaling)
        if value is None:
            continue
        met = value >= t.goal if t.op == ">=" else value <= t.goal
        row = {"target": t.target, "value": value, "goal": t.text, "met": bool(met)}
        old = t.value(before, (previous or {}).get("scaling", {})) if before else None
        if old:
            row |= {"previous": old, "vs_previous": value / old}
        detail = by_name.get(t.result, {}).get("detail", {})
        others = max((v for k, v in detail.items() if k.startswith("others_cores") and v is not None), default=None)
        if others is not None and others > CONTENDED_CORES:
            row["note"] = f"contended: other processes kept {others:.2f} cores busy"
        out.append(row)
    return out
