"""Entities in a staff question: claim, encounter, remittance and patient ids, patient names, CPT/HCPCS and ICD-10
codes, CARC/RARC codes, modifiers, dates, amounts, day counts, payers and localities.

`extract_entities` is pure (regular expressions and the code sets); patient names are only *spotted* here and
resolved against the practice's patients by the router when an intent needs one. `normalized` is the question
with every entity replaced by a bracketed kind, so the intent router compares shapes, not ids.
"""

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from knowledge.codes.icd10 import icd10_exists, normalize_icd10
from knowledge.codes.modifiers import get_modifier

PAYER_KINDS = {
    "medicare advantage": "medicare_advantage",
    "medicare": "medicare",
    "medicaid": "medicaid",
    "commercial": "commercial",
    "vision plan": "vision",
    "vision plans": "vision",
    "vsp": "vision",
    "eyemed": "vision",
}
GENERIC_PAYER_WORDS = frozenset(
    [
        "health",
        "care",
        "plan",
        "plans",
        "insurance",
        "vision",
        "partners",
        "benefit",
        "mutual",
        "part",
        "the",
        "and",
        "senior",
        "hmo",
        "ppo",
    ]
)
# Words capitalized in questions that are never a patient's name.
_NAME_STOPWORDS = """
what why how when where which who whose is are was were can could should would does do did the a an
and or for of on in to with claim claims carc rarc cpt icd medicare medicaid advantage vision plan
ppo hmo commercial summit evergreen columbia vsp eyemed cascade oregon noridian mutual health
partners insurance benefit please tell show give list draft open scrub code explain check find look
mrs mr ms miss dr patient i my our january february march april may june july august september
october november december today yesterday ncci mue lcd pfs era remittance encounter visit appeal
dispute ar a/r
"""
NOT_NAMES = frozenset(_NAME_STOPWORDS.split())

