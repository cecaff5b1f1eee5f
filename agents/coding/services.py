"""Services performed today: tests, refraction, contact lens fitting and minor procedures, with their modifiers."""

import re
from dataclasses import dataclass, field
from datetime import date

from agents.coding.diagnoses import MEDICAL_REFRACTIVE, FoundDiagnosis
from agents.coding.laterality import BOTH, EYE_MODIFIER, LID_MODIFIER, LIDS, eyes_in, lid_mentions, lids_in
from agents.coding.lexicon import Lexicon, load_lexicon
from agents.coding.schemas import PriorVisit
from agents.coding.sections import Clause, ParsedNote, SectionKind, line_bounds
from agents.coding.timing import AFTER_EARLIER_EXAM, REMOVED_ELSEWHERE, REMOVED_ELSEWHERE_BEFORE, in_quotes

_STRONG_TODAY = re.compile(
    r"(?<!not )(?<!not done )(?<!not placed )(?<!not repeated )(?<!reviewed )\btoday\b"
    r"|\bthis\s+(?:morning|afternoon|visit)\b",
    re.IGNORECASE,
)
# "no exam today", "No refraction today": the word names what was not done
_NOTHING_BEFORE = re.compile(
    r"\bno\s+(?:[\w-]+\s+)?(?:exam\w*|refraction|MRx|testing|tests?|imaging|photos?|OCT|fields?|dilation|procedures?)"
    r"\s+(?:was\s+|were\s+)?(?:done\s+|performed\s+|repeated\s+)?$",
    re.IGNORECASE,
)


def _said_today(text: str) -> bool:
    """The text says something was done today (this morning, this visit), not that something was not."""
    return any(not _NOTHING_BEFORE.search(text, 0, m.start()) for m in _STRONG_TODAY.finditer(text))


# a test's own line saying it was done today ("OCT mac (today)", "HVF performed", "[x] Fundus photos")
STATED_TODAY = re.compile(
    r"(?<!not )\btoday\b|\bperformed\b|\bobtained\b|\bacquired\b|\[[xX✓]\]", re.IGNORECASE
)
_GLAUCOMA_GROUPS = frozenset({"glaucoma", "optic_nerve"})
_RETINA_GROUPS = frozenset({"amd", "diabetes", "retina_vascular", "macula", "hcq", "retina_other"})
_SECOND_EYE = re.compile(
    r"second\s+eye|fellow\s+eye|bills?\s+(?:its|their)\s+own\s+technical|technical\s+(?:portion|component)",
    re.IGNORECASE,
)


_WIDE_GAP = re.compile(r"\S[ \t]{3,}\S")
_LIST_ITEM = re.compile(r"[ \t]*(?:\[[xX✓]\]|[-•*]|\d{1,2}[.)])|[^\n]*\[[xX✓]\]")


@dataclass
class FoundService:
    """A charge line the note supports, before diagnosis pointers are set."""

    code: str
    kind: str  # test | refraction | contact_lens | procedure | fitting
    evidence: list[tuple[int, int]]
    links: tuple[str, ...] = ()
    modifiers: list[str] = field(default_factory=list)
    units: int = 1
    basis: str = "today"  # today (stated) | result (a finding recorded in the exam) | inferred
    rationale: str = ""
    dx_codes: tuple[str, ...] = ()  # diagnoses the line must point to (procedures)


_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_MONTH_BEFORE = re.compile(rf"\b(?:his|her|their|the)\s+(?:{_MONTHS})\s+(?:[\w-]+\s+){{0,3}}$", re.IGNORECASE)
_MONTH_NAME = re.compile(rf"\b(?:{_MONTHS})\b", re.IGNORECASE)
# "we obtained the fields from the university glaucoma clinic", "... at her last visit" (not "at the first visit",
# which may be today's)
_FROM_ELSEWHERE = re.compile(
    r"\bfrom\s+(?:the\s+|her\s+|his\s+|their\s+)?(?:[\w-]+\s+){0,3}(?:clinic|office|hospital|practice|specialist|center"
    r"|surgeon|doctor|ophthalmologist|optometrist)\b|\bat\s+(?:the|her|his|their)\s+(?:last|prior|previous|earlier)"
    r"\s+(?:visit|exam|appointment)\b",
    re.IGNORECASE,
)
_TAKEN_AND_READ = re.compile(
    r"[^.;:\n]{0,30}?[ \t](?P<verb>(?:taken|obtained|performed|done|acquired|captured)"
    r"(?:[ \t]*\([^)\n]{0,30}\))?[ \t]+and[ \t]+(?:reviewed|interpreted|read))\b",
    re.IGNORECASE,
)
# a date or another place in the clause ("from 1/2025", "last spring", "Dr. Patel's"), not a history word ("hx of")
_ANOTHER_DAY = re.compile(
    r"\b(?:from|on|dated|in)\s+(?:\d{1,2}/)?\d{1,2}/\d{2,4}|\b(?:19|20)\d\d\b|\blast\s+(?:year|spring|summer|fall|"
    r"autumn|winter|month|week|visit|time)\b|\bago\b|\b(?:at|on|from|during)\s+(?:the\s+|her\s+|his\s+)?(?:prior|previous)"
    r"\s+(?:visit|exam)\b|\boutside\b|\b(?:per|by)\s+Dr\b"
    r"|\b(?:from|by)\s+(?:the\s+|her\s+|his\s+)?(?:prior|previous|outside|referring|other)\s+(?:doctor|OD|MD|optometrist"
    r"|ophthalmologist|provider|office|practice)\b"
    r"|\bDr\.?\s+[\w-]+[’']s\b",
    re.IGNORECASE,
)
_DONE_BEFORE = re.compile(
    r"\byesterday\b|\bon\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
    r"|\bat\s+the\s+(?:ER|ED|emergency|urgent\s+care|hospital)\b|\b(?:days?|weeks?)\s+ago\b|\blast\s+(?:week|visit)\b",
    re.IGNORECASE,
)
_TICKED_BEFORE = re.compile(r"\[[xX✓✔]\][ \t]*$")
# "Gonioscopy both eyes before laser referral": the test comes before the event to come, it is not the one to come;
# "CL fit, 1 wk after annual exam": the event named is an earlier one, its words say nothing of what comes next
_BEFORE_EVENT = re.compile(
    r"\b(?:before|ahead\s+of|in\s+preparation\s+for)\s+(?:(?:the|a|her|his|their)\s+)?(?:[\w-]+\s+){0,2}[\w-]+"
    r"|\b(?:\d+|one|two|three|four|a)\s*(?:d|days?|wks?|weeks?|mos?|months?)\s+(?:after|since|following)\s+"
    r"(?:(?:the|a|an|her|his|their|last)\s+)?"
    r"(?:[\w-]+\s+){0,2}?(?:exam\w*|visit|surgery|injection|fitting|procedure)\b",
    re.IGNORECASE,
)
_COMPARISON = re.compile(
    r"\((?:was|prev(?:ious(?:ly)?)?|prior|last|old)\s+(?:[+-]\s?\d|\d+\.\d|pl(?:ano)?\b)[^)\n]*\)"
    # "Kmax 55.8 D (06/2025: 54.3 D)": the earlier value, dated; "sup thinning unchanged from 6/25": its date
    r"|\(\s*(?:\d{1,2}/)?\d{1,2}/\d{2,4}\s*:[^)\n]*\)"
    r"|\b(?:unchanged|unch|stable|same|no\s+change|improved|worse)\s+(?:from|since|vs?\.?|versus|c/w|compared\s+(?:to|with))\s+"
    r"(?:\d{1,2}/)?\d{1,2}/\d{2,4}\b",
    re.IGNORECASE,
)


