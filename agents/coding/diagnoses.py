"""Diagnoses read from the note the way a coder reads them: the assessment first, at full ICD-10-CM specificity."""

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from agents.coding.context import Assertion, context_reader
from agents.coding.laterality import BOTH, LEFT, RIGHT, eyes_in, lids_in
from agents.coding.lexicon import Condition, Lexicon, load_lexicon
from agents.coding.sections import Clause, ParsedNote, SectionKind, is_plan_bullet, line_bounds
from agents.coding.timing import REMOVED_ELSEWHERE, REMOVED_ELSEWHERE_BEFORE, in_quotes
from knowledge.codes.icd10 import icd10_billable, icd10_description, icd10_unspecified

# refractive findings that are medical problems too: irregular astigmatism indicates topography and makes the visit
# a medical one, not a routine exam
MEDICAL_REFRACTIVE = frozenset({"irregular_astigmatism"})
FALLBACK_SECTIONS = frozenset(
    {SectionKind.BODY, SectionKind.PROCEDURE, SectionKind.COMPLAINT, SectionKind.HISTORY}
)
# " / " between per-eye findings ("POAG OD severe / OS moderate") cuts like "and"; "w/" and "c/d" do not
_SUBCLAUSE = re.compile(r",|;|:|\s--?\s|\s[–—]\s|\s/\s|\band\b|\bbut\b|\bwhile\b|\bwhereas\b", re.IGNORECASE)
_SUBSEQUENT = re.compile(
    r"heal(?:ed|ing)|follow[- ]?up|\bf/u\b|subsequent|recheck|(?P<removal>after\s+(?:the\s+)?removal"
    r"|\b(?:status\s+post|s/p)\s+removal\b)|resolv|\bback\s+(?:\w+\s+){0,3}after\b|\bafter\s+(?:I|we)\s+(?:took|removed|got)\b",
    re.IGNORECASE,
)
_TYPE_1 = re.compile(
    r"type\s*(?:1|I)\b(?!I)|\bT1DM\b|\bDM\s?(?:1|I)\b(?!I)|\bIDDM\b|juvenile\s+diabetes", re.I
)
_TYPE_2 = re.compile(r"type\s*(?:2|II)\b|\bT2DM\b|\bDM\s?(?:2|II)\b|\bNIDDM\b", re.IGNORECASE)
_PDR = re.compile(r"(?<!non)(?<!non-)(?<!non )proliferative|\bPDR\b", re.IGNORECASE)
_DR_SEVERITY = (
    (re.compile(r"\bsevere\b", re.I), "4"),
    (re.compile(r"\bmod(?:erate)?\b", re.I), "3"),
    (re.compile(r"\bmild\b", re.I), "2"),
)
_EDEMA_NO = re.compile(
    r"(?:without|w/o|\bno|⊖)\s*(?:current\s+|active\s+|residual\s+|significant\s+|clinically\s+significant\s+)?(?:center[- ]involving\s+)?(?:DME|CSME|CME|ME\b|(?:diabetic\s+)?macular\s+edema)",
    re.I,
)
_EDEMA_YES = re.compile(r"\bDME\b|\bCSME\b|\bCME\b|macular\s+edema|center[- ]involving", re.IGNORECASE)
_PDR_STABLE = re.compile(r"stable|regress|quiescent|inactive|involut", re.IGNORECASE)
_TRACTION = re.compile(r"traction(?:al)?\s+(?:retinal\s+)?detachment|\bTRD\b", re.IGNORECASE)
_NOT_MACULA = re.compile(r"not\s+involving\s+(?:the\s+)?macula|macula[- ]sparing|extramacular", re.IGNORECASE)
_NEGATED_DRUG = re.compile(
    r"(?:\bno\b|\bnot\b|\boff\b|stopped|discontinued|d/c|never|\bwas\s+on|previously\s+on|formerly\s+on)"
    r"\W+(?:\w+\W+){0,2}$"
    # someone else's drug: "her husband is on insulin"
    r"|\b(?:husband|wife|partner|spouse|mother|father|son|daughter|brother|sister)(?:['’]s)?\b[^.;\n]{0,25}$",
    re.I,
)
# "Metformin - discontinued 2023", "metformin 2016-2023; stopped by PCP": the drug named, then stopped
# "metformin - stopped", "insulin briefly during a hospital stay ... and has not used it since": not taken now
_STOPPED_AFTER = re.compile(
    r"[^.;\n]{0,25}?\b(?:stopped|discontinued|d/c['’]?d|held|no\s+longer|briefly)\b"
    r"|[^.;\n]{0,100}?\b(?:has|have)\s+not\s+(?:used|taken|needed|been\s+on)\s+(?:it|them|insulin)\s+since\b",
    re.I,
)
# a drug only planned: "a plan to add a GLP-1 injection at her next visit", "will start Ozempic" (one word between, not
# "to": in "plans to add Januvia to Lantus" the Lantus is taken now)
_PLANNED_DRUG = re.compile(
    r"\b(?:plan(?:s|ned)?\s+to\s+(?:add|start|begin|try)|will\s+(?:add|start|begin)|consider(?:ing)?\s+(?:adding|starting)"
    r"|may\s+(?:add|start))\W+(?:(?:her|him|them)\W+on\W+|(?!to\b)\w+\W+)?$",
    re.I,
)
# "her PCP planned to start Ozempic in October and she has injected it weekly since": a plan carried out
_TAKEN_SINCE_AFTER = re.compile(
    r"[^.;\n]{0,50}?\b(?:has|have)\s+(?:been\s+)?(?:taking|taken|injected|injecting|used|using|on)\b[^.;\n]{0,30}\bsince\b",
    re.I,
)
_EYE_CHAR = {RIGHT: "1", LEFT: "2"}
# Without an assessment header, a sentence that states the clinician's impression names the diagnosis; the
# reason for referral ("sent for a glaucoma evaluation") does not.
# Narrative notes state the assessment in a sentence: the explicit ones first, then the softer readings.
_IMPRESSION = re.compile(
    r"\b(?:my\s+|our\s+|the\s+)?(?:impression|assessment|diagnosis)\s+(?:is|was|today\s+is)\b"
    r"|\bI\s+(?:believe|think|diagnosed)\b|\bdiagnosed\s+(?:with|as)\b",
    re.IGNORECASE,
)
# "She has age related cataracts ... in both eyes": the finding stated with its qualifier, read as the impression
# only when no sentence states one outright (else it is history: "she has mild NPDR followed by her retina doctor")
_HAS_IMPRESSION = re.compile(
    r"\b(?:she|he|they|the\s+patient)\s+(?:has|have)\s+(?:an?\s+)?(?:age[- ]related|visually\s+significant|early"
    r"|mild|moderate|severe|advanced|bilateral)\b",
    re.IGNORECASE,
)
_STATED_ITEM = re.compile(
    # a condition, not an exam row's anatomy label ("Lens, both eyes, trace nuclear sclerosis, stable")
    r"[ \t]*(?!(?i:lens|lids?|cornea|conj\w*|macula|nerves?|discs?|fundus|fundi|retina|vitreous|iris|AC|pupils?"
    r"|periphery|angles?)\b)[A-Z][\w-]*(?:[ \t]+[\w-]+){0,5},[ \t]+(?:both[ \t]+eyes|right[ \t]+eye|left[ \t]+eye|OU|OD|OS)\b"
    r"[^.;\n]*\b(?:stable|stage|progressing|improv\w*|worse|resolv\w*|controlled|new)\b"
    # "Dry eye: she has dry eye syndrome in both eyes despite ...": a problem's own paragraph label
    r"|[ \t]*[A-Z][\w -]{2,30}:[ \t]+(?:she|he|they|the[ \t]+patient)[ \t]+(?:has|have)\b"
    # "Epiretinal membrane, left eye: the mild distortion ... is unchanged": a letter's paragraph per problem
    r"|[ \t]*(?!(?i:lens|lids?|cornea|conj\w*|macula|nerves?|discs?|fundus|fundi|retina|vitreous|iris|AC|pupils?"
    r"|periphery|angles?)\b)[A-Z][\w -]{2,40},[ \t]+(?:both[ \t]+eyes|right[ \t]+eye|left[ \t]+eye|OU|OD|OS)[ \t]*:"
    # "here for her check on two problems. First, her high eye pressure ... Second, the chronic blepharitis"
    r"|[ \t]*(?:First(?:ly)?|Second(?:ly)?|Third(?:ly)?|Fourth(?:ly)?|Finally|Lastly),[ \t]+"
    r"(?![^.\n]*\b(?i:I|we)[ \t]+(?:checked|looked|examined|measured|dilated)\b)"
)
_SOFT_IMPRESSION = re.compile(r"\bconsistent\s+with\b|\bcompatible\s+with\b", re.IGNORECASE)
_NUMBERED_LINE = re.compile(r"[ \t]*\d{1,2}[.)][ \t]+\S")
_CONTROL_CODES = (("insulin", "Z79.4"), ("oral", "Z79.84"), ("injectable", "Z79.85"))


