"""Medicare Physician Fee Schedule: RVUs, GPCIs and conversion factor, priced by locality and service date."""

import csv
import re
import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel

from billing.money import ZERO, Money, round_cents
from billing.settings import Settings
from knowledge.official_files import knowledge_store, open_read_only, replace_database, table_files

PFS_DB = "pfs.sqlite"
# Status codes paid from RVUs: A active, R restricted coverage, T paid when no other service that day.
PAYABLE_STATUSES = frozenset({"A", "R", "T"})
PRICING_MODIFIERS = ("26", "TC", "53")
MPPR_TC_SHARE = Decimal("0.80")

_MONTHS = {"jan": 1, "apr": 4, "jul": 7, "oct": 10}
_RELEASE_NAME = re.compile(r"(?:20)?(\d\d)[ _-]?(jan|apr|jul|oct)", re.IGNORECASE)

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE rvu (effective TEXT NOT NULL, release TEXT NOT NULL, code TEXT NOT NULL, modifier TEXT NOT NULL,
                  status TEXT NOT NULL, not_used_for_medicare INTEGER NOT NULL, work TEXT NOT NULL,
                  pe_nonfacility TEXT NOT NULL, pe_facility TEXT NOT NULL, mp TEXT NOT NULL,
                  pctc TEXT NOT NULL, global_days TEXT NOT NULL, mult_proc TEXT NOT NULL,
                  bilat_surg TEXT NOT NULL, conv_factor TEXT NOT NULL,
                  PRIMARY KEY (effective, code, modifier));
CREATE TABLE gpci (effective TEXT NOT NULL, release TEXT NOT NULL, mac TEXT NOT NULL, locality TEXT NOT NULL,
                   state TEXT NOT NULL, name TEXT NOT NULL, work TEXT NOT NULL, pe TEXT NOT NULL,
                   mp TEXT NOT NULL, PRIMARY KEY (effective, mac, locality));
CREATE TABLE counties (mac TEXT NOT NULL, locality TEXT NOT NULL, counties TEXT NOT NULL,
                       PRIMARY KEY (mac, locality));
