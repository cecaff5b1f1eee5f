"""X12 835 (005010X221A1) remittance advice: pyx12 reads and validates it; this maps it to Remittance models."""

import datetime as dt
import io
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import pyx12.errors
import pyx12.params
import pyx12.x12file
import pyx12.x12n_document
from pydantic import BaseModel, Field
from pyx12.segment import Segment

from billing.findings import Finding, Severity
from billing.money import ZERO, round_cents
from billing.remittance import (
    Adjustment,
    ClaimPayment,
    Payment,
    ProviderAdjustment,
    Remittance,
    RemittanceTransaction,
    ServiceLinePayment,
)

# pyx12 logs each validation error with the offending value, which may be a patient's name: those
# errors reach the biller as findings built from error codes, never the application log.
_PYX12_LOG = logging.getLogger("pyx12")
_PYX12_LOG.addHandler(logging.NullHandler())
_PYX12_LOG.propagate = False

GUIDE = "005010X221A1"
CLAIM_STATUS = {
    "1": "processed as primary",
    "2": "processed as secondary",
    "3": "processed as tertiary",
    "4": "denied",
    "19": "processed as primary, forwarded to another payer",
    "20": "processed as secondary, forwarded to another payer",
    "21": "processed as tertiary, forwarded to another payer",
    "22": "reversal of a previous payment",
    "23": "not our claim, forwarded to another payer",
    "25": "predetermination pricing only, no payment",
}
REVERSAL_STATUS = "22"
# ISA01..ISA15 are fixed width; ISA16 is the one-character component separator.
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1)
ISA_LENGTH = 105  # without the segment terminator
ALTERNATE_COMPONENT_SEPARATORS = ">:^|\\"
PRODUCT_QUALIFIERS = ("HC", "AD", "ER", "IV", "N4", "NU", "WK", "ZZ", "HP", "N1", "N2", "N6")
_DIGITS_ONLY_CODE = re.compile(r"([A-Z0-9]{4,5})(?:\.0+)?$")
_MASKED_AMOUNT = re.compile(r"-?(?:9{3,}|9+\.9{2,})$")
_MASKED_NAME = re.compile(r"[X\s.,&'-]*X{3}[X\s.,&'-]*$")
_MASKED_NUMBER = re.compile(r"9{5,}$")
_SEGMENT_ERRORS = {
    "1": "segment not recognized where it appears",
    "2": "unexpected segment",
    "3": "required segment missing",
    "4": "loop repeats more than the guide allows",
    "5": "segment repeats more than the guide allows",
    "6": "segment not in this transaction set",
    "7": "segment out of sequence",
    "8": "segment has element errors",
    "SEG1": "segment ends with empty elements",
}
_ELEMENT_ERRORS = {
    "1": "required element missing",
    "2": "conditionally required element missing",
    "3": "too many elements",
    "4": "value too short",
    "5": "value too long",
    "6": "invalid character",
    "7": "code not valid here",
    "8": "invalid date",
    "9": "invalid time",
    "10": "element present but not allowed with another",
    "12": "too many repetitions",
    "13": "too many components",
}
_MAX_LISTED_ISSUES = 6
_MAX_FINDING_LINES = 50


class X12Error(ValueError):
    """The input cannot be read as an X12 835 at all (not X12, unreadable header, no 835 inside)."""


class ParseResult(BaseModel):
    remittance: Remittance
    findings: list[Finding] = Field(default_factory=list)


@dataclass
class _Prepared:
    text: str
    component: str
    offset: int  # segments added in front of the original file (a synthetic envelope)
    findings: list[Finding]


