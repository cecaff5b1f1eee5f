"""`fovea contract price` and `fovea contract variance`, run as the installed command in a subprocess."""

import json
import os
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FOVEA = REPO / ".venv" / "bin" / "fovea"
EXAMPLES = REPO / "examples" / "contracts"
MONEY = re.compile(r"^-?\d+\.\d\d$")
LINE_KEYS = {"code", "modifiers", "expected_allowed", "expected_paid", "patient_responsibility", "steps"}


def fovea(tmp_path: Path, *args: str, pfs_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FOVEA_")}
    env["FOVEA_DATA_DIR"] = str(tmp_path / "var")
    if pfs_dir is not None:
        env["FOVEA_PFS_DIR"] = str(pfs_dir)
    return subprocess.run(
        [str(FOVEA), "contract", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def write_claim(tmp_path: Path, lines: list[dict], **extra: object) -> Path:
    claim = {
        "date_of_service": "2024-09-03",
        "patient": {"age": 67, "sex": "M"},
        "payer": {"name": "Evergreen", "kind": "commercial"},
        "established": True,
        "lines": lines,
        **extra,
    }
    path = tmp_path / "claim.json"
    path.write_text(json.dumps(claim))
    return path


def test_price_percent_of_medicare_claim(tmp_path: Path, shared_data: Path) -> None:
    claim = write_claim(
        tmp_path,
        [{"code": "92014", "charge": 200}, {"code": "92015", "charge": "45.00"}],
        deductible_remaining="0.00",
        place_of_service="11",
    )
    done = fovea(
        tmp_path,
        "price",
        "--contract",
        str(EXAMPLES / "medicare_110.yaml"),
        "--claim",
        str(claim),
        "--json",
        pfs_dir=shared_data / "pfs",
    )
    assert done.returncode == 0, done.stderr
    payment = json.loads(done.stdout)
    exam, refraction = payment["lines"]
    assert set(exam) >= LINE_KEYS
    for line in payment["lines"]:
        for key in ("expected_allowed", "expected_paid", "patient_responsibility"):
            assert MONEY.match(line[key]), (key, line[key])
    # 92014 Alabama 114.85 x 110% = 126.34; specialist copay 30.00 instead of deductible and coinsurance
    assert (exam["expected_allowed"], exam["expected_paid"], exam["patient_responsibility"]) == (
        "126.34",
        "96.34",
        "30.00",
    )
    assert any("x 110% = 126.34" in step for step in exam["steps"])
    assert (refraction["expected_paid"], refraction["patient_responsibility"]) == ("0.00", "45.00")
    assert payment["total_expected_paid"] == "96.34"


def test_price_vision_plan_needs_no_fee_schedule_import(tmp_path: Path) -> None:
    claim = write_claim(tmp_path, [{"code": "92014", "charge": 120}, {"code": "V2020", "charge": 210}])
    done = fovea(
        tmp_path, "price", "--contract", str(EXAMPLES / "vision_plan.yaml"), "--claim", str(claim), "--json"
    )
    assert done.returncode == 0, done.stderr
    exam, frame = json.loads(done.stdout)["lines"]
    # exam fee 50.00 less the 10.00 exam copay
    assert (exam["expected_paid"], exam["patient_responsibility"]) == ("40.00", "10.00")
    # frame allowance 150.00; overage 60.00 less 20% = 48.00, plus the 25.00 materials copay
    assert (frame["expected_allowed"], frame["expected_paid"], frame["patient_responsibility"]) == (
        "150.00",
        "125.00",
        "73.00",
    )


def test_price_refuses_bad_input_with_the_field_named(tmp_path: Path) -> None:
    claim = write_claim(tmp_path, [{"code": "92014", "charge": 120}])
    contract = tmp_path / "bad.yaml"
    contract.write_text(
        (EXAMPLES / "vision_plan.yaml").read_text().replace("timely_filing_days", "timely_days")
    )
    done = fovea(tmp_path, "price", "--contract", str(contract), "--claim", str(claim))
    assert done.returncode == 2
    assert "timely_days" in done.stderr and "unknown contract term" in done.stderr
    no_pfs = fovea(
        tmp_path, "price", "--contract", str(EXAMPLES / "medicare_110.yaml"), "--claim", str(claim)
    )
    assert no_pfs.returncode == 2 and "FOVEA_PFS_DIR" in no_pfs.stderr


def test_variance_classifies_each_remitted_line(tmp_path: Path, shared_data: Path) -> None:
    contract = tmp_path / "medicaid_vision.yaml"
    contract.write_text(
        "id: ctr-vision-medicaid\npractice_id: prac-1\npayer_id: pay-medicaid\neffective: 2009-01-01\n"
        "lesser_of_billed: false\n"
        "fee_schedule: {V2020: '8.00', V2700: '2.75', V2103: '5.50', S0580: '9.00'}\n"
    )
    remit = shared_data / "x12" / "835" / "emedny_vision_profee.835"
    done = fovea(tmp_path, "variance", "--contract", str(contract), "--remit", str(remit), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    by_line = [(line["code"], line["actual_paid"], line["classification"]) for line in report["lines"]]
    # the payer paid 6.00 for a frame the contract prices at 8.00
    assert by_line[0] == ("V2020", "6.00", "underpaid")
    assert ("V2700", "2.75", "ok") in by_line
    # two units of S0580 at 9.00 = 18.00, paid 20.00
    assert ("S0580", "20.00", "overpaid") in by_line
    assert any(classification == "denied" for _, _, classification in by_line)
    assert all(MONEY.match(line["expected_paid"]) for line in report["lines"])
    assert MONEY.match(report["total_underpaid"]) and report["total_underpaid"] != "0.00"
    lenient = fovea(
        tmp_path,
        "variance",
        "--contract",
        str(contract),
        "--remit",
        str(remit),
        "--tolerance",
        "2.00",
        "--json",
    )
    relaxed = json.loads(lenient.stdout)["lines"]
    assert relaxed[0]["classification"] == relaxed[3]["classification"] == "ok"