def performed(note: ParsedNote, clause: Clause, mention_start: int, lexicon: Lexicon) -> str | None:
    """How we know a service named in this clause was done today: "today", "result", or None (not today)."""
    text = note.span(clause)
    if len(text) > 160 and _WIDE_GAP.search(text):
        # an EHR export flattened into one long line: the cues that count are the mention's own cell's
        clause = next((c for c in note.clauses if c.start <= mention_start < c.end), clause)
        text = note.span(clause)
    before = note.text[max(clause.start, mention_start - 25) : mention_start]
    line_start = line_bounds(note.text, mention_start)[0]
    cues = lexicon.cues
    # "Corneal topography was performed today to design the lenses (it could not be done in February ...)": the
    # test's own "was performed today" outranks a negation elsewhere in the sentence about another day
    own = _OWN_DONE.match(note.text, mention_start)
    if (
        own
        and _TODAY_AFTER.match(note.text, own.end())
        and not cues["not_done"].search(note.text[mention_start : own.end()])
        and not cues["before_mention_negation"].search(before)
        and not cues["before_mention_past"].search(before)
    ):
        return "today"
    # "Because the hemorrhages have increased since last year we obtained a macular OCT today", "with the new
    # refraction OD -2.50 ...": our own verb right before the service, with nothing after it in the clause placing
    # it on another day, outranks a past cue before the verb (which dates what prompted it)
    after = note.text[mention_start : clause.end]
    dated_before = (
        cues["before_mention_past"].search(before)
        or _MONTH_NAME.search(note.text, clause.start, mention_start)
        or _ANOTHER_DAY.search(before)
    )
    if (
        cues["before_mention_done"].search(before)
        and not cues["not_done"].search(text)
        and not cues["past"].search(after)
        and not _ANOTHER_DAY.search(after)
        and not _FROM_ELSEWHERE.search(after)
        and not cues["future"].search(after[:40])
        and not cues["before_mention_negation"].search(before)
        # "At the first visit in December we obtained a macular OCT": the date before the verb dates the test,
        # unless the test is said to be today's
        and (not dated_before or _said_today(after[:60]))
    ):
        return "today"
    if (
        cues["not_done"].search(text)
        or cues["patient_paid"].search(text)
        or cues["before_mention_negation"].search(before)
        or cues["before_mention_past"].search(before)
        or _ELSEWHERE_BEFORE.search(note.text, clause.start, mention_start)
        # "her September nerve fiber OCT" (not "we repeated the October 24-2 HVF today")
        or (_MONTH_BEFORE.search(before) and not _said_today(text))
        # "Prior testing on file: gonioscopy 02/2024 ...; pachymetry 2023 548/552": the line's label, or a year
        # right after the test's name, dates it before today
        or (
            any(_PAST_LABEL.match(note.text, at, mention_start) for at in (line_start, clause.start))
            and not _said_today(text)
        )
        or _YEAR_AFTER.match(note.text, _name_end(note.text, mention_start))
        # "the retinal photos taken in your office": another office's test, whatever day the patient was seen
        or _ELSEWHERE_AFTER.match(note.text, _name_end(note.text, mention_start))
        # "We obtained the HVF printouts from the university glaucoma clinic", "... OCT at her last visit"
        or _FROM_ELSEWHERE.search(note.text, mention_start, clause.end)
        # "MRx 5/5: OD pl, OS -3.50": a label dated to another visit; "HVF 24-2 (12/2025: MD -2.1)": the test's date
        or (_DATE_AFTER.match(note.text, _name_end(note.text, mention_start)) and not _said_today(text))
        or _DATED_RESULT.match(note.text, mention_start)
        # "HVF 24-2 from 12/2025 reviewed with pt": the test named with its own (earlier) date
        or _DATED_NAME.match(note.text, mention_start)
    ):
        return None
    # "fundus photos OU taken (Optos) and reviewed": taken and read at this visit, unless the clause dates it to
    # another day or puts it off ("to be taken and reviewed next visit", "from 1/2025 obtained and reviewed")
    taken = _TAKEN_AND_READ.match(note.text, mention_start)
    if taken and not cues["not_done"].search(text):
        rest = note.text[clause.start : taken.start("verb")] + note.text[taken.end("verb") : clause.end]
        if not _ANOTHER_DAY.search(rest) and not cues["future"].search(text):
            return "today"
    # "TESTING PERFORMED TODAY / [x] Fundus photography OU - baseline for comparison at follow-up": a ticked box
    # under a today heading is a test done, whatever its line says it is for
    if _TICKED_BEFORE.search(before) and _under_today_heading(note, clause):
        return "today"
    # "Manifest refraction was performed: ...": the service's own verb, unless a date follows it
    if own and not cues["past"].search(note.text[clause.start : own.end() + 30]):
        return "today"
    # "recommends completing the baseline 10-2 field next week, ... today's findings": the words around the
    # mention say when, not a "today" elsewhere in the sentence
    near = _BEFORE_EVENT.sub(
        " ",
        _words_around(note.text, max(clause.start, mention_start - 40), min(clause.end, mention_start + 60)),
    )
    if cues["future"].search(near) and not _said_today(near):
        return None
    # under a "Tests performed today:" heading, a later date is the comparison ("unchanged from 10/2024")
    strong = bool(_said_today(text))
    if not strong and cues["reviewed_only"].search(text) and not cues["done_today"].search(text):
        return None
    today = strong or _under_today_heading(note, clause)
    # "add +2.50 (was +0.50 sph OU 1/25)": the earlier value it is compared with dates nothing done today
    current = _COMPARISON.sub(lambda m: " " * len(m.group()), text)
    if not today and (
        cues["past"].search(AFTER_EARLIER_EXAM.sub(" ", current))
        or cues["future"].search(_BEFORE_EVENT.sub(" ", current))
    ):
        return None
    if today:
        return "today"
    if clause.section in (SectionKind.PLAN, SectionKind.ASSESSMENT):
        return "today" if cues["done_today"].search(text) else None
    return "today" if cues["done_today"].search(text) else "result"


# a short label that opens the line ("Prior testing on file:"), not a colon somewhere in a long narrative line
_PAST_LABEL = re.compile(
    r"[ \t]*(?=[^:\n]{0,50}:)[^:\n]*?\b(?:prior|previous|past|historical|on\s+file)\b[^:\n]*:", re.IGNORECASE
)
# "MRx 5/5:" (not a field's pattern: "HVF 24/2:")
_DATED_NAME = re.compile(r"[^\n.;:]{0,25}?\b(?:from|dated)\s+(?:\d{1,2}/)?\d{1,2}/\d{2,4}\b", re.IGNORECASE)
# (the name, not a value: "avg 78 (12/25: 81)" compares today's result with an earlier one)
_DATED_RESULT = re.compile(r"(?:[^\n(:\d]|(?:24|30|10)-2){0,25}?\(\s*(?:\d{1,2}/)?\d{1,2}/\d{2,4}\s*:")
_DATE_AFTER = re.compile(r"[ \t]*\(?[ \t]*(?!(?:24|30|10)/2\b)\d{1,2}/\d{1,2}(?![/\d])[ \t]*\)?[ \t]*:")
_ELSEWHERE_AFTER = re.compile(
    r"[^.;\n]{0,30}?\b(?:taken|done|obtained|performed)\s+(?:in|at|by)\s+(?:your|the\s+referring|another|an?\s+outside)\b",
    re.IGNORECASE,
)
_YEAR_AFTER = re.compile(r"[ \t]*[(,]?[ \t]*(?:19|20)\d\d\b(?![/\d-])")
# "that office's OCT report", "the outside retina specialist's photos": another office's test
_ELSEWHERE_BEFORE = re.compile(
    r"\b(?:that|another|an?\s+outside|the\s+outside|the\s+other|the\s+referring)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:office|practice|clinic|doctor|specialist|surgeon|provider|practitioner)[’']s\s+(?:[\w-]+\s+)?$",
    re.IGNORECASE,
)


_TEST_NAME = re.compile(r"[A-Za-z][A-Za-z \t-]*?(?=[ \t]*(?:[(,]?[ \t]*\d|:|\n|$))")


def _name_end(text: str, start: int) -> int:
    """The end of the word(s) naming a test at `start` (up to the first digit, colon or line end)."""
    name = _TEST_NAME.match(text[start : start + 40])
    return start + (name.end() if name else 0)


def _words_around(text: str, start: int, end: int) -> str:
    """text[start:end] widened to whole words (a cut "plano" must not read as "plan")."""
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[start:end]


_OWN_DONE = re.compile(
    r"[^\n.;:]{0,40}?\b(?:was|were)\s+(?:performed|done|completed|obtained)\b", re.IGNORECASE
)
_TODAY_AFTER = re.compile(r"\s+today\b", re.IGNORECASE)
_TODAY_HEADING = re.compile(r"\b(?:today|performed|done)\b", re.IGNORECASE)


