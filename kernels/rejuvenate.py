"""Metropolis-Hastings rejuvenation of resampled particles (resample-move; docs/model.md, "Resample-move").

A particle (``kernels.posterior.draw``) is, per strike, the stream ``src`` that drives its draws and
the variables the evidence updates: the aim error (standard normal pair), each carrier's delivery
error (standard normal pair) and dud probability. Given them and the rest of the stream, the
realization is deterministic, and under the prior the rest of the stream is independent of them
(each is drawn by rejection or exactly, so how many numbers it uses does not depend on its value).
So Metropolis-Hastings on them with the rest held fixed, and independent refreshes of the rest,
leave the tempered posterior (prior x likelihood ** ``phi``) invariant.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from . import strike_table as T
from .jit import jit
from .posterior import BATCH, close_epoch, log_likelihood, strike
from .rng import next_u64, normal_pair, seed_stream, uniform

SQRT_HALF = math.sqrt(0.5)
FRESH = np.int64(1) << np.int64(61)
"""A refreshed strike's stream is a realization index at or above this, drawn at random (2**61 of them):
never one of the prior realizations' indices."""


@jit
def _propose_position(f, cptr, s, aim_z, car_z, step, rng, old_aim, old_car):
    """Move strike ``s``'s aim error and its carriers' delivery errors by ``z' = sqrt(1 - step**2) z + step xi``
    (reversible for their standard normal prior, so the prior ratio is 1); save the old values."""
    keep = math.sqrt(1.0 - step * step)
    old_aim[0], old_aim[1] = aim_z[s, 0], aim_z[s, 1]
    a, b = normal_pair(rng)
    aim_z[s, 0] = keep * aim_z[s, 0] + step * a
    aim_z[s, 1] = keep * aim_z[s, 1] + step * b
    for g in range(cptr[s], cptr[s + 1]):
        j = g - cptr[s]
        old_car[j, 0], old_car[j, 1] = car_z[g, 0], car_z[g, 1]
        a, b = normal_pair(rng)
        car_z[g, 0] = keep * car_z[g, 0] + step * a
        car_z[g, 1] = keep * car_z[g, 1] + step * b


@jit
def _restore_position(cptr, s, aim_z, car_z, old_aim, old_car):
    aim_z[s, 0], aim_z[s, 1] = old_aim[0], old_aim[1]
    for g in range(cptr[s], cptr[s + 1]):
        car_z[g, 0], car_z[g, 1] = old_car[g - cptr[s], 0], old_car[g - cptr[s], 1]


@jit
def _propose_duds(f, cptr, s, dud_p, step, rng, old_dud):
    """Move strike ``s``'s carriers' dud probabilities by a random walk of SD ``step`` on the logit; save the old
    values; return the log prior ratio (Beta prior with the logit's Jacobian: ``p**alpha (1 - p)**beta``)."""
    alpha, beta_ = f[s, T.DUD_ALPHA], f[s, T.DUD_BETA]
    log_ratio = 0.0
    common, _ = normal_pair(rng)
    for g in range(cptr[s], cptr[s + 1]):
        p = dud_p[g]
        old_dud[g - cptr[s]] = p
        a, _ = normal_pair(rng)
        if 0.0 < p < 1.0:
            moved = 1.0 / (1.0 + math.exp(-(math.log(p) - math.log1p(-p) + step * (common + a) * SQRT_HALF)))
            if 0.0 < moved < 1.0:
                log_ratio += alpha * (math.log(moved) - math.log(p)) + beta_ * (math.log1p(-moved) - math.log1p(-p))
                dud_p[g] = moved
    return log_ratio


@jit
def _log_jump_density(z0, z1, centres, spread):
    """Log density at ``(z0, z1)`` of the jump proposal: half the standard normal prior, half a mean of normals of
    SD ``spread`` about ``centres`` [k, 2] (aim errors that put the strike's aim point on a find)."""
    prior = math.exp(-0.5 * (z0 * z0 + z1 * z1)) / (2.0 * math.pi)
    near = 0.0
    for j in range(centres.shape[0]):
        d0, d1 = (z0 - centres[j, 0]) / spread, (z1 - centres[j, 1]) / spread
        near += math.exp(-0.5 * (d0 * d0 + d1 * d1))
    near /= 2.0 * math.pi * spread * spread * max(centres.shape[0], 1)
    return math.log(0.5 * prior + 0.5 * near)


