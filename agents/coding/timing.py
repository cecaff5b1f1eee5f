"""Phrases that place an exam on an earlier day than the visit being coded."""

import re

# "CL fit, 1 wk after annual exam (5/5)", "following her comprehensive exam last week": what follows the exam is
# today's, the exam itself an earlier visit
AFTER_EARLIER_EXAM = re.compile(
    r"\b(?:\d+|one|two|three|four|a)\s*(?:d|days?|wks?|weeks?|mos?|months?)\s+(?:after|following)\s+"
    r"(?:(?:his|her|their|the|an?|last)\s+)?(?:[\w-]+\s+){0,2}?exam\w*\b(?:\s*\([^)\n]*\))?"
    r"|\b(?:after|following|since)\s+(?:(?:his|her|their|the)\s+)?(?:[\w-]+\s+){0,2}?(?:exam\w*|visit)\s+"
    r"(?:last\s+week|yesterday|on\s+\d{1,2}/\d{1,2}|(?:[\w-]+\s+){1,2}ago)\b",
    re.IGNORECASE,
)

# "FB removed OD at urgent care 2 days ago", "removed in the ER last night": a removal done elsewhere or earlier
# (what follows the verb, in its clause)
_ELSEWHERE = (
    r"\belsewhere\b|\b(?:at|in|by)\s+(?:the\s+|an?\s+)?(?:urgent\s+care|UC|ER|ED|emergency|walk-in|outside|another)\b"
    r"|\bby\s+(?:the\s+|his\s+|her\s+|a\s+)?(?:[\w-]+\s+)?(?:nurse|PCP|medic|EMT|coworker|co-worker|wife|husband|friend)\b"
)
_ELSEWHERE_OR_EARLIER = rf"\byesterday\b|\bago\b|\blast\s+(?:night|week|visit)\b|\bover\s+the\s+weekend\b|\bthis\s+morning\b|{_ELSEWHERE}"
# (not "after a failed attempt at urgent care": the removal that followed it is ours)
REMOVED_ELSEWHERE = re.compile(rf"(?:(?!attempt)[^.;\n]){{0,40}}?(?:{_ELSEWHERE_OR_EARLIER})", re.IGNORECASE)
# "Seen at urgent care 2 days ago, where a metal FB was removed": the place before the verb, in its sentence (not a
# day, which may be the injury's: "Grinding metal yesterday ..., FB removed at the slit lamp"; not "after a failed
# attempt at urgent care")
REMOVED_ELSEWHERE_BEFORE = re.compile(rf"(?<!attempt\s)(?:{_ELSEWHERE})[^.;\n]{{0,60}}$", re.IGNORECASE)


def in_quotes(text: str, position: int) -> bool:
    """Inside a double-quoted passage on its line: a discharge sheet or letter the note quotes, not today's words."""
    line_start = text.rfind("\n", 0, position) + 1
    # an inch mark ('4.5" grinder') is no quote
    return len(re.findall(r'(?<![\d.])"', text[line_start:position])) % 2 == 1
