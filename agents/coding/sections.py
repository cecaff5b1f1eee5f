"""Note sections (CC, HPI, exam, tests, assessment, plan, procedure) and the clauses inside them, as offsets."""

import re
from dataclasses import dataclass
from enum import StrEnum


class SectionKind(StrEnum):
    BODY = "body"  # text before any header (narrative notes are mostly body)
    COMPLAINT = "complaint"
    HISTORY = "history"
    EXAM = "exam"
    TESTS = "tests"
    ASSESSMENT = "assessment"
    PLAN = "plan"
    PROCEDURE = "procedure"


@dataclass(frozen=True)
class Section:
    kind: SectionKind
    header: str
    start: int  # first character after the header
    end: int


@dataclass(frozen=True)
class Clause:
    """A sentence, list item or semicolon part of a section, as offsets into the note."""

    start: int
    end: int
    section: SectionKind


# Single letters (S/O/A/P) only count at the start of a line; longer headers also after a wide gap, the way
# EHR exports flatten their line breaks (the OHSU template).
_SHORT_HEADERS = {
    "S": SectionKind.HISTORY,
    "O": SectionKind.EXAM,
    "A": SectionKind.ASSESSMENT,
    "P": SectionKind.PLAN,
}
_LONG_HEADERS: tuple[tuple[str, SectionKind], ...] = (
    (r"CC|C/C|Chief\s+Complaints?|Reason\s+for\s+(?:visit|exam)|Encounter", SectionKind.COMPLAINT),
    (
        r"HPI|Hx|History(?:\s+of\s+Present\s+Illness)?|Subjective|Meds|Medications|PMH|POH|FHx?|SH|ROS(?:/neg)?"
        r"|Pertinent\s+negatives|Allergies|Current\s+(?:Ocular\s+|Outpatient\s+)?Medications(?:\s*\([^)\n]*\))?"
        r"|Family\s+(?:Hx|History)|Social(?:\s+(?:Hx|History))?|Past\s+(?:Ocular|Medical|Eye|Surgical)\s+(?:History|Hx)"
        r"|(?:Ocular|Systemic|Eye|Home)\s+Medications|Interval\s+(?:History|Hx)",
        SectionKind.HISTORY,
    ),
    (
        r"Objective|Exam(?:ination)?|Base\s+Eye\s+Exam|Slit\s+Lamp(?:\s+and\s+Fundus\s+Exam)?"
        r"|Pre-?(?:procedure|op(?:erative)?)(?:\s+(?:exam(?:ination)?|evaluation))?",
        SectionKind.EXAM,
    ),
    (
        r"Diagnostic\s+Studies|Testing(?:\s+today)?|Tests?(?:\s+results|\s+today)?|Imaging|Special\s+tests?"
        r"|(?:Tests?|Testing)\s+(?:performed|done|obtained)(?:\s+today)?",
        SectionKind.TESTS,
    ),
    (
        r"A/P|A\s*&\s*P|(?:Assessment|Impressions?|Imp)(?:\s*(?:and|&|/)\s*Plan)?|Dx|Diagnos[ie]s"
        r"|(?:Order\s+)?Diagnos[ie]s(?:\s+on\s+(?:the\s+)?order)?"
        r"|Problems?(?:\s+list)?|Indications?"
        # "Addendum, same visit: ... This is an external hordeolum, new": what the doctor added is assessed
        r"|Addendum(?:[ \t,]+[^:\n]{0,30})?",
        SectionKind.ASSESSMENT,
    ),
    (
        r"Plan|Recommendations?|Orders?|Orders?\s+placed(?:\s+this\s+encounter)?|Tests?\s+ordered(?:\s*/\s*next\s+visit)?"
        r"|Next\s+visit|Ordered",
        SectionKind.PLAN,
    ),
    (r"Proc(?:edure)?s?(?:\s+(?:visit|note|performed))?", SectionKind.PROCEDURE),
)
# EHR exports also put a header alone on its line, without a colon ("Assessment & Plan", "Slit Lamp (OD | OS)").
_BARE_HEADERS: tuple[tuple[str, SectionKind], ...] = (
    (
        r"Medical\s+(?:Hx|History)|Ocular\s+(?:Hx|History)|Family\s+(?:Hx|History)"
        r"|Past\s+(?:Ocular|Medical|Eye|Surgical)\s+(?:History|Hx)|(?:Ocular|Systemic|Eye|Home|Oral)\s+Medications"
        r"|Social(?:\s+(?:History|Hx))?|Review\s+of\s+Systems|Interval\s+(?:History|Hx)",
        SectionKind.HISTORY,
    ),
    (
        r"Entrance\s+(?:Testing|Tests)|Visual\s+Acuit(?:y|ies)|Tonometry|Slit\s+Lamp(?:\s+Exam)?"
        r"|(?:Dilated\s+)?Fundus(?:\s+Exam)?|Posterior\s+Segment|Anterior\s+Segment|External|Findings"
        # a technician's pre-test block, then the doctor's own part ("PRE-TEST (tech: KM)", "DR. NOTES")
        r"|Pre-?test(?:ing)?|(?:Dr\.?|Doctor'?s?|Provider|Physician)\s+(?:notes?|exam(?:ination)?)",
        SectionKind.EXAM,
    ),
    (r"(?:Special|Ancillary|Diagnostic)\s+Test(?:ing|s)", SectionKind.TESTS),
)
_HEADER = re.compile(
    # (also inline after a sentence, as in an export flattened to one line: "... rims healthy. A: POAG OU mild stage")
    r"(?:(?:(?:^|\n)[ \t]*|(?<=\S\.)[ \t]+(?-i:(?=[SOAP][ \t]*:)))(?P<short>[SOAP])[ \t]*:)"
    r"|(?:(?:(?:^|\n)[ \t]*|(?<=\S)[ \t]{2,}|(?<=\S\.)[ \t])(?P<long>"
    + "|".join(f"(?:{p})" for p, _ in _LONG_HEADERS)
    + r")[ \t]*:)"
    + r"|(?:(?:^|\n)[ \t]*(?P<bare>"
    + "|".join(f"(?:{p})" for p, _ in (*_LONG_HEADERS, *_BARE_HEADERS))
    # a bare header may head its own OD/OS table ("EXAM        OD        OS")
    + r")(?:[ \t]*\([^)\n]{0,30}\))?[ \t]*:?[ \t]*(?=\n|[ \t]{2,}OD\b[^\n]*\bOS\b))"
    # problem-oriented notes: "PROBLEM 2 - PRIMARY OPEN-ANGLE GLAUCOMA OU": the rest of the line is assessed
    + r"|(?:(?:^|\n)[ \t]*(?P<problem>Problem\s*#?\d{1,2})[ \t]*[-–:])"
    # a scribe's prose: "Dr. Beaulieu's impression is open angle with borderline findings, ..."
    + r"|(?P<said>(?<=['’]s\s)(?:impression|assessment)(?:\s+(?:is|was)\b|\s*:)|\b(?:my|our)\s+(?:impressions?|diagnos[ie]s)\s+"
    r"(?:is|was|are)\b|\bwhat\s+I\s+(?:can\s+)?confirm\s+is\b)"
    # a dictated heading: "New paragraph assessment. One, dry eye ...", "new paragraph plan: ..."
     + r"|\bnew\s+paragraph[ \t.,]+(?P<spoken>assessment|impression|plan)\b[ \t]*[.:,]?",
    re.IGNORECASE,
)
_LONG_KINDS = tuple(
    (re.compile(rf"^(?:{p})$", re.IGNORECASE), kind) for p, kind in (*_LONG_HEADERS, *_BARE_HEADERS)
)

