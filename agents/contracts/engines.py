"""The contract term extractor chosen by settings: offline by default, the LLM engine when configured."""

from langchain_core.language_models import BaseChatModel

from agents.contracts.schemas import TermExtractor
from billing.settings import Settings


def make_term_extractor(settings: Settings, *, chat_model: BaseChatModel | None = None) -> TermExtractor:
    from agents.contracts.extract_offline import OfflineTermExtractor

    if settings.engine != "llm":
        return OfflineTermExtractor()
    from agents.contracts.extract_llm import LLMTermExtractor
    from agents.models import make_chat_model

    return LLMTermExtractor(chat_model or make_chat_model(settings))
