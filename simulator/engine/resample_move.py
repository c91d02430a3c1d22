"""Resample-move: a block of prior realizations carried to the posterior by tempering, systematic resampling
and Metropolis-Hastings rejuvenation (docs/model.md, "Resample-move").

The likelihood of the evidence is raised to powers ``0 = phi_0 < phi_1 < ... < phi_T = 1``; each step is as
large as keeps the effective sample size (ESS, ``1 / sum(w**2)``) of its incremental weights
``L**(phi_t - phi_{t-1})`` at ``evidence.ess_fraction`` of the particles. After each step the particles are
resampled systematically (an offset drawn from the seed) and moved by ``evidence.moves`` sweeps of
``kernels.rejuvenate.move`` at the new power, so duplicates separate. Every random number comes from the
scenario seed, per family, block, stage and particle: results do not depend on the thread count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np

from simulator.inputs.kernel_inputs import KernelInputs
from simulator.kernels import posterior as K
from simulator.kernels import rejuvenate as R
from simulator.kernels import strike_table as T

RESAMPLING, MOVES = 2, 3
"""Stream families of the resampling offsets and of the moves, apart from the ensemble's (0) and the
scored realizations' (1)."""
FIRST_STEP, LOW_ACCEPTANCE, HIGH_ACCEPTANCE = 0.3, 0.15, 0.4
"""Each strike's steps of the position and dud moves start at ``FIRST_STEP``; each is halved after a stage
whose acceptance rate (that strike's, that move's) is below ``LOW_ACCEPTANCE``, doubled (at most 1) above
``HIGH_ACCEPTANCE``."""


JUMP_FINDS, JUMP_REACH_SD, JUMP_SPREAD = 256, 4.0, (0.05, 1.0)
"""Jumps of a strike's aim point go to its nearest ``JUMP_FINDS`` finds within ``JUMP_REACH_SD`` standard
deviations of its aim error, spread by its pattern's size over that SD (clipped to ``JUMP_SPREAD``)."""


@dataclass
class Particles:
    """Per particle (row): the stream of each strike row, aim errors, carrier errors and dud probabilities
    (``kernels.posterior.draw``), and the log-likelihood of the evidence."""

    src: np.ndarray
    aim: np.ndarray
    car: np.ndarray
    dud: np.ndarray
    ll: np.ndarray

    def __getitem__(self, rows) -> Particles:
        return Particles(self.src[rows], self.aim[rows], self.car[rows], self.dud[rows], self.ll[rows])

    @staticmethod
    def concat(parts: list[Particles]) -> Particles:
        return Particles(*(np.concatenate([getattr(p, n) for p in parts]) for n in Particles.__dataclass_fields__))


@dataclass
class BlockRun:
    """One block's resample-move: ESS of the plain importance weights (``ess_before``), per stage the power
    reached, the ESS of its weights before resampling, the acceptance rates of the moves after it (aim and
    carrier errors, dud probabilities, redraws of the rest, jumps; means over strikes) and the median steps, and the
    particles at power 1."""

    particles: Particles
    ess_before: float
    powers: list[float] = field(default_factory=list)
    stage_ess: list[float] = field(default_factory=list)
    acceptance: list[list[float]] = field(default_factory=list)
    steps: list[list[float]] = field(default_factory=list)
    ruled_out: bool = False
    capped: bool = False


def carrier_rows(inputs: KernelInputs) -> np.ndarray:
    """``cptr``: strike row ``s``'s carriers are rows ``cptr[s] .. cptr[s + 1] - 1`` of a particle's carriers."""
    return np.concatenate([[0], np.cumsum(inputs.ti[:, T.CARRIERS])]).astype(np.int64)


def triple_capacity(inputs: KernelInputs) -> int:
    """Most (cell, epoch) triples one realization can hold."""
    sub = int((inputs.ti[:, T.CARRIERS].astype(object) * inputs.ti[:, T.SUBMUNITIONS].astype(object)).sum())
    return max(1, min(sub, inputs.nx * inputs.ny * max(inputs.n_epochs, 1)))


