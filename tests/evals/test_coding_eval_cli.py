"""`fovea eval coding` on a small temporary gold set: JSON metrics, the HTML report and metrics.json."""

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api.commands import evals
from billing.settings import Settings

DATASET = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "coding_dev.jsonl"


@pytest.fixture
def eval_cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """The `eval` group mounted as api/cli.py mounts it, reading the test's isolated settings."""
    monkeypatch.setattr("billing.settings.get_settings", lambda: settings)
    root = typer.Typer()
    root.add_typer(evals.app, name="eval")
    return root


def test_eval_coding_json_and_report(tmp_path: Path, eval_cli: typer.Typer) -> None:
    rows = [json.loads(line) for line in DATASET.read_text().splitlines() if line.strip()]
    tune = [row for row in rows if row["split"] == "tune"][:6]
    dataset = tmp_path / "small.jsonl"
    dataset.write_text("".join(json.dumps(row) + "\n" for row in tune))
    report = tmp_path / "report"
    args = ["eval", "coding", "--dataset", str(dataset), "--split", "tune", "--report", str(report)]
    done = CliRunner().invoke(eval_cli, [*args, "--json", "--langsmith"])
    assert done.exit_code == 0, done.output
    metrics = json.loads(done.stdout)
    assert metrics["notes"] == 6 and metrics["split"] == "tune"
    for key in ("lines", "codes", "icd"):
        assert set(metrics[key]) == {"precision", "recall", "f1", "tp", "fp", "fn"}
    assert metrics["lines"]["tp"] + metrics["lines"]["fn"] == sum(len(r["gold"]["lines"]) for r in tune)
    assert metrics["icd"]["tp"] + metrics["icd"]["fn"] == sum(len(r["gold"]["diagnoses"]) for r in tune)
    assert 0 <= metrics["abstention_rate"] <= 1 and metrics["latency_p95_ms"] >= metrics["latency_p50_ms"] > 0
    assert set(metrics["per_family"]) == {row["family"] for row in tune}
    assert {"line_f1", "icd_f1", "invalid_codes"} <= set(metrics["langsmith"])
    page = (report / "index.html").read_text()
    assert "<svg" in page and "Calibration" in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # self-contained: no CDN
    saved = json.loads((report / "metrics.json").read_text())
    assert saved["lines"] == metrics["lines"]
    table = CliRunner().invoke(eval_cli, args)
    assert table.exit_code == 0 and "ICD-10-CM" in table.stdout


def test_eval_coding_refuses_a_missing_dataset(tmp_path: Path, eval_cli: typer.Typer) -> None:
    done = CliRunner().invoke(
        eval_cli, ["eval", "coding", "--dataset", str(tmp_path / "none.jsonl"), "--json"]
    )
    assert done.exit_code == 2 and "cannot read" in done.stderr
