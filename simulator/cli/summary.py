"""The summary table ``remnant run`` prints."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from simulator.cli.console import out


def print_summary(summary: dict, target: Path) -> None:
    table = Table(title=f"{summary['scenario']}: {summary['realizations']} realizations", title_justify="left")
    table.add_column("land use")
    for name in ("remnants (mean)", "contaminated ha P5", "P50", "P95", "hazardous ha"):
        table.add_column(name, justify="right")
    for row in summary["by_class"]:
        table.add_row(row["name"], f"{row['remnants_mean']:.1f}", f"{row['contaminated_ha_p5']:.2f}",
                      f"{row['contaminated_ha_p50']:.2f}", f"{row['contaminated_ha_p95']:.2f}", f"{row['hazardous_ha']:.2f}")
    table.add_row("all", f"{summary['expected_duds'] - summary['duds_outside_grid_mean']:.1f}",
                  f"{summary['contaminated_ha_p5']:.2f}", f"{summary['contaminated_ha_p50']:.2f}",
                  f"{summary['contaminated_ha_p95']:.2f}", f"{summary['hazardous_ha']:.2f}", style="bold")
    out.print(table)
    out.print(
        f"items dropped: {summary['items_dropped']:,}   expected duds: {summary['expected_duds']:,.1f} "
        f"(SE {summary['expected_duds_se']:.1f}), of which outside the study area: {summary['duds_outside_grid_mean']:.1f}",
        highlight=False,
    )
    release = summary.get("land_release")
    if release:
        def years(value):
            return f"{value:.1f} years" if value is not None else "beyond the time horizon"

        out.print(
            f"land release ({release['policy']}, from {release['clearance_start']}): all hazardous land released in "
            f"{years(release['years_to_completion_p50'])} (P50), {years(release['years_to_completion_p90'])} (P90)",
            highlight=False,
        )
        if release["deadline"]:
            deadline = release["deadline"]
            out.print(f"probability of meeting the {deadline['date']} deadline: {deadline['p_released_by_deadline']:.0%}",
                      highlight=False)
        out.print(
            f"items found: {release['items_found_mean']:,.0f}   residual items in released land: "
            f"{release['residual_items_mean']:,.0f}   in land never suspected: {release['items_in_unsuspected_land_mean']:,.0f}"
            f"   cost: {release['cost_mean']:,.0f} (mean)",
            highlight=False,
        )
    if summary.get("risk"):
        risk, averted = summary["risk"]["casualties"], summary["risk"]["casualties_averted"]
        out.print(f"expected casualties {summary['risk']['horizon']}: {risk['mean']:,.2f} (mean; P5 {risk['p5']:,.2f}, "
                  f"P95 {risk['p95']:,.2f}); averted by land release: {averted['mean']:,.2f}", highlight=False)
        if summary["risk"]["handover"]:
            qa = summary["risk"]["handover"]
            passes = qa["p_pass_given_items"]
            out.print(f"at handover: residual casualties a year in released land {qa['residual_casualties_per_year_mean']:,.3f}"
                      f" ({qa['residual_casualties_per_year_after_qa_mean']:,.3f} after QA); "
                      + (f"P(a lot holding items passes QA) {passes:.0%}" if passes is not None else "no lot holds items"),
                      highlight=False)
    out.print(f"outputs: {target}", highlight=False)
