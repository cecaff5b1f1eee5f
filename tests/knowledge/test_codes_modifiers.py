"""Modifier meanings and the laterality / NCCI-bypass sets."""

from knowledge.codes.modifiers import LATERALITY_MODIFIERS, NCCI_BYPASS_MODIFIERS, get_modifier


def test_laterality_modifiers_are_described_consistently() -> None:
    for code, side in LATERALITY_MODIFIERS.items():
        info = get_modifier(code)
        assert info is not None and info.kind in {"laterality", "eyelid"}
        if info.kind == "eyelid":
            assert side in info.meaning.lower()


def test_bypass_and_lookup() -> None:
    assert all(get_modifier(code).kind == "ncci_bypass" for code in NCCI_BYPASS_MODIFIERS)
    assert get_modifier(" gy ").kind == "abn"
    assert get_modifier("TC").kind == "component"
    assert get_modifier("ZZ") is None
