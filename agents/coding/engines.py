"""Pick the charge-coding engine the settings ask for: offline by default, the LLM engine when configured."""

import logging

from langchain_core.language_models import BaseChatModel

from agents.coding.schemas import CodeSuggester
from billing.settings import Settings
from knowledge.base import KnowledgeBase, load_knowledge

log = logging.getLogger("fovea.coding")


def make_code_suggester(
    settings: Settings, *, kb: KnowledgeBase | None = None, chat_model: BaseChatModel | None = None
) -> CodeSuggester:
    """The offline coder, or the LLM coder when FOVEA_ENGINE=llm and a model is reachable by configuration.

    The LLM engine needs FOVEA_LLM_BASE_URL (or a chat model passed in, as tests do); without one the
    offline engine runs and a warning says why.
    """
    from agents.coding.offline import OfflineCoder

    kb = kb or load_knowledge(settings)
    offline = OfflineCoder(kb)
    if settings.engine != "llm":
        return offline
    if chat_model is None and not settings.llm_base_url:
        log.warning("FOVEA_ENGINE=llm but FOVEA_LLM_BASE_URL is empty: using the offline coding engine")
        return offline

    from agents.coding.llm import LLMCoder
    from agents.models import make_chat_model

    return LLMCoder(chat_model or make_chat_model(settings), offline=offline, kb=kb)