def parse_835(text: str, *, validate: bool = True) -> ParseResult:
    """Parse an 835 into models; problems in the file become findings, never exceptions.

    Raises X12Error only when nothing can be read: the input is not X12, or holds no 835.
    Finding `lines` are 1-based segment numbers in the file (ISA = 1), which are the line numbers
    of a file written one segment per line. `validate=False` skips pyx12's implementation-guide
    validation (about a second per file) for bulk re-reads of files already checked when received.
    """
    prepared = _prepare(text)
    builder = _Builder(prepared.offset, prepared.component)
    report = io.StringIO()
    findings = list(prepared.findings)
    if not validate:
        _read_without_validation(prepared.text, builder)
        remittance = builder.finish(text)
        if not remittance.transactions:
            raise X12Error(f"no 835 transaction set in this X12 file ({builder.describe_sets()})")
        return ParseResult(remittance=remittance, findings=findings + builder.findings)
    reason = "it did not accept the interchange header"
    try:
        pyx12.x12n_document.x12n_document(
            pyx12.params.params(),
            io.StringIO(prepared.text),
            None,
            None,
            fd_json=report,
            callback=builder.feed_checked,
        )
        validated = builder.segments > 0
    # pyx12's validator gives up on some broken envelopes (an unknown GS08, say); its tokenizer still reads them.
    except Exception as exc:
        validated, reason = False, _first_sentence(exc)
    if validated:
        findings += _validation_findings(report.getvalue(), prepared.offset)
    else:
        builder = _Builder(prepared.offset, prepared.component)
        _read_without_validation(prepared.text, builder)
        findings.append(
            Finding(
                code="X12_VALIDATION",
                severity=Severity.WARNING,
                message=f"pyx12 could not validate this file against {GUIDE} ({reason}); "
                "its segments were read without validation.",
                fix="Check the amounts against the payer's paper or portal remittance before posting.",
            )
        )
    remittance = builder.finish(text)
    if not remittance.transactions:
        raise X12Error(f"no 835 transaction set in this X12 file ({builder.describe_sets()})")
    return ParseResult(remittance=remittance, findings=findings + builder.findings)


def _first_sentence(exc: BaseException) -> str:
    return str(exc).split(":")[0].strip() or type(exc).__name__


def _read_without_validation(text: str, builder: "_Builder") -> None:
    try:
        reader = pyx12.x12file.X12Reader(io.StringIO(text))
        for segment in reader:
            builder.feed_checked(segment)
    except pyx12.errors.X12Error as exc:
        if builder.segments == 0:
            raise X12Error(f"not a readable X12 interchange: {_first_sentence(exc)}") from exc
        builder.note_stop(str(exc))


# --- delimiters and envelope ---------------------------------------------------------------------


def _prepare(text: str) -> _Prepared:
    """Text pyx12 can read: no BOM or indentation, a 106-character ISA, an envelope, a final terminator."""
    text = text.lstrip("\ufeff \t\r\n")
    findings: list[Finding] = []
    offset = 0
    if text.startswith("ISA") and len(text) > 3:
        element = text[3]
        fields = text.split(element, 16)
        if len(fields) < 17 or len(fields[16]) < 2:
            raise X12Error("the ISA interchange header is cut short")
        component, terminator = fields[16][0], fields[16][1]
        isa = element.join(fields[:16]) + element + component
        if len(isa) != ISA_LENGTH:
            isa = _padded_isa(fields, element, component)
            findings.append(
                Finding(
                    code="X12_ENVELOPE",
                    severity=Severity.INFO,
                    lines=[1],
                    message="The ISA header's fixed-width fields were not padded; they were padded to read it.",
                )
            )
        header, body, trailer = "", fields[16][2:], ""
    elif re.match(r"ST[^A-Za-z0-9\s]835", text):
        element = text[2]
        terminator = _st_terminator(text, element)
        component = _guess_component(text, element, terminator)
        isa, header, trailer = _synthetic_envelope(text, element, component, terminator)
        body, offset = text, 2
        findings.append(
            Finding(
                code="X12_NO_ENVELOPE",
                severity=Severity.WARNING,
                message="The file starts at ST with no ISA/GS envelope; it was read as one "
                f"{GUIDE} group with separators guessed from the data.",
                fix="Ask the clearinghouse for the complete file: the envelope carries the sender and the "
                "control numbers used to acknowledge it.",
            )
        )
    else:
        raise X12Error("not an X12 file: it does not start with an ISA interchange header (or an ST*835)")
    if terminator in "\r\n":
        terminator, body = "\n", body.replace("\r\n", "\n").replace("\r", "\n")
        header, trailer = header.replace("\r", "\n"), trailer.replace("\r", "\n")
    body = re.sub(re.escape(terminator) + r"[ \t\r\n]*", terminator, body).strip(" \t\r\n")
    # A newline-terminated file needs no final terminator; any other file without one was cut short.
    if body and not body.endswith(terminator) and terminator == "\n":
        body += terminator
    if body and not body.endswith(terminator):
        findings.append(
            Finding(
                code="X12_TRUNCATED",
                severity=Severity.ERROR,
                # the partial segment follows the complete ones, and the ISA when the file has one
                lines=[body.count(terminator) + (1 if offset else 2)],
                message="The file ends in the middle of a segment: it was cut short. The partial last "
                "segment was read as far as it goes.",
                fix="Download the remittance again from the clearinghouse or payer portal.",
            )
        )
        body += terminator
    return _Prepared(isa + terminator + header + body + trailer, component, offset, findings)


