"""The one reader of text files and of CSV/TSV/JSONL tables (optionally gzipped), with one-line errors.

Used by datasets (text and label columns) and by masked-LM corpora (a text column only).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textrobust.errors import DataError, ParameterError
from textrobust.hub import first_line

TABLE_FORMATS = ("csv", "tsv", "jsonl", "json")


def read_text_file(path: Path, what: str = "file") -> str:
    """A UTF-8 text file (optionally gzipped); one-line DataErrors for missing, gzip or encoding problems.

    ``what`` names the file in messages (``dataset file not found: …``).
    """
    if not path.exists():
        raise DataError(f"{what} not found: {path}")
    if path.is_dir():
        raise DataError(f"{what} path is a directory, expected a file: {path}")
    raw = path.read_bytes()
    if path.suffix.lower() == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:  # not gzip, cut short, or damaged inside
            raise DataError(f"{path}: not a valid gzip file ({first_line(exc)})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not UTF-8 text (byte {exc.start}); re-encode it, e.g. iconv -t UTF-8"
        ) from None


def table_format(path: Path) -> str | None:
    """``csv``, ``tsv``, ``jsonl`` or ``json`` from the file name (``.gz`` ignored); None for other files."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    suffix = suffixes[-1].lstrip(".") if suffixes else ""
    return suffix if suffix in TABLE_FORMATS else None


@dataclass(frozen=True)
class Record:
    """One row of a table: its fields and where it is (``file.csv:12``) for error messages."""

    fields: dict[str, Any]
    location: str


def read_records(path: Path, columns: dict[str, str], what: str = "file") -> list[Record]:
    """The rows of a CSV/TSV/JSONL file; every column of ``columns`` (parameter name → column) must exist.

    A missing column is a ``ParameterError`` of the parameter that named it.
    """
    fmt = table_format(path)
    if fmt is None:
        raise DataError(f"{path}: unknown file type; use .csv, .tsv or .jsonl (optionally .gz)")
    content = read_text_file(path, what)
    records: list[Record] = []
    if fmt in ("csv", "tsv"):
        return _read_delimited(path, content, fmt, columns)
    # Only "\n" ends a JSON line: str.splitlines would also cut at U+2028, U+0085 and the like, which a
    # JSON string may hold unescaped.
    for line_number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line, object_pairs_hook=_unique_fields)
        except _RepeatedField as repeated:
            raise DataError(f"{path}:{line_number}: the field '{repeated.name}' is given twice") from None
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{line_number}: invalid JSON ({exc.msg})") from None
        except (ValueError, RecursionError) as exc:  # an integer of over 4,300 digits; nesting too deep
            raise DataError(f"{path}:{line_number}: invalid JSON ({first_line(exc)})") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}:{line_number}: expected a JSON object per line")
        for parameter, column in columns.items():
            if column not in row:
                raise ParameterError(
                    parameter, f"'{column}' is not a field of {path}:{line_number}; fields are {sorted(row)}"
                )
        records.append(Record(row, f"{path}:{line_number}"))
    return records


def _read_delimited(path: Path, content: str, fmt: str, columns: dict[str, str]) -> list[Record]:
    """The rows of a CSV or TSV file's ``content`` (see :func:`read_records`)."""
    # TSV has no quoting (a field cannot hold a tab or a newline), and tweets often begin with a quote
    # mark: reading them as CSV quoting would swallow the lines up to the next quote.
    reader = csv.DictReader(
        io.StringIO(content, newline=""),
        delimiter="\t" if fmt == "tsv" else ",",
        quoting=csv.QUOTE_NONE if fmt == "tsv" else csv.QUOTE_MINIMAL,
    )
    records: list[Record] = []
    try:
        present = reader.fieldnames or []
        repeated = sorted({name for name in present if present.count(name) > 1})
        if repeated:  # csv.DictReader keeps the last column of a name and drops the others silently
            raise DataError(f"{path}: the header names the column '{repeated[0]}' more than once")
        for parameter, column in columns.items():
            if column not in present:
                raise ParameterError(
                    parameter, f"'{column}' is not a column of {path}; columns are {present}"
                )
        for row in reader:
            location = f"{path}:{reader.line_num}"
            if None in row or any(value is None for value in row.values()):
                separated = "tab" if fmt == "tsv" else "comma"
                raise DataError(f"{location}: expected {len(present)} {separated}-separated fields")
            if fmt == "tsv":
                row = {key: _unquote_tsv(value) for key, value in row.items()}
            records.append(Record(dict(row), location))
    except csv.Error as exc:  # e.g. a field over the csv module's size limit
        hint = "; an unclosed quote mark takes in every line after it" if fmt == "csv" else ""
        # The underlying reader's count: the DictReader's own is updated only after a row was read.
        where = f"{path}:{reader.reader.line_num}"
        raise DataError(f"{where}: unreadable {fmt.upper()} ({first_line(exc)}){hint}") from None
    return records


class _RepeatedField(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


def _unique_fields(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's fields; a field given twice (``json`` would keep the last silently) is refused."""
    fields: dict[str, Any] = {}
    for name, value in pairs:
        if name in fields:
            raise _RepeatedField(name)
        fields[name] = value
    return fields


def _unquote_tsv(value: str) -> str:
    """A field a CSV writer quoted (quote marks around it, inner ones doubled) back to its text; any
    other field as it is."""
    if len(value) >= 2 and value[0] == value[-1] == '"' and '"' not in value[1:-1].replace('""', ""):
        return value[1:-1].replace('""', '"')
    return value


def read_lines(path: Path, what: str = "file") -> list[str]:
    """The lines of a plain text file (one document per line)."""
    return read_text_file(path, what).splitlines()


__all__: Sequence[str] = ["Record", "read_lines", "read_records", "read_text_file", "table_format"]
