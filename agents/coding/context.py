"""Assertion status of a mention (negated, uncertain, historical, family) with medspaCy's ConText, loaded once."""

import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

# Eye-clinic cue words ConText's default rules lack: (literal, category, direction).
EYE_CLINIC_RULES: tuple[tuple[str, str, str], ...] = (
    ("w/o", "NEGATED_EXISTENCE", "FORWARD"),
    # "KC r/o on topo": ruled out by the test, not a rule-out still open
    *((f"r/o {by}", "NEGATED_EXISTENCE", "BACKWARD") for by in ("on", "by")),
    ("neg for", "NEGATED_EXISTENCE", "FORWARD"),
    # "r/o secondary Sjogren's": ConText's own "secondary" ends the rule-out's scope before the condition
    *((f"{ro} secondary", "POSSIBLE_EXISTENCE", "FORWARD") for ro in ("r/o", "rule out", "ruling out")),
    ("not addressed", "NEGATED_EXISTENCE", "BACKWARD"),
    ("not re-addressed", "NEGATED_EXISTENCE", "BACKWARD"),
    ("not readdressed", "NEGATED_EXISTENCE", "BACKWARD"),
    ("not assessed", "NEGATED_EXISTENCE", "BACKWARD"),
    ("not evaluated", "NEGATED_EXISTENCE", "BACKWARD"),
    ("not treated today", "NEGATED_EXISTENCE", "BACKWARD"),
    ("off the list", "NEGATED_EXISTENCE", "BACKWARD"),
    ("no longer symptomatic", "NEGATED_EXISTENCE", "BACKWARD"),
    *((f"{verb}not suspected", "NEGATED_EXISTENCE", "BACKWARD") for verb in ("", "is ", "are ", "was ")),
    # "HSV keratitis was considered and ruled out": a differential the doctor excluded
    *((f"{verb}considered and ruled out", "NEGATED_EXISTENCE", "BACKWARD") for verb in ("", "was ", "were ")),
    ("vs", "POSSIBLE_EXISTENCE", "BIDIRECTIONAL"),
    ("vs.", "POSSIBLE_EXISTENCE", "BIDIRECTIONAL"),
    ("versus", "POSSIBLE_EXISTENCE", "BIDIRECTIONAL"),
    ("likely", "POSSIBLE_EXISTENCE", "FORWARD"),
    ("probable", "POSSIBLE_EXISTENCE", "FORWARD"),
    ("probably", "POSSIBLE_EXISTENCE", "FORWARD"),
    ("questionable", "POSSIBLE_EXISTENCE", "FORWARD"),
    ("concern for", "POSSIBLE_EXISTENCE", "FORWARD"),
    ("cannot exclude", "POSSIBLE_EXISTENCE", "FORWARD"),
    ("?", "POSSIBLE_EXISTENCE", "FORWARD"),
    # "adenoviral conjunctivitis is most likely": a differential ranked, not confirmed
    *(
        (f"is {w}", "POSSIBLE_EXISTENCE", "BACKWARD")
        for w in ("most likely", "likely", "less likely", "unlikely")
    ),
    ("probable but not confirmed", "POSSIBLE_EXISTENCE", "BACKWARD"),
    # symbol notes: "⊖ DME" is no DME
    ("⊖", "NEGATED_EXISTENCE", "FORWARD"),
    *((f"checking {who} for", "POSSIBLE_EXISTENCE", "FORWARD") for who in ("her", "him", "them", "pt")),
    ("checking for", "POSSIBLE_EXISTENCE", "FORWARD"),
    ("being evaluated for", "POSSIBLE_EXISTENCE", "FORWARD"),
    ("workup for", "POSSIBLE_EXISTENCE", "FORWARD"),
    ("work-up for", "POSSIBLE_EXISTENCE", "FORWARD"),
    # "warning signs of a retinal tear", "RD precautions": what to watch for, not what was found
    ("warning signs of", "HYPOTHETICAL", "FORWARD"),
    ("signs and symptoms of", "HYPOTHETICAL", "FORWARD"),
    # "stable vs 10/2025", "improved vs prior": a comparison over time, not a differential diagnosis
    *(
        (f"{word} {vs}", "POSSIBLE_EXISTENCE", "PSEUDO")
        for word in ("stable", "unchanged", "improved", "worse", "better", "same", "progression")
        for vs in ("vs", "vs.", "versus")
    ),
    *(
        (f"{vs} {target}", "POSSIBLE_EXISTENCE", "PSEUDO")
        for vs in ("vs", "vs.", "versus")
        for target in ("prior", "last", "baseline", "previous")
    ),
    # "OS no significant change: keratoconus, stable": unchanged is not absent
    *(
        (f"no {kind}change{n}", "NEGATED_EXISTENCE", "PSEUDO")
        for kind in ("", "significant ", "interval ")
        for n in ("", "s")
    ),
    *((f"no {kind}progression", "NEGATED_EXISTENCE", "PSEUDO") for kind in ("", "further ", "significant ")),
    # ... but "no progression to PDR", "no change to exudative AMD" rule out the worse disease named after them
    *(
        (f"no {kind}{what} {to}", "NEGATED_EXISTENCE", "FORWARD")
        for kind in ("", "further ", "significant ")
        for what in ("progression", "change", "conversion")
        for to in ("to", "into")
    ),
    # "preservative-free tears": a product, not a finding that is absent ("pain free")
    *((f"preservative{sep}free", "NEGATED_EXISTENCE", "PSEUDO") for sep in ("-", " ")),
    ("hx of", "HISTORICAL", "FORWARD"),
    ("history only", "HISTORICAL", "BACKWARD"),
    # negated, not historical: a same-category "s/p" between them would otherwise cut its scope
    ("- resolved", "NEGATED_EXISTENCE", "BACKWARD"),
    ("hx only", "HISTORICAL", "BACKWARD"),
    ("history of", "HISTORICAL", "FORWARD"),
    ("fhx", "FAMILY", "FORWARD"),
    ("family history", "FAMILY", "FORWARD"),
    ("family hx", "FAMILY", "FORWARD"),
)