def _padded_isa(fields: list[str], element: str, component: str) -> str:
    padded = [value.ljust(width) for value, width in zip(fields[1:16], ISA_WIDTHS, strict=True)]
    isa = element.join(["ISA", *padded]) + element + component
    if len(isa) != ISA_LENGTH:
        raise X12Error("the ISA interchange header has fields longer than the standard allows")
    return isa


def _st_terminator(text: str, element: str) -> str:
    for char in text[7:40]:
        if not char.isalnum() and char not in (element, " "):
            return char
    raise X12Error("cannot find the segment terminator after ST")


def _guess_component(text: str, element: str, terminator: str) -> str:
    qualifiers = "|".join(PRODUCT_QUALIFIERS)
    excluded = re.escape(element + terminator)
    found = re.search(rf"{re.escape(element)}(?:{qualifiers})([^A-Za-z0-9\s{excluded}])", text)
    return found.group(1) if found else ":"


def _synthetic_envelope(text: str, element: str, component: str, terminator: str) -> tuple[str, str, str]:
    """An ISA and GS header and a GE/IEA trailer around a file that starts at ST."""
    repetition = next(c for c in "^{}!" if c not in (element, component, terminator))
    fields = f"ISA|00||00||ZZ|FOVEA|ZZ|FOVEA|000101|0000|{repetition}|00501|000000001|0|P".split("|")
    isa = _padded_isa(fields, element, component)
    e, t = element, terminator
    transactions = len(re.findall(rf"(?:^|{re.escape(t)})\s*ST{re.escape(e)}", text))
    header = f"GS{e}HP{e}FOVEA{e}FOVEA{e}20000101{e}0000{e}1{e}X{e}{GUIDE}{t}"
    return isa, header, f"GE{e}{transactions}{e}1{t}IEA{e}1{e}000000001{t}"


# --- validation report ---------------------------------------------------------------------------


def _validation_findings(report: str, offset: int) -> list[Finding]:
    """One finding summarizing pyx12's errors, worded from error codes so no element value leaks."""
    if not report.strip():
        return []
    issues: list[tuple[int, str]] = []
    for interchange in json.loads(report).get("interchanges", []):
        issues += _control_issues("ISA", interchange)
        for group in interchange.get("groups", []):
            issues += _control_issues("GS", group)
            for transaction in group.get("transactions", []):
                issues += _control_issues("ST", transaction)
                for segment in transaction.get("segments", []):
                    issues += _segment_issues(segment)
    if not issues:
        return []
    counts = Counter(text for _, text in issues)
    listed = [f"{text} (x{n})" if n > 1 else text for text, n in counts.most_common(_MAX_LISTED_ISSUES)]
    more = len(counts) - len(listed)
    lines = sorted({line - offset for line, _ in issues if line - offset > 0})[:_MAX_FINDING_LINES]
    return [
        Finding(
            code="X12_VALIDATION",
            severity=Severity.WARNING,
            lines=lines,
            message=f"pyx12 found {len(issues)} deviation(s) from the {GUIDE} guide: "
            + "; ".join(listed)
            + (f"; and {more} other kind(s)" if more else "")
            + ".",
            fix="Most payers' files carry small deviations and still post correctly; if an amount or code "
            "below looks wrong, send the file back to the clearinghouse.",
            source=f"pyx12 {GUIDE} map",
        )
    ]