def _under_today_heading(note: ParsedNote, clause: Clause) -> bool:
    section = note.section_of(clause)
    # the heading's own line: "Diagnostic Studies (today):" keeps "(today)" outside the matched header word
    heading = (
        note.text[line_bounds(note.text, max(section.start - 1, 0))[0] : section.start] if section else ""
    )
    return (
        section is not None
        and section.kind == SectionKind.TESTS
        and bool(_TODAY_HEADING.search(section.header) or _TODAY_HEADING.search(heading))
    )


_FULL_DATE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/((?:19|20)?\d{2})(?![\d/])")
_COMPARED = re.compile(r"\b(?:since|from|vs\.?|versus|compared\s+(?:to|with)|than|prior)\s*$", re.IGNORECASE)


def _dated_before(text: str, day: date | None) -> bool:
    """A full date in the test's clause that is not the date of service ("OCT RNFL 03/14/2024: ..."), unless it
    is the date a result is compared with ("stable vs 03/14/2024")."""
    for match in _FULL_DATE.finditer(text):
        if _COMPARED.search(text[: match.start()]):
            continue
        month, dom, year = (int(g) for g in match.groups())
        year += 2000 if year < 100 else 0
        try:
            written = date(year, month, dom)
        except ValueError:
            continue
        if day is None or written != day:
            return True
    return False


def _tests(note: ParsedNote, lexicon: Lexicon, day: date | None = None) -> dict[str, FoundService]:
    found: dict[str, FoundService] = {}
    paid: set[str] = set()
    for clause in note.sentences:
        text = note.span(clause)
        hits: list[tuple[int, int, int]] = []  # start, end, test index
        for index, test in enumerate(lexicon.tests):
            for pattern in test.patterns:
                hits.extend((m.start(), m.end(), index) for m in pattern.finditer(text))
        hits.sort(key=lambda h: (-(h[1] - h[0]), h[0]))
        kept: list[tuple[int, int, int]] = []
        for hit in hits:
            if all(hit[1] <= k[0] or hit[0] >= k[1] for k in kept):
                kept.append(hit)
        for start, end, index in sorted(kept):
            test = lexicon.tests[index]
            if test.requires and not all(r.search(note.text) for r in test.requires):
                continue
            if lexicon.cues["patient_paid"].search(text) and not lexicon.cues["not_done"].search(text):
                paid.add(test.code)  # the image the patient paid for, wherever else the note names it
            basis = performed(note, clause, clause.start + start, lexicon)
            if (
                basis is None
                or _dated_before(text, day)
                or _another_days(note.text, clause.start, clause.start + start, clause.start + end, day)
            ):
                continue
            if basis == "result" and not text[end:].strip(" \t:-|"):
                continue  # a test's label with nothing after it ("OCT:  [ ] not done", masked): no result
            service = found.setdefault(
                test.code, FoundService(test.code, "test", [], test.links, basis=basis, rationale=test.label)
            )
            service.evidence.append((clause.start + start, clause.start + end))
            if basis == "today":
                service.basis = "today"
    # "No imaging today.": an imaging result in the exam is another day's ("No testing today": any test's)
    none_today = _NO_TESTS_TODAY.search(note.text)
    if none_today:
        imaging_only = none_today.group(1).lower() == "imaging"
        found = {
            code: s
            for code, s in found.items()
            if s.basis == "today" or (imaging_only and code not in _IMAGING)
        }
    return {
        code: s
        for code, s in found.items()
        if code not in paid and not _declined_later(note, lexicon, code, s)
    }


_CROSSED_AFTER = re.compile(r"[ \t:]*[✗✘]")
# "rims unchanged from baseline disc photos": the test a finding is compared with is an earlier one
_COMPARED_BEFORE = re.compile(
    r"\b(?:unchanged|stable|same|similar|no\s+change|changed?|different|progress\w*|enlarged|worse(?:ned)?|improved)"
    r"\s+(?:\w+\s+)?(?:from|since|vs\.?|versus|compared\s+(?:to|with)|relative\s+to|than)\s+"
    r"(?:(?:the|her|his|their|our)\s+)?(?:(?:baseline|prior|previous|old|last|earlier|original)\s+)?$",
    re.IGNORECASE,
)
_YEAR_BEFORE = re.compile(r"\b((?:19|20)\d\d)[ \t]+$")
# "Exam + OCT mac done 2/3": the test's own verb dated to a day that is not the date of service
_DONE_ON = re.compile(
    r"[^\n.;:]{0,20}?\b(?:done|performed|obtained|taken|completed)\s+(?:on\s+)?(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?(?![/\d])",
    re.IGNORECASE,
)
_REPEATED = re.compile(r"\b(?:repeat\w*|redo|redid|re-?did)\b", re.IGNORECASE)
_IMAGING = frozenset({"92133", "92134", "OCT", "92250", "92025", "92136"})
_NO_TESTS_TODAY = re.compile(
    r"\bno\s+(imaging|testing|tests|ancillary\s+tests?|diagnostic\s+tests?)\s+(?:was\s+|were\s+)?"
    r"(?:done\s+|performed\s+|obtained\s+)?today\b",
    re.IGNORECASE,
)


def _another_days(text: str, clause_start: int, start: int, end: int, day: date | None) -> bool:
    """The words right around a test's name make it another day's: "Fundus photos ✗", "unchanged from baseline
    disc photos", "on 2024 pachy" (not "we repeated her 2024 Humphrey")."""
    if _CROSSED_AFTER.match(text, end) or _COMPARED_BEFORE.search(
        text[max(clause_start, start - 60) : start]
    ):
        return True
    done_on = _DONE_ON.match(text, end)
    if done_on:
        month, dom, year = (int(g) if g else None for g in done_on.groups())
        same_day = (
            day is not None
            and (month, dom) == (day.month, day.day)
            and (year is None or year % 100 == day.year % 100)
        )
        if not same_day:
            return True
    year = _YEAR_BEFORE.search(text[max(clause_start, start - 12) : start])
    return bool(
        year
        and (day is None or int(year.group(1)) < day.year)
        and not _REPEATED.search(text[max(clause_start, start - 40) : start])
    )


_ABORTED = re.compile(
    r"\b(?:stopped|aborted|terminated|abandoned)\s+the\s+(?:test|field|scan)\b|\bno\s+(?:results?|printouts?|data)\s+"
    r"(?:(?:was|were)\s+)?(?:saved|obtained|recorded)\b",
    re.IGNORECASE,
)
_REFUSED = re.compile(
    r"\b(?:declined|refused|cancel+ed|not\s+obtained|not\s+taken|camera\s+(?:error|down|failure|malfunction)"
    r"|no\s+(?:\w+\s+)?obtained|unable\s+to\s+(?:obtain|complete|"
    r"perform)|could\s+not\s+be\s+(?:obtained|completed|performed))\b",
    re.IGNORECASE,
)


_PLAIN_NAMES = {
    "92083": re.compile(r"\b(?:visual\s+)?fields?\b", re.IGNORECASE),
    "92250": re.compile(r"\b(?:photos?|photographs?|imaging|(?:fundus\s+)?camera)\b", re.IGNORECASE),
}


_NOT_DONE_OPENING = re.compile(r"[ \t]*not\s+(?:done|repeated|performed|obtained)\b", re.IGNORECASE)


def _declined_later(note: ParsedNote, lexicon: Lexicon, code: str, service: FoundService) -> bool:
    """An addendum or later line saying the test was declined or never obtained: the final record wins over
    the plan or order that named it for today."""
    last = max(end for _, end in service.evidence)
    patterns = [p for test in lexicon.tests if test.code == code for p in test.patterns]
    if code in _PLAIN_NAMES:  # "declined visual field today": the plain name a refusal uses
        patterns.append(_PLAIN_NAMES[code])
    later = [clause for clause in note.sentences if clause.start >= last]
    # "...; the technician stopped the test after two minutes and no result was saved": the next clause says
    # "the test" without naming it (a clause naming another test speaks of that one)
    others = [p for test in lexicon.tests if test.code != code for p in test.patterns]
    # "OCT RNFL: last 09/2025; not done today, next due 09/2026": the next clause, on its line, says it was not
    if (
        later
        and (
            _ABORTED.search(note.span(later[0]))
            or (
                _NOT_DONE_OPENING.match(note.span(later[0]))
                and "\n" not in note.text[last : later[0].start]
                and not eyes_in(note.span(later[0]))  # "not obtained OS": the other eye was scanned
            )
        )
        and not any(p.search(note.span(later[0])) for p in others)
    ):
        return True
    return any(
        _REFUSED.search(text) and any(p.search(text) for p in patterns)
        for clause in later
        for text in (note.span(clause),)
    )


