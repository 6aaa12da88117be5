"""Invitations and their response codes (the stage-1 draw itself lives in ``sampling``)."""
from __future__ import annotations

from sqlalchemy import Engine, select
from sqlmodel import Session

from pool import audit, codes
from pool.errors import OtosError
from pool.models import Invitation, Person


def create_invitations(engine: Engine, extract_id: int, person_ids: list[int], round_name: str) -> list[str]:
    """Give each person an invitation with a fresh response code; returns the codes.

    Only mailable people of the extract can be invited. Codes are unique in the
    workspace: a clash with an existing code is simply drawn again.
    """
    with Session(engine) as s:
        ok = set(s.execute(select(Person.id).where(Person.extract_id == extract_id, Person.mailable.is_(True),
                                                   Person.id.in_(person_ids))).scalars())
        if len(ok) != len(set(person_ids)):
            raise OtosError(f"{len(set(person_ids)) - len(ok)} of the chosen people cannot be mailed "
                            "(turvakielto, deceased, no address) or are not in this extract.")
        taken = set(s.execute(select(Invitation.response_code)).scalars())
        made = []
        for pid in person_ids:
            code = codes.new_code()
            while code in taken:
                code = codes.new_code()
            taken.add(code)
            made.append(code)
            s.add(Invitation(extract_id=extract_id, person_id=pid, round=round_name, response_code=code))
        audit.record(s, "invitation.create", extract=extract_id, round=round_name, invitations=len(made))
        s.commit()
    return made
