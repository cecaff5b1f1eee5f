"""A small hand-made synthetic practice (two practices, a few patients and visits) for sandbox tests.

Everything here is invented: names, NPIs, member ids and the 835 text. Tests derive their expectations
from the dataset (e.g. which encounters have no charge), so the data can grow without breaking them.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

from billing.charges import Charge, ChargeLine, ChargeStatus
from billing.claims import Claim, ClaimLine, ClaimStatus, ClaimStatusEvent
from billing.contracts import Contract, FeeScheduleEntry
from billing.encounters import ClinicalNote, Encounter
from billing.practice import Coverage, Patient, Payer, PlanKind, Practice, Provider, Role, Sex, User
from sandbox.dataset import (
    Appeal,
    Appointment,
    IntendedCoding,
    LineOutcome,
    RemittanceFile,
    SeededVariance,
    SyntheticDataset,
)

FEES = {"92014": "165.00", "92012": "110.00", "92134": "60.00", "92015": "45.00", "99213": "120.00"}
FEE_SCHEDULE = [FeeScheduleEntry(code=code, amount=Decimal(amount)) for code, amount in FEES.items()]

# encounter, practice, patient, provider, date of service, codes, diagnoses, charge status ("-": none), reason
VISITS = """
ENC-001 PRA-1 PAT-001 PRV-1 2025-01-08 92014,92134 H40.1131 posted glaucoma follow-up
ENC-002 PRA-1 PAT-002 PRV-1 2025-02-03 92014 E11.9 posted diabetic eye exam
ENC-003 PRA-1 PAT-003 PRV-2 2025-03-17 92012 H10.33 posted red eye
ENC-004 PRA-1 PAT-004 PRV-2 2025-04-02 92012 H04.123 posted dry eye
ENC-005 PRA-1 PAT-005 PRV-1 2025-05-12 92014 H43.393 void flashes and floaters
ENC-006 PRA-1 PAT-001 PRV-1 2025-06-09 92012,92134 H40.1131 - glaucoma follow-up
ENC-007 PRA-1 PAT-002 PRV-2 2025-06-20 92014 E11.9 - blurred vision
ENC-008 PRA-1 PAT-003 PRV-1 2025-07-01 92014,92015 H52.13 - routine vision
ENC-101 PRA-2 PAT-101 PRV-3 2025-02-11 92014 H25.13 posted cataract evaluation
ENC-102 PRA-2 PAT-102 PRV-3 2025-06-30 92012 H10.13 - allergic conjunctivitis
"""

SYNTHETIC_835 = (
    "ISA*00*          *00*          *ZZ*SYNTHPAYER     *ZZ*SYNTHPRACTICE  *250301*1200*^*00501*"
    "000000001*0*T*:~"
    "GS*HP*SYNTHPAYER*SYNTHPRACTICE*20250301*1200*1*X*005010X221A1~ST*835*0001~"
    "BPR*I*165.00*C*ACH*CCP*01*999999999*DA*123456*1234567890**01*999999999*DA*654321*20250301~"
    "TRN*1*SYNTH0001*1234567890~N1*PR*SYNTHETIC COMMERCIAL PLAN~N1*PE*LAKESIDE EYE CARE*XX*1999999984~"
    "CLP*CLM-001*1*225.00*165.00**12*PCN001~SVC*HC:92014*165.00*125.00**1~SVC*HC:92134*60.00*40.00**1~"
    "CLP*CLM-002*4*165.00*0.00**12*PCN002~SVC*HC:92014*165.00*0.00**1~CAS*CO*50*165.00~"
    "SE*10*0001~GE*1*1~IEA*1*000000001~"
)


def _patients() -> list[Patient]:
    people = [
        ("PAT-001", "PRA-1", "Avery", "Testwood", date(1950, 3, 14), Sex.F),
        ("PAT-002", "PRA-1", "Blake", "Samplefield", date(1962, 7, 2), Sex.M),
        ("PAT-003", "PRA-1", "Casey", "Mockridge", date(1988, 11, 23), Sex.U),
        ("PAT-004", "PRA-1", "Dana", "Fauxley", date(1975, 1, 30), Sex.F),
        ("PAT-005", "PRA-1", "Emery", "Placeholm", date(1944, 9, 9), Sex.M),
        ("PAT-101", "PRA-2", "Finley", "Synthby", date(1949, 5, 5), Sex.F),
        ("PAT-102", "PRA-2", "Gray", "Inventon", date(2001, 12, 1), Sex.M),
    ]
    return [
        Patient(id=i, practice_id=p, first_name=f, last_name=last, birth_date=b, sex=s, state="OH")
        for i, p, f, last, b, s in people
    ]


def _coverages(patients: list[Patient]) -> list[Coverage]:
    coverages = []
    for patient in patients:
        medicare = patient.age_on(date(2025, 1, 1)) >= 65
        coverages.append(
            Coverage(
                id=f"COV-{patient.id}-1",
                patient_id=patient.id,
                payer_id="PAY-MCR" if medicare else "PAY-COM",
                plan_name="Medicare Part B" if medicare else "Synthetic Commercial PPO",
                plan_kind=PlanKind.MEDICARE if medicare else PlanKind.COMMERCIAL,
                member_id=f"SYN{patient.id[-3:]}A",
                priority=1,
                copay=Decimal("0.00") if medicare else Decimal("25.00"),
            )
        )
        coverages.append(
            Coverage(
                id=f"COV-{patient.id}-2",
                patient_id=patient.id,
                payer_id="PAY-VIS",
                plan_name="Synthetic Vision Plan",
                plan_kind=PlanKind.VISION,
                member_id=f"VIS{patient.id[-3:]}",
                priority=2,
            )
        )
    return coverages


def small_dataset() -> SyntheticDataset:
    """Two practices, seven patients, ten visits; five are unbilled (four have no charge, one a void one)."""
    patients = _patients()
    coverages = _coverages(patients)
    primary = {c.patient_id: c for c in coverages if c.priority == 1}
    encounters, notes, intended, charges, claims = [], [], [], [], []
    for line in VISITS.strip().splitlines():
        enc_id, practice_id, patient_id, provider_id, day, code_list, dx_list, status, reason = line.split(
            maxsplit=8
        )
        dos, codes, dx = date.fromisoformat(day), code_list.split(","), dx_list.split(",")
        charge_status = None if status == "-" else ChargeStatus(status)
        coverage = primary[patient_id]
        encounters.append(
            Encounter(
                id=enc_id,
                practice_id=practice_id,
                patient_id=patient_id,
                provider_id=provider_id,
                date_of_service=dos,
                visit_reason=reason,
                coverage_id=coverage.id,
                appointment_type="medical",
            )
        )
        text = f"CC: {reason}.\nAssessment: {dx[0]} noted both eyes.\nPlan: return in 6 months."
        notes.append(
            ClinicalNote(
                id=f"NOTE-{enc_id[4:]}",
                encounter_id=enc_id,
                text=text,
                finalized=True,
                finalized_at=datetime(dos.year, dos.month, dos.day, 17, tzinfo=UTC),
                author_provider_id=provider_id,
            )
        )
        lines = [ChargeLine(code=code, diagnosis_pointers=[1], fee=Decimal(FEES[code])) for code in codes]
        intended.append(
            IntendedCoding(
                encounter_id=enc_id, scenario=reason.replace(" ", "_"), diagnosis_codes=dx, lines=lines
            )
        )
        if charge_status is None:
            continue
        charges.append(
            Charge(
                id=f"CHG-{enc_id[4:]}",
                practice_id=practice_id,
                encounter_id=enc_id,
                patient_id=patient_id,
                provider_id=provider_id,
                diagnosis_codes=dx,
                lines=lines,
                status=charge_status,
                source="historical",
            )
        )
        if charge_status is ChargeStatus.POSTED:
            submitted_at = datetime(dos.year, dos.month, dos.day, 18, tzinfo=UTC)
            claims.append(
                Claim(
                    id=f"CLM-{enc_id[4:]}",
                    practice_id=practice_id,
                    patient_id=patient_id,
                    encounter_id=enc_id,
                    provider_id=provider_id,
                    payer_id=coverage.payer_id,
                    coverage_id=coverage.id,
                    date_of_service=dos,
                    diagnosis_codes=dx,
                    lines=[
                        ClaimLine(
                            line_number=n,
                            code=cl.code,
                            diagnosis_pointers=[1],
                            charge=cl.fee,
                            date_of_service=dos,
                        )
                        for n, cl in enumerate(lines, start=1)
                    ],
                    submitted_on=dos,
                    history=[ClaimStatusEvent(status=ClaimStatus.SUBMITTED, at=submitted_at)],
                    status=ClaimStatus.SUBMITTED,
                )
            )
    claims[0].status, claims[1].status, claims[3].status = (
        ClaimStatus.PAID,
        ClaimStatus.DENIED,
        ClaimStatus.REJECTED,
    )
    claims[3].submitted_on = None
    return SyntheticDataset(
        seed=0,
        generated_through=date(2025, 7, 1),
        practices=[
            Practice(id="PRA-1", name="Lakeside Eye Care (synthetic)", npi="1999999984", state="OH"),
            Practice(id="PRA-2", name="Hilltop Vision (synthetic)", npi="1999999992", state="OH"),
        ],
        providers=[
            Provider(id="PRV-1", practice_id="PRA-1", name="Jordan Sample, OD", npi="1888888880"),
            Provider(id="PRV-2", practice_id="PRA-1", name="Riley Example, OD", npi="1888888898"),
            Provider(id="PRV-3", practice_id="PRA-2", name="Morgan Fictive, OD", npi="1888888906"),
        ],
        payers=[
            Payer(id="PAY-MCR", name="Synthetic Medicare", kind=PlanKind.MEDICARE, payer_id="SYNMCR"),
            Payer(id="PAY-COM", name="Synthetic Commercial", kind=PlanKind.COMMERCIAL, payer_id="SYNCOM"),
            Payer(id="PAY-VIS", name="Synthetic Vision", kind=PlanKind.VISION, payer_id="SYNVIS"),
        ],
        patients=patients,
        coverages=coverages,
        encounters=encounters,
        notes=notes,
        intended=intended,
        charges=charges,
        claims=claims,
        outcomes=[
            LineOutcome(
                claim_id="CLM-001",
                line_number=1,
                status="paid",
                allowed=Decimal("125.00"),
                paid=Decimal("125.00"),
            ),
            LineOutcome(
                claim_id="CLM-001",
                line_number=2,
                status="reduced",
                group="CO",
                carc="45",
                allowed=Decimal("40.00"),
                paid=Decimal("40.00"),
            ),
            LineOutcome(
                claim_id="CLM-002",
                line_number=1,
                status="denied",
                group="CO",
                carc="50",
                rule="medical_necessity",
            ),
        ],
        remittances=[
            RemittanceFile(
                id="RMT-001",
                practice_id="PRA-1",
                payer_id="PAY-COM",
                received_on=date(2025, 3, 1),
                filename="synthetic-0001.835",
                x12=SYNTHETIC_835,
                claim_ids=["CLM-001", "CLM-002"],
            )
        ],
        seeded_variances=[
            SeededVariance(
                remittance_id="RMT-001",
                claim_id="CLM-001",
                line_number=2,
                kind="underpaid",
                cause="flat_cut",
                expected_allowed=Decimal("48.00"),
                actual_allowed=Decimal("40.00"),
            )
        ],
        appeals=[
            Appeal(
                id="APL-001",
                claim_id="CLM-002",
                line_number=1,
                filed_on=date(2025, 3, 10),
                reason="medical necessity",
                outcome="pending",
            )
        ],
        contracts=[
            Contract(
                id="CTR-001",
                practice_id="PRA-1",
                payer_id="PAY-COM",
                plan_name="Synthetic Commercial PPO",
                effective=date(2024, 1, 1),
                fee_schedule=[FeeScheduleEntry(code="92014", amount=Decimal("125.00"))],
            )
        ],
        fee_schedules={"PRA-1": FEE_SCHEDULE, "PRA-2": FEE_SCHEDULE[:3]},
        users=[
            User(id="USR-1", username="biller1", roles=[Role.BILLER], practice_ids=["PRA-1"]),
            User(id="USR-2", username="coder1", roles=[Role.CODER], practice_ids=["PRA-1", "PRA-2"]),
            User(id="USR-3", username="admin2", roles=[Role.ADMIN], practice_ids=["PRA-2"]),
        ],
        appointments=[
            Appointment(
                id="APT-001",
                practice_id="PRA-1",
                patient_id="PAT-004",
                provider_id="PRV-2",
                scheduled_for=date(2025, 7, 15),
                procedure_code="92134",
            ),
            Appointment(
                id="APT-101",
                practice_id="PRA-2",
                patient_id="PAT-101",
                provider_id="PRV-3",
                scheduled_for=date(2025, 7, 20),
                procedure_code="66984",
            ),
        ],
    )
