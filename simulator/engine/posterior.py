"""The posterior: prior realizations carried to the posterior by resample-move, with found and cleared items removed.

Posterior realizations come in blocks of ``evidence.particles`` positions.
Block ``b`` of a random family (the hazard map's, or the ``SCORED`` family land release is scored on)
starts from the prior realizations ``b * block ..`` of that family and is carried to the posterior by
tempering, resampling and Metropolis-Hastings moves (``simulator.engine.resample_move``). Blocks are
independent, so the spread of their figures gives honest Monte Carlo errors (batch means), and a map
grown by precision targets gains independent posterior blocks. Weights that are all equal (evidence
that cannot tell realizations apart) leave every position its own prior realization: the prior exactly.

Everything downstream runs unchanged: the posterior's ``draw`` stands in for the scatter call
(``simulator.engine.scatter.scatter``) of the ensemble and of land release.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numba
import numpy as np

from simulator.config.evidence import Evidence
from simulator.engine.evidence_tables import EvidenceTables, evidence_tables
from simulator.engine.layout import SCORED, root_key
from simulator.engine.prepare import Setup
from simulator.engine.resample_move import (
    BlockRun,
    Particles,
    carrier_rows,
    empty_particles,
    jump_targets,
    prior_particles,
    run_block,
    triple_capacity,
)
from simulator.engine.scatter import CellSums, Tallies
from simulator.inputs.evidence import read_evidence
from simulator.inputs.kernel_inputs import KernelInputs
from simulator.kernels import posterior as K

FAMILIES = (0, SCORED)
MOVES = ("positions", "dud_rates", "redraws", "jumps")
"""The Metropolis-Hastings moves, in the order ``kernels.rejuvenate.move`` counts them."""


def log_likelihoods(inputs: KernelInputs, tables: EvidenceTables, index: np.ndarray, threads: int) -> np.ndarray:
    """Log-likelihood of the evidence given each prior realization ``index`` of ``inputs``' random family."""
    return prior_particles(inputs, tables.ev, np.asarray(index, np.int64), threads).ll


