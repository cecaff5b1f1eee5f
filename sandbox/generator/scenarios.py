"""The clinical scenarios: who they fit, how often they bring a patient back, and what each visit holds."""

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.generator.clinical import (
    acuity,
    cup_disc,
    eye,
    manifest,
    pressures,
    refractive_dx,
)
from sandbox.generator.visits import Dx, Service, Visit, VisitContext

Case = dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    codes: tuple[str, ...]
    ages: tuple[int, int]
    weight: float
    cadence: tuple[int, int]
    acute: bool
    start: Callable[[random.Random, VisitContext], Case]
    build: Callable[[random.Random, Case, VisitContext], Visit]
    max_visits: int = 0  # an episode of care that ends (0: the patient keeps coming back)


def _add_refraction(rng: random.Random, visit: Visit, ctx: VisitContext, share: float = 0.45) -> None:
    """Medical visits sometimes include a refraction (92015, GY for Medicare) and its refractive diagnosis."""
    if rng.random() >= share:
        return
    presbyope = ctx.age >= 45
    visit.refraction = manifest(rng, "presbyopia" if presbyope else "myopia")
    visit.dx.append(
        Dx("H52.4", "presbyopia", "presbyopia")
        if presbyope
        else Dx("H52.13", "myopia OU", "myopia, both eyes")
    )
    visit.plan.append("Refraction done at pt request; Rx released")


# --- routine vision and contact lenses -------------------------------------------------------------


def _start_routine(rng: random.Random, ctx: VisitContext) -> Case:
    kind, found = refractive_dx(rng, ctx.age)
    return {"kind": kind, "refractive": found, "screening": ctx.age < 14 and rng.random() < 0.3}


def _routine_dx(rng: random.Random, case: Case, ctx: VisitContext) -> tuple[list[Dx], list[tuple[str, str]]]:
    findings: list[tuple[str, str]] = []
    if case["screening"] and ctx.index == 0:
        lead = Dx("Z01.021", "failed school vision screening", "exam after failed school vision screening")
        return [lead, *case["refractive"]], findings
    extra: list[Dx] = []
    if ctx.age >= 35 and rng.random() < 0.15:
        extra.append(Dx("H11.153", "pinguecula OU", "pinguecula, both eyes"))
        findings.append(("Conj", "pinguecula nasal OU, white and quiet"))
    lead = Dx("Z01.01", "routine exam w abnormal findings", "routine eye exam with abnormal findings")
    return [lead, *case["refractive"], *extra], findings


def build_routine(rng: random.Random, case: Case, ctx: VisitContext) -> Visit:
    dx, findings = _routine_dx(rng, case, ctx)
    visit = Visit(
        scenario="routine_vision",
        benefit="vision" if ctx.vision_payer else "medical",
        exam="comprehensive",
        reason="Annual eye exam",
        appointment_type="routine_vision",
        dx=dx,
        hpi=[
            rng.choice(
                ("Here for yearly exam.", "Wants updated glasses Rx.", "Blur at distance worse lately.")
            )
        ],
        negations=[rng.choice(("denies flashes/floaters", "denies eye pain or redness", "no diplopia"))],
        va=acuity(rng, "good"),
        iop=pressures(rng),
        cup_disc=cup_disc(rng),
        findings=findings,
        dilated=rng.random() < 0.8,
        refraction=manifest(rng, case["kind"]),
        plan=["New spectacle Rx released", "RTC 1 yr for routine exam"],
        rationale="Routine exam + refraction to the vision benefit; refractive dx after Z01.0-.",
    )
    if rng.random() < 0.25:
        relative = rng.choice(("mother", "father", "grandmother"))
        visit.family_history = f"FHx glaucoma ({relative})"
        visit.plan.append("Discussed family history; optic nerves healthy, no glaucoma")
    return visit


def build_contact_lens(rng: random.Random, case: Case, ctx: VisitContext) -> Visit:
    visit = build_routine(rng, case, ctx)
    visit.scenario = "contact_lens"
    visit.reason = "Contact lens exam"
    visit.appointment_type = "contact_lens"
    visit.dx = [d for d in visit.dx if d.code != "H52.4"] if ctx.age < 43 else visit.dx
    fit = rng.choice(("soft toric", "daily disposable spherical", "monthly silicone hydrogel"))
    visit.hpi = [f"CL wearer, wants to update {fit} lenses.", "Wear time 12 hrs/day, no overnight wear."]
    visit.services.append(
        Service(
            code="92310",  # EyeMed too: the fit is 92310 beside S0620/S0621 (gold README convention)
            short="CL fit/eval",
            long="contact lens fitting and evaluation",
            result=f"Trial {fit} OU, good centration and movement, VA 20/20 OD OS",
            dx=[case["refractive"][0].code],
        )
    )
    visit.plan = ["CL Rx finalized and released", "Spectacle Rx released", "RTC 1 yr"]
    visit.rationale = "Routine exam plus contact lens fitting billed to the vision plan."
    return visit


