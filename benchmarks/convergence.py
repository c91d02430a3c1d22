"""Numbers a planner can defend: headline figures against the cell size and the realization count.

``python -m benchmarks.convergence [--quick]`` runs the demo and osm-village at 5, 10 and 20 m
cells (each with its precision targets), and the demo at 200 and 5,000 realizations, through
the same pipeline as ``remnant run``; it writes ``benchmarks/results/convergence.json`` and the
figure ``docs/images/convergence.png`` that docs/validation.md shows.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from simulator.config.variants import load_scenario  # noqa: E402
from simulator.pipeline import simulate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("demo-district", "osm-village")
CELLS = (5, 10, 20)
FIGURES = (
    ("contaminated_ha_p50", "contaminated area P50 (ha)"),
    ("suspected_ha", "SHA (ha)"),
    ("hazardous_ha", "CHA (ha)"),
    ("years_to_completion_p50", "years to completion P50"),
    ("years_to_completion_p90", "years to completion P90"),
    ("p_released_by_deadline", "P(deadline)"),
)


def figures(summary: dict) -> dict:
    """The figures of FIGURES (and their errors where there are) from a run summary."""
    release = summary.get("land_release") or {}
    deadline = release.get("deadline") or {}
    row = {"realizations": summary["realizations"], "scored_realizations": release.get("scored_realizations")}
    for key in ("contaminated_ha_p50", "contaminated_ha_p50_ci", "suspected_ha", "suspected_ha_se", "hazardous_ha",
                "hazardous_ha_se"):
        row[key] = summary[key]
    for key in ("years_to_completion_p50", "years_to_completion_p50_ci", "years_to_completion_p90",
                "years_to_completion_p90_ci"):
        row[key] = release.get(key)
    row["p_released_by_deadline"] = deadline.get("p_released_by_deadline")
    row["p_released_by_deadline_se"] = deadline.get("p_released_by_deadline_se")
    return row


def run(scenario: str, overrides: list[str]) -> dict:
    loaded = load_scenario(ROOT / "scenarios" / f"{scenario}.toml", overrides)
    return figures(simulate(loaded).summary)


def plot(cells: dict, path: Path) -> None:
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), layout="constrained")
    for ax, (key, label) in zip(axes.ravel(), FIGURES):
        for scenario, rows in cells.items():
            xs = [c for c in CELLS if rows[str(c)].get(key) is not None]
            ys = [rows[str(c)][key] for c in xs]
            if not ys:
                continue
            reference = ys[0]
            ax.plot(xs, [y / reference if reference else 1.0 for y in ys], marker="o", label=scenario)
        ax.axhspan(0.9, 1.1, color="grey", alpha=0.15, linewidth=0)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("cell size (m)")
        ax.set_ylabel("ratio to 5 m")
        ax.set_xticks(CELLS)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, frameon=False)
    fig.suptitle("Headline figures against the cell size, as a ratio to 5 m cells (grey: within 10 %)")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.convergence", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer realizations (a smoke test, not the figures)")
    args = parser.parse_args(argv)
    quick = ["simulation.realizations=20", "simulation.target.max_realizations=20"] if args.quick else []
    cells = {s: {str(c): run(s, [f"study_area.cell_size_m={c}", *quick]) for c in CELLS} for s in SCENARIOS}
    counts = {}
    for n in ((10, 40) if args.quick else (200, 5000)):
        counts[str(n)] = run("demo-district", [f"simulation.realizations={n}", "simulation.target.max_realizations="
                                               f"{n}"])
    doc = {"cell_size": cells, "realizations": counts}
    out = ROOT / "benchmarks" / "results" / ("convergence-quick.json" if args.quick else "convergence.json")
    out.write_text(json.dumps(doc, indent=2) + "\n")
    plot(cells, ROOT / "docs" / "images" / ("convergence-quick.png" if args.quick else "convergence.png"))
    print(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
