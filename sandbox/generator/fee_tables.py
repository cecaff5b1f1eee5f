"""The sandbox's own price tables: rounded 2024 Medicare allowed amounts, vision and Medicaid allowances."""

from decimal import Decimal

# Rounded national non-facility 2024 allowed amounts written for the simulation (not imported from the PFS).
MEDICARE_ALLOWED_2024: dict[str, Decimal] = {
    "92002": Decimal("88.00"),
    "92004": Decimal("153.00"),
    "92012": Decimal("93.00"),
    "92014": Decimal("128.00"),
    "99202": Decimal("72.00"),
    "99203": Decimal("111.00"),
    "99204": Decimal("166.00"),
    "99212": Decimal("56.00"),
    "99213": Decimal("90.00"),
    "99214": Decimal("128.00"),
    "92020": Decimal("31.00"),
    "92025": Decimal("36.00"),
    "92072": Decimal("110.00"),
    "92083": Decimal("60.00"),
    "92133": Decimal("39.00"),
    "92134": Decimal("42.00"),
    "92136": Decimal("77.00"),
    "92250": Decimal("43.00"),
    "92313": Decimal("95.00"),
    "76514": Decimal("14.00"),
    "65205": Decimal("60.00"),
    "65222": Decimal("66.00"),
    "68761": Decimal("128.00"),
}

# Technical-component share of the diagnostic tests the multiple-procedure (MPPR) rule reduces by 20%.
MPPR_TECHNICAL: dict[str, Decimal] = {
    "92025": Decimal("22.00"),
    "92083": Decimal("37.00"),
    "92133": Decimal("21.00"),
    "92134": Decimal("23.00"),
    "92136": Decimal("54.00"),
    "92250": Decimal("25.00"),
    "76514": Decimal("7.00"),
}

# What a payer using last year's schedule would allow: 2023 amounts ran about 3.4% lower.
PRIOR_YEAR_FACTOR = Decimal("0.966")

# Medicaid pays a fixed fee schedule, roughly 70% of Medicare, and pays refraction.
MEDICAID_FEES: dict[str, Decimal] = {
    **{
        code: (amount * Decimal("0.70")).quantize(Decimal("0.01"))
        for code, amount in MEDICARE_ALLOWED_2024.items()
    },
    "92015": Decimal("22.00"),
    "92310": Decimal("55.00"),
}

# Vision plans pay flat allowances for routine exams, refraction and contact lens services.
VISION_FEES: dict[str, dict[str, Decimal]] = {
    "vsp": {
        "92004": Decimal("82.00"),
        "92014": Decimal("62.00"),
        "92015": Decimal("18.00"),
        "92310": Decimal("60.00"),
        "92072": Decimal("140.00"),
        "92313": Decimal("150.00"),
    },
    "eyemed": {
        "S0620": Decimal("88.00"),
        "S0621": Decimal("70.00"),
        "S0592": Decimal("55.00"),
        "92310": Decimal("55.00"),
        "92072": Decimal("125.00"),
        "92313": Decimal("140.00"),
    },
}

# The practices' usual-and-customary charges: multiple of Medicare, plus codes Medicare does not price.
CHARGE_MULTIPLIER = Decimal("1.85")
UNPRICED_CHARGES: dict[str, Decimal] = {
    "92015": Decimal("55.00"),
    "92310": Decimal("125.00"),
    "S0620": Decimal("185.00"),
    "S0621": Decimal("160.00"),
    "S0592": Decimal("115.00"),
}
