"""NCCI PTP and MUE tables: CMS imports (shared extracts, raw layouts), curated defaults, loading."""

import time
from datetime import date
from pathlib import Path

import pytest

from billing.settings import Settings
from knowledge.base import forget_knowledge, load_knowledge
from knowledge.data import read_yaml
from knowledge.official_files import knowledge_store, open_read_only
from knowledge.rules.ncci import NCCI_DB, NcciTables, curated_ncci, import_ncci, load_ncci

DOS = date(2024, 8, 15)


@pytest.fixture(scope="module")
def imported_dir(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("ncci")
    import_ncci(shared_data / "ncci", dest)
    return dest


@pytest.fixture(scope="module")
def cms(imported_dir: Path) -> NcciTables:
    return NcciTables(open_read_only(imported_dir / NCCI_DB))


def test_oct_pair_is_never_allowed_together(cms: NcciTables) -> None:
    for first, second in (("92133", "92134"), ("92134", "92133")):
        edit = cms.ptp(first, second, DOS)
        assert edit is not None and edit.modifier_indicator == 0
        assert (edit.column_1, edit.column_2) == ("92133", "92134")
    assert cms.source == "CMS import 2024Q3"


def test_photos_with_oct_allow_a_modifier(cms: NcciTables) -> None:
    edit = cms.ptp("92250", "92134", DOS)
    assert edit.modifier_indicator == 1 and edit.column_2 == "92250"
    assert cms.ptp("92014", "92015", DOS) is None  # no Medicare edit for refraction


def test_mue_values(cms: NcciTables) -> None:
    assert cms.mue("92015", DOS).units == 0
    assert (cms.mue("68761", DOS).units, cms.mue("68761", DOS).mai) == (4, 2)
    assert (cms.mue("65222", DOS).units, cms.mue("65222", DOS).mai) == (1, 3)
    assert cms.mue("99214", DOS).units == 2
    assert cms.mue("ZZZZZ", DOS) is None
    assert cms.counts()["mue"] > 14000


def test_edit_in_force_follows_deletion_dates(cms: NcciTables) -> None:
    # 99213/92012: one row deleted 2019-12-31, a replacement still active; an older reverse row void in 2000.
    before = cms.ptp("92012", "99213", date(2019, 6, 1))
    assert before.deletion == date(2019, 12, 31) and before.modifier_indicator == 0
    assert cms.ptp("92012", "99213", DOS).deletion is None
    assert cms.ptp("92012", "99213", date(1999, 6, 1)) is None  # only the indicator-9 (void) row applied
    assert cms.ptp("92014", "92020", DOS) is None  # gonioscopy unbundled since 1998


def test_curated_file_agrees_with_the_cms_import(cms: NcciTables) -> None:
    curated = read_yaml("ncci_eye.yaml")
    on = curated["release_effective"]
    for edit in curated["ptp"]:
        found = cms.ptp(edit["column_1"], edit["column_2"], on)
        assert found is not None, edit
        assert (found.column_1, found.column_2, found.modifier_indicator, found.rationale) == (
            edit["column_1"],
            edit["column_2"],
            edit["modifier_indicator"],
            edit["rationale"],
        )
    for limit in curated["mue"]:
        found = cms.mue(limit["code"], on)
        assert (found.units, found.mai, found.rationale) == (limit["units"], limit["mai"], limit["rationale"])
    assert len(curated["ptp"]) > 100


def test_curated_tables_answer_without_an_import() -> None:
    tables = curated_ncci()
    assert tables.source == "curated"
    assert tables.ptp("92134", "92133", DOS).modifier_indicator == 0
    assert tables.mue("92015", DOS).units == 0
    assert tables.ptp("92133", "92134", DOS).source.startswith("CMS NCCI practitioner PTP 2024Q3")


RAW_PTP = (
    "CPT codes, descriptions and other data only are copyright American Medical Association.\n"
    "Synthetic rows in the raw CMS PTP layout (values invented for this test).\n"
    "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date *=no data\t"
    "Modifier 0=not allowed 1=allowed 9=not applicable\tPTP Edit Rationale\n"
    "92133\t92134\t \t20100101\t*\t0\tCPT Manual or CMS manual coding instruction\n"
    "92250\t92201\t \t20200101\t20230401\t0\tMutually exclusive procedures\n"
    "92250\t92201\t \t20230401\t*\t1\tMutually exclusive procedures\n"
)
RAW_MUE = (
    "Synthetic rows in the raw CMS practitioner MUE layout.\n"
    '"HCPCS/CPT Code","Practitioner Services MUE Values","MUE Adjudication Indicator","MUE Rationale"\n'
    '"92014","1","2 Date of Service Edit: Policy","Code Descriptor / CPT Instruction"\n'
    '"68761","4","2 Date of Service Edit: Policy","Anatomic Consideration"\n'
)
RAW_DME_MUE = (
    '"HCPCS/CPT Code","DME Supplier Services MUE Values","MUE Adjudication Indicator","MUE Rationale"\n'
    '"V2020","9","1 Line Edit","Nature of Equipment"\n'
)


def test_raw_cms_layouts_are_detected_by_header(tmp_path: Path) -> None:
    src = tmp_path / "cms"
    src.mkdir()
    (src / "ccipra_v301r0_2024q1.txt").write_text(RAW_PTP)
    (src / "mue_practitioner.csv").write_text(RAW_MUE)
    (src / "mue_dme.csv").write_text(RAW_DME_MUE)
    tables = import_ncci(src, tmp_path / "out")
    assert tables.source == "CMS import 2024Q1"
    oct_pair = tables.ptp("92134", "92133", date(2024, 1, 2))
    assert oct_pair.effective == date(2010, 1, 1) and oct_pair.deletion is None
    assert tables.ptp("92133", "92134", date(2009, 12, 31)) is None  # before its effective date
    assert tables.ptp("92201", "92250", date(2022, 5, 1)).modifier_indicator == 0
    assert tables.ptp("92201", "92250", date(2024, 5, 1)).modifier_indicator == 1
    assert (tables.mue("68761", DOS).units, tables.mue("68761", DOS).mai) == (4, 2)
    assert tables.mue("V2020", DOS) is None  # the DME table is not a practitioner limit


def test_import_rejects_a_folder_without_ncci_tables(tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="no NCCI"):
        import_ncci(tmp_path, tmp_path / "out")


def test_load_knowledge_uses_curated_defaults_when_nothing_is_imported(settings: Settings) -> None:
    started = time.perf_counter()
    knowledge = load_knowledge(settings)
    assert time.perf_counter() - started < 1.0
    assert knowledge.ncci.source == "curated" and knowledge.pfs is None
    assert load_knowledge(settings) is knowledge


def test_load_knowledge_imports_configured_folders_once(
    settings: Settings, shared_data: Path, tmp_path: Path
) -> None:
    ncci_dir = tmp_path / "ncci_2024q1"
    ncci_dir.mkdir()
    (ncci_dir / "ptp.txt").write_text(RAW_PTP)
    configured = settings.model_copy(update={"ncci_dir": ncci_dir, "pfs_dir": shared_data / "pfs"})
    first = load_knowledge(configured)
    assert first.ncci.source == "CMS import 2024Q1" and first.pfs is not None
    assert (knowledge_store(configured) / NCCI_DB).exists()
    forget_knowledge(configured)
    # Later runs read the stored import: fast, even though the folders are still configured.
    started = time.perf_counter()
    again = load_knowledge(configured)
    assert time.perf_counter() - started < 1.0
    assert again is not first and again.ncci.ptp("92133", "92134", DOS).modifier_indicator == 0
    assert load_ncci(configured).source == "CMS import 2024Q1"
    forget_knowledge(configured)
