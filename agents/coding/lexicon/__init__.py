"""The coder's lexicon: YAML files of diagnosis, service, stage and drug words, compiled once per process."""

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

LEXICON_DIR = Path(__file__).resolve().parent
FLAGS = re.IGNORECASE


def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load((LEXICON_DIR / name).read_text(encoding="utf-8"))


def _compile_all(patterns: list[str], flags: int = FLAGS) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, flags) for p in patterns)


def _union(patterns: list[str], flags: int = FLAGS) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), flags)


@dataclass(frozen=True)
class Condition:
    """One diagnosis entry: its words and the ICD-10-CM code templates they stand for."""

    id: str
    group: str
    patterns: tuple[re.Pattern[str], ...]
    codes: tuple[str, ...]
    chronic: bool = False
    self_limited: bool = False
    refractive: bool = False
    systemic: bool = False
    status: bool = False
    kind: str = ""
    stage: str = ""
    eye_default: str = "unspecified"
    suppressed_by: tuple[str, ...] = ()
    requires_group: str = ""
    note_wide: bool = False
    lids_default: str = "one_eye_unspecified_lid"
    priority: int = 0


@dataclass(frozen=True)
class StageScale:
    default: str
    steps: tuple[tuple[re.Pattern[str], str], ...]

    def level(self, text: str) -> str | None:
        """The character the text states, or None when it states no stage."""
        return next((value for pattern, value in self.steps if pattern.search(text)), None)


@dataclass(frozen=True)
class TestEntry:
    code: str
    label: str
    patterns: tuple[re.Pattern[str], ...]
    links: tuple[str, ...]
    requires: tuple[re.Pattern[str], ...] = ()
    needs_medical_dx: bool = False


@dataclass(frozen=True)
class DxProcedure:
    """A minor procedure billed per lid or per eye of the diagnosis it treats (epilation, debridement)."""

    code: str
    label: str
    patterns: re.Pattern[str]
    conditions: tuple[str, ...]
    site: str  # lid | eye
    # procedure (a global period: its evaluation is included) | fitting (a bandage lens: no global period, so the
    # exam is billed beside it without 25)
    kind: str = "procedure"


@dataclass(frozen=True)
class Lexicon:
    conditions: tuple[Condition, ...]
    stages: dict[str, StageScale]
    tests: tuple[TestEntry, ...]
    refraction: re.Pattern[str]
    refraction_values: re.Pattern[str]
    refraction_final_rx: re.Pattern[str]
    refraction_no_final_rx: re.Pattern[str]
    cl_fit: re.Pattern[str]
    cl_fit_code: str
    cl_fit_keratoconus_code: str
    cl_fit_aphakia_code: str
    plug: re.Pattern[str]
    plug_done: re.Pattern[str]
    plug_links: tuple[str, ...]
    fb_done: re.Pattern[str]
    fb_codes: dict[str, str]
    fb_embedded: re.Pattern[str]
    fb_no_slit_lamp: re.Pattern[str]
    dx_procedures: tuple[DxProcedure, ...]
    cues: dict[str, re.Pattern[str]]
    diabetes_control: dict[str, re.Pattern[str]]
    rx_drugs: re.Pattern[str]
    otc_products: re.Pattern[str]
    s_code_plans: re.Pattern[str]
    exam_plus_refraction_plans: re.Pattern[str]
    sources: dict[str, str] = field(default_factory=dict)

    def condition(self, condition_id: str) -> Condition:
        return next(c for c in self.conditions if c.id == condition_id)


def _condition(entry: dict[str, Any], priority: int) -> Condition:
    patterns = _compile_all(entry.get("patterns", [])) + _compile_all(entry.get("patterns_cs", []), 0)
    return Condition(
        id=entry["id"],
        group=entry["group"],
        patterns=patterns,
        codes=tuple(entry.get("codes", [])),
        chronic=bool(entry.get("chronic", False)),
        self_limited=bool(entry.get("self_limited", False)),
        refractive=bool(entry.get("refractive", False)),
        systemic=bool(entry.get("systemic", False)),
        status=bool(entry.get("status", False)),
        kind=entry.get("kind", ""),
        stage=entry.get("stage", ""),
        eye_default=entry.get("eye_default", "unspecified"),
        suppressed_by=tuple(entry.get("suppressed_by", [])),
        requires_group=entry.get("requires_group", ""),
        note_wide=bool(entry.get("note_wide", False)),
        lids_default=entry.get("lids_default", "one_eye_unspecified_lid"),
        priority=priority,
    )


