"""The structured answer the LLM engine asks the model for (its function-calling schema)."""

from pydantic import BaseModel, Field


class CodedDiagnosis(BaseModel):
    """One ICD-10-CM diagnosis the note supports."""

    code: str = Field(description="ICD-10-CM code with its dot, at full specificity, e.g. H40.1131")
    description: str = Field("", description="The code's short description")
    evidence: list[str] = Field(
        default_factory=list,
        description="Quotes copied character for character from the note that support this diagnosis",
    )
    confidence: float = Field(ge=0, le=1, description="Probability the code is right, 0 to 1")


class CodedLine(BaseModel):
    """One CPT/HCPCS procedure line of the charge."""

    code: str = Field(description="CPT or HCPCS code, e.g. 92014")
    modifiers: list[str] = Field(default_factory=list, description="Modifiers such as RT, LT, 25, GY")
    units: int = Field(1, ge=1)
    diagnosis_codes: list[str] = Field(
        default_factory=list,
        description="ICD-10-CM codes from `diagnoses` this line points to, most relevant first",
    )
    evidence: list[str] = Field(
        default_factory=list,
        description="Quotes copied character for character from the note that document this service",
    )
    confidence: float = Field(ge=0, le=1, description="Probability the line is right, 0 to 1")
    rationale: str = Field("", description="One sentence: why this code, level and modifiers")


class ChargeCoding(BaseModel):
    """Code this visit: the diagnoses, then the procedure lines, each with evidence quoted from the note."""

    diagnoses: list[CodedDiagnosis] = Field(default_factory=list)
    lines: list[CodedLine] = Field(default_factory=list)
    rationale: str = Field("", description="Two or three sentences on the coding decisions")
