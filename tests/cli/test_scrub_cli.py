"""`fovea scrub` run as the real command: the CLI contract's JSON shape, bad input, and a scan of the queue."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from billing.settings import Settings
from sandbox.generator import generate_dataset
from tests.support.sandbox import running_sandbox

REPO = Path(__file__).resolve().parents[2]
# The scrub group as api/cli.py mounts it (`fovea scrub ...`).
ENTRY = "from api.commands.scrub import app; app(prog_name='fovea scrub')"

CLAIM: dict[str, Any] = {
    "date_of_service": "2024-09-10",
    "patient": {"age": 71, "sex": "F"},
    "payer": {"name": "Medicare Part B", "kind": "medicare"},
    "established": True,
    "lines": [
        {"code": "92014", "diagnosis_codes": ["H40.1131"], "charge": "165.00"},
        {"code": "65222", "diagnosis_codes": ["T15.01XA"]},
        {"code": "92015", "diagnosis_codes": ["H52.13"]},
    ],
    "coverage": {"plan": "Part B", "effective": "2020-01-01"},
    "prior_auth": None,
    "submitted_on": "2024-09-12",
}


def fovea_scrub(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "FOVEA_DATA_DIR": str(tmp_path / "var"),
        "FOVEA_MODE": "development",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO,
        timeout=180,
    )


def scrub_json(tmp_path: Path, claim: dict[str, Any]) -> dict[str, Any]:
    path = tmp_path / "CLAIM.json"
    path.write_text(json.dumps(claim))
    done = fovea_scrub(tmp_path, "claim", "--input", str(path), "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_contract_shape_and_concrete_fixes(tmp_path: Path) -> None:
    result = scrub_json(tmp_path, CLAIM)
    assert set(result) == {"findings", "risk", "fixes"}
    assert {"score", "band", "factors"} <= set(result["risk"]) and result["risk"]["band"] == "high"
    assert result["risk"]["model"] == "rules-baseline"  # no model trained in this data dir, and it says so
    assert any("No denial model trained yet" in factor for factor in result["risk"]["factors"])
    codes = {item["code"] for item in result["findings"]}
    assert {"EM_MISSING_25", "REFRACTION_MEDICARE_GY", "LATERALITY_MISSING"} <= codes
    edits = [(fix["edit"]["op"], fix["edit"]["line"], fix["edit"]["value"]) for fix in result["fixes"]]
    assert ("add_modifier", 1, "25") in edits and ("add_modifier", 3, "GY") in edits
    assert ("add_modifier", 2, "RT") in edits
    assert all(set(fix) >= {"description", "edit"} and fix["description"] for fix in result["fixes"])


def test_missing_coverage_unknown_payer_and_empty_lines_are_findings(tmp_path: Path) -> None:
    claim = {key: value for key, value in CLAIM.items() if key != "coverage"}
    claim["payer"] = {"name": "Acme Health Plan", "kind": "commercial"}
    claim["lines"] = []
    result = scrub_json(tmp_path, claim)
    codes = {item["code"] for item in result["findings"]}
    assert {"COVERAGE_NOT_VERIFIED", "PAYER_POLICY_GENERIC", "EMPTY_CLAIM"} <= codes
    assert result["fixes"] and result["risk"]["band"] == "high"


def test_unreadable_claim_is_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "CLAIM.json"
    path.write_text("{not json")
    done = fovea_scrub(tmp_path, "claim", "--input", str(path), "--json")
    assert done.returncode == 2 and done.stderr.startswith("error:") and len(done.stderr.splitlines()) == 1


def test_scan_of_the_claims_queue(tmp_path: Path, settings: Settings) -> None:
    dataset = generate_dataset(3, 20)
    since = "2026-01-01"
    expected = sorted(c.id for c in dataset.claims if c.date_of_service.isoformat() >= since)
    with running_sandbox(settings, dataset) as sandbox:
        env = {"FOVEA_CRYSTALPM_BASE_URL": sandbox.base_url, "FOVEA_CRYSTALPM_TOKEN": sandbox.token}
        done = fovea_scrub(tmp_path, "--since", since, "--all-statuses", "--json", env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["scanned"] == len(expected) and not summary["broken"]
    assert sorted(summary["passed"] + summary["review"]) == expected
    assert summary["review"], "a generated practice has claims with errors"
