"""The risk model (docs/model.md section 4) on a batch of realizations: contact rates per class,
per-realization detonation probabilities, and the depletion of intact items over the time axis.

Per realization ``r``, step ``k`` and class ``c``: items in land marked hazardous (not yet
released) are contacted with yearly probability ``q_c (1 - compliance_c)``, items people use
freely (residual items in released land, items in land not, or not yet, suspected) with
``q_c``; a contact sets an item off with the realization's detonation probability, and a
detonation hurts ``casualties_per_detonation`` people. "Before land release" is the same
realization with no land ever released: every item that lay in suspected land stays there,
marked. Rates are per year at each reporting date; expected casualties over a step are the
rate at its first date times its length in years. Realizations are independent, so every
figure is computed batch by batch (``simulator.results.risk`` keeps only their sums).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.config.risk import Risk
from simulator.engine.prepare import Setup
from simulator.inputs.timeaxis import DAYS_PER_YEAR
from simulator.kernels import release as K

RISK_STREAM = 0x5249534B
"""Mixed with the scenario seed to seed the per-realization detonation probabilities ("RISK")."""

M2_PER_KM2 = 1e6


def class_area_m2(setup: Setup) -> np.ndarray:
    """Area of each land-use class inside the grid and the study area (m2)."""
    return setup.class_cells * setup.grid.cell_area_m2


def detonation_probabilities(risk: Risk, seed: int, realizations: int) -> np.ndarray:
    """P(detonation | contact) of realizations ``0 .. realizations - 1`` (the same in every run of the seed)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, RISK_STREAM]))
    return risk.detonation_probability.draw(rng, realizations)


@dataclass(frozen=True)
class RiskRates:
    """Per class, yearly contact probability of an item in marked hazardous land (``marked``) and
    in land used freely (``free``); per realization the detonation probability; casualties per
    detonation; per class the children's share of person-days."""

    marked: np.ndarray
    free: np.ndarray
    p_detonation: np.ndarray
    casualties_per_detonation: float
    children_share: np.ndarray

    @classmethod
    def of(cls, setup: Setup, realizations: int) -> RiskRates:
        sc = setup.scenario
        risk = sc.risk
        contact = risk.contact_probability(setup.class_keys, class_area_m2(setup), setup.class_people)
        compliance = risk.per_class(setup.class_keys, "compliance")
        return cls(contact * (1.0 - compliance), contact,
                   detonation_probabilities(risk, sc.simulation.seed, realizations),
                   risk.casualties_per_detonation, risk.per_class(setup.class_keys, "children_share"))

    def hazards(self, rows: slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """Detonations a year per intact item [realization, class] of realizations ``rows``, in
        marked and in freely used land."""
        p = self.p_detonation[rows, None]
        return self.marked[None, :] * p, self.free[None, :] * p


def map_step(setup: Setup) -> int:
    """Reporting step of the risk map: ``risk.map_date``, else ``clearance.start``, else the time axis's end."""
    sc = setup.scenario
    day = sc.risk.map_date or (sc.clearance.start if sc.clearance is not None else sc.time.end)
    return setup.steps.step_of(min(max(day, setup.steps.dates[0]), setup.steps.dates[-1]))


def step_years(setup: Setup) -> np.ndarray:
    """Years from each reporting date to the next (0 after the last)."""
    days = np.diff([d.toordinal() for d in setup.steps.dates]).astype(float)
    return np.append(days, 0.0) / DAYS_PER_YEAR


def exposure(state: np.ndarray | None, free_items: np.ndarray | None = None) -> dict[str, tuple[np.ndarray, ...]]:
    """Items [realization, step, class] (marked, used freely, removed by clearance), after and before
    land release, from a land-release ``state`` [realization, step, class, metric]; without land
    release (``state`` None) nothing is surveyed or marked: every item (``free_items``) lies in land
    used freely. Items outside the study area are in no class: nobody is exposed to them."""
    if state is None:
        none = np.zeros_like(free_items)
        return {"after": (none, free_items, none), "before": (none, free_items, none)}
    found = state[..., K.FOUND]
    unsuspected = state[..., K.UNSUSPECTED]
    return {"after": (state[..., K.IN_HAZARDOUS], state[..., K.RESIDUAL] + unsuspected, found),
            "before": (found + state[..., K.RESIDUAL] + state[..., K.IN_HAZARDOUS], unsuspected, np.zeros_like(found))}


def deplete(marked: np.ndarray, free: np.ndarray, found: np.ndarray, hazard_marked: np.ndarray,
            hazard_free: np.ndarray, years: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected detonations a year at each date, expected detonations over each step, and the intact
    share of the items on the ground [realization, step, class].

    An item in land of hazard ``h`` a year goes off within a step of ``dt`` years with probability
    ``1 - exp(-h dt)`` (from the step's first date). Items that went off are gone: the intact share
    ``g`` of a class's items falls by the step's detonations, is kept by the items clearance removes
    (removed at random) and rises with new, intact arrivals.
    """
    ground = marked + free
    total = ground + found
    h_marked, h_free, dt = hazard_marked[:, None], hazard_free[:, None], years[None, :, None]
    hit = marked * -np.expm1(-h_marked * dt) + free * -np.expm1(-h_free * dt)  # detonations over the step if intact
    arrived = total[:, 1:] - total[:, :-1]
    kept = np.divide(ground[:, 1:] - arrived, ground[:, :-1], out=np.zeros_like(arrived), where=ground[:, :-1] > 0)
    intact_share = np.ones_like(ground)
    over_step = np.zeros_like(ground)
    intact = ground[:, 0].copy()
    for k in range(ground.shape[1]):  # only the intact items carry over from step to step
        share = np.divide(intact, ground[:, k], out=intact_share[:, k], where=ground[:, k] > 0)
        np.multiply(share, hit[:, k], out=over_step[:, k])
        if k + 1 < ground.shape[1]:
            intact = np.maximum(intact - over_step[:, k], 0.0) * kept[:, k] + arrived[:, k]
    rate = intact_share * (marked * h_marked + free * h_free)
    return rate, over_step, intact_share


def cumulative(over_step: np.ndarray, casualties_per_detonation: float) -> np.ndarray:
    """Expected casualties from the first reporting date up to each date [realization, step, class]."""
    total = np.cumsum(over_step * casualties_per_detonation, axis=1)
    return np.concatenate([np.zeros_like(total[:, :1]), total[:, :-1]], axis=1)


def batch_risk(rates: RiskRates, years: np.ndarray, first: int, items: dict) -> dict[str, tuple]:
    """(rate, over_step, intact share) after and before land release of realizations ``first ..``
    with ``items`` (``exposure``)."""
    rows = slice(first, first + len(items["after"][0]))
    hazards = rates.hazards(rows)
    return {which: deplete(*values, *hazards, years) for which, values in items.items()}


def with_all(values: np.ndarray) -> np.ndarray:
    """``values`` [..., class] with their sum over classes as one more class ("all")."""
    return np.concatenate([values, values.sum(axis=-1, keepdims=True)], axis=-1)
