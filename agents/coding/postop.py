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
# "Post-op week 1", "POD 29", "POV 1 mo", "two-week check after cataract surgery", "routine post-op course"
_POSTOP_VISIT = re.compile(
    r"\bpost-?op(?:erative)?\s+(?:visit|check|day|week|wk|month|mo|exam|appointment|appt)\b|\bPO[DVW]\s*#?\s*\d"
    r"|\bPOV\b|\bpost-?op(?:erative)?\s+course\b|\b(?:day|week|wk|month|mo)[- ]?\d+\s+post-?op\b"
    r"|\b(?:one|two|three|four|five|six|\d+)[- ](?:day|week|wk|month|mo)s?\s+(?:post-?op\w*|(?:check|visit)\s+after\s+"
    r"(?:(?:her|his|their|the)\s+)?(?:cataract\s+)?surgery)\b",
    _I,
)
# "POW1", "POD 7", "Post-op week 3", "1 mo post-op": a visit counted from the operation, inside its global
_POSTOP_INTERVAL = re.compile(
    r"\bPO[DWM]\s*#?\s*\d|\bpost-?op(?:erative)?\s+(?:day|week|wk|month|mo)\s*#?\s*\d"
    r"|\b(?:\d+|one|two|three|four|five|six)[- ]?(?:day|week|wk|month|mo)s?\s+post-?op\b"
    r"|\b(?:day|week|wk|month|mo)[- ]?\d+\s+post-?op\b",
    _I,
)
_DATED = re.compile(r"[ \t:,(]*(?:on\s+)?\d{1,2}/\d{1,4}")
# the post-op check is not today's: booked for later, done on another day, or not charged at this visit
_POSTOP_NOT_TODAY = re.compile(
    r"\bnot\s+done\s+today\b|\bahead\s+of\s+(?:his|her|their|the)\s+(?:scheduled\s+)?[\w\s-]{0,25}?post-?op"
    r"|\bseparate\s+from\s+today|\boutside\s+(?:that|the|this|her|his)\s+schedule\b|\bnot\s+charged\s+separately\b"
    r"|\bkeep\s+(?:the\s+|her\s+|his\s+)?[\w/\s-]{0,25}?post-?op\s+(?:visit|appointment|appt)",
    _I,
)
# the global is over: "postops done", "post-op period completed", "released from post-op care"
_GLOBAL_OVER = re.compile(
    r"\bpost-?ops?\s+(?:(?:are|were)\s+)?(?:done|complete[d]?|finished)\b"
    r"|\bpost-?op(?:erative)?\s+(?:period|care)\s+(?:(?:OD|OS|OU)\s+)?(?:is\s+|was\s+|has\s+been\s+)?"
    r"(?:complete[d]?|over|done|ended)\b"
    r"|\bglobal\s+(?:period\s+)?(?:has\s+)?(?:ended|expired|is\s+over)\b",
    _I,
)


def in_global_period(note: ParsedNote, history: list[PriorVisit], day: date | None) -> bool:
    """A lens or capsule operation, or a post-op visit, within the last 90 days (the history says so, or the note
    opens as a post-op visit counted in days, weeks or months), unless the note says the post-op period is over."""
    if _GLOBAL_OVER.search(note.text):
        return False
    if _POSTOP_INTERVAL.search(note.text, 0, _opening_end(note)):
        return True
    return day is not None and any(
        0 <= (day - visit.date).days <= GLOBAL_DAYS
        and any(code in _GLOBAL_SURGERY or code == POSTOP_CODE for code in visit.codes)
        for visit in history
    )


def postop_check_today(note: ParsedNote) -> tuple[int, int] | None:
    """Where the note names the routine post-op check done at this visit (the visit's reason or the assessment),
    unless it puts the check off to another day."""
    if _POSTOP_NOT_TODAY.search(note.text):
        return None
    places = [(0, _opening_end(note))] + [
        (c.start, c.end) for c in note.clauses if c.section == SectionKind.ASSESSMENT
    ]
    for start, end in places:
        for found in _POSTOP_VISIT.finditer(note.text, start, end):
            # "1-month post-op 01/2026: UCVA 20/20": an earlier post-op visit, dated
            if not _DATED.match(note.text, found.end()):
                return found.start(), found.end()
    return None


def _opening_end(note: ParsedNote) -> int:
    """The end of the note's first two sentences (where the visit's reason is)."""
    return note.sentences[1].end if len(note.sentences) > 1 else min(len(note.text), 200)
