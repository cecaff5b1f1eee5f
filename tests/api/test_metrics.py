"""`/metrics` (Prometheus text) and `/dashboard/metrics` (JSON) computed from stored events and decisions."""

import json
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from api.reviews import Decision, ReviewService
from api.storage.models import ReviewItemRecord, utc_now
from billing.practice import Role
from billing.settings import Settings
from tests.api.conftest import Signer
from tests.support.reviews import RecordingRuntime, draft, review_client
from tests.support.security import add_user, bearer


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_prometheus_and_dashboard_metrics_follow_the_decisions(settings: Settings, signed: Signer) -> None:
    with review_client(settings, RecordingRuntime()) as client:
        admin = add_user(client, "admin", [Role.ADMIN], ["PRA-1"])
        reviews: ReviewService = client.app.state.reviews
        for number in range(3):
            body = json.dumps(
                {
                    "id": f"evt_{number}",
                    "type": "note.finalized",
                    "practice_id": "PRA-1",
                    "occurred_at": "2025-06-09T17:00:00Z",
                    "data": {"encounter_id": f"ENC-{number}"},
                }
            ).encode()
            assert client.post("/webhooks/crystalpm", content=body, headers=signed(body)).status_code == 202
        items = [reviews.open_item(draft(f"encounter:ENC-{number}")) for number in range(4)]
        with client.app.state.sessions() as db:
            # Items opened 60, 120 and 180 s before their decision.
            for minutes, item_id in enumerate(items[:3], start=1):
                db.execute(
                    update(ReviewItemRecord)
                    .where(ReviewItemRecord.id == item_id)
                    .values(created_at=utc_now() - timedelta(seconds=60 * minutes))
                )
            db.commit()
        reviews.decide(items[0], Decision(decision="approve"), decided_by="USR-1")
        edited = {
            "diagnosis_codes": ["H40.1131"],
            "lines": [{"code": "92012", "diagnosis_codes": ["H40.1131"]}],
        }
        reviews.decide(items[1], Decision(decision="edit", edited=edited), decided_by="USR-1")
        reviews.decide(items[2], Decision(decision="reject", reason="no exam"), decided_by="USR-1")

        text = client.get("/metrics", headers=bearer(admin.api_key))
        assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
        found = samples(text.text)
        assert found[("fovea_events_received_total", (("type", "note.finalized"),))] == 3
        assert found[("fovea_events", (("status", "received"),))] == 3
        assert found[("fovea_review_items", (("status", "pending"), ("workflow", "charge_coding")))] == 1
        assert found[("fovea_review_items", (("status", "decided"), ("workflow", "charge_coding")))] == 3
        approvals = (("decided_by", "person"), ("decision", "approve"), ("workflow", "charge_coding"))
        assert found[("fovea_review_decisions_total", approvals)] == 1
        assert (
            round(found[("fovea_first_pass_acceptance_ratio", (("workflow", "charge_coding"),))], 4) == 0.3333
        )
        assert found[("fovea_review_time_to_decision_seconds_count", ())] == 3
        assert found[("fovea_review_time_to_decision_seconds_bucket", (("le", "60.0"),))] == 0
        assert found[("fovea_review_time_to_decision_seconds_bucket", (("le", "300.0"),))] == 3

        dashboard = client.get("/dashboard/metrics", headers=bearer(admin.api_key)).json()
        (coding,) = dashboard["acceptance"]
        assert (coding["decided"], coding["approved"], coding["edited"], coding["rejected"]) == (3, 1, 1, 1)
        families = {(row["kind"], row["family"]): row for row in coding["by_code_family"]}
        # 92012 was kept by the approval and the edit; 92133 only by the approval.
        assert (
            families[("procedure", "920")]["accepted"] == 2
            and families[("procedure", "921")]["accepted"] == 1
        )
        assert 119 <= dashboard["median_time_to_decision_seconds"] <= 140
        assert {"code": "92133", "added": 0, "removed": 1} in dashboard["edits_by_code"]
        saved = dashboard["time_saved"]
        assert saved["label"] == "assumption" and saved["by_feature"][0]["manual_baseline_minutes"] == 4.0
        # Three reviews at a median of about 2 minutes against a 4-minute baseline: about 6 minutes saved.
        assert 0.08 <= saved["hours_saved"] <= 0.11
        assert dashboard["denial_categories"] == []
