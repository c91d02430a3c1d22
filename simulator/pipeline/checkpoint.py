"""Checkpoints of a long run, so that ``remnant run --resume`` finishes it after an interruption.

A checkpoint folder sits beside the output folder (``.<name>.checkpoint``) and holds the
ensemble's integer accumulators for the realizations done, and the land-release state of
those done in the second pass. Files are replaced atomically, so a run killed while saving
leaves the previous checkpoint. Resuming continues with the same random streams, so the
outputs are identical to an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import fields
from pathlib import Path

import numpy as np

from simulator.engine.ensemble import Ensemble


class Checkpoint:
    """The checkpoint folder of the run writing to ``target``, tied to one scenario hash."""

    def __init__(self, target: Path, identity: dict):
        self.folder = target.parent / f".{target.name}.checkpoint"
        self.identity = identity

    def exists(self) -> bool:
        return (self.folder / "identity.json").is_file()

    def matches(self) -> bool:
        """Whether the checkpoint was made by the same scenario, seed and realizations."""
        if not self.exists():
            return False
        return json.loads((self.folder / "identity.json").read_text()) == self.identity

    def start(self) -> None:
        """A fresh checkpoint folder for this run."""
        self.clear()
        self.folder.mkdir(parents=True)
        self._replace("identity.json", lambda path: path.write_text(json.dumps(self.identity, indent=2)))

    def save_ensemble(self, ensemble: Ensemble) -> None:
        arrays = {f.name: np.asarray(getattr(ensemble, f.name)) for f in fields(Ensemble)}
        self._replace("ensemble.npz", lambda path: np.savez(path, **arrays))

    def load_ensemble(self) -> Ensemble | None:
        path = self.folder / "ensemble.npz"
        if not path.is_file():
            return None
        with np.load(path) as data:
            return Ensemble(**{f.name: data[f.name] for f in fields(Ensemble)} | {"realizations": int(data["realizations"])})

    def save_release(self, state: np.ndarray, done: int) -> None:
        self._replace("release.npz", lambda path: np.savez(path, state=state[:done]))

    def load_release(self) -> np.ndarray | None:
        path = self.folder / "release.npz"
        if not path.is_file():
            return None
        with np.load(path) as data:
            return data["state"]

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def clear_release(self) -> None:
        """Forget the land-release state (its plan changed)."""
        (self.folder / "release.npz").unlink(missing_ok=True)

    def _replace(self, name: str, write) -> None:
        temporary = self.folder / f"{name}.tmp.npz" if name.endswith(".npz") else self.folder / f"{name}.tmp"
        write(temporary)
        os.replace(temporary, self.folder / name)
