"""Build a demo workspace: a generated extract imported, invitations, a pool of volunteers.

Everyone in it is generated (faker, fi_FI / sv_SE); no real person's data.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import tempfile
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from pool.extract import import_extract
from pool.invitations import create_invitations
from pool.members import register_by_code
from pool.models import Extract, Invitation, Person
from sample_data.generator import write_extract

EDUCATION = ["perusaste", "toinen aste", "alempi korkea-aste", "ylempi korkea-aste"]
ATTITUDE = ["tyytyväinen", "neutraali", "tyytymätön"]


def education(age: int, rnd) -> str:
    """The highest completed level a resident of ``age`` plausibly has: nobody under 19
    has finished upper secondary, nor anyone under 21 a degree or under 23 a master's."""
    weights = [15, 35, 25, 25]
    for level, youngest in ((1, 19), (2, 21), (3, 23)):
        if age < youngest:
            weights[level] = 0
    return rnd.choices(EDUCATION, weights)[0]
CONSENT_VERSION = "asukaspooli-2026-1"


def workspace_has_data(engine: Engine) -> bool:
    with Session(engine) as s:
        return bool(s.execute(select(func.count()).select_from(Extract)).scalar_one())


def demo_workspace(engine: Engine, county: str) -> None:
    """The county's workspace with a made-up phone and registration address (example
    domains only): enough for the demo's letters to print."""
    from pool import workspace

    workspace.init(engine, county)
    workspace.set_value(engine, "phone", "010 000 0000")
    workspace.set_value(engine, "register_url", "https://osallistu.example.fi/paneeli")
    workspace.set_value(engine, "sender", "Osallisuuspalvelut (demo)")


def build_demo(engine: Engine, county: str = "Keski-Suomi", rows: int = 8000, invitations: int = 3000,
               seed: int = 2026) -> dict[str, int]:
    """Fill an empty workspace with demo data and return what was made."""
    rnd = random.Random(seed)
    from faker import Faker

    fake = Faker("fi_FI")
    fake.seed_instance(seed)
    demo_workspace(engine, county)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_extract(Path(tmp) / f"demo-{county.lower()}.csv", county, rows, seed)
        report = import_extract(engine, path, permit="DEMO/2026/001",
                                purpose="Asukaspaneelin kutsuotos (demo)",
                                delete_by=dt.date.today() + dt.timedelta(days=180))
    with Session(engine) as s:
        people = s.execute(select(Person.id, Person.dwelling_id, Person.birth_date, Person.sex)
                           .where(Person.extract_id == report.extract_id, Person.mailable.is_(True))
                           .order_by(Person.id)).all()
    rnd.shuffle(people)
    chosen, dwellings = [], set()
    for pid, dwelling, birth, sex in people:
        if dwelling and dwelling in dwellings:
            continue
        dwellings.add(dwelling)
        chosen.append((pid, birth, sex))
        if len(chosen) == invitations:
            break
    codes = create_invitations(engine, report.extract_id, [c[0] for c in chosen], "2026-kevät")
    volunteers = 0
    today = dt.date.today()
    for (pid, birth, sex), code in zip(chosen, codes):
        age = (today - birth).days // 365 if birth else 40
        # Volunteers are no random sample: older people and women answer more.
        p = 0.035 + 0.0009 * max(age - 20, 0) + (0.015 if sex == 2 else 0)
        if rnd.random() >= p:
            continue
        contact = {"email": fake.email(), "phone": fake.phone_number() if rnd.random() < 0.8 else None,
                   "education": education(age, rnd),
                   "extra": json.dumps({"asenne": rnd.choice(ATTITUDE)}, ensure_ascii=False)}
        if age >= 75 and rnd.random() < 0.5:
            contact["email"] = None  # older residents often answer by phone or letter
        register_by_code(engine, code, contact, consent_version=CONSENT_VERSION)
        volunteers += 1
    with Session(engine) as s:
        answered = s.execute(select(func.count()).select_from(Invitation).where(Invitation.answered_at.is_not(None))).scalar_one()
    return {"extract": report.extract_id, "people": report.rows_stored, "invitations": len(codes),
            "volunteers": volunteers, "answered": answered}


