"""The offline extractor: common clause shapes read sentence by sentence, each term citing its sentence."""

import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from agents.contracts.schemas import ContractExtraction, ExtractedTerm
from agents.contracts.sentences import Sentence, split_sentences

ENGINE_VERSION = "clauses-1"

_SMALL = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_NUMBER_WORD = "|".join([*sorted(_SMALL, key=len, reverse=True), "hundred"])
_WORD_NUMBER = re.compile(rf"\b(?:{_NUMBER_WORD})(?:(?:[\s-]+(?:and[\s-]+)?)(?:{_NUMBER_WORD}))*\b")
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"

NUM = r"(\d+(?:\.\d+)?)"
ECHO = r"(?:\s*\(\s*\d+(?:\.\d+)?\s*(?:%|percent)?\s*\))?"  # "ninety (90)", "110 percent (110%)"
PCT = rf"{NUM}{ECHO}\s*(?:%|percent\b|per cent\b){ECHO}"
DURATION = re.compile(rf"{NUM}{ECHO}\s*(?:calendar\s+|business\s+|working\s+)?(days?|months?|years?)\b")
DATE = rf"((?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{4}})"
CODE = re.compile(r"\b(\d{5}|[A-Z]\d{4})\b")
MONEY = r"\$\s?([\d,]+(?:\.\d{2})?)"

MEDICARE_BASIS = re.compile(
    rf"{PCT}\s+of\s+(?:the\s+)?(?:then[- ]current\s+|current\s+|prevailing\s+|applicable\s+|published\s+|"
    rf"participating\s+)*(?:(?:calendar\s+year\s+|cy\s*)?(20\d\d)\s+)?(?:cms\s+|traditional\s+|original\s+)?medicare"
)
MEDICARE_AFTER = re.compile(rf"medicare.{{0,140}}?(?:at|times|multiplied by|equal to|rate of)\s+{PCT}")
CHARGES_BASIS = re.compile(
    rf"{PCT}\s+of\s+(?:the\s+)?(?:provider'?s?\s+|its\s+|practice'?s?\s+)?(?:full\s+|total\s+|gross\s+)?"
    r"(?:usual,?\s+(?:and\s+)?customary(?:\s+charges?)?|billed\s+(?:charges?|amounts?)|charges)"
)
UNLISTED = re.compile(
    r"not\s+(?:listed|included|priced|set forth|shown)|unlisted|absent from|no (?:listed )?fee"
)
FEE_SCHEDULE_REF = re.compile(
    r"(?:fee schedule|fee maximums?|allowances?|rates?|amounts?)\b[^.;]{0,80}?"
    r"\b(exhibit|attachment|schedule|appendix|addendum)\s+([a-z0-9](?:[.-]?[0-9]+)?)\b"
)
FEE_SCHEDULE_NAMED = re.compile(
    r"\b(?:payer|plan|health plan|company)'?s?\s+(?:standard\s+|current\s+)?fee schedule"
)
LESSER_OF = re.compile(r"\b(?:lesser|lower)\s+of\b")
FILING_WORDS = re.compile(r"\b(?:file[ds]?|filing|submit(?:s|ted)?|submission|submitting|received)\b")
APPEAL_WORDS = re.compile(
    r"\b(?:appeals?|appealing|reconsideration|redetermination|disputes?|request(?:s)? for review|grievance)\b"
)
MULTIPLE_WORDS = re.compile(
    r"multiple[- ](?:surgical\s+)?procedures?|multiple procedure payment reduction|\bmppr\b|"
    r"second and subsequent|subsequent procedures?|additional procedures?"
)
DIAGNOSTIC_WORDS = re.compile(r"diagnostic|imaging|technical component|\btc\b|ophthalmic test")
NEGATION = re.compile(
    r"\b(?:not|never|no)\b[^.]{0,30}\b(?:apply|applied|reduce|reduced|subject)\b|\bshall not\b"
)
PRIOR_AUTH = re.compile(r"prior authori[sz]ation|pre-?authori[sz]ation|pre-?certification|precertification")
COINSURANCE = re.compile(rf"co-?insurance\s+(?:of\s+|at\s+|equal to\s+)?{PCT}|{PCT}\s+co-?insurance")
DEDUCTIBLE = re.compile(
    rf"deductible\s+(?:of\s+|is\s+|equal to\s+)?{MONEY}|{MONEY}\s+(?:annual\s+)?deductible"
)
COPAY = re.compile(rf"co-?pay(?:ment)?s?\s+(?:of\s+|is\s+)?{MONEY}|{MONEY}\s+co-?pay(?:ment)?")
COPAY_KINDS = (
    ("specialist", "specialist"),
    ("office visit", "office_visit"),
    ("materials", "materials"),
    ("exam", "exam"),
)
EFFECTIVE = re.compile(
    rf"effective\s+(?:as of\s+|on\s+|from\s+|beginning\s+)?{DATE}|{DATE}\s*\(?(?:the\s+)?[\"“]?effective date"
)
TERMINATION = re.compile(rf"(?:terminat\w*|expires?|through|until|ending)\s+(?:on\s+)?{DATE}")