# Clause boundaries: line breaks, semicolons, sentence ends, and inline list numbers ("... OU 2. MGD ...").
# Titles and common abbreviations ("Mr.", "Dr.", "vs.") end with a period but not a sentence.
_NOT_SENTENCE_END = "".join(
    rf"(?<!\b{word})"
    for word in ("Mr", "Mrs", "Ms", "Dr", "vs", "St", "approx", "Pt", "pt", r"e\.g", r"i\.e")
)
# Clinic shorthand ("Glaucoma susp. OU", "scl. dep. OS", "lattice inf. OD"): its period ends a sentence only before
# a capital word; "susp." and "dep." run on into their eye, and "scl." into "Dep.". A location ("nas.", "inf.")
# runs on into an eye only when its sentence has named none yet ("pinguecula nas. OD", not "lattice OD inf. OS: PVD").
_SHORTHAND = ("susp", "scl", "dep", "ant", "inf", "sup", "nas")
_NOT_SHORTHAND_END = "".join(rf"(?<!\b{word})(?<!\b{word.capitalize()})" for word in _SHORTHAND)
_LOCATION = r"(?:(?<=\b[Aa]nt)|(?<=\b[Ii]nf)|(?<=\b[Ss]up)|(?<=\b[Nn]as))"
_SHORTHAND_END = (
    r"(?:(?<=\b[Ss]usp)\.(?=\s+(?!O[DSU]\b|(?:Both|Right|Left|Bilateral)\b)[A-Z])"
    r"|(?<=\b[Ss]cl)\.(?=\s+(?![Dd]ep)[A-Z])"
    r"|(?<=\b[Dd]ep)\.(?=\s+(?!O[DSU]\b)[A-Z])"
    rf"|{_LOCATION}\.(?=\s+(?!O[DSU]\b)[A-Z])"
    rf"|(?P<location_eye>{_LOCATION}\.(?=\s+O[DSU]\b)))"
)
_EYE_NAMED = re.compile(r"\b(?:O[DSU]|right|left|both)\b", re.IGNORECASE)
_SENTENCE_BOUNDARY = (
    r"\n|;|(?<=[a-zA-Z)\]%])"
    + _NOT_SENTENCE_END
    + _NOT_SHORTHAND_END
    + r"\.(?=\s)|"
    + _SHORTHAND_END
    + r"|(?<=\d)\.(?=\s+[A-Z])|(?<=\s)(?=\d{1,2}[.)]\s+[A-Za-z])"
)
_BOUNDARY = re.compile(_SENTENCE_BOUNDARY + r"|\s{3,}")
_SENTENCE = re.compile(_SENTENCE_BOUNDARY)
# used with match(text, pos): anchored at pos (a "^" would only match at the start of the whole note)
_BULLET = re.compile(r"[ \t]*(?:[-•*·]|\d{1,2}[.)])?[ \t]*")
_PLAN_BULLET = re.compile(r"[ \t]*[-•*·]")


