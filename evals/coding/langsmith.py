"""The coding gold set and metrics as LangSmith examples and evaluators; offline unless a key is given."""

import contextlib
import logging
import sys
import uuid
import warnings
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from agents.coding.batch import NoteRecord, code_record
from agents.coding.schemas import AUTO_DRAFT_THRESHOLD, CodeSuggester
from evals.coding.datasets import GoldRow
from evals.coding.metrics import NoteScore, prf, score_note

# A closed port on loopback: the client's few start-up calls fail at once and nothing leaves the machine.
OFFLINE_API_URL = "http://127.0.0.1:9"
OFFLINE_API_KEY = "offline"
_NAMESPACE = uuid.UUID("5b0f3c57-6d43-4c3e-9a43-6f0c0d1e2a11")
_GOLD_FIELDS = {"split", "family", "style", "traps", "gold", "rationale"}

Run = Any  # langsmith.schemas.Run: evaluators read only .outputs
Example = Any  # langsmith.schemas.Example: evaluators read .inputs, .outputs, .metadata
Evaluator = Callable[[Run, Example], dict[str, Any]]


def to_examples(rows: list[GoldRow], dataset_name: str = "coding_dev") -> list[Any]:
    """One LangSmith Example per row: the note record as inputs, the gold charge as outputs."""
    from langsmith.schemas import Example

    dataset_id = uuid.uuid5(_NAMESPACE, dataset_name)
    return [
        Example(
            id=uuid.uuid5(_NAMESPACE, f"{dataset_name}/{row.id}"),
            dataset_id=dataset_id,
            inputs=row.model_dump(mode="json", exclude=_GOLD_FIELDS),
            outputs=row.gold.model_dump(mode="json"),
            metadata={"id": row.id, "split": row.split, "family": row.family, "style": row.style},
        )
        for row in rows
    ]


def make_target(suggester: CodeSuggester) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The function LangSmith calls per example: a note record in, the batch output record out."""

    def code_charge(inputs: dict[str, Any]) -> dict[str, Any]:
        return code_record(NoteRecord.model_validate(inputs), suggester)

    return code_charge


def _score(run: Run, example: Example) -> NoteScore:
    row = GoldRow.model_validate(
        {
            **example.inputs,
            "gold": example.outputs,
            **{k: v for k, v in (example.metadata or {}).items() if k != "id"},
        }
    )
    return score_note(row, run.outputs or {"error": "no output"})


def line_f1(run: Run, example: Example) -> dict[str, Any]:
    counts = _score(run, example).lines
    return {"key": "line_f1", "score": prf(counts["tp"], counts["fp"], counts["fn"]).f1}


def code_f1(run: Run, example: Example) -> dict[str, Any]:
    counts = _score(run, example).codes
    return {"key": "code_f1", "score": prf(counts["tp"], counts["fp"], counts["fn"]).f1}


def icd_f1(run: Run, example: Example) -> dict[str, Any]:
    counts = _score(run, example).icd
    return {"key": "icd_f1", "score": prf(counts["tp"], counts["fp"], counts["fn"]).f1}


def laterality_errors(run: Run, example: Example) -> dict[str, Any]:
    return {"key": "laterality_errors", "score": _score(run, example).laterality_errors}


def invalid_codes(run: Run, example: Example) -> dict[str, Any]:
    return {"key": "invalid_codes", "score": len(_score(run, example).invalid_codes)}


def auto_draft(run: Run, example: Example) -> dict[str, Any]:
    """1 when the charge as a whole clears the review threshold."""
    return {"key": "auto_draft", "score": float(_score(run, example).confidence >= AUTO_DRAFT_THRESHOLD)}


EVALUATORS: list[Evaluator] = [line_f1, code_f1, icd_f1, laterality_errors, invalid_codes, auto_draft]


class _OfflineChatter(logging.Filter):
    """Drops the client's expected complaints about the closed offline endpoint (its /info look-up fails)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return OFFLINE_API_URL not in message and not message.startswith("Run compression is not enabled")


def _quiet_offline_client() -> None:
    client_log = logging.getLogger("langsmith.client")
    if not any(isinstance(f, _OfflineChatter) for f in client_log.filters):
        client_log.addFilter(_OfflineChatter())


def run_langsmith_eval(
    rows: list[GoldRow],
    suggester: CodeSuggester,
    *,
    api_url: str = OFFLINE_API_URL,
    api_key: str = OFFLINE_API_KEY,
) -> dict[str, float]:
    """`langsmith.evaluate` over the rows; the mean of each evaluator's score.

    Without a real key it never uploads and its client points at a closed loopback port. LangSmith's own
    chatter goes to stderr so that `--json` output stays clean.
    """
    from langsmith import Client, evaluate

    offline = api_key == OFFLINE_API_KEY
    if offline:
        _quiet_offline_client()
    client = Client(api_url=OFFLINE_API_URL if offline else api_url, api_key=api_key)
    scores: dict[str, list[float]] = defaultdict(list)
    try:
        with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*upload_runs.*")  # offline on purpose
            results = evaluate(
                make_target(suggester),
                data=to_examples(rows),
                evaluators=EVALUATORS,
                upload_results=not offline,
                client=client,
                experiment_prefix="fovea-coding",
            )
            for result in results:
                for item in result["evaluation_results"]["results"]:
                    if item.score is not None:
                        scores[item.key].append(float(item.score))
    finally:
        client.close(timeout=0 if offline else None)
    return {key: sum(values) / len(values) for key, values in sorted(scores.items())}
