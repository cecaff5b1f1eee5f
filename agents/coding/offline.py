"""The offline coder: reads a note like a certified optometric coder, with no network and no model."""

import logging
import re
from dataclasses import replace
from typing import Literal

from agents.coding.confidence import (
    CodeFeatures,
    diagnosis_features,
    line_features,
    load_calibration,
    vote_factor,
)
from agents.coding.context import context_reader
from agents.coding.diagnoses import FoundDiagnosis, find_diagnoses
from agents.coding.lexicon import load_lexicon
from agents.coding.linking import DraftLine, LinkedDiagnosis, link_lines
from agents.coding.postop import POSTOP_CODE, UNRELATED_IN_GLOBAL, in_global_period, postop_check_today
from agents.coding.refraction import refractive_codes
from agents.coding.schemas import (
    CodeSuggestion,
    CodingRequest,
    Evidence,
    SuggestedDiagnosis,
    SuggestedLine,
)
from agents.coding.sections import ParsedNote, SectionKind, parse_note
from agents.coding.services import STATED_TODAY, FoundService, find_services
from agents.coding.visit import VisitChoice, choose_visit, failed_screening, routine_diagnosis
from agents.coding.visit_opinion import (
    NO_VISIT,
    Opinion,
    VisitOpinion,
    is_medical_visit,
    is_new_patient_visit,
    load_opinion,
    opinion_text,
    visit_family,
)
from agents.coding.vote import Vote, adopted_lines, line_key, take_vote
from billing.findings import Finding, Severity
from knowledge.base import KnowledgeBase
from knowledge.codes.icd10 import icd10_billable, icd10_description

# 1.3: the visit-code second opinion; 1.4: it may leave a visit line out; 1.5: or replace a code it finds very unlikely
ENGINE_VERSION = "offline-1.5"
# The second opinion's probability of "no visit line" at which a rule-chosen intermediate or E/M visit is left out.
DROP_VISIT = 0.75
# The second opinion's probability of another medical visit code at which it replaces the rules' code, when it gives
# the rules' code less than RULES_VISIT_UNLIKELY (chosen out of fold on the tuning rows; see _visit_the_opinion_picks).
PICK_VISIT = 0.7
RULES_VISIT_UNLIKELY = 0.05
# A near-identical note staff already approved: drafted as approved (no eval set carries votes to fit this on).
ADOPTED_CONFIDENCE = 0.95
MAX_NOTE_CHARS = 200_000
log = logging.getLogger(__name__)


def _input_problem(note: str) -> Finding | None:
    """Why a note cannot be read at all (empty, huge, not text), or None."""
    if not note or not note.strip():
        return Finding(
            code="NOTE_EMPTY",
            severity=Severity.ERROR,
            message="The note is empty.",
            fix="Finalize the exam note in Crystal PM, then code it again.",
            source="offline coder",
        )
    if len(note) > MAX_NOTE_CHARS:
        return Finding(
            code="NOTE_TOO_LONG",
            severity=Severity.ERROR,
            message=f"The note is {len(note):,} characters; the coder reads at most {MAX_NOTE_CHARS:,}.",
            fix="Code this visit by hand, or split the document into the visit note alone.",
            source="offline coder",
        )
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in note)
    if "\x00" in note or printable / len(note) < 0.9:
        return Finding(
            code="NOTE_UNREADABLE",
            severity=Severity.ERROR,
            message="The note is not readable text (binary or garbled characters).",
            fix="Export the note again as plain text.",
            source="offline coder",
        )
    return None


def _evidence(note: ParsedNote, spans: list[tuple[int, int]]) -> list[Evidence]:
    seen, found = set(), []
    for start, end in spans:
        if (start, end) in seen or not 0 <= start < end <= len(note.text):
            continue
        seen.add((start, end))
        found.append(Evidence(text=note.original[start:end], start=start, end=end))
    return found


