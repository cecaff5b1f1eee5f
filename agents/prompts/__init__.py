"""Prompt files under agents/prompts/: loaded by name, formatted by code, hashed for the audit."""

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PROMPT_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Prompt:
    """A prompt template's text and the SHA-256 of that text (what the audit records)."""

    name: str
    text: str
    sha256: str

    def format(self, **values: Any) -> str:
        return self.text.format(**values)


@cache
def load_prompt(name: str, prompt_dir: Path = PROMPT_DIR) -> Prompt:
    """The prompt `<name>.md` from prompt_dir (the package's own prompts by default)."""
    text = (prompt_dir / f"{name}.md").read_text(encoding="utf-8")
    return Prompt(name=name, text=text, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


def combined_hash(*prompts: Prompt) -> str:
    """One hash for a set of prompts used together (e.g. system + user), stable in their order."""
    digest = hashlib.sha256()
    for prompt in prompts:
        digest.update(f"{prompt.name}:{prompt.sha256}\n".encode())
    return digest.hexdigest()
