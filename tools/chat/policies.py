"""Policy search over the payer_policies collection, with a word-overlap fallback over the policy files."""

import re

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from knowledge.rules.policies import load_policies
from tools.chat.base import chat_tool
from tools.chat.context import ToolContext
from tools.chat.results import Source, ToolResult

PASSAGES = 3
_WORDS = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "my",
        "of",
        "on",
        "or",
        "our",
        "the",
        "to",
        "we",
        "what",
        "when",
        "which",
        "who",
        "why",
        "will",
        "with",
    ]
)


class PolicyQuestion(BaseModel):
    question: str = Field(description="what to look up in payer policies, in words")
    payer_kind: str | None = Field(
        None, description="medicare, medicaid, commercial, medicare_advantage or vision"
    )


def _terms(text: str) -> set[str]:
    return {word for word in _WORDS.findall(text.lower()) if word not in _STOP}


def _keyword_passages(question: str, payer_kind: str | None) -> list[dict]:
    """The policy paragraphs sharing the most words with the question (when Chroma has no policies)."""
    wanted = _terms(question)
    scored = []
    for policy in load_policies():
        if payer_kind and payer_kind not in policy.payer_kinds:
            continue
        for number, paragraph in enumerate(p for p in policy.body.split("\n\n") if p.strip()):
            overlap = len(wanted & _terms(paragraph + " " + policy.title))
            if overlap:
                scored.append((overlap, policy.id, number, policy.title, " ".join(paragraph.split())))
    scored.sort(key=lambda row: (-row[0], row[1], row[2]))
    return [
        {"policy_id": pid, "chunk_id": f"{pid}#{n}", "title": title, "text": text}
        for _, pid, n, title, text in scored[:PASSAGES]
    ]


def search_policy(ctx: ToolContext, args: PolicyQuestion) -> ToolResult:
    passages: list[dict] = []
    client = ctx.chroma()
    if client is not None:
        from knowledge.vectorstore import search_policies

        passages = [
            {"policy_id": hit.policy_id, "chunk_id": hit.chunk_id, "title": hit.title, "text": hit.text}
            for hit in search_policies(client, args.question, k=PASSAGES, payer_kind=args.payer_kind or None)
        ]
    if not passages:
        passages = _keyword_passages(args.question, args.payer_kind)
    if not passages:
        return ToolResult(tool="search_policy", status="not_found", message="No payer policy speaks to that.")
    return ToolResult(
        tool="search_policy",
        facts={"question": args.question, "payer_kind": args.payer_kind, "passages": passages},
        sources=[Source(kind="policy", id=p["chunk_id"], label=p["title"]) for p in passages],
    )


def policy_tools(ctx: ToolContext) -> list[BaseTool]:
    return [
        chat_tool(
            ctx,
            name="search_policy",
            description="Search payer policies (Medicare, Medicaid, commercial, vision plans) for a rule.",
            args_schema=PolicyQuestion,
            run=search_policy,
        )
    ]