@dataclass
class Posterior:
    """The evidence's tables and each family's blocks of posterior particles (see the module)."""

    setup: Setup
    tables: EvidenceTables
    threads: int
    block: int
    uniform: bool = False
    runs: dict = field(default_factory=dict)
    removed: dict = field(default_factory=dict)

    @property
    def spec(self) -> Evidence:
        return self.setup.scenario.evidence

    def inputs(self, family: int) -> KernelInputs:
        return replace(self.setup.kernel, key=root_key(self.setup.scenario.simulation.seed, family))

    def prior(self, family: int, b: int) -> Particles:
        """Block ``b``'s prior realizations of ``family`` as weighed particles."""
        return prior_particles(self.inputs(family), self.tables.ev, np.arange(b * self.block, (b + 1) * self.block),
                               self.threads)

    def settle_uniform(self) -> None:
        """Whether the evidence cannot tell realizations apart (block 0 of both families weighs all alike)."""
        lls = [self.prior(f, 0).ll for f in FAMILIES]
        self.uniform = all(bool(np.isfinite(v).all() and np.ptp(v) == 0.0) for v in lls)

    def run(self, family: int, b: int) -> BlockRun:
        """Block ``b`` of ``family`` carried to the posterior (computed once)."""
        if (family, b) not in self.runs:
            spec = self.spec
            self.runs[family, b] = run_block(self.inputs(family), self.tables.ev, self.prior(family, b),
                                             self.setup.scenario.simulation.seed, (family, b), self.threads,
                                             spec.ess_fraction, spec.moves, spec.max_stages,
                                             jump_targets(self.inputs(family), self.tables.finds_xy,
                                                          self.tables.finds_limit))
        return self.runs[family, b]

    def family_of(self, inputs: KernelInputs) -> int:
        return SCORED if tuple(inputs.key) == root_key(self.setup.scenario.simulation.seed, SCORED) else 0

    def draw(self, inputs: KernelInputs, first: int, n: int, sums: CellSums) -> Tallies:
        """The scatter call for posterior positions ``first .. first + n - 1``: their realizations with the
        evidence's items removed, added to ``sums``; their tallies returned."""
        family = self.family_of(inputs)
        threads = sums.sum_count.shape[0]
        shape = (n, inputs.n_epochs, inputs.n_zones)
        tallies = Tallies(np.zeros(shape, np.int64), np.zeros(shape, np.int64), np.zeros((n, 3), np.int64))
        removed = np.zeros((n, 2), np.int64)
        key0, key1 = (np.uint64(k) for k in inputs.key)
        start = 0
        for record, p in self._runs_of(family, first, n):  # prior realizations are recorded, moved ones replayed
            m = len(p.ll)
            numba.set_num_threads(threads)
            part = slice(start, start + m)
            K.posterior_sums(
                inputs.f, inputs.ti, key0, key1, p.src, p.aim, p.car, p.dud, carrier_rows(inputs), record, threads,
                inputs.x0, inputs.y0, inputs.cell_size_m, inputs.nx, inputs.ny, inputs.cell_class, inputs.class_mult,
                inputs.zone, inputs.disc, triple_capacity(inputs), self.tables.ev, sums.sum_count, sums.sum_sq,
                sums.hits, tallies.zone_items[part], tallies.zone_cells[part], tallies.totals[part], removed[part],
            )
            start += m
        for pos, row in zip(range(first, first + n), removed):
            self.removed[family, pos] = row
        return tallies

    def _runs_of(self, family: int, first: int, n: int) -> list[tuple[bool, Particles]]:
        """Consecutive runs of positions ``first ..`` as (record, particles): prior realizations (the uniform
        case, or blocks whose every realization is ruled out) or moved particles."""
        inputs = self.inputs(family)
        positions = np.arange(first, first + n)
        if self.uniform:
            return [(True, empty_particles(inputs, positions))]
        out: list[tuple[bool, Particles]] = []
        blocks = positions // self.block
        for b in np.unique(blocks):
            run = self.run(family, int(b))
            mine = positions[blocks == b]
            if run.ruled_out:
                out.append((True, empty_particles(inputs, mine)))
            else:
                out.append((False, run.particles[mine % self.block]))
        return out

    def removed_mean(self, family: int, n: int) -> tuple[float, float]:
        """Mean items found and cleared over the first ``n`` positions of ``family``."""
        rows = [self.removed[family, p] for p in range(n) if (family, p) in self.removed]
        return tuple(float(v) for v in np.mean(rows, axis=0)) if rows else (0.0, 0.0)

    def family_summary(self, family: int) -> dict:
        """Resample-move figures of ``family``'s blocks run so far (JSON-ready)."""
        runs = [r for (f, _), r in sorted(self.runs.items()) if f == family]
        rates = np.array([a for r in runs for a in r.acceptance]).reshape(-1, len(MOVES))
        if self.uniform or not runs:
            return {"blocks": 0, "ess_before": float(self.block), "stages": 0, "stage_ess_min": float(self.block),
                    **{f"acceptance_{name}": 0.0 for name in MOVES}, "ruled_out_blocks": 0, "capped_blocks": 0}
        return {
            "blocks": len(runs),
            "ess_before": round(float(np.mean([r.ess_before for r in runs])), 2),
            "stages": round(float(np.mean([len(r.powers) for r in runs])), 2),
            "stage_ess_min": round(float(min(min(r.stage_ess) for r in runs if r.stage_ess)), 2)
            if any(r.stage_ess for r in runs) else 0.0,
            **{f"acceptance_{name}": round(float(rates[:, j].mean()), 4) if len(rates) else 0.0
               for j, name in enumerate(MOVES)},
            "ruled_out_blocks": sum(r.ruled_out for r in runs),
            "capped_blocks": sum(r.capped for r in runs),
        }

    def summary(self) -> dict:
        """Evidence counts and the resample-move figures of both families, JSON-ready."""
        t = self.tables
        return {
            "finds": t.n_finds, "searched": t.n_searched, "cleared": t.n_cleared, "strike_reports": t.n_reports,
            "particles_per_block": self.block, "moves": self.spec.moves, "ess_fraction": self.spec.ess_fraction,
            "map": self.family_summary(0), "scored": self.family_summary(SCORED),
        }


def condition(setup: Setup, threads: int) -> Posterior | None:
    """Read the scenario's evidence and prepare its posterior; None without an ``[evidence]`` table."""
    spec: Evidence | None = setup.scenario.evidence
    if spec is None:
        return None
    data = read_evidence(spec, grid_crs=setup.grid.crs, profiles=set(setup.loaded.profiles))
    posterior = Posterior(setup, evidence_tables(setup, data, spec), threads, spec.particles)
    posterior.settle_uniform()
    return posterior


def realization(inputs: KernelInputs, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Realization ``r`` of ``inputs``' family as drawn for the ensemble: its remnants as (flat cell,
    epoch, count) arrays in epoch order, and each strike's aim point (m, [strike-table row, 2])."""
    cap = triple_capacity(inputs)
    cells = inputs.nx * inputs.ny
    tri = [np.empty(cap, np.int64) for _ in range(3)]
    aims = np.zeros((len(inputs.f), 2))
    p = empty_particles(inputs, np.array([r]))
    key0, key1 = (np.uint64(k) for k in inputs.key)
    n = K.draw(inputs.f, inputs.ti, key0, key1, p.src[0], p.aim[0], p.car[0], p.dud[0], carrier_rows(inputs), True,
               inputs.x0, inputs.y0, inputs.cell_size_m, inputs.nx, inputs.ny, inputs.cell_class, inputs.class_mult,
               max(1.0, inputs.class_mult.max()), bool(np.all(inputs.class_mult == 1.0)), np.zeros(cells, np.int32),
               np.empty(cells + 1, np.int64), np.empty(K.BATCH, np.int64), np.empty(4, np.uint64), *tri, aims,
               np.zeros(3, np.int64))
    return tri[0][:n].copy(), tri[1][:n].copy(), tri[2][:n].copy(), aims
