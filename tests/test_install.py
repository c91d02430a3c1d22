"""A regular install leaves nothing beside its files: the compiled kernels go to the keyed user cache,
so uninstalling it (``pip install -e .`` after ``pip install .``, or an upgrade) removes every file
it put in site-packages, and no leftover folder can shadow the next install's packages.

The README's two lines, run one after the other in one folder of a fresh clone, are run by ``.ci/run``.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # pip builds and installs the package, a fresh process compiles a kernel

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "simulator", "kernels", "scenarios")
"""What ``pip install .`` reads (pyproject.toml's packages, package-dir and readme; setup.py's build hook)."""

COMPILE = """
import numpy as np, simulator.kernels
from simulator.kernels.rng import splitmix64
print(simulator.kernels.__file__)
splitmix64(np.uint64(1))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """``pip install --no-deps --target`` of a copy of the checkout: the folder that plays site-packages."""
    folder = tmp_path_factory.mktemp("install")
    (folder / "src").mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / "src" / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(source, folder / "src" / name)
    site = folder / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                    str(folder / "src")], check=True, capture_output=True, text=True, timeout=600)
    return site


def test_compiled_kernels_are_cached_outside_the_installed_package(installed, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "PYTHONPATH")}
    env |= {"PYTHONPATH": str(installed), "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", COMPILE], cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(installed / "simulator" / "kernels")
    cached = [p for p in (tmp_path / "cache" / "remnant" / "numba").rglob("*") if p.suffix in (".nbi", ".nbc")]
    assert cached, "no kernel was cached in the keyed folder"
    (record,) = installed.glob("remnant-*.dist-info/RECORD")
    with record.open(newline="") as handle:
        recorded = {(installed / row[0]).resolve() for row in csv.reader(handle)}
    left = [p for p in (installed / "simulator").rglob("*") if p.is_file() and p.resolve() not in recorded]
    assert left == [], f"files an uninstall would leave behind (they shadow the next install): {left[:5]}"


def test_the_first_run_after_install_compiles_no_kernel(installed, tmp_path):
    """The wheel ships the demo's kernels compiled while it was built: with an empty user cache, a
    short demo run loads them (copied into the keyed folder) and compiles nothing."""
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "NUMBA_CACHE_LOCATOR_CLASSES", "PYTHONPATH")}
    env |= {"PYTHONPATH": str(installed), "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONDONTWRITEBYTECODE": "1"}
    code = "import simulator; from simulator.compiled import record; print(simulator.__file__); print(record.demo_compiles())"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          check=False, timeout=600)
    assert done.returncode == 0, done.stderr
    where, compiled = done.stdout.strip().splitlines()[-2:]
    assert Path(where).is_relative_to(installed)
    assert compiled == "[]"
    assert list((installed / "simulator" / "compiled" / "shipped").glob("remnant-*/kernels/*.nbi"))
