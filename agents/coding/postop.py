"""The surgeon's global period: a co-managed routine post-op visit (99024, no charge) and an unrelated problem seen
inside the global (its exam code with modifier 24). Conventions: evals/datasets/README.md (tune12 section) and
optometry-billing.md §2 (modifier 24)."""

import re
from datetime import date

from agents.coding.schemas import PriorVisit
from agents.coding.sections import ParsedNote, SectionKind

POSTOP_CODE = "99024"
UNRELATED_IN_GLOBAL = "24"
GLOBAL_DAYS = 90  # cataract and lens surgery, YAG capsulotomy: a 90-day global
# the operations whose global a co-managing optometrist works inside (CPT lens and capsule surgery)
_GLOBAL_SURGERY = frozenset(
    {"66821", "66830", "66840", "66850", "66852", "66920", "66930", "66940"}
    | {f"669{n}" for n in (82, 83, 84, 87, 88)}
)
_I = re.IGNORECASE
# the lens surgery the post-op words must be about (not SLT, a blepharoplasty or a hip)
_LENS_SURGERY = re.compile(
    r"\b(?:CE|cataract|phaco\w*|PCIOL|PC\s?IOL|IOL|lens\s+implant|pseudophak\w*|YAG|capsulotomy)\b", _I
)
# "Post-op week 1", "POD 29", "POV 1 mo", "two-week check after cataract surgery", "routine post-op course"
_POSTOP_VISIT = re.compile(
    r"\bpost-?op(?:erative)?\s+(?:visit|check|day|week|wk|month|mo|exam|appointment|appt)\b|\bPO[DVW]\s*#?\s*\d"
    r"|\bpost-?op(?:erative)?\s+course\b|\b(?:day|week|wk|month|mo)[- ]?\d+\s+post-?op\b"
    r"|\b(?:one|two|three|four|five|six|\d+)[- ](?:day|week|wk|month|mo)s?\s+(?:post-?op\w*|(?:check|visit)\s+after\s+"
    r"(?:(?:her|his|their|the)\s+)?(?:cataract\s+)?surgery)\b"
    # "here one month after cataract surgery on her right eye", "normal one-month course after cataract surgery" (not
    # a symptom "that started two weeks after cataract surgery")
    r"|\b(?:here|seen|back|returns?)\s+(?:today\s+)?(?:\d{1,2}|one|two|three|four|five|six)[- ](?:day|week|wk)s?\s+after\s+"
    r"(?:(?:her|his|their|the)\s+)?(?:cataract|lens)\s+surgery\b"
    r"|\b(?:here|seen|back|returns?)\s+(?:today\s+)?(?:[1-3]|one|two|three)[- ](?:month|mo)s?\s+after\s+"
    r"(?:(?:her|his|their|the)\s+)?(?:cataract|lens)\s+surgery\b"
    r"|\b(?:\d{1,2}|one|two|three|four|five|six)[- ](?:day|week|wk|month|mo)s?\s+course\s+after\s+"
    r"(?:(?:her|his|their|the)\s+)?(?:cataract|lens)\s+surgery\b",
    _I,
)
# "POW1", "POD 7", "Post-op week 3", "1 mo post-op": a visit counted from the operation, inside its 90 days
_POSTOP_INTERVAL = re.compile(
    r"\bPO[DW]\s*#?\s*\d{1,2}\b|\bPOM\s*#?\s*[1-3]\b|\bpost-?op(?:erative)?\s+(?:day|week|wk)\s*#?\s*\d{1,2}\b"
    r"|\bpost-?op(?:erative)?\s+(?:month|mo)\s*#?\s*[1-3]\b"
    r"|\b(?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten)[- ]?(?:day|week|wk)s?\s+post-?op\b"
    r"|\b(?:[1-3]|one|two|three)[- ]?(?:month|mo)s?\s+post-?op\b|\b(?:day|week|wk)[- ]?\d{1,2}\s+post-?op\b",
    _I,
)
_DATED = re.compile(r"[ \t:,(]*(?:on\s+)?\d{1,2}/\d{1,4}")
# "1-month post-op visit OD next month as scheduled": a post-op visit still to come
_LATER = re.compile(
    r"\b(?:next|scheduled|will|due|RTC|return|booked|planned|in\s+\d+\s+(?:days?|weeks?|months?))\b", _I
)
# the post-op check is not today's: done on another day, booked for later, or not charged at this visit
_POSTOP_NOT_TODAY = re.compile(
    r"\bpost-?op\b[^.\n]{0,40}\bnot\s+done\s+today\b"
    r"|\bahead\s+of\s+(?:his|her|their|the)\s+(?:scheduled\s+)?[\w\s-]{0,25}?post-?op"
    r"|\bseparate\s+from\s+today|\boutside\s+(?:that|the|this|her|his)\s+schedule\b|\bnot\s+charged\s+separately\b"
    r"|\bkeep\s+(?:the\s+|her\s+|his\s+)?[\w/\s-]{0,25}?post-?op\s+(?:visit|appointment|appt)",
    _I,
)
# the global is over: "postops done", "post-op period completed", "released from post-op care" (not the other eye's
# of another year: "OD post-op period was completed in 2025")
_GLOBAL_OVER = re.compile(
    r"(?:\bpost-?ops?\s+(?:(?:are|were)\s+)?(?:done|complete[d]?|finished)\b"
    r"|\bpost-?op(?:erative)?\s+(?:period|care)\s+(?:(?:OD|OS|OU)\s+)?(?:is\s+|was\s+|has\s+been\s+)?"
    r"(?:complete[d]?|over|done|ended)\b"
    r"|\bglobal\s+(?:period\s+)?(?:has\s+)?(?:ended|expired|is\s+over)\b)(?![^.\n]{0,15}\bin\s+(?:19|20)\d\d\b)",
    _I,
)