# --- glaucoma ----------------------------------------------------------------------------------------

SUSPECT_TYPES = {
    "low": ("H40.01", "GS low risk", "open angle with borderline findings, low risk"),
    "high": ("H40.02", "GS high risk", "open angle with borderline findings, high risk"),
    "oht": ("H40.05", "OHT", "ocular hypertension"),
    "narrow": ("H40.03", "narrow angles", "anatomical narrow angle"),
}


def _start_suspect(rng: random.Random, ctx: VisitContext) -> Case:
    kind = rng.choice(tuple(SUSPECT_TYPES))
    return {"kind": kind, "eye": rng.choice((3, 3, 3, 1, 2)), "fhx": rng.random() < 0.4}


def build_suspect(rng: random.Random, case: Case, ctx: VisitContext) -> Visit:
    prefix, short, long = SUSPECT_TYPES[case["kind"]]
    side, side_long = eye(case["eye"])
    dx = [Dx(f"{prefix}{case['eye']}", f"{short} {side}", f"{long}, {side_long}")]
    if case["fhx"]:
        dx.append(Dx("Z83.511", "FHx glaucoma", "family history of glaucoma"))
    annual = ctx.index % 2 == 0
    visit = Visit(
        scenario="glaucoma_suspect",
        benefit="medical",
        exam="comprehensive" if annual else "em",
        reason="Glaucoma suspect evaluation" if annual else "IOP check",
        appointment_type="medical" if annual else "follow_up",
        dx=dx,
        hpi=[f"Followed as {short}; no meds." if ctx.index else f"Referred for {long}."],
        negations=["denies eye pain, halos"],
        family_history="FHx glaucoma (mother)" if case["fhx"] else "",
        va=acuity(rng, "good"),
        iop=pressures(rng, 20, 25) if case["kind"] == "oht" else pressures(rng, 15, 21),
        cup_disc=cup_disc(rng, 0.5, 0.7),
        dilated=annual,
        plan=["Monitor, no treatment at this time", "RTC 6 mo"],
    )
    codes = [d.code for d in dx[:1]]
    if annual:
        visit.services.append(
            Service("92083", "HVF 24-2", "threshold visual field 24-2", "full OU, reliable", codes)
        )
        if _due(ctx, "92133", 330):
            visit.services.append(
                Service(
                    "92133", "OCT RNFL", "OCT of the optic nerve", "RNFL WNL OU, borderline sup OD", codes
                )
            )
        if "76514" not in ctx.done:
            visit.services.append(Service("76514", "pachy", "corneal pachymetry", "CCT 528/531", codes))
        if case["kind"] == "narrow" or "92020" not in ctx.done:
            visit.services.append(
                Service(
                    "92020",
                    "gonio",
                    "gonioscopy",
                    "open to SS 360 OU" if case["kind"] != "narrow" else "TM visible 180 deg only OU",
                    codes,
                )
            )
        _add_refraction(rng, visit, ctx)
        visit.rationale = (
            "Comprehensive medical exam for glaucoma suspect with VF/OCT; tests linked to H40.0-."
        )
    else:
        visit.deferred.append(rng.choice(("OCT next visit", "VF not repeated today", "HVF due at annual")))
        visit.rationale = "Stable suspect IOP check: low-level E/M, no tests today."
    return visit


STAGES = {1: "mild", 2: "moderate", 3: "severe", 4: "indeterminate"}


def _start_poag(rng: random.Random, ctx: VisitContext) -> Case:
    right = rng.choice((1, 1, 2, 2, 3))
    left = right if rng.random() < 0.6 else rng.choice((1, 2, 3, 4))
    if rng.random() < 0.15:
        return {"stages": {rng.choice((1, 2)): right}, "drops": "latanoprost qhs"}
    return {"stages": {1: right, 2: left}, "drops": rng.choice(("latanoprost qhs OU", "timolol bid OU"))}


def poag_dx(stages: dict[int, int]) -> list[Dx]:
    """Same stage both eyes: one bilateral code; different stages: one code per eye."""
    if len(stages) == 2 and stages[1] == stages[2]:
        stage = stages[1]
        return [
            Dx(f"H40.113{stage}", f"POAG OU {STAGES[stage][:3]}", f"POAG both eyes, {STAGES[stage]} stage")
        ]
    found = []
    for side, stage in sorted(stages.items()):
        short, long = eye(side)
        found.append(
            Dx(
                f"H40.11{side}{stage}",
                f"POAG {short} {STAGES[stage][:3]}",
                f"POAG {long}, {STAGES[stage]} stage",
            )
        )
    return found


def _due(ctx: VisitContext, code: str, days: int) -> bool:
    last = ctx.done.get(code)
    return last is None or (ctx.dos - last).days >= days


