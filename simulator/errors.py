"""The one error type users see: a bad input, told in one line with what to do."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """A bad input: which file, which field, which value, and the fix.

    The CLI prints ``str(error)`` as one line and exits with code 2.
    """

    def __init__(self, file: str | Path | None, field: str | None, value: object, fix: str, problem: str = ""):
        self.file = str(file) if file is not None else None
        self.field = field
        self.value = value
        self.fix = fix
        self.problem = problem
        super().__init__(self.line())

    def line(self) -> str:
        """``file: field: value problem; fix`` with the empty parts left out."""
        what = " ".join(part for part in (_short(self.value), self.problem.strip().rstrip(";:")) if part)
        parts = [part for part in (self.file, self.field, what) if part]
        if not parts:
            return self.fix
        return f"{': '.join(parts)}{'; ' if what else ': '}{self.fix}"


def _short(value: object, limit: int = 80) -> str:
    if value is None or value == "":
        return ""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
