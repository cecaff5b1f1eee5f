"""Visits and their documentation: encounters and clinical (SOAP) notes."""

from datetime import date, datetime

from pydantic import BaseModel, Field


class NoteSection(BaseModel):
    name: str = Field(description="Section heading as written, e.g. 'Assessment' or 'A'")
    start: int = Field(description="Character offset of the section body in the note text")
    end: int
    text: str


class ClinicalNote(BaseModel):
    id: str
    encounter_id: str
    text: str
    finalized: bool = False
    finalized_at: datetime | None = None
    author_provider_id: str = ""
    sections: list[NoteSection] = Field(default_factory=list)


class Encounter(BaseModel):
    id: str
    practice_id: str
    patient_id: str
    provider_id: str
    date_of_service: date
    place_of_service: str = "11"
    visit_reason: str = ""
    coverage_id: str | None = None
    appointment_type: str = Field(
        "", description="routine_vision | medical | follow_up | urgent | contact_lens"
    )