_CLAIM = re.compile(r"\b(clm-[0-9a-z]+)\b|\bclaim\s*(?:#|no\.?|number)?\s*(\d{1,6})\b", re.IGNORECASE)
_ENCOUNTER = re.compile(
    r"\b(enc-[0-9a-z]+)\b|\b(?:encounter|visit)\s*(?:#|no\.?|number)?\s*(\d{1,6})\b", re.IGNORECASE
)
_REMITTANCE = re.compile(
    r"\b((?:era|rmt|upl)-[0-9a-z]+)\b|\b(?:remittance|era|835)\s*(?:#|no\.?|number)?\s*(\d{1,5})\b",
    re.IGNORECASE,
)
_PATIENT_ID = re.compile(r"\b(pat-[0-9a-z]+)\b", re.IGNORECASE)
_LOCALITY = re.compile(r"\b(\d{5}-\d{2})\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_US_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_AMOUNT = re.compile(r"\$\s?(\d[\d,]*(?:\.\d{2})?)")
_DAYS = re.compile(r"\b(\d{1,4})\s*(?:\+\s*)?days?\b", re.IGNORECASE)
_CARC = re.compile(
    r"\b(CO|PR|OA|PI|CR)[-\s]?(\d{1,3}|[A-Z]\d{1,2})\b"
    r"|\b(?:carc|reason code|denial code|adjustment code)\s*#?\s*(\d{1,3}|[A-Z]\d{1,2})\b"
    r"|\bcode\s*#?\s*(\d{1,3})\b(?![.\d])",
    re.IGNORECASE,
)
_RARC = re.compile(
    r"\b(?:rarc|remark(?: code)?)\s*#?\s*((?:MA|M|N)\d{1,3})\b|\b((?:MA|N)\d{1,3})\b", re.IGNORECASE
)
_PROCEDURE = re.compile(r"\b(\d{4}[0-9FTU]|[A-V]\d{4})((?:-[0-9A-Z]{2})*)\b")
_ICD = re.compile(r"\b([A-TV-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?)\b")
_MODIFIER = re.compile(r"\bmodifiers?\s+([0-9A-Z]{2})\b|\b([0-9A-Z]{2})\s+modifier\b", re.IGNORECASE)
_NAME_CUE = re.compile(r"\b(?:Mrs|Mr|Ms|Miss|Dr)\.?\s+([A-Z][a-zA-Z'\-]+(?:\s+[A-Z][a-zA-Z'\-]+)?)")
_PATIENT_CUE = re.compile(r"\bpatient\s+([A-Z][a-zA-Z'\-]+(?:\s+[A-Z][a-zA-Z'\-]+)?)")
_TWO_CAPS = re.compile(r"\b([A-Z][a-z'\-]+\s+[A-Z][a-z'\-]+)(?:'s)?\b")
_POSSESSIVE = re.compile(r"\b([A-Z][a-z\-]+)'s\b")


class Entities(BaseModel):
    claim_ids: list[str] = Field(default_factory=list)
    encounter_ids: list[str] = Field(default_factory=list)
    remittance_ids: list[str] = Field(default_factory=list)
    patient_ids: list[str] = Field(default_factory=list)
    patient_names: list[str] = Field(default_factory=list, description="names spotted, not yet resolved")
    procedure_codes: list[str] = Field(default_factory=list, description="with modifiers as 92083-RT")
    diagnosis_codes: list[str] = Field(default_factory=list)
    carc_codes: list[str] = Field(default_factory=list, description="with the group when given, e.g. CO-45")
    rarc_codes: list[str] = Field(default_factory=list)
    modifiers: list[str] = Field(default_factory=list)
    dates: list[date] = Field(default_factory=list)
    amounts: list[Decimal] = Field(default_factory=list)
    days: int | None = None
    payer_kind: str | None = None
    payer: str | None = Field(None, description="the practice payer named in the question")
    locality: str | None = None
    normalized: str = ""

    def kinds(self) -> set[str]:
        """The entity kinds present, as the router's intents name them."""
        present = {
            name
            for name, values in (
                ("claim", self.claim_ids),
                ("encounter", self.encounter_ids),
                ("remittance", self.remittance_ids),
                ("patient", self.patient_ids or self.patient_names),
                ("procedure", self.procedure_codes),
                ("diagnosis", self.diagnosis_codes),
                ("carc", self.carc_codes),
                ("rarc", self.rarc_codes),
                ("modifier", self.modifiers),
                ("date", self.dates),
                ("amount", self.amounts),
            )
            if values
        }
        if len(self.procedure_codes) >= 2:
            present.add("procedure_pair")
        if self.days is not None:
            present.add("days")
        if self.payer_kind or self.payer:
            present.add("payer")
        if self.locality:
            present.add("locality")
        return present

    def merged_with(self, earlier: "Entities") -> "Entities":
        """This question's entities, with ids a follow-up leaves out ('draft an appeal for it') from earlier."""
        update = {
            name: getattr(earlier, name)
            for name in ("claim_ids", "encounter_ids", "remittance_ids", "patient_ids")
            if not getattr(self, name) and getattr(earlier, name)
        }
        return self.model_copy(update=update) if update else self


def _pad(prefix: str, number: str, width: int) -> str:
    return f"{prefix}-{int(number):0{width}d}"


class _Scanner:
    """Finds entities left to right, masking each span found so later patterns do not read it again."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.masked = text
        self.replacements: list[tuple[int, int, str]] = []

    def take(self, pattern: re.Pattern[str], kind: str) -> list[re.Match[str]]:
        found = list(pattern.finditer(self.masked))
        for match in found:
            start, end = match.span()
            self.masked = self.masked[:start] + "\0" * (end - start) + self.masked[end:]
            self.replacements.append((start, end, f"[{kind}]"))
        return found

    def normalized(self) -> str:
        text = self.text
        for start, end, token in sorted(self.replacements, reverse=True):
            text = text[:start] + token + text[end:]
        return " ".join(text.split())


def _names(text: str) -> list[str]:
    found: list[str] = []
    for pattern in (_NAME_CUE, _PATIENT_CUE, _TWO_CAPS, _POSSESSIVE):
        for match in pattern.finditer(text):
            words = [w for w in match.group(1).removesuffix("'s").split() if w.casefold() not in NOT_NAMES]
            if words and " ".join(words) not in found:
                found.append(" ".join(words))
    return found


def spot_payer(question: str, payer_names: Sequence[str]) -> str | None:
    """The payer whose full name, or a distinctive word of it, the question uses."""
    lowered = question.casefold()
    words = set(re.findall(r"[a-z]+", lowered))
    for name in payer_names:
        if name.casefold() in lowered:
            return name
    for name in payer_names:
        distinctive = {
            w for w in re.findall(r"[a-z]+", name.casefold()) if w not in GENERIC_PAYER_WORDS and len(w) > 2
        }
        if distinctive & words:
            return name
    return None


def extract_entities(question: str, payer_names: Sequence[str] = ()) -> Entities:
    scan = _Scanner(question)
    entities = Entities()
    for match in scan.take(_CLAIM, "claim"):
        entities.claim_ids.append(match.group(1) if match.group(1) else _pad("clm", match.group(2), 6))
    for match in scan.take(_ENCOUNTER, "encounter"):
        entities.encounter_ids.append(match.group(1) if match.group(1) else _pad("enc", match.group(2), 6))
    for match in scan.take(_REMITTANCE, "remittance"):
        entities.remittance_ids.append(match.group(1) if match.group(1) else _pad("era", match.group(2), 5))
    entities.patient_ids = [m.group(1) for m in scan.take(_PATIENT_ID, "patient")]
    entities.locality = next((m.group(1) for m in scan.take(_LOCALITY, "locality")), None)
    for match in scan.take(_ISO_DATE, "date"):
        entities.dates.append(date(int(match.group(1)), int(match.group(2)), int(match.group(3))))
    for match in scan.take(_US_DATE, "date"):
        entities.dates.append(date(int(match.group(3)), int(match.group(1)), int(match.group(2))))
    entities.amounts = [Decimal(m.group(1).replace(",", "")) for m in scan.take(_AMOUNT, "amount")]
    days = scan.take(_DAYS, "days")
    entities.days = int(days[0].group(1)) if days else None
    for match in scan.take(_RARC, "rarc"):
        entities.rarc_codes.append((match.group(1) or match.group(2)).upper())
    for match in scan.take(_MODIFIER, "modifier"):
        code = (match.group(1) or match.group(2)).upper()
        if get_modifier(code) is not None:
            entities.modifiers.append(code)
    for match in scan.take(_CARC, "carc"):
        group, code = (
            (match.group(1), match.group(2)) if match.group(2) else ("", match.group(3) or match.group(4))
        )
        entities.carc_codes.append(f"{group.upper()}-{code.upper()}" if group else code.upper())
    for match in scan.take(_PROCEDURE, "cpt"):
        entities.procedure_codes.append(match.group(1).upper() + match.group(2).upper())
    for match in _ICD.finditer(scan.masked):
        code = match.group(1).upper()
        if icd10_exists(code):
            entities.diagnosis_codes.append(normalize_icd10(code))
            scan.masked = scan.masked[: match.start()] + "\0" * len(code) + scan.masked[match.end() :]
            scan.replacements.append((match.start(), match.end(), "[icd]"))
    lowered = question.casefold()
    entities.payer_kind = next((kind for word, kind in PAYER_KINDS.items() if word in lowered), None)
    entities.payer = spot_payer(question, payer_names)
    if not entities.patient_ids:
        entities.patient_names = _names(scan.masked.replace("\0", " "))
        for name in entities.patient_names:
            start = question.find(name)
            if start >= 0:
                scan.replacements.append((start, start + len(name), "[patient]"))
    entities.normalized = scan.normalized()
    return entities
