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


def _growth(series: str):
    """Peak RSS at the most realizations / at the fewest, of a memory series."""

    def value(results: dict, scaling: dict) -> float | None:
        fit = scaling.get(series)
        return fit["points"][-1][1] / fit["points"][0][1] if fit else None

    return value


TARGETS = (
    Target("scatter_dud10 per core", 300e6, ">=", _get("scatter_dud10"), ">= 300 M submunitions/s", "scatter_dud10"),
    Target("scatter_dud10 / numpy", 15.0, ">=", _get("scatter_dud10", "ratio"), ">= 15 x", "scatter_dud10"),
    Target("placed_dud100 per core", 60e6, ">=", _get("placed_dud100"), ">= 60 M remnants/s", "scatter_dud100"),
    Target("contamination disc (50 m) on 10 m cells / scatter alone", 2.0, "<=", _get("contamination_disc_10m"),
           "<= 2 x (the disc costs at most the scatter)", "contamination_disc_10m"),
    Target("2 threads / 1 thread", 1.7, ">=", _get("threads_speedup"), ">= 1.7 x", "threads_speedup"),
    Target("demo_1000 wall time", 30.0, "<=", _get("demo_1000", "seconds"), "< 30 s", "demo_1000"),
    Target("ensemble peak RSS, most / fewest realizations", 1.1, "<=", _growth("memory_ensemble_vs_realizations"),
           "<= 1.1 (flat)"),
    Target("demo peak RSS, most / fewest realizations", 1.1, "<=", _growth("memory_demo_vs_realizations"),
           "<= 1.1 (flat)"),
    Target("CMRS of demo-cmrs per core", 20.0, ">=", _get("cmrs_demo"), ">= 20 realizations/s (1,000 in under 50 s)",
           "cmrs_demo"),
    Target("national campaign, 100 realizations", 600.0, "<=", _get("national_100", "seconds"), "< 10 min"),
    Target("national campaign peak RSS", 4096.0, "<=", _get("national_100", "peak_rss_mb"), "< 4 GB"),
    Target("national: 2 Dask workers / 1", 1.7, ">=", _get("national_workers_speedup"), ">= 1.7 x"),
)


CONTENDED_CORES = 0.25  # other processes busier than this during a measurement make it doubtful


def evaluate(results: list[dict], scaling: dict) -> list[dict]:
    """Each target with its measured value, whether it is met, and a note when other processes
    competed for the cores during the measurement (targets not measured are left out)."""
    by_name = {r["name"]: r for r in results}
    out = []
    for t in TARGETS:
        value = t.value(by_name, scaling)
        if value is None:
            continue
        met = value >= t.goal if t.op == ">=" else value <= t.goal
        row = {"target": t.target, "value": value, "goal": t.text, "met": bool(met)}
        detail = by_name.get(t.result, {}).get("detail", {})
        others = max((v for k, v in detail.items() if k.startswith("others_cores") and v is not None), default=None)
        if others is not None and others > CONTENDED_CORES:
            row["note"] = f"contended: other processes kept {others:.2f} cores busy"
        out.append(row)
    return out
