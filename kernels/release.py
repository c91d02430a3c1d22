"""Land release in each realization: survey and clearance of work units, step by step.

Units are worked in the planner's order (fixed before the run, from the hazard map). Each
goes through non-technical survey (NTS), which looks for evidence of items in the unit's
suspected-only land and cancels it when none is seen (evidence sends it to clearance);
technical survey (TS), which searches a sample of the confirmed land and reduces the unit
when nothing is found (only units the hazard map expects few items in get TS first); and
battle area clearance (BAC), which finds each item with the detection probability. Team-
days per step and crew (a set of roles, see ``CREW_MASKS``) are spent on units in order:
a crew works each unit as long as it waits for one of the crew's roles, so a team with
several roles follows a unit from survey to clearance. Work carries over steps. Items
missed stay as residual contamination in released land.
"""

from __future__ import annotations

import numba
import numpy as np

from .chunks import each_realization
from .jit import jit
from .rng import binomial, normal_pair, seed_stream

RELEASE_STREAM = 1 << 62
"""Stream index of a realization's productivity factor, apart from any strike's."""
UNIT_STREAM = RELEASE_STREAM + 1
"""Stream ``UNIT_STREAM + 3 u + m``: what method ``m`` finds in work unit ``u`` of a realization."""

# stages of a unit
WAITING, NTS, TS, BAC, RELEASED = 0, 1, 2, 3, 4

# metrics per step and class, in this order
REMAINING_M2, CANCELLED_M2, REDUCED_M2, CLEARED_M2, FOUND, IN_HAZARDOUS, RESIDUAL, UNSUSPECTED = range(8)
N_METRICS = 8

# per-unit record of a realization (``release_units``), in this order: the step each method first
# worked the unit and the step it finished (-1: never), the area it released by each route (m2),
# and the items that landed in the unit
UNIT_START, UNIT_FINISH, UNIT_RELEASED_M2, UNIT_ITEMS = 0, 3, 6, 9
N_UNIT_METRICS = 10

CREW_MASKS = np.array([1, 2, 4, 3, 5, 6, 7], np.int64)
"""Roles of the team-days in each column of ``capacity``: bit ``m`` set means method ``m``
(0 NTS, 1 TS, 2 BAC). Columns 0-2 are single-role teams; 3-6 are teams with several roles
(NTS+TS, NTS+BAC, TS+BAC, all three), spent after the single-role ones."""


@jit(helper=True)
def _arrive(items, e, n_units, stage, sha_items, cha_items, unit_class, background, residual, units_out):
    """Add the remnants of epoch ``e`` to units (or to residual, in land already released)."""
    for u in range(n_units):
        new_sha = items[e, 2 * u]
        new_cha = items[e, 2 * u + 1]
        if units_out.shape[0]:
            units_out[u, UNIT_ITEMS] += new_sha + new_cha
        if stage[u] == RELEASED:
            residual[unit_class[u]] += new_sha + new_cha
        else:
            sha_items[u] += new_sha
            cha_items[u] += new_cha
    for c in range(background.shape[0]):
        background[c] += items[e, 2 * n_units + c]


@jit(helper=True)
def _found(u, m, n, p, q, state, key0, key1, r, memo):
    """What method ``m`` finds of the ``n`` items of unit ``u``: Binomial(n, p), then Binomial(that, q) if
    ``q >= 0``, on the unit and method's own stream, so that it does not depend on when the unit is worked.
    ``memo`` ([unit, method, (n, found)], or empty) keeps the answer for the same ``n``."""
    if memo.shape[0] and memo[u, m, 0] == n:
        return memo[u, m, 1]
    seed_stream(state, key0, key1, r, UNIT_STREAM + 3 * u + m)
    k = binomial(state, n, p)
    if q >= 0.0:
        k = binomial(state, k, q)
    if memo.shape[0]:
        memo[u, m, 0] = n
        memo[u, m, 1] = k
    return k


@jit(helper=True)
def _finish(u, m, stage, left, area, sha_items, cha_items, unit_class, area_sha, area_cha, ts_first, rate,
            ts_fraction, p_detect, p_evidence, state, key0, key1, r, memo, released, found, residual):
    """Unit ``u`` has finished method ``m``: draw what it found and move it to its next stage."""
    c = unit_class[u]
    if m == 0:
        area[u] = area_cha[u]
        cha_items[u] += sha_items[u]
        if _found(u, m, sha_items[u], p_evidence, -1.0, state, key0, key1, r, memo) == 0:
            released[c, 0] += area_sha[u]
            residual[c] += sha_items[u]
            cha_items[u] -= sha_items[u]
            evidence = False
        else:
            area[u] += area_sha[u]
            evidence = True
        sha_items[u] = 0
        if area[u] <= 0.0:
            stage[u] = RELEASED
        elif ts_first[u] and not evidence and ts_fraction > 0.0:
            stage[u] = TS
            left[u] = ts_fraction * area[u] * rate[u, 1]
        else:
            stage[u] = BAC
            left[u] = area[u] * rate[u, 2]
    elif m == 1:
        hit = _found(u, m, cha_items[u], ts_fraction, p_detect, state, key0, key1, r, memo)
        found[c] += hit
        cha_items[u] -= hit
        if hit == 0:
            released[c, 1] += area[u]
            residual[c] += cha_items[u]
            cha_items[u] = 0
            stage[u] = RELEASED
        else:
            stage[u] = BAC
            left[u] = (1.0 - ts_fraction) * area[u] * rate[u, 2]
    else:
        hit = _found(u, m, cha_items[u], p_detect, -1.0, state, key0, key1, r, memo)
        found[c] += hit
        residual[c] += cha_items[u] - hit
        cha_items[u] = 0
        released[c, 2] += area[u]
        stage[u] = RELEASED