@jit
def _propose_jump(s, aim_z, centres, spread, rng, old_aim):
    """Draw strike ``s``'s aim error afresh from the jump proposal (independent of its current value); save the
    old; return the log of prior ratio x proposal ratio (the Metropolis-Hastings correction)."""
    old_aim[0], old_aim[1] = aim_z[s, 0], aim_z[s, 1]
    a, b = normal_pair(rng)
    if uniform(rng) < 0.5:
        aim_z[s, 0], aim_z[s, 1] = a, b
    else:
        j = min(np.int64(uniform(rng) * centres.shape[0]), centres.shape[0] - 1)
        aim_z[s, 0], aim_z[s, 1] = centres[j, 0] + spread * a, centres[j, 1] + spread * b
    z0, z1 = aim_z[s, 0], aim_z[s, 1]
    log_prior = -0.5 * (z0 * z0 + z1 * z1 - old_aim[0] * old_aim[0] - old_aim[1] * old_aim[1])
    return log_prior + _log_jump_density(old_aim[0], old_aim[1], centres, spread) - \
        _log_jump_density(z0, z1, centres, spread)


@jit
def _accept(new, current, phi, log_prior_ratio, rng):
    """Metropolis-Hastings acceptance for the tempered target."""
    if new == -np.inf:
        return False
    return math.log(1.0 - uniform(rng)) < phi * (new - current) + log_prior_ratio


@jit
def _replace(f, ti, key0, key1, s, src, aim_z, car_z, dud_p, cptr, x0, y0, cell, nx, ny, cell_class, class_mult,
             mult_hi, uniform_mult, count, touched, batch, state, aims, tally, ptr, cur, new):
    """Into ``new`` (triple arrays cell, epoch, count): the triples of ``cur`` (strike ``s``'s at
    ``ptr[s] .. ptr[s + 1] - 1``) with strike ``s`` drawn again; return (its new end, the total)."""
    at, tail, end_all = ptr[s], ptr[s + 1], ptr[f.shape[0]]
    for t in range(3):
        new[t, :at] = cur[t, :at]
    n_touched = strike(f, ti, key0, key1, s, src, aim_z, car_z, dud_p, cptr, False, x0, y0, cell, nx, ny, cell_class,
                       class_mult, mult_hi, uniform_mult, count, touched, 0, batch, state, aims, tally)
    end = close_epoch(ti[s, T.EPOCH], count, touched, n_touched, new[0], new[1], new[2], at)
    for t in range(3):
        new[t, end:end + end_all - tail] = cur[t, tail:end_all]
    return end, end + end_all - tail


