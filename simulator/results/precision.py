"""Precision targets (``simulation.target``): whether the headline errors are under their targets.

The ensemble grows until the SHA and CHA areas' relative errors are under target; the plan is
then made, and the scored realizations grow until P(deadline)'s error is under target. Each
stage adds ``simulation.realizations`` at a time, up to ``target.max_realizations``. The stopping
rule reads only results, which depend only on the inputs and seed, so the run is reproducible.
"""

from __future__ import annotations

import numpy as np

from simulator.config.scenario import Precision
from simulator.engine.ensemble import Ensemble
from simulator.engine.prepare import Setup
from simulator.results.uncertainty import Z, area_at_threshold, chance_mean


def area_errors(setup: Setup, ensemble: Ensemble) -> dict[str, tuple[float, float]]:
    """(area in cells, jackknife SE in cells) of the SHA and CHA at the end of the time axis, in the study area."""
    hazard = setup.scenario.hazard
    hits, sizes = ensemble.hits.sum(axis=0), ensemble.group_sizes()
    return {name: area_at_threshold(hits, ensemble.group_contaminated(), sizes, t, 1.0, setup.inside.ravel())
            for name, t in (("suspected", hazard.suspect_threshold), ("hazardous", hazard.threshold))}


def relative(area: float, se: float) -> float:
    """SE as a share of the area (0 for an empty area, nan when unknown)."""
    return se / area if area > 0 else (0.0 if se == 0 else float("nan"))


def map_settled(setup: Setup, ensemble: Ensemble, target: Precision) -> bool:
    """Whether the SHA and CHA areas' relative errors are under their targets."""
    errors = area_errors(setup, ensemble)
    for name, goal in (("suspected", target.suspected_rse), ("hazardous", target.hazardous_rse)):
        if goal is not None and not relative(*errors[name]) <= goal:
            return False
    return True


def deadline_error(chances: np.ndarray) -> float:
    """Error of P(deadline) from the realizations' chances of meeting it, used against its target: its
    standard error, or a quarter of its interval's width when that is larger (so that 0 or 100 % from
    0/1 outcomes is not taken as exact)."""
    p, se, (lo, hi) = chance_mean(chances)
    return max(se, (hi - lo) / (2 * Z))


def precision_note(target: Precision, summary: dict) -> dict:
    """Which targets are met, and one line saying so."""
    checks = []
    for name, goal in (("suspected", target.suspected_rse), ("hazardous", target.hazardous_rse)):
        if goal is not None:
            value = relative(summary[f"{name}_ha"], summary[f"{name}_ha_se"] or float("nan"))
            label = "SHA" if name == "suspected" else "CHA"
            checks.append((f"{label} area ± {value:.1%} (target {goal:.1%})", value <= goal))
    release = summary.get("land_release") or {}
    deadline = release.get("deadline")
    if target.p_deadline_se is not None and deadline is not None:
        value = deadline["p_deadline_error"]
        checks.append((f"P(deadline) ± {value:.1%} (target {target.p_deadline_se:.1%})", value <= target.p_deadline_se))
    settled = all(ok for _, ok in checks)
    said = "; ".join(text for text, _ in checks)
    if settled:
        note = f"precision targets met: {said}"
    else:
        note = (f"estimates have not settled within {target.max_realizations:,} realizations: {said}; raise "
                "simulation.target.max_realizations or loosen the targets")
    return {"settled": settled, "note": note}
