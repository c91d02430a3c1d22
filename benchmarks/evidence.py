"""Conditioning on evidence: 1,000 demo realizations weighed by 10,000 finds and 500 searched polygons, one core;
and the resample-move that carries a block of 64 demo realizations to the posterior of demo-evidence's
precise evidence (89 finds at 10 m), one core."""

from __future__ import annotations

import time
from pathlib import Path

import numba
import numpy as np

from benchmarks.report import Result

DEMO = Path(__file__).resolve().parents[1] / "scenarios" / "demo-district.toml"
DEMO_EVIDENCE = DEMO.with_name("demo-evidence.toml")
REALIZATIONS, FINDS, POLYGONS = 1000, 10_000, 500
SEED = 11


def demo_evidence(setup, n_finds: int = FINDS, n_polygons: int = POLYGONS):
    """Synthetic evidence over the demo: finds scattered about the strikes' aim points, 50 m searched boxes."""
    from shapely.geometry import box
    from simulator.kernels import strike_table as T

    from simulator.inputs.evidence import Areas, EvidenceData, Points

    rng = np.random.default_rng(SEED)
    aim = setup.kernel.f[:, [T.AIM_X, T.AIM_Y]]
    at = aim[rng.integers(0, len(aim), n_finds)] + rng.normal(0, 300.0, (n_finds, 2))
    day = np.full(n_finds, np.datetime64("2024-05-20"), "datetime64[D]")
    finds = Points(at[:, 0], at[:, 1], day, np.ones(n_finds, np.int64), np.full(n_finds, 10.0),
                   np.full(n_finds, 0.05), np.array([None] * n_finds, object))
    centres = aim[rng.integers(0, len(aim), n_polygons)] + rng.normal(0, 400.0, (n_polygons, 2))
    boxes = np.array([box(x - 25, y - 25, x + 25, y + 25) for x, y in centres], object)
    searched = Areas(boxes, day[:n_polygons], np.full(n_polygons, 0.6), rng.integers(0, 3, n_polygons))
    none = Points(*(np.zeros(0, "datetime64[D]" if i == 2 else object if i == 6 else float) for i in range(7)))
    empty = Areas(np.zeros(0, object), np.zeros(0, "datetime64[D]"), np.zeros(0), np.zeros(0, np.int64))
    return EvidenceData(finds, searched, empty, none)


def evidence(sizes=None) -> list[Result]:
    """Seconds to weigh ``REALIZATIONS`` demo realizations by the evidence on one thread (tables built
    once, after a warm-up that compiles the kernel), against the target of 10 s; ``cpu_s`` is the
    thread's CPU time (the wall time on a loaded machine is longer)."""
    from benchmarks.cases import log
    from benchmarks.measure import peak_memory
    from simulator.config.evidence import Evidence
    from simulator.config.variants import load_scenario
    from simulator.engine.evidence_tables import evidence_tables
    from simulator.engine.posterior import log_likelihoods
    from simulator.engine.prepare import prepare

    loaded = load_scenario(DEMO, ["simulation.realizations=1000"])
    setup = prepare(loaded)
    spec = Evidence()  # the defaults
    log(f"evidence: {REALIZATIONS} demo realizations, {FINDS} finds, {POLYGONS} searched polygons, 1 thread")
    t0 = time.perf_counter()
    tables = evidence_tables(setup, demo_evidence(setup), spec)
    tables_s = time.perf_counter() - t0
    numba.set_num_threads(1)
    log_likelihoods(setup.kernel, tables, np.arange(2), 1)  # warm-up: compile or load the kernel
    with peak_memory() as peak:
        t0, c0 = time.perf_counter(), time.process_time()
        ll = log_likelihoods(setup.kernel, tables, np.arange(REALIZATIONS), 1)
        seconds, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    finite = int(np.isfinite(ll).sum())
    detail = {"realizations": REALIZATIONS, "finds": FINDS, "searched_polygons": POLYGONS, "threads": 1,
              "cpu_s": round(cpu_s, 3), "tables_s": round(tables_s, 3), "total_s": round(seconds + tables_s, 3),
              "target_s": 10.0, "finite_weights": finite}
    conditioning = Result("evidence_conditioning", REALIZATIONS / seconds, "realizations/s", peak.mb, seconds=seconds,
                          detail=detail)
    return [*resample_move(), conditioning]


def resample_move() -> list[Result]:
    """CPU seconds of one resample-move block of ``demo-evidence.toml`` (its particles, moves and evidence) on one
    thread, after a warm-up block that compiles the kernels; the ESS of plain weights before and the stages and
    acceptance rates it took."""
    from benchmarks.cases import log
    from benchmarks.measure import peak_memory
    from simulator.config.variants import load_scenario
    from simulator.engine.posterior import condition
    from simulator.engine.prepare import prepare

    setup = prepare(load_scenario(DEMO_EVIDENCE, []))
    posterior = condition(setup, 1)
    log(f"evidence: resample-move of a block of {posterior.block} demo-evidence realizations, 1 thread")
    posterior.run(0, 1)  # warm-up: compile or load the kernels
    with peak_memory() as peak:
        t0, c0 = time.perf_counter(), time.process_time()
        run = posterior.run(0, 0)
        seconds, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    rates = np.mean(run.acceptance, axis=0)
    return [Result("evidence_resample_move", posterior.block / cpu_s, "particles/CPU s", peak.mb, seconds=seconds,
                   detail={"particles": posterior.block, "finds": posterior.tables.n_finds, "threads": 1,
                           "moves": setup.scenario.evidence.moves, "cpu_s": round(cpu_s, 3),
                           "stages": len(run.powers), "ess_before": round(run.ess_before, 2),
                           "stage_ess_min": round(min(run.stage_ess), 2),
                           **{f"acceptance_{name}": round(float(r), 3)
                              for name, r in zip(("positions", "dud_rates", "redraws", "jumps"), rates)}})]