# "P: PERRL, no APD" is the pupils line of an exam, not a plan
_PUPILS_LINE = re.compile(
    r"[ \t]*(?:PERRLA?|PERL|ERRL|pupils?|round|equal|no\s+(?:r?APD|MG)"
    # "P: OD 2+ APD", "P: OU 3 mm, brisk"
    r"|O[DSU]\b[^\n]{0,20}?\b(?:r?APD|reactive|brisk|sluggish|\d(?:\.\d)?\s*mm))\b",
    re.IGNORECASE,
)


def _kind_of(match: re.Match[str]) -> tuple[SectionKind, str]:
    if match.group("short"):
        short = match.group("short").upper()
        if short == "P" and _PUPILS_LINE.match(match.string, match.end()):
            return SectionKind.EXAM, match.group("short")
        return _SHORT_HEADERS[short], match.group("short")
    if match.group("problem"):
        return SectionKind.ASSESSMENT, match.group("problem")
    if match.group("said"):
        return SectionKind.ASSESSMENT, match.group("said")
    if match.group("spoken"):
        spoken = match.group("spoken")
        return (SectionKind.PLAN if spoken.lower() == "plan" else SectionKind.ASSESSMENT), spoken
    header = match.group("long") or match.group("bare")
    for pattern, kind in _LONG_KINDS:
        if pattern.match(header.strip()):
            return kind, header
    return SectionKind.BODY, header


