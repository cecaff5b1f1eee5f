"""`fovea check claim` run as the real command: JSON shape, exit codes, refusal of bad input, speed."""

import json
import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from billing.settings import Settings
from knowledge.base import load_knowledge
from knowledge.validation.engine import validate
from tests.knowledge.test_validator_table import CASES, case_claim

REPO = Path(__file__).resolve().parents[2]
FOVEA = REPO / ".venv" / "bin" / "fovea"

CLAIM: dict[str, Any] = {
    "date_of_service": "2024-09-10",
    "patient": {"age": 71, "sex": "F"},
    "payer": {"name": "Medicare Part B", "kind": "medicare"},
    "established": True,
    "history": [{"date": "2024-03-02", "codes": ["92014"]}],
    "lines": [
        {"code": "92014", "diagnosis_codes": ["H40.1131"], "charge": "165.00"},
        {"code": "92133", "modifiers": ["RT"], "diagnosis_codes": ["H40.1131"]},
        {"code": "92015", "diagnosis_codes": ["H52.13"]},
    ],
    "practice_note": "extra keys are ignored",
}


def fovea(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FOVEA_DATA_DIR": str(tmp_path / "var"), "FOVEA_MODE": "development"}
    return subprocess.run(
        [str(FOVEA), "check", "claim", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


def write(tmp_path: Path, content: str | dict[str, Any], name: str = "CLAIM.json") -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_json_output_shape_and_exit_zero(tmp_path: Path) -> None:
    started = time.perf_counter()
    result = fovea(tmp_path, "--input", str(write(tmp_path, CLAIM)), "--json")
    print(
        f"\none `fovea check claim --json` run: {time.perf_counter() - started:.2f} s (process start incl.)"
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert list(payload) == ["findings"]
    codes = [item["code"] for item in payload["findings"]]
    assert codes == ["LATERALITY_NOT_ALLOWED", "REFRACTION_MEDICARE_GY"]
    for item in payload["findings"]:
        assert {"code", "severity", "lines", "message", "fix"} <= set(item)
        assert item["severity"] in {"error", "warning", "info"}
        assert all(isinstance(n, int) for n in item["lines"])
    assert payload["findings"][0]["lines"] == [2]


def test_table_output_exits_zero(tmp_path: Path) -> None:
    result = fovea(tmp_path, "--input", str(write(tmp_path, CLAIM)))
    assert result.returncode == 0, result.stderr
    assert "2 findings" in result.stdout
    assert "LATERALITY_NOT_ALLOWED" in result.stdout and "REFRACTION_MEDICARE_GY" in result.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "top level"),
        ({**CLAIM, "lines": [{"code": "92014", "units": "two"}]}, "lines[1].units"),
        ({key: value for key, value in CLAIM.items() if key != "date_of_service"}, "date_of_service"),
        ({**CLAIM, "date_of_service": "10/09/2024"}, "date_of_service"),
        ({**CLAIM, "payer": {"name": "X", "kind": "dental"}}, "payer.kind"),
        ({**CLAIM, "established": "yes"}, "established"),
        ({key: value for key, value in CLAIM.items() if key != "patient"}, "patient"),
    ],
    ids=[
        "missing-file",
        "not-json",
        "not-object",
        "units-type",
        "no-date",
        "bad-date",
        "bad-kind",
        "bool-type",
        "no-patient",
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, content: Any, expected: str) -> None:
    path = tmp_path / "missing.json" if content is None else write(tmp_path, content)
    result = fovea(tmp_path, "--input", str(path), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_and_malformed_codes_are_findings_not_crashes(tmp_path: Path) -> None:
    odd = {
        **CLAIM,
        "lines": [
            {"code": "9201", "diagnosis_codes": ["40.11", "H40.11X0", "ZZZ.9"]},
            {"code": "92084", "modifiers": ["R"], "diagnosis_codes": ["h401131"]},
            {"code": 92014, "modifiers": ["-25"], "diagnosis_codes": []},
        ],
    }
    result = fovea(tmp_path, "--input", str(write(tmp_path, odd)), "--json")
    assert result.returncode == 0, result.stderr
    codes = sorted(item["code"] for item in json.loads(result.stdout)["findings"])
    assert codes == sorted(
        [
            "CODE_MALFORMED",
            "CODE_MALFORMED",
            "CODE_MALFORMED",
            "ICD_INVALID",
            "CODE_MALFORMED",
            "CPT_UNKNOWN",
            "DX_POINTER_MISSING",
        ]
    )


def test_speed_per_claim(tmp_path: Path) -> None:
    """Printed, not tightly asserted: the in-process time per claim over the case table."""
    kb = load_knowledge(Settings(_env_file=None, data_dir=tmp_path / "var"))
    claims = [case_claim(case) for case in CASES]
    for claim in claims:  # warm the code-set caches once
        validate(claim, kb)
    timings = []
    for claim in claims * 3:
        started = time.perf_counter()
        validate(claim, kb)
        timings.append(time.perf_counter() - started)
    p95 = statistics.quantiles(timings, n=20)[18]
    print(
        f"\nvalidator: {len(timings)} claim checks, median {statistics.median(timings) * 1000:.2f} ms, "
        f"p95 {p95 * 1000:.2f} ms per claim (code sets loaded)"
    )
    assert p95 < 0.5