def build_poag(rng: random.Random, case: Case, ctx: VisitContext) -> Visit:
    dx = poag_dx(case["stages"])
    codes = [d.code for d in dx]
    worst = max(case["stages"].values())
    kind = ctx.index % 4
    visit = Visit(
        scenario="poag",
        benefit="medical",
        exam="comprehensive" if kind == 0 else "em",
        management="rx",
        reason="Glaucoma follow-up",
        appointment_type="follow_up" if kind else "medical",
        dx=dx,
        hpi=[
            f"POAG on {case['drops']}, good compliance.",
            rng.choice(("Vision stable.", "No new complaints.")),
        ],
        negations=["denies ocular pain", "no redness with drops"],
        meds=[case["drops"]],
        va=acuity(rng, "fair" if worst >= 3 else "good"),
        iop=pressures(rng, 13, 21),
        cup_disc=cup_disc(rng, 0.6 + 0.08 * worst, 0.75 + 0.05 * worst),
        dilated=kind == 0,
        plan=[f"Continue {case['drops']}", "RTC 3-4 mo IOP check"],
    )
    if len(case["stages"]) == 2 and case["stages"][1] != case["stages"][2]:
        visit.findings.append(("Nerve", "asymmetric cupping, see C/D; stages differ OD vs OS"))
    if len(case["stages"]) == 1:
        visit.findings.append(("Nerve", "fellow eye healthy, no glaucomatous cupping"))
    if kind == 0:
        visit.services.append(
            Service("92083", "HVF 24-2", "threshold visual field", "stable defects vs prior", codes)
        )
        if _due(ctx, "92020", 330):
            visit.services.append(
                Service("92020", "gonio", "gonioscopy", "open angles 360 OU, grade 3-4", codes)
            )
        if "76514" not in ctx.done:
            visit.services.append(Service("76514", "pachy", "corneal pachymetry", "CCT 512/509", codes))
        _add_refraction(rng, visit, ctx)
        visit.rationale = (
            "Annual comprehensive glaucoma exam with VF; per-eye staging drives the H40.11- codes."
        )
    elif kind == 1 and _due(ctx, "92133", 160):
        visit.services.append(
            Service("92133", "OCT RNFL", "OCT of the optic nerve", "no progression vs baseline", codes)
        )
        visit.rationale = "Stable glaucoma on Rx drops (low MDM) with RNFL OCT, which is not data."
    else:
        visit.deferred.append(
            rng.choice(("VF not repeated today", "OCT next visit", "gonio deferred to annual"))
        )
        if kind in (1, 3):
            visit.plan.insert(0, "IOP above target OD; add brimonidine bid OD")
            visit.meds.append("brimonidine bid OD")
            visit.problems = "progressing"
        visit.rationale = "Glaucoma follow-up E/M; tests mentioned are not done today."
    return visit


# --- diabetes ---------------------------------------------------------------------------------------

RETINOPATHY = {2: "mild NPDR", 3: "moderate NPDR", 5: "PDR"}


def _start_diabetic(rng: random.Random, ctx: VisitContext) -> Case:
    dm_type = 1 if ctx.age < 30 or rng.random() < 0.12 else 2
    control = "insulin" if dm_type == 1 else rng.choice(("oral", "oral", "insulin", "insulin+oral", "diet"))
    if rng.random() < 0.6:
        return {"type": dm_type, "control": control, "eyes": {}}
    severity = rng.choice((2, 2, 3, 5))
    edema = rng.random() < 0.25
    eyes = {1: (severity, edema), 2: (severity, edema)}
    if rng.random() < 0.3:
        eyes[rng.choice((1, 2))] = (2 if severity != 2 else 3, False)
    return {"type": dm_type, "control": control, "eyes": eyes}


def diabetic_dx(case: Case) -> list[Dx]:
    family = f"E1{case['type'] - 1}"
    label = f"DM{case['type']}"
    found: list[Dx] = []
    eyes = case["eyes"]
    if not eyes:
        found.append(
            Dx(f"{family}.9", f"{label} w/o retinopathy", f"type {case['type']} diabetes, no retinopathy")
        )
    elif eyes[1] == eyes[2]:
        severity, edema = eyes[1]
        found.append(_dr_code(family, label, severity, edema, 3))
    else:
        found += [_dr_code(family, label, *eyes[side], side) for side in (1, 2)]
    if case["type"] == 2:
        if "insulin" in case["control"]:
            found.append(Dx("Z79.4", "on insulin", "long-term insulin use"))
        if "oral" in case["control"]:
            found.append(Dx("Z79.84", "on oral agents", "long-term oral hypoglycemic use"))
    return found


