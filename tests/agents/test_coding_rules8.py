"""Round-8 reading rules of the offline coder, found on the tune21 residuals and the tune22 rows."""

from agents.coding.offline import OfflineCoder
from tests.support.coding_requests import coding_request


def _suggest(note: str, **overrides: object):
    return OfflineCoder(opinion=None).suggest(coding_request(note, **overrides))


def _codes(note: str, **overrides: object) -> list[str]:
    return [line.code for line in _suggest(note, **overrides).lines]


KERATOCONUS = """KCN OU annual. 24 y/o F, glasses wearer, OD blurrier over 6 mo.
MRx OD -2.75 -4.00 x 030 20/40, OS -1.00 -1.25 x 145 20/20.
IOP 13/13. SLE: OD inf steepening, Vogt striae; OS clear. DFE: wnl OU.
Topo today: OD Kmax 55.1 (was 52.9). Pachy today: OD thinnest 452.
A: KCN OD progressing; KCN OS stable.
P: refer cornea for CXL OD. {rx}"""


def test_a_spectacle_prescription_put_off_leaves_the_refraction_unbilled() -> None:
    assert "92015" not in _codes(KERATOCONUS.format(rx="Spec Rx not finalized - deferred until after CXL."))
    assert "92015" not in _codes(KERATOCONUS.format(rx="Glasses Rx deferred until after CXL."))
    # a prescription released, or one the patient merely did not fill, is a final endpoint
    assert "92015" in _codes(KERATOCONUS.format(rx="New spec Rx given."))
    assert "92015" in _codes(KERATOCONUS.format(rx="Final Rx given; pt will not fill it until after CXL."))
