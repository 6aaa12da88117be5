"""The opt-in resident pool: register, import, list, edit, withdraw (erase).

Members rest on their own consent (text version and time), not on an extract's
permit. Withdrawal deletes the member's personal data for real: the row and the
register row behind it are deleted, and SQLite's secure_delete overwrites the freed
pages. Only an aggregate count remains (in the audit log).
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, select
from sqlmodel import Session

from pool import audit, codes
from pool.csvfile import read_text, sniff_delimiter
from pool.display import has_control
from pool.errors import NotFound, OtosError, RejectedFile, RowFault
from pool.models import Invitation, Person, PoolMember, utcnow
from pool.reference import municipalities
from pool.i18n import _

STATUSES = ("active", "paused")
LANGUAGES = ("fi", "sv", "en", "se")
EDITABLE = ("first_names", "surname", "email", "phone", "street", "postal_code", "post_office",
            "preferred_language", "birth_year", "sex", "mother_tongue", "municipality", "education",
            "extra", "needs", "status", "recruitment_round")
# Fields a registration-survey CSV can map onto (``--map field=Column``).
IMPORTABLE = EDITABLE + ("consent_at", "dwelling_id")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"[+0-9 ()/-]{6,32}")


def _clean(data: dict[str, Any], allowed: tuple[str, ...] = IMPORTABLE) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Validate and normalise member fields. Returns (values, [(field, problem)])."""
    out: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    this_year = dt.date.today().year
    for key, raw in data.items():
        if key in ("consent_at", "consent_version") and allowed is EDITABLE:
            problems.append((key, _("cannot be edited: a new consent is recorded as a new registration")))
            continue
        if key not in allowed:
            problems.append((key, _("is not a pool member field")))
            continue
        value = raw.strip() if isinstance(raw, str) else raw
        if value in ("", None):
            out[key] = None
            continue
        if isinstance(value, str) and key != "extra":
            if has_control(value):
                problems.append((key, _("contains a control character (tab, line break or similar)")))
                continue
            limit = getattr(PoolMember.__table__.columns[key].type, "length", None)
            if limit and len(value) > limit:
                problems.append((key, _("is {count} characters, the most allowed is {limit}").format(count=len(value), limit=limit)))
                continue
        try:
            if key in ("first_names", "surname") and len(value) > 100:
                raise ValueError(_("is longer than 100 characters"))
            if key == "email" and not _EMAIL.fullmatch(value):
                raise ValueError(_("is not an e-mail address"))
            if key == "phone" and not (_PHONE.fullmatch(value) and sum(c.isdigit() for c in value) >= 6):
                raise ValueError(_("is not a phone number"))
            if key == "postal_code" and not (len(value) == 5 and value.isascii() and value.isdigit()):
                raise ValueError(_("must be 5 digits"))
            if key == "mother_tongue":
                from pool.reference import LANGUAGE_CODES

                value = value.lower()
                if value not in LANGUAGE_CODES:
                    raise ValueError(_("is not a language code (ISO 639-1 such as fi, sv, se, or smn, sms)"))
            if key == "preferred_language" and value not in LANGUAGES:
                raise ValueError(_("must be one of {join}").format(join=', '.join(LANGUAGES)))
            if key == "birth_year":
                value = int(value)
                if not 1900 <= value <= this_year:
                    raise ValueError(_("must be a year between 1900 and {this_year}").format(this_year=this_year))
            if key == "sex":
                value = {"1": 1, "2": 2, "m": 1, "f": 2, "male": 1, "female": 2, "mies": 1, "nainen": 2}.get(
                    str(value).strip().lower())
                if value is None:
                    raise ValueError(_("must be 1 (male), 2 (female) or empty"))
            if key == "municipality":
                value = str(value).zfill(3)
                if value not in municipalities():
                    raise ValueError(_("is not a municipality code"))
            if key == "status" and value not in STATUSES:
                raise ValueError(_("must be one of {join}").format(join=', '.join(STATUSES)))
            if key == "extra":
                if isinstance(value, str):
                    value = json.loads(value)
                if not isinstance(value, dict):
                    raise ValueError(_("must be a JSON object of attributes"))
                value = json.dumps(value, ensure_ascii=False, sort_keys=True)
            if key == "consent_at" and isinstance(value, str):
                value = dt.datetime.fromisoformat(value)
            if key == "consent_at" and value.tzinfo is None:
                value = value.replace(tzinfo=dt.timezone.utc)
        except (ValueError, TypeError, json.JSONDecodeError) as exc:
            msg = str(exc) if isinstance(exc, ValueError) and not isinstance(exc, json.JSONDecodeError) else _("has the wrong form")
            if key == "birth_year" and "invalid literal" in msg:
                msg = _("must be a year")
            if key == "consent_at" and "isoformat" in msg.lower():
                msg = _("must be a date and time like 2026-05-31T14:00")
            problems.append((key, msg))
            continue
        out[key] = value
    return out, problems