def segment_capacity(inputs: KernelInputs) -> int:
    """Most triples a particle's per-strike runs can hold (``kernels.rejuvenate.move``): one per remnant."""
    sub = int((inputs.ti[:, T.CARRIERS].astype(object) * inputs.ti[:, T.SUBMUNITIONS].astype(object)).sum())
    return max(1, min(sub, inputs.nx * inputs.ny * max(len(inputs.ti), 1)))


def empty_particles(inputs: KernelInputs, realizations: np.ndarray) -> Particles:
    """Particles that are the prior ``realizations`` (their variables still to be recorded from the streams)."""
    n, strikes, carriers = len(realizations), len(inputs.ti), int(inputs.ti[:, T.CARRIERS].sum())
    src = np.repeat(np.asarray(realizations, np.int64)[:, None], strikes, axis=1)
    return Particles(src, np.zeros((n, strikes, 2)), np.zeros((n, carriers, 2)), np.zeros((n, carriers)), np.zeros(n))


def jump_targets(inputs: KernelInputs, finds_xy: np.ndarray, finds_limit: np.ndarray) -> tuple:
    """Per strike row: (CSR ``ptr``, aim errors ``z`` [k, 2] that put its aim point on one of the nearest
    ``JUMP_FINDS`` finds within ``JUMP_REACH_SD`` aim SDs that see its epoch, and the jump's spread ``sd``: the
    pattern's largest half-axis or carrier error over the aim SD, within ``JUMP_SPREAD``)."""
    f, ti = inputs.f, inputs.ti
    ptr, parts, spread = [0], [], np.ones(len(f))
    for s in range(len(f)):
        sd = f[s, T.AIM_SD]
        z = np.zeros((0, 2))
        if sd > 0 and len(finds_xy):
            z = (finds_xy - f[s, [T.AIM_X, T.AIM_Y]]) / sd
            d2 = (z**2).sum(axis=1)
            mine = np.flatnonzero((d2 <= JUMP_REACH_SD**2) & (finds_limit > ti[s, T.EPOCH]))
            z = z[mine[np.argsort(d2[mine], kind="stable")][:JUMP_FINDS]]
            extent = f[s, [T.HALF_ALONG, T.HALF_ACROSS, T.CARRIER_SD_ALONG, T.CARRIER_SD_ACROSS]].max()
            spread[s] = np.clip(extent / sd, *JUMP_SPREAD)
        parts.append(z)
        ptr.append(ptr[-1] + len(z))
    return np.array(ptr, np.int64), np.concatenate(parts) if parts else np.zeros((0, 2)), spread


def weigh(inputs: KernelInputs, ev: tuple, particles: Particles, threads: int, record: bool) -> None:
    """Set ``particles.ll``; with ``record``, take the particles' variables from their streams first."""
    numba.set_num_threads(threads)
    key0, key1 = (np.uint64(k) for k in inputs.key)
    n = len(particles.ll)
    K.weigh(inputs.f, inputs.ti, key0, key1, particles.src, particles.aim, particles.car, particles.dud,
            carrier_rows(inputs), record, max(1, min(threads, n)), inputs.x0, inputs.y0, inputs.cell_size_m, inputs.nx,
            inputs.ny, inputs.cell_class, inputs.class_mult, inputs.n_epochs, triple_capacity(inputs), ev, particles.ll)


def prior_particles(inputs: KernelInputs, ev: tuple, realizations: np.ndarray, threads: int) -> Particles:
    """The prior ``realizations`` as particles, weighed by the evidence."""
    particles = empty_particles(inputs, realizations)
    weigh(inputs, ev, particles, threads, record=True)
    return particles


def weights(log_w: np.ndarray) -> np.ndarray:
    """Normalised weights of log-weights (all zero when every one is -inf)."""
    top = log_w.max() if len(log_w) else -np.inf
    if not np.isfinite(top):
        return np.zeros(len(log_w))
    w = np.exp(log_w - top)
    return w / w.sum()


def ess(log_w: np.ndarray) -> float:
    """Effective sample size ``1 / sum(w**2)`` of log-weights (0 when all are -inf)."""
    w = weights(log_w)
    return float(1.0 / np.sum(w * w)) if w.any() else 0.0


