"""Pricing tools: the Medicare physician fee for a code in a locality, and what a contract should pay."""

from datetime import date

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from billing.claim_input import ClaimInput, ClaimInputLine, ClaimPatient, ClaimPayer
from billing.money import ZERO, money_str
from billing.practice import Practice
from billing.pricing import PricingError, expected_payment
from knowledge.codes.procedures import normalize_procedure
from tools.chat.base import chat_tool
from tools.chat.context import ToolContext
from tools.chat.lookups import match_payer
from tools.chat.results import Source, ToolResult
from tools.crystalpm import CrystalPMError


class FeeQuestion(BaseModel):
    code: str = Field(description="CPT/HCPCS code")
    modifier: str = Field("", description="26, TC or empty for the global fee")
    locality: str | None = Field(
        None, description="MAC locality '<mac>-<locality>'; the practice's when omitted"
    )
    facility: bool = Field(False, description="facility rate (hospital, ASC) instead of the office rate")
    on: date | None = None


class ContractQuestion(BaseModel):
    code: str = Field(description="CPT/HCPCS code, optionally with a modifier as 92083-RT")
    payer: str = Field(description="payer name or id")
    practice_id: str | None = Field(None, description="one of your practices; your first when omitted")
    on: date | None = None


def _practice(ctx: ToolContext, practice_id: str | None) -> Practice | None:
    try:
        practices = ctx.cached("practices", lambda: ctx.client().list_practices())
    except (CrystalPMError, LookupError):
        return None
    visible = [p for p in practices if ctx.caller.sees(p.id) and (practice_id is None or p.id == practice_id)]
    return visible[0] if visible else None


def medicare_fee(ctx: ToolContext, args: FeeQuestion) -> ToolResult:
    code = normalize_procedure(args.code)
    pfs = ctx.knowledge().pfs
    if pfs is None:
        return ToolResult(
            tool="medicare_fee",
            status="unavailable",
            message="The Medicare fee schedule is not imported; run `fovea knowledge import pfs --from DIR`.",
        )
    locality = args.locality
    if not locality:
        practice = _practice(ctx, None)
        locality = (practice.medicare_locality if practice else "") or ctx.settings.medicare_locality
    if not locality:
        return ToolResult(
            tool="medicare_fee",
            status="not_found",
            message="Which Medicare locality? Set FOVEA_MEDICARE_LOCALITY or name it.",
        )
    on = args.on or ctx.today()
    try:
        amount = pfs.allowed(code, args.modifier, locality=locality, facility=args.facility, on=on)
    except ValueError:
        return ToolResult(
            tool="medicare_fee", status="not_found", message=f"{locality} is not a Medicare locality I know."
        )
    if amount is None:
        return ToolResult(
            tool="medicare_fee",
            status="not_found",
            message=f"Medicare sets no physician fee for {code} in this release.",
            facts={"code": code, "locality": locality},
        )
    name = next((loc.name for loc in pfs.localities(on) if loc.key == locality), "")
    return ToolResult(
        tool="medicare_fee",
        facts={
            "code": code,
            "modifier": args.modifier,
            "locality": locality,
            "locality_name": name,
            "facility": args.facility,
            "allowed": money_str(amount),
            "release": (ind.release if (ind := pfs.indicators(code, on)) else ""),
        },
        sources=[Source(kind="pfs", id=f"{code}@{locality}", label=f"Medicare PFS ({pfs.source})")],
    )


def contract_price(ctx: ToolContext, args: ContractQuestion) -> ToolResult:
    base, *modifiers = args.code.strip().upper().split("-")
    code = normalize_procedure(base)
    payer = match_payer(ctx, args.payer)
    if payer is None:
        return ToolResult(tool="contract_price", status="not_found", message="I do not know that payer.")
    practice = _practice(ctx, args.practice_id)
    if practice is None:
        return ToolResult(
            tool="contract_price", status="not_found", message="No practice of yours by that id."
        )
    on = args.on or ctx.today()
    contracts = [c for c in ctx.client().iter_contracts(practice.id, payer_id=payer.id) if c.in_force(on)]
    if not contracts:
        return ToolResult(
            tool="contract_price",
            status="not_found",
            message=f"No contract with {payer.name} is in force for this practice.",
            facts={"payer": payer.name, "practice_id": practice.id},
        )
    contract = contracts[0]
    claim = ClaimInput(
        date_of_service=on,
        patient=ClaimPatient(age=70 if payer.kind.value.startswith("medicare") else 45, sex="U"),
        payer=ClaimPayer(name=payer.name, kind=payer.kind),
        established=True,
        lines=[ClaimInputLine(code=code, modifiers=modifiers)],
    )
    try:
        priced = expected_payment(
            claim,
            contract,
            medicare=ctx.knowledge().pfs,
            locality=practice.medicare_locality or None,
            deductible_remaining=ZERO,
        )
    except PricingError as exc:
        return ToolResult(
            tool="contract_price", status="not_found", message=f"The contract cannot price it: {exc}."
        )
    line = priced.lines[0]
    return ToolResult(
        tool="contract_price",
        facts={
            "code": code,
            "modifiers": modifiers,
            "payer": payer.name,
            "practice_id": practice.id,
            "contract_id": contract.id,
            "basis": contract.basis.replace("_", " "),
            "expected_allowed": money_str(line.expected_allowed),
            "expected_paid": money_str(line.expected_paid),
            "priced": line.priced,
            "steps": line.steps,
        },
        sources=[Source(kind="contract", id=contract.id, label=f"contract {contract.id} ({payer.name})")],
    )


def pricing_tools(ctx: ToolContext) -> list[BaseTool]:
    return [
        chat_tool(
            ctx,
            name="medicare_fee",
            description="What Medicare allows for a code in a locality (physician fee schedule).",
            args_schema=FeeQuestion,
            run=medicare_fee,
        ),
        chat_tool(
            ctx,
            name="contract_price",
            description="What a payer's contract should pay for a code, every step explained.",
            args_schema=ContractQuestion,
            run=contract_price,
        ),
    ]
