"""`fovea code batch` as the installed command in a subprocess; `fovea code note` through Typer's runner."""

import json
import os
import subprocess
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api.commands import coding
from billing.settings import Settings

REPO = Path(__file__).resolve().parents[2]
FOVEA = REPO / ".venv" / "bin" / "fovea"
DATASET = REPO / "evals" / "datasets" / "coding_dev.jsonl"
LINE_KEYS = {"code", "modifiers", "units", "diagnosis_codes", "confidence", "evidence"}


def fovea(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI with settings isolated in tmp_path (no .env, an empty data dir, no LLM configured)."""
    env = {
        **os.environ,
        "FOVEA_DATA_DIR": str(tmp_path / "var"),
        "FOVEA_LLM_BASE_URL": "",
        "FOVEA_ENGINE": "offline",
    }
    return subprocess.run(
        [str(FOVEA), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240
    )


@pytest.fixture
def code_cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """The `code` group mounted as api/cli.py mounts it, reading the test's isolated settings."""
    monkeypatch.setattr("billing.settings.get_settings", lambda: settings)
    root = typer.Typer()
    root.add_typer(coding.app, name="code")
    return root


def tune_rows(count: int) -> list[dict]:
    rows = [json.loads(line) for line in DATASET.read_text().splitlines() if line.strip()]
    return [row for row in rows if row["split"] == "tune"][:count]


def check_evidence(note: str, spans: list[dict]) -> None:
    for span in spans:
        assert set(span) == {"text", "start", "end"}
        assert note[span["start"] : span["end"]] == span["text"]


def test_batch_keeps_order_reports_bad_lines_and_shows_progress(tmp_path: Path) -> None:
    rows = tune_rows(3)
    lines = [
        json.dumps(rows[0]),
        "this line is not json",
        json.dumps({"id": "no-note", "patient": {"age": 40}}),
        json.dumps(rows[1]),
        "",
        json.dumps(rows[2]),
    ]
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join(lines) + "\n")
    done = fovea(tmp_path, "code", "batch", "--input", str(source), "--output", str(output), "--workers", "2")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["id"] for r in records] == [rows[0]["id"], None, "no-note", rows[1]["id"], rows[2]["id"]]
    assert "error" in records[1] and "error" in records[2]
    for record, row in zip([records[0], records[3], records[4]], rows, strict=True):
        assert "error" not in record
        assert 0 <= record["confidence"] <= 1 and isinstance(record["findings"], list)
        for line in record["lines"]:
            assert set(line) >= LINE_KEYS
            check_evidence(row["note"], line["evidence"])
        for dx in record["diagnoses"]:
            check_evidence(row["note"], dx["evidence"])
    assert any(record["lines"] for record in records if "error" not in record)
    assert "5/5" in done.stderr  # the progress bar, on stderr
    assert "5 notes, 2 errors" in done.stderr and "notes/s" in done.stderr


def test_batch_refuses_an_input_it_cannot_open(tmp_path: Path) -> None:
    done = fovea(tmp_path, "code", "batch", "--input", str(tmp_path / "missing.jsonl"), "--output", "o.jsonl")
    assert done.returncode == 2
    assert "cannot read" in done.stderr
    assert not (tmp_path / "o.jsonl").exists()


def test_llm_engine_without_a_model_is_refused(tmp_path: Path, code_cli: typer.Typer) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(tune_rows(1)[0]) + "\n")
    out = tmp_path / "out.jsonl"
    done = CliRunner().invoke(
        code_cli, ["code", "batch", "-i", str(source), "-o", str(out), "--engine", "llm"]
    )
    assert done.exit_code == 2
    assert "FOVEA_LLM_BASE_URL" in done.stderr


def test_note_json_has_the_batch_line_shape(tmp_path: Path, code_cli: typer.Typer) -> None:
    row = tune_rows(1)[0]
    note = tmp_path / "visit-0001.txt"
    note.write_text(row["note"])
    args = [
        "code",
        "note",
        str(note),
        "--payer-kind",
        row["payer"]["kind"],
        "--age",
        str(row["patient"]["age"]),
    ]
    done = CliRunner().invoke(code_cli, [*args, "--sex", row["patient"]["sex"], "--json"])
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert result["id"] == "visit-0001.txt"
    assert {"lines", "diagnoses", "findings", "confidence"} <= set(result)
    assert result["lines"], "a glaucoma visit note yields at least one charge line"
    for line in result["lines"]:
        assert set(line) >= LINE_KEYS
        check_evidence(row["note"], line["evidence"])
    table = CliRunner().invoke(code_cli, args)
    assert table.exit_code == 0 and result["lines"][0]["code"] in table.stdout


def test_note_refuses_a_missing_file(tmp_path: Path, code_cli: typer.Typer) -> None:
    done = CliRunner().invoke(code_cli, ["code", "note", str(tmp_path / "missing.txt")])
    assert done.exit_code == 2 and "cannot read" in done.stderr
