"""Checkpoints of a long run, so that ``remnant run --resume`` finishes it after an interruption.

A checkpoint folder sits beside the output folder (``.<name>.checkpoint``) and holds the
ensemble's integer accumulators for the realizations done, and what land release keeps of
those done in the second pass, one file per part (so saving is incremental). Files are replaced atomically, so a run killed while saving
leaves the previous checkpoint. Resuming continues with the same random streams, so the
outputs are identical to an uninterrupted run. A checkpoint holds the output folder's lock
while its run lasts (a second run into the same folder is refused), and a checkpoint no
resume can use (no realization saved, or damaged) is removed when its run ends or the next
run starts.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from dataclasses import fields
from pathlib import Path

import numpy as np

from simulator.engine.ensemble import Ensemble
from simulator.errors import InputError
from simulator.outputs.staging import hold
from simulator.release.bands import ExactBands
from simulator.release.land_release import ReleaseSums

IDENTITY = "identity.json"
ENSEMBLE = "ensemble.npz"
RELEASE_PART = "release-"
"""Files holding saved work: the ensemble, and one file per part of the land release named by
its first realization; a checkpoint with none has nothing to resume."""
_DAMAGED = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)


class Checkpoint:
    """The checkpoint folder of the run writing to ``target``, tied to one scenario hash.

    Creating one takes the lock of ``target`` (InputError if another run holds it) and removes
    a left-over checkpoint that no resume can use.
    """

    def __init__(self, target: Path, identity: dict):
        self.folder = target.parent / f".{target.name}.checkpoint"
        self.identity = identity
        self.lock = hold(target)
        self.lock.on_release.append(self.discard_if_useless)
        self.discard_if_useless()

    def exists(self) -> bool:
        return (self.folder / IDENTITY).is_file()

    def matches(self) -> bool:
        """Whether the checkpoint was made by the same scenario, seed and realizations."""
        if not self.exists():
            return False
        try:
            return json.loads((self.folder / IDENTITY).read_text()) == self.identity
        except (OSError, ValueError):
            return False

    def has_progress(self) -> bool:
        return (self.folder / ENSEMBLE).is_file() or bool(self.release_parts())

    def start(self) -> None:
        """A fresh checkpoint folder for this run."""
        self.clear(keep_lock=True)
        self.folder.mkdir(parents=True)
        self._replace(IDENTITY, lambda path: path.write_text(json.dumps(self.identity, indent=2)))

    def save_ensemble(self, ensemble: Ensemble) -> None:
        arrays = {f.name: np.asarray(getattr(ensemble, f.name)) for f in fields(Ensemble)}
        self._replace(ENSEMBLE, lambda path: np.savez(path, **arrays))

    def load_ensemble(self) -> Ensemble | None:
        path = self.folder / ENSEMBLE
        if not path.is_file():
            return None
        try:
            with np.load(path) as data:
                return Ensemble(**{f.name: data[f.name] for f in fields(Ensemble)}
                                | {"realizations": int(data["realizations"])})
        except _DAMAGED as exc:
            raise self._damaged(path, exc) from None

    def save_release(self, part: ReleaseSums, first: int) -> None:
        """Save the land release of realizations ``first ..`` (one file per part: earlier parts stay as written)."""
        bands = part.bands.folded()
        arrays = {"first": first, "shape": bands.shape, "units": bands.units, "n": bands.n, "keys": bands.keys,
                  "counts": bands.counts, "final": part.final,
                  "completion": part.completion}
        if part.state is not None:
            arrays["state"] = part.state
        if part.deadline is not None:
            arrays["deadline"] = part.deadline
        self._replace(f"{RELEASE_PART}{first:012d}.npz", lambda path: np.savez(path, **arrays))

    def load_release(self) -> list[ReleaseSums]:
        """The saved parts of the land release, in realization order (empty: none)."""
        parts, have = [], 0
        for path in self.release_parts():
            try:
                with np.load(path) as data:
                    if int(data["first"]) != have:
                        raise ValueError(f"a part starts at realization {int(data['first'])}, not {have}")
                    bands = ExactBands(tuple(int(v) for v in data["shape"]), data["units"], int(data["n"]),
                                       data["keys"], data["counts"])
                    parts.append(ReleaseSums(bands, data["final"], data["completion"],
                                             data["state"] if "state" in data.files else None,
                                             data["deadline"] if "deadline" in data.files else None))
            except _DAMAGED as exc:
                raise self._damaged(path, exc) from None
            have += len(parts[-1])
        return parts

    def release_parts(self) -> list[Path]:
        return sorted(self.folder.glob(f"{RELEASE_PART}*[0-9].npz"))

    def clear(self, keep_lock: bool = False) -> None:
        """Remove the checkpoint folder; give up the output folder's lock unless ``keep_lock``."""
        shutil.rmtree(self.folder, ignore_errors=True)
        if not keep_lock:
            self.lock.release()

    def discard_if_useless(self) -> None:
        """Remove the folder if no resume can use it: no identity, unreadable identity, or no saved work."""
        if not self.folder.exists():
            return
        try:
            json.loads((self.folder / IDENTITY).read_text())
            useless = not self.has_progress()
        except (OSError, ValueError):
            useless = True
        if useless:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _damaged(self, path: Path, exc: Exception) -> InputError:
        shutil.rmtree(self.folder, ignore_errors=True)
        detail = " ".join(str(exc).split())[:120] or type(exc).__name__
        return InputError(path, "--resume", None, "run without --resume to start afresh (the damaged checkpoint is removed)",
                          problem=f"the checkpoint is damaged ({detail});")

    def clear_release(self) -> None:
        """Forget the land-release state (its plan changed)."""
        for path in self.release_parts():
            path.unlink(missing_ok=True)

    def _replace(self, name: str, write) -> None:
        temporary = self.folder / f"{name}.tmp.npz" if name.endswith(".npz") else self.folder / f"{name}.tmp"
        write(temporary)
        os.replace(temporary, self.folder / name)
