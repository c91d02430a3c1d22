"""Where numba keeps the compiled kernels: a folder keyed by the kernels' own source and the
versions of numba, llvmlite, numpy and Python, so that no reinstall, upgrade or switch to an
editable install can load a stale kernel or leave cache files that shadow a package (numba
itself checks only a changed function's own file, not the kernels it calls). Inside it, kernels
are found by that key, not by their source's path (``locator``): the same sources
installed elsewhere load the same compiled kernels.

The folder is ``$XDG_CACHE_HOME/remnant/numba/<key>`` (default ``~/.cache``), or
``$NUMBA_CACHE_DIR/remnant-<key>`` when the user points numba's cache elsewhere. Found without
importing numba or ``importlib.metadata`` (both slow to import): versions are read from the
packages' version files.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
import time
from pathlib import Path

DEPENDENCIES = ("numba", "llvmlite", "numpy")
"""Packages whose upgrade can change compiled kernels: their version files are in the key."""

VERSION_FILES = ("_version.py", "version.py")
"""A package's version file, the first of these it has (else its ``__init__.py``)."""

KEEP_DAYS = 30
"""Keyed folders of other versions unused this long are removed (each run touches its own)."""

LOCATOR = "simulator.compiled.locator.KeyedLocator"
"""The locator that finds kernels' cache files by this folder's key, not by their source's path."""

DEFAULT_LOCATORS = ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator",
                    "IPythonCacheLocator", "ZipCacheLocator")
"""numba's own locators, in its order, tried after ``LOCATOR`` for every function that is not a kernel."""

SUBFOLDER = "kernels"
"""The keyed folder's subfolder that holds the kernels' cache files (``locator``)."""

SHIPPED = Path(__file__).with_name("shipped")
"""Keyed folders of kernels compiled while the wheel was built (``warmup``), copied into an empty
keyed folder of the same key on first use; absent from an editable install."""

PREFIX = "remnant-"
"""Name of the keyed folder inside a user's own ``NUMBA_CACHE_DIR``."""


def kernels_folder() -> Path:
    """The folder of ``simulator.kernels``, found without importing it."""
    spec = importlib.util.find_spec("simulator.kernels")
    return Path(next(iter(spec.submodule_search_locations)))


def kernel_sources() -> list[Path]:
    """The source files of ``simulator.kernels``."""
    return sorted(kernels_folder().glob("*.py"))


def dependency_versions() -> list[Path]:
    """The version file of each package of ``DEPENDENCIES`` (found without importing it)."""
    files = []
    for name in DEPENDENCIES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        folder = Path(spec.origin).parent
        files.append(next((folder / f for f in VERSION_FILES if (folder / f).is_file()), Path(spec.origin)))
    return files


def cache_key() -> str:
    """Hash of Python's version, every dependency's version file and every kernel source file."""
    digest = hashlib.sha256(sys.version.encode())
    for path in [*dependency_versions(), *kernel_sources()]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def cache_folder(own: str | None = None) -> Path:
    """The keyed folder: ``$XDG_CACHE_HOME/remnant/numba/<key>``, or ``<own>/remnant-<key>`` inside a
    user's own ``NUMBA_CACHE_DIR`` (``own`` itself when it is a keyed folder already: a worker's, inherited)."""
    key = cache_key()
    if own:
        own_path = Path(own)
        return own_path if own_path.name in (key, PREFIX + key) else own_path / (PREFIX + key)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "remnant" / "numba" / key


def configure() -> None:
    """Point numba's cache at ``cache_folder`` (numba then caches beside the sources, as it does by
    default, if the folder cannot be made), and remove keyed folders of other versions unused for
    ``KEEP_DAYS``. Set as ``NUMBA_CACHE_DIR``, which numba reads when first imported (so ``import
    simulator`` does not import numba) and worker processes inherit."""
    folder = cache_folder(os.environ.get("NUMBA_CACHE_DIR"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.utime(folder)  # last used now
    except OSError:
        return
    seed(folder)
    locators = locator_classes(os.environ.get("NUMBA_CACHE_LOCATOR_CLASSES"))
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    os.environ["NUMBA_CACHE_LOCATOR_CLASSES"] = locators
    if "numba" in sys.modules:  # imported before simulator: tell its config directly
        sys.modules["numba"].config.CACHE_DIR = str(folder)
        sys.modules["numba"].config.CACHE_LOCATOR_CLASSES = locators
    prune(folder)


def locator_classes(own: str | None = None) -> str:
    """numba's list of cache locators: ``locator.KeyedLocator`` first, then a user's own list
    (``own``) or numba's defaults."""
    from_user = [name.strip() for name in (own or "").split(",") if name.strip() and name.strip() != LOCATOR]
    return ",".join([LOCATOR, *(from_user or DEFAULT_LOCATORS)])


def seed(folder: Path, shipped: Path = SHIPPED) -> int:
    """Copy into ``folder`` the kernels shipped with the same key, when it has no kernel yet; return
    how many files were copied. Each file is written under a temporary name and renamed, so a process
    that reads the folder meanwhile sees a file whole or not at all."""
    source = shipped / (PREFIX + folder.name.removeprefix(PREFIX)) / SUBFOLDER
    target = folder / SUBFOLDER
    if not source.is_dir() or any(target.glob("*.nbi")):
        return 0
    copied = 0
    try:
        target.mkdir(exist_ok=True)
        for path in source.iterdir():
            partial = target / f".{path.name}.{os.getpid()}"
            shutil.copyfile(path, partial)
            os.replace(partial, target / path.name)
            copied += 1
    except OSError:  # a read-only or full disk: the kernels are compiled on first use instead
        pass
    return copied


def prune(current: Path, now: float | None = None) -> list[Path]:
    """Remove the keyed folders beside ``current`` unused for ``KEEP_DAYS``; return them."""
    old = (now or time.time()) - KEEP_DAYS * 86400
    pattern = PREFIX + "*" if current.name.startswith(PREFIX) else "?" * len(current.name)
    removed = []
    for folder in current.parent.glob(pattern):
        try:
            if folder != current and folder.is_dir() and folder.stat().st_mtime < old:
                shutil.rmtree(folder)
                removed.append(folder)
        except OSError:  # another process removed or uses it
            continue
    return removed