def _oct_site(found: dict[str, FoundService], groups: set[str]) -> None:
    """A bare "OCT" takes its site from the diagnoses; 92133 and 92134 are never billed together."""
    bare = found.pop("OCT", None)
    glaucoma, retina = bool(groups & _GLAUCOMA_GROUPS), bool(groups & _RETINA_GROUPS)
    if bare is not None and (glaucoma or retina):
        code = "92133" if glaucoma and not retina else "92134"
        target = found.setdefault(code, FoundService(code, "test", [], bare.links, basis=bare.basis))
        target.evidence += bare.evidence
        target.basis = "inferred" if target.basis != "today" else "today"
        target.links = next(t.links for t in load_lexicon().tests if t.code == code)
    if "92133" in found and "92134" in found:
        drop = "92134" if glaucoma and not retina else "92133"
        found.pop(drop)


# "Last year her spec Rx was deferred", "deferred at the 1-week visit": another visit's
_EARLIER = re.compile(
    r"\blast\s+(?:year|visit|time|exam)|\bprevious(?:ly)?\b|\bprior\b|\bin\s+(?:19|20)\d\d\b|\bago\b"
    r"|\bat\s+the\s+(?!next\b|following\b)(?:[\w-]+\s+){0,2}(?:visit|exam)\b",
    re.I,
)


_NO_BEFORE_RX = re.compile(r"\bno\b(?:[ \t]+[\w-]+){0,2}[ \t]*$", re.IGNORECASE)


_NEXT_RX_BEFORE = re.compile(r"\b(?:RTC|return\w*|come\s+back|next\s+visit)\b[^.;\n]*$", re.IGNORECASE)


def _refraction(note: ParsedNote, lexicon: Lexicon) -> FoundService | None:
    """A manifest refraction done today with a result: values after it (on its line or the lines under a
    "Manifest refraction" heading) or a final prescription stated anywhere in the note; none when the note puts
    the spectacle prescription off."""
    # "No new glasses Rx given" is no final Rx (its "Rx given" is the regex's match, the "no" before it)
    final_rx = next(
        (
            m
            for m in lexicon.refraction_final_rx.finditer(note.text)
            if not _NO_BEFORE_RX.search(note.text, max(0, m.start() - 25), m.start())
            # "RTC 1-2 wks for manifest refraction and final spectacle Rx": the next visit's
            and not _NEXT_RX_BEFORE.search(note.text, max(0, m.start() - 60), m.start())
        ),
        None,
    )
    if not final_rx and any(
        lexicon.refraction_no_final_rx.search(text) and not _EARLIER.search(text)
        for text in (note.span(s) for s in note.sentences)
    ):
        return None
    for clause in note.sentences:
        text = note.span(clause)
        for match in lexicon.refraction.finditer(text):
            basis = performed(note, clause, clause.start + match.start(), lexicon)
            if basis is None and (lexicon.cues["not_done"].search(text) or not _said_today(text)):
                continue
            start = clause.start + match.start()
            if (
                lexicon.refraction_values.search(_lines_after(note.text, start, 4))
                or final_rx
                or re.search(r"\bperformed\b|\bdone\b|final", text, re.I)
            ):
                return FoundService(
                    "92015",
                    "refraction",
                    [(start, clause.start + match.end())],
                    basis="today",
                    rationale="manifest refraction with a final endpoint",
                )
    return None


def _lines_after(text: str, start: int, lines: int) -> str:
    """From `start` to the end of its line and the next few lines, stopping at a blank line."""
    end = start
    for _ in range(lines):
        end = text.find("\n", end + 1)
        if end == -1:
            return text[start:]
        if text[end + 1 : end + 2] == "\n":
            break
    return text[start:end]


_ONE_EYE_ONLY = re.compile(
    r"\bonly\s+(?:the\s+)?(?:right|left)\s+eye\b|\b(?:right|left)\s+eye\s+only\b"
    r"|\b(?P<short>OD|OS)\s+only\b",
    re.IGNORECASE,
)
# "Fit the left eye with a daily disposable ...; right eye not fit": the fitted eye is the other one
_OTHER_EYE_NOT_FIT = re.compile(r"\b(?:right|left)\s+eye\s+(?:was\s+)?not\s+fit(?:ted)?\b", re.IGNORECASE)
_BOTH_EYES = re.compile(r"\bOU\b|\bboth\s+eyes\b", re.IGNORECASE)
_FITTED = re.compile(r"\b(?:was|were)\s+fitted\b|\blens(?:es)?\s+fitted\s+(?:on|to|in)\b", re.IGNORECASE)


_AS_PLANNED_REST = re.compile(r"\bas\s+(?:planned|scheduled|discussed)\b[^.;\n]*", re.IGNORECASE)
_VISIT_FOR = re.compile(r"(?:here|in|back|presents)\s+for\b", re.IGNORECASE)
# "the fitting was postponed", "fit when quiet": the visit's fitting did not happen
_FIT_PUT_OFF = re.compile(
    r"\bfit(?:ting)?\s+(?:was\s+|is\s+)?(?:postponed|deferred|rescheduled|cancel+ed|held)\b|\bfit\s+(?:when|once|after)\b",
    re.IGNORECASE,
)
_AFTER_EARLIER = re.compile(r"\b(?:after|since)\s+(?:his|her|their)\s+(?:[\w-]+\s+){0,3}$", re.IGNORECASE)


def _contact_lens_fit(note: ParsedNote, lexicon: Lexicon) -> FoundService | None:
    """The fitting done today; a fit of one eye only (every fitting line that names an eye names the same one)
    takes modifier 52."""
    found: FoundService | None = None
    eyes: set[str] = set()
    for clause in note.sentences:
        text = note.span(clause)
        match = lexicon.cl_fit.search(text) or _centration_on_lens_line(note, clause)
        if match is None:
            continue
        # "only the left eye was fitted", the assessment's "CL fit left eye only": that eye, wherever it is said
        only = _ONE_EYE_ONLY.search(text)
        if only and only.group("short") and _BOTH_EYES.search(text):
            only = None  # "fitting OU ..., mild staining OS only": a both-eye fit with a one-eye finding
        other = _OTHER_EYE_NOT_FIT.search(text)
        if only:
            eyes |= eyes_in(only.group())
        elif other:
            eyes |= BOTH - eyes_in(other.group())
        if _AFTER_EARLIER.search(text[: match.start()]):
            continue  # "returns two weeks after her first soft contact lens fitting": an earlier visit's fit
        basis = performed(note, clause, clause.start + match.start(), lexicon)
        fitted = _FITTED.search(text)
        if (
            basis is None
            and fitted
            and not lexicon.cues["not_done"].search(text)
            and (only or not lexicon.cues["before_mention_negation"].search(text[: fitted.start()]))
        ):
            basis = "today"  # the fit's own verb ("No lens was fitted on the right eye" is no fit)
        if _VISIT_FOR.match(match.group()):
            # "KCN OU, here for RGP fit as planned 12/2.": the fit is the visit's own reason, unless the sentence
            # dates it to another day or the note says it was put off
            reason = _AS_PLANNED_REST.sub(" ", text)
            basis = (
                None
                if any(lexicon.cues[cue].search(reason) for cue in ("not_done", "past", "future"))
                or _FIT_PUT_OFF.search(note.text)
                else "today"
            )
        if basis is None:
            continue
        if not (only or other):
            eyes |= eyes_in(text)
        if found is None:
            found = FoundService(
                lexicon.cl_fit_code,
                "contact_lens",
                [(clause.start + match.start(), clause.start + match.end())],
                ("refractive",),
                basis=basis,
                rationale="contact lens fitting done today",
            )
    if found is not None and len(eyes) != 1:
        # a fitting table with OD/OS columns names no eye; "wants a contact lens for the left eye only" does
        eyes = _one_lens_eye(note) or eyes
    if found is not None and len(eyes) == 1:
        found.modifiers = ["52"]
    return found


