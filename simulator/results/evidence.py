"""What the evidence changed: the prior beside the posterior, resample-move diagnostics, items found and
cleared, and the posterior's honest Monte Carlo errors.

Posterior realizations of one resample-move block share ancestors, so errors computed as if they were
independent are too small. Blocks are independent and each is whole jackknife groups
(``evidence.particles`` = 32 x a divisor of 10), so the groups that share blocks are merged into
``10 / (particles / 32)`` independent super-groups and the delete-a-group jackknife over them gives the
errors (docs/model.md, "Monte Carlo errors of the posterior").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from simulator.engine.ensemble import Ensemble
from simulator.engine.layout import GROUP_BLOCK, GROUPS, SCORED, group_of
from simulator.engine.posterior import Posterior
from simulator.engine.prepare import Setup
from simulator.kernels import release as RK
from simulator.results.tables import M2_PER_HA, hazardous_area_table, per_step, rounded, summary
from simulator.results.uncertainty import area_at_threshold, jackknife_se

SIDE_BY_SIDE = ("expected_duds", "expected_duds_se", "duds_outside_grid_mean", "contaminated_ha_mean",
                "contaminated_ha_p50", "suspected_ha", "hazardous_ha", "share_of_items_in_sha", "share_of_items_in_cha")
"""Headline figures shown for the prior and the posterior (``expected_duds``: items left on the ground,
off the grid too)."""


def super_groups(positions: np.ndarray, particles: int) -> np.ndarray:
    """The independent super-group of each posterior position: jackknife groups merged where one
    resample-move block of ``particles`` spans them."""
    return group_of(positions) // (particles // GROUP_BLOCK)


def jackknife_mean_se(values: np.ndarray, groups: np.ndarray) -> float:
    """Delete-a-group jackknife SE of the mean of ``values`` (nan with fewer than two groups)."""
    used = np.unique(groups)
    if len(used) < 2:
        return float("nan")
    return jackknife_se(np.array([values[groups != g].mean() for g in used]))


def honest_errors(setup: Setup, ensemble: Ensemble, particles: int) -> dict[str, float]:
    """Jackknife errors over independent super-groups of the map's headline figures (``summary``'s names)."""
    n = ensemble.realizations
    groups = super_groups(np.arange(n), particles)
    n_classes = len(setup.class_keys)
    ha_per_cell = setup.grid.cell_area_m2 / M2_PER_HA
    contaminated = per_step(setup, ensemble.zone_cells)[:, -1, :n_classes].sum(axis=1) * ha_per_cell
    m = particles // GROUP_BLOCK
    merged = ensemble.group_contaminated().reshape(GROUPS // m, m, -1).sum(axis=1)
    sizes = ensemble.group_sizes().reshape(GROUPS // m, m).sum(axis=1)
    hits, hazard = ensemble.hits.sum(axis=0), setup.scenario.hazard
    areas = {name: area_at_threshold(hits, merged, sizes, t, ha_per_cell, setup.inside.ravel())[1]
             for name, t in (("suspected_ha_se", hazard.suspect_threshold), ("hazardous_ha_se", hazard.threshold))}
    return {"expected_duds_se": jackknife_mean_se(ensemble.totals[:, 1].astype(float), groups),
            "contaminated_ha_mean_se": jackknife_mean_se(contaminated, groups)} | areas


@dataclass
class EvidenceOutcome:
    """The posterior (``posterior``) and the prior ensemble of as many realizations (``prior``)."""

    setup: Setup
    posterior: Posterior
    prior: Ensemble

    @cached_property
    def prior_p_contaminated(self) -> np.ndarray:
        """The prior's probability of contamination at the end of the time axis (grid shape)."""
        return self.prior.p_after(-1).reshape(self.setup.grid.shape)

    @cached_property
    def prior_summary(self) -> dict:
        return summary(self.setup, self.prior, hazardous_area_table(self.setup, self.prior))

    def errors(self, ensemble: Ensemble) -> dict[str, float | None]:
        """The posterior map's headline errors: jackknife over independent blocks (the prior's own when the
        evidence cannot tell realizations apart, for then the posterior is the prior)."""
        if self.posterior.uniform:
            return {}
        return {k: rounded(v) for k, v in honest_errors(self.setup, ensemble, self.posterior.block).items()}

    def residual_items_se(self, final: np.ndarray) -> float:
        """Jackknife SE over independent blocks of the scored realizations' mean residual items."""
        groups = super_groups(np.arange(len(final)), self.posterior.block)
        return jackknife_mean_se(final[:, :, RK.RESIDUAL].sum(axis=1), groups)

    def summary(self, posterior_figures: dict, ensemble: Ensemble, scored_final: np.ndarray | None) -> dict:
        """Prior and posterior figures side by side, resample-move diagnostics, items found and cleared, and
        the effective number of independent posterior draws (JSON-ready)."""
        realizations = ensemble.realizations
        scored = 0 if scored_final is None else len(scored_final)
        found, cleared = self.posterior.removed_mean(0, realizations)
        scored_found, scored_cleared = self.posterior.removed_mean(SCORED, scored)
        duds = ensemble.totals[:, 1].astype(float)
        iid = duds.std(ddof=1) / np.sqrt(realizations) if realizations > 1 else float("nan")
        se = honest_errors(self.setup, ensemble, self.posterior.block)["expected_duds_se"]
        draws = float(realizations) if self.posterior.uniform else (
            min(float(realizations), realizations * (iid / se) ** 2) if se > 0 else float("nan"))
        target = self.setup.scenario.evidence.target_ess
        out = self.posterior.summary() | {
            "effective_draws": rounded(draws, 1),
            "items_found_mean": round(found, 3), "items_cleared_mean": round(cleared, 3),
            "scored_items_found_mean": round(scored_found, 3), "scored_items_cleared_mean": round(scored_cleared, 3),
            "prior": {k: self.prior_summary[k] for k in SIDE_BY_SIDE},
            "posterior": {k: posterior_figures[k] for k in SIDE_BY_SIDE},
        }
        if scored_final is not None and not self.posterior.uniform:
            out["scored_residual_items_mean_se"] = rounded(self.residual_items_se(scored_final))
        out["note"] = None
        ruled_out = out["map"].get("ruled_out_blocks", 0) + out["scored"].get("ruled_out_blocks", 0)
        if ruled_out:
            out["note"] = (f"evidence: in {ruled_out} block(s) every prior realization is ruled out by the evidence "
                           "(e.g. land searched with POD 1 where all of them hold items); those blocks are the prior: "
                           "check the evidence against the strike records, or lower the POD")
        elif not draws >= target:
            out["note"] = (f"evidence: the posterior is worth about {draws:,.0f} independent draws (from the spread "
                           f"between its {len(np.unique(super_groups(np.arange(realizations), self.posterior.block)))} "
                           f"independent blocks), below evidence.target_ess {target}; add realizations or "
                           "evidence.moves")
        return out
