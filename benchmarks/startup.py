"""What a user waits for, as whole ``remnant`` processes in CPU seconds (user + system of the
child, from ``getrusage(RUSAGE_CHILDREN)``; on a shared machine wall time says little): the
first run after install (an empty kernel cache), ``remnant validate`` and the demo, warm.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.measure import other_load
from benchmarks.report import Result

DEMO = Path(__file__).resolve().parents[1] / "scenarios" / "demo-district.toml"
REMNANT = (sys.executable, "-m", "simulator")
SHORT_RUN = 20  # realizations of the first-run case: enough to call every kernel, little sampling


ROOT = Path(__file__).resolve().parents[1]

COMPILE_TIMER = """
import sys
from numba.core import event
from simulator.compiled.record import TopLevel
timer = TopLevel()
event.register("numba:compile", timer)
from simulator.cli.app import main
into, sys.argv = sys.argv[1], ["remnant", *sys.argv[2:]]
try:
    main()
finally:
    open(into, "w").write(str(timer.cpu_s))
"""
"""``remnant`` (arguments after a file's path) that writes to that file the CPU seconds numba spent compiling."""


def cli_cpu(args: list[str], env: dict | None = None, command: tuple = REMNANT,
            cwd: Path | None = None) -> tuple[float, float, float]:
    """CPU seconds, wall seconds and peak resident memory (MB) of one ``remnant`` process (``command``
    then ``args``), which must succeed (its own resource usage, from ``wait4``)."""
    with tempfile.TemporaryFile() as errors:
        t0 = time.perf_counter()
        child = subprocess.Popen([*command, *args], env=env, stdout=subprocess.DEVNULL, stderr=errors, cwd=cwd)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - t0
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"remnant {' '.join(args)} exited with {child.returncode}: "
                               f"{errors.read().decode()[-2000:]}")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024.0


def install_wheel(site: Path) -> Path:
    """``pip install --no-deps --target site`` of this checkout, as ``pip install .`` builds it (the
    wheel's build compiles the demo's kernels into it); the dependencies are this environment's."""
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(ROOT)],
                   check=True, capture_output=True, text=True)
    return site


def demo_args(out: Path, realizations: int | None) -> list[str]:
    """``remnant run`` of the demo into ``out``, every output written; with ``realizations``, the
    precision loop is capped at one step of that many (``simulation.target.max_realizations``)."""
    args = ["run", str(DEMO), "--out", str(out), "--quiet", "--overwrite"]
    if realizations:
        args += ["--realizations", str(realizations), "--set", f"simulation.target.max_realizations={realizations}"]
    return args


def best_cpu(args: list[str], repeats: int) -> tuple[tuple[float, float, float], float | None]:
    """``cli_cpu`` of the run with the least CPU seconds of ``repeats``, and the other processes' load."""
    with other_load() as load:
        best = min(cli_cpu(args) for _ in range(max(1, repeats)))
    return best, load.others_cores


def first_run(work: Path) -> Result:
    """The first ``remnant run`` after ``pip install .`` with an empty kernel cache (``NUMBA_CACHE_DIR``
    a new folder): ``value`` = the CPU seconds numba spends compiling in it (numba's compile events);
    beside it the same for this checkout as installed here (an editable install compiles on first
    use), and the first run's CPU seconds cold and warm."""
    site = install_wheel(work / "site")
    timer = work / "compile_s"
    timed = (sys.executable, "-c", COMPILE_TIMER, str(timer))
    args = demo_args(work / "first", SHORT_RUN)
    wheel = os.environ | {"NUMBA_CACHE_DIR": str(work / "cache-wheel"), "PYTHONPATH": str(site)}
    with other_load() as load:
        cold, cold_wall, peak = cli_cpu(args, wheel, timed, cwd=work)
        compile_s = float(timer.read_text())
        warm, warm_wall, _ = cli_cpu(args, wheel, cwd=work)
        cli_cpu(args, os.environ | {"NUMBA_CACHE_DIR": str(work / "cache-here")}, timed, cwd=work)
        here_s = float(timer.read_text())
    detail = {"realizations": SHORT_RUN, "cold_cpu_s": cold, "warm_cpu_s": warm, "cold_wall_s": cold_wall,
              "warm_wall_s": warm_wall, "this_install_compile_cpu_s": here_s, "others_cores": load.others_cores}
    return Result("first_run_compile", compile_s, "CPU s", peak, seconds=cold_wall, detail=detail)


def startup(sizes) -> list[Result]:
    """First run, ``remnant validate`` and the demo warm (at 200 realizations with the precision
    loop capped and, in a full run, as shipped), each its own process; peak MB is the process's."""
    repeats = max(1, sizes.repeats // 2)
    results = []
    with tempfile.TemporaryDirectory(prefix="remnant-bench-") as tmp:
        work = Path(tmp)
        print("startup: first run with an empty kernel cache", file=sys.stderr, flush=True)
        results.append(first_run(work))
        cli_cpu(demo_args(work / "warm-up", SHORT_RUN))  # the user's own kernel cache, filled if empty
        cases = [("validate", ["validate", str(DEMO)]), ("demo_warm_200", demo_args(work / "d200", 200))]
        if sizes.shipped_demo:
            cases.append(("demo_warm", demo_args(work / "demo", None)))
        for name, args in cases:
            print(f"startup: {name}", file=sys.stderr, flush=True)
            (cpu, wall, peak), others = best_cpu(args, repeats if name != "demo_warm" else 1)
            detail = {"command": "remnant " + " ".join(a if a != str(DEMO) else DEMO.name for a in args),
                      "wall_s": wall, "others_cores": others}
            if "--out" in args:
                detail["realizations"] = realizations(Path(args[args.index("--out") + 1]))
            results.append(Result(f"{name}_cpu", cpu, "CPU s", peak, seconds=wall, detail=detail))
    if sizes.shipped_demo:
        results.append(precision_loop(results))
    return results


def realizations(out: Path) -> int:
    """Realizations a run made: the hazard map's plus those land release was scored on."""
    summary = json.loads((out / "run.json").read_text())["summary"]
    return summary["realizations"] + summary.get("land_release", {}).get("scored_realizations", 0)


def precision_loop(results: list[Result]) -> Result:
    """CPU seconds per realization the precision loop adds (demo as shipped over the capped 200)
    against those of plain realizations (capped 200 over the first run's warm 20): 1 when growing the
    ensemble step by step costs no more than running it in one go (fixed costs cancel out)."""
    by = {r.name: r for r in results}
    first, capped, shipped = by["first_run_compile"], by["demo_warm_200_cpu"], by["demo_warm_cpu"]
    n_first = 2 * SHORT_RUN  # map and scored realizations
    plain = (capped.value - first.detail["warm_cpu_s"]) / (capped.detail["realizations"] - n_first)
    looped = (shipped.value - capped.value) / (shipped.detail["realizations"] - capped.detail["realizations"])
    detail = {"cpu_s_per_realization_plain": plain, "cpu_s_per_realization_looped": looped,
              "realizations_shipped": shipped.detail["realizations"]}
    return Result("precision_loop", looped / plain, "x", shipped.peak_rss_mb, detail=detail)