# "CL: OD 1-day sph 8.5/14.2 -4.00; OS ... . Centered, ~1 mm mvmt OU": the lens line's fit assessment
_CENTRATION = re.compile(
    r"\s*(?:well[- ])?cent(?:ered|ration)\b[^.\n]{0,60}\b(?:mvmt|movement|mov\b|rotation|rot\b)", re.I
)
_LENS_LINE = re.compile(r"[ \t]*(?:CLs?|contact\s+lens(?:es)?|SCL|trial\s+lens(?:es)?)\s*:", re.IGNORECASE)


def _centration_on_lens_line(note: ParsedNote, clause: Clause) -> re.Match[str] | None:
    """A sentence of a "CL:" line, not its first, that rates the lens's centration and movement."""
    line_start = line_bounds(note.text, clause.start)[0]
    if clause.start == line_start or not _LENS_LINE.match(note.text, line_start):
        return None
    return _CENTRATION.match(note.span(clause))


_LENS_WORDS = re.compile(r"\b(?:contact\s+lens(?:es)?|CLs?)\b", re.IGNORECASE)


def _one_lens_eye(note: ParsedNote) -> frozenset[str]:
    """The one eye every "(contact lens ...) left eye only" sentence names, if any (else empty)."""
    eyes: set[str] = set()
    for clause in note.sentences:
        text = note.span(clause)
        only = _ONE_EYE_ONLY.search(text)
        if only and _LENS_WORDS.search(text) and not _BOTH_EYES.search(text):
            eyes |= eyes_in(only.group())
    return frozenset(eyes) if len(eyes) == 1 else frozenset()


# "As planned, ...", "so we went ahead with the planned occlusion: ...": done today as planned
_AS_PLANNED = re.compile(
    r"^\s*as\s+(?:planned|scheduled)\s*,|\b(?:went\s+ahead|proceeded)\s+with\s+the\s+(?:planned|scheduled)\b",
    re.IGNORECASE,
)


# "(planned 6/30)", "per plan 1/13": the day a procedure done today was planned
_PLANNED_ON = re.compile(
    r"\(?\b(?:per\s+plan|planned|as\s+planned)\s+(?:on\s+|at\s+the\s+)?\d{1,2}/\d{1,2}(?:/\d{2,4})?(?:\s+visit)?\)?",
    re.IGNORECASE,
)
# "LLL plug intact", "LLL plug not disturbed": a plug from before, seen in place (not a Procedure section's "plugs RLL
# and LLL, both in place and well seated", today's placement)
_PLUG_LEFT_ALONE = re.compile(
    r"\b(?:intact|still\s+in\s+place|(?:not\s+|un)disturbed|left\s+alone|untouched|remains?|retained|still\s+present)\b",
    re.IGNORECASE,
)


def _punctal_plugs(note: ParsedNote, lexicon: Lexicon) -> list[FoundService]:
    lids: set[str] = set()
    evidence: list[tuple[int, int]] = []
    for clause in note.sentences:
        text = note.span(clause)
        match = lexicon.plug.search(text)
        # a "Proc:" section is today's procedure ("Proc: silicone plugs RLL + LLL, well seated")
        done = lexicon.plug_done.search(text)
        if match is None or not (done or clause.section == SectionKind.PROCEDURE):
            continue
        if not done and (
            _PLUG_LEFT_ALONE.search(text) or _PLUG_REMOVED.search(text) or _PLUG_CHECK.search(text)
        ):
            continue  # "Proc: RUL plug removed w/ forceps (no charge)": a removal has no code
        cues = lexicon.cues
        # "As planned, after topical anesthetic, silicone plugs were placed": done today as planned
        timing = _AS_PLANNED.sub("", _PLANNED_ON.sub(" ", text))
        if cues["not_done"].search(text) or (
            not _said_today(text) and (cues["past"].search(timing) or cues["future"].search(timing))
        ):
            continue
        if done and _NEGATED_BEFORE.search(text[: done.start()]):
            continue  # "she does not want it replaced"
        named = _plugged_lids(text) or _listed_lids(note, clause) or _grid_lids(note, clause)
        if named:
            lids |= named
            evidence.append((clause.start + match.start(), clause.start + match.end()))
    # "Addendum: ... the right upper punctum was not touched": a correction takes that punctum back out
    for clause in note.sentences:
        text = note.span(clause)
        if _EARLIER_PLUGS.search(text):
            continue  # "At the 12/2025 visit no plug was placed in the LLL"
        for untouched in _PUNCTUM_UNTOUCHED.finditer(text):
            lids -= lids_in(untouched.group("site") or untouched.group("site2") or untouched.group("site3"))
    if not lids:
        table = (
            _placed_site_clauses(note, lexicon)
            or _plug_table(note, lexicon)
            or _plug_rows(note, lexicon)
            or _plug_site_rows(note, lexicon)
            or _eye_row_grid(note, lexicon)
        )
        if table:
            lids, evidence = set(table[0]), [table[1]]
    return [
        FoundService(
            "68761",
            "procedure",
            evidence,
            lexicon.plug_links,
            [LID_MODIFIER[lid]],
            rationale=f"punctal plug, {lid} punctum",
        )
        for lid in sorted(lids, key=lambda lid: LID_MODIFIER[lid])
        if lid in LIDS
    ]


def _placed_site_clauses(note: ParsedNote, lexicon: Lexicon) -> tuple[frozenset[str], tuple[int, int]] | None:
    """Under a plug procedure ("Proc: temp collagen plug trial, all 4 puncta"), one clause per site: "LUL - placed.
    LLL - placed. RUL - punctum stenotic -> NOT placed": each site placed is a punctum plugged today."""
    if not any(
        _placement_heading(note.span(c), lexicon)
        for c in note.sentences
        if c.section == SectionKind.PROCEDURE
    ):
        return None
    lids: set[str] = set()
    first: tuple[int, int] | None = None
    for clause in note.sentences:
        text = note.span(clause)
        if _SITE_PLACED.match(text) and not _NOT_PLUGGED.search(text):
            lids |= lids_in(text)
            first = first or (clause.start, clause.end)
    return (frozenset(lids), first) if lids and first else None


def _placement_heading(text: str, lexicon: Lexicon) -> bool:
    """A procedure line about plugs put in today: not an earlier placement, a check or removal, or plugs seen in
    place ("Both plugs in good position, no extrusion")."""
    return bool(
        lexicon.plug.search(text)
        and not _EARLIER_PLUGS.search(_PLANNED_ON.sub(" ", text))
        and not _PLUG_CHECK.search(text)
        and not _PLUG_LEFT_ALONE.search(text)
        and not _PLUG_SEEN.search(text)
    )


_PLUG_SEEN = re.compile(r"\bposition\b|\bextru\w*|\bseated\b|\bvisible\b", re.IGNORECASE)
# "Procedure: punctal plug check OU": a check of plugs already in, not a placement
_PLUG_CHECK = re.compile(
    r"\b(?:check|recheck|f/u|follow[- ]?up|eval\w*|removal|removed|retention)\b", re.IGNORECASE
)
# "LUL - placed", "RLL: inserted": a site and its placement, alone in a clause
_SITE_PLACED = re.compile(
    r"\s*(?:RUL|RLL|LUL|LLL|(?:right|left)\s+(?:upper|lower))(?:\s+punct\w*)?\s*[-:–]\s*(?:plug\s+)?(?:placed|inserted)\s*$",
    re.IGNORECASE,
)
_PLUG_REMOVED = re.compile(r"\b(?:removed|extracted|pulled|taken\s+out)\b", re.IGNORECASE)
_PUNCTUM_UNTOUCHED = re.compile(
    r"(?P<site>\b(?:RUL|RLL|LUL|LLL)\b|(?:\b(?:right|left|both)\s+)?\b(?:upper|lower)\s+punct(?:um|a)\b)\s+"
    r"(?:was|were)(?:\s+not|n['’]t)\s+(?:touched|plugged|occluded)\b"
    r"|\bno\s+plug\s+(?:was\s+)?(?:placed|put)\s+in\s+(?:the\s+)?(?P<site2>[^.;,\n]{0,30})"
    # "RUL - punctum stenotic, could not dilate safely -> NOT placed"
    r"|^\s*(?P<site3>RUL|RLL|LUL|LLL)\b[^.;\n]{0,60}?\bnot\s+(?:placed|plugged|inserted)\b",
    re.IGNORECASE,
)
# "she does not want it replaced": a placement denied
_NEGATED_BEFORE = re.compile(r"\b(?:not|no|never|n't|declin\w*|refus\w*)\b[^.;]{0,30}$", re.IGNORECASE)
# "because the left lower lid is inflamed I placed only one plug, in the right lower punctum": an eyelid that is the
# subject of a finding is not a punctum plugged, when the sentence also names a punctum
_LID_AS_EYELID = re.compile(r"[ \t]+(?:eye)?lids?\s+(?:is|was|has|looks|appears)\b", re.IGNORECASE)


