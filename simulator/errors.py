"""The one error type users see: a bad input, told in one line with what to do."""

from __future__ import annotations

import math
from pathlib import Path


class InputError(Exception):
    """A bad input: which file, which field, which value, and the fix.

    The CLI prints ``line()`` as one line and exits with code 2. ``more`` holds further
    problems of the same file (one line each), when a file is checked as a whole.
    """

    def __init__(self, file: str | Path | None, field: str | None, value: object, fix: str, problem: str = "",
                 more: tuple[str, ...] = ()):
        self.file = str(file) if file is not None else None
        self.field = field
        self.value = value
        self.fix = fix
        self.problem = problem
        self.more = tuple(one_line(line) for line in more)
        super().__init__(self.line())

    def line(self) -> str:
        """``file: field: value problem; fix`` with the empty parts left out, always one line."""
        what = " ".join(part for part in (_short(self.value), self.problem.strip().rstrip(";:")) if part)
        parts = [part for part in (self.file, self.field, what) if part]
        if not parts:
            return one_line(self.fix)
        return one_line(f"{': '.join(parts)}{'; ' if what else ': '}{self.fix}")


class InputWarning(UserWarning):
    """Something in the inputs a run survives but the user should hear of; the CLI shows it in one line."""


class LocatedError(ValueError):
    """A cross-field error found by a validator, located at one field below the validated model.

    ``loc`` is relative to the model whose validator raised it (``()`` for the model itself); the
    loader prefixes the model's own location. ``value`` is the offending value (None: not shown),
    ``problem`` what is wrong with it and ``fix`` what to do.
    """

    def __init__(self, loc: tuple, value: object, fix: str, problem: str = ""):
        self.loc = tuple(loc)
        self.value = value
        self.fix = fix
        self.problem = problem
        super().__init__(fix)


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters shown as escapes, so it stays one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _short(value: object, limit: int = 80) -> str:
    if value is None or (isinstance(value, str) and value == ""):
        return ""
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, int) and abs(value) >= 10**limit:
        text = f"an integer of {math.floor(math.log10(abs(value))) + 1} digits"
    elif isinstance(value, str):
        text = repr(value)
    else:
        try:
            text = str(value)
        except ValueError:  # e.g. a list holding an integer too long to print
            text = f"a {type(value).__name__}"
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
