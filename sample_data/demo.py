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
CONSENT_VERSION = "asukaspooli-2026-1"


def workspace_has_data(engine: Engine) -> bool:
    with Session(engine) as s:
        return bool(s.execute(select(func.count()).select_from(Extract)).scalar_one())


def build_demo(engine: Engine, county: str = "Keski-Suomi", rows: int = 8000, invitations: int = 3000,
               seed: int = 2026) -> dict[str, int]:
    """Fill an empty workspace with demo data and return what was made."""
    rnd = random.Random(seed)
    from faker import Faker

    fake = Faker("fi_FI")
    fake.seed_instance(seed)
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
                   "education": rnd.choices(EDUCATION, [15, 35, 25, 25])[0],
                   "extra": json.dumps({"asenne": rnd.choice(ATTITUDE)}, ensure_ascii=False)}
        if age >= 75 and rnd.random() < 0.5:
            contact["email"] = None  # older residents often answer by phone or letter
        register_by_code(engine, code, contact, consent_version=CONSENT_VERSION)
        volunteers += 1
    with Session(engine) as s:
        answered = s.execute(select(func.count()).select_from(Invitation).where(Invitation.answered_at.is_not(None))).scalar_one()
    return {"extract": report.extract_id, "people": report.rows_stored, "invitations": len(codes),
            "volunteers": volunteers, "answered": answered}
