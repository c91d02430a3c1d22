"""``python -m benchmarks [--quick] [--json FILE] [--save] [--settle S] [--only GROUP ...]`` (repository root)."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from benchmarks import cases
from benchmarks.machine import machine_info, machine_slug
from benchmarks.measure import PEAK_METHOD
from benchmarks.report import print_report, write_json
from benchmarks.targets import evaluate

RESULTS = Path(__file__).parent / "results"


def previous_run(machine: dict) -> dict | None:
    """The saved run of this machine (``benchmarks/results/<machine>.json``), to compare against."""
    path = RESULTS / f"{machine_slug(machine)}.json"
    return json.loads(path.read_text()) if path.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="remnant's benchmarks; see README.md")
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats (CI; under a minute)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON to FILE")
    parser.add_argument("--save", action="store_true", help="also write benchmarks/results/<machine>.json")
    parser.add_argument("--settle", type=float, default=0.0, metavar="SECONDS",
                        help="before each case group, wait up to SECONDS for other processes to leave the cores idle")
    parser.add_argument("--only", nargs="+", choices=cases.GROUPS, metavar="GROUP",
                        help=f"run only these case groups: {', '.join(cases.GROUPS)}")
    args = parser.parse_args(argv)

    sizes = cases.QUICK if args.quick else cases.FULL
    load_start = round(os.getloadavg()[0], 2)
    t0 = time.perf_counter()
    results, scaling = cases.run(sizes, tuple(args.only or cases.GROUPS), settle_s=args.settle)
    rows = [r.to_json() for r in results]
    machine = machine_info() | {"load_1min": load_start, "peak_rss_method": PEAK_METHOD}
    doc = {
        "machine": machine,
        "mode": "quick" if args.quick else "full",
        "total_s": round(time.perf_counter() - t0, 1),
        "load_1min_end": round(os.getloadavg()[0], 2),
        "results": rows,
        "scaling": scaling,
        "targets": evaluate(rows, scaling, previous_run(machine)),
    }
    print_report(doc)
    if args.json:
        write_json(doc, args.json)
    if args.save:
        write_json(doc, RESULTS / f"{machine_slug(machine)}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
