"""Templated answers for the offline engine (agents/prompts/chat_answers.yaml), each ending with its sources."""

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, Template

from agents.chat.router import load_intents
from agents.prompts import PROMPT_DIR
from tools.chat.results import Source, ToolResult

TEMPLATES_FILE = PROMPT_DIR / "chat_answers.yaml"
HELP_EXAMPLES = 8


@cache
def _templates(path: Path = TEMPLATES_FILE) -> dict[str, Template]:
    # Plain text for a chat panel and a terminal, so no HTML escaping; the UI escapes when it renders.
    environment = Environment(autoescape=False, keep_trailing_newline=False)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {name: environment.from_string(text) for name, text in raw.items()}


def examples(limit: int = HELP_EXAMPLES) -> list[str]:
    """Example questions, one per tool-backed intent, in the order intents.yaml lists them."""
    return [intent.example for intent in load_intents() if intent.tool][:limit]


def unique_sources(sources: list[Source]) -> list[Source]:
    seen: dict[tuple[str, str], Source] = {}
    for source in sources:
        seen.setdefault((source.kind, source.id), source)
    return list(seen.values())


def sources_line(sources: list[Source]) -> str:
    if not sources:
        return ""
    labels = dict.fromkeys(source.label or f"{source.kind} {source.id}" for source in sources)
    return "Sources: " + "; ".join(labels) + "."


def render(name: str, **values: Any) -> str:
    """The template filled in, with trailing spaces and runs of blank lines the loops leave removed."""
    lines = [line.rstrip() for line in _templates()[name].render(**values).strip().splitlines()]
    return "\n".join(line for index, line in enumerate(lines) if line or (index and lines[index - 1]))


def answer_text(result: ToolResult) -> str:
    """The answer for a tool result: its template when it found something, else its own sentence."""
    if not result.ok:
        return result.message
    body = render(result.tool, f=result.facts)
    line = sources_line(unique_sources(result.sources))
    return f"{body}\n\n{line}" if line else body


def conversational(intent: str) -> str:
    """Answers that need no tool: help, greetings, thanks, and 'I did not understand'."""
    return render(intent, examples=examples(HELP_EXAMPLES if intent == "help" else 5))


def ask_for(missing: list[str], example: str) -> str:
    words = {
        "procedure_pair": "two procedure codes",
        "procedure": "procedure code",
        "carc": "adjustment code",
    }
    return render("missing", missing=[words.get(kind, kind) for kind in missing], example=example)
