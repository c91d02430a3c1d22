"""remnant: Monte Carlo simulation of cluster munition remnant contamination and land release.

A humanitarian tool: it models where unexploded submunitions lie and how clearance returns
land to use, never weapon effectiveness or targeting.
"""

from simulator.errors import InputError
from simulator.loading import LoadedScenario, load_scenario
from simulator.notebook import RunResult, Study, open_scenario
from simulator.pipeline import simulate
from simulator.result import Result

__version__ = "0.1.0"
__all__ = ["InputError", "LoadedScenario", "Result", "RunResult", "Study", "load_scenario", "open_scenario", "simulate"]
