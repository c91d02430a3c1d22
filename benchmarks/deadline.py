"""P(deadline) by conditional Monte Carlo on the demo: what each scored realization's chance costs
beside the land-release pass it follows, and what it saves in realizations."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.measure import other_load, peak_memory, time_call
from benchmarks.report import Result

DEMO = Path(__file__).resolve().parents[1] / "scenarios" / "demo-district.toml"
REALIZATIONS = {"quick": 50, "full": 200}
"""Scored realizations per timed call, by benchmark size."""


def deadline(sizes) -> list[Result]:
    """Scored realizations per second of the demo's land release on one thread with each realization's
    chance of meeting the deadline (bisection over its productivity factor) and without it (0/1
    outcomes only); the chance's cost as a ratio; and the variance it saves (0/1 outcome against chance)."""
    from benchmarks.cases import log
    from simulator.config.variants import load_scenario
    from simulator.engine.prepare import prepare
    from simulator.pipeline.backends import LocalBackend
    from simulator.release.land_release import LandRelease, deadline_step, make_plan, release_batches
    from simulator.results.release_tables import deadline_met

    n = REALIZATIONS["quick" if sizes.repeats <= 2 else "full"]
    log(f"deadline: {n} scored realizations of the demo, one thread, with and without chances")
    setup = prepare(load_scenario(DEMO))
    plan = make_plan(setup, LocalBackend(1).ensemble(setup, 200, 0, None).hazard_map())
    step = deadline_step(setup)

    def passes(with_chance: bool, count: int = n):
        return list(release_batches(setup, plan, count, 0, 1, 64, None, deadline=step if with_chance else None))

    with peak_memory() as peak, other_load() as load:
        plain, _ = time_call(lambda: passes(False), sizes.repeats, warmup=lambda: passes(False, 2))
        timing, batches = time_call(lambda: passes(True), sizes.repeats, warmup=lambda: passes(True, 2))
    chances = np.concatenate([b[3] for b in batches])
    state = np.concatenate([b[1] for b in batches])
    met = deadline_met(setup, LandRelease(plan, state, np.zeros(len(state)))).astype(float)
    detail = {"realizations": n, "threads": 1, "others_cores": load.others_cores,
              "without_chance_s": plain.best_s, "cost_ratio": timing.best_s / plain.best_s,
              "variance_ratio": float(met.var() / max(chances.var(), 1e-12)),
              "p_deadline_chance": float(chances.mean()), "p_deadline_outcome": float(met.mean())}
    return [Result("deadline_chance_demo", n / timing.best_s, "realizations/s", peak.mb, seconds=timing.best_s,
                   compile_s=timing.first_s, detail=detail)]