def _control_issues(level: str, node: dict[str, Any]) -> list[tuple[int, str]]:
    return [
        (int(node.get("cur_line") or 0), f"{level}: {error['err_str']}") for error in node.get("errors", [])
    ]


def _segment_issues(segment: dict[str, Any]) -> list[tuple[int, str]]:
    seg_id, line = segment.get("seg_id") or "?", int(segment.get("cur_line") or 0)
    issues = [
        (line, f"{seg_id}: {_SEGMENT_ERRORS.get(e['err_cde'], 'segment error')}") for e in segment["errors"]
    ]
    for element in segment.get("elements", []):
        ref = f"{seg_id}{int(element['ele_pos']):02d}"
        if element.get("subele_pos"):
            ref += f"-{int(element['subele_pos']):02d}"
        name = element.get("name") or "element"
        for error in element.get("errors", []):
            issues.append((line, f"{ref} ({name}): {_ELEMENT_ERRORS.get(error['err_cde'], 'invalid value')}"))
    return issues


# --- segment stream -> models --------------------------------------------------------------------


@dataclass
class _Fields:
    """One segment's values: element n (1-based) is a list of its components."""

    seg_id: str
    elements: list[list[str]]
    component: str

    def value(self, n: int) -> str:
        if n > len(self.elements):
            return ""
        return self.component.join(self.elements[n - 1]).strip()

    def parts(self, n: int) -> list[str]:
        return [part.strip() for part in self.elements[n - 1]] if n <= len(self.elements) else []


@dataclass
class _LineRecord:
    model: ServiceLinePayment
    segment: int


@dataclass
class _ClaimRecord:
    model: ClaimPayment
    segment: int
    complete: bool
    lines: list[_LineRecord] = field(default_factory=list)


@dataclass
class _TransactionRecord:
    model: RemittanceTransaction
    segment: int
    closed: bool = False
    payment_segment: int = 0
    masked_identity: bool = False
    masked_amount: bool = False
    claims: list[_ClaimRecord] = field(default_factory=list)


