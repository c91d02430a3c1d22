"""Runs conditioned on evidence: a backend whose realizations are the posterior's
(``simulator.engine.posterior``), so the map, land release and precision targets run unchanged."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.engine.ensemble import Ensemble, run_ensemble
from simulator.engine.posterior import Posterior
from simulator.engine.prepare import Setup
from simulator.release.land_release import Plan, ReleaseSums, score_plan
from simulator.release.zone_items import Extra


@dataclass
class PosteriorBackend:
    """Posterior realizations, run in this process on ``threads`` threads (the whole grid in one
    window); ``inner``, the backend the run was given, is only closed."""

    inner: object
    posterior: Posterior
    threads: int | None

    def ensemble(self, setup: Setup, n: int, first: int, progress) -> Ensemble:
        """Posterior positions ``first .. first + n - 1`` of the hazard map."""
        return run_ensemble(setup.kernel, n, first=first, threads=self.threads,
                            batch_size=setup.scenario.simulation.batch_size, progress=progress,
                            tile_cells=max(setup.grid.nx, setup.grid.ny), draw=self.posterior.draw)

    def release(self, setup: Setup, plan: Plan, n: int, first: int, progress,
                extra: Extra | None = None) -> ReleaseSums:
        """Land release in posterior scored positions ``first .. first + n - 1``, counting ``extra``'s zones too
        (see ``score_plan``)."""
        return score_plan(setup, plan, n, first, self.threads, setup.scenario.simulation.batch_size, progress,
                          tile_cells=max(setup.grid.nx, setup.grid.ny), draw=self.posterior.draw, extra=extra)

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()
