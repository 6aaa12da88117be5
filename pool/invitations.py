"""Invitations, their response codes and the recruitment rounds they belong to (the
stage-1 draw itself lives in ``sampling.invitations``)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from pool import audit, codes
from pool.db import unit_of_work
from pool.errors import OtosError
from pool.models import Invitation, Person
from pool.reference import short_county_name
from pool.i18n import _


@dataclass(frozen=True)
class Round:
    """A recruitment round: the invitations drawn under one name."""

    name: str
    extract_id: int
    invited: int
    registered: int  # response codes used to register so far
    drawn_on: dt.date


def list_rounds(engine: Engine) -> list[Round]:
    """Every round with invitations, newest first."""
    with Session(engine) as s:
        rows = s.execute(select(Invitation.round, func.min(Invitation.extract_id), func.count(),
                                func.count(Invitation.answered_at), func.min(Invitation.created_at),
                                func.max(Invitation.id))
                         .group_by(Invitation.round).order_by(func.max(Invitation.id).desc())).all()
    return [Round(name, extract, invited, answered, created.date()) for name, extract, invited, answered, created, _x
            in rows]


def next_round_name(session: Session, day: dt.date, county: str | None) -> str:
    """A readable name for a new round, e.g. ``2026-12 Lappi``, or ``2026-12 Lappi (2)``
    when that month already has a round."""
    base = f"{day:%Y-%m}" + (f" {short_county_name(county)}" if county else "")
    taken = set(session.execute(select(Invitation.round).where(Invitation.round.startswith(base))
                                .group_by(Invitation.round)).scalars())
    n = 1
    name = base
    while name in taken:
        n += 1
        name = f"{base} ({n})"
    return name


def add_invitations(session: Session, extract_id: int, person_ids: list[int], round_name: str) -> list[str]:
    """Give each person an invitation with a fresh response code, in the caller's
    transaction; returns the codes.

    Only mailable people of the extract who have no invitation yet can be invited. Codes
    are unique in the workspace: a clash with an existing code is simply drawn again.
    """
    wanted = set(person_ids)
    ok = set(session.execute(select(Person.id).where(Person.extract_id == extract_id, Person.mailable.is_(True),
                                                     Person.id.in_(wanted))).scalars())
    if len(ok) != len(wanted):
        raise OtosError(_("{value} of the chosen people cannot be mailed (turvakielto, deceased, no address) or are not in this extract.").format(value=len(wanted) - len(ok)))
    again = session.execute(select(func.count()).select_from(Invitation)
                            .where(Invitation.person_id.in_(wanted))).scalar_one()
    if again:
        raise OtosError(_("{again} of the chosen people were invited meanwhile (another draw from this extract). Nothing was saved.").format(again=again), hint=_("Draw again: the draw then leaves them out."))
    taken = set(session.execute(select(Invitation.response_code)).scalars())
    made = []
    for pid in person_ids:
        code = codes.new_code()
        while code in taken:
            code = codes.new_code()
        taken.add(code)
        made.append(code)
        session.add(Invitation(extract_id=extract_id, person_id=pid, round=round_name, response_code=code))
    return made


def create_invitations(engine: Engine, extract_id: int, person_ids: list[int], round_name: str) -> list[str]:
    """``add_invitations`` in a transaction of its own, audited."""
    with unit_of_work(engine, write=True) as s:
        made = add_invitations(s, extract_id, person_ids, round_name)
        audit.record(s, "invitation.create", extract=extract_id, round=round_name, invitations=len(made))
    return made