_INLINE_LIST_HEADER = re.compile(r"\s*(?:active\s+|chronic\s+)?problems?\s+list\b", re.IGNORECASE)
_LIST_LINE = re.compile(r"[ \t]*(?:\d{1,2}[.)]|[-•*])[ \t]")
_NUMBERED = re.compile(r"[ \t]*\d{1,2}[.)][ \t]")
_DX_LABEL = re.compile(r"\s*(?:Dx|Diagnos[ie]s)\s*$", re.IGNORECASE)
_NUMBERED_ITEM = re.compile(r"\n[ \t]*\d{1,2}[.)][ \t]+\S")


def split_sections(note: str) -> list[Section]:
    """The note cut at its headers; text before the first header is BODY. Covers the whole note."""
    sections: list[Section] = []
    kind, header, start = SectionKind.BODY, "", 0
    for match in _HEADER.finditer(note):
        sections.append(Section(kind, header, start, match.start()))
        kind, header = _kind_of(match)
        start = match.end()
    sections.append(Section(kind, header, start, len(note)))
    return _bound_problem_lists([s for s in sections if s.end > s.start or s.kind != SectionKind.BODY], note)


def _bound_problem_lists(sections: list[Section], note: str) -> list[Section]:
    """Where a problem list ends: "Problem list: ADHD / acne", or a "Dx:" label above the note's own assessment
    (unless it opens a numbered list that goes on below it), holds only its line; and an indented "Plan:" under a
    numbered assessment item plans that item only (the next numbered item is the problem list again)."""
    out: list[Section] = []
    for index, section in enumerate(sections):
        line_end = note.find("\n", section.start, section.end)
        # "Dx: SLE on HCQ" heading a tests-only visit whose own "A:" comes later: a label of the visit's reason
        reason_label = (
            bool(_DX_LABEL.match(section.header))
            and any(later.kind == SectionKind.ASSESSMENT for later in sections[index + 1 :])
            # "Dx: 1. POAG\n2. Dry eye": a numbered list that goes on below its label (not test results bulleted under it)
            and not (
                line_end != -1
                and _NUMBERED.match(note, section.start)
                and _LIST_LINE.match(note, line_end + 1)
            )
        )
        if (
            section.kind == SectionKind.ASSESSMENT
            and (_INLINE_LIST_HEADER.match(section.header) or reason_label)
            and line_end != -1
            and note[section.start : line_end].strip()
        ):
            out.append(Section(section.kind, section.header, section.start, line_end))
            out.append(Section(SectionKind.BODY, "", line_end, section.end))
            continue
        previous = out[-1] if out else None
        line_start = note.rfind("\n", 0, section.start) + 1
        indented = note[line_start : line_start + 1] in (" ", "\t")
        item = _NUMBERED_ITEM.search(note, section.start, section.end)
        if (
            section.kind == SectionKind.PLAN
            and previous is not None
            and previous.kind == SectionKind.ASSESSMENT
            and indented
            and item is not None
        ):
            out.append(Section(SectionKind.PLAN, section.header, section.start, item.start()))
            out.append(Section(SectionKind.ASSESSMENT, previous.header, item.start(), section.end))
            continue
        out.append(section)
    return out