@cache
def load_lexicon() -> Lexicon:
    """Read and compile every lexicon file (once per process)."""
    diagnoses = _load("diagnoses.yaml")
    stages = _load("stages.yaml")
    services = _load("services.yaml")
    drugs = _load("drugs.yaml")
    plans = _load("vision_plans.yaml")
    conditions = tuple(_condition(entry, i) for i, entry in enumerate(diagnoses["conditions"]))
    scales = {
        name: StageScale(
            default=str(scale["default"]),
            steps=tuple((re.compile(p, FLAGS), str(v)) for p, v in scale["steps"]),
        )
        for name, scale in stages["scales"].items()
    }
    tests = tuple(
        TestEntry(
            code=str(t["code"]),
            label=t["label"],
            patterns=_compile_all(t["patterns"]),
            links=tuple(t.get("links", [])),
            requires=_compile_all(t.get("requires", [])),
            needs_medical_dx=bool(t.get("needs_medical_dx", False)),
        )
        for t in services["tests"]
    )
    procedures = services["procedures"]
    return Lexicon(
        conditions=conditions,
        stages=scales,
        tests=tests,
        refraction=_union(services["refraction"]["patterns"]),
        refraction_values=re.compile(services["refraction"]["values"], FLAGS),
        refraction_final_rx=re.compile(services["refraction"]["final_rx"], FLAGS),
        refraction_no_final_rx=re.compile(services["refraction"]["no_final_rx"], FLAGS),
        cl_fit=_union(services["contact_lens_fit"]["patterns"]),
        cl_fit_code=str(services["contact_lens_fit"]["code"]),
        cl_fit_keratoconus_code=str(services["contact_lens_fit"]["keratoconus_code"]),
        cl_fit_aphakia_code=str(services["contact_lens_fit"]["aphakia_code"]),
        plug=_union(procedures["punctal_plug"]["patterns"]),
        plug_done=re.compile(procedures["punctal_plug"]["done"], FLAGS),
        plug_links=tuple(procedures["punctal_plug"]["links"]),
        fb_done=re.compile(procedures["foreign_body"]["done"], FLAGS),
        fb_codes={
            "corneal": str(procedures["foreign_body"]["corneal_code"]),
            "conjunctival": str(procedures["foreign_body"]["conjunctival_code"]),
            "conjunctival_embedded": str(procedures["foreign_body"]["conjunctival_embedded_code"]),
            "corneal_no_slit_lamp": str(procedures["foreign_body"]["corneal_no_slit_lamp_code"]),
        },
        fb_embedded=re.compile(procedures["foreign_body"]["embedded"], FLAGS),
        fb_no_slit_lamp=re.compile(procedures["foreign_body"]["no_slit_lamp"], FLAGS),
        dx_procedures=tuple(
            DxProcedure(
                code=str(entry["code"]),
                label=entry["label"],
                patterns=_union(entry["patterns"]),
                conditions=tuple(entry["conditions"]),
                site=entry["site"],
                kind=entry.get("kind", "procedure"),
            )
            for entry in procedures["by_diagnosis"]
        ),
        cues={name: _union(patterns) for name, patterns in services["cues"].items()},
        diabetes_control={name: _union(words) for name, words in drugs["diabetes_control"].items()},
        rx_drugs=_union(drugs["prescription_eye_drugs"]),
        otc_products=_union(drugs["otc_eye_products"]),
        s_code_plans=_union(plans["s_code_plans"]),
        exam_plus_refraction_plans=_union(plans["exam_plus_refraction_plans"]),
        sources={
            "diagnoses": diagnoses["source"],
            "stages": stages["source"],
            "services": services["source"],
            "drugs": drugs["source"],
            "vision_plans": plans["source"],
        },
    )
