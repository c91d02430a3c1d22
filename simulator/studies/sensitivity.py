"""Global sensitivity analysis: Sobol' first-order and total indices with SALib.

Parameters vary over ranges (a ranges file maps parameter paths, see ``simulator.config.variants``,
to ``[low, high]``, or to ``{ scale = [low, high] }`` for a factor on the scenario's own
values). Sobol' sequences are sampled with Saltelli's scheme without second-order terms,
so ``N`` base samples and ``D`` parameters take ``N (D + 2)`` model runs. Indices come
with bootstrap confidence intervals.

Two layers: ``sobol`` analyses any function of a parameter vector (the evaluation layer,
tested on functions with known indices), and ``scenario_function`` turns a scenario into
such a function. Each model run is a whole Monte Carlo ensemble with the scenario's seed,
so the function is deterministic in its parameters (common random numbers) and its output
is an ensemble figure: mean remnants on the ground, mean contaminated area, the hazard
map's area and, with clearance, the median years to completion (capped at the time axis:
a median beyond it counts as the years to its end, noted).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.config.keypath import Setting
from simulator.config.loading import read_toml
from simulator.config.variants import Variants
from simulator.errors import InputError
from simulator.outputs.plots import path_label
from simulator.studies.metrics import RunMetrics, sensitivity_descriptions, sensitivity_figures
from simulator.studies.runs import realizations_setting, run_variant, write_study


@dataclass(frozen=True)
class Factor:
    """One parameter of the analysis: a path and its range (a factor on the base values when ``scale``)."""

    path: str
    low: float
    high: float
    scale: bool = False

    @property
    def name(self) -> str:
        return f"{self.path} (x)" if self.scale else self.path


def check_samples(samples: int, where: str = "--samples") -> None:
    """Sobol' sequences need a power of two of base samples."""
    if samples < 2 or samples & (samples - 1):
        lower = 1 << max(1, int(samples).bit_length() - 1)
        raise InputError(None, where, samples, f"use a power of two, e.g. {lower} or {lower * 2}",
                         problem="is not a power of two (Sobol' sequences need one);")


def model_runs(samples: int, n_factors: int) -> int:
    """Model runs Saltelli's scheme takes (first-order and total indices only)."""
    return samples * (n_factors + 2)


def problem(factors: Sequence[Factor]) -> dict:
    """The SALib problem of ``factors``."""
    return {"num_vars": len(factors), "names": [f.name for f in factors],
            "bounds": [[f.low, f.high] for f in factors]}


def _salib():
    """SALib's Sobol' sampler and analyser, or an ``InputError`` saying how to install it."""
    try:
        from SALib.analyze import sobol as analyze
        from SALib.sample import sobol as sample_
    except ImportError:
        raise InputError(None, None, None, "install it: pip install 'SALib>=1.4.7'",
                         problem="sensitivity analysis needs SALib, which is not installed;") from None
    return sample_, analyze


def sample(factors: Sequence[Factor], samples: int, seed: int = 0) -> np.ndarray:
    """Saltelli/Sobol' sample: ``model_runs(samples, len(factors))`` rows of parameter values."""
    sobol_sample, _ = _salib()
    check_samples(samples)
    return sobol_sample.sample(problem(factors), samples, calc_second_order=False, scramble=True, seed=seed)


# ------------------------------------------------------------------------- ranges files
def read_ranges(path: str | Path, variants: Variants | None = None) -> list[Factor]:
    """Factors from a ranges TOML file: ``"path" = [low, high]`` or ``"path" = { scale = [low, high] }``.

    Nested tables are read as dotted paths, so ``[clearance] detection_probability = [0.8, 0.99]``
    equals ``"clearance.detection_probability" = [0.8, 0.99]``. With ``variants``, every path
    is checked against the scenario.
    """
    path = Path(path)
    return factors_from_mapping(read_toml(path, "ranges"), path, variants)


def factors_from_mapping(mapping: Mapping[str, Any], source: str | Path | None = None,
                         variants: Variants | None = None) -> list[Factor]:
    """Factors from ``{path: [low, high] | {"scale": [low, high]}}`` (nested tables flattened)."""
    factors: list[Factor] = []
    for key, value in _flatten(mapping):
        scale = isinstance(value, Mapping)
        bounds = value.get("scale") if scale else value
        fix = 'write "path" = [low, high] or "path" = { scale = [low, high] } with low < high'
        if scale and set(value) != {"scale"}:
            raise InputError(source, key, None, fix, problem="is a table other than { scale = [low, high] };")
        numbers = isinstance(bounds, (list, tuple)) and all(
            isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in bounds)
        if not numbers or len(bounds) != 2:
            raise InputError(source, key, bounds if not isinstance(bounds, Mapping) else None, fix,
                             problem="is not a range;")
        low, high = float(bounds[0]), float(bounds[1])
        if not low < high:
            raise InputError(source, key, list(bounds), fix, problem="is not a range with low < high;")
        if variants is not None:
            try:
                variants.check(key, key)
            except InputError as exc:
                raise InputError(source, key, None, exc.fix, problem=exc.problem) from None
        factors.append(Factor(key, low, high, scale))
    if not factors:
        raise InputError(source, None, None, 'add at least one range, e.g. "strikes[*].dud_rate.mean" = [0.02, 0.40]',
                         problem="holds no ranges;")
    paths = [f.path for f in factors]
    repeated = sorted({p for p in paths if paths.count(p) > 1})
    if repeated:
        raise InputError(source, repeated[0], None, "give each path one range", problem="has two ranges;")
    return factors


