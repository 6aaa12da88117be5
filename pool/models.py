"""Database tables. Which tables hold personal data, and how each is cleared:

- ``person``: register rows of an extract. Deleted by ``purge`` (except people who
  joined the pool) and when a linked pool member withdraws. Addresses of people with
  a turvakielto are never stored.
- ``invitation``: response codes; points at a person, holds no personal data itself.
- ``pool_member``: volunteers' own data on their consent. Deleted on withdrawal.
- ``import_fault``, ``extract``, ``audit_entry``: no personal data (faults name line
  and field, never the value).
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import Column, ForeignKey, Integer, Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel
from pool.i18n import N_, _


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


class Extract(SQLModel, table=True):
    """One imported DVV extract and the terms it was delivered under."""

    id: Optional[int] = Field(default=None, primary_key=True)
    file_name: str = Field(max_length=255)
    sha256: str = Field(max_length=64, unique=True)
    profile: str = Field(max_length=64)
    encoding: str = Field(max_length=32)
    permit: str = Field(max_length=100)
    purpose: str = Field(max_length=500)
    delete_by: dt.date
    imported_at: dt.datetime = Field(default_factory=utcnow)
    imported_by: str = Field(max_length=100)
    rows_read: int = 0
    rows_stored: int = 0
    rows_rejected: int = 0
    rows_mailable: int = 0
    purged_at: Optional[dt.datetime] = None


class Person(SQLModel, table=True):
    """A register row of an extract (personal data under the extract's permit)."""

    __table_args__ = (UniqueConstraint("extract_id", "hetu", name="uq_person_extract_hetu"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    extract_id: int = Field(
        sa_column=Column(Integer, ForeignKey("extract.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    hetu: str = Field(max_length=11)
    first_names: str = Field(max_length=100)
    surname: str = Field(max_length=100)
    street_fi: Optional[str] = Field(default=None, max_length=100)
    street_sv: Optional[str] = Field(default=None, max_length=100)
    postal_code: Optional[str] = Field(default=None, max_length=5)
    post_office_fi: Optional[str] = Field(default=None, max_length=50)
    post_office_sv: Optional[str] = Field(default=None, max_length=50)
    municipality: str = Field(max_length=3, index=True)
    birth_date: Optional[dt.date] = None
    sex: Optional[int] = None
    mother_tongue: Optional[str] = Field(default=None, max_length=3)  # ISO 639-1, or a Sámi code (smn, sms)
    turvakielto: bool = False
    deceased: bool = False
    dwelling_id: Optional[str] = Field(default=None, max_length=16)
    mailable: bool = False


class ImportFault(SQLModel, table=True):
    """A row left out of an extract and why (line and field, never the value)."""

    __tablename__ = "import_fault"

    id: Optional[int] = Field(default=None, primary_key=True)
    extract_id: int = Field(
        sa_column=Column(Integer, ForeignKey("extract.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    line: int
    field: str = Field(max_length=64)
    col: Optional[int] = None
    message: str = Field(max_length=300)


class Invitation(SQLModel, table=True):
    """An invitation sent to a person, with the personal response code they answer with."""

    id: Optional[int] = Field(default=None, primary_key=True)
    extract_id: int = Field(
        sa_column=Column(Integer, ForeignKey("extract.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    person_id: Optional[int] = Field(
        default=None, sa_column=Column(Integer, ForeignKey("person.id", ondelete="SET NULL"), nullable=True)
    )
    round: str = Field(max_length=64)
    response_code: str = Field(max_length=16, unique=True)
    created_at: dt.datetime = Field(default_factory=utcnow)
    answered_at: Optional[dt.datetime] = None


class PoolMember(SQLModel, table=True):
    """A volunteer in the standing resident pool, on their own recorded consent."""

    __tablename__ = "pool_member"

    id: Optional[int] = Field(default=None, primary_key=True)
    person_id: Optional[int] = Field(
        default=None, sa_column=Column(Integer, ForeignKey("person.id", ondelete="SET NULL"), nullable=True)
    )
    invitation_id: Optional[int] = Field(
        default=None, sa_column=Column(Integer, ForeignKey("invitation.id", ondelete="SET NULL"), nullable=True)
    )
    recruitment_round: Optional[str] = Field(default=None, max_length=64)
    source: str = Field(max_length=16)  # invitation | manual | import | demo
    status: str = Field(default="active", max_length=16, index=True)  # active | paused
    first_names: str = Field(max_length=100)
    surname: str = Field(max_length=100)
    email: Optional[str] = Field(default=None, max_length=254)
    phone: Optional[str] = Field(default=None, max_length=32)
    street: Optional[str] = Field(default=None, max_length=100)
    postal_code: Optional[str] = Field(default=None, max_length=5)
    post_office: Optional[str] = Field(default=None, max_length=50)
    preferred_language: str = Field(default="fi", max_length=2)
    birth_year: Optional[int] = None
    sex: Optional[int] = None
    mother_tongue: Optional[str] = Field(default=None, max_length=3)  # ISO 639-1, or a Sámi code (smn, sms)
    municipality: Optional[str] = Field(default=None, max_length=3, index=True)
    dwelling_id: Optional[str] = Field(default=None, max_length=16)
    education: Optional[str] = Field(default=None, max_length=64)
    extra: Optional[str] = Field(default=None, sa_type=Text)  # JSON object of free self-reported attributes
    needs: Optional[str] = Field(default=None, max_length=500)
    consent_version: str = Field(max_length=32)
    consent_at: dt.datetime
    joined_at: dt.datetime = Field(default_factory=utcnow)
    panels_served: int = 0
    last_panel_at: Optional[dt.datetime] = None
    # Case-folded names, e-mail and phone: what the pool search matches against, so a
    # search is one plain LIKE scan and finds "äijälä" in "Äijälä" on every database.
    search_key: str = Field(default="", sa_type=Text)


def member_search_key(first_names: str | None, surname: str | None, email: str | None, phone: str | None) -> str:
    return " ".join(x for x in (first_names, surname, email, phone) if x).casefold()


@event.listens_for(PoolMember, "before_insert")
@event.listens_for(PoolMember, "before_update")
def _set_search_key(_mapper, _connection, m: PoolMember) -> None:
    m.search_key = member_search_key(m.first_names, m.surname, m.email, m.phone)


class AuditEntry(SQLModel, table=True):
    """One append-only, hash-chained entry of the audit log. Never personal data."""

    __tablename__ = "audit_entry"

    id: Optional[int] = Field(default=None, primary_key=True)
    at: str = Field(max_length=32)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=64)
    details: str = Field(sa_type=Text)  # canonical JSON: counts, ids, hashes
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
    key_id: Optional[str] = Field(default=None, max_length=16)  # which audit key (None: unkeyed, before 0005)


class Panel(SQLModel, table=True):
    """A drawn panel: the durable, verifiable record of one lottery.

    ``snapshot`` holds what the lottery saw (member ids, their quota values, households,
    fixed seats) so that ``otos panel verify`` can recompute the same panel later even
    after the pool has changed; it holds no names or contact details.
    """

    id: Optional[int] = Field(default=None, primary_key=True)
    created_at: dt.datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=100)
    size: int
    seed: str = Field(max_length=200)
    method: str = Field(max_length=16)
    algorithm: str = Field(max_length=64)
    pool_sha256: str = Field(max_length=64)
    quotas_sha256: str = Field(max_length=64)
    quotas: str = Field(sa_type=Text)  # JSON list of [feature, value, min, max]
    snapshot: str = Field(sa_type=Text)  # JSON: features, ids, values, households, fixed
    recruitment_round: Optional[str] = Field(default=None, max_length=64)
    min_probability: float = 0.0
    # JSON: the population and invited counts per quota category at the draw (see
    # sampling.margins), so the panel's report never follows a later extract
    margins: Optional[str] = Field(default=None, sa_type=Text)
    # like-for-like reserves drawn with the panel per seat (see sampling.panels.draw_reserves)
    reserves_per_seat: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # the stored lottery the panel was drawn from (None: recorded before lotteries were stored)
    lottery_id: Optional[int] = Field(default=None, index=True)
    ticket: Optional[int] = None  # drawn by a hand-drawn ticket number instead of a seed


# A seat's role as the reader reads it (stored in English, see PanelSeat.role).
ROLE_NAMES = {"seated": N_("selected"), "replacement": N_("replacement member"), "dropped": N_("left the panel"),
              "reserve": N_("reserve")}


class PanelSeat(SQLModel, table=True):
    """A seat on a panel: who holds it (while they are in the pool) and how it came."""

    __tablename__ = "panel_seat"

    id: Optional[int] = Field(default=None, primary_key=True)
    panel_id: int = Field(
        sa_column=Column(Integer, ForeignKey("panel.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    member_id: Optional[int] = Field(
        default=None, sa_column=Column(Integer, ForeignKey("pool_member.id", ondelete="SET NULL"), nullable=True)
    )
    snapshot_id: str = Field(max_length=32)  # the member id as the lottery saw it
    role: str = Field(max_length=16)  # seated | dropped | replacement | reserve | called
    probability: float = 0.0
    seed: Optional[str] = Field(default=None, max_length=260)  # for replacement draws
    created_at: dt.datetime = Field(default_factory=utcnow)
    # replacement draws: what the lottery saw (as Panel.snapshot), so it can be recomputed
    snapshot: Optional[str] = Field(default=None, sa_type=Text)
    # reserves: their place in the call order for the seat (1 is called first);
    # kept when the reserve steps in (role replacement) or is drawn by a fair replacement
    # lottery instead (role called), so the record keeps the whole list
    rank: Optional[int] = None
    reserve_for: Optional[str] = Field(default=None, max_length=32)  # reserves: the seat holder's snapshot_id
    lottery_id: Optional[int] = None  # fair replacement draws: the stored lottery it was drawn from


class Lottery(SQLModel, table=True):
    """A fair lottery over panels, stored exactly (see sampling.record): computed for a
    draw, or prepared before the seed exists so its hash can be published first.

    ``body`` is the record's lottery section as published: pseudonymous ids, categories,
    quotas, panels and weights. ``pseudonyms`` (member id -> pseudonym) links it to the
    pool and is never published; the rest says what the lottery was computed from.
    """

    id: Optional[int] = Field(default=None, primary_key=True)
    created_at: dt.datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=100)
    purpose: str = Field(max_length=16)  # panel | replacement
    sha256: str = Field(max_length=64, index=True)
    body: str = Field(sa_type=Text)
    pseudonyms: str = Field(sa_type=Text)  # JSON {member id: pseudonym}
    size: int
    quotas: str = Field(sa_type=Text)  # JSON list of [feature, value, min, max]
    recruitment_round: Optional[str] = Field(default=None, max_length=64)
    fixed: str = Field(default="[]", sa_type=Text)  # JSON list of member ids seated in advance
    pool_sha256: str = Field(max_length=64)
    quotas_sha256: str = Field(max_length=64)
    snapshot: str = Field(sa_type=Text)  # as Panel.snapshot
    min_before: Optional[float] = None  # a rounded (--uniform) lottery: the smallest probability before
    prepared: bool = False  # stored (and its hash shown) before the seed existed: otos panel prepare


class QuotaSet(SQLModel, table=True):
    """Quotas kept under a name (see sampling.quota_sets), to draw the next panel alike."""

    __tablename__ = "quota_set"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    size: int
    quotas: str = Field(sa_type=Text)  # JSON list of [feature, value, min, max]
    saved_at: dt.datetime = Field(default_factory=utcnow)
    saved_by: str = Field(max_length=100)


class WorkspaceSetting(SQLModel, table=True):
    """One setting of the workspace (see pool.workspace): a key and its JSON value."""

    __tablename__ = "workspace_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_type=Text)


def checked_text(value: str, column, label: str) -> str:
    """``value`` for a column such as ``Panel.seed``, or an OtosError naming ``label``:
    no control characters, and no longer than the column (PostgreSQL would refuse it
    with a DataError deep inside a transaction)."""
    from pool.display import has_control
    from pool.errors import OtosError

    if has_control(value):
        raise OtosError(_("{label} contains a control character (tab, line break or similar).").format(label=label),
                        hint=_("Type it again without one."))
    limit = getattr(column.property.columns[0].type, "length", None)
    if limit and len(value) > limit:
        raise OtosError(_("{label} is {count} characters long; at most {limit} fit.").format(label=label, count=len(value), limit=limit), hint=_("Give a shorter one."))
    return value
