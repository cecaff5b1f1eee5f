"""Medicare PFS pricing: locality arithmetic checked by hand, release by date of service, PC/TC and MPPR."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from billing.settings import Settings
from knowledge.rules.fees import PfsTables, PricedLine, import_pfs, load_pfs, mppr_adjusted

ALABAMA = "10112-00"  # GPCI 2024 Jul: work 1, PE 0.869, MP 0.575
SAN_FRANCISCO = "01112-05"  # GPCI 2024 Jul: work 1.088, PE 1.419, MP 0.445
JULY_2024 = date(2024, 9, 3)


@pytest.fixture(scope="module")
def pfs(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> PfsTables:
    return import_pfs(shared_data / "pfs", tmp_path_factory.mktemp("pfs"))


def test_hand_computed_allowed_amounts(pfs: PfsTables) -> None:
    # PPRRVU 2024 July, CF 33.2875. 92014: work 1.42, non-facility PE 2.31, MP 0.04.
    # Alabama: (1.42 x 1 + 2.31 x 0.869 + 0.04 x 0.575) x 33.2875
    #   = 3.45039 x 33.2875 = 114.8548... -> 114.85
    assert pfs.allowed("92014", locality=ALABAMA, on=JULY_2024) == Decimal("114.85")
    # San Francisco: (1.42 x 1.088 + 2.31 x 1.419 + 0.04 x 0.445) x 33.2875
    #   = 4.84065 x 33.2875 = 161.1331... -> 161.13
    assert pfs.allowed("92014", locality=SAN_FRANCISCO, on=JULY_2024) == Decimal("161.13")
    # 92133: work 0.40, non-facility PE 0.67, MP 0.02.
    # Alabama: (0.40 + 0.67 x 0.869 + 0.02 x 0.575) x 33.2875
    #   = 0.99373 x 33.2875 = 33.0787... -> 33.08
    assert pfs.allowed("92133", locality=ALABAMA, on=JULY_2024) == Decimal("33.08")
    # San Francisco: (0.40 x 1.088 + 0.67 x 1.419 + 0.02 x 0.445) x 33.2875
    #   = 1.39483 x 33.2875 = 46.4304... -> 46.43
    assert pfs.allowed("92133", locality=SAN_FRANCISCO, on=JULY_2024) == Decimal("46.43")


def test_facility_and_component_rows(pfs: PfsTables) -> None:
    # 92014 facility PE 0.77: (1.42 + 0.77 x 0.869 + 0.04 x 0.575) x 33.2875
    #   = 2.11213 x 33.2875 = 70.3075... -> 70.31
    assert pfs.allowed("92014", locality=ALABAMA, facility=True, on=JULY_2024) == Decimal("70.31")
    # 92133-26: work 0.40, PE 0.22, MP 0.01: (0.40 + 0.22 x 0.869 + 0.01 x 0.575) x 33.2875
    #   = 0.59693 x 33.2875 = 19.8703... -> 19.87
    assert pfs.allowed("92133", "26", locality=ALABAMA, on=JULY_2024) == Decimal("19.87")
    # 92133-TC: PE 0.45, MP 0.01: (0.45 x 0.869 + 0.01 x 0.575) x 33.2875
    #   = 0.3968 x 33.2875 = 13.2085 -> 13.21
    assert pfs.allowed("92133", "TC RT", locality=ALABAMA, on=JULY_2024) == Decimal("13.21")
    # A non-pricing modifier prices the global row.
    assert pfs.allowed("92133", "25", locality=ALABAMA, on=JULY_2024) == Decimal("33.08")


def test_release_in_force_on_the_date_of_service(pfs: PfsTables) -> None:
    # 2023 January release (CF 33.8872; 92014 PE 2.29), with the only imported GPCIs (2024 July):
    # (1.42 + 2.29 x 0.869 + 0.04 x 0.575) x 33.8872 = 3.43301 x 33.8872 = 116.3350... -> 116.34
    assert pfs.allowed("92014", locality=ALABAMA, on=date(2023, 5, 1)) == Decimal("116.34")
    assert (
        pfs.allowed("92014", locality=ALABAMA, on=date(2022, 12, 31)) is None
    )  # before any imported release
    assert pfs.indicators("92014", on=date(2023, 5, 1)).conv_factor == Decimal("33.8872")
    assert pfs.indicators("92014").conv_factor == Decimal("33.2875")


def test_unpaid_statuses_and_unknowns(pfs: PfsTables) -> None:
    assert pfs.allowed("92015", locality=ALABAMA) is None  # status N: refraction
    assert pfs.indicators("92015").status == "N" and pfs.indicators("92015").not_used_for_medicare
    assert pfs.allowed("V2020", locality=ALABAMA) is None  # status X
    assert pfs.allowed("12345", locality=ALABAMA) is None
    with pytest.raises(ValueError, match="unknown Medicare locality"):
        pfs.allowed("92014", locality="99999-99")


def test_indicators_and_localities(pfs: PfsTables) -> None:
    oct_nerve = pfs.indicators("92133")
    assert (oct_nerve.pctc, oct_nerve.mult_proc, oct_nerve.bilat_surg, oct_nerve.global_days) == (
        "1",
        "7",
        "2",
        "XXX",
    )
    localities = {locality.key: locality for locality in pfs.localities()}
    assert len(localities) == 109
    assert localities[SAN_FRANCISCO].gpci_pe == Decimal("1.419")
    assert "SAN MATEO" in localities[SAN_FRANCISCO].counties


def test_mppr_reduces_the_technical_share_of_all_but_the_highest(pfs: PfsTables) -> None:
    lines = [
        pfs.price("92133", locality=ALABAMA, on=JULY_2024),
        pfs.price("92083", locality=ALABAMA, on=JULY_2024),
        pfs.price("92134", "26", locality=ALABAMA, on=JULY_2024),
        pfs.price("92014", locality=ALABAMA, on=JULY_2024),
    ]
    adjusted = mppr_adjusted(lines)
    assert [line.code for line in adjusted] == ["92133", "92083", "92134", "92014"]
    # 92083 has the highest TC, paid in full: PE 1.10, MP 0.01,
    #   (1.10 x 0.869 + 0.01 x 0.575) x 33.2875 = 32.0112... -> 32.01
    assert adjusted[1].technical == Decimal("32.01") and adjusted[1].reduction == Decimal("0.00")
    # 92133's TC is 13.21: 20% of it, 2.642 -> 2.64, comes off the global 33.08.
    assert adjusted[0].reduction == Decimal("2.64") and adjusted[0].allowed == Decimal("30.44")
    assert adjusted[2] == lines[2]  # professional component: never reduced
    assert adjusted[3] == lines[3] and not lines[3].mppr  # an exam is not a diagnostic test


def test_mppr_with_one_test_changes_nothing() -> None:
    single = [PricedLine(code="92250", allowed=Decimal("30.79"), technical=Decimal("14.37"), mppr=True)]
    assert mppr_adjusted(single) == single


def test_load_pfs_needs_an_import_or_a_folder(settings: Settings, shared_data: Path) -> None:
    assert load_pfs(settings) is None
    configured = settings.model_copy(update={"pfs_dir": shared_data / "pfs"})
    assert load_pfs(configured).allowed("92014", locality=ALABAMA, on=JULY_2024) == Decimal("114.85")
    assert load_pfs(settings) is not None  # the import was stored under data_dir


def test_import_needs_rvu_and_gpci_files(tmp_path: Path) -> None:
    (tmp_path / "gpci_2024_jul.csv").write_text(
        "mac,locality,gpci_work,gpci_pe,gpci_mp\n10112,00,1,0.869,0.575\n"
    )
    with pytest.raises(ValueError, match="PPRRVU"):
        import_pfs(tmp_path, tmp_path / "out")
