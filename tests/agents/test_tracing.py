"""Tracing: off unless configured; when on, LangSmith would receive no note text or patient identifiers."""

import json

from langchain_core.messages import AIMessage, HumanMessage
from langsmith import get_tracing_context
from pydantic import SecretStr

from agents.tracing import REDACTED, make_tracing_client, redact_payload, tracing_enabled, tracing_scope
from billing.settings import Settings

NOTE = "CC: blurry vision for Quinby Testmarsh, DOB 1950-03-14. Assessment: nuclear cataract OU."


def test_the_redactor_removes_note_text_and_patient_identifiers() -> None:
    payload = {
        "messages": [[HumanMessage(NOTE), AIMessage("", tool_calls=[])]],
        "request": {
            "note": NOTE,
            "patient": {
                "first_name": "Quinby",
                "last_name": "Testmarsh",
                "id": "PAT-123",
                "member_id": "SYN9",
            },
            "payer_kind": "medicare",
            "patient_age": 74,
        },
        "suggestion": {
            "lines": [
                {"code": "92004", "modifiers": ["25"], "diagnosis_codes": ["H25.13"], "confidence": 0.9}
            ],
            "diagnoses": [
                {"code": "H25.13", "evidence": [{"text": "nuclear cataract OU", "start": 70, "end": 89}]}
            ],
        },
    }
    redacted = redact_payload(payload)
    text = json.dumps(redacted)
    for secret in (
        "blurry vision",
        "Quinby",
        "Testmarsh",
        "PAT-123",
        "SYN9",
        "1950-03-14",
        "nuclear cataract",
    ):
        assert secret not in text
    assert redacted["request"]["note"] == REDACTED
    assert redacted["request"]["payer_kind"] == "medicare"
    assert redacted["request"]["patient_age"] == 74
    line = redacted["suggestion"]["lines"][0]
    assert (line["code"], line["modifiers"], line["diagnosis_codes"]) == ("92004", ["25"], ["H25.13"])
    assert payload["request"]["note"] == NOTE  # the caller's payload is untouched


def test_tracing_is_off_unless_key_and_switch_are_both_set(settings: Settings) -> None:
    assert not tracing_enabled(settings)
    assert not tracing_enabled(settings.model_copy(update={"langsmith_tracing": True}))
    with tracing_scope(settings):
        assert get_tracing_context()["enabled"] is False


def test_a_configured_client_redacts_before_sending(settings: Settings) -> None:
    configured = settings.model_copy(
        update={
            "langsmith_tracing": True,
            "langsmith_api_key": SecretStr("lsv2-test-key"),
            "langsmith_endpoint": "http://127.0.0.1:9",  # a closed port: nothing is ever sent
        }
    )
    assert tracing_enabled(configured)
    client = make_tracing_client(configured, info={}, auto_batch_tracing=False)
    sent = json.dumps([client._hide_run_inputs({"note": NOTE}), client._hide_run_outputs({"text": NOTE})])
    assert "Quinby" not in sent and "blurry" not in sent
