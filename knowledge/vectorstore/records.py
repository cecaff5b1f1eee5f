"""What goes into and comes out of the collections: plain pydantic records, no Chroma import (cheap to import)."""

from datetime import date

from pydantic import BaseModel, Field


class CodedProcedure(BaseModel):
    code: str = Field(description="CPT or HCPCS code")
    modifiers: list[str] = Field(default_factory=list)
    units: int = 1


class CodedEncounter(BaseModel):
    """An encounter whose coding a person approved: the note text and what it was billed as."""

    encounter_id: str
    practice_id: str
    note_text: str = Field(repr=False)
    diagnosis_codes: list[str]
    procedure_codes: list[CodedProcedure]
    payer_name: str = ""
    payer_kind: str = Field("", description="billing.practice.PlanKind value")
    date_of_service: date


class EncounterHit(BaseModel):
    encounter_id: str
    chunk_id: str = Field(description="the closest chunk of that encounter's note")
    distance: float = Field(description="cosine distance of the closest chunk (0 = same direction)")
    diagnosis_codes: list[str]
    procedure_codes: list[CodedProcedure]
    payer_name: str
    payer_kind: str
    date_of_service: date
    text: str = Field(repr=False, description="the closest chunk's text")


class PolicyHit(BaseModel):
    policy_id: str
    chunk_id: str
    distance: float
    title: str
    section: str
    payer_kinds: list[str]
    payer_names: list[str]
    effective: date | None
    text: str


class Icd10Hit(BaseModel):
    code: str
    description: str
    distance: float