"""


class PfsIndicators(BaseModel):
    code: str
    release: str
    status: str
    not_used_for_medicare: bool
    pctc: str
    global_days: str
    mult_proc: str
    bilat_surg: str
    conv_factor: Decimal


class Locality(BaseModel):
    key: str  # "<mac>-<locality>", e.g. "01112-05"
    mac: str
    locality: str
    state: str
    name: str
    gpci_work: Decimal
    gpci_pe: Decimal
    gpci_mp: Decimal
    counties: str = ""


class PricedLine(BaseModel):
    """One priced service line; `technical` is the TC share of `allowed` (zero for PC-only lines)."""

    code: str
    modifier: str = ""
    allowed: Money
    technical: Money = ZERO
    mppr: bool = False
    reduction: Money = ZERO


def _release_effective(path: Path) -> tuple[str, date] | None:
    found = _RELEASE_NAME.search(path.stem)
    if not found:
        return None
    year, month = 2000 + int(found.group(1)), _MONTHS[found.group(2).lower()]
    return f"{year} {found.group(2).capitalize()}", date(year, month, 1)


def _pricing_modifier(modifier: str) -> str:
    """The modifier that selects a PFS row (26, TC, 53); others (RT, 25, 59 ...) price as the global row."""
    for token in re.split(r"[^0-9A-Za-z]+", modifier.upper()):
        if token in PRICING_MODIFIERS:
            return token
    return ""


class PfsTables:
    """Look-ups over an imported PFS store: one or more PPRRVU and GPCI releases."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        row = connection.execute("SELECT value FROM meta WHERE key = 'source'").fetchone()
        self.source: str = row[0] if row else "CMS PFS import"

    def _rvu_release(self, on: date | None) -> str | None:
        """The effective date of the RVU release in force on the date of service (the latest when no date)."""
        if on is None:
            row = self._db.execute("SELECT max(effective) FROM rvu").fetchone()
        else:
            row = self._db.execute(
                "SELECT max(effective) FROM rvu WHERE effective <= ?", (on.isoformat(),)
            ).fetchone()
        return row[0]

    def _gpci_release(self, on: date | None) -> str | None:
        """The GPCI release in force; a date before every imported release falls back to the earliest one."""
        if on is not None:
            row = self._db.execute(
                "SELECT max(effective) FROM gpci WHERE effective <= ?", (on.isoformat(),)
            ).fetchone()
            if row[0] is not None:
                return row[0]
        return self._db.execute(
            "SELECT min(effective) FROM gpci" if on is not None else "SELECT max(effective) FROM gpci"
        ).fetchone()[0]

    def _rvu_row(self, code: str, modifier: str, effective: str) -> tuple | None:
        return self._db.execute(
            "SELECT status, work, pe_nonfacility, pe_facility, mp, conv_factor FROM rvu"
            " WHERE effective = ? AND code = ? AND modifier = ?",
            (effective, code, modifier),
        ).fetchone()

    def _gpci(self, locality: str, on: date | None) -> tuple[Decimal, Decimal, Decimal]:
        mac, _, number = locality.partition("-")
        row = self._db.execute(
            "SELECT work, pe, mp FROM gpci WHERE effective = ? AND mac = ? AND locality = ?",
            (self._gpci_release(on), mac, number),
        ).fetchone()
        if row is None:
            raise ValueError(
                f"unknown Medicare locality {locality!r}: expected '<mac>-<locality>', e.g. '01112-05'"
            )
        return Decimal(row[0]), Decimal(row[1]), Decimal(row[2])

    def allowed(
        self, code: str, modifier: str = "", *, locality: str, facility: bool = False, on: date | None = None
    ) -> Decimal | None:
        """[(work RVU x work GPCI) + (PE RVU x PE GPCI) + (MP RVU x MP GPCI)] x CF, half-up to the cent.

        None when the code is not in the release in force or is not paid from RVUs (status N, X, I, B, C ...).
        """
        effective = self._rvu_release(on)
        if effective is None:
            return None
        normalized = code.strip().upper()
        pricing = _pricing_modifier(modifier)
        row = self._rvu_row(normalized, pricing, effective) or (
            self._rvu_row(normalized, "", effective) if pricing == "53" else None
        )
        if row is None or row[0] not in PAYABLE_STATUSES:
            return None
        _status, work, pe_nonfacility, pe_facility, mp, conv_factor = row
        gpci_work, gpci_pe, gpci_mp = self._gpci(locality, on)
        pe = Decimal(pe_facility if facility else pe_nonfacility)
        total = Decimal(work) * gpci_work + pe * gpci_pe + Decimal(mp) * gpci_mp
        return round_cents(total * Decimal(conv_factor))

    def price(
        self, code: str, modifier: str = "", *, locality: str, facility: bool = False, on: date | None = None
    ) -> PricedLine | None:
        """A priced line with its technical share filled in, ready for mppr_adjusted()."""
        amount = self.allowed(code, modifier, locality=locality, facility=facility, on=on)
        indicators = self.indicators(code, on=on)
        if amount is None or indicators is None:
            return None
        pricing = _pricing_modifier(modifier)
        technical = ZERO
        if pricing == "TC":
            technical = amount
        elif pricing == "" and indicators.pctc == "1":
            technical = self.allowed(code, "TC", locality=locality, facility=facility, on=on) or ZERO
        return PricedLine(
            code=code.strip().upper(),
            modifier=pricing,
            allowed=amount,
            technical=technical,
            mppr=indicators.mult_proc == "7",
        )

    def indicators(self, code: str, on: date | None = None) -> PfsIndicators | None:
        effective = self._rvu_release(on)
        row = self._db.execute(
            "SELECT release, status, not_used_for_medicare, pctc, global_days, mult_proc, bilat_surg,"
            " conv_factor FROM rvu WHERE effective = ? AND code = ? AND modifier = ''",
            (effective, code.strip().upper()),
        ).fetchone()
        if row is None:
            return None
        release, status, not_used, pctc, global_days, mult_proc, bilat_surg, conv_factor = row
        return PfsIndicators(
            code=code.strip().upper(),
            release=release,
            status=status,
            not_used_for_medicare=bool(not_used),
            pctc=pctc,
            global_days=global_days,
            mult_proc=mult_proc,
            bilat_surg=bilat_surg,
            conv_factor=Decimal(conv_factor),
        )

    def localities(self, on: date | None = None) -> list[Locality]:
        rows = self._db.execute(
            "SELECT g.mac, g.locality, g.state, g.name, g.work, g.pe, g.mp, coalesce(c.counties, '')"
            " FROM gpci g LEFT JOIN counties c ON c.mac = g.mac AND c.locality = g.locality"
            " WHERE g.effective = ?"
            " ORDER BY g.mac, g.locality",
            (self._gpci_release(on),),
        ).fetchall()
        return [
            Locality(
                key=f"{mac}-{number}",
                mac=mac,
                locality=number,
                state=state,
                name=name,
                gpci_work=Decimal(work),
                gpci_pe=Decimal(pe),
                gpci_mp=Decimal(mp),
                counties=counties,
            )
            for mac, number, state, name, work, pe, mp, counties in rows
        ]


