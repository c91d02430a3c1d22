"""Strings from users' files, made safe to write into XML and CSV outputs.

Scenario and data files are not trusted to be harmless: a class name or a land-use value may
hold markup or a spreadsheet formula. XML attributes are escaped (and characters XML 1.0
cannot hold replaced); CSV text cells that a spreadsheet would run as a formula get a leading
apostrophe, as OWASP advises for CSV injection
(https://owasp.org/www-community/attacks/CSV_Injection). Numeric cells are left as numbers.
SQL is never built from strings: values go in as parameters (see ``styles.store_in_geopackage``).
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP's list)."""

FLOAT_FORMAT = "%.6g"
"""How floats are written in every CSV output."""

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot hold, even escaped."""


def xml_attr(text: str) -> str:
    """``text`` as a quoted XML attribute value: ``&``, ``<``, ``>`` and quotes escaped."""
    return quoteattr(_NOT_XML.sub("\ufffd", str(text)))  # also escapes line breaks and tabs


def xml_text(text: str) -> str:
    """``text`` as XML element content: ``&``, ``<`` and ``>`` escaped."""
    return escape(_NOT_XML.sub("\ufffd", str(text)))


def csv_cell(value: object) -> object:
    """``value``, with a leading apostrophe if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralised(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` whose text cells and column names cannot run as spreadsheet formulas."""
    safe = table.rename(columns=csv_cell)
    for name in safe.columns:
        column = safe[name]
        if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column)
                or pd.api.types.is_timedelta64_dtype(column)):
            safe[name] = column.astype(object).map(csv_cell)
    return safe


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """Write ``table`` as CSV with text cells neutralised and numbers as they are."""
    neutralised(table).to_csv(path, index=False, float_format=FLOAT_FORMAT)
