"""Opening Chroma: the embedded PersistentClient by default, a Chroma server when a URL is configured."""

from urllib.parse import urlparse

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from billing.settings import Settings
from knowledge.vectorstore.embeddings import MiniLMEmbeddingFunction


def open_chroma(settings: Settings) -> ClientAPI:
    """`HttpClient` when `settings.chroma_url` is set, else a `PersistentClient` under `chroma_dir`."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        ssl = url.scheme == "https"
        return chromadb.HttpClient(
            host=url.hostname or "localhost",
            port=url.port or (443 if ssl else 8000),
            ssl=ssl,
            settings=chroma_settings,
        )
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def get_collection(client: ClientAPI, name: str) -> Collection:
    """The named collection (created on first use) in cosine space, embedding with the packaged MiniLM."""
    return client.get_or_create_collection(
        name,
        embedding_function=MiniLMEmbeddingFunction(),
        configuration={"hnsw": {"space": "cosine"}},
    )