STATEMENTS = [
    "Terveysasemalle pitää päästä viikon sisällä.",
    "Sähköinen asiointi sopii minulle yhtä hyvin kuin käynti paikan päällä.",
    "Pienten kuntien terveysasemat on säilytettävä, vaikka se maksaa.",
    "Liikkuvat palvelut (terveysbussi) korvaavat hyvin lähipalveluja.",
    "Ikääntyneiden kotihoitoon on ohjattava lisää rahaa.",
    "Nuorten mielenterveyspalvelut ovat alueen tärkein kehittämiskohde.",
    "Asiakasmaksuja voi korottaa, jos jonot lyhenevät.",
    "Yksityisiä palveluja pitää käyttää enemmän jonojen purkuun.",
    "Päivystys on keskitettävä yhteen paikkaan maakunnassa.",
    "Neuvolat ja koulukuraattorit toimivat hyvin.",
    "Palveluista pitää saada tietoa myös ruotsiksi ja selkokielellä.",
    "Omalääkärimalli pitää palauttaa.",
    "Hyvinvointialueen päätöksenteko on liian kaukana asukkaista.",
    "Ennaltaehkäisyyn pitää käyttää enemmän kuin nyt.",
    "Sote-henkilöstön palkkoja on nostettava.",
    "Ajanvaraus puhelimella toimii huonosti.",
    "Omaishoitajien tukea on parannettava.",
    "Asukaspaneeli on hyvä tapa ottaa asukkaat mukaan.",
]


def write_demo_votes(engine: Engine, folder: str | Path, seed: int = 2026) -> Path:
    """A generated conversation of the demo pool for the Opinions screen: votes.csv,
    statements.csv, participants.csv (role and age band) and population.csv (the age
    bands' shares in the demo extract). Three planted currents of opinion, tied loosely
    to age, so the groups have something to find. Returns the folder."""
    from pool.models import PoolMember
    from sampling.categories import age_on

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(seed)
    today = dt.date.today()
    bands = [(15, 29, "15-29"), (30, 64, "30-64"), (65, 200, "65+")]

    def band(age: int | None) -> str:
        return next((name for lo, hi, name in bands if age is not None and lo <= age <= hi), "")

    with Session(engine) as s:
        members = s.execute(select(PoolMember.id, PoolMember.birth_year).where(PoolMember.status == "active")
                            .order_by(PoolMember.id)).all()
        births = s.execute(select(Person.birth_date)).scalars().all()
    population = {}
    for birth in births:
        b = band((today - birth).days // 365 if birth else None)
        if b:
            population[b] = population.get(b, 0) + 1
    # group leanings: agree probability per statement for three currents
    leaning = [[rnd.choice((0.85, 0.8, 0.2, 0.15, 0.5)) for _x in STATEMENTS] for _x in range(3)]
    people = [(f"a{m}", band(age_on(year, today)), "asukas") for m, year in members]
    people += [(f"h{i}", "30-64", "henkilöstö") for i in range(1, 26)]
    lines = ["participant;statement;vote;time"]
    start = dt.datetime(2026, 4, 14, 17, 0)
    for pid, age_band, role in people:
        current = {"15-29": 0, "30-64": 1, "65+": 2}.get(age_band, 1) if rnd.random() < 0.7 else rnd.randrange(3)
        if role == "henkilöstö":
            current = 1 if rnd.random() < 0.6 else 0
        for j in rnd.sample(range(len(STATEMENTS)), rnd.randint(10, len(STATEMENTS))):
            p = leaning[current][j]
            r = rnd.random()
            vote = 1 if r < p * 0.9 else (0 if r < p * 0.9 + 0.1 else -1)
            when = start + dt.timedelta(minutes=rnd.randint(0, 120))
            lines.append(f"{pid};{j + 1};{vote};{when:%Y-%m-%dT%H:%M:%S}")
    (folder / "votes.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "statements.csv").write_text(
        "statement;text\n" + "".join(f"{j + 1};{t}\n" for j, t in enumerate(STATEMENTS)), encoding="utf-8")
    (folder / "participants.csv").write_text(
        "participant;role;age\n" + "".join(f"{p};{r};{b}\n" for p, b, r in people), encoding="utf-8")
    (folder / "population.csv").write_text(
        "feature;value;count\n" + "".join(f"age;{b};{n}\n" for b, n in sorted(population.items())),
        encoding="utf-8")
    return folder
