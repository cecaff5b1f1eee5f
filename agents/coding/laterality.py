"""Which eye or eyelid a phrase names: OD/OS/OU, right/left/both eyes, RE/LE, RUL/RLL/LUL/LLL, puncta."""

import re
from dataclasses import dataclass

RIGHT, LEFT = "right", "left"
BOTH = frozenset({RIGHT, LEFT})

LIDS = ("RUL", "RLL", "LUL", "LLL")
LID_EYE = {"RUL": RIGHT, "RLL": RIGHT, "LUL": LEFT, "LLL": LEFT}
# Medicare's anatomic modifiers for the eyelids and their puncta (optometry-billing.md §2).
LID_MODIFIER = {"LUL": "E1", "LLL": "E2", "RUL": "E3", "RLL": "E4"}
EYE_MODIFIER = {RIGHT: "RT", LEFT: "LT"}

_FLAGS = re.IGNORECASE
_EYE_PATTERNS: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = (
    (
        re.compile(
            r"\bOU\b|\bboth\s+(?:eyes|sides)\b|\beach\s+eye\b|\beither\s+eye\b|\bbilateral(?:ly)?\b", _FLAGS
        ),
        BOTH,
    ),
    (re.compile(r"\bright\s+and\s+left\b|\bleft\s+and\s+right\b", _FLAGS), BOTH),
    (re.compile(r"\bBE\b|\bB\.E\."), BOTH),  # "both eyes" in British notes (case-sensitive: not the verb)
    (
        re.compile(
            r"\bOD\b|\bright(?:\s+eye)?\b(?!\s+(?:upper|lower|superior|inferior))|\bR\.E\.|\b(?:R|rt)\.?\s+eye\b",
            _FLAGS,
        ),
        frozenset({RIGHT}),
    ),
    (re.compile(r"\bRE\b"), frozenset({RIGHT})),
    # "acute L 4th nerve palsy": a bare R or L naming the side of a cranial nerve palsy, or of the diagnosis whose
    # name a reader cut off right after it
    (re.compile(r"\bR\b(?=\s+(?:3rd|4th|6th|third|fourth|sixth|CN)\b|[ \t]+$)"), frozenset({RIGHT})),
    (re.compile(r"\bL\b(?=\s+(?:3rd|4th|6th|third|fourth|sixth|CN)\b|[ \t]+$)"), frozenset({LEFT})),
    (
        re.compile(
            r"\bOS\b|\bleft(?:\s+eye)?\b(?!\s+(?:upper|lower|superior|inferior))|\bL\.E\.|\b(?:L|lt)\.?\s+eye\b",
            _FLAGS,
        ),
        frozenset({LEFT}),
    ),
    (re.compile(r"\bLE\b"), frozenset({LEFT})),
)
_LID_PATTERNS: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = (
    (
        re.compile(
            r"\bRUL\b|\bright\s+(?:upper|superior)\b|\bR\s+(?:upper|superior)\b|\bOD\s+(?:UL|upper|superior)\b"
            r"|\b(?:upper|superior)\s+(?:punctum|lid)\s+(?:OD|right)\b",
            _FLAGS,
        ),
        frozenset({"RUL"}),
    ),
    (
        re.compile(
            r"\bRLL\b|\bright\s+(?:lower|inferior)\b|\bR\s+(?:lower|inferior)\b|\bOD\s+(?:LL|lower|inferior)\b"
            r"|\b(?:lower|inferior)\s+(?:punctum|lid)\s+(?:OD|right)\b",
            _FLAGS,
        ),
        frozenset({"RLL"}),
    ),
    (
        re.compile(
            r"\bLUL\b|\bleft\s+(?:upper|superior)\b|\bL\s+(?:upper|superior)\b|\bOS\s+(?:UL|upper|superior)\b"
            r"|\b(?:upper|superior)\s+(?:punctum|lid)\s+(?:OS|left)\b",
            _FLAGS,
        ),
        frozenset({"LUL"}),
    ),
    (
        re.compile(
            r"\bLLL\b|\bleft\s+(?:lower|inferior)\b|\bL\s+(?:lower|inferior)\b|\bOS\s+(?:LL|lower|inferior)\b"
            r"|\b(?:lower|inferior)\s+(?:punctum|lid)\s+(?:OS|left)\b",
            _FLAGS,
        ),
        frozenset({"LLL"}),
    ),
    (
        re.compile(
            r"\bboth\s+(?:upper|superior)\b|(?<!and )(?<!& )(?<!\+ )(?<!/)(?<!right )(?<!left )\b(?:upper|superior)\s+(?:lids|eyelids|puncta)\b|\bbilateral\s+upper\b"
            # "the upper punctum of each eye" (not "... of each eye was patent")
            r"|\b(?:upper|superior)\s+punctum\s+(?:of|in)\s+(?:each|both)\s+(?:eyes?|sides?)\b(?!\s+(?:was|were|is|are)\s+(?:patent|open))",
            _FLAGS,
        ),
        frozenset({"RUL", "LUL"}),
    ),
    (
        re.compile(
            r"\bboth\s+(?:lower|inferior)\b|(?<!and )(?<!& )(?<!\+ )(?<!/)(?<!right )(?<!left )\b(?:lower|inferior)\s+(?:lids|eyelids|puncta)\b|\bbilateral\s+lower\b"
            r"|\b(?:lower|inferior)\s+punctum\s+(?:of|in)\s+(?:each|both)\s+(?:eyes?|sides?)\b(?!\s+(?:was|were|is|are)\s+(?:patent|open))",
            _FLAGS,
        ),
        frozenset({"RLL", "LLL"}),
    ),
    (
        re.compile(
            r"\ball\s+(?:4|four)\s+(?:lids|eyelids|puncta)\b|\ball\s+(?:4|four)\b|\bplugs?\s*x\s*4\b"
            r"|\beach\s+of\s+the\s+(?:4|four)\s+(?:puncta|lids)\b|\b(?:4|four)\s+puncta\b",
            _FLAGS,
        ),
        frozenset(LIDS),
    ),
)
_UPPER_AND_LOWER = re.compile(
    r"\bupper\s*(?:and|\+|&|/)\s*lower\b|\blower\s*(?:and|\+|&|/)\s*upper\b", _FLAGS
)
# "the right and left lower puncta": the same lid of both eyes
_BOTH_SIDES_LID = re.compile(
    r"\b(?:right\s*(?:and|&|/)\s*left|left\s*(?:and|&|/)\s*right)\s+(?P<lid>lower|inferior|upper|superior)\b",
    _FLAGS,
)