class _Builder:
    """Reads the 835's segments in order, the way its loops nest: header, payer, payee, claims, lines, PLB."""

    def __init__(self, offset: int, component: str) -> None:
        self.offset = offset
        self.component = component
        self.segments = 0
        self.findings: list[Finding] = []
        self.transactions: list[_TransactionRecord] = []
        self.other_sets: Counter[str] = Counter()
        self.interchange = ""
        self.transaction: _TransactionRecord | None = None
        self.claim: _ClaimRecord | None = None
        self.line: _LineRecord | None = None
        self.party = ""
        self.separator_noted = False

    @property
    def position(self) -> int:
        return self.segments - self.offset

    def feed_checked(self, segment: Segment, *_: object) -> None:
        """pyx12's callback: a segment it cannot map is reported, and the rest of the file still read."""
        try:
            self.feed(segment)
        except (ValueError, IndexError, InvalidOperation) as exc:
            self._finding(
                "X12_SEGMENT_UNREADABLE",
                Severity.WARNING,
                [self.position],
                f"Segment {self.position} ({segment.get_seg_id()}) could not be read ({type(exc).__name__}).",
                "Check this segment against the payer's remittance.",
            )

    def feed(self, segment: Segment) -> None:
        self.segments += 1
        seg_id = segment.get_seg_id() or ""
        handler = getattr(self, f"_on_{seg_id.lower()}", None)
        if handler is None or (self.transaction is None and seg_id not in ("ISA", "ST")):
            return
        elements = [
            [element.get_value() or "" for element in composite.elements] for composite in segment.elements
        ]
        handler(_Fields(seg_id, elements, self.component))

    def note_stop(self, reason: str) -> None:
        self._finding(
            "X12_TRUNCATED",
            Severity.ERROR,
            [self.position + 1],
            f"Reading stopped at segment {self.position + 1}: {_first_sentence(ValueError(reason))}.",
            "Download the remittance again; claims after this point were not read.",
        )

    def describe_sets(self) -> str:
        if not self.other_sets:
            return "no transaction sets found"
        return "found " + ", ".join(f"{kind} x{n}" for kind, n in sorted(self.other_sets.items()))

    # envelope

    def _on_isa(self, fields: _Fields) -> None:
        self.interchange = fields.value(13)

    def _on_st(self, fields: _Fields) -> None:
        self._close_transaction()
        if fields.value(1) != "835":
            self.other_sets[fields.value(1) or "?"] += 1
            return
        model = RemittanceTransaction(
            interchange_control_number=self.interchange, transaction_control_number=fields.value(2)
        )
        self.transaction = _TransactionRecord(model, self.position)
        self.transactions.append(self.transaction)
        self.party = ""

    def _on_se(self, fields: _Fields) -> None:
        if self.transaction is not None:
            self.transaction.closed = True
        self._close_transaction()

    # header

    def _on_bpr(self, fields: _Fields) -> None:
        record = self._txn()
        payment_date = _date(fields.value(16))
        if payment_date is None:
            # Some TR3 examples put the date one element early; the date is still the payment date.
            last = next((v for v in reversed([fields.value(n) for n in range(5, 17)]) if v), "")
            payment_date = _date(last)
        record.payment_segment = self.position
        record.model.payment = Payment(
            handling=fields.value(1),
            amount=self._amount(fields.value(2), "BPR02") or ZERO,
            method=fields.value(4),
            date=payment_date,
            trace=record.model.payment.trace,
        )

    def _on_trn(self, fields: _Fields) -> None:
        record = self._txn()
        record.model.payment.trace = fields.value(2)
        record.masked_identity |= bool(_MASKED_NUMBER.match(fields.value(2)))

    def _on_n1(self, fields: _Fields) -> None:
        record, qualifier, name = self._txn(), fields.value(1), fields.value(2)
        self.party = qualifier
        if qualifier == "PR":
            record.model.payer = name
            record.model.payer_id = record.model.payer_id or fields.value(4)
            record.masked_identity |= bool(_MASKED_NAME.match(name))
        elif qualifier == "PE":
            record.model.payee = name
            if fields.value(3) == "XX":
                record.model.payee_npi = fields.value(4)
            elif fields.value(3) == "FI":
                record.model.payee_tax_id = fields.value(4)

    def _on_lx(self, fields: _Fields) -> None:
        self.claim, self.line, self.party = None, None, ""

    # claims

    def _on_clp(self, fields: _Fields) -> None:
        record = self._txn()
        self.line, self.party = None, ""
        status = fields.value(2)
        complete = bool(fields.value(3) and fields.value(4))
        model = ClaimPayment(
            patient_control_number=fields.value(1),
            status=status,
            charge=self._amount(fields.value(3), "CLP03") or ZERO,
            paid=self._amount(fields.value(4), "CLP04") or ZERO,
            patient_responsibility=self._amount(fields.value(5), "CLP05") or ZERO,
            filing_indicator=fields.value(6),
            payer_claim_control_number=fields.value(7),
            reversal=status == REVERSAL_STATUS,
        )
        self.claim = _ClaimRecord(model, self.position, complete)
        record.claims.append(self.claim)
        record.model.claims.append(model)
        if not complete:
            self._finding(
                "X12_TRUNCATED",
                Severity.ERROR,
                [self.position],
                f"Claim {model.patient_control_number or '(no account number)'}: the CLP segment stops "
                "before its charge and paid amounts; the claim was kept with what could be read.",
                "Get the complete remittance from the payer before posting this claim.",
            )

    def _on_nm1(self, fields: _Fields) -> None:
        if self.claim is None or self.line is not None:
            return
        name = " ".join(part for part in (fields.value(4), fields.value(3)) if part)
        if fields.value(1) == "QC":
            self.claim.model.patient_name = name
        elif fields.value(1) == "74" and name:
            self.claim.model.corrected_patient_name = name

    def _on_moa(self, fields: _Fields) -> None:
        self._claim_remarks(fields, (3, 4, 5, 6, 7))

    def _on_mia(self, fields: _Fields) -> None:
        self._claim_remarks(fields, (5, 20, 21, 22, 23))

    def _claim_remarks(self, fields: _Fields, positions: tuple[int, ...]) -> None:
        if self.claim is not None:
            self.claim.model.remarks += [code for n in positions if (code := fields.value(n))]

    def _on_cas(self, fields: _Fields) -> None:
        target = self.line.model if self.line is not None else self.claim.model if self.claim else None
        if target is None:
            return
        group = fields.value(1)
        for start in range(2, 20, 3):
            reason, amount = fields.value(start), fields.value(start + 1)
            if not reason and not amount:
                continue
            quantity = fields.value(start + 2)
            target.adjustments.append(
                Adjustment(
                    group=group,
                    reason=reason,
                    amount=self._amount(amount, f"CAS{start + 1:02d}") or ZERO,
                    quantity=_number(quantity),
                )
            )

    def _on_dtm(self, fields: _Fields) -> None:
        qualifier, value = fields.value(1), _date(fields.value(2))
        if self.line is not None:
            if qualifier in ("472", "150"):
                self.line.model.date_of_service = value
            elif qualifier == "151":
                self.line.model.date_of_service_end = value
        elif self.claim is not None:
            if qualifier == "232":
                self.claim.model.statement_from = value
            elif qualifier == "233":
                self.claim.model.statement_to = value

    def _on_ref(self, fields: _Fields) -> None:
        qualifier, value = fields.value(1), fields.value(2)
        if self.line is not None:
            if qualifier == "6R":
                self.line.model.line_control_number = value
        elif self.claim is None and self.transaction is not None:
            model = self.transaction.model
            if self.party == "PR" and qualifier == "2U":
                model.payer_id = value
            elif self.party == "PE" and qualifier == "TJ" and not model.payee_tax_id:
                model.payee_tax_id = value

    def _on_amt(self, fields: _Fields) -> None:
        if self.line is not None and fields.value(1) == "B6":
            self.line.model.allowed = self._amount(fields.value(2), "AMT02")

    def _on_lq(self, fields: _Fields) -> None:
        if fields.value(1) != "HE" or not fields.value(2):
            return
        if self.line is not None:
            self.line.model.remarks.append(fields.value(2))
        elif self.claim is not None:
            self.claim.model.remarks.append(fields.value(2))

    # service lines

    def _on_svc(self, fields: _Fields) -> None:
        if self.claim is None:
            return
        procedure = self._composite(fields, 1)
        submitted = self._composite(fields, 6)
        model = ServiceLinePayment(
            code=procedure[1] if len(procedure) > 1 else "",
            modifiers=[m for m in procedure[2:6] if m],
            submitted_code=submitted[1] if len(submitted) > 1 else "",
            charge=self._amount(fields.value(2), "SVC02") or ZERO,
            paid=self._amount(fields.value(3), "SVC03") or ZERO,
            units=_units(fields.value(5)),
            original_units=_number(fields.value(7)),
        )
        self.line = _LineRecord(model, self.position)
        if not model.code:
            self._recover_shifted_svc(fields, procedure)
        self.claim.lines.append(self.line)
        self.claim.model.lines.append(model)

    def _recover_shifted_svc(self, fields: _Fields, procedure: list[str]) -> None:
        """SVC*HC*24599.00*charge*paid: the code slipped into SVC02; read the amounts one element later."""
        shifted = _DIGITS_ONLY_CODE.match(fields.value(2))
        if self.line is None or len(procedure) != 1 or procedure[0] not in PRODUCT_QUALIFIERS:
            return
        if shifted is None or not fields.value(3):
            return
        model = self.line.model
        model.code = shifted.group(1)
        model.charge = self._amount(fields.value(3), "SVC03") or ZERO
        model.paid = self._amount(fields.value(4), "SVC04") or ZERO
        model.units = _units(fields.value(6))
        self._finding(
            "X12_SVC_MALFORMED",
            Severity.WARNING,
            [self.position],
            f"Service line at segment {self.position}: SVC01 holds only the qualifier {procedure[0]} and the "
            f"procedure code sits in the next element; it was read as {model.code}, charge "
            f"{_usd(model.charge)}, paid {_usd(model.paid)}.",
            "Confirm the code and amounts against the payer's remittance before posting this line.",
        )

    def _composite(self, fields: _Fields, n: int) -> list[str]:
        parts = fields.parts(n)
        if len(parts) == 1:
            mismatch = next((c for c in ALTERNATE_COMPONENT_SEPARATORS if c in parts[0]), None)
            if mismatch is not None:
                parts = [part.strip() for part in parts[0].split(mismatch)]
                self._note_separator(fields.seg_id, mismatch)
        return parts

    def _note_separator(self, seg_id: str, used: str) -> None:
        if self.separator_noted:
            return
        self.separator_noted = True
        self._finding(
            "X12_COMPONENT_SEPARATOR",
            Severity.WARNING,
            [self.position],
            f"{seg_id} composites are split with '{used}' but the ISA header declares '{self.component}'; "
            f"they were read with '{used}'.",
            "Tell the clearinghouse: other software may read these codes wrongly.",
        )

    # provider-level adjustments

    def _on_plb(self, fields: _Fields) -> None:
        record = self._txn()
        self.claim, self.line = None, None
        for start in range(3, 15, 2):
            reason_parts, amount = self._composite(fields, start), fields.value(start + 1)
            if not reason_parts or not reason_parts[0]:
                continue
            record.model.provider_adjustments.append(
                ProviderAdjustment(
                    provider_id=fields.value(1),
                    fiscal_period=fields.value(2),
                    reason=reason_parts[0],
                    reference=self.component.join(reason_parts[1:]),
                    amount=self._amount(amount, f"PLB{start + 1:02d}") or ZERO,
                )
            )

    # helpers

    def _txn(self) -> _TransactionRecord:
        assert self.transaction is not None  # feed() only dispatches inside an 835
        return self.transaction

    def _amount(self, value: str, where: str) -> Decimal | None:
        if not value:
            return None
        try:
            amount = Decimal(value)
        except InvalidOperation:
            self._finding(
                "X12_BAD_AMOUNT",
                Severity.ERROR,
                [self.position],
                f"{where} at segment {self.position} is not an amount; it was read as $0.00.",
                "Check this amount against the payer's remittance.",
            )
            return None
        if self.transaction is not None and _MASKED_AMOUNT.match(value):
            self.transaction.masked_amount = True
        return amount

    def _finding(self, code: str, severity: Severity, lines: list[int], message: str, fix: str) -> None:
        self.findings.append(Finding(code=code, severity=severity, lines=lines, message=message, fix=fix))

    def _close_transaction(self) -> None:
        self.transaction, self.claim, self.line, self.party = None, None, None, ""

    def finish(self, raw: str) -> Remittance:
        for record in self.transactions:
            if not record.closed:
                self._finding(
                    "X12_TRUNCATED",
                    Severity.ERROR,
                    [record.segment],
                    f"Transaction {record.model.transaction_control_number or '?'} has no SE trailer: the "
                    f"file was cut short after {len(record.claims)} claim(s).",
                    "Download the remittance again; claims after the cut are missing from this file.",
                )
            self.findings += _balance_findings(record)
        return Remittance(transactions=[record.model for record in self.transactions], raw_x12=raw)