def _plugged_lids(text: str) -> frozenset[str]:
    mentions = lid_mentions(text)
    puncta = [m for m in mentions if not _LID_AS_EYELID.match(text, m.end)]
    if puncta and len(puncta) < len(mentions):
        return frozenset(lid for m in puncta for lid in m.eyes)
    return lids_in(text)


_SITE_ROW = re.compile(
    r"^[ \t]*(?P<site>RUL|RLL|LUL|LLL|(?:right|left)\s+(?:upper|lower))(?:\s+punct\w*)?[ \t]{2,}(?P<cell>\S[^\n]*)$",
    re.IGNORECASE | re.MULTILINE,
)
_PLACED_WORD = re.compile(r"\b(?:placed|inserted)\b", re.IGNORECASE)
# a procedure written up above the table ("Procedure (proparacaine, punctal gauge):")
_PROCEDURE_ABOVE = re.compile(r"\bprocedure\b|\bgauge\w*|\bproparacaine\b|\bsized\b", re.IGNORECASE)
# (a procedure table's "silicone 0.4 mm   seated"; not a check's "plug in place, well seated")
_PLACED_CELL = re.compile(
    r"\b(?:placed|inserted)\b|^(?![^\n]*\b(?:in\s+place|intact|retained|still)\b)[^\n]*\bseated\b",
    re.IGNORECASE,
)
_YES_CELL = re.compile(r"^\s*(?:yes|[✓✔xX])\b", re.IGNORECASE)
# "s/p punctal occlusion OU 12/2025", "plugs were placed in January": a heading about an earlier placement
_EARLIER_PLUGS = re.compile(
    rf"\b(?:s/p|status\s+post|ago|last|previous(?:ly)?|prior)\b|\d{{1,2}}/\d{{2,4}}|\bin\s+(?:{_MONTHS}|(?:19|20)\d\d)\b",
    re.IGNORECASE,
)


def _plug_site_rows(note: ParsedNote, lexicon: Lexicon) -> tuple[frozenset[str], tuple[int, int]] | None:
    """A procedure table with a row per punctum under a plug line ("Silicone plugs inserted:" then "RLL   yes",
    "RUL   not plugged"; or "Punctum   Plug" then "Right lower   silicone 0.5 mm, placed"): each row whose cell
    says a plug went in is a punctum plugged today."""
    lids: set[str] = set()
    first: tuple[int, int] | None = None
    for row in _SITE_ROW.finditer(note.text):
        above = reversed(note.text[: row.start()].split("\n")[-7:])
        heading = next((line for line in above if lexicon.plug.search(line)), None)
        if heading is None or _EARLIER_PLUGS.search(heading):
            continue  # the table of another procedure, or of plugs placed before
        cell = row.group("cell")
        placed = _PLACED_CELL.search(cell) or (_YES_CELL.match(cell) and lexicon.plug_done.search(heading))
        if (
            placed
            and not _PLACED_WORD.search(cell)
            and not _YES_CELL.match(cell)
            and not _PROCEDURE_ABOVE.search(note.text, 0, row.start())
        ):
            placed = None  # "RLL  silicone 0.5 mm  well seated" at a plug check
        if placed and not _NOT_PLUGGED.search(cell):
            lids |= lids_in(row.group("site"))
            first = first or row.span("cell")
    return (frozenset(lids), first) if lids and first else None


_PUNCTA_ROW = re.compile(r"^[ \t]*(?:puncta|punctum|sites?)\b[^\n]*$", re.IGNORECASE | re.MULTILINE)


def _plug_table(note: ParsedNote, lexicon: Lexicon) -> tuple[frozenset[str], tuple[int, int]] | None:
    """A procedure table: a "Puncta   Right lower   Left lower" row naming the sites in its columns, and the
    rows under it saying a plug was placed ("Plug  silicone 0.5 mm ...", "Placement  good, flush ...")."""
    for row in _PUNCTA_ROW.finditer(note.text):
        sites = lids_in(row.group())
        if not sites or not _WIDE_GAP.search(row.group()):
            continue
        below = "\n".join(note.text[row.end() :].split("\n")[1:4])
        plug = lexicon.plug.search(below)
        if plug and lexicon.plug_done.search(below) and not lexicon.cues["not_done"].search(below):
            start = row.end() + 1 + plug.start()
            return sites, (start, start + len(plug.group()))
    return None