def in_global_period(note: ParsedNote, history: list[PriorVisit], day: date | None) -> bool:
    """Inside 90 days of a lens or capsule operation: the history's operation (or, when the surgeon's claim is not
    in it, the first of a run of post-op visits), or a note that opens as a post-op visit of a lens operation
    counted in days, weeks or up to three months; never when the note says the post-op period is over."""
    if _GLOBAL_OVER.search(note.text):
        return False
    opening = note.text[: _opening_end(note)]
    if _POSTOP_INTERVAL.search(opening) and _LENS_SURGERY.search(note.text):
        return True
    if day is None:
        return False
    starts = [d for d in (_operation_date(history, day), _stated_operation_date(note, day)) if d is not None]
    return any(0 <= (day - start).days <= GLOBAL_DAYS for start in starts)


# "S/p CE/IOL OD 1/1/26 and OS 2/19/26", "CE/PCIOL OD 01/27/2026": the operation dates the note states
# (a full date only: "1/24" may be January 2024; not "IOL Master ... 2/20/26" or "referred for cataract surgery 1/15/26")
_STATED_SURGERY = re.compile(
    r"(?<!referred\sfor\s)(?<!scheduled\sfor\s)(?<!planned\s)\b(?:CE|phaco\w*|PCIOL|IOL(?!\s?Master)"
    r"|cataract\s+(?:surgery|extraction))\b(?P<rest>[^.\n]{0,60})",
    _I,
)
_SLASH_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})\b")


def _stated_operation_date(note: ParsedNote, day: date) -> date | None:
    """The latest lens-operation date the note states on or before the visit (a year-less date is this year's)."""
    found: list[date] = []
    for match in _STATED_SURGERY.finditer(note.text):
        for month, dom, year in _SLASH_DATE.findall(match.group("rest")):
            full = int(year) + (2000 if len(year) == 2 else 0)
            try:
                stated = date(full, int(month), int(dom))
            except ValueError:
                continue
            if stated <= day:
                found.append(stated)
    return max(found, default=None)


def _operation_date(history: list[PriorVisit], day: date) -> date | None:
    """The latest lens operation before the visit, else the first post-op visit (99024) of the latest run of them
    (each within 90 days of the one before): roughly the day after the operation."""
    before = sorted((v for v in history if v.date <= day), key=lambda v: v.date)
    surgeries = [v.date for v in before if any(code in _GLOBAL_SURGERY for code in v.codes)]
    if surgeries:
        return surgeries[-1]
    postops = [v.date for v in before if POSTOP_CODE in v.codes]
    if not postops:
        return None
    first = postops[-1]
    for earlier in reversed(postops[:-1]):
        if (first - earlier).days > GLOBAL_DAYS:
            break
        first = earlier
    return first


def postop_check_today(note: ParsedNote) -> tuple[int, int] | None:
    """Where the note names the routine post-op check of a lens operation done at this visit (the visit's reason
    or the assessment), unless it puts the check off to another day."""
    if _POSTOP_NOT_TODAY.search(note.text):
        return None
    opening_end = _opening_end(note)
    places = [(0, opening_end)] + [
        (c.start, c.end) for c in note.clauses if c.section == SectionKind.ASSESSMENT
    ]
    for start, end in places:
        for found in _POSTOP_VISIT.finditer(note.text, start, end):
            sentence = note.sentence_at(found.start())
            sentence_end = sentence.end if sentence else found.end()
            if (
                # "1-month post-op 01/2026: UCVA 20/20": an earlier post-op visit, dated
                not _DATED.match(note.text, found.end())
                # "1-month post-op visit OD next month": the words right after it (not "..., return 3 wk")
                and not _LATER.search(note.text, found.end(), min(sentence_end, found.end() + 25))
                and _LENS_SURGERY.search(
                    note.text, max(0, found.start() - 200), max(opening_end, sentence_end)
                )
            ):
                return found.start(), found.end()
    return None


def _opening_end(note: ParsedNote) -> int:
    """The end of the note's first two sentences (where the visit's reason is)."""
    return note.sentences[1].end if len(note.sentences) > 1 else min(len(note.text), 200)