def _dr_code(family: str, label: str, severity: int, edema: bool, side: int) -> Dx:
    short, long = eye(side)
    me = "1" if edema else "9"
    code = f"{family}.35{me}{side}" if severity == 5 else f"{family}.3{severity}{me}{side}"
    words = f"{RETINOPATHY[severity]} {'with' if edema else 'without'} DME"
    return Dx(code, f"{label} {words} {short}", f"{label} with {words}, {long}")


def build_diabetic(rng: random.Random, case: Case, ctx: VisitContext) -> Visit:
    dx = diabetic_dx(case)
    lead = [d.code for d in dx if d.code.startswith("E1")]
    edema = any(edema for _, edema in case["eyes"].values())
    annual = ctx.index % (3 if edema else 1) == 0
    visit = Visit(
        scenario="diabetic_eye",
        benefit="medical",
        exam="comprehensive" if annual else "em",
        reason="Diabetic eye exam" if annual else "DME follow-up",
        appointment_type="medical" if annual else "follow_up",
        dx=dx,
        hpi=[f"DM{case['type']}, A1c {rng.randint(62, 98) / 10}.", f"Control: {case['control']}."],
        va=acuity(rng, "fair" if case["eyes"] else "good"),
        iop=pressures(rng),
        cup_disc=cup_disc(rng),
        dilated=True,
        plan=["Letter to PCP with findings", "RTC 1 yr DFE" if not case["eyes"] else "RTC 4-6 mo"],
    )
    if not case["eyes"]:
        visit.negations.append("no DR OU")
        visit.negations.append("no CSME")
        visit.rationale = "Annual dilated diabetic exam, no retinopathy: E1x.9 + control Z-codes."
        _add_refraction(rng, visit, ctx, 0.3)
        return visit
    visit.findings.append(("Retina", "scattered dot-blot hemes and MAs" + (", CSME" if edema else "")))
    if edema:
        visit.services.append(Service("92134", "OCT mac", "macular OCT", "intraretinal fluid, CST 345", lead))
        visit.plan.insert(0, "Refer to retina for anti-VEGF evaluation")
        visit.deferred.append("fundus photos next year")
    elif annual and _due(ctx, "92250", 330):
        visit.services.append(
            Service("92250", "fundus photos", "fundus photography", "baseline documented", lead)
        )
    visit.rationale = "Diabetic retinopathy coded with the combination E-code per eye; imaging linked to it."
    return visit


# --- cataract, AMD, PVD ------------------------------------------------------------------------------

CATARACT_TYPES = {
    "nuclear": ("H25.1", "NS", "nuclear sclerotic cataract"),
    "cortical": ("H25.01", "cortical cat", "cortical age-related cataract"),
    "psc": ("H25.04", "PSC", "posterior subcapsular cataract"),
}


def _start_cataract(rng: random.Random, ctx: VisitContext) -> Case:
    kind = rng.choice(("nuclear", "nuclear", "cortical", "psc"))
    return {"kind": kind, "eye": rng.choice((3, 3, 1, 2)), "operative": rng.choice((1, 2))}


def build_cataract(rng: random.Random, case: Case, ctx: VisitContext) -> Visit:
    prefix, short, long = CATARACT_TYPES[case["kind"]]
    side, side_long = eye(case["eye"])
    dx = [Dx(f"{prefix}{case['eye']}", f"{short} {side}", f"{long}, {side_long}")]
    first = ctx.index == 0
    visit = Visit(
        scenario="cataract",
        benefit="medical",
        exam="comprehensive" if first else "em",
        management="surgery" if not first else "none",
        reason="Blurry vision, glare" if first else "Cataract surgery planning",
        appointment_type="medical",
        dx=dx,
        hpi=[
            "Glare with night driving, trouble reading signs." if first else "Ready to proceed with surgery."
        ],
        negations=["denies flashes/floaters"],
        va=acuity(rng, "fair"),
        iop=pressures(rng),
        cup_disc=cup_disc(rng),
        findings=[("Lens", f"2-3+ {short} {side}")],
        dilated=True,
        wants_specialist=not first,
    )
    if first:
        visit.plan = [
            "BCVA reduced, glare symptoms affect ADLs",
            "Discussed cataract surgery; RTC for biometry",
        ]
        _add_refraction(rng, visit, ctx, 0.8)
        visit.rationale = "Comprehensive exam for cataract; refraction billed separately (GY for Medicare)."
    else:
        op_side, op_long = eye(case["operative"])
        visit.services.append(
            Service(
                "92136",
                "IOL master",
                "optical biometry with IOL calculation",
                f"axial length measured {op_side}",
                [dx[0].code],
                [],  # the first eye's biometry is billed globally, without RT/LT
            )
        )
        visit.plan = [f"Plan CE/IOL {op_side} ({op_long}) first", "Pre-op instructions given"]
        visit.rationale = "Surgical decision visit with biometry for the first operative eye."
    return visit


