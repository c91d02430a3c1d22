"""The synthetic national campaign: 270 million submunitions over 24 million cells, with land release
(tiled like the ensemble), locally and on Dask."""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.measure import in_fresh_process, peak_rss_mb
from benchmarks.report import Result

NATIONAL = Path(__file__).resolve().parents[1] / "scenarios" / "national-campaign.toml"


def _prepared(realizations: int):
    from simulator.config.variants import load_scenario
    from simulator.engine.prepare import prepare

    return prepare(load_scenario(NATIONAL, [f"simulation.realizations={realizations}"]))


def _local(realizations: int) -> dict:
    """In a fresh process: the national campaign end to end without writing files; its time and peak RSS."""
    from simulator.pipeline.runner import run

    t0 = time.perf_counter()
    setup = _prepared(realizations)
    prepared = time.perf_counter()
    result = run(setup)
    result.summary, result.hazard_areas, result.hazardous_area  # noqa: B018 (computed on access)
    return {"seconds": time.perf_counter() - t0, "prepare_s": prepared - t0, "peak_rss_mb": peak_rss_mb(),
            "ensemble_s": result.timings_s["ensemble"], "land_release_s": result.timings_s.get("land_release"),
            "cpu_s": time.process_time(), "work_units": len(result.land_release.plan.units)}


def _on_dask(realizations: int, workers: int) -> float:
    """Seconds for the contamination pass on a warm local Dask cluster of ``workers`` single-threaded processes."""
    import distributed

    from simulator.pipeline.dask_backend import DaskBackend
    from simulator.pipeline.runner import run

    setup = _prepared(realizations)
    warm = _prepared(1)
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as c:
        backend = DaskBackend(scheduler=c.scheduler_address)
        try:
            run(warm, backend=backend)  # workers import remnant and load the compiled kernels
            t0 = time.perf_counter()
            run(setup, backend=backend)
            return time.perf_counter() - t0
        finally:
            backend.close()


def national(sizes) -> list[Result]:
    """The national campaign at ``sizes.national_realizations`` locally (fresh process: time and
    peak memory), and on 1 and 2 local Dask workers at ``sizes.national_dask_realizations``."""
    from benchmarks.cases import log

    if not sizes.national_realizations:
        return []
    n = sizes.national_realizations
    log(f"national: {n} realizations, all threads, fresh process")
    local = in_fresh_process(_local, n)
    results = [Result(f"national_{n}", n / local["seconds"], "realizations/s", local["peak_rss_mb"],
                      seconds=local["seconds"], detail={k: v for k, v in local.items() if k != "peak_rss_mb"}),
               Result(f"national_land_release_{n}", n / local["land_release_s"], "realizations/s", None,
                      seconds=local["land_release_s"], detail={"work_units": local["work_units"],
                                                               "tiled": True})]
    m = sizes.national_dask_realizations
    seconds = {}
    for workers in (1, 2):
        log(f"national: {m} realizations on {workers} Dask worker(s)")
        seconds[workers] = _on_dask(m, workers)
        results.append(Result(f"national_dask_{workers}w", m / seconds[workers], "realizations/s", None,
                              seconds=seconds[workers], detail={"realizations": m, "workers": workers}))
    results.append(Result("national_workers_speedup", seconds[1] / seconds[2], "x", None,
                          detail={"realizations": m}))
    return results
