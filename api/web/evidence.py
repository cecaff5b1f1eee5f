"""A note cut into plain-text segments, each tagged with the codes whose evidence covers it (for <mark>)."""

from collections.abc import Iterable, Mapping
from itertools import pairwise

from pydantic import BaseModel


class EvidenceSpan(BaseModel):
    start: int
    end: int
    text: str = ""


class NoteSegment(BaseModel):
    """A run of note text; `codes` are the codes whose evidence covers all of it (empty: plain text)."""

    text: str
    codes: list[str]


def _located(note: str, span: EvidenceSpan) -> tuple[int, int] | None:
    """The span's offsets when they match its text (or fit the note); else where its text occurs."""
    if 0 <= span.start < span.end <= len(note) and (
        not span.text or note[span.start : span.end] == span.text
    ):
        return span.start, span.end
    if span.text:
        found = note.find(span.text)
        if found >= 0:
            return found, found + len(span.text)
    return None


def highlight_segments(note: str, evidence: Mapping[str, Iterable[EvidenceSpan]]) -> list[NoteSegment]:
    """The note as consecutive segments; the template escapes each one, so note text never becomes markup."""
    spans = [
        (located, code)
        for code, code_spans in evidence.items()
        for span in code_spans
        if (located := _located(note, span)) is not None
    ]
    cuts = sorted({0, len(note), *(edge for (start, end), _ in spans for edge in (start, end))})
    segments: list[NoteSegment] = []
    for left, right in pairwise(cuts):
        codes = sorted({code for (start, end), code in spans if start <= left and right <= end})
        if segments and segments[-1].codes == codes:
            segments[-1] = NoteSegment(text=segments[-1].text + note[left:right], codes=codes)
        else:
            segments.append(NoteSegment(text=note[left:right], codes=codes))
    return segments