def _flatten(mapping: Mapping[str, Any], prefix: str = ""):
    for key, value in mapping.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and "scale" not in value:
            yield from _flatten(value, path)
        else:
            yield path, value


def check_factors(variants: Variants, factors: Sequence[Factor], source: str | Path | None = None,
                  realizations: int | None = None) -> None:
    """Validate the scenario with each factor at its low and its high end (others at base)."""
    base = realizations_setting(realizations)
    for f in factors:
        for bound in (f.low, f.high):
            settings = base + [Setting(f.path, bound, f.scale)]
            try:
                variants.raw_with(settings, f.path)
            except InputError as exc:  # the path cannot be applied to this scenario
                raise InputError(source, f.path, None, exc.fix, problem=exc.problem) from None
            try:
                variants.variant(settings, f.path)
            except InputError as exc:
                raise InputError(source, f.path, bound, f"narrow the range: at {bound:g} the scenario is invalid "
                                 f"({exc.line()})") from None


# ------------------------------------------------------------------------------ analysis
@dataclass
class SensitivityResult:
    """Sobol' indices of each metric for each factor.

    ``table``: one row per metric and parameter with ``S1``, ``S1_conf``, ``ST``, ``ST_conf``
    (half-widths of the confidence intervals); ``samples``: every model run's parameter
    values and outputs; ``notes``: outputs that did not vary, capped medians.
    """

    factors: list[Factor]
    table: pd.DataFrame
    samples: pd.DataFrame
    n_samples: int
    conf_level: float
    notes: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @property
    def runs(self) -> int:
        return len(self.samples)

    def indices(self, metric: str) -> pd.DataFrame:
        """The rows of one metric, indexed by parameter."""
        return self.table[self.table["metric"] == metric].set_index("parameter")

    def plot(self, title: str | None = None):
        """Bars of S1 and ST per parameter, one panel per metric, confidence intervals as error bars."""
        import matplotlib.pyplot as plt

        figure = sensitivity_figure(self, title)
        plt.close(figure)  # shown once in a notebook (as the cell's result); saving works the same
        return figure

    def record(self) -> dict:
        return {"parameters": [f.__dict__ for f in self.factors], "base_samples": self.n_samples,
                "model_runs": self.runs, "conf_level": self.conf_level, "notes": self.notes, **self.info}


def sobol(
    function: Callable[[np.ndarray], Mapping[str, float] | float],
    factors: Sequence[Factor],
    samples: int,
    *,
    seed: int = 0,
    conf_level: float = 0.95,
    num_resamples: int = 200,
    progress: Callable[[int], None] | None = None,
) -> SensitivityResult:
    """Sobol' first-order and total indices of ``function`` (a parameter vector -> a float or
    ``{metric: float}``) over the factors' ranges, from ``samples`` base samples (a power of two)."""
    _, sobol_analyze = _salib()
    X = sample(factors, samples, seed)
    outputs: dict[str, list[float]] = {}
    for x in X:
        y = function(x)
        for name, value in (y.items() if isinstance(y, Mapping) else [("y", y)]):
            outputs.setdefault(name, []).append(float(value))
        if progress is not None:
            progress(1)
    rows, notes = [], []
    for metric, values in outputs.items():
        Y = np.asarray(values)
        if not np.all(np.isfinite(Y)) or np.ptp(Y) == 0:
            notes.append(f"{metric} does not vary over these ranges (or is not finite): no indices")
            rows += [{"metric": metric, "parameter": f.name, "S1": math.nan, "S1_conf": math.nan, "ST": math.nan,
                      "ST_conf": math.nan} for f in factors]
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            found = sobol_analyze.analyze(problem(factors), Y, calc_second_order=False, num_resamples=num_resamples,
                                          conf_level=conf_level, seed=seed)
        for i, f in enumerate(factors):
            rows.append({"metric": metric, "parameter": f.name, "S1": float(found["S1"][i]),
                         "S1_conf": float(found["S1_conf"][i]), "ST": float(found["ST"][i]),
                         "ST_conf": float(found["ST_conf"][i])})
    frame = pd.DataFrame(X, columns=[f.name for f in factors])
    for metric, values in outputs.items():
        frame[metric] = values
    return SensitivityResult(list(factors), pd.DataFrame(rows), frame, samples, conf_level, notes)


