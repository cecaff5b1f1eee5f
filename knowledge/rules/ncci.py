"""Medicare NCCI edits: procedure-to-procedure pairs and practitioner MUEs, from a CMS import or curated."""

import sqlite3
from datetime import date
from pathlib import Path

from pydantic import BaseModel

from billing.settings import Settings
from knowledge.data import read_yaml
from knowledge.official_files import (
    knowledge_store,
    open_read_only,
    parse_cms_date,
    read_table,
    release_label,
    replace_database,
    table_files,
)

NCCI_DB = "ncci.sqlite"
CURATED_FILE = "ncci_eye.yaml"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE ptp (column_1 TEXT NOT NULL, column_2 TEXT NOT NULL, effective TEXT, deletion TEXT,
                  modifier_indicator INTEGER NOT NULL, rationale TEXT NOT NULL, source TEXT NOT NULL,
                  UNIQUE (column_1, column_2, effective, deletion, modifier_indicator));
CREATE INDEX ptp_pair ON ptp (column_1, column_2);
CREATE TABLE mue (code TEXT PRIMARY KEY, units INTEGER NOT NULL, mai INTEGER, rationale TEXT NOT NULL,
                  source TEXT NOT NULL);
"""


class PtpEdit(BaseModel):
    column_1: str
    column_2: str
    modifier_indicator: int
    effective: date | None
    deletion: date | None
    rationale: str
    source: str


class MueLimit(BaseModel):
    code: str
    units: int
    mai: int | None
    rationale: str
    source: str


class NcciTables:
    """PTP and MUE look-ups over one SQLite store (the imported file, or the curated YAML in memory)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        row = connection.execute("SELECT value FROM meta WHERE key = 'source'").fetchone()
        self.source: str = row[0] if row else "curated"

    def ptp(self, code_a: str, code_b: str, on: date) -> PtpEdit | None:
        """The edit in force on that date for the pair, in either order; None when none (or it is void).

        The public CMS extracts lack effective dates, so when several rows of one pair are open on the date,
        the one deleted soonest after it is the one in force (a replacement row starts when it ends).
        """
        a, b = code_a.strip().upper(), code_b.strip().upper()
        rows = self._db.execute(
            "SELECT column_1, column_2, modifier_indicator, effective, deletion, rationale, source FROM ptp"
            " WHERE ((column_1 = ? AND column_2 = ?) OR (column_1 = ? AND column_2 = ?))"
            " AND (effective IS NULL OR effective <= ?) AND (deletion IS NULL OR deletion > ?)"
            " ORDER BY deletion IS NULL, deletion LIMIT 1",
            (a, b, b, a, on.isoformat(), on.isoformat()),
        ).fetchall()
        if not rows:
            return None
        column_1, column_2, indicator, effective, deletion, rationale, source = rows[0]
        if indicator == 9:
            return None
        return PtpEdit(
            column_1=column_1,
            column_2=column_2,
            modifier_indicator=indicator,
            effective=date.fromisoformat(effective) if effective else None,
            deletion=date.fromisoformat(deletion) if deletion else None,
            rationale=rationale,
            source=source,
        )

    def mue(self, code: str, on: date) -> MueLimit | None:
        """The practitioner MUE of the loaded release (one quarter is held, so `on` does not select yet)."""
        row = self._db.execute(
            "SELECT code, units, mai, rationale, source FROM mue WHERE code = ?", (code.strip().upper(),)
        ).fetchone()
        if row is None:
            return None
        return MueLimit(code=row[0], units=row[1], mai=row[2], rationale=row[3], source=row[4])

    def counts(self) -> dict[str, int]:
        return {
            "ptp": self._db.execute("SELECT count(*) FROM ptp").fetchone()[0],
            "mue": self._db.execute("SELECT count(*) FROM mue").fetchone()[0],
        }


def _is_ptp_header(keys: list[str]) -> bool:
    return "column 1" in keys and "column 2" in keys


def _is_mue_header(keys: list[str]) -> bool:
    return any(key in {"hcpcs code", "hcpcs/cpt code"} for key in keys) and any("mue" in key for key in keys)


def _field(row: dict[str, str], *prefixes: str) -> str:
    """The value of the first column whose name starts with one of the prefixes (CMS headers are long)."""
    for prefix in prefixes:
        for key, value in row.items():
            if key.startswith(prefix):
                return value
    return ""