def _require_names(values: dict[str, Any], problems: list[tuple[str, str]]) -> None:
    for key in ("first_names", "surname"):
        if not values.get(key):
            problems.append((key, _("is required")))


def identity_keys(first_names: str | None, surname: str | None, birth_year: int | None, email: str | None,
                  phone: str | None) -> list[tuple]:
    """Keys under which two pool entries are taken to be the same person: the same
    name and birth year with the same e-mail, or with the same phone number. Empty when
    a part is missing (a name alone is not enough: namesakes exist)."""
    name = " ".join(f"{first_names or ''} {surname or ''}".casefold().split())
    if not name or not birth_year:
        return []
    keys = []
    if email:
        keys.append((name, int(birth_year), "email", email.strip().casefold()))
    digits = "".join(c for c in phone or "" if c.isdigit())
    if len(digits) >= 6:
        keys.append((name, int(birth_year), "phone", digits[-9:]))  # +358 40 ... and 040 ... alike
    return keys


def _keys_of(v) -> list[tuple]:
    get = v.get if isinstance(v, dict) else (lambda k: getattr(v, k))
    return identity_keys(get("first_names"), get("surname"), get("birth_year"), get("email"), get("phone"))


def _identity_rows(session: Session):
    return session.execute(select(PoolMember.id, PoolMember.first_names, PoolMember.surname, PoolMember.birth_year,
                                  PoolMember.email, PoolMember.phone).order_by(PoolMember.id)).all()


def existing_identities(session: Session) -> dict[tuple, int]:
    """Identity key -> member id for the whole pool (see ``identity_keys``)."""
    out: dict[tuple, int] = {}
    for mid, *person in _identity_rows(session):
        for key in identity_keys(*person):
            out.setdefault(key, mid)
    return out


def duplicate_members(session: Session, ids: set[int] | None = None) -> list[tuple[int, int]]:
    """Pairs of members (of ``ids``, or the whole pool) that look like one person."""
    seen: dict[tuple, int] = {}
    pairs = set()
    for mid, *person in _identity_rows(session):
        if ids is not None and mid not in ids:
            continue
        for key in identity_keys(*person):
            if key in seen and seen[key] != mid:
                pairs.add((seen[key], mid))
            seen.setdefault(key, mid)
    return sorted(pairs)


def _already_in_pool(session: Session, values: dict[str, Any]) -> int | None:
    keys = _keys_of(values)
    if not keys:
        return None
    known = existing_identities(session)
    return next((known[k] for k in keys if k in known), None)


def add_member(engine: Engine, data: dict[str, Any], *, consent_version: str,
               consent_at: dt.datetime | None = None, source: str = "manual") -> int:
    """Register a volunteer by hand. Raises OtosError naming each bad field."""
    values, problems = _clean(data)
    _require_names(values, problems)
    if not consent_version.strip():
        problems.append(("consent_version", _("is required: the version of the consent text they agreed to")))
    if problems:
        raise OtosError(_("The member was not saved: ") + "; ".join(f"{f} {m}" for f, m in problems) + ".")
    with Session(engine) as s:
        same = _already_in_pool(s, values)
        if same is not None:
            raise OtosError(_("The member was not saved: pool member {same} has the same name, birth year and e-mail or phone, so this looks like the same person.").format(same=same),
                            hint=_("Edit member {same} instead (otos pool show {same}).").format(same=same))
        m = PoolMember(**values, source=source, consent_version=consent_version.strip(),
                       consent_at=consent_at or values.pop("consent_at", None) or utcnow())
        m.preferred_language = m.preferred_language or "fi"
        m.status = m.status or "active"
        s.add(m)
        s.flush()
        audit.record(s, "pool.add", member=m.id, source=source)
        s.commit()
        return m.id