def mppr_adjusted(lines: list[PricedLine]) -> list[PricedLine]:
    """Ophthalmic diagnostic MPPR: the highest TC paid in full, the TC of every other such test at 80%.

    Pass the lines of one patient, one day, one physician or group. Professional components are never
    reduced; lines not subject to MPPR come back unchanged. Order is preserved.
    """
    eligible = sorted(
        (index for index, line in enumerate(lines) if line.mppr and line.technical > ZERO),
        key=lambda index: lines[index].technical,
        reverse=True,
    )
    adjusted = [line.model_copy() for line in lines]
    for index in eligible[1:]:
        line = adjusted[index]
        reduction = round_cents(line.technical * (1 - MPPR_TC_SHARE))
        adjusted[index] = line.model_copy(
            update={"allowed": line.allowed - reduction, "reduction": reduction}
        )
    return adjusted


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [
            {key.strip(): (value or "").strip() for key, value in row.items()}
            for row in csv.DictReader(handle)
        ]


def import_pfs(src_dir: Path, dest: Path) -> PfsTables:
    """Read PPRRVU (flattened header), GPCI and locality-county CSVs from src_dir into dest/pfs.sqlite."""
    rvu: list[tuple] = []
    gpci: list[tuple] = []
    counties: list[tuple] = []
    releases: list[str] = []
    for path in table_files(src_dir):
        rows = _read_csv(path)
        columns = set(rows[0]) if rows else set()
        release = _release_effective(path)
        if {"HCPCS", "WORK RVU", "CONV FACTOR"} <= columns and release:
            name, effective = release
            releases.append(f"RVU {name}")
            rvu.extend(
                (
                    effective.isoformat(),
                    name,
                    row["HCPCS"].upper(),
                    row["MOD"].upper(),
                    row["STATUS CODE"],
                    int(row["NOT USED FOR MEDICARE PAYMENT"] == "+"),
                    row["WORK RVU"] or "0",
                    row["NON-FAC PE RVU"] or "0",
                    row["FACILITY PE RVU"] or "0",
                    row["MP RVU"] or "0",
                    row["PCTC IND"],
                    row["GLOB DAYS"],
                    row["MULT PROC"],
                    row["BILAT SURG"],
                    row["CONV FACTOR"],
                )
                for row in rows
            )
        elif {"mac", "locality", "gpci_work", "gpci_pe", "gpci_mp"} <= columns and release:
            name, effective = release
            releases.append(f"GPCI {name}")
            gpci.extend(
                (
                    effective.isoformat(),
                    name,
                    row["mac"],
                    row["locality"].zfill(2),
                    row.get("state", ""),
                    row.get("locality_name", ""),
                    row["gpci_work"],
                    row["gpci_pe"],
                    row["gpci_mp"],
                )
                for row in rows
            )
        elif {"mac", "locality", "counties"} <= columns:
            counties.extend((row["mac"], row["locality"].zfill(2), row["counties"]) for row in rows)
    if not rvu or not gpci:
        raise ValueError(
            f"need at least one PPRRVU and one GPCI file (named with year and month) in {src_dir}"
        )

    def build(connection: sqlite3.Connection) -> None:
        connection.executescript(_SCHEMA)
        connection.executemany(f"INSERT OR REPLACE INTO rvu VALUES ({', '.join('?' * 15)})", rvu)
        connection.executemany(f"INSERT OR REPLACE INTO gpci VALUES ({', '.join('?' * 9)})", gpci)
        connection.executemany("INSERT OR REPLACE INTO counties VALUES (?, ?, ?)", counties)
        connection.execute(
            "INSERT INTO meta VALUES ('source', ?)", (f"CMS PFS import ({', '.join(releases)})",)
        )

    replace_database(dest / PFS_DB, build)
    return PfsTables(open_read_only(dest / PFS_DB))


def load_pfs(settings: Settings) -> PfsTables | None:
    """The imported fee schedule (importing settings.pfs_dir on first use); None when there is none."""
    stored = knowledge_store(settings) / PFS_DB
    if stored.exists():
        return PfsTables(open_read_only(stored))
    if settings.pfs_dir is not None:
        return import_pfs(settings.pfs_dir, knowledge_store(settings))
    return None
