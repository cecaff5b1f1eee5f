"""Exam notes written from a visit in three styles: terse shorthand, narrative prose, templated EHR."""

import random
from datetime import date

from sandbox.generator.visits import Visit

PROCEDURES = frozenset({"65205", "65222", "68761"})
STYLES = ("terse", "narrative", "template")


def render_note(rng: random.Random, visit: Visit, *, age: int, sex: str, dos: date, provider: str) -> str:
    style = rng.choices(STYLES, weights=(4, 2.5, 3.5))[0]
    if style == "terse":
        return _terse(rng, visit, age, sex, dos, provider)
    if style == "narrative":
        return _narrative(rng, visit, age, sex, provider)
    return _template(rng, visit, age, sex, dos, provider)


def _slit_lamp(visit: Visit) -> dict[str, str]:
    exam = {
        "L/L": "WNL OU",
        "C/S": "w&q OU",
        "K": "clr OU",
        "AC": "D&Q OU",
        "Iris": "flat OU",
        "Lens": "clr OU",
    }
    return _with_findings(exam, visit, {"Conj": "C/S", "Cornea": "K", "Lens": "Lens"})


def _with_findings(exam: dict[str, str], visit: Visit, renames: dict[str, str]) -> dict[str, str]:
    """Normal defaults replaced by the visit's findings; several findings on one structure are joined."""
    found: dict[str, list[str]] = {}
    for structure, finding in visit.findings:
        if structure in renames:
            found.setdefault(renames[structure], []).append(finding)
    return {**exam, **{key: "; ".join(items) for key, items in found.items()}}


def _fundus(visit: Visit) -> dict[str, str]:
    exam = {"Vit": "clear OU", "Mac": "flat, good reflex OU", "Vessels": "WNL OU", "Periph": "flat 360 OU"}
    if visit.cup_disc:
        exam = {"C/D": f"{visit.cup_disc[0]}/{visit.cup_disc[1]}", **exam}
    return _with_findings(
        exam, visit, {"Vitreous": "Vit", "Macula": "Mac", "Retina": "Periph", "Nerve": "ONH"}
    )


def _terse(rng: random.Random, visit: Visit, age: int, sex: str, dos: date, provider: str) -> str:
    lines = [
        f"DOS {dos:%m/%d/%Y}  {provider}",
        f"CC: {visit.reason}",
        f"HPI: {age}yo {sex}. " + " ".join(visit.hpi),
    ]
    if visit.negations:
        lines.append("ROS/neg: " + "; ".join(visit.negations))
    if visit.family_history:
        lines.append(visit.family_history)
    if visit.meds:
        lines.append("Ocular meds: " + ", ".join(visit.meds))
    lines.append(f"VA {rng.choice(('cc', 'sc'))}: {visit.va[0]} OD, {visit.va[1]} OS")
    if visit.iop:
        lines.append(f"IOP {rng.choice(('(GAT)', '(iCare)', 'tA'))} {visit.iop[0]}/{visit.iop[1]}")
    if visit.exam == "comprehensive":
        lines.append("CVF FTFC OU, EOM full, PERRL (-)APD")
    lines.append("SLE: " + ", ".join(f"{k} {v}" for k, v in _slit_lamp(visit).items()))
    if visit.dilated:
        lines.append("DFE OU (1% T / 2.5% P): " + ", ".join(f"{k} {v}" for k, v in _fundus(visit).items()))
    elif visit.cup_disc:
        lines.append(f"undilated view C/D {visit.cup_disc[0]}/{visit.cup_disc[1]}")
    if visit.refraction:
        lines.append(f"MRx: {visit.refraction}")
    for service in visit.services:
        prefix = "Proc" if service.code in PROCEDURES else "Test"
        lines.append(f"{prefix}: {service.short} - {service.result}")
    lines.append("A/P:")
    for number, dx in enumerate(visit.dx, start=1):
        lines.append(f"{number}. {dx.short}")
    lines += [f"- {item}" for item in (*visit.plan, *visit.deferred)]
    return "\n".join(lines)