@dataclass
class FoundDiagnosis:
    """A diagnosis the coder would post, with the spans that support it and what made it certain."""

    code: str
    condition: Condition | None
    evidence: list[tuple[int, int]]
    position: int
    source: str  # assessment | fallback | note_wide | derived
    eye_basis: str = "n/a"  # explicit | inferred | default | n/a
    stage_basis: str = "n/a"  # explicit | default | n/a

    @property
    def group(self) -> str:
        return self.condition.group if self.condition else "derived"

    @property
    def description(self) -> str:
        return icd10_description(self.code) or ""


@dataclass(frozen=True)
class _Mention:
    condition: Condition
    start: int  # note offsets
    end: int
    clause: Clause
    assertion: Assertion


def _mentions_in(note: ParsedNote, clause: Clause, conditions: tuple[Condition, ...]) -> list[_Mention]:
    """Lexicon matches in one clause: longest first, no overlaps, with their ConText assertion."""
    text = note.span(clause)
    raw: list[tuple[int, int, Condition]] = []
    for condition in conditions:
        for pattern in condition.patterns:
            raw.extend((m.start(), m.end(), condition) for m in pattern.finditer(text) if m.end() > m.start())
    raw.sort(key=lambda r: (-(r[1] - r[0]), r[2].priority, r[0]))
    kept: list[tuple[int, int, Condition]] = []
    for start, end, condition in raw:
        if all(end <= s or start >= e for s, e, _ in kept):
            kept.append((start, end, condition))
    kept.sort(key=lambda r: r[0])
    assertions = context_reader().assertions(text, [(s, e) for s, e, _ in kept])
    return [
        _Mention(
            condition,
            clause.start + s,
            clause.start + e,
            clause,
            _ruled_out_after(_injury_in_care(assertion, condition, text), text, e),
        )
        for (s, e, condition), assertion in zip(kept, assertions, strict=True)
    ]


# "2. Herpetic keratouveitis - r/o": an item the dash marks as a rule-out (not "PVD OD - r/o tear", which names
# what is ruled out after it)
_RULE_OUT_TAIL = re.compile(
    r"[^.;\n]{0,30}?\s[-–]\s*(?:r/o|rule\s+out|to\s+rule\s+out)\s*\??\s*$", re.IGNORECASE
)


def _ruled_out_after(assertion: Assertion, clause: str, end: int) -> Assertion:
    return replace(assertion, uncertain=True) if _RULE_OUT_TAIL.match(clause, end) else assertion


def _injury_in_care(assertion: Assertion, condition: Condition, clause: str) -> Assertion:
    """ "s/p FB removal OD, healing well": an injury still being cared for is today's (a subsequent encounter),
    not history."""
    if assertion.historical and "{encounter}" in "".join(condition.codes) and _SUBSEQUENT.search(clause):
        return replace(assertion, historical=False)
    return assertion


def _counts(mention: _Mention) -> bool:
    a = mention.assertion
    if a.negated or a.uncertain or a.hypothetical:
        return False
    if a.family and mention.condition.id != "family_history_glaucoma":
        return False
    return not (a.historical and not mention.condition.status)


def _scope(mentions: list[_Mention], index: int) -> tuple[int, int]:
    """The words that belong to a mention: from the previous mention's end to the next one's start."""
    clause = mentions[index].clause
    start = mentions[index - 1].end if index > 0 and mentions[index - 1].clause == clause else clause.start
    following = mentions[index + 1] if index + 1 < len(mentions) else None
    end = following.start if following is not None and following.clause == clause else clause.end
    return start, end


_DENIAL = re.compile(r"\b(?:without|w/o|no)\b", re.IGNORECASE)
# a per-eye assessment block: "OD: Age-related nuclear cataract, ...", "Both eyes: ..."
_EYE_LABEL = re.compile(
    r"[ \t]*(?:[-•*]|\d{1,2}[.)])?[ \t]*(OD|OS|OU|RE|LE|BE|right\s+eye|left\s+eye|both\s+eyes)[ \t]*[:–-]",
    re.IGNORECASE,
)


# "POAG OS, mild (OD nl): IOP 12 OD / 17 OS": the other eye called normal, and the measurements after the item's
# colon, name no eye of this finding
_NORMAL_EYE = re.compile(
    r"\(?[ \t]*\b(?:OD|OS|RE|LE|right\s+eye|left\s+eye)[ \t]+(?:nl|normal|wnl|clear|healthy|unaffected)\b[ \t]*\)?",
    re.IGNORECASE,
)


# "nuclear cataract OD: 2+, OS: 2+": a per-eye label's colon, not the end of the finding's words
_EYE_LABEL_AFTER = re.compile(r"\b(?:OD|OS|RE|LE|right\s+eye|left\s+eye)[ \t]*:", re.IGNORECASE)
_EYE_BEFORE_COLON = re.compile(
    r"\b(?:OD|OS|OU|RE|LE|BE|right\s+eye|left\s+eye|both\s+eyes)[ \t]*$", re.IGNORECASE
)


