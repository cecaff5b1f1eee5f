"""Sentences of a contract with their exact offsets (pysbd, paragraph by paragraph)."""

import re
from functools import cache

import pysbd
from pydantic import BaseModel

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


class Sentence(BaseModel):
    text: str
    start: int
    end: int


@cache
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def split_sentences(text: str) -> list[Sentence]:
    """Every sentence of text, stripped of surrounding whitespace, so that text[start:end] == sentence."""
    sentences: list[Sentence] = []
    offset = 0
    for paragraph in [*_PARAGRAPH_BREAK.split(text)]:
        begin = text.index(paragraph, offset) if paragraph else offset
        offset = begin + len(paragraph)
        if not paragraph.strip():
            continue
        for span in _segmenter().segment(paragraph):
            raw = paragraph[span.start : span.end]
            stripped = raw.strip()
            if not stripped:
                continue
            start = begin + span.start + (len(raw) - len(raw.lstrip()))
            sentences.append(Sentence(text=stripped, start=start, end=start + len(stripped)))
    return sentences


def sentence_around(sentences: list[Sentence], position: int) -> Sentence | None:
    return next((s for s in sentences if s.start <= position < s.end), None)
