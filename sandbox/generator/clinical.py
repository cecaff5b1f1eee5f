"""Small clinical phrase makers shared by the scenarios: acuities, pressures, refractions, eyes."""

import random

from sandbox.generator.visits import EYES, Dx

GOOD_VA = ("20/20", "20/20", "20/20-1", "20/25", "20/25+2")
FAIR_VA = ("20/25", "20/30", "20/30-2", "20/40", "20/50")
POOR_VA = ("20/60", "20/70", "20/80", "20/100", "20/200")


def acuity(rng: random.Random, quality: str = "good") -> tuple[str, str]:
    pool = {"good": GOOD_VA, "fair": FAIR_VA, "poor": POOR_VA}[quality]
    return rng.choice(pool), rng.choice(pool)


def pressures(rng: random.Random, low: int = 12, high: int = 20) -> tuple[int, int]:
    right = rng.randint(low, high)
    return right, max(low - 2, min(high + 2, right + rng.randint(-2, 2)))


def cup_disc(rng: random.Random, low: float = 0.2, high: float = 0.4) -> tuple[str, str]:
    right = round(rng.uniform(low, high) * 20) / 20
    left = round(min(0.95, max(0.1, right + rng.choice((-0.05, 0.0, 0.05)))) * 20) / 20
    return f"{right:.2f}".lstrip("0").rstrip("0"), f"{left:.2f}".lstrip("0").rstrip("0")


def manifest(rng: random.Random, kind: str) -> str:
    """A manifest refraction line with a final endpoint (what makes a refraction billable)."""

    def one() -> str:
        sphere = {"myopia": -rng.randint(2, 24) / 4, "hyperopia": rng.randint(2, 14) / 4}.get(kind, 0.0)
        if kind == "plano":
            sphere = rng.choice((0.0, 0.25, -0.25))
        cyl = -rng.randint(0, 8) / 4 if kind != "plano" else 0.0
        axis = rng.choice((5, 10, 15, 90, 95, 165, 170, 175, 180))
        sph = "pl" if sphere == 0 else f"{sphere:+.2f}"
        return f"{sph} DS" if cyl == 0 else f"{sph} {cyl:.2f} x {axis:03d}"

    add = (
        f" add +{rng.choice(('1.25', '1.50', '1.75', '2.00', '2.25', '2.50'))}"
        if kind == "presbyopia"
        else ""
    )
    return f"OD {one()}  OS {one()}{add}"


def eye(laterality: int) -> tuple[str, str]:
    """('OD', 'right eye') for 1, ('OS', 'left eye') for 2, ('OU', 'both eyes') for 3."""
    return EYES[laterality]


REFRACTIVE = {
    "myopia": {1: "H52.11", 2: "H52.12", 3: "H52.13"},
    "hyperopia": {1: "H52.01", 2: "H52.02", 3: "H52.03"},
    "astigmatism": {1: "H52.221", 2: "H52.222", 3: "H52.223"},
}
REFRACTIVE_WORDS = {"myopia": "myopia", "hyperopia": "hyperopia", "astigmatism": "regular astigmatism"}


def refractive_dx(rng: random.Random, age: int) -> tuple[str, list[Dx]]:
    """The refractive state of a patient of this age and its diagnoses (kind, dx list)."""
    kind = rng.choice(("myopia", "myopia", "hyperopia")) if age < 40 else rng.choice(("myopia", "hyperopia"))
    found: list[Dx] = [Dx(REFRACTIVE[kind][3], f"{kind[:4]} OU", f"{REFRACTIVE_WORDS[kind]}, both eyes")]
    if rng.random() < 0.45:
        found.append(Dx("H52.223", "astig OU", "regular astigmatism, both eyes"))
    elif rng.random() < 0.1:
        side = rng.choice((1, 2))
        short, long = eye(side)
        found.append(Dx(REFRACTIVE["astigmatism"][side], f"astig {short}", f"regular astigmatism, {long}"))
    if age >= 43:
        found.append(Dx("H52.4", "presbyopia", "presbyopia"))
        kind = "presbyopia" if rng.random() < 0.7 else kind
    return kind, found
