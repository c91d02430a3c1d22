"""Cluster munition remnant survey (CMRS) of the demo-cmrs scenario's scored realizations."""

from __future__ import annotations

from pathlib import Path

from benchmarks.measure import other_load, peak_memory, time_call
from benchmarks.report import Result

DEMO_CMRS = Path(__file__).resolve().parents[1] / "scenarios" / "demo-cmrs.toml"
REALIZATIONS = {"quick": 100, "full": 400}
"""Scored realizations surveyed per timed call, by benchmark size."""


def cmrs(sizes) -> list[Result]:
    """Realizations per second of ``simulator.release.cmrs.run_cmrs`` on demo-cmrs (600 x 600 cells,
    50 m boxes, fade-out 2) on one thread: each realization scattered again counting items per
    cell, then NTS evidence, box search and CHAs."""
    from simulator.kernels.cmrs import CHAS

    from benchmarks.cases import log
    from simulator.config.variants import load_scenario
    from simulator.engine.prepare import prepare
    from simulator.release.cmrs import run_cmrs

    n = REALIZATIONS["quick" if sizes.repeats <= 2 else "full"]
    log(f"cmrs: {n} realizations of demo-cmrs, one thread")
    setup = prepare(load_scenario(DEMO_CMRS))
    with peak_memory() as peak, other_load() as load:
        timing, survey = time_call(lambda: run_cmrs(setup, n, threads=1), sizes.repeats,
                                   warmup=lambda: run_cmrs(setup, 2, threads=1))
    detail = {"realizations": n, "threads": 1, "others_cores": load.others_cores,
              "chas_mean": float(survey.metrics[:, CHAS].mean())}
    return [Result("cmrs_demo", n / timing.best_s, "realizations/s", peak.mb, seconds=timing.best_s,
                   compile_s=timing.first_s, detail=detail)]