def register_by_code(engine: Engine, code: str, data: dict[str, Any], *, consent_version: str,
                     consent_at: dt.datetime | None = None) -> int:
    """Register the person behind an invitation's response code as a pool member.

    Register strata (birth year, sex, mother tongue, municipality, dwelling) and, unless
    the person has a turvakielto, the address come from the extract row.
    """
    canonical = codes.normalise(code)
    if canonical is None:
        raise OtosError(_("That response code is not valid (a character is mistyped or missing)."),
                        hint=_("Codes look like ABCD-EFGH; check the letter."))
    values, problems = _clean(data)
    if problems:
        raise OtosError(_("The member was not saved: ") + "; ".join(f"{f} {m}" for f, m in problems) + ".")
    with Session(engine) as s:
        member, problem = _register(s, canonical, values, consent_version, consent_at)
        if problem:
            raise (NotFound if problem == _unknown_code() else OtosError)(problem[0], hint=problem[1])
        s.commit()
        return member.id


def _unknown_code() -> tuple[str, str]:
    return _("No invitation has that response code."), _("Check the code on the letter.")


def _register(s: Session, canonical: str, values: dict[str, Any], consent_version: str,
              consent_at: dt.datetime | None) -> tuple[PoolMember | None, tuple[str, str] | None]:
    """Register one person by their (valid) response code in the session's transaction.
    Returns (member, None), or (None, (problem, hint)) and changes nothing."""
    inv = s.execute(select(Invitation).where(Invitation.response_code == canonical)).scalar()
    if inv is None:
        return None, _unknown_code()
    if inv.answered_at is not None:
        return None, (_("That response code has already been used to register."),
                      _("Look the person up in the pool instead."))
    p = s.get(Person, inv.person_id) if inv.person_id else None
    if p is None:
        return None, (_("The register data behind this code was already purged."),
                      _("Register the person by hand (otos pool add)."))
    lang = p.mother_tongue if p.mother_tongue in LANGUAGES else "fi"
    base = {
        "first_names": p.first_names, "surname": p.surname,
        "birth_year": p.birth_date.year if p.birth_date else None, "sex": p.sex,
        "mother_tongue": p.mother_tongue, "municipality": p.municipality, "dwelling_id": p.dwelling_id,
        "preferred_language": lang,
    }
    if not p.turvakielto:
        base |= {"street": p.street_fi, "postal_code": p.postal_code, "post_office": p.post_office_fi}
    base |= {k: v for k, v in values.items() if v is not None}
    m = PoolMember(**base, person_id=p.id, invitation_id=inv.id, recruitment_round=inv.round,
                   source="invitation", consent_version=consent_version, consent_at=consent_at or utcnow())
    inv.answered_at = utcnow()
    s.add(m)
    s.flush()
    audit.record(s, "pool.register", member=m.id, invitation=inv.id, round=inv.round)
    return m, None


def import_members(engine: Engine, path: str | Path, mapping: dict[str, str], *, consent_version: str,
                   recruitment_round: str | None = None, delimiter: str | None = None) -> int:
    """Import volunteers from a registration-survey CSV export, all or nothing.

    ``mapping`` maps pool member fields to the CSV's column names. Any faulty row
    rejects the file with every fault listed (line and field), nothing saved.

    With ``code`` mapped (the response code on the invitation letter), each row
    registers the invited person: name, address, birth year, sex, language and
    municipality come from the register, contact details and answers from the file.
    """
    path = Path(path)
    if "code" in mapping:
        return _import_by_code(engine, path, mapping, consent_version=consent_version, delimiter=delimiter)
    bad = sorted(set(mapping) - set(IMPORTABLE))
    if bad:
        raise OtosError(_("Unknown member field(s) in the mapping: {join}.").format(join=', '.join(bad)),
                        hint=_("Fields: {join}.").format(join=', '.join(IMPORTABLE)))
    raw, index, survey = _survey_rows(path, mapping, delimiter)
    faults: list[RowFault] = []
    rows: list[dict[str, Any]] = []
    with Session(engine) as s:
        known = {k: _("pool member {mid}").format(mid=mid) for k, mid in existing_identities(s).items()}
    for line, data, problem in survey:
        if data is None:
            faults.append(RowFault(line, _("row"), None, problem))
            continue
        values, problems = _clean(data)
        _require_names(values, problems)
        for f, msg in problems:
            col = mapping.get(f)
            faults.append(RowFault(line, col or f, index[col.casefold()] + 1 if col else None, msg))
        if problems:
            continue
        keys = _keys_of(values)
        same = next((known[k] for k in keys if k in known), None)
        if same:
            faults.append(RowFault(line, _("row"), None, _("the same person as {same} (same name, birth year and e-mail or phone); was the file imported already?").format(same=same)))
            continue
        for k in keys:
            known[k] = _("line {line}").format(line=line)
        rows.append(values)
    if faults:
        raise _refused(path, faults, _("nothing was imported"), _("Fix the rows and import the file again."))
    if not rows:
        raise RejectedFile(_("{path}: the file has a header but no members.").format(path=path))
    now = utcnow()
    with Session(engine) as s:
        for v in rows:
            m = PoolMember(**{k: v[k] for k in v if k != "consent_at"}, source="import",
                           consent_version=consent_version, consent_at=v.get("consent_at") or now)
            m.recruitment_round = m.recruitment_round or recruitment_round
            m.preferred_language = m.preferred_language or "fi"
            m.status = m.status or "active"
            s.add(m)
        s.flush()
        audit.record(s, "pool.import", members=len(rows), file_sha256=_sha256(raw))
        s.commit()
    return len(rows)


