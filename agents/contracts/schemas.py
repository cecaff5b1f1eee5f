"""What contract extraction produces: terms, each pointing at the sentence of the contract it was read from."""

from datetime import date, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from billing.contracts import Contract

SourceKind = Literal["text", "yaml", "fee_schedule_csv"]
# The terms the extractors know, as the Contract fields (or clause kinds) they fill.
TERM_NAMES = (
    "basis",
    "percent",
    "medicare.year",
    "medicare.locality",
    "fee_schedule_reference",
    "unlisted_percent_of_charges",
    "lesser_of_billed",
    "timely_filing_days",
    "appeal_days",
    "multiple_procedure",
    "mppr_diagnostic",
    "prior_auth_codes",
    "cost_share.deductible",
    "cost_share.coinsurance_pct",
    "cost_share.copay",
    "effective",
    "termination",
)


class ExtractedTerm(BaseModel):
    """One contract term; `text[start:end] == sentence` in the source text it was read from."""

    term: str = Field(description="One of TERM_NAMES, e.g. 'percent' or 'timely_filing_days'")
    value: Any = Field(description="JSON value: a number, a string, a list of codes, a bool, a mapping")
    sentence: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    confidence: float = Field(ge=0.0, le=1.0)


class ContractExtraction(BaseModel):
    engine: str
    engine_version: str = ""
    terms: list[ExtractedTerm] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="What could not be used, and why")

    def first(self, term: str) -> ExtractedTerm | None:
        return next((found for found in self.terms if found.term == term), None)


class TermExtractor(Protocol):
    name: str

    def extract(self, text: str) -> ContractExtraction: ...


class ContractSource(BaseModel):
    kind: SourceKind
    filename: str = ""
    sha256: str = ""
    engine: str = ""
    terms: list[ExtractedTerm] = Field(default_factory=list)


class ApprovedContract(BaseModel):
    contract: Contract
    sources: list[ContractSource]
    approved_by: str
    approved_at: datetime
    run_id: str


class IntakeRequest(BaseModel):
    contract_id: str
    practice_id: str
    payer_id: str
    plan_name: str = ""
    effective: date | None = None
    kind: SourceKind
    filename: str = ""
    content: str = Field(description="The contract prose, the YAML, or the CSV text")