class OfflineCoder:
    """Deterministic, knowledge-driven coding engine (the default). Construction is cheap after the first:
    the lexicon and the ConText pipeline load once per process."""

    name = "offline"
    version = ENGINE_VERSION

    def __init__(
        self, kb: KnowledgeBase | None = None, opinion: VisitOpinion | Literal["shipped"] | None = "shipped"
    ) -> None:
        """`opinion`: the visit-code second opinion (the stored model by default; None: none)."""
        self._kb = kb
        self._opinion = load_opinion() if opinion == "shipped" else opinion
        load_lexicon()
        context_reader()  # medspaCy loads here, once per process, not on the first note
        icd10_billable("H40.1131")  # so does the ICD-10-CM table

    def suggest(self, request: CodingRequest) -> CodeSuggestion:
        problem = _input_problem(request.note)
        if problem is not None:
            return CodeSuggestion(findings=[problem], engine=self.name, engine_version=self.version)
        try:
            suggestion, _ = self._suggest(request)
        except Exception as error:  # a coder bug must never take the workflow down; the reviewer codes it
            log.exception("offline coder failed (%s)", type(error).__name__)
            return CodeSuggestion(
                findings=[
                    Finding(
                        code="CODER_FAILED",
                        severity=Severity.ERROR,
                        message="The offline coder could not read this note.",
                        fix="Code this visit by hand; the error is in the service log.",
                        source="offline coder",
                    )
                ],
                engine=self.name,
                engine_version=self.version,
            )
        if self._kb is not None:
            from agents.coding.validate import validate_suggestion

            suggestion = validate_suggestion(suggestion, request, self._kb)
        return suggestion

    def explain(self, request: CodingRequest) -> tuple[CodeSuggestion, list[tuple[str, CodeFeatures]]]:
        """The suggestion (no knowledge-base validation) and each code's calibration features, as (code, features)
        in the order diagnoses then lines: what the calibration fit learns from."""
        return self._suggest(request)

    def _suggest(self, request: CodingRequest) -> tuple[CodeSuggestion, list[tuple[str, CodeFeatures]]]:
        note = parse_note(request.note)
        diagnoses = find_diagnoses(note)
        services = find_services(note, diagnoses, request.history, request.date_of_service)
        diagnoses += _refraction_diagnoses(note, diagnoses, services)
        procedures = [s for s in services if s.kind == "procedure"]
        procedure_dx = {code for s in procedures for code in _procedure_dx(s, diagnoses)}
        separate = [
            d
            for d in diagnoses
            if d.code not in procedure_dx
            and d.condition is not None
            and not d.condition.refractive
            and not d.condition.status
            and d.source != "derived"
        ]
        visit = choose_visit(
            note,
            request,
            diagnoses,
            separate if procedures else diagnoses,
            procedure_only=bool(procedures) and not separate,
        )
        if not diagnoses and not visit.routine:
            visit = VisitChoice(None, "none", False, visit.established, rationale="no codable diagnosis")
        visit = self._global_period(note, request, visit, services, separate if procedures else diagnoses)
        second = (
            self._opinion.opinion(
                opinion_text(
                    request.note,
                    visit.established,
                    request.payer_kind,
                    request.patient_age,
                    request.payer_name,
                )
            )
            if self._opinion is not None
            else None
        )
        # a visit the rules chose for a separately identifiable problem beside a procedure (the 25 case) stays
        dropped = None if procedures and separate else _visit_the_opinion_drops(visit, second)
        if dropped is not None:
            visit = VisitChoice(None, "none", False, visit.established, rationale=dropped)
        else:
            visit = _visit_the_opinion_picks(visit, second) or visit
        if visit.code and (visit.routine or failed_screening(note)):
            # a routine exam leads with Z01.0-; so does the exam after a failed vision screening (Z01.02-)
            code = routine_diagnosis(note, diagnoses, request)
            diagnoses.insert(0, FoundDiagnosis(code, None, visit.evidence[:1], -1, "routine"))
        lines = self._lines(request, visit, services, procedures, diagnoses) if diagnoses else []
        linked = [
            LinkedDiagnosis(
                d.code,
                d.group if d.condition else ("routine" if d.source == "routine" else "derived"),
                refractive=bool(d.condition and d.condition.refractive),
            )
            for d in diagnoses
        ]
        drafts = [draft for draft, _ in lines]
        link_lines(drafts, linked, routine=visit.routine, vision_plan=request.payer_kind == "vision")
        vote = take_vote(request)
        suggestion, features = self._assemble(note, visit, diagnoses, lines, vote, request.payer_kind, second)
        if not diagnoses and services:
            suggestion.findings.append(
                Finding(
                    code="NO_ASSESSED_DIAGNOSIS",
                    severity=Severity.WARNING,
                    message=f"The note records {len(services)} service(s) but no diagnosis the coder could read, "
                    "so nothing was coded (a line needs a diagnosis to point to).",
                    fix="Code this visit by hand from the assessment.",
                    source="offline coder",
                )
            )
        if dropped is not None:
            suggestion.findings.append(
                Finding(
                    code="VISIT_LEFT_OUT",
                    severity=Severity.WARNING,
                    message=dropped,
                    fix="Add the exam line back (with 25 beside a procedure) only if the note documents a "
                    "separately identifiable exam.",
                    source="offline coder",
                )
            )
        if vote.adopted is not None:
            suggestion = self._adopt(suggestion, request, vote)
        return suggestion, features

    @staticmethod
    def _global_period(
        note: ParsedNote,
        request: CodingRequest,
        visit: VisitChoice,
        services: list[FoundService],
        assessed: list[FoundDiagnosis],
    ) -> VisitChoice:
        """Inside a surgeon's global period the routine post-op check is 99024 (no exam line when it is all the visit
        was) and an exam for an unrelated problem takes modifier 24. Appends the 99024 service to `services`."""
        if not in_global_period(note, request.history, request.date_of_service):
            return visit
        postop = postop_check_today(note)
        if postop is not None:
            services.append(
                FoundService(
                    POSTOP_CODE,
                    "postop",
                    [postop],
                    ("status",),
                    rationale="routine post-op visit inside the surgeon's global period (no charge)",
                )
            )
        problems = [
            d
            for d in assessed
            if d.condition is not None and not d.condition.refractive and not d.condition.status
        ]
        if postop is not None and not problems:
            return VisitChoice(
                None, "none", False, visit.established, [postop], "routine post-op visit: 99024, no exam line"
            )
        if postop is not None and visit.family == "em" and not any(d.condition.chronic for d in problems):
            # the follow-up the visit opens with is the surgery's; an acute problem found beside it is new
            code = "92012" if visit.established else "92002"
            visit = replace(
                visit, code=code, family="intermediate", mdm={}, rationale="a new problem at a post-op visit"
            )
        if visit.code and visit.family != "vision_plan":
            return replace(
                visit,
                in_global=True,
                rationale=f"{visit.rationale}; unrelated to the surgery in its global (24)",
            )
        return visit

    def _lines(
        self,
        request: CodingRequest,
        visit: VisitChoice,
        services: list[FoundService],
        procedures: list[FoundService],
        diagnoses: list[FoundDiagnosis],
    ) -> list[tuple[DraftLine, FoundService | None]]:
        medicare = request.payer_kind == "medicare"
        lines: list[tuple[DraftLine, FoundService | None]] = []
        if visit.code:
            modifiers = ["25"] if procedures else []
            if visit.in_global:
                modifiers.append(UNRELATED_IN_GLOBAL)
            if visit.routine and medicare:
                modifiers.append("GY")
            lines.append((DraftLine(visit.code, "visit", modifiers), None))
        refractive = any(d.condition and d.condition.refractive for d in diagnoses)
        s_code_exam = visit.code in {"S0620", "S0621"}
        for service in services:
            if service.kind == "refraction":
                if s_code_exam or not (refractive or visit.routine):
                    continue
                service.modifiers = ["GY"] if medicare else []
            lines.append(
                (
                    DraftLine(
                        service.code,
                        service.kind,
                        list(service.modifiers),
                        service.units,
                        service.links,
                        _procedure_dx(service, diagnoses) if service.kind == "procedure" else (),
                    ),
                    service,
                )
            )
        order = {"visit": 0, "test": 1, "procedure": 2, "contact_lens": 3, "refraction": 4}
        return sorted(lines, key=lambda item: order.get(item[0].kind, 5))

    def _assemble(
        self,
        note: ParsedNote,
        visit: VisitChoice,
        diagnoses: list[FoundDiagnosis],
        lines: list[tuple[DraftLine, FoundService | None]],
        vote: Vote,
        payer_kind: str,
        second: Opinion | None,
    ) -> tuple[CodeSuggestion, list[tuple[str, CodeFeatures]]]:
        calibrate = load_calibration()
        structured = note.has(SectionKind.ASSESSMENT)
        features: list[tuple[str, CodeFeatures]] = []
        suggested_dx = []
        for d in diagnoses:
            if not icd10_billable(d.code):
                continue
            found = diagnosis_features(
                d.source,
                d.eye_basis,
                d.stage_basis,
                d.condition.id if d.condition else None,
                d.group if d.condition else d.source,
                structured,
                d.code,
            )
            features.append((d.code, found))
            suggested_dx.append(
                SuggestedDiagnosis(
                    code=d.code,
                    description=icd10_description(d.code) or "",
                    confidence=calibrate(found, d.code, vote_factor(vote.of(d.code))),
                    evidence=_evidence(note, d.evidence),
                )
            )
        suggested_lines = []
        for draft, service in lines:
            if draft.kind == "visit":
                # a vision plan's exam code comes from the plan's table, not from judgment the opinion can weigh
                opinion = "" if second is None or visit.family == "vision_plan" else second.on(draft.code)
                if visit.overruled:  # the rules and the opinion disagree: the line waits for review
                    opinion = "differ"
                found = line_features(
                    "visit",
                    visit.family,
                    draft.code,
                    draft.fallback_link,
                    structured,
                    _visit_support(visit, payer_kind),
                    opinion,
                )
                spans, why = visit.evidence, visit.rationale
                if second is not None and opinion != "differ":
                    share = second.probabilities[draft.code]
                    why = f"{why}; the learned second opinion agrees ({share:.0%})"
            else:
                found = line_features(
                    draft.kind,
                    service.basis if service else "",
                    draft.code,
                    draft.fallback_link,
                    structured,
                    _service_support(note, service, draft.kind, payer_kind),
                )
                spans, why = (service.evidence, service.rationale) if service else ([], "")
            features.append((draft.code, found))
            suggested_lines.append(
                SuggestedLine(
                    code=draft.code,
                    modifiers=draft.modifiers,
                    units=draft.units,
                    diagnosis_codes=draft.diagnosis_codes,
                    confidence=calibrate(
                        found, draft.code, vote_factor(vote.of(line_key(draft.code, draft.modifiers)))
                    ),
                    evidence=_evidence(note, spans),
                    rationale=why,
                )
            )
        confidences = [d.confidence for d in suggested_dx] + [x.confidence for x in suggested_lines]
        visit_code = next((draft.code for draft, _ in lines if draft.kind == "visit"), None)
        findings = (
            []
            if second is None or visit.family == "vision_plan"
            else _opinion_findings(second, visit_code, visit.overruled)
        )
        rationale = [visit.rationale] if visit.rationale else []
        rationale.append("new patient (3-year rule)" if not visit.established else "established patient")
        suggestion = CodeSuggestion(
            lines=suggested_lines,
            diagnoses=suggested_dx,
            confidence=min(confidences) if confidences else 0.0,
            findings=findings,
            engine=self.name,
            engine_version=self.version,
            rationale=rationale,
        )
        return suggestion, features

    def _adopt(self, suggestion: CodeSuggestion, request: CodingRequest, vote: Vote) -> CodeSuggestion:
        """A near-identical approved note: its codes, as staff approved them, with our evidence where it fits."""
        encounter = vote.adopted
        assert encounter is not None
        ours_dx = {d.code: d for d in suggestion.diagnoses}
        ours_lines = {line_key(x.code, x.modifiers): x for x in suggestion.lines}
        confidence = ADOPTED_CONFIDENCE
        diagnoses = [
            SuggestedDiagnosis(
                code=code,
                description=icd10_description(code) or "",
                confidence=confidence,
                evidence=ours_dx[code].evidence if code in ours_dx else [],
            )
            for code in encounter.diagnosis_codes
            if icd10_billable(code)
        ]
        lines = []
        for line in adopted_lines(encounter, request.payer_kind):
            ours = ours_lines.get(line_key(line.code, line.modifiers))
            lines.append(
                line.model_copy(
                    update={
                        "confidence": confidence,
                        "evidence": ours.evidence if ours else [],
                        "rationale": f"as approved on encounter {encounter.encounter_id} "
                        f"(similarity {encounter.similarity:.2f})",
                    }
                )
            )
        return suggestion.model_copy(
            update={
                "diagnoses": diagnoses,
                "lines": lines,
                "confidence": confidence if diagnoses or lines else suggestion.confidence,
                "rationale": [
                    f"adopted the codes of approved encounter {encounter.encounter_id}, a near-identical "
                    f"note (similarity {encounter.similarity:.2f})",
                    *suggestion.rationale,
                ],
            }
        )


