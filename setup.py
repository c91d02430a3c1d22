"""Build hook: the wheel ships the demo's kernels compiled (simulator/compiled/warmup.py says why).

Everything else about the package is in pyproject.toml. An editable install compiles on first use.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPy(build_py):
    """``build_py``, then the kernels of ``simulator/compiled/signatures.txt`` compiled into the
    package's ``compiled/shipped`` folder; if that fails the wheel is built without them."""

    def run(self):
        super().run()
        if self.editable_mode:
            return
        lib = Path(self.build_lib).resolve()
        shipped = lib / "simulator" / "compiled" / "shipped"
        shutil.rmtree(shipped, ignore_errors=True)  # an earlier build's, of other sources
        env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_LOCATOR_CLASSES", "PYTHONPATH")}
        env |= {"PYTHONPATH": str(lib), "NUMBA_CACHE_DIR": str(shipped)}
        done = subprocess.run([sys.executable, "-m", "simulator.compiled.warmup", "--compile"], cwd=lib, env=env,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            self.warn("the kernels were not compiled into the wheel; a first run compiles them: "
                      + (done.stderr.strip().splitlines() or ["no message"])[-1])


setup(cmdclass={"build_py": BuildPy})