@jit(parallel=True)
def move(f, ti, key0, key1, cptr, src, aim_z, car_z, dud_p, ll, phi, sweeps, steps, jump_ptr, jump_z, jump_sd,
         move_key0, move_key1, stage, n_chunks, x0, y0, cell, nx, ny, cell_class, class_mult, n_epochs, capacity, ev,
         accepted):
    """``sweeps`` Metropolis-Hastings sweeps over the strikes of each particle ``i`` (``src[i]`` int64 [strike],
    ``aim_z[i]`` [strike, 2], ``car_z[i]`` [carrier, 2], ``dud_p[i]`` [carrier], carriers of strike row ``s`` at
    ``cptr[s] ..``; see ``kernels.posterior.draw``), targeting prior x likelihood ** ``phi``. Per strike: a move
    of its aim and carrier errors (``_propose_position``, step ``steps[0]``), of its dud probabilities
    (``_propose_duds``, ``steps[1]``; strikes with a fixed dud rate skip it), and a refresh of its stream (a new
    ``src``: the strike's other draws from an independent stream, an independence proposal from the prior).
    Only the moved strike is drawn again: the particle's remnants are kept as per-strike runs of (cell, epoch,
    count) triples (``capacity`` of them at most). ``ll[i]`` ends as the particle's log-likelihood;
    ``accepted[i, s]`` += the four moves of strike row ``s`` accepted. Particle ``i``'s proposals come from its
    own stream (``move_key``, ``stage``, ``i``), so results do not depend on ``n_chunks``."""
    n = src.shape[0]
    n_strikes = f.shape[0]
    mult_hi = max(1.0, class_mult.max())
    uniform_mult = np.all(class_mult == 1.0)
    most = 1
    for s in range(n_strikes):
        most = max(most, ti[s, T.CARRIERS])
    for k in numba.prange(n_chunks):
        count = np.zeros(nx * ny, np.int32)
        touched = np.empty(nx * ny + 1, np.int64)
        total = np.zeros(nx * ny, np.int64)
        cur, new = np.empty((3, capacity), np.int64), np.empty((3, capacity), np.int64)
        ptr = np.zeros(n_strikes + 1, np.int64)
        batch, state, rng = np.empty(BATCH, np.int64), np.empty(4, np.uint64), np.empty(4, np.uint64)
        aims, tally = np.zeros((n_strikes, 2)), np.zeros(3, np.int64)
        old_aim, old_car, old_dud = np.empty(2), np.empty((most, 2)), np.empty(most)
        for i in range(k * n // n_chunks, (k + 1) * n // n_chunks):
            seed_stream(rng, move_key0, move_key1, stage, i)
            at = 0
            for s in range(n_strikes):
                ptr[s] = at
                n_touched = strike(f, ti, key0, key1, s, src[i], aim_z[i], car_z[i], dud_p[i], cptr, False, x0, y0,
                                   cell, nx, ny, cell_class, class_mult, mult_hi, uniform_mult, count, touched, 0,
                                   batch, state, aims, tally)
                at = close_epoch(ti[s, T.EPOCH], count, touched, n_touched, cur[0], cur[1], cur[2], at)
            ptr[n_strikes] = at
            current = log_likelihood(cur[0], cur[1], cur[2], at, n_epochs, total, aims, ev)
            for _ in range(sweeps):
                for s in range(n_strikes):
                    for kind in range(4):
                        if (kind == 1 and f[s, T.DUD_ALPHA] <= 0.0) or (kind == 3 and jump_ptr[s + 1] == jump_ptr[s]):
                            continue
                        old_x, old_y = aims[s, 0], aims[s, 1]
                        log_prior, old_src = 0.0, src[i, s]
                        if kind == 0:
                            _propose_position(f, cptr, s, aim_z[i], car_z[i], steps[s, 0], rng, old_aim, old_car)
                        elif kind == 1:
                            log_prior = _propose_duds(f, cptr, s, dud_p[i], steps[s, 1], rng, old_dud)
                        elif kind == 2:
                            src[i, s] = FRESH | np.int64(next_u64(rng) >> np.uint64(3))
                        else:
                            log_prior = _propose_jump(s, aim_z[i], jump_z[jump_ptr[s]:jump_ptr[s + 1]], jump_sd[s], rng,
                                                      old_aim)
                        end, n_tri = _replace(f, ti, key0, key1, s, src[i], aim_z[i], car_z[i], dud_p[i], cptr, x0,
                                              y0, cell, nx, ny, cell_class, class_mult, mult_hi, uniform_mult, count,
                                              touched, batch, state, aims, tally, ptr, cur, new)
                        proposed = log_likelihood(new[0], new[1], new[2], n_tri, n_epochs, total, aims, ev)
                        if _accept(proposed, current, phi, log_prior, rng):
                            current = proposed
                            accepted[i, s, kind] += 1
                            cur, new = new, cur
                            shift = end - ptr[s + 1]
                            for t in range(s + 1, n_strikes + 1):
                                ptr[t] += shift
                        else:
                            aims[s, 0], aims[s, 1] = old_x, old_y
                            if kind == 0:
                                _restore_position(cptr, s, aim_z[i], car_z[i], old_aim, old_car)
                            elif kind == 1:
                                for g in range(cptr[s], cptr[s + 1]):
                                    dud_p[i, g] = old_dud[g - cptr[s]]
                            elif kind == 2:
                                src[i, s] = old_src
                            else:
                                aim_z[i, s, 0], aim_z[i, s, 1] = old_aim[0], old_aim[1]
            ll[i] = current