# Fields a survey row may add to a registration by code: the register gives the rest.
BY_CODE = ("email", "phone", "preferred_language", "education", "extra", "needs")


def _survey_rows(path: Path, mapping: dict[str, str], delimiter: str | None):
    """(raw bytes, header index, rows as (line, {field: text})) of a survey CSV."""
    text, raw = read_text(path, _("registration survey"))
    lines = text.splitlines()
    reader = csv.reader(lines, delimiter=delimiter or sniff_delimiter(lines[0]))
    header = [h.strip() for h in next(reader)]
    index = {h.casefold(): i for i, h in enumerate(header)}
    missing = [c for c in mapping.values() if c.casefold() not in index]
    if missing:
        raise RejectedFile(_("{path}, line 1: column(s) not in the header: {join}.").format(path=path, join=', '.join(missing)),
                           hint=_("The header has: {join}.").format(join=', '.join(header)))
    rows = []
    for line, row in enumerate(reader, start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            rows.append((line, None, _("has {count} fields, the header has {count2}").format(count=len(row), count2=len(header))))
            continue
        rows.append((line, {f: row[index[c.casefold()]] for f, c in mapping.items()}, ""))
    return raw, index, rows


def _import_by_code(engine: Engine, path: Path, mapping: dict[str, str], *, consent_version: str,
                    delimiter: str | None) -> int:
    """Register every row of a survey export by its response code, all or nothing."""
    bad = sorted(set(mapping) - {"code", *BY_CODE})
    if bad:
        raise OtosError(_("With --map code=..., the register gives {join}; map only the code and what the person answered: {join2}.").format(join=', '.join(bad), join2=', '.join(BY_CODE)))
    raw, index, rows = _survey_rows(path, mapping, delimiter)
    column = {f: index[c.casefold()] + 1 for f, c in mapping.items()}
    faults: list[RowFault] = []
    wanted: list[tuple[int, str, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for line, data, problem in rows:
        if data is None:
            faults.append(RowFault(line, _("row"), None, problem))
            continue
        canonical = codes.normalise(data.pop("code"))
        if canonical is None:
            faults.append(RowFault(line, mapping["code"], column["code"],
                                   _("not a valid response code (a character is mistyped or missing)")))
            continue
        if canonical in seen:
            faults.append(RowFault(line, mapping["code"], column["code"], _("the same code as line {value}").format(value=seen[canonical])))
            continue
        seen[canonical] = line
        values, problems = _clean(data)
        for f, msg in problems:
            faults.append(RowFault(line, mapping.get(f, f), column.get(f), msg))
        if not problems:
            wanted.append((line, canonical, values))
    if not faults and not wanted:
        raise RejectedFile(_("{path}: the file has a header but no rows.").format(path=path))
    with Session(engine) as s:
        for line, canonical, values in wanted if not faults else []:
            member, problem = _register(s, canonical, values, consent_version, None)
            if problem:
                faults.append(RowFault(line, mapping["code"], column["code"], problem[0].rstrip(".").lower()))
        if faults:
            s.rollback()
            raise _refused(path, faults, _("nobody was registered"),
                           _("Fix the rows (or remove those already registered) and import the file again."))
        audit.record(s, "pool.import", members=len(wanted), by_code=True, file_sha256=_sha256(raw))
        s.commit()
    return len(wanted)


def _refused(path: Path, faults: list[RowFault], outcome: str, hint: str) -> RejectedFile:
    """The whole file refused, with its faults by line (the first 20)."""
    faults = sorted(faults, key=lambda f: f.line)
    listed = "\n".join(f"  {f}" for f in faults[:20])
    more = _("\n  ... and {value} more").format(value=len(faults) - 20) if len(faults) > 20 else ""
    return RejectedFile(_("{path}: {count} fault(s), {outcome}:\n{listed}{more}").format(path=path, count=len(faults), outcome=outcome, listed=listed, more=more), hint=hint)


def _sha256(raw: bytes) -> str:
    import hashlib

    return hashlib.sha256(raw).hexdigest()


@dataclass
class MemberQuery:
    """A filter over the pool, applied in SQL."""

    search: str = ""
    status: str | None = None
    municipality: str | None = None
    language: str | None = None
    recruitment_round: str | None = None

    def where(self):
        conds = []
        for word in self.search.casefold().split():
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conds.append(PoolMember.search_key.like(f"%{escaped}%", escape="\\"))
        if self.status:
            conds.append(PoolMember.status == self.status)
        if self.municipality:
            conds.append(PoolMember.municipality == self.municipality)
        if self.language:
            conds.append(PoolMember.preferred_language == self.language)
        if self.recruitment_round:
            conds.append(PoolMember.recruitment_round == self.recruitment_round)
        return conds


def count_members(engine: Engine, query: MemberQuery | None = None) -> int:
    with Session(engine) as s:
        return s.execute(select(func.count()).select_from(PoolMember).where(*(query or MemberQuery()).where())).scalar_one()


def list_members(engine: Engine, query: MemberQuery | None = None, *, offset: int = 0,
                 limit: int = 100) -> list[PoolMember]:
    """One page of members matching ``query``, ordered by id (keyset-friendly)."""
    with Session(engine) as s:
        q = select(PoolMember).where(*(query or MemberQuery()).where()).order_by(PoolMember.id)
        return list(s.execute(q.offset(offset).limit(limit)).scalars())


def get_member(engine: Engine, member_id: int) -> PoolMember:
    with Session(engine) as s:
        m = s.get(PoolMember, member_id)
        if m is None:
            raise NotFound(_("There is no pool member {member_id}.").format(member_id=member_id), hint=_("See otos pool list."))
        return m


def update_member(engine: Engine, member_id: int, changes: dict[str, Any]) -> PoolMember:
    """Edit a member's fields; each bad value is named and nothing is saved."""
    values, problems = _clean(changes, EDITABLE)
    if any(k in values and not values[k] for k in ("first_names", "surname")):
        problems.append(("name", _("cannot be empty")))
    if problems:
        raise OtosError(_("Nothing was saved: ") + "; ".join(f"{f} {m}" for f, m in problems) + ".")
    with Session(engine, expire_on_commit=False) as s:
        m = s.get(PoolMember, member_id)
        if m is None:
            raise NotFound(_("There is no pool member {member_id}.").format(member_id=member_id), hint=_("See otos pool list."))
        for k, v in values.items():
            setattr(m, k, v)
        audit.record(s, "pool.edit", member=member_id, fields=sorted(values))
        s.commit()
        return m


def withdraw(engine: Engine, member_id: int) -> None:
    """Erase a member: their pool row and the register row behind it are deleted.

    The invitation keeps only the fact that a code was answered (no personal data).
    """
    with Session(engine) as s:
        m = s.get(PoolMember, member_id)
        if m is None:
            raise NotFound(_("There is no pool member {member_id}.").format(member_id=member_id), hint=_("See otos pool list."))
        person_id = m.person_id
        s.execute(delete(PoolMember).where(PoolMember.id == member_id))
        if person_id is not None:
            s.execute(delete(Person).where(Person.id == person_id))
        audit.record(s, "pool.withdraw", member=member_id, erased_members=1, erased_register_rows=int(person_id is not None))
        s.commit()


def participation(engine: Engine, member_id: int) -> list[dict[str, Any]]:
    """The panels a member has been drawn to, with the seat's role and probability."""
    from pool.models import Panel, PanelSeat

    with Session(engine) as s:
        rows = s.execute(select(PanelSeat, Panel.created_at).join(Panel, Panel.id == PanelSeat.panel_id)
                         .where(PanelSeat.member_id == member_id).order_by(PanelSeat.id)).all()
    return [{"panel": seat.panel_id, "drawn_at": at.isoformat(sep=" "), "role": seat.role,
             "probability": seat.probability} for seat, at in rows]


def member_dict(m: PoolMember) -> dict[str, Any]:
    """A member as plain JSON-ready values (for ``--json`` and exports)."""
    d = m.model_dump(exclude={"search_key"})
    for k, v in d.items():
        if isinstance(v, (dt.date, dt.datetime)):
            d[k] = v.isoformat()
    d["extra"] = json.loads(m.extra) if m.extra else {}
    return d
