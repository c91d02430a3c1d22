"""The numba cache folder is keyed by every kernel source and the versions of numba, llvmlite, numpy
and Python, so no upgrade or edit can load a stale kernel (numba itself checks only a changed
function's own file); old keyed folders are removed once unused for a month."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.compiled import cache as kernel_cache


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


def test_the_dependencies_versions_are_in_the_key(sources, monkeypatch, tmp_path):
    files = kernel_cache.dependency_versions()
    assert [f.parent.name for f in files] == list(kernel_cache.DEPENDENCIES)
    import numba
    assert numba.__version__ in files[0].read_text()  # the file holds the version
    copies = []
    for f in files:
        (tmp_path / f.parent.name).mkdir()
        copies.append(Path(shutil.copy(f, tmp_path / f.parent.name / f.name)))
    monkeypatch.setattr(kernel_cache, "dependency_versions", lambda: copies)
    before = kernel_cache.cache_folder()
    for copy in copies:  # an upgrade of any one of them
        text = copy.read_text()
        copy.write_text(text.replace(".", "_"))
        assert kernel_cache.cache_folder() != before
        copy.write_text(text)
    monkeypatch.setattr(kernel_cache.sys, "version", "3.99.0")
    assert kernel_cache.cache_folder() != before


def test_old_folders_are_pruned_and_the_current_one_kept(sources):
    current = kernel_cache.cache_folder()
    others = [current.parent / name for name in ("0" * 20, "1" * 20)]
    for folder in [current, *others]:
        (folder / "kernels_x").mkdir(parents=True)
    month = kernel_cache.KEEP_DAYS * 86400
    now = os.stat(current).st_mtime
    os.utime(others[0], (now - month - 60, now - month - 60))  # unused for over a month
    os.utime(current, (now - 2 * month, now - 2 * month))  # the current one is never removed
    assert kernel_cache.prune(current, now) == [others[0]]
    assert current.is_dir() and others[1].is_dir() and not others[0].exists()


def test_import_points_numba_at_the_keyed_folder(tmp_path):
    """A fresh process that imports ``simulator`` sets NUMBA_CACHE_DIR to the keyed folder (which
    numba reads when first imported) without importing numba itself; with a user's own setting,
    the keyed folder is inside it, and a worker that inherits the setting keeps it."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"} | {"XDG_CACHE_HOME": str(tmp_path)}
    code = ("import os, sys, simulator; from simulator.compiled import cache as kernel_cache; "
            "print(os.environ['NUMBA_CACHE_DIR'] == str(kernel_cache.cache_folder()), 'numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]
    assert Path(tmp_path, "remnant", "numba").is_dir()
    mine = tmp_path / "mine"
    code = "import os, simulator; print(os.environ['NUMBA_CACHE_DIR'])"
    out = subprocess.run([sys.executable, "-c", code], env=env | {"NUMBA_CACHE_DIR": str(mine)}, capture_output=True,
                         text=True, check=True)
    keyed = Path(out.stdout.strip())
    assert keyed.parent == mine and keyed.name == kernel_cache.PREFIX + kernel_cache.cache_key() and keyed.is_dir()
    out = subprocess.run([sys.executable, "-c", code], env=env | {"NUMBA_CACHE_DIR": str(keyed)}, capture_output=True,
                         text=True, check=True)
    assert Path(out.stdout.strip()) == keyed


def _copy_of_the_package(target: Path) -> Path:
    """``simulator`` with its kernels copied under ``target`` (new modification times, another path)."""
    package = Path(kernel_cache.__file__).parents[1]
    shutil.copytree(package, target / "simulator", copy_function=shutil.copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.rmtree(target / "simulator" / "kernels", ignore_errors=True)
    shutil.copytree(kernel_cache.kernel_sources()[0].parent, target / "simulator" / "kernels", copy_function=shutil.copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _cache_stats(root: Path, cache: Path) -> list[str]:
    """In a fresh process importing ``simulator`` from ``root``: where splitmix64 was compiled from, its
    numba cache hits and misses once called."""
    code = ("import simulator, numpy as np; from simulator.kernels.rng import splitmix64; splitmix64(np.uint64(7)); "
            "s = splitmix64.stats; print(simulator.__file__, sum(s.cache_hits.values()), sum(s.cache_misses.values()))")
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "NUMBA_CACHE_LOCATOR_CLASSES")}
    out = subprocess.run([sys.executable, "-c", code], env=env | {"XDG_CACHE_HOME": str(cache), "PYTHONPATH": str(root)},
                         capture_output=True, text=True, check=True, cwd=root)
    return out.stdout.split()


def test_the_same_sources_installed_elsewhere_load_the_compiled_kernels(tmp_path):
    """The first copy compiles and caches; a second copy of the same sources at another path, with other
    modification times (a reinstall, an editable install), loads that cache; an edited copy does not."""
    first, second, edited = (_copy_of_the_package(tmp_path / name) for name in ("first", "second", "edited"))
    (edited / "simulator" / "kernels" / "rng.py").write_text(
        (edited / "simulator" / "kernels" / "rng.py").read_text() + "\n# edited\n")
    cache = tmp_path / "cache"
    where, hits, misses = _cache_stats(first, cache)
    assert where.startswith(str(first)) and (hits, misses) == ("0", "1")
    where, hits, misses = _cache_stats(second, cache)
    assert where.startswith(str(second)) and (hits, misses) == ("1", "0")
    assert _cache_stats(edited, cache)[1:] == ["0", "1"]
    assert len(list((cache / "remnant" / "numba").iterdir())) == 2  # one keyed folder per distinct source


def test_a_users_own_locators_follow_the_kernels(monkeypatch):
    assert kernel_cache.locator_classes(None).split(",") == [kernel_cache.LOCATOR, *kernel_cache.DEFAULT_LOCATORS]
    mine = "my.module.Locator, InTreeCacheLocator"
    assert kernel_cache.locator_classes(mine) == f"{kernel_cache.LOCATOR},my.module.Locator,InTreeCacheLocator"
    assert kernel_cache.locator_classes(kernel_cache.locator_classes(mine)) == kernel_cache.locator_classes(mine)


WARM_DEMO = """
import json, sys
from simulator.compiled import record, warmup
if sys.argv[1] == "compile":
    warmup.compile_all(warmup.SIGNATURES.read_text().splitlines())
print(json.dumps(record.demo_compiles()))
"""


def test_the_listed_signatures_are_all_a_demo_run_compiles(tmp_path):
    """After ``compile_all`` of signatures.txt into an empty cache, a short demo run compiles no kernel;
    without it, it compiles exactly the listed ones (a changed kernel signature fails here until
    ``simulator.compiled.record`` is run again)."""
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "NUMBA_CACHE_LOCATOR_CLASSES")}
    listed = sorted((Path(kernel_cache.__file__).with_name("signatures.txt")).read_text().splitlines())
    assert listed and all(line.startswith("simulator.kernels.") for line in listed)
    runs = {}
    for name in ("compile", "cold"):
        out = subprocess.run([sys.executable, "-c", WARM_DEMO, name], env=env | {"XDG_CACHE_HOME": str(tmp_path / name)},
                             capture_output=True, text=True, check=True)
        runs[name] = json.loads(out.stdout.splitlines()[-1])
    assert runs["compile"] == []
    assert runs["cold"] == listed


