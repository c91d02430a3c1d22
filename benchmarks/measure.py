"""Timing and memory: warm-up timed apart, best-of-N wall time, peak resident memory.

Peak memory is the kernel's VmHWM (high-water resident set, MB) after resetting it through
``/proc/self/clear_refs``, so each case gets its own peak; where that reset is unavailable it
falls back to ``ru_maxrss``, the process's high-water mark since start. Cases whose peak must
not include earlier ones (memory against realizations) run in a fresh spawned process.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import resource
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """``best_s``: best wall time of the timed repeats (s); ``cpu_s``: the calling thread's CPU time
    in that call (s; below ``best_s`` when other processes took the core, or when other threads did
    the work); ``first_s``: the warm-up call (s), which includes compiling or loading cached code."""

    best_s: float
    cpu_s: float
    first_s: float
    repeats: int


def time_call(
    fn: Callable[[], object], repeats: int, warmup: Callable[[], object] | None = None
) -> tuple[Timing, object]:
    """Call ``warmup`` (default ``fn``) once, timed apart, then ``fn`` ``repeats`` times.

    Returns the timing and the value of the fastest call of ``fn``.
    """
    t0 = time.perf_counter()
    (warmup or fn)()
    first = time.perf_counter() - t0
    best, cpu, value = float("inf"), 0.0, None
    for _ in range(max(1, repeats)):
        c0, t0 = time.thread_time(), time.perf_counter()
        out = fn()
        elapsed, used = time.perf_counter() - t0, time.thread_time() - c0
        if elapsed < best:
            best, cpu, value = elapsed, used, out
    return Timing(best, cpu, first, max(1, repeats)), value


def _status_kb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            match = re.search(rf"^{field}:\s+(\d+)\s+kB", fh.read(), re.M)
    except OSError:
        return None
    return float(match.group(1)) if match else None


def reset_peak() -> bool:
    """Reset the kernel's resident high-water mark to the current RSS; False where not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return _status_kb("VmHWM") is not None


def peak_rss_mb() -> float:
    """Peak resident memory (MB): VmHWM since the last reset, else ``ru_maxrss`` since start."""
    kb = _status_kb("VmHWM")
    if kb is None:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kb / 1024.0


PEAK_METHOD = "VmHWM reset per case" if reset_peak() else "ru_maxrss (process high-water since start)"


class Peak:
    """The peak RSS (MB) of a ``with peak_memory() as peak:`` block, in ``peak.mb``."""

    mb: float = 0.0


@contextmanager
def peak_memory():
    """Measure the peak resident memory of the block (MB, whole process)."""
    peak = Peak()
    reset_peak()
    try:
        yield peak
    finally:
        peak.mb = peak_rss_mb()


def in_fresh_process(fn: Callable, *args):
    """``fn(*args)`` in a newly spawned Python process.

    Read its peak with ``peak_rss_mb`` (VmHWM, which starts afresh at ``exec``), not ``ru_maxrss``:
    Linux carries ``ru_maxrss`` across fork and exec, so a spawned child inherits the parent's peak.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(fn, *args).result()


def _busy_s() -> float | None:
    """CPU time (s) all processes spent busy since boot, from /proc/stat; None where unavailable."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Load:
    """``others_cores``: cores other processes kept busy during a ``with other_load() as load:`` block."""

    others_cores: float | None = None


@contextmanager
def other_load():
    """Measure how many cores other processes used during the block (a sign of contention)."""
    load = Load()
    busy0, own0, t0 = _busy_s(), _own_s(), time.perf_counter()
    try:
        yield load
    finally:
        busy1, wall = _busy_s(), time.perf_counter() - t0
        if busy0 is not None and busy1 is not None and wall > 0:
            load.others_cores = round(max(0.0, (busy1 - busy0) - (_own_s() - own0)) / wall, 2)


def wait_for_quiet(max_s: float, cores: float = 0.25, probe_s: float = 2.0) -> float | None:
    """Wait up to ``max_s`` seconds until other processes use under ``cores`` cores over a probe
    of ``probe_s`` seconds; the last probe's reading (None where /proc/stat is unreadable)."""
    deadline = time.perf_counter() + max_s
    while True:
        with other_load() as load:
            time.sleep(probe_s)
        if load.others_cores is None or load.others_cores < cores or time.perf_counter() >= deadline:
            return load.others_cores
