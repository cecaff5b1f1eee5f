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
REMOVED_ELSEWHERE = re.compile(
    r"[^.;\n]{0,40}?(?:\byesterday\b|\bago\b|\blast\s+(?:night|week|visit)\b|\belsewhere\b"
    r"|\b(?:at|in|by)\s+(?:the\s+|an?\s+)?(?:urgent\s+care|UC|ER|ED|emergency|walk-in|outside|another|other)\b)",
    re.IGNORECASE,
)


def in_quotes(text: str, position: int) -> bool:
    """Inside a double-quoted passage on its line: a discharge sheet or letter the note quotes, not today's words."""
    line_start = text.rfind("\n", 0, position) + 1
    return text.count('"', line_start, position) % 2 == 1
