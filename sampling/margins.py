"""The population behind a panel: how many people of the extract, and of those invited,
fall into each quota category, counted once when the panel is drawn and kept with it.

A panel's report compares the population, the invited, the volunteers and the panel.
Counted again later, the population would follow whatever extract came next (another
county's, say) and re-age everyone to the day of the report; recorded at the draw,
the report of a panel stays what it was.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from sqlalchemy import select
from sqlmodel import Session

from pool.models import Extract, Invitation, Person
from sampling.categories import Scheme, categorise, register_frame


def source_extract(session: Session, recruitment_round: str | None, *, with_people: bool = False) -> int | None:
    """The extract a panel's population comes from: the one its round invited from,
    else the newest extract not yet purged (with ``with_people``: that still holds
    people, as a partly purged extract keeps only those who joined the pool)."""
    if recruitment_round:
        found = session.execute(select(Invitation.extract_id).where(Invitation.round == recruitment_round)
                                .limit(1)).scalar()
        if found is not None:
            return found
    q = select(Extract.id).where(Extract.purged_at.is_(None))
    if with_people:
        q = q.where(Extract.id.in_(select(Person.extract_id)))
    return session.execute(q.order_by(Extract.id.desc()).limit(1)).scalar()


def count_margins(session: Session, features: list[str], values: dict[str, list[str]], day: dt.date,
                  recruitment_round: str | None = None) -> dict:
    """{"extract", "day", "counts": {stage: {"feature\\tvalue": n}}, "totals": {stage: n}} for the
    stages population and invited (living people of the source extract)."""
    extract_id = source_extract(session, recruitment_round)
    counts = {"population": Counter(), "invited": Counter()}
    totals = Counter()
    if extract_id is not None:
        invited_q = select(Invitation.person_id).where(Invitation.person_id.is_not(None),
                                                       Invitation.extract_id == extract_id)
        if recruitment_round:
            invited_q = invited_q.where(Invitation.round == recruitment_round)
        invited = set(session.execute(invited_q).scalars())
        rows = session.execute(select(Person.id, Person.birth_date, Person.sex, Person.mother_tongue,
                                      Person.municipality)
                               .where(Person.extract_id == extract_id, Person.deceased.is_(False))).all()
        labels = categorise(register_frame(r[1:] for r in rows), features, day, Scheme.from_values(values))
        for (pid, *_x), key in zip(rows, labels.itertuples(index=False, name=None)):
            for stage in ("population", "invited") if pid in invited else ("population",):
                totals[stage] += 1
                for f, v in zip(features, key):
                    counts[stage][f"{f}\t{v}"] += 1
    return {"extract": extract_id, "day": day.isoformat(),
            "counts": {stage: dict(c) for stage, c in counts.items()}, "totals": dict(totals)}


def dumps(margins: dict) -> str:
    return json.dumps(margins, ensure_ascii=False, sort_keys=True)
