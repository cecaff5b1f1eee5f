"""Reading official CMS / X12 files: header detection, CMS date formats, and the imported-store location."""

import csv
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

from billing.settings import Settings

TABLE_SUFFIXES = {".csv", ".txt", ".tsv"}
_NO_DATE = {"", "*", "NA", "N/A", "9999-12-31", "99991231", "12/31/9999"}
_RELEASE = re.compile(r"(20\d\d)[ _-]?q([1-4])", re.IGNORECASE)
# How many leading lines may hold copyright notices before the header row of a CMS file.
_MAX_PREAMBLE_LINES = 60


def knowledge_store(settings: Settings) -> Path:
    """Where imports of official files are persisted: <data_dir>/knowledge."""
    return settings.data_dir / "knowledge"


def header_key(name: str) -> str:
    """Compare headers loosely: "Column 1" / "column_1" / " COLUMN  1 " -> "column 1"."""
    return " ".join(name.replace("_", " ").lower().split())


def parse_cms_date(text: str | None) -> date | None:
    """CMS/X12 dates: YYYYMMDD, YYYY-MM-DD or MM/DD/YYYY; "*", blank and 9999-12-31 mean none."""
    value = (text or "").strip()
    if value.upper() in _NO_DATE:
        return None
    for pattern in ("%Y%m%d", "%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"not a CMS date: {value!r}")


def release_label(paths: list[Path], fallback: str) -> str:
    """A quarter label such as "2024Q3" taken from the file names or the fallback (the folder name)."""
    for name in [*(path.name for path in paths), fallback]:
        found = _RELEASE.search(name)
        if found:
            return f"{found.group(1)}Q{found.group(2)}"
    return fallback


def table_files(src_dir: Path) -> list[Path]:
    return sorted(p for p in src_dir.iterdir() if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES)


def read_table(path: Path, is_header: Callable[[list[str]], bool]) -> Iterator[dict[str, str]] | None:
    """Rows keyed by header_key() names, after any preamble; None when no line looks like the header."""
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    lines = text.splitlines()
    for index, line in enumerate(lines[:_MAX_PREAMBLE_LINES]):
        delimiter = "\t" if "\t" in line else ","
        cells = next(csv.reader([line], delimiter=delimiter), [])
        keys = [header_key(cell) for cell in cells]
        if keys and is_header(keys):
            reader = csv.reader(lines[index + 1 :], delimiter=delimiter)
            return (
                {key: value.strip() for key, value in zip(keys, row, strict=False)}
                for row in reader
                if any(cell.strip() for cell in row)
            )
    return None


def replace_database(path: Path, build: Callable[[sqlite3.Connection], None]) -> None:
    """Build a SQLite file beside its final place and swap it in, so readers never see half an import."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    with sqlite3.connect(partial) as connection:
        build(connection)
    connection.close()
    os.replace(partial, path)


def open_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