def _narrative(rng: random.Random, visit: Visit, age: int, sex: str, provider: str) -> str:
    person = {"F": "woman", "M": "man"}.get(sex, "patient") if age >= 18 else "child"
    paragraphs = [
        f"The patient is a {age}-year-old {person} seen today for {visit.reason.lower()}. "
        + " ".join(visit.hpi),
    ]
    if visit.negations:
        paragraphs.append("Pertinent negatives: " + ", ".join(visit.negations) + ".")
    if visit.family_history:
        paragraphs.append(
            f"Family history is notable: {visit.family_history.replace('FHx', 'family history of')}."
        )
    exam = f"Visual acuity measured {visit.va[0]} in the right eye and {visit.va[1]} in the left eye."
    if visit.iop:
        exam += (
            f" Intraocular pressure was {visit.iop[0]} mmHg on the right and {visit.iop[1]} mmHg on the left."
        )
    if visit.exam == "comprehensive":
        exam += " Confrontation fields were full, motility full, and pupils reactive without afferent defect."
    if visit.findings:
        exam += " Notable findings: " + "; ".join(f"{k.lower()}: {v}" for k, v in visit.findings) + "."
    if visit.dilated:
        exam += " The pupils were dilated for a fundus examination"
        exam += (
            f", showing cup-to-disc ratios of {visit.cup_disc[0]} and {visit.cup_disc[1]}."
            if visit.cup_disc
            else "."
        )
    paragraphs.append(exam)
    if visit.refraction:
        paragraphs.append(
            f"A manifest refraction was performed with a final prescription of {visit.refraction}."
        )
    for service in visit.services:
        verb = "was performed" if service.code in PROCEDURES else "was obtained today and interpreted"
        paragraphs.append(f"{service.long.capitalize()} {verb}: {service.result}.")
    assessment = "; ".join(dx.long for dx in visit.dx)
    paragraphs.append(f"Assessment: {assessment}.")
    paragraphs.append("Plan: " + ". ".join((*visit.plan, *visit.deferred)) + ".")
    paragraphs.append(f"Electronically signed by {provider}.")
    return "\n\n".join(paragraphs)


def _template(rng: random.Random, visit: Visit, age: int, sex: str, dos: date, provider: str) -> str:
    gender = {"F": "female", "M": "male"}.get(sex, "patient")
    out = [
        f"Eye Clinic Progress Note {dos:%m/%d/%Y}",
        f"CC: {visit.reason}",
        f"HPI: Patient is a {age} y.o. {gender}",
        *visit.hpi,
        "Pain: No",
        "Pertinent negatives: " + ("; ".join(visit.negations) if visit.negations else "none"),
        "FH: " + (visit.family_history or "family history is negative for Blindness."),
        "Current Outpatient Medications (Ophthalmic Medications)",
        "Medication Sig",
    ]
    out += [f"\u2022 {med}" for med in visit.meds] or ["\u2022 none"]
    out += ["Base Eye Exam", f"Visual Acuity (Snellen - Linear)  Right {visit.va[0]}  Left {visit.va[1]}"]
    if visit.iop:
        out.append(
            f"Tonometry (Applanation, {rng.randint(8, 16)}:{rng.choice(('05', '20', '40'))})"
            f"  Right {visit.iop[0]}  Left {visit.iop[1]}"
        )
    if visit.exam == "comprehensive":
        out.append("Confrontation fields: Full OU   Extraocular Movement: Full OU   Pupils: PERRL, no APD")
    if visit.dilated:
        out.append("Dilation: Both eyes: 1.0% Mydriacyl, 2.5% Phenylephrine")
    out.append("Slit Lamp and Fundus Exam")
    out += [f"  {k}: {v}" for k, v in _slit_lamp(visit).items()]
    if visit.dilated:
        out += [f"  {k}: {v}" for k, v in _fundus(visit).items()]
    if visit.refraction:
        out.append(f"Refraction: Manifest  {visit.refraction}  (final Rx)")
    tests = [s for s in visit.services if s.code not in PROCEDURES]
    procedures = [s for s in visit.services if s.code in PROCEDURES]
    out.append("Diagnostic Studies:")
    out += [f"  {s.long}: {s.result}" for s in tests] or ["  No diagnostic studies ordered this encounter."]
    for proc in procedures:
        out.append(
            f"Procedure: {proc.long}; consent obtained, topical anesthesia; {proc.result}. Tolerated well."
        )
    out.append(f"IMPRESSION: {age} y.o. {gender} with Ophthalmologic problems:")
    for dx in visit.dx:
        out.append(f"  {dx.long}")
    out.append("PLAN:")
    out += [f"  - {item}" for item in (*visit.plan, *visit.deferred)]
    out.append(f"Attestation: I personally examined the patient. {provider}")
    return "\n".join(out)