def systematic(w: np.ndarray, n: int, offset: float) -> np.ndarray:
    """``n`` indices into ``w`` by systematic resampling with ``offset`` in [0, 1)."""
    cdf = np.cumsum(w)
    cdf[-1] = 1.0
    return np.minimum(np.searchsorted(cdf, (np.arange(n) + offset) / n, side="right"), len(w) - 1)


def next_power(ll: np.ndarray, phi: float, target: float) -> float:
    """The largest power in ``(phi, 1]`` whose incremental weights ``ll * (power - phi)`` keep an ESS of at
    least ``target`` (bisection; the smallest step it tries when none does)."""
    if ess(ll * (1.0 - phi)) >= target:
        return 1.0
    lo, hi = 0.0, 1.0 - phi
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ess(ll * mid) >= target else (lo, mid)
    return phi + (lo if lo > 0.0 else hi)


def offset(seed: int, *key: int) -> float:
    """A uniform in [0, 1) from the seed and ``key`` (the resampling offsets)."""
    return float(np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(RESAMPLING, *key))).random())


def run_block(inputs: KernelInputs, ev: tuple, particles: Particles, seed: int, key: tuple[int, int], threads: int,
              ess_fraction: float, sweeps: int, max_stages: int, jumps: tuple) -> BlockRun:
    """Carry prior ``particles`` (weighed) to the posterior (see the module); ``key`` = (family, block); ``jumps``
    from ``jump_targets``."""
    n = len(particles.ll)
    run = BlockRun(particles, ess(particles.ll))
    if not np.isfinite(particles.ll).any():  # every realization ruled out: none is better than another
        run.ruled_out = True
        return run
    move_key = np.random.SeedSequence(seed, spawn_key=(MOVES, *key)).generate_state(2, np.uint64)
    cptr = carrier_rows(inputs)
    strikes = len(inputs.ti)
    has_duds, has_jumps = inputs.f[:, T.DUD_ALPHA] > 0, np.diff(jumps[0]) > 0
    phi, steps = 0.0, np.full((strikes, 2), FIRST_STEP)
    key0, key1 = (np.uint64(k) for k in inputs.key)
    while phi < 1.0:
        stage = len(run.powers)
        power = next_power(particles.ll, phi, ess_fraction * n)
        if stage == max_stages - 1 and power < 1.0:  # the last stage allowed goes to the posterior at once
            run.capped, power = True, 1.0
        log_w = particles.ll * (power - phi)
        run.stage_ess.append(ess(log_w))
        particles = particles[systematic(weights(log_w), n, offset(seed, *key, stage))]
        phi = power
        run.powers.append(phi)
        accepted = np.zeros((n, strikes, 4), np.int64)
        if sweeps > 0 and strikes > 0:
            numba.set_num_threads(threads)
            R.move(inputs.f, inputs.ti, key0, key1, cptr, particles.src, particles.aim, particles.car, particles.dud,
                   particles.ll, phi, sweeps, steps, *jumps, move_key[0], move_key[1], np.int64(stage),
                   max(1, min(threads, n)),
                   inputs.x0, inputs.y0, inputs.cell_size_m, inputs.nx, inputs.ny, inputs.cell_class,
                   inputs.class_mult, inputs.n_epochs, segment_capacity(inputs), ev, accepted)
        per_strike = accepted.sum(axis=0) / max(1, n * sweeps)  # [strike, move]
        run.acceptance.append([float(per_strike[:, 0].mean()), float(per_strike[has_duds, 1].mean())
                               if has_duds.any() else 0.0, float(per_strike[:, 2].mean()),
                               float(per_strike[has_jumps, 3].mean()) if has_jumps.any() else 0.0])
        run.steps.append([float(np.median(steps[:, 0])), float(np.median(steps[:, 1]))])
        low, high = per_strike[:, :2] < LOW_ACCEPTANCE, per_strike[:, :2] > HIGH_ACCEPTANCE
        steps = np.where(low, steps / 2, np.where(high, np.minimum(1.0, 2 * steps), steps))
    run.particles = particles
    return run
