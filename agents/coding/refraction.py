"""Refractive diagnoses read from a refraction's own values, for notes whose assessment names none.

"Manifest refraction: right eye -1.50 -0.25 x 180, left eye -1.75 sphere, with a +1.25 add; final Rx given" is
myopia of both eyes and presbyopia (H52.13, H52.4): the refraction billed (92015) needs a refractive diagnosis to
point at, and the gold sets code what the values show. Small powers are not coded (a sphere under 0.75 D, a
cylinder under 0.50 D), nor astigmatism beside keratoconus (its own irregular astigmatism), nor a child's
age-appropriate hyperopia or an aphakic eye's power.
"""

import re

_EYE = re.compile(r"\b(?P<eye>OD|OS|RE|LE|right(?:\s+eye)?|left(?:\s+eye)?)\b[\s:.]*", re.IGNORECASE)
_POWER = r"[+-]\s?\d{1,2}\.\d{2}"
_VALUES = re.compile(
    rf"(?P<sphere>{_POWER}|\bpl(?:ano)?\b)(?:\s*(?:DS|sph(?:ere)?)\b)?"
    rf"(?:\s*(?P<cylinder>{_POWER})\s*(?:x|@)\s*\d{{1,3}})?",
    re.IGNORECASE,
)
_ADD = re.compile(r"\badd\s*:?\s*\+?\s?\d\.\d{2}|\+\s?\d\.\d{2}\s+add\b", re.IGNORECASE)
_SKIP = re.compile(r"age[- ]appropriate|aphak", re.IGNORECASE)
MIN_SPHERE = 0.75
MIN_CYLINDER = 0.5
_EYE_CHAR = {"right": "1", "left": "2"}


def _power(text: str | None) -> float:
    if not text or text.lower().startswith("pl"):
        return 0.0
    return float(text.replace(" ", ""))


def _minus_cylinder(sphere_text: str | None, cylinder_text: str | None) -> tuple[float, float]:
    """Sphere and cylinder in minus-cylinder form (in plus-cylinder notation the minus-cylinder sphere is the sum)."""
    sphere, cylinder = _power(sphere_text), _power(cylinder_text)
    return (sphere + cylinder, -cylinder) if cylinder > 0 else (sphere, cylinder)


def _per_eye(text: str) -> dict[str, tuple[float, float]]:
    """Sphere (minus-cylinder form) and cylinder per eye, the first values after each eye label."""
    found: dict[str, tuple[float, float]] = {}
    for label in _EYE.finditer(text):
        eye = (
            "right"
            if label.group("eye").upper() in ("OD", "RE") or label.group("eye").lower().startswith("r")
            else "left"
        )
        values = _VALUES.match(text, label.end())
        if eye in found or values is None:
            continue
        found[eye] = _minus_cylinder(values.group("sphere"), values.group("cylinder"))
    if not found:
        # a table row under "OD  OS" columns ("Manifest Rx   -3.25 sph   -3.00 sph"): right eye first
        first_line = text.split("\n", 1)[0]
        # an "OU" row or an add is not the two eyes' powers ("MRx OU: -2.25 DS, add +2.50")
        row = [] if re.search(r"\bOU\b", first_line) else _VALUES.findall(_ADD.sub(" ", first_line))
        if len(row) == 2:
            found = {
                eye: _minus_cylinder(*values) for eye, values in zip(("right", "left"), row, strict=True)
            }
    return found


def _laterality(prefix: str, eyes: set[str]) -> list[str]:
    if not eyes:
        return []
    if eyes == {"right", "left"}:
        return [f"{prefix}3"]
    return [f"{prefix}{_EYE_CHAR[eye]}" for eye in sorted(eyes, key=_EYE_CHAR.get)]


def refractive_codes(text: str, keratoconus: bool = False) -> list[str]:
    """ICD-10-CM codes the refraction's values show (empty when it shows nothing worth coding)."""
    if _SKIP.search(text):
        return []
    eyes = _per_eye(text)
    myopic = {eye for eye, (sphere, _) in eyes.items() if sphere <= -MIN_SPHERE}
    hyperopic = {eye for eye, (sphere, _) in eyes.items() if sphere >= MIN_SPHERE}
    astigmatic = set() if keratoconus else {eye for eye, (_, cyl) in eyes.items() if abs(cyl) >= MIN_CYLINDER}
    codes = _laterality("H52.0", hyperopic) + _laterality("H52.1", myopic) + _laterality("H52.22", astigmatic)
    if eyes and _ADD.search(text):
        codes.append("H52.4")
    return codes