AMD_DRY = {1: "early", 2: "intermediate", 3: "adv atrophic w/o subfoveal", 4: "GA subfoveal"}
AMD_WET = {1: "active CNV", 2: "inactive CNV", 3: "disciform scar"}


def _start_amd(rng: random.Random, ctx: VisitContext, wet: bool) -> Case:
    right = rng.choice((1, 2, 2, 3))
    left = right if rng.random() < 0.55 else rng.choice((1, 2, 3, 4))
    eyes: dict[int, tuple[str, int]] = {1: ("dry", right), 2: ("dry", left)}
    if wet:
        eyes[rng.choice((1, 2))] = ("wet", rng.choice((1, 2, 2, 3)))
    return {"eyes": eyes}


def amd_dx(eyes: dict[int, tuple[str, int]]) -> list[Dx]:
    if eyes[1] == eyes[2]:
        kind, stage = eyes[1]
        return [_amd_code(kind, stage, 3)]
    return [_amd_code(*eyes[side], side) for side in (1, 2)]


def _amd_code(kind: str, stage: int, side: int) -> Dx:
    short, long = eye(side)
    if kind == "wet":
        return Dx(
            f"H35.32{side}{stage}",
            f"wet AMD {short} {AMD_WET[stage]}",
            f"exudative AMD, {long}, {AMD_WET[stage]}",
        )
    return Dx(
        f"H35.31{side}{stage}",
        f"dry AMD {short} {AMD_DRY[stage]}",
        f"nonexudative AMD, {long}, {AMD_DRY[stage]}",
    )


def build_amd(rng: random.Random, case: Case, ctx: VisitContext) -> Visit:
    dx = amd_dx(case["eyes"])
    wet = any(kind == "wet" for kind, _ in case["eyes"].values())
    annual = not wet and ctx.index % 2 == 0
    visit = Visit(
        scenario="amd_wet" if wet else "amd_dry",
        benefit="medical",
        exam="comprehensive" if annual else "em",
        management="otc",
        reason="AMD follow-up",
        appointment_type="follow_up",
        dx=dx,
        hpi=["On AREDS2 bid." if not wet else "Receiving anti-VEGF with retina, here for interval check."],
        negations=["no new distortion on Amsler" if not wet else "denies sudden vision loss"],
        meds=["AREDS2 bid"],
        va=acuity(rng, "poor" if wet else "fair"),
        iop=pressures(rng),
        cup_disc=cup_disc(rng),
        findings=[("Macula", "drusen and RPE changes; see stages per eye")],
        dilated=True,
        plan=[
            "Continue AREDS2",
            "Amsler grid daily",
            "RTC 6 mo" if not wet else "RTC 2-3 mo, coordinate with retina",
        ],
    )
    if wet or ctx.index % 2 == 0:
        visit.services.append(
            Service(
                "92134",
                "OCT mac",
                "macular OCT",
                "no SRF/IRF" if not wet else "SRF decreased vs prior",
                [d.code for d in dx],
            )
        )
    else:
        visit.deferred.append("OCT mac next visit")
    if annual:
        _add_refraction(rng, visit, ctx, 0.3)
    visit.rationale = "AMD staged per eye (H35.31-/H35.32-); macular OCT linked to AMD."
    return visit


def _start_pvd(rng: random.Random, ctx: VisitContext) -> Case:
    return {"eye": rng.choice((1, 2))}


def build_pvd(rng: random.Random, case: Case, ctx: VisitContext) -> Visit:
    side, side_long = eye(case["eye"])
    first = ctx.index == 0
    return Visit(
        scenario="pvd",
        benefit="medical",
        exam="intermediate" if first else "em",
        problems="acute" if first else "self_limited",
        reason=f"New floaters {side}" if first else "PVD follow-up",
        appointment_type="urgent" if first else "follow_up",
        dx=[Dx(f"H43.81{case['eye']}", f"PVD {side}", f"posterior vitreous detachment, {side_long}")],
        hpi=[f"Sudden floaters {side} x {rng.randint(1, 6)} days." if first else "Floaters less noticeable."],
        negations=["denies curtain or shadow", "no retinal tear or detachment OU on scleral depression"],
        va=acuity(rng, "good"),
        iop=pressures(rng),
        cup_disc=cup_disc(rng),
        findings=[("Vitreous", f"Weiss ring {side}")],
        dilated=True,
        plan=["RD warning signs reviewed", "RTC 4-6 wk DFE" if first else "RTC prn"],
        rationale="New floaters: a new problem evaluated with an intermediate eye exam; the follow-up is E/M."
        if first
        else "PVD follow-up by E/M.",
    )


# --- anterior segment -------------------------------------------------------------------------------


def _start_dry_eye(rng: random.Random, ctx: VisitContext) -> Case:
    return {"eye": 3 if rng.random() < 0.9 else rng.choice((1, 2)), "plugs": rng.random() < 0.6}