def test_shipped_kernels_seed_an_empty_keyed_folder_only(tmp_path):
    shipped = tmp_path / "shipped"
    source = shipped / (kernel_cache.PREFIX + "k" * 20) / kernel_cache.SUBFOLDER
    source.mkdir(parents=True)
    for name in ("scatter._realization-1.py311.nbi", "scatter._realization-1.py311.1.nbc"):
        (source / name).write_bytes(name.encode())
    folder = tmp_path / "cache" / ("k" * 20)
    folder.mkdir(parents=True)
    assert kernel_cache.seed(folder, shipped) == 2
    copied = sorted(p.name for p in (folder / kernel_cache.SUBFOLDER).iterdir())
    assert copied == sorted(p.name for p in source.iterdir())  # no temporary file left
    assert (folder / kernel_cache.SUBFOLDER / copied[0]).read_bytes() == copied[0].encode()
    assert kernel_cache.seed(folder, shipped) == 0  # kernels there already: never overwritten
    other = tmp_path / "cache" / ("j" * 20)
    other.mkdir()
    assert kernel_cache.seed(other, shipped) == 0 and not (other / kernel_cache.SUBFOLDER).exists()  # another key
    mine = tmp_path / "mine" / (kernel_cache.PREFIX + "k" * 20)  # inside a user's own NUMBA_CACHE_DIR
    mine.mkdir(parents=True)
    assert kernel_cache.seed(mine, shipped) == 2


def test_recording_refuses_a_filled_cache_in_one_line(tmp_path):
    """A kernel loaded from a cache is not compiled, so it would be missing from signatures.txt:
    ``record`` refuses unless the cache is empty (exit 2, one line, the list untouched)."""
    mine = tmp_path / "mine"
    kernels = mine / (kernel_cache.PREFIX + kernel_cache.cache_key()) / kernel_cache.SUBFOLDER
    kernels.mkdir(parents=True)
    (kernels / "scatter._realization-1.py311.nbi").write_bytes(b"")
    listed = Path(kernel_cache.__file__).with_name("signatures.txt")
    before = listed.read_bytes()
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_LOCATOR_CLASSES"} | {"NUMBA_CACHE_DIR": str(mine)}
    done = subprocess.run([sys.executable, "-m", "simulator.compiled.record"], env=env, capture_output=True, text=True)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert "empty kernel cache" in done.stderr and "NUMBA_CACHE_DIR=$(mktemp -d)" in done.stderr
    assert listed.read_bytes() == before
    done = subprocess.run([sys.executable, "-m", "simulator.compiled.warmup", "--bogus"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.strip() == "usage: python -m simulator.compiled.warmup --compile"