def _before_denial(after: str, offset: int) -> str:
    """A finding's own words: "moderate NPDR of the left eye, without macular edema in either eye" stops at the
    denial when an eye was named before it (the eyes of what is denied are not this finding's); an eye called
    normal is left out, and so are the measurements after a colon that follows the finding's own eye."""
    after = _NORMAL_EYE.sub(lambda m: " " * len(m.group()), after)
    colon = after.find(":", offset)
    # ("cataract OD: 2+, OS: 2+" labels each eye and is cut nowhere; "cataract OS: 2+, OD pseudophakic" is)
    if (
        colon != -1
        and eyes_in(after[:colon])
        and not (_EYE_BEFORE_COLON.search(after[:colon]) and _EYE_LABEL_AFTER.search(after, colon + 1))
    ):
        after = after[:colon]
    denied = _DENIAL.search(after, offset)
    return after[: denied.start()] if denied and eyes_in(after[: denied.start()]) else after


def _labelled_eyes(note: ParsedNote, position: int) -> frozenset[str]:
    """The eye a line's label gives every finding on it ("OS: mild NPDR, no macular edema")."""
    line_start = note.text.rfind("\n", 0, position) + 1
    label = _EYE_LABEL.match(note.text, line_start)
    return eyes_in(label.group(1)) if label and label.end() <= position else frozenset()


def _other_eye_clause(note: ParsedNote, mentions: list[_Mention], index: int) -> str:
    """ "Dry AMD - OD intermediate stage; OS advanced atrophic", "POAG OU, stable. Stage confirmed by today's
    field: OD moderate, OS mild": the next clause on the item's line, when it names no condition of its own, still
    describes this mention's condition (read only for per-eye stages that differ)."""
    mention = mentions[index]
    if index + 1 < len(mentions) and mentions[index + 1].clause == mention.clause:
        return ""
    following = next((c for c in note.clauses if c.start >= mention.clause.end), None)
    if (
        following is None
        or following.section != mention.clause.section
        or "\n" in note.text[mention.clause.end : following.start]
        or any(following.start <= m.start < following.end for m in mentions)
    ):
        return ""
    return note.span(following)


@dataclass(frozen=True)
class _Reading:
    """Eyes and stage read from a mention's scope; per_eye holds eye -> stage when the eyes differ."""

    eyes: frozenset[str]
    eye_basis: str
    stage: str | None
    per_eye: dict[str, str | None]


def _read_scope(
    text: str, stage_of: Callable[[str], str | None]
) -> tuple[list[tuple[frozenset[str], str | None]], str | None]:
    """Each sub-clause's eyes and stage, and the stage stated without an eye."""
    parts: list[tuple[frozenset[str], str | None]] = []
    free_stage, cursor, pending = None, 0, ""
    for cut in [*_SUBCLAUSE.finditer(text), None]:
        # "stable, treated proliferative retinopathy of the right eye": a short qualifier with neither eye nor stage
        # qualifies the next piece (not a denial: "severe OD, no DME, moderate OS with CSME")
        piece = pending + text[cursor : cut.start() if cut else len(text)]
        cursor = cut.end() if cut else len(text)
        eyes, stage = eyes_in(piece), stage_of(piece)
        short_qualifier = len(piece.split()) <= 3 and not _DENIAL.search(piece)
        pending = piece + " " if not eyes and stage is None and short_qualifier else ""
        if eyes:
            parts.append((eyes, stage))
        elif stage is not None and parts and parts[-1][1] is None:
            parts[-1] = (parts[-1][0], stage)  # "POAG right eye, moderate stage; left eye, mild stage"
        elif stage is not None and free_stage is None:
            free_stage = stage
    return parts, free_stage


def _reading(
    note: ParsedNote, mentions: list[_Mention], index: int, stage_of: Callable[[str], str | None]
) -> _Reading:
    """Eyes and stage of a mention: the words after it first ("POAG OU, mild"), then the words between it and
    the previous mention ("early dry AMD OU"), then the rest of the clause, then the rest of the note."""
    mention = mentions[index]
    start, end = _scope(mentions, index)
    after, before = note.text[mention.start : end], note.text[start : mention.start]
    own_eyes = _before_denial(after, mention.end - mention.start)  # its stage may still follow the denial
    for text in (after, before + after, after + "; " + _other_eye_clause(note, mentions, index)):
        parts, _ = _read_scope(text, stage_of)
        per_eye: dict[str, str | None] = {}
        for eyes, stage in parts:
            if len(eyes) == 1 and stage is not None:
                per_eye.setdefault(next(iter(eyes)), stage)
        if len(per_eye) == 2 and per_eye[RIGHT] != per_eye[LEFT]:
            return _Reading(BOTH, "explicit", None, per_eye)
    stage = stage_of(after)
    if stage is None:
        stage = stage_of(before)
    eyes = eyes_in(own_eyes) or eyes_in(before) or _labelled_eyes(note, mention.start)
    if eyes:
        return _Reading(eyes, "explicit", stage, {})
    # "hyperopia and presbyopia, both eyes": an eye stated later in the same clause is shared
    later = eyes_in(note.text[mention.end : mention.clause.end])
    if later:
        return _Reading(later, "explicit", stage, {})
    inferred = _eyes_elsewhere(note, mention.condition)
    if inferred:
        return _Reading(inferred, "inferred", stage, {})
    if mention.condition.eye_default == "both":
        return _Reading(BOTH, "default", stage, {})
    return _Reading(frozenset(), "default", stage, {})


def _no_stage(_text: str) -> None:
    return None


def _eyes_elsewhere(note: ParsedNote, condition: Condition) -> frozenset[str]:
    """The eye the rest of the note gives this condition, when every mention agrees on one."""
    found: set[frozenset[str]] = set()
    for clause in note.sentences:
        text = note.span(clause)
        for pattern in condition.patterns:
            match = pattern.search(text)
            if match:
                eyes = eyes_in(text[match.start() : match.end() + 40])
                if eyes:
                    found.add(eyes)
                break
    return next(iter(found)) if len(found) == 1 else frozenset()


def _render_eye(template: str, eyes: frozenset[str], **slots: str) -> list[str]:
    """Codes for a template at these eyes: bilateral code, or right + left where none exists."""
    if eyes == BOTH:
        code = template.format(eye="3", **slots)
        if icd10_billable(code):
            return [code]
        return [template.format(eye=_EYE_CHAR[e], **slots) for e in (RIGHT, LEFT)]
    if eyes:
        return [template.format(eye=_EYE_CHAR[next(iter(eyes))], **slots)]
    for unspecified in ("9", "0"):
        code = template.format(eye=unspecified, **slots)
        if icd10_billable(code):
            return [code]
    return [template.format(eye="9", **slots)]


