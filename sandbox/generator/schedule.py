"""Future appointments: follow-ups and planned procedures, some of which need prior authorization."""

import random
from datetime import date, timedelta

from sandbox.dataset import Appointment

# scenario -> (procedure planned next, reason); specialty lens fits need prior auth under MA and Medicaid.
NEXT_PROCEDURE: dict[str, tuple[str, str]] = {
    "keratoconus": ("92313", "Scleral lens fitting (prior authorization required for MA/Medicaid)"),
    "cataract": ("92136", "Biometry for second-eye cataract surgery"),
    "dry_eye": ("68761", "Punctal plugs, upper puncta"),
    "poag": ("92083", "Glaucoma follow-up with visual field"),
    "glaucoma_suspect": ("92133", "Glaucoma suspect follow-up with OCT"),
    "amd_wet": ("92134", "Wet AMD interval OCT"),
    "amd_dry": ("92134", "AMD follow-up with OCT"),
    "diabetic_eye": ("92250", "Annual diabetic eye exam with photos"),
    "plaquenil": ("92134", "Annual hydroxychloroquine screening"),
    "routine_vision": ("", "Annual routine eye exam"),
    "contact_lens": ("", "Annual contact lens exam"),
}


def book_appointments(
    rng: random.Random, last_visits: list[tuple[str, str, str, str]], through: date
) -> list[Appointment]:
    """last_visits: (patient, practice, provider, scenario) of each patient's latest chronic visit."""
    appointments: list[Appointment] = []
    for patient_id, practice_id, provider_id, scenario in last_visits:
        planned = NEXT_PROCEDURE.get(scenario)
        chance = 0.9 if scenario == "keratoconus" else 0.45
        if planned is None or rng.random() >= chance:
            continue
        code, reason = planned
        day = through + timedelta(days=rng.randint(3, 90))
        day += timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else timedelta()
        appointments.append(
            Appointment(
                id=f"apt-{len(appointments) + 1:05d}",
                practice_id=practice_id,
                patient_id=patient_id,
                provider_id=provider_id,
                scheduled_for=day,
                procedure_code=code,
                reason=reason,
            )
        )
    return appointments