def _words_to_number(words: str) -> int:
    total, current = 0, 0
    for word in re.split(r"[\s-]+", words):
        if word == "and" or not word:
            continue
        if word == "hundred":
            current = max(current, 1) * 100
        else:
            current += _SMALL[word]
    return total + current


def normalize(sentence: str) -> str:
    """Lower case, number words as digits ("one hundred ten percent (110%)" -> "110 percent (110%)")."""
    lowered = sentence.lower().replace("’", "'").replace("‘", "'")
    return _WORD_NUMBER.sub(lambda match: str(_words_to_number(match.group(0))), lowered)


def _number(text: str) -> int | float:
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else float(value)


def _days(count: str, unit: str) -> int:
    amount = Decimal(count)
    if unit.startswith("year"):
        return int(amount * 365)
    if unit.startswith("month"):
        return 365 if amount == 12 else int(amount * 30)
    return int(amount)


def _date(text: str) -> str | None:
    cleaned = re.sub(r"(\d)(st|nd|rd|th)", r"\1", text.replace(",", " "))
    cleaned = " ".join(cleaned.split())
    for layout in ("%B %d %Y", "%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(cleaned, layout).date().isoformat()
        except ValueError:
            continue
    return None


class OfflineTermExtractor:
    """Reads the pricing basis, filing and appeal limits, reductions, prior auth and cost share from prose."""

    name = "offline"
    version = ENGINE_VERSION

    def extract(self, text: str) -> ContractExtraction:
        terms: dict[str, ExtractedTerm] = {}
        for sentence in split_sentences(text):
            for term, value, confidence in self._read(sentence.text):
                # The first sentence that states a term is the clause; later mentions are cross-references.
                terms.setdefault(term, self._term(sentence, term, value, confidence))
        return ContractExtraction(engine=self.name, engine_version=self.version, terms=list(terms.values()))

    @staticmethod
    def _term(sentence: Sentence, term: str, value: Any, confidence: float) -> ExtractedTerm:
        return ExtractedTerm(
            term=term,
            value=value,
            sentence=sentence.text,
            start=sentence.start,
            end=sentence.end,
            confidence=confidence,
        )

    def _read(self, original: str) -> Iterator[tuple[str, Any, float]]:
        sentence = normalize(original)
        yield from self._basis(sentence)
        yield from self._limits(sentence)
        yield from self._reductions(sentence)
        if PRIOR_AUTH.search(sentence):
            codes = list(dict.fromkeys(CODE.findall(original.upper())))
            if codes:
                yield "prior_auth_codes", codes, 0.85
        yield from self._cost_share(sentence)
        yield from self._dates(sentence)

    def _basis(self, sentence: str) -> Iterator[tuple[str, Any, float]]:
        medicare = MEDICARE_BASIS.search(sentence) or MEDICARE_AFTER.search(sentence)
        charges = CHARGES_BASIS.search(sentence)
        if charges and UNLISTED.search(sentence):
            yield "unlisted_percent_of_charges", _number(charges.group(1)), 0.8
            charges = None
        if medicare:
            yield "basis", "percent_of_medicare", 0.9
            yield "percent", _number(medicare.group(1)), 0.9
            year = medicare.group(2) if medicare.re is MEDICARE_BASIS else None
            year = year or self._schedule_year(sentence)
            if year:
                yield "medicare.year", int(year), 0.85
            locality = re.search(r"locality\s+(?:number\s+|no\.?\s+|code\s+)?(\d{5}-\d{2})", sentence)
            if locality:
                yield "medicare.locality", locality.group(1), 0.85
        elif charges:
            yield "basis", "percent_of_charges", 0.85
            yield "percent", _number(charges.group(1)), 0.85
        reference = FEE_SCHEDULE_REF.search(sentence)
        if reference and not medicare and not charges and not UNLISTED.search(sentence):
            yield "basis", "fee_schedule", 0.85
            yield "fee_schedule_reference", f"{reference.group(1).title()} {reference.group(2).upper()}", 0.85
        elif FEE_SCHEDULE_NAMED.search(sentence) and not medicare and not charges:
            yield "basis", "fee_schedule", 0.75
            yield "fee_schedule_reference", "payer fee schedule", 0.75
        if LESSER_OF.search(sentence) and re.search(r"billed|charge", sentence):
            yield "lesser_of_billed", True, 0.85

    @staticmethod
    def _schedule_year(sentence: str) -> str | None:
        """A year naming the fee schedule ("for calendar year 2024"), not one inside a date."""
        for found in re.finditer(r"\b(20\d\d)\b", sentence):
            before = sentence[max(0, found.start() - 12) : found.start()]
            if re.search(rf"(?:{_MONTHS})\s+\d{{1,2}},?\s*$|\d/\s*$", before):
                continue
            return found.group(1)
        return None

    @staticmethod
    def _limits(sentence: str) -> Iterator[tuple[str, Any, float]]:
        duration = DURATION.search(sentence)
        if duration is None:
            return
        days = _days(duration.group(1), duration.group(2))
        if APPEAL_WORDS.search(sentence):
            yield "appeal_days", days, 0.85
        elif FILING_WORDS.search(sentence) and re.search(r"\bclaims?\b|\bbills?\b|encounter", sentence):
            yield "timely_filing_days", days, 0.9

    @staticmethod
    def _reductions(sentence: str) -> Iterator[tuple[str, Any, float]]:
        if not MULTIPLE_WORDS.search(sentence):
            return
        negated = bool(NEGATION.search(sentence))
        percents = [Decimal(found.group(1)) for found in re.finditer(PCT, sentence)]
        cut = re.search(rf"\bby\s+{PCT}", sentence) if "reduc" in sentence else None
        if DIAGNOSTIC_WORDS.search(sentence):
            if negated:
                yield "mppr_diagnostic", {"applies": False}, 0.8
                return
            paid = 80
            if cut:
                paid = int(100 - Decimal(cut.group(1)))
            elif percents:
                paid = int(percents[-1])
            yield "mppr_diagnostic", {"applies": True, "tc_pct": paid}, 0.8
            return
        if negated:
            yield "multiple_procedure", None, 0.75
            return
        if cut and len(percents) == 1:
            schedule = [100, int(100 - Decimal(cut.group(1)))]
        else:
            schedule = [int(p) for p in percents] or [100, 50]
            if schedule[0] != 100:
                schedule = [100, *schedule]
        yield "multiple_procedure", {"schedule": schedule}, 0.75

    @staticmethod
    def _cost_share(sentence: str) -> Iterator[tuple[str, Any, float]]:
        if found := COINSURANCE.search(sentence):
            yield "cost_share.coinsurance_pct", _number(found.group(1) or found.group(2)), 0.8
        if found := DEDUCTIBLE.search(sentence):
            yield "cost_share.deductible", (found.group(1) or found.group(2)).replace(",", ""), 0.8
        if found := COPAY.search(sentence):
            kind = next((kind for words, kind in COPAY_KINDS if words in sentence), "office_visit")
            amount = (found.group(1) or found.group(2)).replace(",", "")
            yield "cost_share.copay", {"kind": kind, "amount": amount}, 0.75

    @staticmethod
    def _dates(sentence: str) -> Iterator[tuple[str, Any, float]]:
        if found := EFFECTIVE.search(sentence):
            when = _date(found.group(1) or found.group(2))
            if when:
                yield "effective", when, 0.8
        if (found := TERMINATION.search(sentence)) and re.search(r"terminat|expire|term of", sentence):
            when = _date(found.group(1))
            if when:
                yield "termination", when, 0.75