# signs of a disease whose resolving leaves the disease ("edema resolved", "hemes resolved")
_SIGNS = (
    "edema",
    "fluid",
    "hemorrhage",
    "hemorrhages",
    "heme",
    "hemes",
    "swelling",
    "ME",
    "CME",
    "DME",
    "SRF",
    "IRF",
)


@dataclass(frozen=True)
class Assertion:
    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    family: bool = False
    hypothetical: bool = False

    @property
    def affirmed(self) -> bool:
        """Present in this patient now: not negated, uncertain, hypothetical or someone else's."""
        return not (self.negated or self.uncertain or self.hypothetical or self.family)


class ContextReader:
    """medspaCy ConText over a cheap tokenizer (spaCy's blank English): one clause at a time, fast enough
    for the 150 ms per note budget. Thread-safe: ConText is run under a lock."""

    def __init__(self) -> None:
        from loguru import logger

        logger.disable("PyRuSH")  # medspaCy's sentence splitter logs at DEBUG on import
        import spacy
        from medspacy.context import ConText, ConTextRule

        self._nlp = spacy.blank("en")
        self._context: Any = ConText(self._nlp, rules="default", prune_on_target_overlap=True)
        self._context.add([ConTextRule(lit, cat, direction=d) for lit, cat, d in EYE_CLINIC_RULES])
        # "without diabetic retinopathy in either eye, and myopia OU": ", and" starts a new finding
        self._context.add(
            [
                ConTextRule(
                    ", and", "TERMINATE", direction="TERMINATE", pattern=[{"TEXT": ","}, {"LOWER": "and"}]
                ),
                *(
                    ConTextRule(w, "TERMINATE", direction="TERMINATE")
                    for w in ("together with", "along with")
                ),
            ]
        )
        # "She had migraines with zigzag lights in her 30s, none in twenty years": a problem long past
        self._context.add(
            [
                ConTextRule(
                    "none in years",
                    "HISTORICAL",
                    direction="BACKWARD",
                    max_scope=10,
                    pattern=[
                        {"LOWER": "none"},
                        {"LOWER": {"IN": ["in", "for"]}},
                        {"LOWER": {"IN": ["the", "over"]}, "OP": "?"},
                        {"LOWER": {"IN": ["last", "past"]}, "OP": "?"},
                        {"LIKE_NUM": True, "OP": "?"},
                        {"LOWER": {"IN": ["years", "yrs", "decades"]}},
                    ],
                )
            ]
        )
        # "s/p LASIK OU, dry eye syndrome OU": the operation just after it, not the next item of a list
        self._context.add(
            [
                *(
                    ConTextRule(w, "HISTORICAL", direction="FORWARD", terminated_by={"LIST_BREAK"})
                    for w in ("s/p", "status post")
                ),
                ConTextRule(",", "LIST_BREAK", direction="PSEUDO", pattern=[{"TEXT": ","}]),
            ]
        )
        # "RD precautions": only the words just before it, never the PVD earlier in the clause
        self._context.add([ConTextRule("precautions", "HYPOTHETICAL", direction="BACKWARD", max_scope=2)])
        # "Episcleritis considered - not present", "considered and excluded": weighed and found absent, and
        # "RTC sooner prn epiphora": a reason to come back; the few words next to them only
        self._context.add(
            [
                ConTextRule("not present", "NEGATED_EXISTENCE", direction="BACKWARD", max_scope=3),
                *(
                    ConTextRule(f"{verb}excluded", "NEGATED_EXISTENCE", direction="BACKWARD", max_scope=3)
                    for verb in ("and ", "was ", "is ")
                ),
                ConTextRule("sooner prn", "HYPOTHETICAL", direction="FORWARD", max_scope=4),
            ]
        )
        # "the old stye has resolved", "... has fully resolved": a resolved problem, the few words before it only
        self._context.add(
            [
                ConTextRule(
                    "has resolved",
                    "NEGATED_EXISTENCE",
                    direction="BACKWARD",
                    max_scope=5,
                    pattern=[
                        {"LOWER": {"IN": ["has", "have", "had"]}},
                        {"LOWER": {"IN": ["fully", "completely", "since", "now", "entirely"]}, "OP": "?"},
                        {"LOWER": "resolved"},
                    ],
                ),
                # "Hordeolum in 2025, resolved.", "Prior stye OD resolved": the item says it is over
                ConTextRule(
                    ", resolved",
                    "NEGATED_EXISTENCE",
                    direction="BACKWARD",
                    max_scope=6,
                    pattern=[{"TEXT": ","}, {"LOWER": "resolved"}],
                ),
                ConTextRule(
                    "resolved",
                    "NEGATED_EXISTENCE",
                    direction="BACKWARD",
                    max_scope=4,
                    pattern=[{"LOWER": "resolved"}],
                ),
                # ... but "not (yet) resolved", "partially resolved" and "unresolved" say the problem goes on, and
                # "BRVO OS, edema resolved" resolves a sign of the problem, not the problem
                *(
                    ConTextRule(phrase, "PSEUDO", direction="PSEUDO")
                    for phrase in (
                        "not resolved",
                        "not yet resolved",
                        "partially resolved",
                        "incompletely resolved",
                        "not fully resolved",
                        "unresolved",
                        *(f"{sign} resolved" for sign in _SIGNS),
                    )
                ),
            ]
        )
        for rule in self._context.rules:
            # "Flashes: no" denies the label before it, "OS: no PVD" the finding after it: one word either way
            if rule.literal in (": no", ": none"):
                rule.direction, rule.max_scope = "BIDIRECTIONAL", 1
            # "tear ruled out" as well as "ruled out tear", never the PVD earlier in "PVD OS, tear ruled out"
            if rule.literal == "ruled out" and rule.direction == "FORWARD":
                rule.direction, rule.max_scope = "BIDIRECTIONAL", 3
        # "PVD OD - r/o tear: none found": a backward negation stops at the rule-out it answers
        for rule in self._context.rules:
            if rule.category == "NEGATED_EXISTENCE" and rule.direction == "BACKWARD":
                rule.terminated_by = {*(rule.terminated_by or ()), "POSSIBLE_EXISTENCE"}
        self._lock = threading.Lock()

    def assertions(self, text: str, spans: list[tuple[int, int]]) -> list[Assertion]:
        """The assertion of each (start, end) span of `text`, in order; spans index `text`."""
        if not spans:
            return []
        with self._lock:
            doc = self._nlp.make_doc(text)
            for token in doc:  # the caller passes one clause: a single sentence
                token.is_sent_start = token.i == 0
            entities = []
            for start, end in spans:
                span = doc.char_span(start, end, label="TARGET", alignment_mode="expand")
                entities.append(span)
            kept = _non_overlapping([e for e in entities if e is not None])
            doc.ents = kept
            self._context(doc)
            by_offsets = {
                (ent.start_char, ent.end_char): Assertion(
                    negated=ent._.is_negated,
                    uncertain=ent._.is_uncertain,
                    historical=ent._.is_historical,
                    family=ent._.is_family,
                    hypothetical=ent._.is_hypothetical,
                )
                for ent in doc.ents
            }
        return [
            _lookup(by_offsets, e.start_char, e.end_char) if e is not None else Assertion() for e in entities
        ]


def _lookup(by_offsets: dict[tuple[int, int], Assertion], start: int, end: int) -> Assertion:
    """The assertion of this span, or of the kept span it overlaps (overlapping targets share a reading)."""
    if (start, end) in by_offsets:
        return by_offsets[(start, end)]
    return next((a for (s, e), a in by_offsets.items() if s < end and start < e), Assertion())


def _non_overlapping(spans: list[Any]) -> list[Any]:
    kept: list[Any] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
    return kept


@cache
def context_reader() -> ContextReader:
    """The process-wide reader (loading medspaCy takes seconds; reading a clause ~1 ms)."""
    return ContextReader()
