"""``report.html``: the run on one page a planner can hand on, self-contained.

Images are inlined as base64 ``data:`` URIs and the style sheet is inline, so the page opens
offline and fetches nothing. Every string that comes from the user's files (scenario name and
description, class names, strike ids, citations) goes through ``html.escape``.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

import geopandas as gpd
import pandas as pd

from simulator.results.provenance import versions
from simulator.results.result import Result

REPORT_FILE = "report.html"

TABLE_ROWS = 30
"""Rows shown of the CHA polygon and work unit tables (the files hold them all)."""

FIGURES = (
    ("map.png", "Expected remnant density, strikes and confirmed hazardous area (CHA)"),
    ("hazardous_area.png", "Contaminated area, SHA and CHA by land use over time"),
    ("plan.png", "The plan: which team type works which work unit when"),
    ("completion.png", "When is all suspected hazardous area released?"),
)

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""The page's content security policy: a browser fetches nothing for it, not even by mistake."""

CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 1.5em auto; max-width: 1100px; color: #222;
       font-size: 14px; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; border-bottom: 1px solid #bbb; margin-top: 1.5em; }
table { border-collapse: collapse; margin: 0.5em 0; } td, th { border: 1px solid #ccc; padding: 2px 6px; }
th { background: #eee; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; border: 1px solid #ddd; } .note { color: #555; font-size: 0.9em; }
figure { margin: 0.8em 0; } figcaption { color: #555; font-size: 0.9em; }
"""


def _cell(value) -> str:
    """One table cell: numbers right-aligned with thousands separators, text escaped."""
    if isinstance(value, bool) or value is None:
        return f"<td>{escape(str(value))}</td>"
    if isinstance(value, int) or (hasattr(value, "dtype") and value.dtype.kind in "iu"):
        return f'<td class="n">{int(value):,}</td>'
    if isinstance(value, float) or (hasattr(value, "dtype") and value.dtype.kind == "f"):
        return f'<td class="n">{float(value):,.{2 if abs(float(value)) >= 1 else 4}f}</td>'
    return f"<td>{escape(str(value))}</td>"


def table_html(frame: pd.DataFrame, columns: dict[str, str], limit: int | None = None) -> str:
    """``frame``'s ``columns`` (name -> heading) as an HTML table, the first ``limit`` rows."""
    shown = frame if limit is None else frame.head(limit)
    head = "".join(f"<th>{escape(h)}</th>" for h in columns.values())
    rows = "".join("<tr>" + "".join(_cell(row[c]) for c in columns) + "</tr>" for _, row in shown.iterrows())
    more = f'<p class="note">First {len(shown):,} of {len(frame):,} rows.</p>' if len(shown) < len(frame) else ""
    return f"<table><tr>{head}</tr>{rows}</table>{more}"


def _pairs(rows: list[tuple[str, object]]) -> str:
    return "<table>" + "".join(f"<tr><th>{escape(k)}</th>{_cell(v)}</tr>" for k, v in rows) + "</table>"


def _figure(folder: Path, name: str, caption: str) -> str:
    path = folder / name
    if not path.exists():
        return ""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure><img alt="{escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def _with_error(figures: dict, key: str, digits: int = 2) -> str:
    value, se = figures.get(key), figures.get(f"{key}_se") or figures.get(f"{key}_mean_se")
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f} ± {se:,.{digits}f}" if se is not None else f"{value:,.{digits}f}"


def assumptions_html(result: Result) -> str:
    """The delivery profiles the strikes use, each figure with its cited source (or 'assumption')."""
    used = sorted(set(result.setup.strikes.profile.astype(str)))
    profiles = result.setup.loaded.profiles
    rows = []
    for pid in used:
        profile = profiles[pid]
        for field, source in profile.sources.items():
            rows.append({"profile": f"{profile.id}: {profile.name}", "figure": field, "source": source})
    table = table_html(pd.DataFrame(rows), {"profile": "delivery profile", "figure": "figure", "source": "source"})
    sc = result.setup.scenario
    hazard = sc.hazard
    settings = [("suspect threshold (SHA), P(contaminated)", hazard.suspect_threshold),
                ("hazard threshold (CHA), P(contaminated)", hazard.threshold),
                ("reference distance, m", hazard.reference_distance_m),
                ("minimum CHA polygon area, m2", hazard.min_area_m2)]
    return (f"{table}<p class=\"note\">Scenario settings (the user's inputs):</p>{_pairs(settings)}"
            "<p class=\"note\">Defaults and model definitions are documented in docs/model.md; "
            "a source starting with 'assumption' marks a value nobody has published.</p>")


def provenance_html(result: Result, run_hash: str) -> str:
    sc = result.setup.scenario
    rows = [("scenario file", str(result.setup.loaded.path)), ("run hash (SHA-256 of every input)", run_hash),
            ("seed", str(sc.simulation.seed)), ("realizations (hazard map)", result.ensemble.realizations)]
    rows += [(f"version: {k}", v) for k, v in versions().items()]
    return _pairs(rows)


def release_html(result: Result, units: gpd.GeoDataFrame | None) -> str:
    """The plan and its completion against the deadline (empty without land release)."""
    figures = result.summary.get("land_release")
    if figures is None:
        return "<p>No clearance section in the scenario: no plan.</p>"
    deadline = figures.get("deadline")
    rows = [("policy", figures["policy"]), ("clearance starts", figures["clearance_start"]),
            ("work units", figures["work_units"]), ("scored realizations", figures["scored_realizations"]),
            ("years to completion, P50 (95 % interval)",
             f"{figures['years_to_completion_p50']} ({figures['years_to_completion_p50_ci'][0]} to "
             f"{figures['years_to_completion_p50_ci'][1]})"),
            ("years to completion, P90", figures["years_to_completion_p90"]),
            ("P(completed within the time axis)", _with_error(figures, "p_completed_within_horizon", 3))]
    if deadline is not None:
        rows += [("deadline", deadline["date"]),
                 ("P(all SHA released by the deadline)",
                  f"{deadline['p_released_by_deadline']:.3f} ± {deadline['p_released_by_deadline_se']:.3f}")]
    html = _pairs(rows)
    if units is not None:
        columns = {"priority_rank": "rank", "id": "unit", "class_name": "land use", "area_ha": "area, ha",
                   "items_mean": "items (mean)", "items_p95": "items (P95)", "method": "planned method",
                   "nts_start_p50": "NTS start (P50)", "bac_finish_p50": "BAC finish (P50)",
                   "bac_finish_p90": "BAC finish (P90)", "strikes": "strikes"}
        html += table_html(units, columns, TABLE_ROWS)
    return html


def errors_html(result: Result) -> str:
    """Headline figures with their Monte Carlo standard errors."""
    s = result.summary
    rows = [("expected duds on the grid", _with_error(s, "expected_duds")),
            ("contaminated area, ha (mean)", _with_error(s, "contaminated_ha_mean")),
            ("SHA, ha", _with_error(s, "suspected_ha")),
            ("CHA, ha", _with_error(s, "hazardous_ha"))]
    release = s.get("land_release")
    if release is not None:
        rows += [("items found (mean)", _with_error(release, "items_found_mean")),
                 ("residual items in released land (mean)", _with_error(release, "residual_items_mean")),
                 ("cost (mean)", _with_error(release, "cost_mean"))]
    note = s.get("precision", {}).get("note", "")
    return _pairs(rows) + (f'<p class="note">{escape(str(note))}</p>' if note else "")


def write_report(result: Result, folder: Path, run_hash: str, units: gpd.GeoDataFrame | None = None) -> Path:
    """Write ``folder/report.html`` from the run and the figures already in ``folder``."""
    sc = result.setup.scenario
    s = result.summary
    cha = pd.DataFrame(result.hazard_areas.drop(columns="geometry"))
    classes = result.area_by_class
    figures = {name: _figure(folder, name, caption) for name, caption in FIGURES}
    body = [
        f"<h1>{escape(sc.name)}</h1><p>{escape(sc.description)}</p>",
        _pairs([("strikes", s["strikes"]), ("strikes off the grid", s["strikes_off_grid"]),
                ("realizations", s["realizations"]), ("SHA, ha", _with_error(s, "suspected_ha")),
                ("CHA, ha", _with_error(s, "hazardous_ha"))]),
        "<h2>Map</h2>", figures["map.png"],
        "<h2>Area by land-use class</h2>",
        table_html(classes, {"name": "class", "area_ha": "class area, ha", "suspected_ha": "SHA, ha",
                             "hazardous_ha": "CHA, ha", "expected_remnants": "expected remnants"}),
        figures["hazardous_area.png"],
        f"<h2>CHA polygons (at least {sc.hazard.min_area_m2:,.0f} m2)</h2>",
        table_html(cha, {"id": "id", "area_m2": "area, m2", "expected_items": "items (mean)",
                         "items_p95": "items (P95)", "main_class": "main land use", "strikes": "strikes"},
                   TABLE_ROWS),
        "<h2>The plan</h2>", figures["plan.png"], release_html(result, units),
        "<h2>Completion against the deadline</h2>", figures["completion.png"],
        "<h2>Monte Carlo errors</h2>", errors_html(result),
        "<h2>Assumptions and their sources</h2>", assumptions_html(result),
        "<h2>Provenance</h2>", provenance_html(result, run_hash),
    ]
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}"><title>{escape(sc.name)}: remnant report'
            f"</title><style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")
    path = folder / REPORT_FILE
    path.write_text(page, encoding="utf-8")
    return path
