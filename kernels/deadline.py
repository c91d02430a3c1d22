"""The chance that a realization meets the deadline, over its productivity factor (conditional Monte Carlo).

In a scored realization everything but the productivity factor fixes the land-release outcome:
its items, and what each method finds in each unit (drawn on the unit's own stream, so it does
not depend on when the unit is worked). When no items land in suspected land after teams start
work, working faster never finishes later, so the realization meets the deadline exactly when
its factor is at least some ``speed*``; otherwise the realization keeps its 0/1 outcome at its
own factor (the one ``release_ensemble`` draws: ``z`` nan), which is exact too. Bisection on the factor's
normal score finds ``speed*``, and the realization contributes ``P(factor >= speed*)`` instead of
a 0/1 outcome at one drawn factor: the same expectation (P(deadline)), with a far smaller
variance when productivity is what decides the date, and a smooth function of the plan.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .chunks import each_realization
from .jit import jit
from .release import N_METRICS, REMAINING_M2, _realization, plan_arguments

Z_MAX = 8.0
"""Normal scores searched: a factor beyond ``±Z_MAX`` standard deviations has probability under 1e-15."""
MASS_TOLERANCE = 2e-3
"""Bisection stops when the probability of the factor's bracket is below this: the midpoint is then
within 0.001 of the exact chance, an error of either sign that averages out over realizations (on the
demo, 200 realizations' mean moves by under 0.0002, against a standard error of 0.0027)."""
FIRST_STEP = 0.25
"""First step (normal scores) of the search for a bracket, doubled until the outcome changes."""


@jit
def _met(items, unit_class, unit_step, area_sha, area_cha, ts_first, rate, capacity, z, productivity_sd,
         ts_fraction, p_detect, p_evidence, key0, key1, r, memo, epoch_step, appear, deadline_step, out, none):
    """Whether realization ``r`` has released all land by the end of ``deadline_step`` at normal score ``z``."""
    out[deadline_step] = 0.0
    _realization(items, unit_class, unit_step, area_sha, area_cha, ts_first, rate, capacity, productivity_sd,
                 ts_fraction, p_detect, p_evidence, key0, key1, r, epoch_step, appear, out, none, z, memo,
                 deadline_step + 1, np.bool_(False))  # typed bool: the one compiled _realization
    remaining = 0.0
    for c in range(out.shape[1]):
        remaining += out[deadline_step, c, REMAINING_M2]
    return remaining <= 0.0


@jit
def _paced(items, n_units, first_work, epoch_step):
    """Whether items land in suspected land after ``first_work``, the first step in which any team works."""
    for e in range(epoch_step.shape[0]):
        if epoch_step[e] > first_work and items[e, :2 * n_units].sum() > 0:
            return True
    return False


@jit
def _p_deadline(items, unit_class, unit_step, area_sha, area_cha, ts_first, rate, capacity, productivity_sd,
                ts_fraction, p_detect, p_evidence, key0, key1, r, epoch_step, appear, first_work, deadline_step,
                n_classes):
    """P(realization ``r`` meets the deadline | its items and survey draws), over its productivity factor."""
    n_units = unit_class.shape[0]
    if n_units == 0:
        return 1.0
    if deadline_step < 0:
        return 0.0
    for u in range(n_units):
        if unit_step[u] > deadline_step:  # land first suspected after the deadline
            return 0.0
    out = np.zeros((deadline_step + 1, n_classes, N_METRICS))
    none = np.zeros((0, 1))
    memo = np.full((n_units, 3, 2), -1, np.int64)  # survey outcomes, the same at every factor
    args = (items, unit_class, unit_step, area_sha, area_cha, ts_first, rate, capacity)
    rest = (ts_fraction, p_detect, p_evidence, key0, key1, r, memo, epoch_step, appear, deadline_step, out, none)
    # items landing in suspected land while teams work make how many a unit holds when it is worked depend
    # on the pace, so the outcome need not be monotone in it: then the 0/1 outcome at the realization's own
    # factor (nan: drawn from its stream). Each _met call site is compiled in full: there are three.
    paced = _paced(items, n_units, first_work, epoch_step)
    z = np.nan if paced else 0.0
    at_zero = _met(*args, z, productivity_sd, *rest)
    if paced or productivity_sd == 0.0:
        return 1.0 if at_zero else 0.0
    # bracket the threshold score by steps doubling away from 0, then halve the bracket
    lo, hi = (-Z_MAX, 0.0) if at_zero else (0.0, Z_MAX)
    step = FIRST_STEP
    while True:
        z = hi - step if at_zero else lo + step
        edge = abs(z) >= Z_MAX
        if edge:
            z = -Z_MAX if at_zero else Z_MAX
        changed = _met(*args, z, productivity_sd, *rest) != at_zero
        if edge and not changed:
            return 1.0 if at_zero else 0.0
        if changed or edge:
            break
        if at_zero:
            hi = z
        else:
            lo = z
        step *= 2.0
    if at_zero:
        lo = z
    else:
        hi = z
    while 0.5 * (math.erfc(lo / math.sqrt(2.0)) - math.erfc(hi / math.sqrt(2.0))) > MASS_TOLERANCE:
        mid = 0.5 * (lo + hi)
        if _met(*args, mid, productivity_sd, *rest):
            hi = mid
        else:
            lo = mid
    return 0.5 * math.erfc(0.5 * (lo + hi) / math.sqrt(2.0))  # P(Z >= z*)


def deadline_probabilities(
    items, unit_class, unit_step, area_sha, area_cha, ts_first, rate, capacity, productivity_sd, ts_fraction,
    p_detect, p_evidence, key0, key1, r_offset, epoch_step, deadline_step, n_classes, out, threads=None,
):
    """``out[r]`` (float64 [realization]): P(all suspected land is released by the end of reporting step
    ``deadline_step``) in realization ``r_offset + r`` of the batch, over its productivity factor, with
    ``release_ensemble``'s inputs and the same draws otherwise; on ``threads`` threads (default: numba's
    thread count), which do not change the results."""
    plan, epochs, appear = plan_arguments(unit_class, unit_step, area_sha, area_cha, ts_first, rate, capacity,
                                          productivity_sd, ts_fraction, p_detect, p_evidence, key0, key1, epoch_step)
    working = np.flatnonzero(plan[6].sum(axis=1) > 0.0)  # capacity per step
    first_work = np.int64(working[0] if len(working) else plan[6].shape[0])

    def run(r: int) -> None:
        out[r] = _p_deadline(items[r], *plan, np.int64(r_offset + r), epochs, appear, first_work,
                             np.int64(deadline_step), np.int64(n_classes))

    each_realization(items.shape[0], threads or numba.get_num_threads(), run)