_REFRACTIVE_CONDITION = {
    "H52.0": "hyperopia",
    "H52.1": "myopia",
    "H52.2": "astigmatism",
    "H52.4": "presbyopia",
}


def _refraction_diagnoses(
    note: ParsedNote, diagnoses: list[FoundDiagnosis], services: list[FoundService]
) -> list[FoundDiagnosis]:
    """A refraction done today whose note names no refractive condition: the conditions its values show, so the
    refraction line has its diagnosis (agents/coding/refraction.py)."""
    refraction = next((s for s in services if s.code == "92015" and s.evidence), None)
    if refraction is None or any(d.condition and d.condition.refractive for d in diagnoses):
        return []
    start = refraction.evidence[0][0]
    end = note.text.find("\n\n", start)
    text = note.text[start : end if end != -1 else len(note.text)][:400]
    keratoconus = any(d.condition and d.condition.id == "keratoconus" for d in diagnoses) or bool(
        re.search(r"\bkeratoconus\b|\bKCN?\b", note.text, re.IGNORECASE)
    )
    conditions = {c.id: c for c in load_lexicon().conditions}
    position = max((d.position for d in diagnoses), default=0) + 1
    return [
        FoundDiagnosis(
            code,
            conditions.get(_REFRACTIVE_CONDITION[code[:5]]),
            [refraction.evidence[0]],
            position,
            "derived",
        )
        for code in refractive_codes(text, keratoconus)
    ]


