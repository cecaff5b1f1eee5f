"""Run a coding engine over gold rows: predictions, per-note latency after a warm-up note, metrics."""

import time
from collections.abc import Callable
from typing import Any

from agents.coding.batch import code_record
from agents.coding.schemas import CodeSuggester
from evals.coding.datasets import GoldRow
from evals.coding.metrics import CodingMetrics, score_note, summarize


def predict(
    rows: list[GoldRow], suggester: CodeSuggester, on_note: Callable[[], None] = lambda: None
) -> tuple[list[dict[str, Any]], list[float]]:
    """Engine output records in row order, and each note's latency in ms (the first note warms up untimed)."""
    if rows:
        code_record(rows[0], suggester)
    records, latencies = [], []
    for row in rows:
        started = time.perf_counter()
        records.append(code_record(row, suggester))
        latencies.append((time.perf_counter() - started) * 1000)
        on_note()
    return records, latencies


def evaluate_coding(
    rows: list[GoldRow], suggester: CodeSuggester, on_note: Callable[[], None] = lambda: None
) -> CodingMetrics:
    records, latencies = predict(rows, suggester, on_note)
    return summarize([score_note(row, record) for row, record in zip(rows, records, strict=True)], latencies)