@jit
def _realization(
    items, unit_class, unit_step, area_sha, area_cha, ts_first, rate, capacity, productivity_sd, ts_fraction,
    p_detect, p_evidence, key0, key1, r, epoch_step, appear, out, units_out, z, memo, n_steps, every_step,
):
    """Realization ``r``, step by step: steps ``0 .. n_steps - 1``, at the productivity factor of normal
    score ``z`` (nan: the realization's own, drawn from its stream); ``out`` gets the state after each
    step (``every_step``) or after the last only; ``memo``: see ``_found``.
    Work per step is in proportion to the units not yet released (``active``, in work order,
    compacted at the end of each step), not to all units: released units take no work and add
    nothing to any sum, so skipping them changes no value or order of addition. ``appear``: the
    units in order of their appearance step."""
    state = np.empty(4, np.uint64)
    if np.isnan(z):
        seed_stream(state, key0, key1, r, np.int64(RELEASE_STREAM))
        z, _ = normal_pair(state)
    speed = speed_at(z, productivity_sd)
    n_units = unit_class.shape[0]
    n_classes = out.shape[1]
    record = units_out.shape[0] > 0
    stage = np.zeros(n_units, np.int64)
    left = np.zeros(n_units)
    area = np.zeros(n_units)
    sha_items = np.zeros(n_units, np.int64)
    cha_items = np.zeros(n_units, np.int64)
    background = np.zeros(n_classes, np.int64)
    released = np.zeros((n_classes, 3))
    found = np.zeros(n_classes, np.int64)
    residual = np.zeros(n_classes, np.int64)
    active = np.arange(n_units)
    n_active = n_units
    n_appeared = 0
    for s in range(n_steps):
        for e in range(epoch_step.shape[0]):
            if epoch_step[e] == s:
                _arrive(items, e, n_units, stage, sha_items, cha_items, unit_class, background, residual, units_out)
        while n_appeared < n_units and unit_step[appear[n_appeared]] <= s:
            u = appear[n_appeared]
            n_appeared += 1
            stage[u] = NTS
            left[u] = (area_sha[u] + area_cha[u]) * rate[u, 0]
        for j in range(capacity.shape[1]):
            budget = capacity[s, j] * speed
            if budget <= 0.0:
                continue
            roles = CREW_MASKS[j]
            for i in range(n_active):
                if budget <= 0.0:
                    break
                u = active[i]
                # the crew works this unit as long as it waits for one of the crew's roles
                while budget > 0.0 and NTS <= stage[u] <= BAC and (roles >> (stage[u] - 1)) & 1:
                    m = stage[u] - 1
                    spent = min(budget, left[u])
                    budget -= spent
                    left[u] -= spent
                    if record and units_out[u, UNIT_START + m] < 0:
                        units_out[u, UNIT_START + m] = s
                    if left[u] > 1e-9 * spent:
                        break
                    c = unit_class[u]
                    before = released[c, 0] + released[c, 1] + released[c, 2]
                    _finish(u, m, stage, left, area, sha_items, cha_items, unit_class, area_sha, area_cha,
                            ts_first, rate, ts_fraction, p_detect, p_evidence, state, key0, key1, r, memo,
                            released, found, residual)
                    if record:
                        units_out[u, UNIT_FINISH + m] = s
                        units_out[u, UNIT_RELEASED_M2 + m] += released[c, 0] + released[c, 1] + released[c, 2] - before
        write = every_step or s == n_steps - 1
        for c in range(n_classes if write else 0):
            out[s, c, CANCELLED_M2] = released[c, 0]
            out[s, c, REDUCED_M2] = released[c, 1]
            out[s, c, CLEARED_M2] = released[c, 2]
            out[s, c, FOUND] = found[c]
            out[s, c, RESIDUAL] = residual[c]
            out[s, c, UNSUSPECTED] = background[c]
        kept = 0
        for i in range(n_active):
            u = active[i]
            c = unit_class[u]
            if stage[u] == RELEASED:
                continue
            active[kept] = u
            kept += 1
            if not write:
                continue
            if stage[u] == WAITING:
                out[s, c, UNSUSPECTED] += sha_items[u] + cha_items[u]
            elif stage[u] == NTS:
                out[s, c, IN_HAZARDOUS] += cha_items[u] + sha_items[u]
                out[s, c, REMAINING_M2] += area_sha[u] + area_cha[u]
            else:
                out[s, c, IN_HAZARDOUS] += cha_items[u]
                out[s, c, REMAINING_M2] += area[u]
        n_active = kept