def _visit_the_opinion_drops(visit: VisitChoice, second: Opinion | None) -> str | None:
    """Why a rule-chosen visit line is left out, or None. Only one disagreement is acted on: the rules read a
    new problem or a follow-up where the second opinion firmly reads a visit that bills no exam (a procedure,
    plug or biometry visit whose evaluation is included). Out of fold over the untuned runs of tune3 to tune13
    the opinion was right in all 14 such cases at >= 0.75; on every other disagreement the rules were right as
    often or more, so those only go to review."""
    if second is None or visit.code is None or visit.family not in ("intermediate", "em"):
        return None
    if second.code != NO_VISIT or second.probability < DROP_VISIT:
        return None
    return (
        f"No visit line: the rules read {visit.code} ({visit.family}), but notes like this one bill no exam "
        f"({second.probability:.0%} by the learned second opinion): the visit's evaluation is part of the "
        "procedure or test billed."
    )


def _visit_the_opinion_picks(visit: VisitChoice, second: Opinion | None) -> VisitChoice | None:
    """The second opinion's visit code in place of the rules' one, or None. Acted on only where the opinion is
    likely (>= PICK_VISIT) and gives the rules' medical visit code almost no chance (< RULES_VISIT_UNLIKELY),
    between visit codes of the patient's status; never for a vision plan, a routine exam, an exam inside a global
    period, or a visit the rules left out. Out of fold (evals/coding/opinion.py models, the untuned runs of tune26
    to tune46) such swaps were right 27 times, wrong where the rules were right 0 times, and wrong either way 3
    times. The line still waits for review (its confidence is held under the auto-draft line)."""
    if (
        second is None
        or visit.code is None
        or visit.family == "vision_plan"
        or visit.routine
        or visit.in_global
    ):
        return None
    theirs = second.code
    if theirs in (visit.code, NO_VISIT) or not is_medical_visit(theirs) or second.probability < PICK_VISIT:
        return None
    # (a code the model has no class for, such as 99205, is one it cannot judge, not one it rules out)
    if visit.code not in second.probabilities or second.probabilities[visit.code] >= RULES_VISIT_UNLIKELY:
        return None
    if is_new_patient_visit(theirs) == visit.established:
        return None
    return replace(
        visit,
        code=theirs,
        family=visit_family(theirs),
        mdm={},
        complete=False,
        overruled=visit.code,
        rationale=f"{theirs} by the learned second opinion ({second.probability:.0%}); the rules read "
        f"{visit.code} ({visit.rationale}), which notes like this one almost never bill "
        f"({second.probabilities[visit.code]:.0%})",
    )


