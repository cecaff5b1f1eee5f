"""Synthetic patients: built-in name lists, ages from children to 90+, Oregon addresses, fictional phones."""

import random
from datetime import date, timedelta

from billing.practice import Patient, Sex
from sandbox.generator.practices import MAIN_PRACTICE_ID, SMALL_PRACTICE_ID

# fmt: off
FEMALE_NAMES = (
    "Abigail", "Adeline", "Alice", "Amara", "Anna", "Aria", "Ava", "Beatrice", "Bella", "Brooke", "Camila",
    "Chloe", "Clara", "Daisy", "Delia", "Eleanor", "Elena", "Eliza", "Ella", "Emilia", "Emma", "Esther",
    "Evelyn", "Fiona", "Freya", "Gemma", "Grace", "Hannah", "Harper", "Hazel", "Ida", "Imani", "Iris",
    "Isla", "Ivy", "Jade", "June", "Kaia", "Keiko", "Laila", "Layla", "Leah", "Lena", "Lila", "Lucia",
    "Lucy", "Luna", "Mabel", "Maeve", "Maya", "Mila", "Mira", "Nadia", "Naomi", "Nora", "Olive", "Opal",
    "Paloma", "Penelope", "Pearl", "Priyanka", "Quinn", "Rosa", "Ruby", "Ruth", "Sadie", "Sage", "Selma",
    "Sienna", "Sofia", "Stella", "Talia", "Tessa", "Thea", "Uma", "Vera", "Violet", "Willa", "Wren",
    "Ximena", "Yara", "Zara", "Zoe",
)
MALE_NAMES = (
    "Aaron", "Abel", "Adrian", "Ahmed", "Alden", "Amir", "Andre", "Arlo", "Arthur", "Asher", "August",
    "Beckett", "Bennett", "Bruno", "Caleb", "Callum", "Cedric", "Chen", "Cyrus", "Dante", "Declan",
    "Desmond", "Elias", "Elliot", "Emil", "Ezra", "Felix", "Finn", "Gideon", "Graham", "Hector", "Henry",
    "Hugo", "Ian", "Idris", "Isaac", "Jasper", "Javier", "Jonah", "Julian", "Kai", "Kenji", "Leo", "Levi",
    "Lionel", "Lucas", "Malik", "Mateo", "Milo", "Nathan", "Nico", "Noah", "Omar", "Oscar", "Otis", "Pablo",
    "Quentin", "Rafael", "Ravi", "Reid", "Rhys", "Roman", "Rowan", "Samir", "Silas", "Soren", "Tariq",
    "Theo", "Tobias", "Victor", "Wesley", "Wyatt", "Xavier", "Yusuf", "Zane",
)
LAST_NAMES = (
    "Abernathy", "Acosta", "Albright", "Alvarado", "Ashford", "Baptiste", "Barlow", "Beaumont", "Bellamy",
    "Blackwood", "Bramley", "Calloway", "Carrow", "Castillo", "Chandran", "Cho", "Colbert", "Cordova",
    "Crane", "Dalton", "Delacroix", "Donnelly", "Draper", "Dunmore", "Easton", "Ellwood", "Espinoza",
    "Farrow", "Fennimore", "Fairchild", "Gallardo", "Garrison", "Greaves", "Halvorsen", "Harrow",
    "Hawthorne", "Hollister", "Ibarra", "Ingram", "Iverson", "Jablonski", "Jovanovic", "Kaplan", "Kestrel",
    "Kowalczyk", "Lachance", "Larkspur", "Lindqvist", "Lockhart", "Lowell", "Maddox", "Marchetti", "Mercer",
    "Montague", "Nakagawa", "Navarro", "Northcott", "Oakley", "Okafor", "Osei", "Pellegrino", "Penhallow",
    "Quintero", "Radcliffe", "Ramsey", "Rasmussen", "Redfern", "Rios", "Rutherford", "Salazar", "Santoro",
    "Sato", "Sinclair", "Solberg", "Stroud", "Sutherland", "Takahashi", "Thorne", "Trevino", "Underhill",
    "Valdez", "Vance", "Varga", "Wainwright", "Whitlock", "Winslow", "Yamamoto", "Yilmaz", "Zamora",
    "Zielinski",
)
STREETS = (
    "Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Hawthorne", "Juniper", "Larch", "Madrona", "Maple",
    "Oak", "Pine", "Sequoia", "Spruce", "Tamarack", "Willow", "Cascade", "Columbia", "Klamath", "Umpqua",
    "Willamette",
)
# fmt: on
STREET_KINDS = ("St", "Ave", "Ln", "Dr", "Ct", "Way", "Rd")
CITIES = {
    MAIN_PRACTICE_ID: (("Portland", "972", "503"), ("Beaverton", "970", "503"), ("Gresham", "970", "503")),
    SMALL_PRACTICE_ID: (("Bend", "977", "541"), ("Redmond", "977", "541"), ("Sisters", "977", "541")),
}
# (min age, max age, weight): the age mix of an optometry panel.
AGE_BANDS = ((4, 17, 17), (18, 39, 20), (40, 64, 30), (65, 79, 23), (80, 97, 10))


def _age(rng: random.Random) -> int:
    low, high, _ = rng.choices(AGE_BANDS, weights=[band[2] for band in AGE_BANDS])[0]
    return rng.randint(low, high)


def build_patients(rng: random.Random, count: int, through: date) -> list[Patient]:
    patients: list[Patient] = []
    for index in range(1, count + 1):
        practice_id = MAIN_PRACTICE_ID if rng.random() < 0.7 else SMALL_PRACTICE_ID
        sex = Sex.F if rng.random() < 0.53 else Sex.M
        first = rng.choice(FEMALE_NAMES if sex == Sex.F else MALE_NAMES)
        birth = through - timedelta(days=_age(rng) * 365 + rng.randrange(365))
        city, zip_prefix, area_code = rng.choice(CITIES[practice_id])
        patients.append(
            Patient(
                id=f"pat-{index:05d}",
                practice_id=practice_id,
                first_name=first,
                last_name=rng.choice(LAST_NAMES),
                birth_date=birth,
                sex=sex,
                address=f"{rng.randrange(100, 9999)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}",
                city=city,
                state="OR",
                zip=f"{zip_prefix}{rng.randrange(1, 99):02d}",
                # 555-0100..0199 is reserved for fiction, so no real subscriber can be reached.
                phone=f"({area_code}) 555-01{rng.randrange(100):02d}",
            )
        )
    return patients
