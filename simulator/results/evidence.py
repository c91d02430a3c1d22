"""What the evidence changed: the prior beside the posterior, ESS, items found and cleared."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from simulator.engine.ensemble import SCORED, Ensemble
from simulator.engine.posterior import Posterior
from simulator.engine.prepare import Setup
from simulator.results.tables import hazardous_area_table, summary

SIDE_BY_SIDE = ("expected_duds", "expected_duds_se", "duds_outside_grid_mean", "contaminated_ha_mean",
                "contaminated_ha_p50", "suspected_ha", "hazardous_ha", "share_of_items_in_sha", "share_of_items_in_cha")
"""Headline figures shown for the prior and the posterior (``expected_duds``: items left on the ground,
off the grid too)."""


@dataclass
class EvidenceOutcome:
    """The posterior's weighing (``posterior``) and the prior ensemble of as many realizations (``prior``)."""

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

    def summary(self, posterior_figures: dict, realizations: int, scored: int) -> dict:
        """Prior and posterior figures side by side, the weights' ESS, items found and cleared (JSON-ready)."""
        found, cleared = self.posterior.removed_mean(0, realizations)
        scored_found, scored_cleared = self.posterior.removed_mean(SCORED, scored)
        return self.posterior.summary() | {
            "items_found_mean": round(found, 3), "items_cleared_mean": round(cleared, 3),
            "scored_items_found_mean": round(scored_found, 3), "scored_items_cleared_mean": round(scored_cleared, 3),
            "prior": {k: self.prior_summary[k] for k in SIDE_BY_SIDE},
            "posterior": {k: posterior_figures[k] for k in SIDE_BY_SIDE},
        }