class ScenarioFunction:
    """A scenario as a function from parameter values to its ensemble figures (``simulator.studies.metrics``).

    ``capped`` counts runs whose median years to completion lay beyond the time axis and
    were counted as the years to its end.
    """

    def __init__(self, variants: Variants, factors: Sequence[Factor], *, realizations: int | None = None,
                 threads: int | None = None):
        self.variants = variants
        self.factors = list(factors)
        self.base = realizations_setting(realizations)
        self.threads = threads
        self.capped = 0

    def __call__(self, x: np.ndarray) -> dict[str, float]:
        settings = self.base + [Setting(f.path, float(v), f.scale) for f, v in zip(self.factors, x)]
        figures, capped = sensitivity_figures(RunMetrics.of(run_variant(self.variants.variant(settings).loaded,
                                                                        threads=self.threads)))
        self.capped += capped
        return figures


def scenario_function(variants: Variants, factors: Sequence[Factor], *, realizations: int | None = None,
                      threads: int | None = None) -> ScenarioFunction:
    """The scenario as a function of the factors' values (one Monte Carlo ensemble per call)."""
    return ScenarioFunction(variants, factors, realizations=realizations, threads=threads)


def run_sensitivity(
    variants: Variants,
    factors: Sequence[Factor],
    samples: int,
    *,
    realizations: int | None = None,
    threads: int | None = None,
    conf_level: float = 0.95,
    progress: Callable[[int], None] | None = None,
) -> SensitivityResult:
    """Sobol' indices of the scenario's ensemble figures over the factors' ranges."""
    t0 = time.perf_counter()
    loaded = variants.variant(realizations_setting(realizations)).loaded
    seed = loaded.scenario.simulation.seed
    function = scenario_function(variants, factors, realizations=realizations, threads=threads)
    result = sobol(function, factors, samples, seed=seed, conf_level=conf_level, progress=progress)
    if function.capped:
        result.notes.insert(0, f"years_to_completion_p50 lay beyond the time axis in {function.capped} of "
                               f"{result.runs} runs: counted as the years to its end")
    result.info = {"scenario": loaded.scenario.name, "seed": seed,
                   "realizations_per_run": loaded.scenario.simulation.realizations, "common_random_numbers": True,
                   "metrics": {k: v for k, v in sensitivity_descriptions().items() if k in set(result.table["metric"])},
                   "timings_s": {"total": round(time.perf_counter() - t0, 3)}}
    return result


def write_sensitivity(result: SensitivityResult, target: Path, *, overwrite: bool = False,
                      extra: dict | None = None) -> Path:
    """Write ``sensitivity.csv``, ``sensitivity.png``, ``sensitivity_runs.csv`` and ``sensitivity.json``, all or nothing."""
    tables = {"sensitivity.csv": result.table, "sensitivity_runs.csv": result.samples}
    return write_study(target, "sensitivity", tables, {"sensitivity.png": result.plot()}, result.record() | (extra or {}),
                       overwrite=overwrite)


def sensitivity_figure(result: SensitivityResult, title: str | None = None):
    """One panel per metric: S1 and ST bars per parameter with confidence-interval error bars."""
    import matplotlib.pyplot as plt

    metrics = list(dict.fromkeys(result.table["metric"]))
    names = [f.name for f in result.factors]
    fig, axes = plt.subplots(len(metrics), 1, figsize=(max(7.0, 1.3 * len(names) + 3), 2.6 * len(metrics) + 1),
                             layout="constrained", squeeze=False, sharex=True)
    x = np.arange(len(names))
    for ax, metric in zip(axes[:, 0], metrics):
        rows = result.indices(metric).reindex(names)
        for offset, (key, colour, label) in enumerate((("S1", "#4c72b0", "first order S1"),
                                                       ("ST", "#dd8452", "total ST"))):
            values = rows[key].to_numpy(float)
            ax.bar(x + (offset - 0.5) * 0.38, np.nan_to_num(values), width=0.38, color=colour, label=label,
                   yerr=np.nan_to_num(rows[f"{key}_conf"].to_numpy(float)), capsize=3, error_kw={"linewidth": 1})
        if rows["S1"].isna().all():
            ax.text(0.5, 0.5, "does not vary over these ranges", ha="center", va="center", transform=ax.transAxes)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_ylim(min(-0.05, ax.get_ylim()[0]), max(1.05, ax.get_ylim()[1]))
        ax.set_ylabel("Sobol' index")
        ax.set_title(sensitivity_descriptions().get(metric, metric), fontsize=10, loc="left")
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(fontsize=8, frameon=False, loc="upper right")
    axes[-1, 0].set_xticks(x, [path_label(name) for name in names], fontsize=8)  # wrapped, so long paths never overlap
    level = f"{result.conf_level:.0%}"
    fig.suptitle(title or f"Sobol' indices ({result.n_samples} base samples, {result.runs} model runs; "
                 f"error bars: {level} confidence intervals)", fontsize=11)
    return fig