def clauses(note: str, section: Section, *, cells: bool = True) -> list[Clause]:
    """The section's clauses, trimmed of list numbers and bullets; empty ones dropped. With `cells`, the wide
    gaps of an OD/OS table also cut (a cell is a clause); without, a table row stays one clause."""
    found: list[Clause] = []
    cursor = section.start
    for boundary in (_BOUNDARY if cells else _SENTENCE).finditer(note, section.start, section.end):
        if boundary.group("location_eye") and not _EYE_NAMED.search(note, cursor, boundary.start()):
            continue
        found.extend(_trimmed(note, cursor, boundary.start(), section.kind))
        cursor = boundary.end()
    found.extend(_trimmed(note, cursor, section.end, section.kind))
    return found


def _trimmed(note: str, start: int, end: int, kind: SectionKind) -> list[Clause]:
    lead = _BULLET.match(note, start, end)
    if lead:
        start = lead.end()
    while end > start and note[end - 1] in " \t.,:-":
        end -= 1
    while start < end and note[start] in " \t":
        start += 1
    return [Clause(start, end, kind)] if end > start else []


def is_plan_bullet(note: str, clause: Clause) -> bool:
    """A "- do this" line inside an A/P block: a plan step, not a diagnosis."""
    line_start = note.rfind("\n", 0, clause.start) + 1
    return bool(_PLAN_BULLET.match(note, line_start, clause.end))


@dataclass(frozen=True)
class ParsedNote:
    """A note cut once into sections, clauses (table cells apart) and sentences (table rows whole)."""

    text: str
    sections: tuple[Section, ...]
    clauses: tuple[Clause, ...]
    sentences: tuple[Clause, ...]
    original: str  # the note as written (evidence quotes it); `text` is the cleaned, same-length reading

    def has(self, kind: SectionKind) -> bool:
        return any(section.kind == kind for section in self.sections)

    def section_of(self, clause: Clause) -> Section | None:
        """The section a clause sits in."""
        return next((s for s in self.sections if s.start <= clause.start <= s.end), None)

    def span(self, clause: Clause) -> str:
        return self.text[clause.start : clause.end]

    def sentence_at(self, position: int) -> Clause | None:
        """The sentence holding a note offset."""
        return next((s for s in self.sentences if s.start <= position < s.end), None)


# An unchecked template box ("[ ] DFE performed") records something NOT done: its item is blanked (same
# length, so offsets still index the note) before anything reads the note.
_UNCHECKED = re.compile(r"\[ ?\][^\[\n]*?(?=[ \t]{2,}|\[|\n|$)")
# A grid cell whose box follows its label ("RUL [ ]   RLL [x]", "| RUL [ ] | RLL [x] |"): the label is what is
# left unchecked.
_UNCHECKED_AFTER_LABEL = re.compile(
    r"(?:(?<=\n)|(?<=^)|(?<=[ \t]{2})|(?<=\|))[ \t]*[^\[\]\n:|]{1,12}?[ \t]{0,3}\[ ?\](?=[ \t]{2,}|[ \t]*\||\n|$)"
)


# Text an EHR copied forward from an earlier visit ("[copied from 7/2025] IOP 15/16 ...") is not today's.
_COPIED_FORWARD = re.compile(r"\[copied\s+(?:forward\s+)?from[^\]\n]*\][^\n]*", re.IGNORECASE)


# A label that marks an earlier visit's text pasted into today's note: "Prior A/P (copied 07/2025)",
# "Last visit summary (copied ...):", "copied from the record of 08/2022". What follows it on its line (or, under a
# label that ends its line, the lines up to the next blank line or heading) is not today's.
_COPIED_LABEL = re.compile(
    r"\((?:copied|carried\s+(?:forward|fwd))\b[^)\n]*\)|\bcopied\s+from\b|\blast\s+visit\s+summary\b",
    re.IGNORECASE,
)
_BLOCK_END = re.compile(r"[ \t]*$|[ \t]*[A-Z][A-Z0-9 /&()+-]{3,}:?[ \t]*$|[ \t]*[A-Z][A-Za-z /&-]{2,30}:")


