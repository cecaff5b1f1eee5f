"""Payer policies: front matter parses, the most specific policy wins, and dates apply."""

from datetime import date
from pathlib import Path

import pytest

from knowledge.codes.procedures import get_procedure
from knowledge.rules.policies import NO_POLICY, load_policies, parse_policy, policies_for, resolve_policy

DOS = date(2024, 9, 3)


def test_every_policy_is_sourced_and_names_known_codes() -> None:
    policies = load_policies()
    assert len(policies) >= 8
    assert len({policy.id for policy in policies}) == len(policies)
    for policy in policies:
        assert policy.source and policy.body and policy.payer_kinds, policy.id
        for code in policy.prior_auth_codes + policy.vision_exam_codes:
            assert get_procedure(code) is not None, (policy.id, code)


def test_original_medicare() -> None:
    policy = resolve_policy("Medicare Part B (Noridian JF)", "medicare", DOS)
    assert policy.refraction == "non_covered_gy" and not policy.routine_exam_covered
    assert policy.timely_filing_days == 365


def test_medicare_advantage_and_medicaid() -> None:
    advantage = resolve_policy("Cascade Senior Advantage HMO", "medicare_advantage", DOS)
    assert {"92313", "V2531"} <= set(advantage.prior_auth_codes) and advantage.refraction == "covered"
    medicaid = resolve_policy("Oregon Health Plan (Medicaid)", "medicaid", DOS)
    assert medicaid.timely_filing_days == 95 and "EPSDT" in medicaid.body
    assert "92313" in medicaid.prior_auth_codes


def test_vision_plans() -> None:
    vsp = resolve_policy("VSP Vision Care", "vision", DOS)
    assert {"92014", "92015"} <= set(vsp.vision_exam_codes) and vsp.exam_frequency_months == 12
    eyemed = resolve_policy("eyemed vision care", "vision", DOS)  # names match case-insensitively
    assert eyemed.vision_exam_codes == ["S0620", "S0621"] and eyemed.refraction == "included_in_exam"
    assert eyemed.timely_filing_days == 180
    assert resolve_policy("Spectera", "vision", DOS).id == "vision-generic"


def test_named_policy_beats_the_kind_wide_one() -> None:
    found = policies_for("Evergreen Health Partners PPO", "commercial", DOS)
    assert [policy.id for policy in found] == ["commercial-evergreen-ppo", "commercial-generic"]
    assert resolve_policy("Evergreen Health Partners PPO", "commercial", DOS).timely_filing_days == 90
    assert resolve_policy("Another Insurer", "commercial", DOS).id == "commercial-generic"


def test_dates_and_fallback(tmp_path: Path) -> None:
    assert (
        resolve_policy("VSP Vision Care", "vision", date(2023, 6, 1)) is NO_POLICY
    )  # before every vision policy
    assert resolve_policy("Someone", "workers_comp", DOS) is NO_POLICY
    path = tmp_path / "ended.md"
    path.write_text(
        "---\nid: ended\ntitle: Ended\npayer_kinds: [commercial]\neffective: 2020-01-01\n"
        "termination: 2023-01-01\nsource: test\nrefraction: covered\n---\nBody.\n"
    )
    ended = parse_policy(path)
    assert ended.in_force(date(2022, 12, 31)) and not ended.in_force(date(2023, 1, 1))
    assert ended.body == "Body." and ended.path == str(path)
    (tmp_path / "bad.md").write_text("no front matter")
    with pytest.raises(ValueError, match="front matter"):
        parse_policy(tmp_path / "bad.md")