# --- balancing -----------------------------------------------------------------------------------


def _balance_findings(record: _TransactionRecord) -> list[Finding]:
    """BPR02 = sum(CLP04) - sum(PLB); per claim and line, charge - paid = sum of adjustments."""
    model = record.model
    if record.masked_identity and record.masked_amount:
        return [
            Finding(
                code="X12_MASKED_VALUES",
                severity=Severity.WARNING,
                lines=[record.segment],
                message=f"Transaction {model.transaction_control_number}: amounts and identifiers are masked "
                "(runs of 9s and Xs), as in a de-identified sample; balancing was not checked.",
                fix="Use this file for structure only; post from the payer's real remittance.",
            )
        ]
    findings = [f for claim in record.claims for f in _claim_balance(claim) + _date_findings(claim)]
    findings += [_reversal_note(claim) for claim in record.claims if claim.model.reversal and claim.complete]
    if record.payment_segment:
        paid = sum((claim.model.paid for claim in record.claims), ZERO)
        provider = sum((plb.amount for plb in model.provider_adjustments), ZERO)
        expected = round_cents(paid - provider)
        incomplete = sum(not claim.complete for claim in record.claims)
        if round_cents(model.payment.amount) != expected:
            findings.insert(
                0,
                Finding(
                    code="X12_BPR_UNBALANCED",
                    severity=Severity.ERROR,
                    lines=[record.payment_segment],
                    message=f"Transaction {model.transaction_control_number}: the payment total "
                    f"{_usd(model.payment.amount)} (BPR02) does not equal claim payments {_usd(paid)} minus "
                    f"provider adjustments {_usd(provider)} = {_usd(expected)}; off by "
                    f"{_usd(model.payment.amount - expected)}."
                    + (f" {incomplete} claim(s) have no readable paid amount." if incomplete else ""),
                    fix="Reconcile with the deposit or check before posting; a claim or PLB adjustment may be "
                    "missing from the file. Call the payer if the deposit differs.",
                ),
            )
    return findings