def _lid_chars(lids: frozenset[str], eyes: frozenset[str], condition: Condition) -> list[str]:
    """Eyelid characters (1 RUL 2 RLL 3 right 4 LUL 5 LLL 6 left 9 unspecified, A right upper+lower, B left)."""
    chars: list[str] = []
    sides = (("RUL", "RLL", "1", "2", "A", "3", RIGHT), ("LUL", "LLL", "4", "5", "B", "6", LEFT))
    for upper, lower, up_char, low_char, both_char, side_char, eye in sides:
        if upper in lids and lower in lids:
            chars.append(both_char)
        elif upper in lids:
            chars.append(up_char)
        elif lower in lids:
            chars.append(low_char)
        elif not lids and eye in eyes:
            chars.append(both_char if condition.lids_default == "both_lids" else side_char)
    return chars or ["9"]


def _render_lid(template: str, chars: list[str]) -> list[str]:
    codes = []
    for char in chars:
        code = template.format(lid=char)
        if icd10_billable(code) or char not in "AB":
            codes.append(code)
        else:  # no "upper and lower" code in this family: one code per lid
            codes += [template.format(lid=c) for c in ({"A": "12", "B": "45"}[char])]
    return codes


# A foreign body named without its site ("FB R eye") takes the site the exam gives it.
_FB_OBJECT = r"(?:\bFB\b|foreign\s+body|fragment|debris|particle|speck|chip)"
_FB_IN_CONJUNCTIVA = re.compile(
    _FB_OBJECT + r"[^.\n]{0,60}?\b(?:conj\w*|tarsal|fornix|fornices|bulbar|palpebral)\b", re.IGNORECASE
)
_FB_IN_CORNEA = re.compile(
    _FB_OBJECT + r"[^.\n]{0,40}?\b(?:on|in|of|into)\s+(?:the\s+)?(?:\w+\s+){0,2}(?:cornea|K)\b"
    r"|\b(?:corneal|K)\s+(?:FB|foreign\s+body)|rust\s+ring",
    re.IGNORECASE,
)


def _site_of_foreign_body(note: ParsedNote) -> str:
    if _FB_IN_CONJUNCTIVA.search(note.text) and not _FB_IN_CORNEA.search(note.text):
        return "conjunctival"
    return "corneal"


# "CC: FB recheck", "2-day check after corneal foreign body removal": the visit after the injury was treated
_RECHECK = re.compile(
    r"\bre-?check\b|\bfollow[- ]?up\b|\bf/u\b|\bcheck\s+after\b"
    # "returns two days after we removed a small piece of bark from his right cornea"
    r"|\breturns?\s+(?:\w+\s+){0,3}after\s+(?:we|I|Dr\.?\s+\w+)\s+(?:removed|took\s+out)",
    re.IGNORECASE,
)
_INJURY_WORDS = re.compile(
    r"\bFB\b|foreign\s+body|abrasion|\binjur|\bremoval\b|\bremoved\b|rust\s+ring", re.IGNORECASE
)
_AFTER_BEFORE = re.compile(r"\bafter\b[^.\n]{0,40}$", re.IGNORECASE)
_DATE_AFTER = re.compile(r"[^.\n]{0,25}?\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b")


def _recheck_of_injury(note: ParsedNote) -> bool:
    """The visit's reason (the note's opening lines or the chief complaint) is a recheck of an injury: the recheck
    word and the injury named together ("CC: FB recheck", not "3 mo f/u POAG; also FB" or a plan's "RTC 24h f/u")."""
    reasons = [note.span(s) for s in note.sentences if s.section == SectionKind.COMPLAINT]
    plan = next((s.start for s in note.sections if s.kind == SectionKind.PLAN), len(note.text))
    opening = [note.text[: min(400, plan)], *reasons]
    return any(
        abs(recheck.start() - injury.start()) <= 40
        and not re.search(
            r"[;.]", text[min(recheck.start(), injury.start()) : max(recheck.end(), injury.end())]
        )
        for text in opening
        for recheck in _RECHECK.finditer(text)
        for injury in _INJURY_WORDS.finditer(text)
    )


def _removed_today(note: ParsedNote) -> bool:
    """The note records a foreign body removed at this visit: "FB removed @ SLE w/ 25g needle" (outside the plan,
    with no date, "after" or "s/p" around the verb)."""
    if _recheck_of_injury(note):
        return False  # a recheck visit: the removal it names was an earlier one
    plan = [(s.start, s.end) for s in note.sections if s.kind == SectionKind.PLAN]
    return any(
        not any(a <= m.start() < b for a, b in plan)
        and not _DATE_AFTER.match(note.text, m.end())
        and not _EARLIER_DAY.search(note.text, m.start(), line_bounds(note.text, m.start())[1])
        and not REMOVED_ELSEWHERE.match(note.text, m.end())
        and not REMOVED_ELSEWHERE_BEFORE.search(note.text, line_bounds(note.text, m.start())[0], m.start())
        and not in_quotes(note.text, m.start())
        and not _AFTER_BEFORE.search(note.text, max(0, m.start() - 50), m.start())
        and not re.search(r"\b(?:s/p|status\s+post)\b", m.group(), re.IGNORECASE)
        for m in _REMOVED_VERB.finditer(note.text)
    )


_EARLIER_DAY = re.compile(
    r"\byesterday\b|\bago\b|\bon\s+\d{1,2}/\d{1,2}|\blast\s+(?:week|visit)\b", re.IGNORECASE
)
_REMOVED_VERB = re.compile(
    r"\b(?:FBs?|foreign\s+bod(?:y|ies)|particle|speck|flake|fragment)\b[^.;\n]{0,40}?\b(?:removed|extracted|lifted\s+(?:off|out)"
    r"|swept\s+(?:out|off))\b",
    re.IGNORECASE,
)


def _injury_recheck(note: ParsedNote, lexicon: Lexicon) -> bool:
    """A recheck of an injury treated at an earlier visit (a subsequent encounter, 7th character D): the visit's
    reason says recheck or follow-up, and nothing is removed today (a removal verb names an earlier date, or none)."""
    if not _recheck_of_injury(note):
        return False
    # "removed here 05/03/2026" and "check after ... removal" name an earlier removal; so does the assessment's
    # "corneal foreign body, right eye, removed" at a recheck
    assessed = [(s.start, s.end) for s in note.sections if s.kind == SectionKind.ASSESSMENT]
    return not any(
        not any(a <= m.start() < b for a, b in assessed)
        and not _DATE_AFTER.match(note.text, m.end())
        and not _AFTER_BEFORE.search(note.text, max(0, m.start() - 50), m.start())
        for m in lexicon.fb_done.finditer(note.text)
    )


# (the risk right after the semicolon: not "; not high risk", not "; lattice OD, low risk", another item's)
_SUSPECT_RISK_AFTER = re.compile(
    r"[^.;\n]{0,160}?;\s*(?:(?:overall|but|considered|felt\s+to\s+be|which\s+is|I\s+would\s+call\s+it|I'?d\s+call\s+it"
    r"|I\s+consider\s+(?:it|this|him|her)|(?:it|this)\s+is|(?:he|she)\s+is|at\s+this\s+point|for\s+now|open\s+angles?(?:\s+OU)?)[\s,]+){0,3}"
    r"(low|high)[- ]risk\b",
    re.IGNORECASE,
)


