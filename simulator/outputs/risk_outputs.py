"""Risk outputs: casualty risk over time (risk.csv, risk.png), the risk map (risk.tif), QA at
handover (qa.csv) and the comparison of work-order policies (policies.csv, policies.png)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simulator.outputs.plots import PLAIN, axes_px, figure_px, save
from simulator.outputs.rasters import write_geotiff
from simulator.results.policy_comparison import compare_policies
from simulator.results.result import Result
from simulator.results.risk import map_step, qa_table, risk_map, risk_table

RISK_FILES = ("risk.csv", "risk.png", "risk.tif")
"""Written by a run with a [risk] table; with clearance it adds ``RISK_RELEASE_FILES``."""

RISK_RELEASE_FILES = ("qa.csv", "policies.csv", "policies.png")
"""``policies.*`` only when ``risk.compare_policies`` is true."""

AFTER, BEFORE = "#0057b8", "#8b1a1a"


def write_risk(result: Result, folder: Path) -> None:
    """Write the risk files of ``result`` (which has a [risk] table) into ``folder``."""
    setup = result.setup
    name = setup.scenario.name
    table = risk_table(setup, result.risk)
    table.to_csv(folder / "risk.csv", index=False, float_format="%.6g")
    save(risk_over_time(table, setup.scenario.clearance is not None,
                        f"{name}: expected casualties from remnants ({result.ensemble.realizations} realizations)"),
         folder / "risk.png")
    values = risk_map(setup, result.ensemble, result.risk).astype(np.float32)
    released = "land released as planned" if result.land_release is not None else "no land released"
    write_geotiff(folder / "risk.tif", setup.grid, values,
                  description=f"expected casualties per km2 per year on {setup.steps.dates[map_step(setup)]}, {released}",
                  units="casualties/km2/year",
                  nodata=-1.0)
    if result.land_release is None:
        return
    qa_table(setup, result.risk).to_csv(folder / "qa.csv", index=False, float_format="%.6g")
    if setup.scenario.risk.compare_policies:
        policies = compare_policies(setup, result.ensemble, result.land_release, risk=result.risk)
        policies.to_csv(folder / "policies.csv", index=False, float_format="%.6g")
        save(policies_figure(policies, f"{name}: work-order policies on the same realizations"), folder / "policies.png")


def risk_over_time(table: pd.DataFrame, with_release: bool, title: str):
    """Expected casualties a year (all classes) after and before land release, P5-P95 bands, and cumulative means."""
    rows = table[table["class"] == "all"]
    dates = pd.to_datetime(rows["date"])
    fig = figure_px(1200, 480)
    rate, total = axes_px(fig, 75, 55, 480, 370), axes_px(fig, 690, 55, 480, 370)
    curves = [("after", AFTER, "with land release")] if with_release else []
    curves.append(("before", BEFORE, "no land released"))
    for which, colour, label in curves:
        name = f"casualties_per_year_{which}"
        rate.fill_between(dates, rows[f"{name}_p5"], rows[f"{name}_p95"], color=colour, alpha=0.2, linewidth=0,
                          label=f"{label}: P5-P95", step="post")
        rate.step(dates, rows[f"{name}_mean"], where="post", color=colour, label=f"{label}: mean")
        cumulative = f"casualties_cumulative_{which}"
        total.fill_between(dates, rows[f"{cumulative}_p5"], rows[f"{cumulative}_p95"], color=colour, alpha=0.2,
                           linewidth=0)
        total.plot(dates, rows[f"{cumulative}_mean"], color=colour, label=label)
    rate.set_ylabel("expected casualties per year (casualties/year)")
    total.set_ylabel("expected casualties since the start (casualties)")
    for ax in (rate, total):
        ax.set_xlabel("date")
        ax.yaxis.set_major_formatter(PLAIN)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(title, y=0.97)
    return fig


def policies_figure(table: pd.DataFrame, title: str):
    """Casualties averted (mean, P5-P95) against mean cost, one point per policy."""
    fig = figure_px(1200, 480)
    averted, cost = axes_px(fig, 190, 75, 400, 350), axes_px(fig, 700, 75, 470, 350)
    y = np.arange(len(table))
    mean = table["casualties_averted_mean"].to_numpy()
    errors = np.vstack([mean - table["casualties_averted_p5"], table["casualties_averted_p95"] - mean])
    averted.barh(y, mean, xerr=np.maximum(errors, 0.0), color=AFTER, alpha=0.7, capsize=3)
    averted.set_yticks(y, table["policy"])
    averted.set_xlabel("casualties averted over the time axis (casualties; mean, P5-P95)")
    averted.invert_yaxis()
    cost.scatter(table["cost_mean"], mean, color=AFTER)
    for _, row in table.iterrows():
        cost.annotate(f"{row['policy']} (P(deadline) {row['p_deadline']:.0%})",
                      (row["cost_mean"], row["casualties_averted_mean"]),
                      fontsize=8, xytext=(4, 4), textcoords="offset points")
    cost.xaxis.set_major_formatter(PLAIN)
    cost.tick_params(axis="x", labelrotation=30)
    cost.set_xlabel("cost (mean, in the scenario's currency: US$ by default)")
    cost.set_ylabel("casualties averted (casualties, mean)")
    for ax in (averted, cost):
        ax.grid(alpha=0.3)
    fig.suptitle(title, y=0.97)
    return fig