def mask_copied_forward(note: str) -> str:
    """Blank text copied forward from an earlier visit (same length, so offsets still index the note)."""
    note = _COPIED_FORWARD.sub(lambda m: " " * len(m.group()), note)
    chars = list(note)
    for label in _COPIED_LABEL.finditer(note):
        line_end = note.find("\n", label.end())
        line_end = len(note) if line_end == -1 else line_end
        end = line_end
        rest = note[label.end() : line_end]
        if not rest.strip(" \t:"):  # a heading: its block runs to a blank line or the next heading
            cursor = line_end + 1
            while cursor < len(note):
                next_end = note.find("\n", cursor)
                next_end = len(note) if next_end == -1 else next_end
                if _BLOCK_END.match(note[cursor:next_end]):
                    break
                end, cursor = next_end, next_end + 1
        elif rest.lstrip(" \t:").startswith('"'):  # a quoted paste may run over several lines
            opening = note.find('"', label.end())
            closing = note.find('"', opening + 1)
            end = max(end, closing + 1) if closing != -1 else end
        for index in range(label.end(), end):
            if chars[index] != "\n":
                chars[index] = " "
    return "".join(chars)


def mask_unchecked(note: str) -> str:
    note = mask_copied_forward(note)
    note = _UNCHECKED_AFTER_LABEL.sub(lambda m: " " * len(m.group()), note)
    return _UNCHECKED.sub(lambda m: " " * len(m.group()), note)


# Uncleaned speech recognition spells its punctuation ("... at bedtime period new paragraph best corrected ...").
# Each spoken mark becomes the mark padded with spaces, so offsets still index the original note.
_SPOKEN_MARKS = (
    (re.compile(r"\s*\bnew\s+paragraph\b", re.IGNORECASE), "\n\n"),
    (re.compile(r"\s*\bperiod\b(?!\s+of\b)", re.IGNORECASE), "."),
    (re.compile(r"\s*\bsemicolon\b", re.IGNORECASE), ";"),
    (re.compile(r"\s*\bcomma\b", re.IGNORECASE), ","),
    (re.compile(r"\s*\bcolon\b", re.IGNORECASE), ":"),
)
_SPOKEN_WORDS = (
    (re.compile(r"\boh\s([DSU])\b"), lambda m: f"O{m.group(1)}  "),
    (re.compile(r"\bsick\s+lamp\b", re.IGNORECASE), lambda m: "slit lamp".ljust(len(m.group()))),
)
_PAD = "\u200b"
_DICTATED = re.compile(r"\b(?:period|comma)\b", re.IGNORECASE)


def unspoken(note: str) -> str:
    """Spoken punctuation written out as marks, when the note is dictation (same length as the note)."""
    if len(_DICTATED.findall(note)) < 3:
        return note
    for pattern, word in _SPOKEN_WORDS:
        note = pattern.sub(word, note)
    for pattern, mark in _SPOKEN_MARKS:
        note = pattern.sub(lambda m, mark=mark: _spoken_mark(mark, len(m.group())), note)
    return note


def _spoken_mark(mark: str, width: int) -> str:
    """The mark in `width` characters. A paragraph break ends the padding, so the next line starts clean (a
    heading can follow); other marks are padded with zero-width spaces after a space, since a run of spaces
    would read as a table gap."""
    if mark.startswith("\n"):
        return " " * (width - len(mark)) + mark
    return mark + " " + _PAD * (width - len(mark) - 1)


def line_bounds(text: str, offset: int) -> tuple[int, int]:
    """Start and end of the line of `text` holding `offset` (end excludes the newline)."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return start, end if end != -1 else len(text)


def parse_note(original: str) -> ParsedNote:
    note = mask_unchecked(unspoken(original))
    sections = split_sections(note)
    return ParsedNote(
        original=original,
        text=note,
        sections=tuple(sections),
        clauses=tuple(c for s in sections for c in clauses(note, s)),
        sentences=tuple(c for s in sections for c in clauses(note, s, cells=False)),
    )
