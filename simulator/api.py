"""A Python API for notebooks: open a scenario, change it in code, run it, look at the results.

>>> from simulator.api import open_scenario
>>> study = open_scenario()                                   # the demo district
>>> high = study.set("strikes[*].dud_rate.mean", 0.3)         # a changed copy
>>> run = high.run(realizations=100)
>>> run.density()                                             # xarray, x/y in metres, CRS attribute
>>> run.dataset().to_netcdf("demo.nc")                        # every raster, CF grid mapping
>>> run.summary["contaminated_ha_p50"]
>>> run.plot_map()                                            # a matplotlib Figure

Paths are those of ``simulator.config.variants``: ``--set`` keys plus ``[*]`` wildcards, ``[id=S07]``
selectors and ``profile.<id>.…`` for delivery profiles. ``Study`` objects never change;
``set`` returns a new one. Every run keeps the scenario's seed unless told otherwise, so
two studies that differ in one value are compared with common random numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.config.demo import demo_scenario
from simulator.config.keypath import Setting
from simulator.config.loading import LoadedScenario
from simulator.config.scenario import Scenario
from simulator.config.variants import Variants
from simulator.errors import InputError
from simulator.outputs import netcdf, plots
from simulator.outputs.writer import write_outputs
from simulator.pipeline.backends import checked_threads
from simulator.results.policy_comparison import compare_policies
from simulator.results.result import Result
from simulator.results.risk import risk_table
from simulator.studies.metrics import RunMetrics
from simulator.studies.runs import as_settings, run_variant
from simulator.studies.sensitivity import check_factors, factors_from_mapping, read_ranges, run_sensitivity
from simulator.studies.sweep import parse_values, run_sweep


def demo_path() -> Path:
    """The demo district scenario shipped with remnant."""
    return demo_scenario()


def open_scenario(path: str | Path | None = None, overrides: Sequence[str] = ()) -> Study:
    """A ``Study`` of the scenario file at ``path`` (default: the demo district).

    ``overrides``: ``key.path=value`` strings, as ``remnant run --set`` takes them.
    """
    return Study(Variants.read(path if path is not None else demo_path(), overrides))


class Study:
    """A scenario you can change in code and run. Immutable: every change returns a new ``Study``."""

    def __init__(self, variants: Variants):
        self._variants = variants

    def __repr__(self) -> str:
        sc = self.scenario
        return (f"Study({sc.name!r}: {len(sc.strikes)} strikes, {sc.simulation.realizations} realizations, "
                f"seed {sc.simulation.seed}, clearance {'yes' if sc.clearance else 'no'}; {self.path})")

    @property
    def path(self) -> Path:
        """The scenario file (relative paths in it are resolved from its folder)."""
        return self._variants.path

    @cached_property
    def loaded(self) -> LoadedScenario:
        """The validated scenario with its delivery profiles (raises ``InputError`` if a change made it invalid)."""
        return self._variants.variant().loaded

    @property
    def scenario(self) -> Scenario:
        """The validated scenario (a frozen pydantic model)."""
        return self.loaded.scenario

    @property
    def name(self) -> str:
        return self.scenario.name

    def get(self, path: str) -> Any:
        """The value at ``path``; for a wildcard or selector, a ``{concrete path: value}`` dict.

        Missing values read as the model uses them (a strike's dud rate from its profile).
        """
        found = self._variants.get(path, "path")
        single = not any(mark in path for mark in "*=|")
        return next(iter(found.values())) if single and len(found) == 1 else found

    def set(self, path: str | Mapping[str, Any], value: Any = None, *, scale: bool = False) -> Study:
        """A copy with ``path`` set to ``value`` (or multiplied by it with ``scale=True``).

        ``path`` may also be a ``{path: value}`` mapping to set several values at once.
        The copy is validated at once: a bad path or value raises ``InputError``.
        """
        settings = (as_settings(path) if isinstance(path, Mapping) else [Setting(path, value, scale)])
        if scale:
            settings = [Setting(s.path, s.value, True) for s in settings]
        study = Study(self._variants.derive(settings, "path"))
        study.loaded  # noqa: B018  -- validate now, so the error points at this call
        return study

    def table(self) -> pd.DataFrame:
        """The strikes as a table: id, date, profile, carriers, dud-rate mean and spread (profile default filled in)."""
        sc = self.scenario
        profiles = self.loaded.profiles
        rows = []
        for strike in sc.strikes:
            dud = strike.dud_rate or profiles[strike.profile].dud_rate
            rows.append({"id": strike.id, "date": strike.date, "profile": strike.profile, "carriers": strike.carriers,
                         "submunitions": strike.carriers * profiles[strike.profile].submunitions_per_carrier,
                         "dud_mean": dud.mean, "dud_spread": dud.spread})
        return pd.DataFrame(rows)

    def run(self, realizations: int | None = None, *, threads: int | None = None, seed: int | None = None) -> RunResult:
        """Run the Monte Carlo ensemble (and land release, if the scenario has clearance)."""
        study = self
        changes = {}
        if realizations is not None:
            changes["simulation.realizations"] = int(realizations)
        if seed is not None:
            changes["simulation.seed"] = int(seed)
        if changes:
            study = self.set(changes)
        return RunResult(run_variant(study.loaded, threads=_threads(threads)))

    def sweep(self, path: str, values: Sequence[float] | str, *, realizations: int | None = None,
              threads: int | None = None, scale: bool = False):
        """Run at each value of ``path`` (a list, or a ``start:stop:count`` string); a ``SweepResult``.

        ``result.table`` has one row per value; ``result.plot()`` draws the curves with bands.
        """
        if isinstance(values, str):
            values = parse_values(values, "values")
        return run_sweep(self._variants, path, [float(v) for v in values], scale=scale, realizations=realizations,
                         threads=_threads(threads))

    def sensitivity(self, ranges: Mapping[str, Any] | str | Path, *, samples: int = 32,
                    realizations: int | None = None, threads: int | None = None):
        """Sobol' indices over ``ranges`` (``{path: [low, high]}`` or a ranges TOML file); a ``SensitivityResult``.

        It takes ``samples * (len(ranges) + 2)`` runs; keep ``realizations`` small.
        """
        if isinstance(ranges, Mapping):
            factors = factors_from_mapping(ranges, "ranges", self._variants)
        else:
            factors = read_ranges(ranges, self._variants)
        check_factors(self._variants, factors, "ranges", realizations)
        return run_sensitivity(self._variants, factors, samples, realizations=realizations, threads=_threads(threads))


def _threads(threads: int | None) -> int | None:
    if threads is None:
        return None

    return checked_threads(threads)


class RunResult:
    """The result of ``Study.run``: rasters, tables and figures.

    Rasters come as xarray ``DataArray`` (``density()``, ``p_contaminated()``, ``mean_count()``,
    ``land_use()``: dims ``y``, ``x`` with cell-centre coordinates in metres, the CRS in
    ``attrs["crs"]`` and as a CF grid mapping, ``spatial_ref``), or as numpy arrays in ``arrays``. Tables are pandas. Plot methods return
    matplotlib Figures. The full ``simulator.results.result.Result`` is ``result``.
    """

    def __init__(self, result: Result):
        self.result = result

    def __repr__(self) -> str:
        s = self.summary
        text = (f"RunResult({s['scenario']!r}: {s['realizations']} realizations, "
                f"expected duds {s['expected_duds']:.0f}, contaminated {s['contaminated_ha_p50']:.1f} ha (P50), "
                f"hazard map {s['hazardous_ha']:.1f} ha")
        release = s.get("land_release")
        if release:
            text += f", years to completion P50 {release['years_to_completion_p50']}"
        return text + ")"

    # --- rasters
    @property
    def grid(self):
        return self.result.grid

    @property
    def crs(self) -> str:
        return self.result.grid.crs

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """The rasters as numpy arrays of shape (rows, cols); row 0 is the northern row."""
        r = self.result
        return {"mean_count": r.mean_count, "density_per_ha": r.density_per_ha, "p_contaminated": r.p_contaminated,
                "land_use": r.setup.landuse_codes}

    def density(self):
        """Expected remnants per hectare (xarray DataArray)."""
        return netcdf.rasters(self.result)["density"]

    def mean_count(self):
        """Expected remnants per cell (xarray DataArray)."""
        return netcdf.rasters(self.result)["mean_count"]

    def p_contaminated(self):
        """Probability that a cell is contaminated, within the reference distance of a remnant (xarray DataArray;
        ``attrs`` hold the SHA and CHA thresholds)."""
        return netcdf.rasters(self.result)["p_contaminated"]

    def land_use(self):
        """Land-use class code per cell (xarray DataArray; ``attrs["flag_meanings"]`` lists the keys by code)."""
        return netcdf.land_use_array(self.result)

    def dataset(self):
        """All rasters in one xarray Dataset with a CF grid mapping; ``.to_netcdf(path)`` writes it."""
        return netcdf.dataset(self.result)

    # --- tables
    @property
    def summary(self) -> dict:
        """Headline figures (as in ``run.json``); ``summary["land_release"]`` with clearance."""
        return self.result.summary

    @property
    def hazard_areas(self):
        """CHA polygons (GeoDataFrame)."""
        return self.result.hazard_areas

    @property
    def hazardous_area(self) -> pd.DataFrame:
        """Per reporting step and class: contaminated area (bands), hazardous area, remnants."""
        return self.result.hazardous_area

    @property
    def land_release(self) -> pd.DataFrame | None:
        """Per step and class: land remaining and released by route, items found and left (None without clearance)."""
        return self.result.land_release_table

    @property
    def completion(self) -> pd.DataFrame | None:
        """Per reporting date, the share of realizations with all hazardous land released (None without clearance)."""
        return self.result.completion

    @property
    def risk(self) -> pd.DataFrame | None:
        """Per step and class: expected detonations and casualties after and before land release, bands (None without [risk])."""
        return None if self.result.risk is None else risk_table(self.result.setup, self.result.risk)

    @cached_property
    def policies(self) -> pd.DataFrame:
        """Every work-order policy on the same realizations: casualties averted, land released, cost, P(deadline)."""
        self._need_clearance()
        r = self.result
        return compare_policies(r.setup, r.ensemble, r.land_release)

    @cached_property
    def metrics(self) -> RunMetrics:
        return RunMetrics.of(self.result)

    @property
    def per_realization(self) -> pd.DataFrame:
        """One row per realization: remnants, contaminated area of the hazard map's realizations; with
        clearance, SHA remaining and years to completion of the scored ones (NaN past the shorter set)."""
        return pd.DataFrame({name: pd.Series(values) for name, values in self.metrics.per_realization().items()})

    # --- figures
    def plot_map(self, title: str | None = None):
        """Land use, expected remnant density, CHA and SHA outlines and strike points (Figure)."""
        r = self.result
        hazard = r.setup.scenario.hazard
        return plots.district_map(
            r.setup, r.density_per_ha, r.p_contaminated >= hazard.threshold,
            title or f"{r.setup.scenario.name}: expected remnants ({r.ensemble.realizations} realizations)",
            suspected=r.p_contaminated >= hazard.suspect_threshold)

    def plot_hazardous_area(self, title: str | None = None):
        """Contaminated and hazardous area per class over time (Figure)."""
        r = self.result
        return plots.area_over_time(r.hazardous_area, r.setup.scenario.land_use,
                                    title or f"{r.setup.scenario.name}: contaminated and hazardous area by land use")

    def plot_land_release(self, title: str | None = None):
        """Hazardous land remaining and land released by route over time (Figure; needs clearance)."""
        r = self.result
        self._need_clearance()
        return plots.land_release(r.land_release_table, r.setup.scenario.land_use,
                                  title or f"{r.setup.scenario.name}: land release", r.setup.scenario.clearance.deadline)

    def plot_completion(self, title: str | None = None):
        """Probability that all hazardous land is released by each date (Figure; needs clearance)."""
        r = self.result
        self._need_clearance()
        return plots.completion(r.completion, r.setup.scenario.clearance.deadline,
                                title or f"{r.setup.scenario.name}: when is all hazardous land released?")

    def _need_clearance(self) -> None:
        if self.result.land_release is None:
            raise InputError(None, "clearance", None, "add a [clearance] table to the scenario (see docs/model.md)",
                             problem="is not in this scenario;")

    def write(self, out: str | Path, *, overwrite: bool = False) -> Path:
        """Write every output file of ``remnant run`` into ``out`` (all or nothing)."""
        return write_outputs(self.result, Path(out), overwrite=overwrite)