def _codes_for(
    note: ParsedNote, mentions: list[_Mention], index: int, lexicon: Lexicon
) -> list[tuple[str, str, str]]:
    """(code, eye basis, stage basis) for one mention of a coded condition."""
    mention = mentions[index]
    condition = mention.condition
    templates = condition.codes
    if condition.id == "foreign_body" and _site_of_foreign_body(note) == "conjunctival":
        templates = tuple(t.replace("T15.0", "T15.1") for t in templates)
    # "glaucoma suspect, left eye, on the basis of the enlarged cup; low risk ...": the risk the sentence goes on
    # to state, past the semicolon that ends the clause
    if condition.id == "glaucoma_suspect" and (risk := _SUSPECT_RISK_AFTER.match(note.text, mention.end)):
        templates = tuple(
            t.replace("H40.00", "H40.01" if risk.group(1).lower() == "low" else "H40.02") for t in templates
        )
    scale = lexicon.stages.get(condition.stage) if condition.stage else None
    reading = _reading(note, mentions, index, scale.level if scale else _no_stage)
    start, end = _scope(mentions, index)
    scope = note.text[start:end]
    injury = "{encounter}" in "".join(templates)
    subsequent = _SUBSEQUENT.search(scope)
    if subsequent and injury and subsequent.group("removal") and _removed_today(note):
        subsequent = None  # "A: corneal FB OD, s/p removal" on the day of the removal the note records
    encounter = "D" if subsequent or (injury and _injury_recheck(note, lexicon)) else "A"
    out: list[tuple[str, str, str]] = []
    for template in templates:
        stage_basis = "n/a"
        if "{lid}" in template:
            lids = lids_in(scope) or lids_in(note.text[mention.start : mention.clause.end])
            chars = _lid_chars(lids, reading.eyes, condition)
            out += [
                (c, "explicit" if lids else reading.eye_basis, "n/a") for c in _render_lid(template, chars)
            ]
            continue
        if "{eye}" not in template:
            out.append((template.format(encounter=encounter), "n/a", "n/a"))
            continue
        if scale is not None and reading.per_eye:
            for eye in (RIGHT, LEFT):
                stage = reading.per_eye.get(eye) or reading.stage or scale.default
                codes = _render_eye(template, frozenset({eye}), stage=stage, encounter=encounter)
                out += [(c, "explicit", "explicit") for c in codes]
            continue
        stage = reading.stage if reading.stage is not None else (scale.default if scale else "")
        if scale is not None:
            stage_basis = "explicit" if reading.stage is not None else "default"
        codes = _render_eye(template, reading.eyes, stage=stage, encounter=encounter)
        out += [(c, reading.eye_basis, stage_basis) for c in codes]
    return out


def _evidence_span(note: ParsedNote, mentions: list[_Mention], index: int) -> tuple[int, int]:
    """The mention with the words that give its eye and stage ("POAG OU, mild stage"), at most ~90 chars."""
    mention = mentions[index]
    _, end = _scope(mentions, index)
    end = min(end, mention.start + 90)
    while end > mention.end and note.text[end - 1] in " \t,;:-.(":
        end -= 1
    return mention.start, max(end, mention.end)


def _diabetes_type(note: ParsedNote, near: str) -> str:
    for text in (near, note.text):
        one, two = _TYPE_1.search(text), _TYPE_2.search(text)
        if one and not two:
            return "E10"
        if two:
            return "E11"
    return "E11"


def _dr_stage(text: str) -> str | None:
    """The combination-code tail (e.g. "329", "355") a retinopathy phrase states, None if no severity."""
    edema = not _EDEMA_NO.search(text) and bool(_EDEMA_YES.search(text))
    if _PDR.search(text):
        if edema:
            return "351"
        if _TRACTION.search(text):
            return "353" if _NOT_MACULA.search(text) else "352"
        return "355" if _PDR_STABLE.search(text) else "359"
    severity = next((value for pattern, value in _DR_SEVERITY if pattern.search(text)), None)
    if severity is None:
        return None
    return f"3{severity}{'1' if edema else '9'}"


def _diabetes_codes(note: ParsedNote, mentions: list[_Mention], source: str) -> list[FoundDiagnosis]:
    """E10/E11 combination codes from the assessment, plus Z79.4/Z79.84/Z79.85 for type 2."""
    dm = [m for m in mentions if m.condition.id == "diabetes" and _counts(m)]
    dr_index = [i for i, m in enumerate(mentions) if m.condition.id == "diabetic_retinopathy" and _counts(m)]
    resolved = [m for m in mentions if m.condition.id == "dme_resolved"]
    if not dm and not dr_index and not resolved:
        return []
    first = min([m.start for m in dm] + [mentions[i].start for i in dr_index] + [m.start for m in resolved])
    family = _diabetes_type(note, " ".join(note.span(m.clause) for m in dm))
    found: list[FoundDiagnosis] = []
    for i in dr_index:
        mention = mentions[i]
        start, end = _scope(mentions, i)
        scope = note.text[start:end]
        parts, free = _read_scope(scope, _dr_stage)
        per_eye = {next(iter(e)): s for e, s in parts if len(e) == 1 and s is not None}
        # the eyes said after the mention are its own ("..., and mild NPDR in the left eye"); the words before
        # it may belong to the previous finding
        own = _before_denial(note.text[mention.start : end], mention.end - mention.start)
        after_parts, _ = _read_scope(own, _dr_stage)
        eyes = (
            frozenset(e for part_eyes, _ in after_parts for e in part_eyes)
            or frozenset(e for part_eyes, _ in parts for e in part_eyes)
            or _labelled_eyes(note, mention.start)
            or eyes_in(note.text[mention.end : mention.clause.end])
        )
        whole = _dr_stage(scope)
        evidence = [(mention.start, mention.end)]
        stage = whole or next((s for _, s in parts if s is not None), free)
        # per-eye codes: stages that differ, or "mild NPDR both eyes, now with macular edema in the right eye"
        tails: dict[str, str] = {}
        if len(per_eye) == 2 and per_eye[RIGHT] != per_eye[LEFT]:
            tails = {eye: str(per_eye[eye]) for eye in (RIGHT, LEFT)}
        elif stage is not None and eyes == BOTH and stage.endswith("1"):
            edema_eyes = frozenset(
                eye
                for piece in _SUBCLAUSE.split(scope)
                if _EDEMA_YES.search(piece) and not _EDEMA_NO.search(piece) and len(eyes_in(piece)) == 1
                for eye in eyes_in(piece)
            )
            if len(edema_eyes) == 1:
                tails = {eye: stage if eye in edema_eyes else stage[:-1] + "9" for eye in (RIGHT, LEFT)}
        if tails:
            found += [
                FoundDiagnosis(
                    f"{family}.{tails[eye]}{_EYE_CHAR[eye]}",
                    mention.condition,
                    evidence,
                    mention.start,
                    source,
                    "explicit",
                    "explicit",
                )
                for eye in (RIGHT, LEFT)
            ]
            continue
        if stage is None:
            code = (
                f"{family}.311"
                if _EDEMA_YES.search(scope) and not _EDEMA_NO.search(scope)
                else f"{family}.319"
            )
            found.append(
                FoundDiagnosis(code, mention.condition, evidence, mention.start, source, "n/a", "default")
            )
            continue
        eye_char = "3" if eyes == BOTH else _EYE_CHAR[next(iter(eyes))] if eyes else "9"
        found.append(
            FoundDiagnosis(
                f"{family}.{stage}{eye_char}",
                mention.condition,
                evidence,
                mention.start,
                source,
                "explicit" if eyes else "default",
                "explicit",
            )
        )
    for mention in mentions:
        a = mention.assertion
        if mention.condition.id != "dme_resolved" or a.uncertain or a.hypothetical or a.family:
            continue
        eyes = eyes_in(note.text[mention.start : mention.clause.end])
        eye_char = "3" if eyes == BOTH else _EYE_CHAR[next(iter(eyes))] if eyes else "9"
        found.append(
            FoundDiagnosis(
                f"{family}.37X{eye_char}",
                mention.condition,
                [(mention.start, mention.end)],
                mention.start,
                source,
                "explicit" if eyes else "default",
                "explicit",
            )
        )
    if not found and dm:
        condition = dm[0].condition
        found.append(FoundDiagnosis(f"{family}.9", condition, [(dm[0].start, dm[0].end)], first, source))
    if family == "E11":
        found += _control_codes(note, first)
    return found