def build_dry_eye(rng: random.Random, case: Case, ctx: VisitContext) -> Visit:
    side, side_long = eye(case["eye"])
    dx = [Dx(f"H04.12{case['eye']}", f"DES {side}", f"dry eye syndrome, {side_long}")]
    visit = Visit(
        scenario="dry_eye",
        benefit="medical",
        exam="intermediate" if ctx.index == 0 else "em",
        management="otc",
        reason="Dry, gritty eyes" if ctx.index == 0 else "Dry eye follow-up",
        appointment_type="medical",
        dx=dx,
        hpi=["Burning and grittiness, worse with screens."],
        negations=["denies discharge"],
        va=acuity(rng, "good"),
        findings=[("Cornea", f"1-2+ inferior SPK {side}, TBUT 4 s, Schirmer 6 mm")],
        plan=["PF artificial tears qid OU", "Warm compresses bid"],
        rationale="New dry eye problem: intermediate exam." if ctx.index == 0 else "Dry eye follow-up E/M.",
    )
    plug_day = case["plugs"] and ctx.index == 1
    if plug_day:
        visit.hpi = ["Failed 8 wks of artificial tears and warm compresses; still symptomatic."]
        sides = (1, 2) if case["eye"] == 3 else (case["eye"],)
        for plug_side in sides:
            lid = "E4" if plug_side == 1 else "E2"
            short, _ = eye(plug_side)
            visit.services.append(
                Service(
                    "68761",
                    f"punctal plug {short} LL",
                    "punctal occlusion by plug, lower punctum",
                    "collagen-free silicone plug placed, good fit",
                    [dx[0].code],
                    [lid],
                )
            )
        visit.plan = ["Silicone plugs placed lower puncta", "Continue AT prn", "RTC 6 wk"]
        if rng.random() < 0.5:
            visit.dx.append(Dx("H01.00A", "bleph RUL/RLL", "blepharitis, right upper and lower lids"))
            visit.dx.append(Dx("H01.00B", "bleph LUL/LLL", "blepharitis, left upper and lower lids"))
            visit.hpi.append("Also new complaint of crusty, itchy lids for 2 weeks.")
            visit.plan.insert(0, "Blepharitis: lid hygiene, azithromycin gel qhs x 4 wk")
            visit.exam = "intermediate"
            visit.rationale = (
                "Plugs per punctum with E-modifiers; separate new blepharitis problem supports 92012-25."
            )
        else:
            visit.exam = "none"
            visit.rationale = "Plugs only: the decision for the minor procedure is included, no separate E/M."
    elif ctx.index >= 1:
        visit.hpi = ["Follow-up dry eye; comfort improved."]
        visit.deferred.append("consider restasis if symptoms return")
    return visit


def _start_foreign_body(rng: random.Random, ctx: VisitContext) -> Case:
    return {
        "eye": rng.choice((1, 2)),
        "site": "cornea" if rng.random() < 0.75 else "conj",
        "separate": rng.random() < 0.4,
    }


def build_foreign_body(rng: random.Random, case: Case, ctx: VisitContext) -> Visit:
    side, side_long = eye(case["eye"])
    modifier = "RT" if case["eye"] == 1 else "LT"
    cornea = case["site"] == "cornea"
    first = ctx.index == 0
    encounter = "A" if first else "D"
    code = f"T15.{0 if cornea else 1}{case['eye']}X{encounter}"
    where = "corneal" if cornea else "conjunctival"
    dx = [
        Dx(
            code,
            f"{where} FB {side}",
            f"{where} foreign body, {side_long}, {'initial' if first else 'subsequent'}",
        )
    ]
    visit = Visit(
        scenario="foreign_body",
        benefit="medical",
        exam="em",
        problems="acute",
        management="rx",
        reason=f"Something in {side_long}" if first else "FB recheck",
        appointment_type="urgent" if first else "follow_up",
        dx=dx,
        hpi=["Grinding metal without safety glasses yesterday." if first else "Feels much better."],
        negations=["no penetrating injury", "Seidel negative"],
        va=acuity(rng, "good"),
        findings=[
            (
                "Cornea" if cornea else "Conj",
                f"{'metallic FB with rust ring' if cornea else 'FB upper tarsus'} {side}, fellow eye clear",
            )
        ],
        plan=["Moxifloxacin qid " + side + " x 5 d", "AT prn OU", "RTC 1-2 d" if first else "RTC prn"],
        rationale="Follow-up of FB: subsequent-encounter 7th character D." if not first else "",
    )
    if first:
        visit.services.append(
            Service(
                "65222" if cornea else "65205",
                "FB removal",
                f"removal of {where} foreign body",
                "removed with 25g needle at slit lamp, rust ring cleared" if cornea else "removed with swab",
                [code],
                [modifier],
            )
        )
        if case["separate"]:
            visit.dx.append(Dx("H10.13", "allergic conj OU", "acute atopic conjunctivitis, both eyes"))
            visit.hpi.append("Separately c/o itchy watery eyes OU for 3 wks.")
            visit.findings.append(("Conj", "1+ papillae and mild chemosis OU"))
            visit.plan.insert(1, "Allergic conjunctivitis: olopatadine bid OU")
            visit.exam = "intermediate"
            visit.rationale = (
                "FB removal with eye modifier; separate new allergic conjunctivitis supports 92012-25."
            )
        else:
            visit.exam = "none"
            visit.rationale = "FB removal only (0-day global); no separately identifiable E/M."
    return visit