@dataclass(frozen=True)
class EyeMention:
    eyes: frozenset[str]
    start: int
    end: int


def eye_mentions(text: str) -> list[EyeMention]:
    """Every eye named in the text, in order (overlaps resolved in favour of the earlier, longer one)."""
    found: list[EyeMention] = []
    for pattern, eyes in _EYE_PATTERNS:
        found.extend(EyeMention(eyes, m.start(), m.end()) for m in pattern.finditer(text))
    for lids in lid_mentions(text):
        found.append(EyeMention(frozenset(LID_EYE[lid] for lid in lids.eyes), lids.start, lids.end))
    found.sort(key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[EyeMention] = []
    for mention in found:
        if not kept or mention.start >= kept[-1].end:
            kept.append(mention)
    return kept


def eyes_in(text: str) -> frozenset[str]:
    """All eyes the text names (right, left or both); empty when it names none."""
    return frozenset(eye for mention in eye_mentions(text) for eye in mention.eyes)


def lid_mentions(text: str) -> list[EyeMention]:
    """Eyelids (or their puncta) named in the text; `eyes` holds lid names (RUL, RLL, LUL, LLL)."""
    return [
        EyeMention(lids, m.start(), m.end())
        for pattern, lids in _LID_PATTERNS
        for m in pattern.finditer(text)
    ]


def lids_in(text: str) -> frozenset[str]:
    """The eyelids a phrase names; "upper and lower lids" with an eye means both lids of that eye."""
    lids = {lid for mention in lid_mentions(text) for lid in mention.eyes}
    for both in _BOTH_SIDES_LID.finditer(text):
        lids |= {"RLL", "LLL"} if both.group("lid").lower() in ("lower", "inferior") else {"RUL", "LUL"}
    if _UPPER_AND_LOWER.search(text):
        for eye in eyes_in(text) or BOTH:
            lids |= {lid for lid in LIDS if LID_EYE[lid] == eye}
    return frozenset(lids)
