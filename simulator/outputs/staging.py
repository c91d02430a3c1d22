"""The output folder's life: checked before work, locked while a run owns it, written all or nothing.

A run writes into a hidden staging folder beside the target (``.<name>.partial-<pid>-...``)
and moves it into place at the end, so an interrupted run leaves the previous outputs as they
were. While a run owns a target it holds ``.<name>.lock`` (an advisory ``flock``), so a
second run into the same folder is refused; the lock goes with the process, so a killed run
never blocks the next one, which removes the staging folders the killed one left. Folders and
files get the user's umask (e.g. 755 and 644 under umask 022). GeoPackages get fixed
timestamps, so identical runs write identical bytes.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from simulator.errors import InputError

FIXED_TIME_ENV = "SOURCE_DATE_EPOCH"
"""Seconds since 1970 to stamp GeoPackages with (the reproducible-builds convention); default 0."""

STALE_PATTERNS = (".{name}.partial-*", ".{name}.old-*")
"""Folders a killed run leaves beside its target; removed by the next run that holds the lock."""

_HELD: dict[Path, "OutputLock"] = {}
"""Locks this process holds, by target: re-entrant within a process."""


def check_writable(target: Path, overwrite: bool, field: str = "--out") -> None:
    """Refuse, before any work, to replace a run without ``overwrite`` or to write where nothing can be."""
    try:
        exists = target.exists()
        is_dir = target.is_dir()
    except OSError as exc:
        raise InputError(None, field, str(target), "choose a shorter or valid folder path",
                         problem=f"cannot be used ({(exc.strerror or str(exc)).lower()});") from None
    if exists and not overwrite:
        raise InputError(None, field, str(target), "pass --overwrite to replace it, or choose another --out",
                         problem="already holds outputs;")
    if exists and not is_dir:
        raise InputError(None, field, str(target), "choose a folder path for --out", problem="is a file;")
    if len(target.name.encode()) > _name_max(target) - len(".partial-0000000-xxxxxxxx.") - 1:
        raise InputError(None, field, str(target), "choose a shorter folder name",
                         problem=f"has a name of {len(target.name.encode())} bytes, too long to stage beside it;")
    ancestor = target.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(None, field, str(target), "choose a path whose parent folders are folders",
                         problem=f"lies under {ancestor}, which is a file;")
    try:  # a real probe: permissions, read-only and virtual file systems (/proc) all show here
        os.rmdir(tempfile.mkdtemp(prefix=".remnant-probe-", dir=ancestor))
    except OSError as exc:
        raise InputError(None, field, str(target), "choose a folder you may write to",
                         problem=f"cannot be written: {ancestor}: {(exc.strerror or str(exc)).lower()};") from None
    holder = _held_elsewhere(target)
    if holder:
        raise InputError(None, field, str(target), "wait for that run to finish, or choose another --out",
                         problem=f"is being written by another run ({holder});")


def _name_max(target: Path) -> int:
    folder = target.parent
    while not folder.exists():
        folder = folder.parent
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


class OutputLock:
    """The advisory lock of one target folder, held by this process until ``release``."""

    def __init__(self, target: Path):
        self.target = target
        self.path = target.parent / f".{target.name}.lock"
        self.fd: int | None = None
        self.on_release: list[Callable[[], None]] = []

    def acquire(self) -> None:
        """Take the lock or raise InputError naming the run that holds it."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise InputError(None, "--out", str(self.target), "wait for that run to finish, or choose another --out",
                                 problem=f"is being written by another run ({holder});") from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:  # the previous holder removed it as we opened it
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"process {os.getpid()}\n".encode())
        self.fd = fd

    def release(self) -> None:
        for action in self.on_release:
            with contextlib.suppress(OSError):
                action()
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            os.close(self.fd)
            self.fd = None
        _HELD.pop(self.target, None)


def hold(target: Path) -> OutputLock:
    """The lock of ``target``, taken now unless this process holds it; stale staging folders removed."""
    target = Path(os.path.abspath(target))
    if target in _HELD:
        return _HELD[target]
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = OutputLock(target)
    lock.acquire()
    _HELD[target] = lock
    for pattern in STALE_PATTERNS:
        for stale in target.parent.glob(pattern.format(name=_glob_escape(target.name))):
            shutil.rmtree(stale, ignore_errors=True)
    return lock


def release_all() -> None:
    """Give up every lock this process holds (the command line does this as it exits)."""
    for lock in list(_HELD.values()):
        lock.release()


atexit.register(release_all)


def _held_elsewhere(target: Path) -> str:
    """Who holds ``target``'s lock, if another process does; "" if nobody does."""
    target = Path(os.path.abspath(target))
    path = target.parent / f".{target.name}.lock"
    if target in _HELD or not path.exists():
        return ""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return ""
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_holder(fd)
    finally:
        os.close(fd)
    return ""


def _read_holder(fd: int) -> str:
    with contextlib.suppress(OSError):
        return os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown process"
    return "unknown process"


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def umask() -> int:
    """This process's umask (read without changing it for longer than a call)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def fixed_timestamp() -> str:
    """The time GeoPackages are stamped with: ``SOURCE_DATE_EPOCH`` (seconds), default 1970-01-01."""
    try:
        seconds = int(os.environ.get(FIXED_TIME_ENV, "0"))
    except ValueError:
        seconds = 0
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@contextmanager
def staged_directory(target: Path, overwrite: bool) -> Iterator[Path]:
    """A fresh folder that replaces ``target`` only when the block completes; ``target`` locked meanwhile."""
    check_writable(target, overwrite)
    owner = Path(os.path.abspath(target)) not in _HELD  # else a checkpoint of this run holds the lock
    lock = hold(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-{os.getpid()}-", dir=target.parent))
    stamp = fixed_timestamp()
    import pyogrio  # deferred: its import costs 0.3 s (it imports geopandas), and commands that stage nothing need not

    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    try:
        os.chmod(staging, 0o777 & ~umask())
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": stamp})
        yield staging
        for gpkg in staging.glob("*.gpkg"):
            stamp_geopackage(gpkg, stamp)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if owner:
            lock.release()
        raise
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})
    if target.exists():
        retired = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(retired)
        staging.rename(target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        staging.rename(target)
    if owner:
        lock.release()


def stamp_geopackage(path: Path, stamp: str) -> None:
    """Set every timestamp of a GeoPackage's tables to ``stamp``, so that identical runs give identical bytes."""
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        db.execute("UPDATE gpkg_contents SET last_change = ?", (stamp,))
        if "layer_styles" in tables:
            columns = {row[1] for row in db.execute("PRAGMA table_info(layer_styles)")}
            if "update_time" in columns:
                db.execute("UPDATE layer_styles SET update_time = ?", (stamp,))

