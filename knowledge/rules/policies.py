"""Payer policies (knowledge/data/policies/*.md): front-matter rules and prose, resolved by payer and date."""

from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from knowledge.data import DATA_DIR

POLICY_DIR = DATA_DIR / "policies"
RefractionRule = Literal["non_covered_gy", "non_covered", "covered", "included_in_exam", "unspecified"]


class PayerPolicy(BaseModel):
    id: str
    title: str
    payer_kinds: list[str] = Field(default_factory=list)
    payer_names: list[str] = Field(default_factory=list)
    effective: date
    termination: date | None = None
    source: str
    refraction: RefractionRule = "unspecified"
    routine_exam_covered: bool = False
    vision_exam_codes: list[str] = Field(default_factory=list)
    timely_filing_days: int | None = None
    prior_auth_codes: list[str] = Field(default_factory=list)
    contact_lens: str = ""
    exam_frequency_months: int | None = None
    body: str = ""
    path: str = ""

    def in_force(self, on: date) -> bool:
        return self.effective <= on and (self.termination is None or on < self.termination)

    def names_payer(self, payer_name: str) -> bool:
        wanted = payer_name.strip().casefold()
        return any(name.strip().casefold() == wanted for name in self.payer_names)


NO_POLICY = PayerPolicy(
    id="none",
    title="No payer policy on file",
    effective=date(1900, 1, 1),
    source="Fovea default: no policy matched this payer",
)


def parse_policy(path: Path) -> PayerPolicy:
    """A Markdown file opening with `---`, YAML front matter, `---`, then the prose body."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        raise ValueError(f"{path.name}: a policy starts with YAML front matter between '---' lines")
    _, front, body = text.split("---", 2)
    return PayerPolicy(**yaml.safe_load(front), body=body.strip(), path=str(path))


@cache
def _policies() -> tuple[PayerPolicy, ...]:
    return tuple(parse_policy(path) for path in sorted(POLICY_DIR.glob("*.md")) if path.name != "README.md")


def load_policies() -> list[PayerPolicy]:
    return list(_policies())


def policies_for(payer_name: str, payer_kind: str, on: date) -> list[PayerPolicy]:
    """Policies in force for the payer: those naming it first, then those for its whole plan kind."""
    in_force = [policy for policy in _policies() if policy.in_force(on)]
    named = [policy for policy in in_force if policy.names_payer(payer_name)]
    kind_wide = [policy for policy in in_force if not policy.payer_names and payer_kind in policy.payer_kinds]
    return named + kind_wide


def resolve_policy(payer_name: str, payer_kind: str, on: date) -> PayerPolicy:
    """The most specific policy (payer name beats plan kind); NO_POLICY when nothing applies."""
    found = policies_for(payer_name, payer_kind, on)
    return found[0] if found else NO_POLICY