def _control_codes(note: ParsedNote, position: int) -> list[FoundDiagnosis]:
    lexicon = load_lexicon()
    found = []
    for name, code in _CONTROL_CODES:
        for match in lexicon.diabetes_control[name].finditer(note.text):
            before = note.text[max(0, match.start() - 30) : match.start()]
            planned = _PLANNED_DRUG.search(before) and not _TAKEN_SINCE_AFTER.match(note.text, match.end())
            if _NEGATED_DRUG.search(before) or planned or _STOPPED_AFTER.match(note.text, match.end()):
                continue
            found.append(FoundDiagnosis(code, None, [(match.start(), match.end())], position, "derived"))
            break
    return found


# A note-wide pattern can swallow its own negation ("Family Hx: no family history of glaucoma").
_INNER_NEGATION = re.compile(r"\b(?:no|not|neg(?:ative)?|denies|without|w/o)\b", re.IGNORECASE)


_NEGATED_AFTER = re.compile(
    r"[ \t]*[:=-]?[ \t]*(?:neg(?:ative)?|none|denie[sd]|\(-\))(?![\w-])", re.IGNORECASE
)


def _note_wide(note: ParsedNote, conditions: list[Condition]) -> list[tuple[Condition, _Mention]]:
    found = []
    for condition in conditions:
        for clause in note.sentences:
            hits = [
                m
                for m in _mentions_in(note, clause, (condition,))
                if m.condition is condition
                and _counts(m)
                and not _INNER_NEGATION.search(note.text[m.start : m.end])
                and not _NEGATED_AFTER.match(note.text, m.end)  # "FHx glc: neg."
            ]
            if hits:
                found.append((condition, hits[0]))
                break
    return found


def assessment_clauses(note: ParsedNote) -> tuple[list[Clause], bool]:
    """The clauses diagnoses come from, and whether they are a fallback (no assessment in the note)."""
    items = [
        c
        for c in note.clauses
        if c.section == SectionKind.ASSESSMENT
        and not (_with_plan(note, c) and is_plan_bullet(note.text, c))
        and not _only_noted(note, c)
    ]
    # a standing problem list is context when the note also has today's assessment
    listed = [c for c in items if _PROBLEM_LIST.match(_header_of(note, c))]
    if listed and len(listed) < len(items):
        items = [c for c in items if c not in listed]
    if note.has(SectionKind.ASSESSMENT) and not _condition_free_addenda(note, items):
        return items, False
    numbered = [
        c
        for c in note.clauses
        if c.section in FALLBACK_SECTIONS
        and _NUMBERED_LINE.match(note.text, note.text.rfind("\n", 0, c.start) + 1)
    ]
    if len({note.text.rfind("\n", 0, c.start) for c in numbered}) >= 2:
        return numbered, False
    sentences = [c for c in note.sentences if c.section in FALLBACK_SECTIONS]
    # "Impression is ..." states the assessment even where a dictated "Slit lamp colon" opened an exam section
    readable = [c for c in note.sentences if c.section in (*FALLBACK_SECTIONS, SectionKind.EXAM)]
    stated = [c for c in readable if _IMPRESSION.search(note.span(c))] or [
        c for c in readable if _HAS_IMPRESSION.search(note.span(c))
    ]
    stated += [c for c in sentences if c not in stated and _SOFT_IMPRESSION.search(note.span(c))]
    return stated + [c for c in sentences if c not in stated], True


def _condition_free_addenda(note: ParsedNote, items: list[Clause]) -> bool:
    """The note's only assessment is an addendum that names no condition ("Addendum, same day: correction to the
    procedure description above ..."): the body still states what was treated."""
    addenda = all(
        s.header.lower().startswith("addendum") for s in note.sections if s.kind == SectionKind.ASSESSMENT
    )
    return (
        addenda
        # (an addendum that gives the doctor's impression assesses, whether or not the lexicon knows the condition)
        and not any(_ADDENDUM_ASSESSES.search(note.span(c)) for c in items)
        and not any(
            p.search(note.span(c))
            for c in items
            for condition in load_lexicon().conditions
            for p in condition.patterns
        )
    )


_ADDENDUM_ASSESSES = re.compile(r"\bimpression\b|\bassess\w*|\bdiagnos\w*|\bdx\b|\bA:", re.IGNORECASE)


# "3. Pseudophakia OU - noted." / "HTN - noted, per PCP": an item the doctor only acknowledges, with no finding,
# decision or plan of its own today, is not assessed ("a risk factor, noted" says why it matters, so it stays)
_NOTED_ITEM = re.compile(
    r"[ \t]*(?:#?\d+[.)][ \t]*)?[^\n]*?[ \t][-–—:][ \t]*noted"
    r"(?:[ \t]*[,;]?[ \t]*(?:(?:per|(?:followed|managed)[ \t]+by)[ \t]+(?:(?:her|his|their|the)[ \t]+)?PCP"
    r"|defer(?:red)?[ \t]+to[ \t]+Dr\.?[^\n]*"
    r"|(?:will[ \t]+)?(?:reassess|re-?evaluate|recheck|address)[ \t]+(?:it[ \t]+)?(?:at|next)\b[^\n]*))?[ \t]*\.?[ \t]*$",
    re.IGNORECASE,
)


def _only_noted(note: ParsedNote, clause: Clause) -> bool:
    return _NOTED_ITEM.fullmatch(note.text, *line_bounds(note.text, clause.start)) is not None