def _ptp_rows(path: Path, source: str) -> list[tuple]:
    rows = read_table(path, _is_ptp_header)
    out: list[tuple] = []
    for row in rows or ():
        indicator = _field(row, "modifier")
        if not indicator[:1].isdigit():
            continue
        effective = parse_cms_date(_field(row, "effective"))
        deletion = parse_cms_date(_field(row, "deletion"))
        out.append(
            (
                row["column 1"].upper(),
                row["column 2"].upper(),
                effective.isoformat() if effective else None,
                deletion.isoformat() if deletion else None,
                int(indicator[0]),
                _field(row, "ptp edit rationale", "rationale"),
                source,
            )
        )
    return out


def _mue_rows(path: Path, source: str) -> list[tuple]:
    """Practitioner MUEs only: CMS publishes DME and facility tables in the same layout."""
    rows = read_table(path, _is_mue_header)
    out: list[tuple] = []
    for row in rows or ():
        units = _field(row, "practitioner services mue values", "mue units")
        if not units.isdigit() or not row.get("mue service", "practitioner").lower().startswith(
            "practitioner"
        ):
            continue
        adjudication = _field(row, "mue adjudication indicator", "mue mai")
        out.append(
            (
                _field(row, "hcpcs/cpt code", "hcpcs code").upper(),
                int(units),
                int(adjudication[0]) if adjudication[:1].isdigit() else None,
                _field(row, "mue rationale"),
                source,
            )
        )
    return out


def import_ncci(src_dir: Path, dest: Path) -> NcciTables:
    """Read CMS PTP and MUE files (the shared CSV extracts or the raw CMS layouts) into dest/ncci.sqlite."""
    files = table_files(src_dir)
    label = release_label(files, src_dir.name)
    source = f"CMS NCCI practitioner {label}"
    ptp: list[tuple] = []
    mue: list[tuple] = []
    used: list[str] = []
    for path in files:
        found_ptp = _ptp_rows(path, source)
        found_mue = [] if found_ptp else _mue_rows(path, source)
        ptp.extend(found_ptp)
        mue.extend(found_mue)
        if found_ptp or found_mue:
            used.append(path.name)
    if not ptp and not mue:
        raise ValueError(f"no NCCI PTP or practitioner MUE table found in {src_dir}")

    def build(connection: sqlite3.Connection) -> None:
        connection.executescript(_SCHEMA)
        connection.executemany("INSERT OR IGNORE INTO ptp VALUES (?, ?, ?, ?, ?, ?, ?)", ptp)
        connection.executemany("INSERT OR REPLACE INTO mue VALUES (?, ?, ?, ?, ?)", mue)
        connection.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("source", f"CMS import {label}"), ("files", ", ".join(used))],
        )

    replace_database(dest / NCCI_DB, build)
    return NcciTables(open_read_only(dest / NCCI_DB))


def curated_ncci() -> NcciTables:
    """The eye-care pairs and MUEs of knowledge/data/ncci_eye.yaml, held in an in-memory store."""
    data = read_yaml(CURATED_FILE)
    connection = sqlite3.connect(":memory:", check_same_thread=False)
    connection.executescript(_SCHEMA)
    connection.executemany(
        "INSERT OR IGNORE INTO ptp VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                str(edit["column_1"]),
                str(edit["column_2"]),
                edit["effective"].isoformat() if edit.get("effective") else None,
                edit["deletion"].isoformat() if edit.get("deletion") else None,
                int(edit["modifier_indicator"]),
                edit["rationale"],
                data["source"],
            )
            for edit in data["ptp"]
        ],
    )
    connection.executemany(
        "INSERT OR REPLACE INTO mue VALUES (?, ?, ?, ?, ?)",
        [
            (str(m["code"]), int(m["units"]), m.get("mai"), m["rationale"], data["mue_source"])
            for m in data["mue"]
        ],
    )
    connection.execute("INSERT INTO meta VALUES ('source', 'curated')")
    return NcciTables(connection)


def load_ncci(settings: Settings) -> NcciTables:
    """The imported tables when present (importing settings.ncci_dir on first use), else the curated ones."""
    stored = knowledge_store(settings) / NCCI_DB
    if not stored.exists() and settings.ncci_dir is not None:
        return import_ncci(settings.ncci_dir, knowledge_store(settings))
    if stored.exists():
        return NcciTables(open_read_only(stored))
    return curated_ncci()
