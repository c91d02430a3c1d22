"""Where numba finds a kernel's cache files: in the keyed folder of ``cache``, under the
kernel's module and function name, valid for any copy of the same sources wherever it is installed.

numba's own locators key a cached function by its source file's path and modification time, so
the same sources installed in another place (an editable install after ``pip install .``, a
reinstall, another virtual environment) compile everything again. The keyed folder already hashes
every kernel source and the versions of numba, llvmlite, numpy and Python, so its name is the stamp
that says whether a cache file is current. numba imports this module itself, when it first caches a
function, through ``NUMBA_CACHE_LOCATOR_CLASSES`` (numba 0.68 and later; older numba uses its
own locators inside the keyed folder).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from numba.core import caching, config

from simulator.compiled.cache import PREFIX, SUBFOLDER, kernels_folder


@functools.cache
def _kernels() -> Path:
    """``cache.kernels_folder`` resolved, found once per process."""
    return kernels_folder().resolve()


class KeyedLocator(caching._CacheLocator):
    """Cache files of a function of ``simulator.kernels`` in ``<keyed folder>/kernels``, stamped with
    the folder's key (the same whether the folder is ``<key>`` or, in a user's own cache, ``remnant-<key>``)."""

    def __init__(self, py_func, cache_dir: str):
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = os.path.join(cache_dir, SUBFOLDER)
        self._stamp = os.path.basename(os.path.normpath(cache_dir)).removeprefix(PREFIX)

    def get_cache_path(self) -> str:
        return self._cache_path

    def get_source_stamp(self) -> str:
        return self._stamp

    def get_disambiguator(self) -> str:
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file):
        """A locator for a kernel when numba's cache folder is set, else None (numba's own are tried)."""
        if not config.CACHE_DIR or Path(py_file).resolve().parent != _kernels():
            return None
        locator = cls(py_func, config.CACHE_DIR)
        try:
            locator.ensure_cache_path()
        except OSError:
            return None
        return locator