def _claim_balance(claim: _ClaimRecord) -> list[Finding]:
    model = claim.model
    findings = []
    for line in claim.lines:
        adjusted = _total(line.model.adjustments)
        if round_cents(line.model.charge - line.model.paid) != round_cents(adjusted):
            findings.append(
                Finding(
                    code="X12_LINE_UNBALANCED",
                    severity=Severity.WARNING,
                    lines=[line.segment],
                    message=f"Claim {model.patient_control_number}, line {line.model.code or '?'}: charge "
                    f"{_usd(line.model.charge)} minus paid {_usd(line.model.paid)} is "
                    f"{_usd(line.model.charge - line.model.paid)}, but the line's adjustments total "
                    f"{_usd(adjusted)}.",
                    fix="Post the paid amount as sent and review the line's adjustments by hand.",
                )
            )
    if not claim.complete:
        return findings
    adjusted = _total(model.adjustments) + sum((_total(line.model.adjustments) for line in claim.lines), ZERO)
    if round_cents(model.charge - model.paid) != round_cents(adjusted):
        findings.insert(
            0,
            Finding(
                code="X12_CLAIM_UNBALANCED",
                severity=Severity.ERROR,
                lines=[claim.segment],
                message=f"Claim {model.patient_control_number}: charge {_usd(model.charge)} minus paid "
                f"{_usd(model.paid)} is {_usd(model.charge - model.paid)}, but its adjustments (claim and "
                f"lines) total {_usd(adjusted)}.",
                fix="Do not auto-post this claim: compare it with the payer's remittance and post by hand.",
            ),
        )
    return findings


