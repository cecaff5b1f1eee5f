"""Round-10 reading rules of the offline coder (session 9): MDM risk and data read the way the dev gold reads them."""

from agents.coding.offline import OfflineCoder
from tests.support.coding_requests import coding_request


def _visit(note: str, **overrides: object) -> str:
    lines = OfflineCoder(opinion=None).suggest(coding_request(note, **overrides)).lines
    return next(line.code for line in lines if line.code.startswith(("99", "92")))


STABLE_PDR = """CC: 4 mo DR f/u. no vision change.
DM: T1 on pump. eye gtts: none. ({tears})
VA cc 20/20 OD 20/20 OS. IOP 14/15.
DFE OU: PRP scars 360 OU, regressed NVD OD, no VH. mac flat OU.
A/P:
1. T1DM w/ PDR OU - stable, regressed s/p PRP OU, no DME. {plan}
RTC 4 mo."""


def test_a_tear_product_in_the_history_is_not_managed_when_the_plan_treats_nothing() -> None:
    assert _visit(STABLE_PDR.format(tears="PF tears PRN, rarely", plan="no tx needed. cont obs.")) == "99212"
    # the same product recommended in the plan is over-the-counter management (low risk)
    assert _visit(STABLE_PDR.format(tears="none", plan="Start PF tears qid OU.")) == "99213"


def test_stopping_an_over_the_counter_product_manages_nothing() -> None:
    note = (
        "CC: recheck left eye redness. Seen 10 days ago for sectoral episcleritis OS; advised cool compresses.\n"
        "Exam: trace sectoral injection OS, non-tender. Cornea clear OU.\n"
        "Impression: Episcleritis OS, resolving.\nPlan: {plan} RTC prn."
    )
    assert _visit(note.format(plan="May stop the AT. No further treatment needed.")) == "99212"
    assert _visit(note.format(plan="Continue AT qid OU.")) == "99213"


def test_over_the_counter_readers_are_glasses_not_a_drug() -> None:
    note = (
        "6mo ERM ck OD. no new distortion. wants new readers - near blur w/ current {readers}.\n"
        "VA sc 20/30 OD 20/25 OS. IOP 16/15. DFE OD: mild ERM, no edema.\n"
        "A: ERM OD - stable, observe.\nP: RTC 6 mo."
    )
    assert _visit(note.format(readers="OTC +1.75")) == "99212"
    assert _visit(note.format(readers="OTC readers")) == "99212"
    assert _visit(note.format(readers="readers; start OTC tears bid")) == "99213"


def test_a_history_given_by_a_parent_is_independent_historian_data() -> None:
    note = (
        "Amblyopia f/u 3 mo.\n{history}: patching OS 2 hrs/day, compliance ~80%. Glasses FT.\n"
        "VA cc: OD 20/40 OS 20/20. CT: 8 PD constant R ET.\n"
        "A/P:\n1. Strabismic amblyopia OD - improving, cont patching OS.\n2. Esotropia OD - stable, cont glasses.\n"
        "RTC 3 mo."
    )
    assert _visit(note.format(history="Hx per mom (pt 7 y/o)"), age=7) == "99213"
    assert _visit(note.format(history="Pt reports"), age=7) == "99212"
