"""What a chat tool answers: facts for the answer templates, the sources it read, links the UI can follow."""

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

SourceKind = Literal[
    "claim",
    "encounter",
    "note",
    "patient",
    "remittance",
    "policy",
    "carc",
    "rarc",
    "code",
    "ncci",
    "pfs",
    "contract",
    "review",
    "payer",
    "rule",
]


class Source(BaseModel):
    """One thing an answer rests on: a claim id, a note span, a policy chunk, a CARC text ..."""

    kind: SourceKind
    id: str
    label: str = ""
    href: str | None = Field(None, description="a UI or API path the answer can link to")
    span: tuple[int, int] | None = Field(None, description="character offsets in a note")


class ToolResult(BaseModel):
    """A tool's answer. `status` says whether it found something, found nothing, or refused the caller."""

    tool: str
    status: Literal["ok", "not_found", "refused", "unavailable", "error"] = "ok"
    message: str = Field("", description="one plain sentence for not_found / refused / unavailable / error")
    facts: dict[str, Any] = Field(default_factory=dict)
    sources: list[Source] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_content(self) -> str:
        """What an LLM reads: the facts and sources as compact JSON."""
        return json.dumps(
            self.model_dump(mode="json", exclude_defaults=False, exclude={"tool"}), separators=(",", ":")
        )


def refused(tool: str, permission: str) -> ToolResult:
    """The API's own refusal wording, so chat and API refuse alike."""
    return ToolResult(
        tool=tool,
        status="refused",
        message=f"This needs the `{permission}` permission, which your roles do not grant.",
        facts={"permission": permission},
    )


def not_found(tool: str, what: str) -> ToolResult:
    return ToolResult(
        tool=tool, status="not_found", message=f"No {what} with this id among the practices you belong to."
    )


def claim_href(claim_id: str) -> str:
    return f"/ui/claims/{claim_id}"


def review_href(item_id: str) -> str:
    return f"/ui/reviews/{item_id}"