_PROBLEM_LIST = re.compile(r"\s*(?:active\s+|chronic\s+)?problems?(?:\s+list)?\b(?!\s*#?\d)", re.IGNORECASE)


def _header_of(note: ParsedNote, clause: Clause) -> str:
    section = note.section_of(clause)
    return section.header if section is not None else ""


def _with_plan(note: ParsedNote, clause: Clause) -> bool:
    """Whether the clause sits under a combined assessment-and-plan header (A/P, A&P, Assessment and Plan),
    where "- " bullets are plan steps; under a bare "Assessment:" they are the diagnoses."""
    section = note.section_of(clause)
    if section is None:
        return True
    header = section.header.strip()
    return header.upper() == "A" or bool(re.search(r"P\b|plan", header, re.IGNORECASE))


def _last_paragraph(note: ParsedNote) -> list[Clause]:
    """The sentences after the note's last blank line (none when the note is one paragraph)."""
    cut = note.text.rstrip().rfind("\n\n")
    if cut == -1:
        return []
    return [c for c in note.sentences if c.start > cut and c.section in FALLBACK_SECTIONS]


def _first_indication(
    note: ParsedNote, items: list[Clause], conditions: tuple[Condition, ...]
) -> list[_Mention]:
    """Without an assessment, the first sentence that names a condition states the indication; later ones
    are findings the note does not assess."""
    for clause in items:
        mentions = _mentions_in(note, clause, conditions)
        if any(_counts(m) and (m.condition.codes or m.condition.kind) for m in mentions):
            return mentions
    return []


def find_diagnoses(note: ParsedNote) -> list[FoundDiagnosis]:
    """Every codable diagnosis, ordered the way the claim lists them (chief reason first)."""
    lexicon = load_lexicon()
    items, fallback = assessment_clauses(note)
    item_conditions = tuple(c for c in lexicon.conditions if not c.note_wide)
    if fallback:
        mentions = _first_indication(note, items, item_conditions)
        # a narrative note usually closes with its impression: the last paragraph's conditions count too, and so
        # does a sentence that states an item the way an assessment does ("Primary open-angle glaucoma, both eyes,
        # mild stage, stable; continue latanoprost")
        stated_items = [c for c in items if _STATED_ITEM.match(note.span(c))]
        closing = [
            c for c in [*_last_paragraph(note), *stated_items] if not any(m.clause == c for m in mentions)
        ]
        closing = list(dict.fromkeys(closing))
        mentions += [m for c in closing for m in _mentions_in(note, c, item_conditions)]
    else:
        mentions = [m for clause in items for m in _mentions_in(note, clause, item_conditions)]
    mentions = _restated_in_plan(note, _without_overruled_picks(note, mentions), item_conditions)
    source = "fallback" if fallback else "assessment"
    found: list[FoundDiagnosis] = []
    for index, mention in enumerate(mentions):
        condition = mention.condition
        if not _counts(mention) or condition.kind == "diabetes" or not condition.codes:
            continue
        span = _evidence_span(note, mentions, index)
        for code, eye_basis, stage_basis in _codes_for(note, mentions, index, lexicon):
            found.append(
                FoundDiagnosis(code, condition, [span], mention.start, source, eye_basis, stage_basis)
            )
    found += _diabetes_codes(note, mentions, source)
    groups = {d.group for d in found}
    wide = [c for c in lexicon.conditions if c.note_wide and c.requires_group in groups]
    for condition, mention in _note_wide(note, wide):
        anchor = max(d.position for d in found if d.group == condition.requires_group)
        for code in condition.codes:
            found.append(FoundDiagnosis(code, condition, [(mention.start, mention.end)], anchor, "note_wide"))
    return _ordered(_suppressed(_billable(_merged(_with_cause(found)))))


# a code the note's other diagnosis makes specific: papilledema beside idiopathic intracranial hypertension
_CAUSED = {"H47.10": ("G93.2", "H47.11")}


def _with_cause(found: list[FoundDiagnosis]) -> list[FoundDiagnosis]:
    codes = {d.code for d in found}
    return [
        replace(d, code=_CAUSED[d.code][1]) if d.code in _CAUSED and _CAUSED[d.code][0] in codes else d
        for d in found
    ]


# An EHR's picked diagnosis ("H40.1130 Primary open-angle glaucoma, bilateral, stage unspecified -- POAG OD
# severe, OS moderate"): the code and its official title are the pick list's, the words after are the doctor's.
_PICKED_CODE = re.compile(r"\b([A-TV-Z]\d{2}(?:\.[0-9A-Z]{1,4})?)[ \t]+(?=[A-Za-z])")
_DOCTOR_WORDS = re.compile(r"[ \t]*(?:--|–|—|-|:|;)[ \t]*\S")


def picked_titles(note: str) -> list[tuple[int, int, int]]:
    """(start, end, line end) of each picked code with its official title that the doctor's words follow on
    the same line; a bare pick ("H52.4 Presbyopia") is not listed, its title is the only wording there is."""
    found = []
    for match in _PICKED_CODE.finditer(note):
        title = icd10_description(match.group(1))
        end = match.end() + len(title or "")
        if not title or note[match.end() : end].lower() != title.lower():
            continue
        if _DOCTOR_WORDS.match(note, end):
            line_end = note.find("\n", end)
            found.append((match.start(), end, line_end if line_end != -1 else len(note)))
    return found


_NUMBERED_PICK = re.compile(
    r"[ \t]*#?(\d{1,2})[.)][ \t]*([A-TV-Z]\d{2}(?:\.[0-9A-Z]{1,4})?)[ \t]+([^\n]+?)[ \t]*$"
)
_ITEM_NUMBER = re.compile(r"[ \t]*#?(\d{1,2})[.)]")


def _restated_in_plan(
    note: ParsedNote, mentions: list[_Mention], conditions: tuple[Condition, ...]
) -> list[_Mention]:
    """A bare pick in a numbered assessment ("1. H40.1132 Primary open-angle glaucoma, bilateral, moderate stage")
    whose plan item of the same number names the condition again ("1. POAG - staging corrected: OD moderate, OS
    mild"): the title is the pick list's, the plan's words are the doctor's, so the plan item's mentions of that
    condition replace the title's (the eye or stage the doctor corrected is what gets coded)."""
    plan_items: dict[str, list[Clause]] = {}
    for clause in note.clauses:
        if clause.section == SectionKind.PLAN:
            number = _ITEM_NUMBER.match(note.text, line_bounds(note.text, clause.start)[0])
            if number:
                plan_items.setdefault(number.group(1), []).append(clause)
    if not plan_items:
        return mentions
    out: list[_Mention] = []
    for mention in mentions:
        pick = _NUMBERED_PICK.fullmatch(note.text, *line_bounds(note.text, mention.start))
        title = icd10_description(pick.group(2)) if pick else None
        restated = (
            [
                other
                for clause in plan_items.get(pick.group(1), [])
                for other in _mentions_in(note, clause, conditions)
                if other.condition.group == mention.condition.group and _counts(other)
            ]
            if pick and title and pick.group(3).lower() == title.lower()
            else []
        )
        if pick is not None and not icd10_unspecified(pick.group(2)):
            # a restatement that leaves the type open ("cataract" under a nuclear-cataract pick) overrules nothing
            restated = [
                m
                for index, m in enumerate(restated)
                if not any(
                    icd10_unspecified(c) for c, _, _ in _codes_for(note, restated, index, load_lexicon())
                )
            ]
        out += [m for m in restated if m not in out] or [mention]
    return out


