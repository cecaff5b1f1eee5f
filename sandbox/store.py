"""Loading a SyntheticDataset into the sandbox database (bulk inserts), and checking or clearing it."""

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, TypeAdapter
from sqlalchemy import Connection, Engine, delete, func, insert, select

from billing.charges import Charge
from billing.claims import Claim
from billing.contracts import FeeScheduleEntry
from billing.encounters import Encounter
from sandbox.dataset import RemittanceFile, SyntheticDataset
from sandbox.db import create_schema, meta, metadata, resources, user_practices

Row = dict[str, Any]
_FEE_SCHEDULE = TypeAdapter(list[FeeScheduleEntry])


def _row(kind: str, id: str, payload: str, **columns: Any) -> Row:
    row: Row = dict.fromkeys(
        ("practice_id", "patient_id", "encounter_id", "claim_id", "payer_id", "status", "on_date")
    )
    row.update(columns, kind=kind, id=id, payload=payload)
    return row


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def resource_row(kind: str, model: BaseModel, **columns: Any) -> Row:
    """The resources row for one model: its JSON payload plus the filter columns given."""
    return _row(kind, str(columns.pop("id", getattr(model, "id", ""))), model.model_dump_json(), **columns)


def _rows(dataset: SyntheticDataset) -> Iterable[tuple[str, list[Row]]]:
    claim_practice = {claim.id: claim.practice_id for claim in dataset.claims}
    builders: list[tuple[str, Iterable[Any], Callable[[Any], Row]]] = [
        ("practice", dataset.practices, lambda m: resource_row("practice", m, practice_id=m.id)),
        ("provider", dataset.providers, lambda m: resource_row("provider", m, practice_id=m.practice_id)),
        ("payer", dataset.payers, lambda m: resource_row("payer", m, payer_id=m.id)),
        ("patient", dataset.patients, lambda m: resource_row("patient", m, practice_id=m.practice_id)),
        (
            "coverage",
            dataset.coverages,
            lambda m: resource_row(
                "coverage", m, patient_id=m.patient_id, payer_id=m.payer_id, status=str(m.priority)
            ),
        ),
        ("encounter", dataset.encounters, encounter_row),
        ("note", dataset.notes, lambda m: resource_row("note", m, encounter_id=m.encounter_id)),
        (
            "gold",
            dataset.intended,
            lambda m: resource_row("gold", m, id=m.encounter_id, encounter_id=m.encounter_id),
        ),
        ("charge", dataset.charges, charge_row),
        ("claim", dataset.claims, claim_row),
        (
            "outcome",
            dataset.outcomes,
            lambda m: resource_row("outcome", m, id=f"{m.claim_id}:{m.line_number:04d}", claim_id=m.claim_id),
        ),
        (
            "variance",
            dataset.seeded_variances,
            lambda m: resource_row(
                "variance", m, id=f"{m.remittance_id}:{m.claim_id}:{m.line_number:04d}", claim_id=m.claim_id
            ),
        ),
        (
            "appeal",
            dataset.appeals,
            lambda m: resource_row(
                "appeal", m, claim_id=m.claim_id, practice_id=claim_practice.get(m.claim_id)
            ),
        ),
        (
            "contract",
            dataset.contracts,
            lambda m: resource_row("contract", m, practice_id=m.practice_id, payer_id=m.payer_id),
        ),
        ("user", dataset.users, lambda m: resource_row("user", m)),
        (
            "appointment",
            dataset.appointments,
            lambda m: resource_row(
                "appointment",
                m,
                practice_id=m.practice_id,
                patient_id=m.patient_id,
                on_date=_iso(m.scheduled_for),
            ),
        ),
    ]
    for kind, models, build in builders:
        yield kind, [build(model) for model in models]
    pairs = [remittance_rows(remittance) for remittance in dataset.remittances]
    yield "remittance", [summary for summary, _ in pairs]
    yield "remittance_x12", [x12 for _, x12 in pairs]
    yield (
        "fee_schedule",
        [
            _row(
                "fee_schedule",
                practice_id,
                _FEE_SCHEDULE.dump_json(entries).decode(),
                practice_id=practice_id,
            )
            for practice_id, entries in dataset.fee_schedules.items()
        ],
    )


def encounter_row(encounter: Encounter) -> Row:
    return resource_row(
        "encounter",
        encounter,
        practice_id=encounter.practice_id,
        patient_id=encounter.patient_id,
        on_date=_iso(encounter.date_of_service),
    )


def charge_row(charge: Charge) -> Row:
    return resource_row(
        "charge",
        charge,
        practice_id=charge.practice_id,
        patient_id=charge.patient_id,
        encounter_id=charge.encounter_id,
        status=str(charge.status),
    )


def claim_row(claim: Claim) -> Row:
    return resource_row(
        "claim",
        claim,
        practice_id=claim.practice_id,
        patient_id=claim.patient_id,
        encounter_id=claim.encounter_id,
        payer_id=claim.payer_id,
        status=str(claim.status),
        on_date=_iso(claim.date_of_service),
    )


def remittance_rows(remittance: RemittanceFile) -> tuple[Row, Row]:
    """The listed summary (no X12) and the 835 text, kept apart so lists never read the large text."""
    columns = {"practice_id": remittance.practice_id, "payer_id": remittance.payer_id}
    summary = _row(
        "remittance",
        remittance.id,
        remittance.model_dump_json(exclude={"x12"}),
        on_date=_iso(remittance.received_on),
        **columns,
    )
    return summary, _row("remittance_x12", remittance.id, remittance.x12, **columns)


def load_dataset(engine: Engine, dataset: SyntheticDataset) -> dict[str, int]:
    """Insert the whole dataset in one transaction (executemany per kind); returns the row count per kind.

    The database must not hold these ids yet: call `reset` first to replace a dataset.
    """
    create_schema(engine)
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        for kind, rows in _rows(dataset):
            if rows:
                conn.execute(insert(resources), rows)
            counts[kind] = len(rows)
        links = [
            {"user_id": user.id, "practice_id": practice_id}
            for user in dataset.users
            for practice_id in user.practice_ids
        ]
        if links:
            conn.execute(insert(user_practices), links)
        conn.execute(delete(meta).where(meta.c.key.in_(["seed", "generated_through"])))
        conn.execute(
            insert(meta),
            [
                {"key": "seed", "value": str(dataset.seed)},
                {"key": "generated_through", "value": dataset.generated_through.isoformat()},
            ],
        )
    counts.pop("remittance_x12", None)
    return counts


def is_seeded(engine: Engine) -> bool:
    """True when the database holds at least one practice."""
    create_schema(engine)
    with engine.connect() as conn:
        return bool(
            conn.scalar(select(func.count()).select_from(resources).where(resources.c.kind == "practice"))
        )


def reset(engine: Engine) -> None:
    """Empty every sandbox table (data, idempotency keys, webhooks) and leave the schema in place."""
    create_schema(engine)
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(delete(table))


def dataset_info(conn: Connection) -> dict[str, str]:
    """The seed and generation date recorded by load_dataset."""
    return {key: value for key, value in conn.execute(select(meta.c.key, meta.c.value))}
