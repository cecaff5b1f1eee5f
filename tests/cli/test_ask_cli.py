"""`fovea ask` as a real command: the CLI contract's exact call answers from the knowledge base alone."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Nothing listens here: the question must be answered without Crystal PM.
CLOSED_PORT_URL = "http://127.0.0.1:9"


def fovea(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("FOVEA_")} | {
        "FOVEA_CRYSTALPM_BASE_URL": CLOSED_PORT_URL,
        "PYTHONPATH": str(REPO),
    }
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ask_json_answers_a_carc_question_with_no_crystal_pm_and_a_fresh_data_dir(tmp_path: Path) -> None:
    result = fovea(tmp_path, "ask", "What does CARC 45 mean?", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    answer = json.loads(result.stdout)
    assert set(answer) == {"answer", "intent", "tool_calls", "sources", "engine"}
    assert answer["intent"] == "explain_carc" and answer["engine"] == "offline"
    assert answer["tool_calls"] == [{"name": "explain_code", "args": {"code": "45"}}]
    assert {"kind": "carc", "id": "45", "label": "CARC 45"} in answer["sources"]
    assert "45" in answer["answer"] and "contract" in answer["answer"].lower()
    # The local operator needs no user database.
    assert not (tmp_path / "var" / "fovea.db").exists()
