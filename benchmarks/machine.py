"""What the benchmarks ran on: cpu, cores, memory, load, and the versions that set speed."""

from __future__ import annotations

import os
import platform
import re
import sys

import numba
import numpy as np


def cpu_model() -> str:
    """The cpu's model name from /proc/cpuinfo, else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float:
    """Physical memory (GiB)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def threading_layer() -> str:
    """Numba's threading layer; known only once a parallel kernel has run."""
    try:
        return numba.threading_layer()
    except ValueError:
        return "not yet chosen"


def machine_info() -> dict:
    """The machine and software, for the JSON report. ``load_1min``: other work running at the time."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(memory_gib(), 1),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numba": numba.__version__,
        "numpy": np.__version__,
        "threading_layer": threading_layer(),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "load_1min": round(os.getloadavg()[0], 2),
    }


def machine_slug(info: dict | None = None) -> str:
    """A file name for this machine's results, e.g. ``amd-epyc-2core``."""
    info = info or machine_info()
    cpu = re.sub(r"\((r|tm)\)|cpu|processor|@.*$|\d+-core", " ", info["cpu"].lower())
    words = re.sub(r"[^a-z0-9]+", "-", cpu).strip("-")
    return f"{words or 'cpu'}-{info['cores']}core"
