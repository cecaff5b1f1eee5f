"""The two synthetic practices: providers with valid NPIs, demo staff and each practice's charge master."""

import random
from decimal import Decimal

from billing.contracts import FeeScheduleEntry
from billing.money import round_cents
from billing.practice import Practice, Provider, Role, User
from sandbox.generator.fee_tables import CHARGE_MULTIPLIER, MEDICARE_ALLOWED_2024, UNPRICED_CHARGES

MAIN_PRACTICE_ID = "prac-1"
SMALL_PRACTICE_ID = "prac-2"


def npi_check_digit(first_nine: str) -> str:
    """Luhn check digit of an NPI, computed with the card-issuer prefix 80840 the NPI standard adds."""
    total = 24  # the Luhn contribution of the 80840 prefix
    for index, char in enumerate(reversed(first_nine)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return str((10 - total % 10) % 10)


def is_valid_npi(npi: str) -> bool:
    return len(npi) == 10 and npi.isdigit() and npi[0] in "12" and npi_check_digit(npi[:9]) == npi[9]


def make_npi(rng: random.Random, entity: int) -> str:
    """A 10-digit NPI: 1... for individuals, 2... for organisations, valid Luhn check digit."""
    first_nine = str(entity) + "".join(str(rng.randrange(10)) for _ in range(8))
    return first_nine + npi_check_digit(first_nine)


def build_practices(rng: random.Random) -> tuple[list[Practice], list[Provider]]:
    practices = [
        Practice(
            id=MAIN_PRACTICE_ID,
            name="Riverbend Family Eye Care",
            npi=make_npi(rng, 2),
            tax_id=f"93-{rng.randrange(1000000, 9999999)}",
            medicare_locality="02302-01",
            state="OR",
        ),
        Practice(
            id=SMALL_PRACTICE_ID,
            name="High Desert Optometry",
            npi=make_npi(rng, 2),
            tax_id=f"93-{rng.randrange(1000000, 9999999)}",
            medicare_locality="02302-99",
            state="OR",
        ),
    ]
    staff = [
        (MAIN_PRACTICE_ID, "Dana Whitfield", "optometry", "OD"),
        (MAIN_PRACTICE_ID, "Marcus Ellery", "optometry", "OD"),
        (MAIN_PRACTICE_ID, "Priya Ramanathan", "ophthalmology", "MD"),
        (SMALL_PRACTICE_ID, "Owen Castellano", "optometry", "OD"),
    ]
    providers = [
        Provider(
            id=f"prov-{index}",
            practice_id=practice_id,
            name=name,
            npi=make_npi(rng, 1),
            specialty=specialty,
            credentials=credentials,
        )
        for index, (practice_id, name, specialty, credentials) in enumerate(staff, start=1)
    ]
    return practices, providers


def build_users(practices: list[Practice]) -> list[User]:
    users: list[User] = []
    people = {
        MAIN_PRACTICE_ID: [("jbiller", "Jordan Biller", Role.BILLER), ("ccoder", "Casey Coder", Role.CODER)],
        SMALL_PRACTICE_ID: [("rbiller", "Riley Biller", Role.BILLER), ("tcoder", "Taylor Coder", Role.CODER)],
    }
    for practice in practices:
        for username, display_name, role in people[practice.id]:
            users.append(
                User(
                    id=f"usr-{username}",
                    username=username,
                    display_name=display_name,
                    roles=[role],
                    practice_ids=[practice.id],
                )
            )
        admin = f"admin{practice.id[-1]}"
        users.append(
            User(
                id=f"usr-{admin}",
                username=admin,
                display_name="Office Manager",
                roles=[Role.ADMIN],
                practice_ids=[practice.id],
            )
        )
    users.append(
        User(
            id="usr-groupadmin",
            username="groupadmin",
            display_name="Group Administrator",
            roles=[Role.ADMIN, Role.BILLER],
            practice_ids=[p.id for p in practices],
        )
    )
    return users


def charge_master(practice: Practice) -> list[FeeScheduleEntry]:
    """Usual-and-customary fees; the small office charges a little less."""
    factor = CHARGE_MULTIPLIER if practice.id == MAIN_PRACTICE_ID else CHARGE_MULTIPLIER - Decimal("0.15")
    entries = [
        FeeScheduleEntry(code=code, amount=round_cents(amount * factor).to_integral_value())
        for code, amount in MEDICARE_ALLOWED_2024.items()
    ]
    entries += [FeeScheduleEntry(code=code, amount=amount) for code, amount in UNPRICED_CHARGES.items()]
    return sorted(entries, key=lambda entry: entry.code)