def plan_arguments(unit_class, unit_step, area_sha, area_cha, ts_first, rate, capacity, productivity_sd, ts_fraction,
                   p_detect, p_evidence, key0, key1, epoch_step) -> tuple[tuple, np.ndarray, np.ndarray]:
    """The per-unit, capacity and scalar arguments of ``_realization`` in the one set of types it is
    compiled for; the epochs' steps; the units in order of their appearance step."""
    plan = (
        np.ascontiguousarray(unit_class, np.int64), np.ascontiguousarray(unit_step, np.int64),
        np.ascontiguousarray(area_sha, np.float64), np.ascontiguousarray(area_cha, np.float64),
        np.ascontiguousarray(ts_first, np.bool_), np.ascontiguousarray(rate, np.float64),
        np.ascontiguousarray(capacity, np.float64), float(productivity_sd), float(ts_fraction), float(p_detect),
        float(p_evidence), np.uint64(key0), np.uint64(key1),
    )
    return plan, np.ascontiguousarray(epoch_step, np.int64), np.argsort(plan[1], kind="stable")


def release_ensemble(
    items, unit_class, unit_step, area_sha, area_cha, ts_first, rate, capacity, productivity_sd, ts_fraction,
    p_detect, p_evidence, key0, key1, r_offset, epoch_step, out, threads=None,
):
    """Land release in each realization of a batch, on ``threads`` threads (default: numba's
    thread count); the results do not depend on it.

    Inputs: ``items`` (int64 [realization, epoch, zone]) remnants landing per epoch in zone
    ``2u`` (suspected-only land of unit ``u``), ``2u + 1`` (its confirmed land) and
    ``2 n_units + c`` (land of class ``c`` never suspected); per unit, in work order: class,
    appearance step, suspected-only and confirmed areas (m2), whether technical survey comes
    first (``ts_first``; else straight to clearance), ``rate`` (float64 [unit, 3]) team-days
    per m2 of NTS, TS and BAC; ``capacity`` (float64 [step, crew]) team-days per step of
    each crew in ``CREW_MASKS`` order (3 columns: single-role teams only; up to 7), scaled in
    each realization by a lognormal productivity factor of mean 1 and log-scale standard deviation
    ``productivity_sd`` (0: none);
    ``ts_fraction`` of confirmed land that TS searches; ``p_detect`` per item
    searched; ``p_evidence`` that NTS sees evidence of an item; ``epoch_step`` the reporting
    step of each epoch; root key and the batch's first realization index.

    Output ``out`` (float64 [realization, step, class, 8]), the state at the end of each
    step: remaining hazardous area, cumulative area cancelled, reduced and cleared (m2),
    cumulative items found, items in hazardous land, residual items in released land, and
    items in land not (yet) suspected. Each realization has its own random stream.
    """
    release_units(items, unit_class, unit_step, area_sha, area_cha, ts_first, rate, capacity, productivity_sd,
                  ts_fraction, p_detect, p_evidence, key0, key1, r_offset, epoch_step, out, None, threads)


def release_units(
    items, unit_class, unit_step, area_sha, area_cha, ts_first, rate, capacity, productivity_sd, ts_fraction,
    p_detect, p_evidence, key0, key1, r_offset, epoch_step, out, units_out, threads=None,
):
    """``release_ensemble`` (same draws, same ``out``) that also records each unit's schedule:
    ``units_out`` (float64 [realization, unit, ``N_UNIT_METRICS``], start/finish columns set to -1
    by the caller, the others to 0; None: no record) gets per unit in work order the step each
    method first worked it and the step it finished, the area cancelled, reduced and cleared (m2),
    and its items. Both run the one compiled ``_realization``, once per realization."""
    none = np.zeros((0, N_UNIT_METRICS))
    plan, epochs, appear = plan_arguments(unit_class, unit_step, area_sha, area_cha, ts_first, rate, capacity,
                                          productivity_sd, ts_fraction, p_detect, p_evidence, key0, key1, epoch_step)

    no_memo = np.zeros((0, 3, 2), np.int64)

    def run(r: int) -> None:
        _realization(items[r], *plan, np.int64(r_offset + r), epochs, appear, out[r],
                     none if units_out is None else units_out[r], np.nan, no_memo, np.int64(plan[6].shape[0]), True)

    each_realization(items.shape[0], threads or numba.get_num_threads(), run)


@jit(helper=True)
def speed_at(z, productivity_sd):
    """The lognormal productivity factor of mean 1 and log-scale deviation ``productivity_sd`` at normal score ``z``."""
    return np.exp(productivity_sd * z - 0.5 * productivity_sd * productivity_sd)