def _without_overruled_picks(note: ParsedNote, mentions: list[_Mention]) -> list[_Mention]:
    """An EHR-picked code's title next to the doctor's own words about the same condition ("H40.1130 ... stage
    unspecified -- POAG OD severe, OS moderate", "H10.32 Unspecified acute conjunctivitis -- iritis; NOT
    conjunctivitis"): the doctor's words are the documentation, so the title's mention goes."""
    picks = picked_titles(note.text)
    if not picks:
        return mentions

    def overruled(mention: _Mention) -> bool:
        if mention.condition.kind == "diabetes":
            return False  # the title carries the diabetes type the doctor's "mild NPDR OD" leaves out
        for start, end, line_end in picks:
            if start <= mention.start and mention.end <= end:
                # the doctor's words name it (or deny it); "s/p FB removal, healing" still leaves the pick's
                return any(
                    end <= other.start < line_end
                    and other.condition.group == mention.condition.group
                    and (_counts(other) or other.assertion.negated)
                    for other in mentions
                )
        return False

    return [m for m in mentions if not overruled(m)]


def _merged(found: list[FoundDiagnosis]) -> list[FoundDiagnosis]:
    """One entry per code: the first position, all evidence, the surest basis."""
    by_code: dict[str, FoundDiagnosis] = {}
    for diagnosis in found:
        kept = by_code.get(diagnosis.code)
        if kept is None:
            by_code[diagnosis.code] = diagnosis
            continue
        kept.evidence += [e for e in diagnosis.evidence if e not in kept.evidence]
        if kept.eye_basis != "explicit" and diagnosis.eye_basis == "explicit":
            kept.eye_basis = "explicit"
    merged = _bilateral_pairs(list(by_code.values()))
    # a bilateral code and a one-eye code of the same family: the one-eye code came from a vaguer mention
    for diagnosis in list(merged):
        if diagnosis.code[-1] in "12" and any(
            other.code[:-1] == diagnosis.code[:-1] and other.code[-1] == "3" for other in merged
        ):
            merged.remove(diagnosis)
    # "KCN progression" in the plan after "Keratoconus OD, unstable": the condition's unspecified code is the
    # vaguer mention of a condition already coded with its eye or type
    specific = {d.condition.id for d in merged if d.condition and not icd10_unspecified(d.code)}
    merged = [
        d for d in merged if not (d.condition and d.condition.id in specific and icd10_unspecified(d.code))
    ]
    # "FB" said again after "conj FB OS" is the same foreign body, not a second one of unknown site
    if any(d.condition and d.condition.id in ("corneal_fb", "conjunctival_fb") for d in merged):
        merged = [d for d in merged if not (d.condition and d.condition.id == "foreign_body")]
    return merged


def _bilateral_pairs(found: list[FoundDiagnosis]) -> list[FoundDiagnosis]:
    """Per-eye blocks naming the same condition and stage in each eye ("OD: nuclear cataract ... OS: nuclear
    cataract ...") take the bilateral code where one exists; codes that differ in more than the eye stay apart."""
    out = list(found)
    for right in found:
        for at, char in enumerate(right.code):
            if char != "1":
                continue
            left_code = right.code[:at] + "2" + right.code[at + 1 :]
            both_code = right.code[:at] + "3" + right.code[at + 1 :]
            # "hyperopia with astigmatism right, hyperopia left": the same code per eye, read from two conditions
            left = next((d for d in out if d.code == left_code and d.group == right.group), None)
            if left is None or right not in out or not icd10_billable(both_code):
                continue
            if (
                "right" not in (icd10_description(right.code) or "").lower()
                or "bilateral" not in (icd10_description(both_code) or "").lower()
            ):
                continue  # the "1" was not the eye (H20.011 and H20.021 differ in kind, not in eye)
            out.remove(left)
            both = next((d for d in out if d.code == both_code), None)
            if both is not None:  # the bilateral code was also stated outright: one entry, all evidence
                both.evidence += [e for e in right.evidence + left.evidence if e not in both.evidence]
                both.position = min(both.position, right.position, left.position)
                out.remove(right)
                break
            out[out.index(right)] = FoundDiagnosis(
                both_code,
                right.condition,
                right.evidence + left.evidence,
                min(right.position, left.position),
                right.source,
                "explicit",
                right.stage_basis,
            )
            break
    return out


def _billable(found: list[FoundDiagnosis]) -> list[FoundDiagnosis]:
    return [d for d in found if icd10_billable(d.code)]


def _suppressed(found: list[FoundDiagnosis]) -> list[FoundDiagnosis]:
    """Drop a code made redundant by a sharper one; a code of the sharper kind itself (a staged keratoconus
    code beside the other eye's) always stays."""
    codes = [d.code for d in found]
    return [
        d
        for d in found
        if not (
            d.condition
            and not d.code.startswith(d.condition.suppressed_by or ("\0",))
            and any(c.startswith(p) and c != d.code for p in d.condition.suppressed_by for c in codes)
        )
    ]


def _rank(diagnosis: FoundDiagnosis) -> tuple[int, int]:
    code = diagnosis.code
    if code == "Z79.899":
        return (0, diagnosis.position)
    if diagnosis.condition is not None and diagnosis.condition.group == "hcq_indication":
        return (0, diagnosis.position + 1)
    return (1, diagnosis.position)


def _ordered(found: list[FoundDiagnosis]) -> list[FoundDiagnosis]:
    """Assessment order, with drug monitoring first, control codes after their diabetes code, and a status
    code (pseudophakia) after the first condition it accompanies."""
    ordered = sorted(found, key=_rank)
    controls = [d for d in ordered if d.code in {"Z79.4", "Z79.84", "Z79.85"}]
    ordered = [d for d in ordered if d not in controls]
    last_diabetes = max((i for i, d in enumerate(ordered) if d.code.startswith(("E10", "E11"))), default=None)
    if last_diabetes is not None:
        ordered[last_diabetes + 1 : last_diabetes + 1] = controls
    status = [d for d in ordered if d.condition is not None and d.condition.status]
    for diagnosis in status:
        at = ordered.index(diagnosis)
        medical = next(
            (
                i
                for i, d in enumerate(ordered)
                if i > at and d.condition and not d.condition.refractive and not d.condition.status
            ),
            None,
        )
        if at == 0 and medical is not None:
            ordered.insert(medical, ordered.pop(at))
    return ordered
