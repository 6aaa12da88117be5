"""The append-only, hash-chained audit log.

Each entry stores who, when, what, with counts and hashes (never personal data), the
hash of the previous entry and its own hash over all of that. Changing, removing or
reordering any entry breaks the chain, which ``verify`` finds. The database also
refuses UPDATE and DELETE on the table (triggers in the first migration).
"""
from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlmodel import Session

from pool.models import AuditEntry

GENESIS = "0" * 64


def actor() -> str:
    """Who acts: ``OTOS_USER`` when set (a configured name), else the OS user."""
    name = os.environ.get("OTOS_USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (containers)
        return "unknown"


def entry_hash(prev_hash: str, at: str, who: str, action: str, details: str) -> str:
    payload = json.dumps([prev_hash, at, who, action, details], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(session: Session, action: str, **details: object) -> AuditEntry:
    """Append an entry in the caller's transaction, so it lands only if the action does."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialise writers so two officials' entries cannot fork the chain.
        session.execute(text("LOCK TABLE audit_entry IN EXCLUSIVE MODE"))
    last = session.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar()
    prev = last or GENESIS
    at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    who = actor()
    body = json.dumps(details, sort_keys=True, ensure_ascii=False, default=str)
    entry = AuditEntry(at=at, actor=who, action=action, details=body, prev_hash=prev,
                       hash=entry_hash(prev, at, who, action, body))
    session.add(entry)
    session.flush()
    return entry


@dataclass
class ChainReport:
    entries: int
    ok: bool
    broken_at: int | None = None
    reason: str = ""


def verify(session: Session) -> ChainReport:
    """Recompute the chain from the first entry; say where it first breaks."""
    prev = GENESIS
    n = 0
    for e in session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars():
        n += 1
        if e.prev_hash != prev:
            return ChainReport(n, False, e.id, "its link to the previous entry does not match (an entry was removed or reordered)")
        if entry_hash(e.prev_hash, e.at, e.actor, e.action, e.details) != e.hash:
            return ChainReport(n, False, e.id, "its content does not match its hash (the entry was changed)")
        prev = e.hash
    return ChainReport(n, True)


def entries(session: Session, limit: int = 50) -> list[AuditEntry]:
    """The newest entries first."""
    return list(session.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)).scalars())
