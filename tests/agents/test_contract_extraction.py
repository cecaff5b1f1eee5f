"""Contract term extraction: the offline parser on the sample contracts, the LLM engine's evidence rule, loaders."""

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult

from agents.contracts.apply import apply_terms
from agents.contracts.engines import make_term_extractor
from agents.contracts.extract_llm import LLMTermExtractor
from agents.contracts.extract_offline import OfflineTermExtractor
from agents.contracts.fee_schedule_import import FeeScheduleImportError, read_fee_schedule
from agents.contracts.loaders import ContractSourceError, load_contract_text
from billing.contracts import Contract
from billing.settings import Settings
from evals.contracts import SAMPLES_DIR, score_extraction
from tests.support.openai_server import recorded_openai_server, tool_call_reply

CONTRACT = (
    "PROVIDER AGREEMENT\n\n"
    "2. Compensation. Payer shall reimburse Provider at one hundred ten percent (110%) of the 2024 Medicare "
    "Physician Fee Schedule, locality 02302-01. Payment is the lesser of billed charges or that rate.\n\n"
    "3. Claims. Claims must be filed within ninety (90) days of the date of service. Provider may appeal "
    "within 180 days of the remittance.\n\n"
    "4. Reductions. The second and subsequent surgical procedures are reduced by 50%. "
    "Prior authorization is required for 92072 and 92313."
)


def assert_cited(text: str, terms: list[Any]) -> None:
    assert terms
    for term in terms:
        assert term.sentence and text[term.start : term.end] == term.sentence


