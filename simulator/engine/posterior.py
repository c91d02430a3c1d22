"""The posterior: prior realizations weighed by the evidence, resampled, with found and cleared items removed.

Posterior realizations come in blocks of ``simulation.realizations`` positions. Block ``b`` of a
random family (the hazard map's, or the ``SCORED`` family land release is scored on) is a
systematic resample, with an offset drawn from the seed, of the prior realizations
``b * M .. (b + 1) * M - 1`` weighed by the likelihood of the evidence. The pool size ``M``
starts at the block size and grows by it until the first block's effective sample size (ESS,
``1 / sum(w**2)``) of both families reaches ``evidence.target_ess`` or ``evidence.max_realizations``
(then the summary says so). Blocks are independent, so a map grown by precision targets gains
independent posterior draws; the estimate is exact as ``M`` grows. Weights that are all equal
(evidence that cannot tell realizations apart) leave every position its own prior realization.

Everything downstream runs unchanged: the posterior's ``draw`` stands in for the scatter call
(``simulator.engine.scatter.scatter``) of the ensemble and of land release.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numba
import numpy as np

from simulator.config.evidence import Evidence
from simulator.engine.ensemble import SCORED, root_key
from simulator.engine.evidence_tables import EvidenceTables, evidence_tables
from simulator.engine.prepare import Setup
from simulator.engine.scatter import CellSums, Tallies
from simulator.inputs.evidence import read_evidence
from simulator.inputs.kernel_inputs import KernelInputs
from simulator.kernels import posterior as K
from simulator.kernels import strike_table as T

RESAMPLING = 2
"""Stream family of the resampling offsets, apart from the ensemble's (0) and the scored realizations' (1)."""


def triple_capacity(inputs: KernelInputs) -> int:
    """Most (cell, epoch) triples one realization can hold."""
    sub = int((inputs.ti[:, T.CARRIERS].astype(object) * inputs.ti[:, T.SUBMUNITIONS].astype(object)).sum())
    return max(1, min(sub, inputs.nx * inputs.ny * max(inputs.n_epochs, 1)))


def log_likelihoods(inputs: KernelInputs, tables: EvidenceTables, index: np.ndarray, threads: int) -> np.ndarray:
    """Log-likelihood of the evidence given each prior realization ``index`` of ``inputs``' random family."""
    out = np.zeros(len(index))
    numba.set_num_threads(threads)
    key0, key1 = (np.uint64(k) for k in inputs.key)
    K.weigh(inputs.f, inputs.ti, key0, key1, np.asarray(index, np.int64), max(1, min(threads, len(index))), inputs.x0,
            inputs.y0, inputs.cell_size_m, inputs.nx, inputs.ny, inputs.cell_class, inputs.class_mult, inputs.n_epochs,
            triple_capacity(inputs), tables.ev, out)
    return out


def weights(log_likelihood: np.ndarray) -> np.ndarray:
    """Normalised importance weights (all zero when every realization is ruled out)."""
    top = log_likelihood.max() if len(log_likelihood) else -np.inf
    if not np.isfinite(top):
        return np.zeros(len(log_likelihood))
    w = np.exp(log_likelihood - top)
    return w / w.sum()


def ess(log_likelihood: np.ndarray) -> float:
    """Effective sample size of the weights, ``1 / sum(w**2)`` (0 when all are ruled out)."""
    w = weights(log_likelihood)
    return float(1.0 / np.sum(w * w)) if w.any() else 0.0


def systematic(w: np.ndarray, n: int, offset: float) -> np.ndarray:
    """``n`` indices into ``w`` by systematic resampling with ``offset`` in [0, 1)."""
    cdf = np.cumsum(w)
    cdf[-1] = 1.0
    return np.minimum(np.searchsorted(cdf, (np.arange(n) + offset) / n, side="right"), len(w) - 1)


