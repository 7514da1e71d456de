"""The sample CRM's rows: customers, their installations, service contracts and visits.

In: how many customers, the day counted as "today" and a seed. Out: a ``SampleCrm`` of plain
rows (tuples in the columns of ``COLUMNS``), the same rows for the same arguments on any
machine: one seeded ``random.Random`` draws everything in one fixed order, and dates are
counted from ``today`` only, never from the clock. Contract end dates are spread from 60 days
before ``today`` to a year after it, so some contract always ends within 90 days of the day
the CRM was written. Installation ``HP200-0042`` (when there are enough customers to reach
it) belongs to Anna Huber of Graz, whose contract ends 45 days after ``today``: the customer of
the library's examples and of the README's tour. Writing the rows anywhere is an adapter's job.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

__all__ = ["COLUMNS", "TOUR_SERIAL", "SampleCrm", "generate"]

TOUR_SERIAL = "HP200-0042"

COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": (
        "id", "name", "street", "postcode", "city", "country", "address", "locale", "email",
        "employees", "customer_since",
    ),
    "installations": (
        "serial", "model", "customer_id", "installed_on", "price", "warranty_until",
        "next_service",
    ),
    "contracts": (
        "id", "customer_id", "serial", "plan", "valid_from", "valid_until", "monthly_fee",
    ),
    "visits": ("id", "serial", "date", "technician", "work"),
}  # fmt: skip

Row = tuple[str | int | None, ...]

# Models the sample library knows, how often each is sold, its list price and how long a
# visit takes to become due again.
_MODELS = (("HP120", 3, 8990), ("HP200", 5, 11890), ("HP400", 2, 16490))
_PLANS = (("Nordwind Care Basic", 19), ("Nordwind Care Plus", 29), ("Nordwind Care Premium", 45))

_GERMAN_FIRST = (
    "Anna", "Lukas", "Sophie", "Maximilian", "Lena", "Felix", "Marie", "Jonas", "Laura", "Paul",
    "Julia", "Tobias", "Katharina", "Florian", "Sarah", "Stefan", "Claudia", "Michael",
    "Elisabeth", "Andreas", "Theresa", "Matthias",
)  # fmt: skip
_GERMAN_LAST = (
    "Huber", "Gruber", "Wagner", "Müller", "Schmid", "Bauer", "Berger", "Fischer", "Weber",
    "Mayer", "Hofer", "Steiner", "Moser", "Schneider", "Koch", "Richter", "Wolf", "Brunner",
    "Keller", "Zimmermann", "Egger", "Pichler",
)  # fmt: skip
_FRENCH_FIRST = (
    "Camille", "Louis", "Manon", "Hugo", "Chloé", "Lucas", "Léa", "Gabriel", "Inès", "Jules",
    "Sophie", "Antoine", "Claire", "Nicolas", "Élodie", "Mathieu",
)  # fmt: skip
_FRENCH_LAST = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Fontaine", "Girard",
)  # fmt: skip
_ENGLISH_FIRST = (
    "James", "Emily", "Michael", "Olivia", "David", "Emma", "Daniel", "Ava", "Matthew",
    "Sophia", "Ryan", "Madison", "Andrew", "Abigail", "Joshua", "Hannah",
)  # fmt: skip
_ENGLISH_LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Taylor", "Moore", "Jackson", "White", "Harris", "Clark", "Lewis",
)  # fmt: skip
_GERMAN_STREETS = (
    "Hauptstraße", "Bahnhofstraße", "Lindenweg", "Schulgasse", "Gartenstraße", "Bergstraße",
    "Mühlweg", "Kirchplatz", "Wiesenweg", "Am Anger", "Sonnenweg", "Feldgasse",
)  # fmt: skip
_FRENCH_STREETS = (
    "rue de la République", "rue Victor Hugo", "avenue Jean Jaurès", "chemin des Vignes",
    "place du Marché", "rue des Lilas", "boulevard Pasteur", "allée des Tilleuls",
)  # fmt: skip
_ENGLISH_STREETS = (
    "Maple Street", "Oak Avenue", "Cedar Lane", "Lakeview Drive", "Elm Street", "Pine Road",
    "Hillcrest Road", "Washington Avenue",
)  # fmt: skip


@dataclass(frozen=True)
class _Country:
    code: str
    weight: int
    locale: str
    language: str  # of the names, streets and the technicians' notes
    cities: tuple[tuple[str, str], ...]  # (postcode, city)
    company: tuple[str, ...]  # patterns of company names: {last}, {city}
    technicians: tuple[str, ...]
    mail: str


_COUNTRIES = (
    _Country(
        "DE", 35, "de", "de",
        (("80331", "München"), ("20095", "Hamburg"), ("10115", "Berlin"), ("50667", "Köln"),
         ("70173", "Stuttgart"), ("79098", "Freiburg im Breisgau"), ("04109", "Leipzig"),
         ("90402", "Nürnberg"), ("30159", "Hannover"), ("93047", "Regensburg")),
        ("{last} Bau GmbH", "Stadtwerke {city}", "Hotel {last} GmbH", "{last} Logistik KG"),
        ("Jan Becker", "Miriam Krause", "Timo Schulz"), "example.de",
    ),
    _Country(
        "AT", 20, "de-AT", "de",
        (("1100", "Wien"), ("8010", "Graz"), ("4020", "Linz"), ("5020", "Salzburg"),
         ("6020", "Innsbruck"), ("9020", "Klagenfurt"), ("3100", "St. Pölten"),
         ("9500", "Villach")),
        ("{last} Holzbau GmbH", "Hotel {last}", "Gemeinde {city}", "{last} Handel GmbH"),
        ("Markus Pichler", "Sabine Eder"), "example.at",
    ),
    _Country(
        "CH", 10, "de-CH", "de",
        (("8001", "Zürich"), ("3011", "Bern"), ("4051", "Basel"), ("6003", "Luzern"),
         ("9000", "St. Gallen"), ("8400", "Winterthur")),
        ("{last} Immobilien AG", "Hotel {last} AG", "Genossenschaft {city}"),
        ("Reto Meier", "Nadine Frei"), "example.ch",
    ),
    _Country(
        "FR", 20, "fr", "fr",
        (("69002", "Lyon"), ("67000", "Strasbourg"), ("38000", "Grenoble"), ("44000", "Nantes"),
         ("59000", "Lille"), ("31000", "Toulouse"), ("74000", "Annecy"), ("33000", "Bordeaux")),
        ("SARL {last}", "Hôtel {last}", "Groupe {last}", "Mairie de {city}"),
        ("Julien Roux", "Sandrine Faure"), "example.fr",
    ),
    _Country(
        "US", 15, "en-US", "en",
        (("MN 55401", "Minneapolis"), ("VT 05401", "Burlington"), ("OR 97201", "Portland"),
         ("CO 80202", "Denver"), ("WI 53703", "Madison"), ("MA 02108", "Boston")),
        ("{last} Properties LLC", "{city} School District", "{last} & Sons Inc."),
        ("Kevin Brooks", "Laura Bennett"), "example.com",
    ),
)  # fmt: skip

_NAMES = {
    "de": (_GERMAN_FIRST, _GERMAN_LAST, _GERMAN_STREETS),
    "fr": (_FRENCH_FIRST, _FRENCH_LAST, _FRENCH_STREETS),
    "en": (_ENGLISH_FIRST, _ENGLISH_LAST, _ENGLISH_STREETS),
}
# What a technician notes after a visit, in the technician's language, the same position in
# each language: commissioning, two kinds of annual service, three repairs.
_WORK = {
    "de": (
        "Inbetriebnahme und Einweisung",
        "Jahreswartung, Filter gereinigt", "Jahreswartung, Kältemittelkreis geprüft",
        "Störung E12 behoben: Vorlauffühler ersetzt", "Umwälzpumpe getauscht",
        "Software aktualisiert, Heizkurve angepasst",
    ),
    "fr": (
        "Mise en service et prise en main",
        "Entretien annuel, filtre nettoyé", "Entretien annuel, circuit frigorifique contrôlé",
        "Défaut E12 corrigé : sonde de départ remplacée", "Circulateur remplacé",
        "Logiciel mis à jour, courbe de chauffe ajustée",
    ),
    "en": (
        "Commissioning and handover",
        "Annual service, filter cleaned", "Annual service, refrigerant circuit checked",
        "Fault E12 fixed: flow sensor replaced", "Circulation pump replaced",
        "Software updated, heating curve adjusted",
    ),
}  # fmt: skip
_ANNUAL, _REPAIRS = slice(1, 3), slice(3, 6)


@dataclass
class SampleCrm:
    """The rows of each table, in the columns ``COLUMNS`` names."""

    customers: list[Row] = field(default_factory=list)
    installations: list[Row] = field(default_factory=list)
    contracts: list[Row] = field(default_factory=list)
    visits: list[Row] = field(default_factory=list)

    def table(self, name: str) -> list[Row]:
        rows: list[Row] = getattr(self, name)
        return rows


def generate(customers: int, today: date, seed: int = 14) -> SampleCrm:
    """``customers`` customers (at least 1) with their installations, contracts and visits."""
    if customers < 1:
        raise ValueError("at least one customer")
    rng = random.Random(seed)
    crm = SampleCrm()
    serials = {model: 0 for model, _, _ in _MODELS}
    for number in range(1, customers + 1):
        country = rng.choices(_COUNTRIES, weights=[c.weight for c in _COUNTRIES])[0]
        customer_id = f"C-{number:05d}"
        first_names, last_names, streets = _NAMES[country.language]
        first, last = rng.choice(first_names), rng.choice(last_names)
        postcode, city = rng.choice(country.cities)
        company = rng.random() < 0.15
        employees = int(rng.lognormvariate(4.0, 1.4)) + 2 if company else None
        name = rng.choice(country.company).format(last=last, city=city) if company else None
        units = (
            rng.choice((2, 3, 4)) if employees and employees >= 250 else 1 + (rng.random() < 0.1)
        )
        since = today - timedelta(days=rng.randrange(30, 9 * 365))
        address = _address(rng, country, streets, postcode, city)
        email = _email(first, last, name, country)
        crm.customers.append(
            (customer_id, name or f"{first} {last}", *address, country.locale, email, employees,
             since.isoformat())
        )  # fmt: skip
        for _ in range(units):
            model, _weight, price = rng.choices(_MODELS, weights=[m[1] for m in _MODELS])[0]
            serials[model] += 1
            serial = f"{model}-{serials[model]:04d}"
            installed = since + timedelta(days=rng.randrange(0, max(1, (today - since).days)))
            _installation(crm, rng, country, customer_id, serial, installed, price, today)
    _tour_customer(crm, today)
    return crm


def _address(
    rng: random.Random, country: _Country, streets: tuple[str, ...], postcode: str, city: str
) -> tuple[str, str, str, str, str]:
    number = rng.randrange(1, 120)
    street = rng.choice(streets)
    if country.language == "fr":
        line = f"{number} {street}"
    elif country.language == "en":
        line = f"{number * 10 + rng.randrange(10)} {street}"
    else:
        line = f"{street} {number}"
    if country.code == "US":
        state, _, zip_code = postcode.partition(" ")
        address = f"{line}, {city}, {state} {zip_code}"
    else:
        address = f"{line}, {postcode} {city}"
    return line, postcode, city, country.code, address


_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e",
                        "ê": "e", "ë": "e", "à": "a", "ç": "c", "î": "i", "ï": "i", " ": "-",
                        "&": "and"})  # fmt: skip


def _email(first: str, last: str, company: str | None, country: _Country) -> str:
    local = "service" if company else f"{first}.{last}"
    plain = local.lower().translate(_ASCII)
    return f"{plain}@{country.mail}"


def _installation(
    crm: SampleCrm,
    rng: random.Random,
    country: _Country,
    customer_id: str,
    serial: str,
    installed: date,
    list_price: int,
    today: date,
) -> None:
    price = list_price - rng.randrange(0, 8) * 100
    contract = rng.random() < 0.75
    technicians = country.technicians
    work = _WORK[country.language]
    visits = [(installed, work[0])]
    due = installed + timedelta(days=365)
    while due <= today:
        if contract or rng.random() < 0.5:
            visits.append((due + timedelta(days=rng.randrange(-20, 20)), rng.choice(work[_ANNUAL])))
        if rng.random() < 0.15:
            visits.append(
                (due - timedelta(days=rng.randrange(30, 300)), rng.choice(work[_REPAIRS]))
            )
        due += timedelta(days=365)
    for day, note in sorted(v for v in visits if installed <= v[0] <= today):
        visit_id = len(crm.visits) + 1
        crm.visits.append((visit_id, serial, day.isoformat(), rng.choice(technicians), note))
    # ``due`` is now the first anniversary of the installation after today.
    crm.installations.append(
        (serial, _model(serial), customer_id, installed.isoformat(), price,
         _plus_years(installed, 5).isoformat(), due.isoformat())
    )  # fmt: skip
    if contract:
        plan, fee = rng.choice(_PLANS)
        ends = today + timedelta(days=rng.randrange(-60, 366))
        starts = max(installed, ends - timedelta(days=365 * rng.choice((1, 2, 3))))
        crm.contracts.append(
            (f"K-{len(crm.contracts) + 1:05d}", customer_id, serial, plan, starts.isoformat(),
             ends.isoformat(), fee)
        )  # fmt: skip


def _model(serial: str) -> str:
    return serial.partition("-")[0]


def _plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _tour_customer(crm: SampleCrm, today: date) -> None:
    """Installation ``TOUR_SERIAL``'s owner becomes the customer of the examples, her contract
    ending 45 days from ``today``: the tour meets a renewal that is due on any day."""
    owner = next((row[2] for row in crm.installations if row[0] == TOUR_SERIAL), None)
    if owner is None:
        return
    at = next(i for i, row in enumerate(crm.customers) if row[0] == owner)
    since = crm.customers[at][-1]
    crm.customers[at] = (
        owner, "Anna Huber", "Schubertstraße 8", "8010", "Graz", "AT",
        "Schubertstraße 8, 8010 Graz", "de-AT", "anna.huber@example.at", 12, since,
    )  # fmt: skip
    # Her installation's visits in Austria's words, by the one technician there.
    german = {text: _WORK["de"][n] for texts in _WORK.values() for n, text in enumerate(texts)}
    for i, row in enumerate(crm.visits):
        if row[1] == TOUR_SERIAL:
            crm.visits[i] = (*row[:3], "Markus Pichler", german[str(row[4])])
    ends = (today + timedelta(days=45)).isoformat()
    for i, row in enumerate(crm.contracts):
        if row[2] == TOUR_SERIAL:
            crm.contracts[i] = (*row[:5], ends, row[6])
            return
    number = f"K-{len(crm.contracts) + 1:05d}"
    starts = (today - timedelta(days=320)).isoformat()
    crm.contracts.append((number, owner, TOUR_SERIAL, "Nordwind Care Plus", starts, ends, 29))
