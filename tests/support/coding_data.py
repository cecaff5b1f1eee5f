"""The small synthetic practice with realistic exam notes on its unbilled visits, for charge-coding tests.

Invented text only. ENC-006 (PAT-001, Medicare, established) is a glaucoma follow-up with OCT;
ENC-007 and ENC-008 (commercial, established) are two near-identical dry-eye visits, so what a reviewer
teaches on one can show on the other.
"""

from decimal import Decimal

from billing.contracts import FeeScheduleEntry
from sandbox.dataset import SyntheticDataset
from tests.support.sandbox_data import small_dataset

GLAUCOMA_NOTE = """CC: glaucoma follow-up, no new complaints. Using latanoprost nightly in both eyes.
Exam: IOP 17 OD and 18 OS by applanation. C/D 0.6 OD, 0.65 OS.
Testing: OCT RNFL performed today OU; interpretation: mild inferior thinning OU, stable from last year.
Assessment: primary open-angle glaucoma, bilateral, mild stage, stable on drops.
Plan: continue latanoprost OU, return in 6 months with a visual field."""

DRY_EYE_NOTE = """CC: burning, gritty eyes by the afternoon, worse with screen use, for several months.
Exam: tear break-up time 5 seconds OU. Trace inferior punctate staining of the cornea OU. Lids clear.
Assessment: dry eye syndrome of bilateral lacrimal glands.
Plan: preservative-free artificial tears four times daily, warm compresses, return in 3 months."""

# The same visit told by another day's note: a near-identical note for the learning test.
DRY_EYE_NOTE_AGAIN = DRY_EYE_NOTE.replace("for several months", "for a few months").replace(
    "5 seconds", "6 seconds"
)

NOTES = {"ENC-006": GLAUCOMA_NOTE, "ENC-007": DRY_EYE_NOTE, "ENC-008": DRY_EYE_NOTE_AGAIN}
EXTRA_FEES = {"92133": "55.00", "92083": "70.00", "92004": "190.00", "83516": "30.00", "99214": "165.00"}


def coding_dataset() -> SyntheticDataset:
    """small_dataset() with exam notes worth coding on ENC-006..008 and a fuller PRA-1 fee schedule."""
    dataset = small_dataset()
    notes = [
        note.model_copy(update={"text": NOTES.get(note.encounter_id, note.text)}) for note in dataset.notes
    ]
    fees = {
        **dataset.fee_schedules,
        "PRA-1": [
            *dataset.fee_schedules["PRA-1"],
            *(FeeScheduleEntry(code=code, amount=Decimal(amount)) for code, amount in EXTRA_FEES.items()),
        ],
    }
    return dataset.model_copy(update={"notes": notes, "fee_schedules": fees})