RED_EYE = {
    "bacterial": ("H10.02", "mucopurulent conj", "mucopurulent conjunctivitis", "moxifloxacin tid", 4),
    "viral": ("B30.9", "viral conj", "viral conjunctivitis", "cool compresses, AT", 3),
    "allergic": ("H10.1", "allergic conj", "acute atopic conjunctivitis", "olopatadine bid", 4),
}


def _start_red_eye(rng: random.Random, ctx: VisitContext) -> Case:
    return {"kind": rng.choice(tuple(RED_EYE)), "eye": rng.choice((3, 3, 1, 2))}


def build_red_eye(rng: random.Random, case: Case, ctx: VisitContext) -> Visit:
    prefix, short, long, treatment, level = RED_EYE[case["kind"]]
    side, side_long = eye(case["eye"])
    code = prefix if prefix == "B30.9" else f"{prefix}{case['eye']}"
    return Visit(
        scenario="red_eye",
        benefit="medical",
        exam="intermediate",
        reason=f"Red eye {side}",
        appointment_type="urgent",
        dx=[Dx(code, f"{short} {side}", f"{long}, {side_long}")],
        hpi=[
            f"Red {side} x {rng.randint(2, 5)} days" + (", started OD now OU." if case["eye"] == 3 else ".")
        ],
        negations=["no photophobia", "no corneal infiltrates"],
        va=acuity(rng, "good"),
        findings=[("Conj", f"2+ injection {side}, {'papillae' if case['kind'] != 'viral' else 'follicles'}")],
        plan=[f"{treatment} {side}", "Hand hygiene", "RTC 1 wk if not improved"],
        rationale="Acute conjunctivitis, a new problem: intermediate eye exam ("
        + ("Rx drug started)." if level == 4 else "supportive care)."),
    )


# --- systemic-drug monitoring and keratoconus -------------------------------------------------------


def _start_plaquenil(rng: random.Random, ctx: VisitContext) -> Case:
    return {
        "indication": rng.choice(
            (("M06.9", "RA", "rheumatoid arthritis"), ("M32.9", "SLE", "systemic lupus"))
        )
    }


def build_plaquenil(rng: random.Random, case: Case, ctx: VisitContext) -> Visit:
    code, short, long = case["indication"]
    dx = [Dx("Z79.899", "long-term HCQ", "long-term hydroxychloroquine therapy"), Dx(code, short, long)]
    return Visit(
        scenario="plaquenil",
        benefit="medical",
        exam="comprehensive",
        reason="Plaquenil screening",
        appointment_type="medical",
        dx=dx,
        hpi=[f"Hydroxychloroquine 200 mg bid x {rng.randint(2, 12)} yrs for {short}."],
        negations=["no bull's eye maculopathy OU", "no paracentral scotoma"],
        meds=["hydroxychloroquine 200 mg bid"],
        va=acuity(rng, "good"),
        iop=pressures(rng),
        cup_disc=cup_disc(rng),
        dilated=True,
        services=[
            Service("92134", "SD-OCT mac", "macular OCT", "normal ellipsoid zone OU", ["Z79.899", code]),
            Service(
                "92083",
                "HVF 10-2",
                "threshold visual field 10-2",
                "no paracentral loss OU",
                ["Z79.899", code],
            ),
        ],
        deferred=["FAF not done"],
        plan=["No toxicity; letter to rheumatology", "RTC 1 yr"],
        rationale="Annual HCQ toxicity screening: Z79.899 + indication; OCT and 10-2 VF.",
    )


def _start_keratoconus(rng: random.Random, ctx: VisitContext) -> Case:
    return {"eye": rng.choice((3, 3, 1, 2)), "course": rng.choice(("0", "1", "2")), "fit_visit": 1}


