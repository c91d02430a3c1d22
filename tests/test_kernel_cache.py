"""The numba cache folder is keyed by every kernel source and numba's version, so no upgrade or
edit can load a stale kernel (numba itself checks only a changed function's own file)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulator import kernel_cache


@pytest.fixture
def sources(tmp_path, monkeypatch):
    """A copy of the kernel sources that ``cache_folder`` hashes instead of the installed ones."""
    folder = tmp_path / "kernels"
    folder.mkdir()
    for path in kernel_cache.kernel_sources():
        shutil.copy(path, folder / path.name)
    monkeypatch.setattr(kernel_cache, "kernel_sources", lambda: sorted(folder.glob("*.py")))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return folder


def test_the_sources_are_the_kernels():
    names = {p.name for p in kernel_cache.kernel_sources()}
    assert {"scatter.py", "rng.py", "release.py", "jit.py", "prefetch.py"} <= names


def test_every_kernel_source_is_in_the_key(sources):
    """Changing any one file (a callee such as rng.py as much as scatter.py) gives a new folder."""
    before = kernel_cache.cache_folder()
    assert before.parent == sources.parent / "cache" / "remnant" / "numba"
    seen = {before}
    for path in sorted(sources.glob("*.py")):
        text = path.read_text()
        path.write_text(text + "\n# changed\n")
        seen.add(kernel_cache.cache_folder())
        path.write_text(text)
        assert kernel_cache.cache_folder() == before  # the same sources give the same folder
    assert len(seen) == 1 + len(list(sources.glob("*.py")))


def test_a_new_kernel_file_changes_the_key(sources):
    before = kernel_cache.cache_folder()
    (sources / "evidence.py").write_text("# a kernel another issue adds\n")
    assert kernel_cache.cache_folder() != before


def test_numba_version_is_in_the_key(sources, monkeypatch):
    before = kernel_cache.cache_folder()
    real = kernel_cache.metadata.version
    monkeypatch.setattr(kernel_cache.metadata, "version", lambda name: "9.9.9" if name == "numba" else real(name))
    assert kernel_cache.cache_folder() != before


def test_import_points_numba_at_the_keyed_folder(tmp_path):
    """A fresh process that imports ``simulator`` sets NUMBA_CACHE_DIR to the keyed folder (which
    numba reads when first imported) without importing numba itself; a user's own setting wins."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"} | {"XDG_CACHE_HOME": str(tmp_path)}
    code = ("import os, sys, simulator; from simulator import kernel_cache; "
            "print(os.environ['NUMBA_CACHE_DIR'] == str(kernel_cache.cache_folder()), 'numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]
    assert Path(tmp_path, "remnant", "numba").is_dir()
    mine = str(tmp_path / "mine")
    code = "import os, simulator; print(os.environ['NUMBA_CACHE_DIR'])"
    out = subprocess.run([sys.executable, "-c", code], env=env | {"NUMBA_CACHE_DIR": mine}, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == mine
