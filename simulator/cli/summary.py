"""The summary table ``remnant run`` prints: every headline figure with its Monte Carlo error."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.table import Table

from simulator.cli.console import out


def _pm(value: float, se: float | None, digits: int = 1) -> str:
    """``value ± se`` (the standard error), or the value alone where there is none."""
    return f"{value:,.{digits}f}" + (f" ± {se:,.{digits}f}" if se is not None else "")


def _years(value: float | None) -> str:
    return f"{value:.2f} years" if value is not None else "beyond the time horizon"


def _interval(ci: list) -> str:
    lo, hi = ci
    return f"{'-' if lo is None else f'{lo:,.2f}'} to {'beyond the horizon' if hi is None else f'{hi:,.2f}'}"


def print_summary(summary: dict, target: Path) -> None:
    title = (f"{summary['scenario']}: {summary['realizations']:,} realizations; land within "
             f"{summary['reference_distance_m']:,g} m of a remnant is contaminated")
    table = Table(title=title, title_justify="left")
    table.add_column("land use")
    for name in ("remnants (mean)", "contaminated ha P5", "P50", "P95", "SHA ha", "CHA ha"):
        table.add_column(name, justify="right")
    for row in summary["by_class"]:
        table.add_row(escape(row["name"]), f"{row['remnants_mean']:,.1f}", f"{row['contaminated_ha_p5']:,.2f}",
                      f"{row['contaminated_ha_p50']:,.2f}", f"{row['contaminated_ha_p95']:,.2f}",
                      f"{row['suspected_ha']:,.2f}", f"{row['hazardous_ha']:,.2f}")
    in_area = summary.get("duds_in_study_area_mean", summary["expected_duds"] - summary["duds_outside_grid_mean"])
    table.add_row("all", f"{in_area:,.1f}",
                  f"{summary['contaminated_ha_p5']:,.2f}", f"{summary['contaminated_ha_p50']:,.2f}",
                  f"{summary['contaminated_ha_p95']:,.2f}", f"{summary['suspected_ha']:,.2f}",
                  f"{summary['hazardous_ha']:,.2f}", style="bold")
    out.print(table)
    lines = [
        f"items dropped: {summary['items_dropped']:,}   expected duds: "
        f"{_pm(summary['expected_duds'], summary['expected_duds_se'])} (± one standard error), of which off "
        f"the grid: {summary['duds_outside_grid_mean']:,.1f}" + (
            f", on the grid outside the study area (land_use.outside): {summary['duds_outside_study_area_mean']:,.1f}"
            if "duds_outside_study_area_mean" in summary else ""),
        f"contaminated area: {_pm(summary['contaminated_ha_mean'], summary['contaminated_ha_mean_se'])} ha (mean), "
        f"P50 {summary['contaminated_ha_p50']:,.1f} ha (95 % interval {_interval(summary['contaminated_ha_p50_ci'])})",
        f"suspected hazardous area (SHA): {_pm(summary['suspected_ha'], summary['suspected_ha_se'])} ha, holding "
        f"{summary['share_of_items_in_sha']:.1%} of expected remnants; confirmed hazardous area (CHA): "
        f"{_pm(summary['hazardous_ha'], summary['hazardous_ha_se'])} ha, holding {summary['share_of_items_in_cha']:.1%}",
    ]
    release = summary.get("land_release")
    if release:
        lines.append(
            f"land release ({release['policy']}, from {release['clearance_start']}, {release['scored_realizations']:,} "
            f"scored realizations): all SHA released in {_years(release['years_to_completion_p50'])} (P50; 95 % "
            f"interval {_interval(release['years_to_completion_p50_ci'])}), "
            f"{_years(release['years_to_completion_p90'])} (P90)")
        if release["deadline"]:
            deadline = release["deadline"]
            lines.append(f"probability of meeting the {deadline['date']} deadline: "
                         f"{deadline['p_released_by_deadline']:.1%} ± {deadline['p_released_by_deadline_se']:.1%}")
        lines.append(
            f"items found: {_pm(release['items_found_mean'], release['items_found_mean_se'], 0)}   residual in "
            f"released land: {_pm(release['residual_items_mean'], release['residual_items_mean_se'], 0)}   in land "
            f"never suspected: {_pm(release['items_in_unsuspected_land_mean'], release['items_in_unsuspected_land_mean_se'], 0)}"
            f"   cost: {_pm(release['cost_mean'], release['cost_mean_se'], 0)} (mean)")
    cmrs = summary.get("cmrs")
    if cmrs:
        empty = cmrs["share_cha_empty_boxes"]
        lines.append(
            f"CMRS ({cmrs['box_m']:g} m boxes, fade-out {cmrs['fade_out_boxes']} boxes, {cmrs['method']}): CHAs found "
            f"{_pm(cmrs['chas_mean'], cmrs['chas_mean_se'])}, {_pm(cmrs['cha_ha_mean'], cmrs['cha_ha_mean_se'])} ha; "
            f"items missed outside them {_pm(cmrs['items_missed_mean'], cmrs['items_missed_mean_se'])}; CHA land in "
            "boxes holding no item: " + ("-" if empty is None else f"{empty:.1%} ± {cmrs['share_cha_empty_boxes_se']:.1%}"))
    if summary.get("risk"):
        risk, averted = summary["risk"]["casualties"], summary["risk"]["casualties_averted"]
        lines.append(f"expected casualties {summary['risk']['horizon']}: {risk['mean']:,.2f} (mean; P5 {risk['p5']:,.2f}, "
                     f"P95 {risk['p95']:,.2f}); averted by land release: {averted['mean']:,.2f}")
        if summary["risk"]["handover"]:
            qa = summary["risk"]["handover"]
            passes = qa["p_pass_given_items"]
            lines.append(f"at handover: residual casualties a year in released land {qa['residual_casualties_per_year_mean']:,.3f}"
                      f" ({qa['residual_casualties_per_year_after_qa_mean']:,.3f} after QA); "
                         + (f"P(a lot holding items passes QA) {passes:.0%}" if passes is not None else "no lot holds items"))
    if summary.get("precision"):
        lines.append(summary["precision"]["note"])
    if summary.get("evidence"):
        lines.extend(_evidence_lines(summary["evidence"]))
    for line in lines:
        out.print(line, highlight=False)
    out.print(f"outputs: {target}", highlight=False)


def _evidence_lines(ev: dict) -> list[str]:
    """Prior beside posterior, the resample-move diagnostics, and the note if it has few independent draws."""
    prior, post = ev["prior"], ev["posterior"]
    lines = [
        f"evidence: {ev['finds']:,} finds, {ev['searched']:,} searched and {ev['cleared']:,} cleared areas, "
        f"{ev['strike_reports']:,} strike reports; resample-move in blocks of {ev['particles_per_block']:,}: ESS of "
        f"plain weights {ev['map']['ess_before']:,.1f}, {ev['map']['stages']:,.0f} tempering stages, moves accepted "
        f"{ev['map'].get('acceptance_positions', 0):.0%} (positions), {ev['map'].get('acceptance_dud_rates', 0):.0%} "
        f"(dud rates), {ev['map'].get('acceptance_redraws', 0):.0%} (redraws); worth "
        f"{ev['effective_draws'] or 0:,.0f} independent draws",
        f"prior -> posterior: items left {prior['expected_duds']:,.1f} -> {post['expected_duds']:,.1f} (found "
        f"{ev['items_found_mean']:,.1f}, cleared {ev['items_cleared_mean']:,.1f}), contaminated "
        f"{prior['contaminated_ha_mean']:,.1f} -> {post['contaminated_ha_mean']:,.1f} ha, SHA {prior['suspected_ha']:,.1f}"
        f" -> {post['suspected_ha']:,.1f} ha, CHA {prior['hazardous_ha']:,.1f} -> {post['hazardous_ha']:,.1f} ha",
    ]
    return lines + ([ev["note"]] if ev["note"] else [])
