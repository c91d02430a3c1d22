"""Reporting steps in time, and the epochs at which strikes add contamination."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from simulator.config.scenario import TimeAxis

DAYS_PER_YEAR = 365.25
"""Mean days per year (Julian), for years from day counts."""


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the last day of a shorter month."""
    return (pd.Timestamp(day) + pd.DateOffset(months=months)).date()


@dataclass(frozen=True)
class TimeSteps:
    """Reporting dates ``start, start + step, ...`` up to ``end``; step k reports the state on its date."""

    dates: tuple[date, ...]

    @classmethod
    def from_axis(cls, axis: TimeAxis) -> TimeSteps:
        dates = [axis.start]
        while dates[-1] < axis.end:
            dates.append(min(add_months(axis.start, len(dates) * axis.step_months), axis.end))
        return cls(tuple(dates))

    def __len__(self) -> int:
        return len(self.dates)

    def step_of(self, day: date) -> int:
        """The first step whose date is on or after ``day`` (a strike shows from that step on)."""
        return next(k for k, d in enumerate(self.dates) if d >= day)


def epoch_of_step(epoch_steps: np.ndarray, n_steps: int) -> np.ndarray:
    """Per reporting step, the index of the last epoch at or before it (-1 before the first)."""
    return np.searchsorted(epoch_steps, np.arange(n_steps), side="right") - 1