_PUNCTUM_ROW = re.compile(
    r"^[ \t]*(?P<lid>upper|lower)\s+punct(?:um|a)\b[ \t]{2,}(?P<od>\S.*?)[ \t]{2,}(?P<os>\S.*?)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_NOT_PLUGGED = re.compile(r"\bnot\b|\bno\s+plug|\b(?:open|patent)\b", re.IGNORECASE)


def _plug_rows(note: ParsedNote, lexicon: Lexicon) -> tuple[frozenset[str], tuple[int, int]] | None:
    """A procedure table with a row per punctum and OD/OS columns ("Lower punctum   silicone plug   silicone
    plug"): each cell that names a plug (not "not plugged") is a punctum plugged today."""
    if not lexicon.plug_done.search(note.text):
        return None
    lids: set[str] = set()
    first: tuple[int, int] | None = None
    for row in _PUNCTUM_ROW.finditer(note.text):
        for column, eye in (("od", "R"), ("os", "L")):
            cell = row.group(column)
            if lexicon.plug.search(cell) and not _NOT_PLUGGED.search(cell):
                lids.add(f"{eye}{row.group('lid')[0].upper()}L")
                first = first or row.span(column)
    return (frozenset(lids), first) if lids and first else None


# "              Upper        Lower" over "OD (right)   [x] 0.3 mm collagen   [ ] -": a grid with an eye per row
_LID_COLUMNS = re.compile(
    r"^[ \t]+(?:upper|lower)(?:\s+punct\w*)?(?:[ \t]{2,}|\t)(?:upper|lower)\b[^\n]*$",
    re.IGNORECASE | re.MULTILINE,
)
_OCCLUSION_PROCEDURE = re.compile(
    r"\bpunctal\s+occlusion\b|\bocclusion\s+of\s+(?:the\s+)?punct", re.IGNORECASE
)
# a cell or heading of a plug check, a removal or an irrigation ("[x] in place", "[x] removed intact")
_NOT_A_PLACEMENT = re.compile(
    r"\b(?:in\s+place|present|intact|retained|retention|removed|removal|extruded|irrigat\w*|dilat\w*|discuss\w*"
    r"|asking|after)\b",
    re.IGNORECASE,
)
_EYE_ROW = re.compile(r"[ \t]*(?P<eye>OD|OS|right|left)\b[^\n]*", re.IGNORECASE)
_CELL = re.compile(r"\S+(?: \S+)*")


def _eye_row_grid(note: ParsedNote, lexicon: Lexicon) -> tuple[frozenset[str], tuple[int, int]] | None:
    """A procedure grid with upper and lower puncta as columns and an eye per row: each checked cell (or one that
    names a plug on a note that places plugs) is a punctum plugged today, under the column heading above it."""
    lids: set[str] = set()
    first: tuple[int, int] | None = None
    for header in _LID_COLUMNS.finditer(note.text):
        # the grid of a placement: its heading or procedure line above says plugs went in today ("Procedure:
        # punctal occlusion", "Plugs placed:"), not a plug check, a removal or another lid procedure
        above = "\n".join(note.text[: header.start()].split("\n")[-12:])
        heading = [line for line in above.split("\n") if lexicon.plug.search(line)]
        if (
            not heading
            or not (lexicon.plug_done.search(above) or _OCCLUSION_PROCEDURE.search(above))
            or any(_EARLIER_PLUGS.search(line) or _NOT_A_PLACEMENT.search(line) for line in heading)
        ):
            continue
        columns = [(m.start(), m.group()[:5].lower()) for m in _CELL.finditer(header.group().expandtabs(8))]
        cursor = header.end() + 1
        for line in note.original[cursor:].split("\n")[:3]:
            row = _EYE_ROW.match(line)
            if row is None:
                break
            eye = "R" if row.group("eye").lower() in {"od", "right"} else "L"
            for cell in list(_CELL.finditer(line.expandtabs(8)))[1:]:
                lid = min(columns, key=lambda column: abs(column[0] - cell.start()))[1]
                text = cell.group()
                checked = re.match(r"\[[xX✓]\]", text) or (not _BOX.match(text) and lexicon.plug.search(text))
                if checked and not _NOT_PLUGGED.search(text) and not _NOT_A_PLACEMENT.search(text):
                    lids.add(f"{eye}{lid[0].upper()}L")
                    first = first or (cursor, cursor + len(line.rstrip()))  # the row (tabs shift its cells)
            cursor += len(line) + 1
    return (frozenset(lids), first) if lids and first else None


def _listed_lids(note: ParsedNote, clause: Clause) -> frozenset[str]:
    """The puncta of a procedure whose sites are listed under it ("Puncta occluded:" then checked boxes or
    bullets, one site list line after another)."""
    line_end = note.text.find("\n", clause.end)
    if line_end == -1:
        return frozenset()
    heading = note.text[clause.start : line_end].rstrip().endswith(":")
    listed: list[str] = []
    cursor = line_end + 1
    for line in note.text[cursor:].split("\n"):
        written = note.original[cursor : cursor + len(line)]
        cursor += len(line) + 1
        # list items and table rows ("RLL   silicone, 0.5 mm   [x]") continue the list; a blank line ends it
        if not (_LIST_ITEM.match(line) or (_WIDE_GAP.search(line) and _BOX.search(written))):
            break
        if _BOX.search(written) and not re.search(r"\[[xX✓]\]", written):
            continue  # an unchecked row is a site not done
        listed.append(line)
    # a heading line ("Puncta occluded today:") introduces its sites; otherwise only checked boxes do (a numbered
    # assessment after "plugs placed as above" is another problem, not a list of puncta)
    if not heading:
        listed = [line for line in listed if re.search(r"\[[xX✓]\]", line)]
    return lids_in("\n".join(listed))


_BOX = re.compile(r"\[[xX✓ ]?\]")


def _grid_lids(note: ParsedNote, clause: Clause) -> frozenset[str]:
    """The puncta checked in a grid row under a header row ("Right upper   Right lower ..." over "[ ]  [x] ..."):
    each checked box takes the column heading above it."""
    line_start = note.text.rfind("\n", 0, clause.start) + 1
    line_end = note.text.find("\n", clause.start)
    row = note.text[line_start : line_end if line_end != -1 else len(note.text)]
    if line_start == 0 or not _BOX.search(row):
        return frozenset()
    above_start = note.text.rfind("\n", 0, line_start - 1) + 1
    header = note.text[above_start : line_start - 1]
    columns = [(m.start(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", header)]
    checked: list[str] = []
    for box in re.finditer(r"\[[xX✓]\]", row):
        before = [name for start, name in columns if start <= box.start() + 2]
        if before:
            checked.append(before[-1])
    return lids_in("; ".join(checked))


_CORNEA_WORD = re.compile(r"\bcorneal?\b", re.IGNORECASE)
# "embedded in the temporal bulbar conjunctiva, 2 mm from the corneal limbus": its own object is the conjunctiva
_CONJ_OBJECT = re.compile(
    r"\s+(?:in|into|within|under)\s+(?:the\s+)?(?:[\w-]+\s+){0,2}(?:conj\w*|bulbar|tarsal|fornix|sclera)",
    re.IGNORECASE,
)
_NOT_AT_SLIT_LAMP = re.compile(r"\bnot\b|\bwithout\b|impossible", re.IGNORECASE)


_REMOVED_AT_SLIT_LAMP = re.compile(
    r"\b(?:removed|removal|lifted|taken\s+off|spudded)\b[^.\n]{0,40}?\b(?:at|with|under)\s+(?:the\s+)?(?:slit[- ]?lamp|SL)\b",
    re.IGNORECASE,
)


_PROPOSED_BEFORE = re.compile(
    r"\b(?:recommend\w*|offer\w*|advis\w*|suggest\w*|discuss\w*|propos\w*|declin\w*|refus\w*)\s+(?:[\w-]+\s+){0,2}$",
    re.IGNORECASE,
)
_NOT_DONE_AFTER = re.compile(
    r"[ \t]*(?:(?:was|were|is)[ \t]+)?(?:not[ \t]+(?:attempted|done|performed|possible)|deferred|declined)\b",
    re.I,
)


def _foreign_body(note: ParsedNote, diagnoses: list[FoundDiagnosis], lexicon: Lexicon) -> list[FoundService]:
    removal = next(
        (
            (c.start + m.start(), c.start + m.end())
            for c in note.sentences
            if c.section != SectionKind.PLAN
            for m in lexicon.fb_done.finditer(note.span(c))
            if not re.search(r"\b(?:no|not|without)\b", note.span(c)[: m.start()][-20:], re.I)
            # "I recommended removal at the slit lamp today ... she declined", "declined in-office removal": a
            # removal proposed or refused
            and not _PROPOSED_BEFORE.search(note.span(c), 0, m.start())
            # "removal was not attempted here", "removal deferred to cornea"
            and not _NOT_DONE_AFTER.match(note.span(c), m.end())
            and not REMOVED_ELSEWHERE.match(note.span(c), m.end())
            and not REMOVED_ELSEWHERE_BEFORE.search(note.span(c), 0, m.start())
            and not in_quotes(note.text, c.start + m.start())
            # "status post removal 03/10", "two days after we removed": removed at an earlier visit
            and not re.search(
                r"\b(?:status\s+post|s/p)\s+(?:\w+\s+)?$"
                r"|\b(?:hours?|days?|weeks?)\s+after\s+(?:we|I|he|she|they|Dr\.?\s+\w+)\s+$",
                note.span(c)[: m.start()][-30:],
                re.I,
            )
        ),
        None,
    )
    if removal is None:
        return []
    found: list[FoundService] = []
    for diagnosis in diagnoses:
        code = diagnosis.code
        if not (code.startswith(("T15.0", "T15.1")) and code.endswith("A")):
            continue
        site = "corneal" if code.startswith("T15.0") else "conjunctival"
        # the variant: an embedded conjunctival FB (65210), a corneal one taken off without the slit lamp (65220)
        if site == "conjunctival" and any(
            # "sand-grain FB superficially embedded" in the cornea says nothing of the conjunctival one
            (embedded := lexicon.fb_embedded.search(text))
            and (_CONJ_OBJECT.match(text, embedded.end()) or not _CORNEA_WORD.search(text))
            for text in (note.span(c) for c in note.sentences)
        ):
            site = "conjunctival_embedded"
        elif (
            site == "corneal"
            and lexicon.fb_no_slit_lamp.search(note.text)
            and not any(
                not _NOT_AT_SLIT_LAMP.search(m.group() + note.text[m.end() : m.end() + 20])
                for m in _REMOVED_AT_SLIT_LAMP.finditer(note.text)
            )
        ):
            site = "corneal_no_slit_lamp"
        eye = {"1": "right", "2": "left"}.get(_code_side(code))
        modifiers = [EYE_MODIFIER[eye]] if eye else []
        if any(s.code == lexicon.fb_codes[site] and s.modifiers == modifiers for s in found):
            continue
        found.append(
            FoundService(
                lexicon.fb_codes[site],
                "procedure",
                [*diagnosis.evidence[:1], removal],
                (),
                modifiers,
                rationale=f"{site.replace('_', ' ')} foreign body removed",
                dx_codes=(code,),
            )
        )
    return found


_LID_OF_CHAR = {"1": "RUL", "2": "RLL", "4": "LUL", "5": "LLL"}


_BANDAGE_LENS = re.compile(
    r"\bbandage\s+(?:soft\s+)?(?:contact\s+lens(?:es)?|CLs?|lens(?:es)?)\b|\bBCL\b", re.IGNORECASE
)
# "bandage CL from 1/31 in place", "BCL still in": a lens put on before today
_LENS_FROM_BEFORE = re.compile(
    r"\bin\s+place\b|\bstill\s+in\b|\bretained\b|\bfrom\s+\d{1,2}/\d{1,2}\b", re.IGNORECASE
)


def _code_side(code: str) -> str:
    """The side digit of a code: an eye-chapter code ends in it ("H18.832"), an eye injury carries it 6th
    ("S05.01XA", "T15.02XA"); a code outside both ("B00.52" herpesviral keratitis) names none."""
    if code.startswith("H"):
        return code[-1]
    if code.startswith(("S05.", "T15.")) and len(code) > 5:
        return code[5]
    return ""


def _by_diagnosis(note: ParsedNote, diagnoses: list[FoundDiagnosis], lexicon: Lexicon) -> list[FoundService]:
    """Procedures billed per lid or eye of the diagnosis they treat: the side is the diagnosis code's (H02.052
    right lower lid -> E4; H18.832 left eye -> LT; a bilateral code -> RT and LT)."""
    found: list[FoundService] = []
    cues = lexicon.cues
    for procedure in lexicon.dx_procedures:
        done = None
        for clause in note.sentences:
            text = note.span(clause)
            match = procedure.patterns.search(text)
            if match is None and procedure.kind == "fitting" and clause.section == SectionKind.PROCEDURE:
                match = _BANDAGE_LENS.search(text)  # "Procedure: Bandage soft contact lens OD - PureVision2"
            if (
                match is None
                # (a plan's next step, unless it says today: "P: Bandage CL placed OD today")
                or (clause.section == SectionKind.PLAN and not _said_today(text))
                or cues["not_done"].search(text)
            ):
                continue
            if _DONE_BEFORE.search(text) and not _said_today(text):
                continue  # "the corneal scraping on Saturday", "cultured at the ER yesterday"
            if cues["before_mention_negation"].search(text[max(0, match.start() - 20) : match.start()]):
                continue
            if not _said_today(text) and cues["future"].search(text):
                continue
            if procedure.kind == "fitting" and _LENS_FROM_BEFORE.search(text):
                continue  # "bandage CL from 1/31 in place, fit centered": the lens put on at an earlier visit
            done = (clause.start + match.start(), clause.start + match.end())
            break
        if done is None:
            continue
        # the eye the sentence names ("Bandage CL placed OD"), else the diagnosis code's side
        sentence = note.sentence_at(done[0])
        done_eyes = eyes_in(note.span(sentence)) if procedure.site == "eye" and sentence else frozenset()
        for diagnosis in diagnoses:
            if diagnosis.condition is None or diagnosis.condition.id not in procedure.conditions:
                continue
            side = _code_side(diagnosis.code)
            if procedure.site == "eye" and done_eyes:
                side = "3" if done_eyes == BOTH else ("1" if "right" in done_eyes else "2")
            if procedure.site == "lid":
                modifiers = [[LID_MODIFIER[_LID_OF_CHAR[side]]]] if side in _LID_OF_CHAR else [[]]
            else:
                modifiers = {"1": [["RT"]], "2": [["LT"]], "3": [["RT"], ["LT"]]}.get(side, [[]])
            for modifier in modifiers:
                if any(s.code == procedure.code and s.modifiers == modifier for s in found):
                    continue
                found.append(
                    FoundService(
                        procedure.code,
                        procedure.kind,
                        [*diagnosis.evidence[:1], done],
                        (diagnosis.group,),
                        modifier,
                        rationale=procedure.label,
                        dx_codes=(diagnosis.code,),
                    )
                )
    return found


def _biometry_modifiers(
    service: FoundService, note: ParsedNote, history: list[PriorVisit], diagnoses: list[FoundDiagnosis]
) -> None:
    """The first eye's biometry is billed globally; the second eye's is 92136-26 with its side."""
    second = any("92136" in visit.codes for visit in history) or bool(_SECOND_EYE.search(note.text))
    if not second:
        return
    # the eye whose cataract is coded is the eye measured for surgery; the biometry line's eye when the coded
    # cataracts name no single eye
    # (a "Biometry visit - 2nd eye. OD CE/PCIOL 01/2026" line names the operated eye, not the measured one)
    cataract_eyes = {d.code[-1] for d in diagnoses if d.group == "cataract"}
    eyes = frozenset({"right"} if cataract_eyes == {"1"} else {"left"} if cataract_eyes == {"2"} else set())
    if len(eyes) != 1:
        eyes = eyes_in(note.text[slice(*line_bounds(note.text, service.evidence[0][0]))])
    if len(eyes) == 1:
        service.modifiers = ["26", EYE_MODIFIER[next(iter(eyes))]]
        service.rationale = "second-eye biometry: professional component with the eye"


_PACHYMETRY = "76514"


def find_services(
    note: ParsedNote, diagnoses: list[FoundDiagnosis], history: list[PriorVisit], day: date | None = None
) -> list[FoundService]:
    """Tests, refraction, fitting and procedures performed today (not reviewed, planned or declined)."""
    lexicon = load_lexicon()
    groups = {d.group for d in diagnoses}
    tests = _tests(note, lexicon, day)
    _oct_site(tests, groups)
    medical = {d.group for d in diagnoses if d.condition is not None and not d.condition.refractive}
    medical |= {
        d.condition.id for d in diagnoses if d.condition is not None and d.condition.id in MEDICAL_REFRACTIVE
    }
    for code in [
        code for code, s in tests.items() if _needs_medical(code, lexicon) and not medical & set(s.links)
    ]:
        tests.pop(code)  # e.g. topography for a routine contact lens fit
    if "92136" in tests:
        _biometry_modifiers(tests["92136"], note, history, diagnoses)
    # for glaucoma, pachymetry is measured once: with one on file, a thickness the note gives without saying it was
    # measured today is that earlier result ("High-risk GS OU (CCT 498/502, C/D .65/.7)"); keratoconus is followed
    # with repeated pachymetry
    pachymetry = tests.get(_PACHYMETRY)
    if (
        pachymetry
        and pachymetry.basis == "result"
        and any(_PACHYMETRY in v.codes for v in history)
        and "keratoconus" not in groups
    ):
        tests.pop(_PACHYMETRY)
    services = list(tests.values())
    refraction = _refraction(note, lexicon)
    if refraction is not None:
        services.append(refraction)
    fit = _contact_lens_fit(note, lexicon)
    if fit is not None:
        aphakic = [d for d in diagnoses if d.condition is not None and d.condition.id == "aphakia"]
        if "keratoconus" in groups:
            fit.code, fit.links = lexicon.cl_fit_keratoconus_code, ("keratoconus",)
        elif aphakic:
            # an aphakic lens is billed per eye with its side (the eye of the aphakia code)
            side = {"1": ["RT"], "2": ["LT"]}.get(aphakic[0].code[-1], [])
            fit.code, fit.links, fit.modifiers = lexicon.cl_fit_aphakia_code, (aphakic[0].group,), side
            fit.rationale = "aphakic contact lens fitting"
        services.append(fit)
    services += _punctal_plugs(note, lexicon)
    services += _foreign_body(note, diagnoses, lexicon)
    services += _by_diagnosis(note, diagnoses, lexicon)
    # a bandage lens put on after a debridement or an FB removal of that eye is part of the procedure
    treated = {modifier for s in services if s.kind == "procedure" for modifier in s.modifiers}
    return [s for s in services if not (s.kind == "fitting" and treated & set(s.modifiers))]


def _needs_medical(code: str, lexicon: Lexicon) -> bool:
    return any(t.code == code and t.needs_medical_dx for t in lexicon.tests)