def build_keratoconus(rng: random.Random, case: Case, ctx: VisitContext) -> Visit:
    side, side_long = eye(case["eye"])
    course = {"0": "", "1": "stable ", "2": "progressing "}[case["course"]]
    dx = [
        Dx(
            f"H18.6{case['course']}{case['eye']}",
            f"KCN {side} {course}".strip(),
            f"{course}keratoconus, {side_long}",
        )
    ]
    visit = Visit(
        scenario="keratoconus",
        benefit="medical",
        exam="em",
        problems="progressing" if case["course"] == "2" else "stable_chronic",
        management="surgery" if case["course"] == "2" else "none",
        reason="Keratoconus follow-up",
        appointment_type="follow_up",
        dx=dx,
        hpi=["Fluctuating vision, glasses don't help much."],
        negations=["no hydrops"],
        va=acuity(rng, "fair"),
        findings=[("Cornea", f"inferior steepening, Vogt striae {side}")],
        services=[
            Service(
                "92025",
                "topo",
                "corneal topography",
                f"Kmax {rng.randint(48, 58)}.{rng.randint(0, 9)} D",
                [dx[0].code],
            )
        ],
        plan=[
            "Progression documented: refer for CXL" if case["course"] == "2" else "Monitor for progression",
            "RTC 6 mo",
        ],
        rationale="Keratoconus monitored with topography (medical, not routine CL).",
    )
    if ctx.index == case["fit_visit"]:
        visit.services.append(
            Service(
                "92072",
                "KC CL fit",
                "contact lens fitting for keratoconus",
                "RGP trial, good fit",
                [dx[0].code],
            )
        )
        visit.plan.insert(0, "Specialty CL fit (prior auth obtained where required)")
    return visit


def _start_dry(rng: random.Random, ctx: VisitContext) -> Case:
    return _start_amd(rng, ctx, wet=False)


def _start_wet(rng: random.Random, ctx: VisitContext) -> Case:
    return _start_amd(rng, ctx, wet=True)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "routine_vision",
        "Routine exam + refraction (vision plan)",
        ("92004", "92014", "S0620", "S0621", "92015"),
        (4, 97),
        30,
        (365, 430),
        False,
        _start_routine,
        build_routine,
    ),
    Scenario(
        "contact_lens",
        "Contact lens exam and fit",
        ("92310",),
        (12, 60),
        9,
        (365, 420),
        False,
        _start_routine,
        build_contact_lens,
    ),
    Scenario(
        "glaucoma_suspect",
        "Glaucoma suspect / OHT monitoring",
        ("92083", "92133", "76514", "92020"),
        (40, 97),
        7,
        (170, 200),
        False,
        _start_suspect,
        build_suspect,
    ),
    Scenario(
        "poag",
        "Primary open-angle glaucoma",
        ("92083", "92133", "92020", "76514", "99213", "99214"),
        (50, 97),
        7,
        (90, 120),
        False,
        _start_poag,
        build_poag,
    ),
    Scenario(
        "diabetic_eye",
        "Diabetic eye exam",
        ("92250", "92134"),
        (25, 97),
        9,
        (340, 380),
        False,
        _start_diabetic,
        build_diabetic,
    ),
    Scenario(
        "cataract",
        "Age-related cataract work-up",
        ("92136",),
        (60, 97),
        8,
        (120, 240),
        False,
        _start_cataract,
        build_cataract,
        max_visits=2,
    ),
    Scenario(
        "amd_dry", "Dry AMD monitoring", ("92134",), (60, 97), 5, (170, 200), False, _start_dry, build_amd
    ),
    Scenario(
        "amd_wet", "Wet AMD co-management", ("92134",), (65, 97), 3, (60, 90), False, _start_wet, build_amd
    ),
    Scenario(
        "dry_eye",
        "Dry eye and punctal plugs",
        ("68761",),
        (30, 97),
        6,
        (45, 70),
        False,
        _start_dry_eye,
        build_dry_eye,
        max_visits=3,
    ),
    Scenario(
        "plaquenil",
        "Hydroxychloroquine monitoring",
        ("92134", "92083"),
        (25, 85),
        3,
        (350, 380),
        False,
        _start_plaquenil,
        build_plaquenil,
    ),
    Scenario(
        "keratoconus",
        "Keratoconus monitoring and specialty fit",
        ("92025", "92072"),
        (14, 45),
        2.5,
        (150, 200),
        False,
        _start_keratoconus,
        build_keratoconus,
    ),
    Scenario(
        "foreign_body",
        "Corneal / conjunctival foreign body",
        ("65222", "65205"),
        (16, 75),
        0.06,
        (1, 3),
        True,
        _start_foreign_body,
        build_foreign_body,
    ),
    Scenario(
        "red_eye",
        "Conjunctivitis",
        ("92002", "92012"),
        (4, 97),
        0.08,
        (0, 0),
        True,
        _start_red_eye,
        build_red_eye,
    ),
    Scenario(
        "pvd",
        "Posterior vitreous detachment",
        ("92002", "92012", "99213"),
        (45, 97),
        0.05,
        (28, 45),
        True,
        _start_pvd,
        build_pvd,
    ),
)
SCENARIO_BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}