def _date_findings(claim: _ClaimRecord) -> list[Finding]:
    """A line dated outside its claim's statement period is usually a keying error at the payer."""
    start, end = claim.model.statement_from, claim.model.statement_to or claim.model.statement_from
    if start is None or end is None:
        return []
    return [
        Finding(
            code="X12_LINE_DATE_OUTSIDE_CLAIM",
            severity=Severity.WARNING,
            lines=[line.segment],
            message=f"Claim {claim.model.patient_control_number}, line {line.model.code or '?'}: service date "
            f"{line.model.date_of_service} is outside the claim's period {start} to {end}.",
            fix="Match this line to the charge by code and amount, not by date; ask the payer to correct "
            "the date if it was paid under the wrong one.",
        )
        for line in claim.lines
        if line.model.date_of_service and not start <= line.model.date_of_service <= end
    ]


def _reversal_note(claim: _ClaimRecord) -> Finding:
    model = claim.model
    return Finding(
        code="X12_CLAIM_REVERSAL",
        severity=Severity.INFO,
        lines=[claim.segment],
        message=f"Claim {model.patient_control_number} (CLP02 = 22) reverses an earlier payment of "
        f"{_usd(-model.paid)}.",
        fix="Post it against the original payment, then post the corrected claim that usually follows.",
    )


def _total(adjustments: list[Adjustment]) -> Decimal:
    return sum((a.amount for a in adjustments), ZERO)


def _usd(amount: Decimal) -> str:
    value = round_cents(amount)
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def _date(value: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(value, "%Y%m%d").date() if len(value) == 8 else None
    except ValueError:
        return None


def _units(value: str) -> float:
    """SVC05: one unit when absent (the guide's default), zero when the payer says zero."""
    units = _number(value)
    return 1 if units is None else units


def _number(value: str) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
