"""Where numba keeps the compiled kernels: a user cache folder keyed by the kernels' own source
and numba's version, so that no reinstall, upgrade or switch to an editable install can load a
stale kernel or leave cache files that shadow a package (numba itself checks only a changed
function's own file, not the kernels it calls)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from importlib import metadata
from pathlib import Path


def kernel_sources() -> list[Path]:
    """The source files of ``simulator.kernels``, found without importing it."""
    spec = importlib.util.find_spec("simulator.kernels")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return sorted(folder.glob("*.py"))


def cache_folder() -> Path:
    """``$XDG_CACHE_HOME/remnant/numba/<key>`` (default ``~/.cache``); the key hashes numba's
    version and every kernel source file."""
    digest = hashlib.sha256(metadata.version("numba").encode())
    for path in kernel_sources():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "remnant" / "numba" / digest.hexdigest()[:20]


def configure() -> None:
    """Point numba's cache at ``cache_folder()`` unless the user set ``NUMBA_CACHE_DIR``, or the
    folder cannot be made (numba then caches beside the sources, as it does by default). Set as
    ``NUMBA_CACHE_DIR``, which numba reads when first imported (so ``import simulator`` does not
    import numba) and worker processes inherit."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    folder = cache_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    if "numba" in sys.modules:  # imported before simulator: tell its config directly
        sys.modules["numba"].config.CACHE_DIR = str(folder)