def _opinion_findings(second: Opinion, visit_code: str | None, overruled: str | None = None) -> list[Finding]:
    """The second opinion, shown to the reviewer where it differs from the rules' visit code or replaced it."""
    if overruled is not None:
        return [
            Finding(
                code="VISIT_SECOND_OPINION",
                severity=Severity.WARNING,
                message=f"The coding rules chose {overruled}, but a model trained on hand-coded notes gives it "
                f"{second.probabilities.get(overruled, 0.0):.0%} and bills {visit_code} here "
                f"({second.probability:.0%}), so the line carries {visit_code} and waits for review.",
                fix="Check the exam elements, new vs follow-up problem and the decision making; put back "
                f"{overruled} if the note supports it.",
                source="offline coder",
            )
        ]
    ours = visit_code or NO_VISIT
    if second.code == ours:
        return []
    theirs = "no visit line" if second.code == NO_VISIT else second.code
    chosen = "no visit line" if ours == NO_VISIT else ours
    return [
        Finding(
            code="VISIT_SECOND_OPINION",
            severity=Severity.INFO,
            message=f"A model trained on hand-coded notes would bill {theirs} here ({second.probability:.0%}); "
            f"the coding rules chose {chosen}, so the visit line waits for review.",
            fix="Check the exam elements, new vs follow-up problem and the decision making before approving.",
            source="offline coder",
        )
    ]


def _payer_class(payer_kind: str) -> str:
    return payer_kind if payer_kind in ("medicare", "medicare_advantage") else "other"


def _visit_support(visit: VisitChoice, payer_kind: str) -> str:
    """A visit code with every element it needs, per payer class (GY and the routine rule depend on it)."""
    return f"complete-{_payer_class(payer_kind)}" if visit.complete or visit.family == "vision_plan" else ""


def _service_support(note: ParsedNote, service: FoundService | None, kind: str, payer_kind: str) -> str:
    """A test whose note line says it was done today; a refraction per payer class (its GY modifier)."""
    if service is None:
        return ""
    if kind == "refraction":
        return _payer_class(payer_kind)
    if kind != "test" or service.basis != "today" or not service.evidence:
        return ""
    start, end = service.evidence[0]
    line_end = note.text.find("\n", end)
    line = note.text[note.text.rfind("\n", 0, start) + 1 : line_end if line_end != -1 else len(note.text)]
    return "stated" if STATED_TODAY.search(line) else ""


def _procedure_dx(service: FoundService, diagnoses: list[FoundDiagnosis]) -> tuple[str, ...]:
    if service.dx_codes:
        return service.dx_codes
    return tuple(d.code for d in diagnoses if d.group in service.links)
