"""`fovea eval coding` on a small temporary gold set: JSON metrics, the HTML report and metrics.json."""

import json
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FOVEA = REPO / ".venv" / "bin" / "fovea"
DATASET = REPO / "evals" / "datasets" / "coding_dev.jsonl"


def test_eval_coding_json_and_report(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in DATASET.read_text().splitlines() if line.strip()]
    tune = [row for row in rows if row["split"] == "tune"][:6]
    dataset = tmp_path / "small.jsonl"
    dataset.write_text("".join(json.dumps(row) + "\n" for row in tune))
    env = {**os.environ, "FOVEA_DATA_DIR": str(tmp_path / "var"), "FOVEA_ENGINE": "offline"}
    done = subprocess.run(
        [str(FOVEA), "eval", "coding", "--dataset", str(dataset), "--split", "tune", "--json",
         "--report", str(tmp_path / "report"), "--langsmith"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout)
    assert metrics["notes"] == 6 and metrics["split"] == "tune"
    for key in ("lines", "codes", "icd"):
        assert set(metrics[key]) == {"precision", "recall", "f1", "tp", "fp", "fn"}
        assert metrics[key]["tp"] + metrics[key]["fn"] > 0
    assert metrics["lines"]["tp"] + metrics["lines"]["fn"] == sum(len(r["gold"]["lines"]) for r in tune)
    assert 0 <= metrics["abstention_rate"] <= 1 and metrics["latency_p95_ms"] >= metrics["latency_p50_ms"] > 0
    assert set(metrics["per_family"]) == {row["family"] for row in tune}
    assert {"line_f1", "icd_f1", "invalid_codes"} <= set(metrics["langsmith"])
    page = (tmp_path / "report" / "index.html").read_text()
    assert "<svg" in page and "Calibration" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # self-contained
    saved = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert saved["lines"] == metrics["lines"]


def test_eval_coding_refuses_a_missing_dataset(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(FOVEA), "eval", "coding", "--dataset", str(tmp_path / "none.jsonl"), "--json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "cannot read" in done.stderr