def test_the_offline_parser_reads_basis_and_timely_filing_on_90_percent_of_the_samples() -> None:
    report = score_extraction(OfflineTermExtractor(), SAMPLES_DIR)
    assert len(report.samples) >= 10
    assert report.accuracy >= 0.9, [s for s in report.samples if not s.correct]
    assert report.all_terms_cite_their_sentence
    for path in sorted(SAMPLES_DIR.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        assert_cited(text, OfflineTermExtractor().extract(text).terms)


def test_each_clause_shape_becomes_a_term_citing_its_sentence() -> None:
    extraction = OfflineTermExtractor().extract(CONTRACT)
    values = {term.term: term.value for term in extraction.terms}
    assert values["basis"] == "percent_of_medicare"
    assert values["percent"] == 110
    assert values["medicare.year"] == 2024
    assert values["medicare.locality"] == "02302-01"
    assert values["lesser_of_billed"] is True
    assert values["timely_filing_days"] == 90
    assert values["appeal_days"] == 180
    assert values["multiple_procedure"] == {"schedule": [100, 50]}
    assert values["prior_auth_codes"] == ["92072", "92313"]
    filing = extraction.first("timely_filing_days")
    assert filing is not None and filing.sentence.startswith("Claims must be filed")
    assert_cited(CONTRACT, extraction.terms)


def test_approved_terms_set_the_contract_and_keep_their_sentences_as_evidence() -> None:
    base = Contract(id="ctr-1", practice_id="prac-1", payer_id="pay-1", effective=date(2024, 1, 1))
    extraction = OfflineTermExtractor().extract(CONTRACT)
    contract = apply_terms(base, extraction.terms)
    assert (contract.basis, contract.percent, contract.timely_filing_days) == (
        "percent_of_medicare",
        110.0,
        90,
    )
    assert contract.medicare.year == 2024 and contract.medicare.locality == "02302-01"
    assert contract.multiple_procedure is not None and contract.multiple_procedure.schedule[1] == 50
    assert (
        contract.evidence["percent"].startswith("2. Compensation.") or "110%" in contract.evidence["percent"]
    )


class ScriptedChatModel(FakeMessagesListChatModel):
    """Answers the scripted messages in turn (raising any exception in the script)."""

    script: list[Any] = []

    def bind_tools(self, tools: Any, **kwargs: Any) -> "ScriptedChatModel":
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        self.responses = [item]
        self.i = 0
        return super()._generate(messages, *args, **kwargs)


def terms_message(terms: list[dict[str, str]]) -> AIMessage:
    return AIMessage(
        content="", tool_calls=[{"name": "ContractTermsAnswer", "args": {"terms": terms}, "id": "c1"}]
    )


ANSWER = [
    {"term": "percent", "value": "110", "quote": "one hundred ten percent (110%)"},
    {
        "term": "basis",
        "value": "percent_of_medicare",
        "quote": "of the 2024 Medicare  physician fee schedule",
    },
    {"term": "timely_filing_days", "value": "90 days", "quote": "filed within ninety (90) days"},
    {"term": "appeal_days", "value": "30", "quote": "appeals are due in thirty days"},  # not in the text
]


def test_the_llm_engine_keeps_only_terms_whose_quote_is_in_the_contract() -> None:
    model = ScriptedChatModel(responses=[], script=[terms_message(ANSWER)])
    extraction = LLMTermExtractor(model).extract(CONTRACT)
    values = {term.term: term.value for term in extraction.terms}
    assert values == {"percent": 110, "basis": "percent_of_medicare", "timely_filing_days": 90}
    assert any("appeal_days" in note for note in extraction.notes)
    assert_cited(CONTRACT, extraction.terms)
    assert extraction.engine == "llm"


def test_a_failing_model_falls_back_to_the_offline_parser() -> None:
    model = ScriptedChatModel(responses=[], script=[TimeoutError("slow"), TimeoutError("slow")])
    extraction = LLMTermExtractor(model).extract(CONTRACT)
    assert extraction.engine == "offline"
    assert extraction.first("timely_filing_days") is not None
    assert extraction.notes


def test_the_llm_engine_over_http_against_a_recorded_server(settings: Settings) -> None:
    with recorded_openai_server([tool_call_reply("ContractTermsAnswer", {"terms": ANSWER[:3]})]) as server:
        live = settings.model_copy(update={"llm_base_url": server.base_url, "engine": "llm"})
        extractor = make_term_extractor(live)
        assert isinstance(extractor, LLMTermExtractor)
        extraction = extractor.extract(CONTRACT)
    (body,) = server.requests
    assert body["tools"][0]["function"]["name"] == "ContractTermsAnswer"
    assert any(CONTRACT in (message.get("content") or "") for message in body["messages"])
    assert {term.term for term in extraction.terms} == {"percent", "basis", "timely_filing_days"}
    assert_cited(CONTRACT, extraction.terms)


def test_text_and_pdf_contracts_load_and_the_pdf_terms_are_extracted(tmp_path: Path) -> None:
    text_file = tmp_path / "contract.txt"
    text_file.write_text(CONTRACT, encoding="utf-8")
    assert load_contract_text(text_file) == CONTRACT
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for paragraph in CONTRACT.split("\n\n"):
        pdf.multi_cell(0, 6, paragraph)
        pdf.ln(6)
    pdf.add_page()
    pdf.multi_cell(0, 6, "5. Term. This Agreement renews each year unless either party gives notice.")
    pdf_file = tmp_path / "contract.pdf"
    pdf.output(str(pdf_file))

    text = load_contract_text(pdf_file)
    assert "5. Term." in text and "ninety (90) days" in text  # both pages, through PyPDFLoader
    extraction = OfflineTermExtractor().extract(text)
    values = {term.term: term.value for term in extraction.terms}
    assert values["timely_filing_days"] == 90
    assert values["percent"] == 110 and values["basis"] == "percent_of_medicare"
    assert_cited(text, extraction.terms)

    blank = FPDF()
    blank.add_page()
    blank.output(str(tmp_path / "scan.pdf"))
    with pytest.raises(ContractSourceError, match="no text layer"):
        load_contract_text(tmp_path / "scan.pdf")
    (tmp_path / "broken.pdf").write_bytes(b"not a pdf at all")
    with pytest.raises(ContractSourceError, match="not a readable PDF"):
        load_contract_text(tmp_path / "broken.pdf")


def test_fee_schedules_import_from_csv() -> None:
    csv_text = "CPT Code,Modifier,Contracted Rate\n92014,,95.00\n92083,TC,$30.10\nnot-a-code,,1\n92134,,\n"
    imported = read_fee_schedule(csv_text.encode(), "fees.csv")
    assert [(e.code, e.modifier, str(e.amount)) for e in imported.entries] == [
        ("92014", "", "95.00"),
        ("92083", "TC", "30.10"),
    ]
    assert len(imported.skipped) == 2
    with pytest.raises(FeeScheduleImportError, match="header"):
        read_fee_schedule(b"a,b\n1,2\n", "fees.csv")


def test_fee_schedules_import_from_an_xlsx_workbook() -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    cover = workbook.active
    cover.title = "Cover"
    cover.append(["Synthetic Health Plan fee schedule"])
    sheet = workbook.create_sheet("Fees")
    sheet.append(["Synthetic Health Plan: professional fees"])
    sheet.append(["Effective 2025-01-01"])
    sheet.append(["CPT", "Mod", "Fee", "Notes"])
    sheet.append([92014, None, 95, "typed as numbers"])
    sheet.append(["92083-TC", None, 30.1, "inline modifier"])
    sheet.append(["92134", "", "=48+0.5", "a formula never calculated by Excel has no saved value"])
    sheet.append(["V2020", None, "$12.25", None])
    buffer = io.BytesIO()
    workbook.save(buffer)

    imported = read_fee_schedule(buffer.getvalue(), "Fees 2025.xlsx")
    assert [(e.code, e.modifier, e.model_dump(mode="json")["amount"]) for e in imported.entries] == [
        ("92014", "", "95.00"),
        ("92083", "TC", "30.10"),
        ("V2020", "", "12.25"),
    ]
    assert imported.skipped == ["row 4: 92134 has no amount"]
    with pytest.raises(FeeScheduleImportError, match="not a readable XLSX"):
        read_fee_schedule(b"PK\x03\x04", "fees.xlsx")
    empty = io.BytesIO()
    Workbook().save(empty)
    with pytest.raises(FeeScheduleImportError, match="no sheet has a header row"):
        read_fee_schedule(empty.getvalue(), "fees.xlsx")
