"""The loaded knowledge base: NCCI and fee-schedule tables, from imports under data_dir or curated data."""

import threading
from dataclasses import dataclass
from pathlib import Path

from billing.settings import Settings
from knowledge.rules.fees import PfsTables, load_pfs
from knowledge.rules.ncci import NcciTables, load_ncci


@dataclass(frozen=True)
class KnowledgeBase:
    """Tables that depend on what was imported. Code sets, coverage rules and policies are module functions
    (knowledge.codes.*, knowledge.rules.coverage, knowledge.rules.policies) used directly."""

    ncci: NcciTables
    pfs: PfsTables | None


_loaded: dict[Path, KnowledgeBase] = {}
_lock = threading.Lock()


def load_knowledge(settings: Settings) -> KnowledgeBase:
    """Load once per data_dir (imports configured directories on first use, then reads the stored result)."""
    key = settings.data_dir.resolve()
    with _lock:
        if key not in _loaded:
            _loaded[key] = KnowledgeBase(ncci=load_ncci(settings), pfs=load_pfs(settings))
        return _loaded[key]


def forget_knowledge(settings: Settings) -> None:
    """Drop the cached tables for this data_dir, so the next load_knowledge() sees a fresh import."""
    with _lock:
        _loaded.pop(settings.data_dir.resolve(), None)
