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
        where = ": ".join(part for part in (self.file, self.field) if part)
        value = _short(self.value)
        problem = f" {self.problem}" if self.problem else ""
        head = f"{where}: " if where else ""
        return f"{head}{value}{problem}; {self.fix}" if value else f"{head}{problem.strip()}; {self.fix}"


def _short(value: object, limit: int = 80) -> str:
    if value is None or value == "":
        return ""
    text = repr(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
