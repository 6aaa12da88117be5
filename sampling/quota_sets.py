"""Quotas kept in the workspace under a name ("Lappi 2027, 30 seats"), so the next panel
can be drawn alike after a restart or on a colleague's machine, without a CSV file.

A set holds the panel size and the quotas; saving under an existing name replaces it
only when asked to. Every change is audited (names and counts, no personal data)."""
from __future__ import annotations

import json

from sqlalchemy import Engine, select
from sqlmodel import Session

from pool import audit
from pool.db import unit_of_work
from pool.errors import NotFound, OtosError
from pool.models import QuotaSet, checked_text
from sampling.problem import Quota, quotas_from_json, quotas_to_json
from pool.i18n import _


def _checked(quotas: list[Quota], size: int) -> None:
    if not quotas:
        raise OtosError(_("There are no quotas to save."), hint=_("Make or load quotas first."))
    if size < 1:
        raise OtosError(_("The panel size must be at least 1, not {size}.").format(size=size))
    for q in quotas:
        if q.min < 0 or q.max < q.min:
            raise OtosError(_("Quota {feature}={value}: min {min} and max {max} do not make a range.").format(feature=q.feature, value=q.value, min=q.min, max=q.max))


def save(engine: Engine, name: str, quotas: list[Quota], size: int, *, replace: bool = False) -> None:
    """Keep ``quotas`` for a panel of ``size`` under ``name``; an existing set of that
    name is replaced only with ``replace``."""
    name = checked_text(name.strip(), QuotaSet.name, _("The name of the quota set"))
    if not name:
        raise OtosError(_("Give the quota set a name."), hint=_("e.g. the county and the year: Lappi 2027."))
    _checked(quotas, size)
    text = quotas_to_json(quotas)
    with unit_of_work(engine, write=True) as s:
        found = s.execute(select(QuotaSet).where(QuotaSet.name == name)).scalar_one_or_none()
        if found is not None and not replace:
            raise OtosError(_("There is already a quota set called {name!r}.").format(name=name),
                            hint=_("Give another name, or replace it (otos quotas save --replace)."))
        if found is not None:  # a new row, so that the newest id is the set saved last
            s.delete(found)
            s.flush()
        s.add(QuotaSet(name=name, size=size, quotas=text, saved_by=audit.actor()))
        audit.record(s, "quotas.save", name=name, size=size, quotas=len(quotas), replaced=found is not None)


def listing(engine: Engine) -> list[dict]:
    """The saved sets, the most recently saved first: name, size, how many quotas, when, by whom."""
    with Session(engine) as s:
        rows = s.execute(select(QuotaSet).order_by(QuotaSet.saved_at.desc(), QuotaSet.id.desc())).scalars()
        return [{"name": q.name, "size": q.size, "quotas": len(json.loads(q.quotas)),
                 "saved_at": q.saved_at.isoformat(sep=" "), "saved_by": q.saved_by} for q in rows]


def load(engine: Engine, name: str) -> tuple[list[Quota], int]:
    """(the quotas, the panel size) kept under ``name``."""
    with Session(engine) as s:
        found = s.execute(select(QuotaSet).where(QuotaSet.name == name)).scalar_one_or_none()
        if found is None:
            raise NotFound(_("There is no quota set called {name!r}.").format(name=name), hint=_("See otos quotas list."))
        return quotas_from_json(found.quotas), found.size


def delete(engine: Engine, name: str) -> None:
    with unit_of_work(engine, write=True) as s:
        found = s.execute(select(QuotaSet).where(QuotaSet.name == name)).scalar_one_or_none()
        if found is None:
            raise NotFound(_("There is no quota set called {name!r}.").format(name=name), hint=_("See otos quotas list."))
        s.delete(found)
        audit.record(s, "quotas.delete", name=name)