@dataclass
class Posterior:
    """The evidence's tables and the resampling of each family's positions (see the module)."""

    setup: Setup
    tables: EvidenceTables
    threads: int
    block: int
    pool: int = 0
    capped: bool = False
    uniform: bool = False
    _ll: dict = field(default_factory=dict)
    _index: dict = field(default_factory=dict)
    removed: dict = field(default_factory=dict)

    def inputs(self, family: int) -> KernelInputs:
        seed = self.setup.scenario.simulation.seed
        return replace(self.setup.kernel, key=root_key(seed, family))

    def block_ll(self, family: int, b: int) -> np.ndarray:
        """Log-likelihoods of block ``b``'s pool (prior realizations ``b * pool ..``)."""
        if (family, b) not in self._ll:
            first = b * self.pool
            self._ll[family, b] = log_likelihoods(self.inputs(family), self.tables, np.arange(first, first + self.pool),
                                                  self.threads)
        return self._ll[family, b]

    def grow_pool(self, target: int, cap: int, families: tuple[int, ...] = (0, SCORED)) -> None:
        """Set the pool size: the block size, grown by it until block 0's ESS reaches ``target`` in each
        of ``families`` (at most ``cap``)."""
        self.pool = self.block
        ll = {f: self.block_ll(f, 0) for f in families}
        self.uniform = all(bool(np.ptp(v) == 0.0 and np.isfinite(v).all()) for v in ll.values())
        while not self.uniform and min(ess(v) for v in ll.values()) < target and self.pool < cap:
            more = min(self.block, cap - self.pool)
            for f in families:
                ll[f] = np.concatenate([ll[f], log_likelihoods(self.inputs(f), self.tables,
                                                               np.arange(self.pool, self.pool + more), self.threads)])
            self.pool += more
            self._ll = {(f, 0): v for f, v in ll.items()}
        self.capped = not self.uniform and min(ess(v) for v in ll.values()) < target

    def indices(self, family: int, first: int, n: int) -> np.ndarray:
        """Prior realizations of posterior positions ``first .. first + n - 1`` of ``family``."""
        positions = np.arange(first, first + n)
        if self.uniform:
            return positions
        out = np.empty(n, np.int64)
        for b in np.unique(positions // self.block):
            if (family, b) not in self._index:
                w = weights(self.block_ll(family, int(b)))
                if not w.any():  # every pool realization ruled out: none is better than another
                    w = np.full(self.pool, 1.0 / self.pool)
                seq = np.random.SeedSequence(self.setup.scenario.simulation.seed, spawn_key=(RESAMPLING, family, int(b)))
                offset = np.random.default_rng(seq).random()
                self._index[family, b] = b * self.pool + systematic(w, self.block, offset)
            mine = positions // self.block == b
            out[mine] = self._index[family, b][positions[mine] % self.block]
        return out

    def family_of(self, inputs: KernelInputs) -> int:
        return SCORED if tuple(inputs.key) == root_key(self.setup.scenario.simulation.seed, SCORED) else 0

    def draw(self, inputs: KernelInputs, first: int, n: int, sums: CellSums) -> Tallies:
        """The scatter call for posterior positions ``first .. first + n - 1``: their realizations with the
        evidence's items removed, added to ``sums``; their tallies returned."""
        family = self.family_of(inputs)
        index = self.indices(family, first, n)
        threads = sums.sum_count.shape[0]
        numba.set_num_threads(threads)
        shape = (n, inputs.n_epochs, inputs.n_zones)
        tallies = Tallies(np.zeros(shape, np.int64), np.zeros(shape, np.int64), np.zeros((n, 3), np.int64))
        removed = np.zeros((n, 2), np.int64)
        key0, key1 = (np.uint64(k) for k in inputs.key)
        K.posterior_sums(
            inputs.f, inputs.ti, key0, key1, index, threads, inputs.x0, inputs.y0, inputs.cell_size_m, inputs.nx,
            inputs.ny, inputs.cell_class, inputs.class_mult, inputs.zone, inputs.disc, triple_capacity(inputs),
            self.tables.ev, sums.sum_count, sums.sum_sq, sums.hits, tallies.zone_items, tallies.zone_cells,
            tallies.totals, removed,
        )
        for p, row in zip(range(first, first + n), removed):
            self.removed[family, p] = row
        return tallies

    def removed_mean(self, family: int, n: int) -> tuple[float, float]:
        """Mean items found and cleared over the first ``n`` positions of ``family``."""
        rows = [self.removed[family, p] for p in range(n) if (family, p) in self.removed]
        return tuple(float(v) for v in np.mean(rows, axis=0)) if rows else (0.0, 0.0)

    def summary(self) -> dict:
        """ESS and pool, JSON-ready."""
        t = self.tables
        scored = ess(self.block_ll(SCORED, 0)) if not self.uniform else float(self.pool)
        note = None
        if self.capped:
            low = min(ess(self.block_ll(0, 0)), scored)
            note = (f"evidence: effective sample size {low:.0f} is below the target "
                    f"{self.setup.scenario.evidence.target_ess} after {self.pool:,} prior realizations per batch "
                    "(evidence.max_realizations); the posterior rests on few realizations")
        return {
            "finds": t.n_finds, "searched": t.n_searched, "cleared": t.n_cleared, "strike_reports": t.n_reports,
            "ess": round(ess(self.block_ll(0, 0)), 2) if not self.uniform else float(self.pool),
            "ess_scored": round(scored, 2), "prior_realizations_per_batch": self.pool,
            "posterior_realizations_per_batch": self.block, "target_ess": self.setup.scenario.evidence.target_ess,
            "target_reached": not self.capped, "note": note,
        }


def condition(setup: Setup, threads: int) -> Posterior | None:
    """Read the scenario's evidence and weigh the prior by it; None without an ``[evidence]`` table."""
    spec: Evidence | None = setup.scenario.evidence
    if spec is None:
        return None
    data = read_evidence(spec, grid_crs=setup.grid.crs, profiles=set(setup.loaded.profiles))
    posterior = Posterior(setup, evidence_tables(setup, data, spec), threads, setup.scenario.simulation.realizations)
    posterior.grow_pool(spec.target_ess, max(spec.max_realizations, posterior.block))
    return posterior


def realization(inputs: KernelInputs, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Realization ``r`` of ``inputs``' family as drawn for the ensemble: its remnants as (flat cell,
    epoch, count) arrays in epoch order, and each strike's aim point (m, [strike-table row, 2])."""
    cap = triple_capacity(inputs)
    cells = inputs.nx * inputs.ny
    tri = [np.empty(cap, np.int64) for _ in range(3)]
    aims = np.zeros((len(inputs.f), 2))
    key0, key1 = (np.uint64(k) for k in inputs.key)
    n = K.draw(inputs.f, inputs.ti, key0, key1, np.int64(r), inputs.x0, inputs.y0, inputs.cell_size_m, inputs.nx,
               inputs.ny, inputs.cell_class, inputs.class_mult, max(1.0, inputs.class_mult.max()),
               bool(np.all(inputs.class_mult == 1.0)), np.zeros(cells, np.int32), np.empty(cells + 1, np.int64),
               np.empty(K.BATCH, np.int64), np.empty(4, np.uint64), *tri, aims, np.zeros(3, np.int64))
    return tri[0][:n].copy(), tri[1][:n].copy(), tri[2][:n].copy(), aims
