"""The one factory that builds chat models from Settings (OpenAI or any OpenAI-compatible server)."""

from langchain_core.language_models import BaseChatModel

from billing.settings import Settings

DEFAULT_MAX_TOKENS = 2048
DEFAULT_MAX_RETRIES = 1
# OpenAI-compatible servers started without --api-key still expect the header to be present.
NO_KEY = "not-needed"


def make_chat_model(settings: Settings, *, max_retries: int = DEFAULT_MAX_RETRIES) -> BaseChatModel:
    """ChatOpenAI at settings.llm_base_url (OpenAI when empty), temperature 0, with the configured timeout.

    The completion limit goes in `extra_body` as `max_tokens`: llama.cpp's server ignores
    `max_completion_tokens`, which is what ChatOpenAI would send.
    """
    # Imported here: langchain_openai costs ~2 s and the offline engine never needs it.
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=settings.llm_base_url or None,
        api_key=settings.llm_api_key.get_secret_value() or NO_KEY,
        model=settings.llm_model,
        timeout=settings.llm_timeout_seconds,
        max_retries=max_retries,
        temperature=0,
        extra_body={"max_tokens": DEFAULT_MAX_TOKENS},
    )
