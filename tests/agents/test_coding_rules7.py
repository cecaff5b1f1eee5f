"""Round-7 reading rules of the offline coder, found on the tune16 rows and the older tuning residuals."""

from agents.coding.offline import OfflineCoder
from tests.support.coding_requests import coding_request


def _suggest(note: str, **overrides: object):
    return OfflineCoder(opinion=None).suggest(coding_request(note, **overrides))


DICTATED_CATARACT = (
    "Sixty eight year old woman notes halos and glare at night for a year, worse on the right period. Manifest "
    "refraction colon right eye plus one sphere twenty forty comma left eye plus one twenty twenty five comma "
    "final prescription given period pupils round and reactive, fields full, motility full period pressures "
    "fifteen both eyes period slit lamp shows three plus nuclear sclerosis right eye and two plus nuclear "
    "sclerosis left eye, otherwise quiet period dilated fundus exam healthy both eyes period new paragraph "
    "assessment age related nuclear cataract both eyes, visually significant in the right eye and limiting her "
    "driving period hyperopia both eyes period plan referral for cataract surgery evaluation right eye period"
)


def test_a_bilateral_code_read_twice_is_posted_once_with_all_its_evidence() -> None:
    # the per-eye slit-lamp findings pair up into H25.13, which the impression also states outright
    suggestion = _suggest(DICTATED_CATARACT)
    codes = [d.code for d in suggestion.diagnoses]
    assert codes.count("H25.13") == 1, codes
    cataract = next(d for d in suggestion.diagnoses if d.code == "H25.13")
    assert len(cataract.evidence) >= 2
