"""LCD coverage rules: supporting diagnoses, frequency, and references that exist in the CMS index."""

import csv
from datetime import date
from pathlib import Path

import pytest

from knowledge.codes.icd10 import icd10_exists
from knowledge.codes.procedures import get_procedure
from knowledge.rules.coverage import all_coverage_rules, coverage_rules_for, dx_supports

DOS = date(2024, 9, 3)


def test_every_lcd_and_article_is_in_the_cms_index(shared_data: Path) -> None:
    with (shared_data / "coverage" / "mcd_eye_related_lcds_and_articles_index.csv").open(
        encoding="utf-8"
    ) as f:
        index = {row["document_display_id"]: row["document_type"] for row in csv.DictReader(f)}
    for rule in all_coverage_rules():
        assert rule.lcd and rule.article, rule.id
        assert all(index.get(lcd) == "LCD" for lcd in rule.lcd), rule.id
        assert all(index.get(article, "").lower().startswith("article") for article in rule.article), rule.id


def test_rules_name_real_codes() -> None:
    for rule in all_coverage_rules():
        assert all(get_procedure(code) is not None for code in rule.codes), rule.id
        for prefix in rule.covered_dx:
            assert icd10_exists(prefix.rstrip(".")), (rule.id, prefix)


@pytest.mark.parametrize(
    ("code", "dx", "rule_id"),
    [
        ("92133", ["H52.13", "H40.1131"], "scodi_optic_nerve"),
        ("92133", ["H40.053"], "scodi_optic_nerve"),  # ocular hypertension
        ("92134", ["E11.3292"], "scodi_retina"),
        ("92134", ["H35.3211"], "scodi_retina"),
        ("92083", ["H02.831"], "visual_field"),  # dermatochalasis before blepharoplasty
        ("92250", ["E11.3293"], "fundus_photography"),
        ("92201", ["H33.011"], "extended_ophthalmoscopy_periphery"),
        ("92202", ["H40.1122"], "extended_ophthalmoscopy_posterior"),
        ("92025", ["H18.613"], "corneal_topography"),
        ("76514", ["H40.023"], "pachymetry_glaucoma"),
        ("76514", ["H18.513"], "pachymetry_corneal_disease"),
    ],
)
def test_covered_diagnoses(code: str, dx: list[str], rule_id: str) -> None:
    rule = dx_supports(code, dx, DOS)
    assert rule is not None and rule.id == rule_id


@pytest.mark.parametrize(
    ("code", "dx"),
    [
        ("92133", ["H52.13"]),
        ("92134", ["Z01.00"]),
        ("92025", ["H52.223"]),
        ("76514", ["H52.13"]),
        ("92014", ["H40.1131"]),
    ],
)
def test_unsupported_diagnoses(code: str, dx: list[str]) -> None:
    assert dx_supports(code, dx, DOS) is None


def test_frequency_and_dates() -> None:
    lifetime = next(rule for rule in coverage_rules_for("76514", DOS) if rule.id == "pachymetry_glaucoma")
    assert (lifetime.frequency_count, lifetime.frequency_days, lifetime.frequency_scope) == (
        1,
        None,
        "lifetime",
    )
    assert coverage_rules_for("92201", date(2019, 6, 1)) == []  # the code began on 2020-01-01
    assert coverage_rules_for("92201", DOS)[0].effective == date(2020, 1, 1)
    assert all(rule.source for rule in all_coverage_rules())
